"""Restore a backup written by ``bot.db.backup`` into an empty database.

Everything happens in one transaction: bring the schema to the backup's
revision, insert the rows, move the id sequences past them, then migrate to
head. A database that already holds data is refused unless ``force`` is
given, in which case its rows are replaced.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from bot.db import migrate
from bot.db.backup import BackupError, read_backup
from bot.db.engine import DatabaseUrl, create_sync
from bot.db.schema import ALL_TABLES

log = logging.getLogger(__name__)

_BATCH = 500
def _serial_keys() -> dict[str, str]:
    """Each table's serial primary key (one integer column that the database
    numbers), read from the schema: a table added later is never forgotten
    (a hand-kept list once missed the emergency tables, whose next ids then
    collided with restored ones on PostgreSQL)."""
    serials: dict[str, str] = {}
    for table in ALL_TABLES:
        key = list(table.primary_key.columns)
        if (
            len(key) == 1
            and key[0].autoincrement in (True, "auto")
            and isinstance(key[0].type, sa.Integer)
        ):
            serials[table.name] = key[0].name
    return serials


#: Serial primary keys whose PostgreSQL sequences must follow restored ids.
_SERIALS = _serial_keys()


def restore(url: DatabaseUrl, path: Path, *, force: bool = False) -> dict[str, int]:
    """Load the backup at ``path`` into ``url``; returns row counts per table."""
    header, rows = read_backup(path)
    revision = str(header.get("revision"))
    order = [
        r.revision for r in ScriptDirectory.from_config(migrate.alembic_config()).walk_revisions()
    ]
    if revision not in order:
        raise BackupError(f"backup schema revision {revision} is unknown to this version")
    if url.sqlite_path is not None:
        url.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_sync(url)
    try:
        with engine.begin() as conn:
            migrate.lock(conn, url)
            _prepare(conn, revision, order, force=force)
            counts = _load(conn, rows)
            if not url.is_sqlite:
                _reset_sequences(conn)
            command.upgrade(migrate.alembic_config(conn), "head")
    finally:
        engine.dispose()
    log.info("backup restored: %s", counts)
    return counts


def _prepare(conn: Connection, revision: str, order: list[str], *, force: bool) -> None:
    """Bring an empty (or, with ``force``, emptied) database to ``revision``."""
    cfg = migrate.alembic_config(conn)
    current = MigrationContext.configure(conn).get_current_revision()
    if current is None:
        command.upgrade(cfg, revision)
        return
    filled = [
        t.name
        for t in ALL_TABLES
        if conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
    ]
    if filled and not force:
        raise BackupError(
            f"the target database is not empty ({', '.join(filled)}); "
            "restore into an empty database or pass --force to replace its data"
        )
    for table in reversed(ALL_TABLES):
        if table.name == "audit_log" and conn.dialect.name != "sqlite":
            # append-only: its trigger refuses DELETE; TRUNCATE is the owner's way
            conn.execute(sa.text("TRUNCATE audit_log"))
        else:
            conn.execute(table.delete())
    if current not in order:
        raise BackupError(f"the target database is at an unknown schema revision {current}")
    if order.index(current) < order.index(revision):
        command.downgrade(cfg, revision)  # the target is newer than the backup
    elif current != revision:
        command.upgrade(cfg, revision)


def _load(conn: Connection, rows: Iterator[tuple[str, dict[str, Any]]]) -> dict[str, int]:
    tables: dict[str, sa.Table] = {}
    counts: dict[str, int] = {t.name: 0 for t in ALL_TABLES}
    batch: list[dict[str, Any]] = []
    current: sa.Table | None = None
    for name, row in rows:
        if name not in counts:
            raise BackupError(f"backup holds an unknown table {name!r}")
        if current is None or current.name != name:
            _flush(conn, current, batch)
            current = tables.setdefault(name, sa.Table(name, sa.MetaData(), autoload_with=conn))
        batch.append(_decode(current, row))
        counts[name] += 1
        if len(batch) >= _BATCH:
            _flush(conn, current, batch)
    _flush(conn, current, batch)
    return counts


def _flush(conn: Connection, table: sa.Table | None, batch: list[dict[str, Any]]) -> None:
    if table is not None and batch:
        conn.execute(table.insert(), batch)
    batch.clear()


def _decode(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    """JSON values back to Python values, by the target column's type."""
    decoded = {}
    for name, value in row.items():
        if name not in table.c:
            raise BackupError(f"backup column {table.name}.{name} does not exist in the schema")
        if isinstance(value, str) and isinstance(table.c[name].type, sa.DateTime):
            # UTC: SQLite's plain DATETIME would drop any other offset
            value = dt.datetime.fromisoformat(value).astimezone(dt.UTC)
        decoded[name] = value
    return decoded


def _reset_sequences(conn: Connection) -> None:
    for table, column in _SERIALS.items():
        exists = conn.execute(sa.text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table})
        if not exists.scalar():  # a backup's older schema: the upgrade creates it
            continue
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "  # noqa: S608
                f"COALESCE(MAX({column}), 1), MAX({column}) IS NOT NULL) FROM {table}"
            )
        )
