"""Portable backups: every table as gzip-compressed JSON lines.

The file starts with a header (format, schema revision) and ends with a
trailer holding the row counts, so a truncated file is detected. Encrypted
columns stay encrypted: restoring needs the same ``HOTLINE_DATA_KEYS``.
The file is created with mode 0600 (``os.open``, never widened afterwards):
it holds every ticket and transcript.
A backup restores into SQLite or PostgreSQL alike, in one transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from bot.db.engine import DatabaseUrl, create_sync
from bot.db.schema import ALL_TABLES

log = logging.getLogger(__name__)

FORMAT = "dongguan-12345-hotline-backup"
FORMAT_VERSION = 1
_BATCH = 500


class BackupError(RuntimeError):
    """The backup file is unusable or the target database is not empty."""


def backup(url: DatabaseUrl, path: Path) -> dict[str, int]:
    """Write every table of the database at ``url`` to ``path``; returns row counts."""
    engine = create_sync(url, write=False)
    counts: dict[str, int] = {}
    tmp = path.with_name(path.name + ".partial")
    try:
        with engine.connect() as conn, _private_gzip(tmp) as out:
            if not url.is_sqlite:  # one consistent snapshot of all tables
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                revision = MigrationContext.configure(conn).get_current_revision()
                if revision is None:
                    raise BackupError("the database has no schema yet; nothing to back up")
                _write(out, _header(revision))
                for table in ALL_TABLES:
                    counts[table.name] = _dump_table(conn, table, out)
                _write(out, {"end": True, "counts": counts})
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
        engine.dispose()
    log.info("backup written: %s", counts)
    return counts


@contextlib.contextmanager
def _private_gzip(path: Path) -> Iterator[Any]:
    """A new gzip text file only its owner can read (0600 from the start).

    A leftover of a crashed run is removed first: ``O_CREAT`` would keep its
    old mode, ``O_EXCL`` refuses to reuse it. gzip does not close a file
    object it was given, so both are closed here."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8") as out:
        yield out


def _header(revision: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "revision": revision,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
    }


def _dump_table(conn: Connection, table: sa.Table, out: Any) -> int:
    stmt = sa.select(table).order_by(*table.primary_key.columns)
    count = 0
    for row in conn.execution_options(stream_results=True, yield_per=_BATCH).execute(stmt):
        _write(out, {"t": table.name, "r": {k: _encode(v) for k, v in row._mapping.items()}})
        count += 1
    return count


def _write(out: Any, record: dict[str, Any]) -> None:
    out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value


def read_backup(path: Path) -> tuple[dict[str, Any], Iterator[tuple[str, dict[str, Any]]]]:
    """The header and an iterator over ``(table, row)``; checks format and trailer."""
    try:
        handle = gzip.open(path, "rt", encoding="utf-8")
        header = json.loads(handle.readline() or "null")
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} is not a hotline backup: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        handle.close()
        raise BackupError(f"{path} is not a hotline backup")
    if header.get("version") != FORMAT_VERSION:
        handle.close()
        raise BackupError(f"{path}: unsupported backup format version {header.get('version')}")
    return header, _rows(handle, path)


def _rows(handle: Any, path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    seen: dict[str, int] = {}
    with handle:
        for line in handle:
            record = json.loads(line)
            if record.get("end"):
                expected = record.get("counts") or {}
                if not set(seen) <= set(expected) or any(
                    seen.get(name, 0) != count for name, count in expected.items()
                ):
                    raise BackupError(f"{path}: row counts do not match the trailer")
                return
            seen[record["t"]] = seen.get(record["t"], 0) + 1
            yield record["t"], record["r"]
    raise BackupError(f"{path} is truncated (no trailer)")
