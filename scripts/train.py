"""Train the Rasa model into models/ unless one for the same data exists.

Rasa fingerprints config, domain and data; an unchanged project reuses the
newest model instead of training again. Prints Rasa's progress bars.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "models"))
    parser.add_argument("--config", default=str(ROOT / "config.yml"))
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()

    from rasa.api import train

    out = Path(args.out)
    if not args.force and any(out.glob("*.tar.gz")):
        check = train(
            domain=str(ROOT / "domain.yml"),
            config=args.config,
            training_files=[str(ROOT / "data")],
            output=args.out,
            dry_run=True,
        )
        if check.code == 0:
            newest = max(out.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
            sys.stdout.write(f"model is up to date: {newest}\n")
            return 0
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
    sys.stdout.write(f"model: {result.model}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
