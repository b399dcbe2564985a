"""``python -m bot.knowledge_editor.seed``: put the shipped knowledge files
into a deployment's shared knowledge volume, never over an edited one.

In a deployment (docs/deploy.md) ``KNOWLEDGE_DIR`` is a volume every front
door (the editor writes) and every action server (it answers from it) mounts;
the image's ``data/knowledge`` is only its first content. This copies each
knowledge file (``*.yml``) of the image that the volume does not have yet,
atomically and without ever replacing a file that is there (a link, which
fails when the name exists, so two pods seeding at once cannot overwrite an
edit made in between). A file that is there and differs from the image's is
kept and reported. ``--replace`` puts the image's files in place of the
volume's (after the volume's edits were exported and merged into the release;
docs/deploy.md, "The knowledge volume").

Exit code 0 when the volume holds every file afterwards, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import sys
import tempfile
from pathlib import Path

from bot.config import ROOT, load_settings

log = logging.getLogger("bot.knowledge_editor.seed")

SHIPPED = ROOT / "data" / "knowledge"
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK}


def _temp_copy(data: bytes, directory: Path, name: str) -> str:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.seed-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def seed(target: Path, source: Path = SHIPPED, *, replace: bool = False) -> dict[str, str]:
    """Each knowledge file's fate: ``copied``, ``kept`` (the volume's, equal or
    edited: ``kept, differs``), ``replaced``. Raises OSError when the target
    cannot be written."""
    done: dict[str, str] = {}
    for path in sorted(p for p in source.glob("*.yml") if not p.name.startswith(".")):
        data = path.read_bytes()
        there = target / path.name
        if there.exists() and not replace:
            done[path.name] = "kept" if there.read_bytes() == data else "kept, differs"
            continue
        tmp = _temp_copy(data, target, path.name)
        try:
            if replace:
                os.replace(tmp, there)
                done[path.name] = "replaced"
            else:
                try:
                    os.link(tmp, there)  # fails if the name exists: never over an edit
                    done[path.name] = "copied"
                except FileExistsError:
                    done[path.name] = "kept"
                except OSError as exc:
                    if exc.errno not in _NO_LINKS:
                        raise
                    # a file system without hard links (some network shares):
                    # the same check, with a short window between it and the rename
                    if there.exists():
                        done[path.name] = "kept"
                    else:
                        os.replace(tmp, there)
                        done[path.name] = "copied"
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return done


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(
        prog="python -m bot.knowledge_editor.seed", description=__doc__
    )
    parser.add_argument("--to", type=Path, help="the knowledge volume (default: KNOWLEDGE_DIR)")
    parser.add_argument("--from", dest="source", type=Path, default=SHIPPED,
                        help="the shipped files (default: the image's data/knowledge)")  # fmt: skip
    parser.add_argument("--replace", action="store_true",
                        help="replace the volume's files with the shipped ones")  # fmt: skip
    args = parser.parse_args(argv)
    target = args.to or load_settings().knowledge_dir
    if target.resolve() == args.source.resolve():
        log.info("knowledge: %s is the shipped directory itself; nothing to seed", target)
        return 0
    try:
        target.mkdir(parents=True, exist_ok=True)
        done = seed(target, args.source, replace=args.replace)
    except OSError as exc:
        log.error("knowledge: cannot seed %s: %s", target, exc)
        return 1
    for name, fate in done.items():
        if fate == "kept, differs":
            log.warning(
                "knowledge: %s/%s kept: it differs from the shipped one (edited on the "
                "console's knowledge page; --replace puts the shipped one in its place)",
                target, name,
            )  # fmt: skip
        else:
            log.info("knowledge: %s/%s %s", target, name, fate)
    if not done:
        log.error("knowledge: no *.yml in %s", args.source)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
