"""Train the Rasa model into models/ unless one for the same inputs exists.

The inputs (config, domain, every file under data/) are hashed; a model
trained from the same hash is reused instead of training again. When
training does run, Rasa's own cache (.rasa/cache) still skips components
whose inputs did not change, and its progress bars show each component.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def inputs_hash(config: Path, root: Path = ROOT) -> str:
    """The training fingerprint: config, domain and every data file of ``root``.

    Also read by the knowledge editor's page (bot/knowledge_editor/training.py,
    loading this file by path: stdlib only at the top) to tell which of its
    changes the trained model (``models/.trained-<fingerprint>``) lacks.
    """
    digest = hashlib.sha256()
    files = [config, root / "domain.yml", *sorted((root / "data").rglob("*.yml"))]
    for path in files:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "models"))
    parser.add_argument("--config", default=str(ROOT / "config.yml"))
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()

    out = Path(args.out)
    stamp = out / f".trained-{inputs_hash(Path(args.config))}"
    if not args.force and stamp.exists():
        model = out / stamp.read_text(encoding="utf-8").strip()
        if model.exists():
            sys.stdout.write(f"model is up to date: {model}\n")
            return 0

    from rasa.api import train

    result = train(
        domain=str(ROOT / "domain.yml"),
        config=args.config,
        training_files=[str(ROOT / "data")],
        output=args.out,
        force_training=args.force,
    )
    if result.code != 0 or not result.model:
        sys.stderr.write("training failed\n")
        return 1
    for old in out.glob(".trained-*"):
        old.unlink()
    for old in out.glob("*.tar.gz"):  # models are ~240 MB; keep only the new one
        if old.name != Path(result.model).name:
            old.unlink()
    stamp.write_text(Path(result.model).name, encoding="utf-8")
    sys.stdout.write(f"model: {result.model}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
