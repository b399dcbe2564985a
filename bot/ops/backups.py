"""Daily backups with rotation, and the weekly restore check.

:func:`take_backup` writes ``hotline-YYYYMMDD-HHMMSS.jsonl.gz`` (bot/db/backup.py:
every table, gzip JSON lines, mode 0600) into the backup folder and next to it
a manifest ``<file>.manifest.json``: size, SHA-256 and the row count of every
table. :func:`rotate` then keeps the newest backup of each of the last
``keep_daily`` days that have one and the newest of each of the last
``keep_weekly`` ISO weeks, and deletes every other backup of ours (files named
otherwise are never touched).

:func:`restore_check` takes the newest backup, checks its size and SHA-256
against the manifest, restores it (bot/db/restore.py) into a scratch database
(PostgreSQL: ``RESTORE_CHECK_DATABASE`` on the same server, dropped before and
after; SQLite: a file in a temporary folder) and compares the rows of every
table with the manifest. Any difference or error is a failed check that says why.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.db.backup import backup
from bot.db.engine import DatabaseUrl, create_sync, parse_url
from bot.db.models import LOCAL_TZ
from bot.db.restore import restore
from bot.db.schema import ALL_TABLES

log = logging.getLogger(__name__)

_NAME = re.compile(r"^hotline-(\d{8}-\d{6})\.jsonl\.gz$")
MANIFEST_SUFFIX = ".manifest.json"


class CheckFailed(RuntimeError):
    """The restore check found the backup unusable; the message says why."""


@dataclass(frozen=True)
class BackupFile:
    path: Path
    at: dt.datetime  # local time, from the name

    @property
    def manifest_path(self) -> Path:
        return self.path.with_name(self.path.name + MANIFEST_SUFFIX)


def backup_files(directory: Path) -> list[BackupFile]:
    """Our backups in ``directory``, newest first."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        if match and path.is_file():
            at = dt.datetime.strptime(match.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=LOCAL_TZ)
            found.append(BackupFile(path, at))
    return sorted(found, key=lambda f: f.at, reverse=True)


def take_backup(url: DatabaseUrl, directory: Path, now: dt.datetime) -> dict[str, Any]:
    """Write one backup and its manifest; returns the manifest."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    local = now.astimezone(LOCAL_TZ)
    path = directory / f"hotline-{local:%Y%m%d-%H%M%S}.jsonl.gz"
    counts = backup(url, path)
    manifest = {
        "file": path.name,
        "bytes": path.stat().st_size,
        "sha256": _sha256(path),
        "counts": counts,
        "created_at": now.isoformat(),
    }
    target = BackupFile(path, local).manifest_path
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(manifest, out, ensure_ascii=False, indent=1)
    partial.replace(target)
    return manifest


def keep_set(files: list[BackupFile], keep_daily: int, keep_weekly: int) -> set[Path]:
    """Newest per day for the last ``keep_daily`` days, newest per ISO week for
    the last ``keep_weekly`` weeks (``files`` newest first)."""
    keep: set[Path] = set()
    days: set[dt.date] = set()
    weeks: set[tuple[int, int]] = set()
    for f in files:  # newest first: the first seen of a day or week is its newest
        day, week = f.at.date(), f.at.isocalendar()[:2]
        if day not in days and len(days) < keep_daily:
            days.add(day)
            keep.add(f.path)
        if week not in weeks and len(weeks) < keep_weekly:
            weeks.add(week)
            keep.add(f.path)
    return keep


def rotate(directory: Path, keep_daily: int, keep_weekly: int) -> list[str]:
    """Delete the backups (and their manifests) outside :func:`keep_set`."""
    files = backup_files(directory)
    keep = keep_set(files, keep_daily, keep_weekly)
    deleted = []
    for f in files:
        if f.path not in keep:
            f.path.unlink(missing_ok=True)
            f.manifest_path.unlink(missing_ok=True)
            deleted.append(f.path.name)
    if deleted:
        log.info("backup rotation deleted %d old backups", len(deleted))
    return deleted


def restore_check(url: DatabaseUrl, directory: Path, scratch_name: str) -> dict[str, Any]:
    """Restore the newest backup into a scratch database and compare counts.

    Returns the detail of a passed check; raises :class:`CheckFailed` (or the
    restore's own error) with the reason otherwise."""
    files = backup_files(directory)
    if not files:
        raise CheckFailed(f"no backup in {directory} to check")
    latest = files[0]
    manifest = _manifest(latest)
    size = latest.path.stat().st_size
    if size != manifest.get("bytes"):
        raise CheckFailed(
            f"{latest.path.name}: {size} bytes, the manifest says {manifest.get('bytes')}"
        )
    if _sha256(latest.path) != manifest.get("sha256"):
        raise CheckFailed(f"{latest.path.name}: SHA-256 does not match the manifest (corrupted)")
    expected: dict[str, int] = dict(manifest.get("counts") or {})
    with _scratch(url, scratch_name) as scratch:
        restore(scratch, latest.path)
        found = _counts(scratch)
    differences = {
        name: {"manifest": expected.get(name, 0), "restored": found.get(name, 0)}
        for name in sorted(set(expected) | set(found))
        if expected.get(name, 0) != found.get(name, 0)
    }
    if differences:
        listed = ", ".join(
            f"{name} {d['restored']}/{d['manifest']}" for name, d in differences.items()
        )
        raise CheckFailed(f"{latest.path.name}: row counts differ (restored/manifest): {listed}")
    return {
        "file": latest.path.name,
        "tables": len(found),
        "rows": sum(found.values()),
        "counts": found,
    }


def _manifest(f: BackupFile) -> dict[str, Any]:
    try:
        data = json.loads(f.manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckFailed(f"{f.path.name}: its manifest is missing") from None
    except (OSError, ValueError) as exc:
        raise CheckFailed(f"{f.path.name}: its manifest is unreadable ({exc})") from None
    if not isinstance(data, dict):
        raise CheckFailed(f"{f.path.name}: its manifest is not a JSON object")
    return data


@contextlib.contextmanager
def _scratch(url: DatabaseUrl, name: str) -> Iterator[DatabaseUrl]:
    """An empty scratch database beside ``url``'s, dropped afterwards."""
    if url.is_sqlite:
        with tempfile.TemporaryDirectory(prefix="hotline-restore-check-") as tmp:
            yield parse_url(f"sqlite:///{Path(tmp) / (name + '.db')}")
        return
    if name == url.sync_url.database:
        raise CheckFailed("RESTORE_CHECK_DATABASE must not be the hotline's own database")
    admin = create_sync(url).execution_options(isolation_level="AUTOCOMMIT")
    drop = sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    try:
        with admin.connect() as conn:
            conn.execute(drop)  # a leftover of an interrupted check
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield DatabaseUrl(url.async_url.set(database=name), url.sync_url.set(database=name))
        finally:
            with admin.connect() as conn:
                conn.execute(drop)
    finally:
        admin.dispose()


def _counts(url: DatabaseUrl) -> dict[str, int]:
    engine = create_sync(url, write=False)
    try:
        with engine.connect() as conn:
            existing = set(sa.inspect(conn).get_table_names())
            return {
                t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                for t in ALL_TABLES
                if t.name in existing
            }
    finally:
        engine.dispose()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
