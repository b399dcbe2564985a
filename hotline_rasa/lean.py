"""Serve Rasa's neural models without their optimizer (issue 18, "Scale").

Rasa 3.6 keeps training state where only inference is needed, measured with
``benchmarks/rasa_memory.py`` (docs/experiments/2026-12-05-model-size.md):

- **Saving.** ``RasaModel.save`` writes Keras' ``save_weights``, which also
  writes the Adam optimizer's two moment estimates for every weight: two
  thirds of each DIETClassifier, ResponseSelector and TEDPolicy checkpoint in
  the model archive. :func:`install_lean_save` rewrites each checkpoint
  Keras wrote without the optimizer (:func:`slim_checkpoint`: same keys, same
  object graph minus the optimizer; the archive shrinks to about a third;
  Rasa's own loader reads it unchanged, the optimizer it re-creates simply
  keeps its fresh state). ``python -m hotline_rasa.lean <model.tar.gz>``
  slims a model trained before.
- **Loading.** ``RasaModel.load`` compiles the model with Adam and *trains it
  on one example* to create its weights before reading them: the optimizer's
  slots, the gradients and the traced training graph of three models stay in
  the serving process. :func:`install_inference_load` builds the model by one
  prediction instead (Keras restores each weight from the checkpoint when it
  is created). The predictions are the same, to the last digit, on the
  held-out set (hotline_rasa/tests/test_lean.py compares both loaders on a
  trained model); Rasa's own path is kept for fine-tuning and whenever no
  prediction example is given.

Both are installed by ``python -m hotline_rasa`` (every command: ``run``,
``train``, ``test``) and by scripts/train.py. Like :mod:`hotline_rasa.speedups`
they are idempotent and leave Rasa alone, with a warning, if the methods they
replace are not the ones they were written for.
"""

from __future__ import annotations

import glob
import inspect
import logging
import os
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_MARK = "_hotline_lean"
#: The Keras attribute holding the optimizer: left out of saved checkpoints.
OPTIMIZER_CHILD = "optimizer"


def _rasa_model() -> Any:
    from rasa.utils.tensorflow.models import RasaModel

    return RasaModel


GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"


def slim_checkpoint(prefix: str) -> bool:
    """Rewrite the TensorFlow checkpoint ``prefix`` without the optimizer.

    Drops every value saved under an object named ``optimizer`` (its key has
    a path segment ``optimizer``: Adam's step, learning rate and moments), and
    those values' entries and the ``optimizer`` edges from the checkpoint's
    object graph; every other value keeps its key, so Keras' ``load_weights``
    matches the model's weights as before. False when there was nothing to drop.
    """
    import tensorflow as tf
    from tensorflow.core.protobuf import trackable_object_graph_pb2

    reader = tf.train.load_checkpoint(prefix)
    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    graph.ParseFromString(reader.get_tensor(GRAPH_KEY))
    saved = [key for key in reader.get_variable_to_dtype_map() if key != GRAPH_KEY]
    keys = sorted(key for key in saved if OPTIMIZER_CHILD not in key.split("/"))
    if len(keys) == len(saved):
        return False
    kept = set(keys)
    for node in graph.nodes:
        attributes = [a for a in node.attributes if a.checkpoint_key in kept]
        del node.attributes[:]
        node.attributes.extend(attributes)
        children = [c for c in node.children if c.local_name != OPTIMIZER_CHILD]
        del node.children[:]
        node.children.extend(children)
        del node.slot_variables[:]
    tensors = [tf.constant(reader.get_tensor(key)) for key in keys]
    keys.append(GRAPH_KEY)
    tensors.append(tf.constant(graph.SerializeToString()))
    folder, name = os.path.split(prefix)
    for stale in glob.glob(os.path.join(glob.escape(folder), glob.escape(name) + ".*")):
        os.remove(stale)  # the old .index and .data-* files (SaveV2 writes them anew)
    tf.raw_ops.SaveV2(
        prefix=prefix, tensor_names=keys, shape_and_slices=[""] * len(keys), tensors=tensors
    )
    return True


def slim_archive(source: Path, target: Path) -> int:
    """Copy the model archive ``source`` to ``target`` with every checkpoint
    slimmed (:func:`slim_checkpoint`); the number of checkpoints slimmed."""
    slimmed = 0
    with tempfile.TemporaryDirectory(prefix="hotline-slim-") as tmp:
        with tarfile.open(source) as archive:
            archive.extractall(tmp)  # noqa: S202 - a model archive we trained
        for index in sorted(Path(tmp).rglob("*.tf_model.index")):
            slimmed += slim_checkpoint(str(index)[: -len(".index")])
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            for entry in sorted(os.listdir(tmp)):
                archive.add(os.path.join(tmp, entry), arcname=entry)
        partial.replace(target)
    return slimmed


def install_lean_save() -> bool:
    """Make ``RasaModel.save`` leave the optimizer out; true when active."""
    model_cls = _rasa_model()
    original = model_cls.__dict__.get("save")
    if original is None or list(inspect.signature(original).parameters) != [
        "self",
        "model_file_name",
        "overwrite",
    ]:
        logger.warning("hotline_rasa: RasaModel.save changed; lean save not installed")
        return False
    if getattr(original, _MARK, False):
        return True

    def save(self: Any, model_file_name: str, overwrite: bool = True) -> None:
        original(self, model_file_name, overwrite)
        slim_checkpoint(model_file_name)

    setattr(save, _MARK, True)
    save.__doc__ = original.__doc__
    model_cls.save = save
    return True


def install_inference_load() -> bool:
    """Make ``RasaModel.load`` build the model by a prediction; true when active."""
    model_cls = _rasa_model()
    descriptor = model_cls.__dict__.get("load")
    original = getattr(descriptor, "__func__", None)
    if original is None or list(inspect.signature(original).parameters)[:5] != [
        "cls",
        "model_file_name",
        "model_data_example",
        "predict_data_example",
        "finetune_mode",
    ]:
        logger.warning("hotline_rasa: RasaModel.load changed; inference load not installed")
        return False
    if getattr(original, _MARK, False):
        return True

    def load(
        cls: Any,
        model_file_name: str,
        model_data_example: Any,
        predict_data_example: Any = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if finetune_mode or predict_data_example is None:
            return original(
                cls,
                model_file_name,
                model_data_example,
                predict_data_example,
                finetune_mode,
                *args,
                **kwargs,
            )
        model = cls(*args, **kwargs)
        # Deferred restore: each weight takes its saved value when the first
        # prediction creates it; the optimizer in an older checkpoint is ignored.
        model.load_weights(model_file_name).expect_partial()
        model.run_inference(predict_data_example)
        return model

    setattr(load, _MARK, True)
    load.__doc__ = original.__doc__
    model_cls.load = classmethod(load)
    return True


def install() -> bool:
    """Both; true when both are active."""
    saved = install_lean_save()
    loaded = install_inference_load()
    return saved and loaded


def main(argv: list[str]) -> int:
    """``python -m hotline_rasa.lean <model.tar.gz> [<out.tar.gz>]``: slim a model
    trained before (in place without ``out``)."""
    if len(argv) not in (1, 2):
        sys.stderr.write("usage: python -m hotline_rasa.lean <model.tar.gz> [<out.tar.gz>]\n")
        return 2
    source = Path(argv[0])
    if not source.is_file():
        sys.stderr.write(f"no such model archive: {source}\n")
        return 2
    target = Path(argv[-1])
    before = source.stat().st_size
    slimmed = slim_archive(source, target)
    sys.stdout.write(
        f"{target}: {slimmed} checkpoints slimmed, {before} -> {target.stat().st_size} bytes\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
