"""Train the Rasa model into models/ unless one for the same inputs exists.

The inputs (config, domain, every file under data/) are hashed; a model
trained from the same hash is reused instead of training again. When
training does run, Rasa's own cache (.rasa/cache) still skips components
whose inputs did not change, and its progress bars show each component.

Every model is a version named ``hotline-<UTC date>-<fingerprint>.tar.gz``
(:func:`model_version`), with ``<version>.tar.gz.sha256`` beside it
(``sha256sum -c`` format) and the stamp ``.trained-<fingerprint>`` naming it.
The ``--keep`` newest versions (default 3) stay, so the one before stays for
a rollback (MODEL_VERSION, docs/deploy.md); older ones are deleted with their
stamps and checksums. A reused version is touched, so "the newest model in
models/" (what ``rasa run --model models`` and the tests load) is always the
one for the current data. ``make model`` runs this and prints the version.

``--root DIR`` trains from another project tree (its ``config.yml``,
``domain.yml`` and ``data/``) into ``DIR/models`` unless ``--out`` says
otherwise: benchmarks/knowledge_scale.py trains its synthetic catalogs so,
with the lean save of every shipped model.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The models a training keeps by default: the new one and two before it.
DEFAULT_KEEP = 3
MODEL_SUFFIX = ".tar.gz"
#: Modules the pipeline's components import, not named in config.yml: the
#: Cantonese rewriting every component's text goes through, the intent
#: ranking helper and the service name matcher.
SHARED_COMPONENT_MODULES = ("cantonese", "intents", "service_names")


def inputs_hash(config: Path, root: Path = ROOT) -> str:
    """The training fingerprint: config, domain, every data file of ``root``
    and the code of the project's own trained components (a model trained by
    older code of the FAQ retriever or the hotline gate, or by an older
    Cantonese word table, data/language/cantonese.yml, is not reused).

    Also read by the knowledge editor's page (bot/knowledge_editor/training.py,
    loading this file by path: stdlib only at the top) to tell which of its
    changes the trained model (``models/.trained-<fingerprint>``) lacks.
    """
    digest = hashlib.sha256()
    files = [config, root / "domain.yml", *sorted((root / "data").rglob("*.yml"))]
    # the project's components named in the pipeline: "name: hotline_rasa.<module>.<Class>"
    modules = re.findall(r"name:\s*hotline_rasa\.(\w+)\.", config.read_text(encoding="utf-8"))
    # and the helpers they share, whose code changes what they learn
    modules += list(SHARED_COMPONENT_MODULES)
    files += [
        p for p in (root / "hotline_rasa" / f"{m}.py" for m in sorted(set(modules))) if p.is_file()
    ]
    for path in files:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_version(fingerprint: str, today: dt.date | None = None) -> str:
    """The version name of a model trained today on inputs with ``fingerprint``."""
    day = today or dt.datetime.now(dt.timezone.utc).date()  # Rasa's Python 3.10: no dt.UTC
    return f"hotline-{day:%Y%m%d}-{fingerprint}"


def write_checksum(model: Path) -> Path:
    """``<model>.sha256`` in ``sha256sum`` format (``sha256sum -c`` checks it;
    ``python -m hotline_rasa run`` with MODEL_VERSION does too)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from hotline_rasa.deployment import file_sha256  # stdlib only, like this file

    checksum = model.with_name(model.name + ".sha256")
    checksum.write_text(f"{file_sha256(model)}  {model.name}\n", encoding="utf-8")
    return checksum


def reusable_model(out: Path, fingerprint: str) -> Path | None:
    """The kept model trained on ``fingerprint`` (its stamp names it), if any."""
    stamp = out / f".trained-{fingerprint}"
    if not stamp.is_file():
        return None
    model = out / stamp.read_text(encoding="utf-8").strip()
    return model if model.is_file() else None


def mark_newest(model: Path, stamp: Path) -> None:
    """Make ``model`` and its stamp the newest in their directory (mtime and ctime)."""
    for path in (model, stamp):
        os.utime(path)


def prune(out: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest models of ``out``, with their stamps and
    checksums, and stamps whose model is gone. Returns what was deleted."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    models = sorted(out.glob(f"*{MODEL_SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
    deleted: list[Path] = []
    for old in models[keep:]:
        for path in (old, old.with_name(old.name + ".sha256")):
            if path.exists():
                path.unlink()
                deleted.append(path)
    for stamp in out.glob(".trained-*"):
        if not (out / stamp.read_text(encoding="utf-8").strip()).is_file():
            stamp.unlink()
            deleted.append(stamp)
    return deleted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--root",
        default=str(ROOT),
        help="the project tree to train from: config.yml, domain.yml, data/ (default: this one)",
    )
    parser.add_argument("--out", help="where models are kept (default: <root>/models)")
    parser.add_argument("--config", help="the pipeline (default: <root>/config.yml)")
    parser.add_argument("--force", action="store_true")
    parser.add_argument(
        "--keep",
        type=int,
        default=DEFAULT_KEEP,
        help=f"how many model versions to keep, the new one included (default {DEFAULT_KEEP})",
    )
    args = parser.parse_args()
    if args.keep < 1:
        parser.error("--keep must be at least 1")

    root = Path(args.root).resolve()
    out = (Path(args.out) if args.out else root / "models").resolve()
    config = (Path(args.config) if args.config else root / "config.yml").resolve()
    fingerprint = inputs_hash(config, root)
    stamp = out / f".trained-{fingerprint}"
    model = None if args.force else reusable_model(out, fingerprint)
    if model is not None:
        mark_newest(model, stamp)
        if not model.with_name(model.name + ".sha256").is_file():
            write_checksum(model)
        sys.stdout.write(f"model is up to date: {model}\n")
        sys.stdout.write(f"version: {model.name.removesuffix(MODEL_SUFFIX)}\n")
        return 0

    from rasa.api import train

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from hotline_rasa import lean

    lean.install()  # models saved without the optimizer's state (about half the archive)
    # Components read their own relative paths (the FAQ catalog) from here.
    os.chdir(root)
    started = time.monotonic()
    result = train(
        domain=str(root / "domain.yml"),
        config=str(config),
        training_files=[str(root / "data")],
        output=str(out),
        force_training=args.force,
        fixed_model_name=model_version(fingerprint) + MODEL_SUFFIX,
    )
    if result.code != 0 or not result.model:
        sys.stderr.write("training failed\n")
        return 1
    trained = Path(result.model)
    # Components Rasa's cache (.rasa/cache) reused may come from a training
    # before the lean save: slim those too (a no-op for the others).
    lean.slim_archive(trained, trained)
    stamp.write_text(trained.name, encoding="utf-8")
    write_checksum(trained)
    mark_newest(trained, stamp)
    for path in prune(out, args.keep):
        sys.stdout.write(f"deleted old model file: {path.name}\n")
    sys.stdout.write(f"model: {trained}\nversion: {trained.name.removesuffix(MODEL_SUFFIX)}\n")
    sys.stdout.write(f"training took {time.monotonic() - started:.1f} s\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
