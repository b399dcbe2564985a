"""hotline_rasa.lean: models saved without the optimizer, loaded without a
training step, predict exactly what Rasa's own save and load give.

Trains one tiny model (DIET, ResponseSelector and TED, two epochs each) once
for the module, about a minute on two cores.
"""

from __future__ import annotations

import asyncio
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.utils.tensorflow.models import RasaModel

from hotline_rasa import lean

CONFIG = """\
recipe: default.v1
assistant_id: lean_test
language: zh
pipeline:
  - name: JiebaTokenizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char
    min_ngram: 1
    max_ngram: 2
  - name: DIETClassifier
    epochs: 2
    number_of_transformer_layers: 1
    transformer_size: 16
    random_seed: 1
  - name: ResponseSelector
    retrieval_intent: faq
    epochs: 2
    random_seed: 1
policies:
  - name: TEDPolicy
    max_history: 3
    epochs: 2
    random_seed: 1
"""
DOMAIN = """\
version: "3.1"
intents: [greet, faq]
responses:
  utter_greet:
  - text: 您好
  utter_faq/tax:
  - text: 契税按面积和套数计算
  utter_faq/card:
  - text: 社保卡可以在粤省事补办
actions: [utter_faq]
"""
NLU = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - 你好
    - 您好呀
    - 在吗
    - 早上好
- intent: faq/tax
  examples: |
    - 买房契税多少
    - 契税怎么算
    - 首套房税率是多少
- intent: faq/card
  examples: |
    - 社保卡丢了怎么办
    - 补办社保卡
    - 社保卡在哪里补
stories:
- story: greet
  steps:
  - intent: greet
  - action: utter_greet
- story: faq
  steps:
  - intent: faq
  - action: utter_faq
"""
MESSAGES = ["你好", "契税多少钱", "社保卡丢了", "今天天气怎么样", "补办卡"]


@pytest.fixture(scope="module")
def originals() -> Iterator[tuple[Any, Any]]:
    """Rasa's own save and load, put back after the module."""
    save, load = RasaModel.__dict__["save"], RasaModel.__dict__["load"]
    yield save, load
    RasaModel.save, RasaModel.load = save, load


@pytest.fixture(scope="module")
def lean_model(tmp_path_factory: pytest.TempPathFactory, originals: tuple[Any, Any]) -> Path:
    from rasa.api import train

    folder = tmp_path_factory.mktemp("lean")
    (folder / "config.yml").write_text(CONFIG, encoding="utf-8")
    (folder / "domain.yml").write_text(DOMAIN, encoding="utf-8")
    (folder / "data").mkdir()
    (folder / "data" / "nlu.yml").write_text(NLU, encoding="utf-8")
    assert lean.install_lean_save()
    cache = os.environ.get("RASA_CACHE_DIRECTORY")
    os.environ["RASA_CACHE_DIRECTORY"] = str(folder / "cache")  # train every component here
    try:
        result = train(
            domain=str(folder / "domain.yml"),
            config=str(folder / "config.yml"),
            training_files=[str(folder / "data")],
            output=str(folder / "models"),
            fixed_model_name="lean.tar.gz",
        )
    finally:
        RasaModel.save = originals[0]
        if cache is None:
            os.environ.pop("RASA_CACHE_DIRECTORY", None)
        else:
            os.environ["RASA_CACHE_DIRECTORY"] = cache
    assert result.code == 0 and result.model
    return Path(result.model)


def _checkpoint_keys(model: Path, tmp_path: Path) -> dict[str, list[str]]:
    import tensorflow as tf

    with tarfile.open(model) as archive:
        archive.extractall(tmp_path)  # noqa: S202 - our own freshly trained model
    keys = {}
    for index in tmp_path.rglob("*.tf_model.index"):
        prefix = str(index).removesuffix(".index")
        keys[index.parent.name] = [name for name, _ in tf.train.list_variables(prefix)]
    return keys


def test_saved_models_hold_the_weights_without_the_optimizer(
    lean_model: Path, tmp_path: Path
) -> None:
    keys = _checkpoint_keys(lean_model, tmp_path)
    assert len(keys) == 3, keys.keys()  # DIET, ResponseSelector, TED
    for component, names in keys.items():
        assert any("kernel" in name for name in names), component
        assert not [n for n in names if "/optimizer/" in f"/{n}"], component


async def _predictions(model: Path) -> list[Any]:
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage

    agent = Agent.load(str(model))
    out: list[Any] = []
    for i, text in enumerate(MESSAGES):
        parse = await agent.parse_message(text)
        faq = parse["response_selector"]["faq"]["response"]
        out.append(
            (
                [(x["name"], x["confidence"]) for x in parse["intent_ranking"]],
                faq["intent_response_key"],
                faq["confidence"],
            )
        )
        sender = f"lean-{i}"
        await agent.log_message(UserMessage(text, sender_id=sender))
        prediction = await agent.predict_next_for_sender_id(sender)
        assert prediction is not None
        out.append((prediction["policy"], prediction["scores"]))
    return out


def test_inference_load_predicts_exactly_what_rasas_load_does(
    lean_model: Path, originals: tuple[Any, Any]
) -> None:
    RasaModel.load = originals[1]
    rasas = asyncio.run(_predictions(lean_model))
    assert lean.install_inference_load()
    try:
        ours = asyncio.run(_predictions(lean_model))
    finally:
        RasaModel.load = originals[1]
    assert ours == rasas


def test_install_is_idempotent_and_marks_both_methods(originals: tuple[Any, Any]) -> None:
    try:
        assert lean.install() and lean.install()
        assert getattr(RasaModel.__dict__["save"], "_hotline_lean", False)
        assert getattr(RasaModel.__dict__["load"].__func__, "_hotline_lean", False)
    finally:
        RasaModel.save, RasaModel.load = originals
