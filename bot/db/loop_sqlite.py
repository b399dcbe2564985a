"""Short SQLite statements run directly on the event loop thread.

Every message writes transcript rows and a statistics event, and the web
widget reads its replies back from the transcript. Through aiosqlite each
statement crosses to a worker thread and back; on this 2-core machine a
single-row insert transaction took 0.7-1.9 ms of wall time and a transcript
read 0.7-1.6 ms, mostly waiting for thread wake-ups. Run on the loop through
SQLAlchemy the same insert still cost ~0.2 ms of CPU, most of it SQLAlchemy's
per-statement work; on a plain ``sqlite3`` connection in WAL mode with
``synchronous = NORMAL`` (no fsync at commit) it is a few tens of
microseconds (docs/adr/0008-sqlite-on-the-event-loop.md).

It still pays on the current libraries (issue 16 kept it for that reason
only): on Python 3.13 with SQLAlchemy 2.1 and aiosqlite 0.22, the front
door's CPU per message against the instant fake Rasa (`make overhead`, 600
messages per path, 3 replies per answer, paired in one run on 2026-12-04) was
2.93 ms (REST) and 3.22 ms (widget) with this path and 6.0 / 7.5 ms without
it, every statement through aiosqlite. The guard that fails when SQLAlchemy
changes under it: tests/db/test_loop_sqlite.py
(``test_rows_are_stored_exactly_as_sqlalchemy_stores_them`` compares the rows
written here with those SQLAlchemy writes, column by column).

So this module prepares the few hot statements once, from the same
SQLAlchemy tables and column types (their bind and result processors, so a
row written or read here is byte for byte what SQLAlchemy writes and reads),
and runs them on one ``sqlite3`` connection. A blocking call must never wait
on the loop, hence:

- ``busy_timeout = 0``: when another connection holds the write lock (the
  action server, a ticket transaction of this process, a restore), the
  statement fails at once and :class:`NotNow` is raised; the caller then takes
  the aiosqlite path, which waits for the lock in its worker thread.
  Transactions here never span an ``await``, so this connection holds the
  lock for a fraction of a millisecond.
- ``wal_autocheckpoint = 0``: a checkpoint fsyncs, so none runs on the loop;
  :class:`bot.db.database.Database` checkpoints in a worker thread every
  :data:`CHECKPOINT_EVERY` commits made here.
- any other failure (a constraint, a value the column type refuses) also
  raises :class:`NotNow`: the SQLAlchemy path then runs the statement and
  raises its usual, well-known exception. The fast path has no error
  behaviour of its own.

Only the thread that created it may use it (the loop's thread); any other
thread gets :class:`NotNow`. PostgreSQL has no such connection: psycopg's
async connection does not hop threads.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect

from bot.db.engine import DatabaseUrl

log = logging.getLogger(__name__)

#: Commits on the loop connection between two background WAL checkpoints
#: (SQLite's own automatic checkpoint is at 1000 pages, a few hundred rows).
CHECKPOINT_EVERY = 500

DIALECT = sqlite_dialect.dialect()
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")

Processor = Callable[[Any], Any] | None


class NotNow(Exception):
    """The statement cannot run here and now; use the asynchronous path."""


@dataclass(frozen=True)
class PreparedInsert:
    """``INSERT`` of every column but the autoincrement key, with bind processors."""

    table: str
    sql: str
    columns: tuple[str, ...]
    processors: tuple[Processor, ...]

    def params(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        if len(values) != len(self.columns):
            raise KeyError("the fast path takes rows that give every column")
        return tuple(
            values[name] if proc is None else proc(values[name])
            for name, proc in zip(self.columns, self.processors, strict=True)
        )


@dataclass(frozen=True)
class PreparedQuery:
    """A ``SELECT`` compiled once; named parameters, processed result columns."""

    sql: str
    binds: tuple[str, ...]
    defaults: Mapping[str, Any]  # values fixed at compile time (SQLite's "OFFSET 0")
    bind_processors: tuple[Processor, ...]
    columns: tuple[str, ...]
    result_processors: tuple[Processor, ...]

    def params(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        merged = {**self.defaults, **values}
        return tuple(
            merged[name] if proc is None else proc(merged[name])
            for name, proc in zip(self.binds, self.bind_processors, strict=True)
        )

    def row(self, raw: Sequence[Any]) -> dict[str, Any]:
        return {
            name: value if proc is None else proc(value)
            for name, proc, value in zip(self.columns, self.result_processors, raw, strict=True)
        }


def prepare_insert(table: sa.Table, given: frozenset[str] | None = None) -> PreparedInsert:
    """The insert SQLAlchemy would run for a row that gives every non-key column
    (or the ``given`` ones: the others must have no Python-side default, which
    this plain SQL would not apply; they get NULL or the database's default)."""
    columns = [c for c in table.columns if not (c.primary_key and c.autoincrement is not False)]
    if given is not None:
        if not given <= {c.name for c in columns}:
            raise ValueError(f"{table.name}: unknown columns")
        if any(c.default is not None for c in columns if c.name not in given):
            raise ValueError(f"{table.name}: an omitted column has a Python-side default")
        columns = [c for c in columns if c.name in given]
    names = [c.name for c in columns]
    if not all(_IDENTIFIER.match(n) for n in [table.name, *names]):
        raise ValueError(f"{table.name}: unexpected identifier")
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "  # noqa: S608 - schema identifiers
        f"VALUES ({', '.join('?' for _ in names)})"
    )
    return PreparedInsert(table.name, sql, tuple(names), tuple(_bind(c.type) for c in columns))


def prepare_query(stmt: sa.sql.Select) -> PreparedQuery:
    """Compile ``stmt`` (with named ``bindparam``s, no literal values) for SQLite."""
    compiled = stmt.compile(dialect=DIALECT)
    binds = tuple(compiled.positiontup or ())
    bind_types = [compiled.binds[name].type for name in binds]
    defaults = {name: value for name, value in compiled.params.items() if value is not None}
    selected = list(stmt.selected_columns)
    return PreparedQuery(
        sql=str(compiled),
        binds=binds,
        defaults=defaults,
        bind_processors=tuple(_bind(t) for t in bind_types),
        columns=tuple(c.name for c in selected),
        result_processors=tuple(_result(c.type) for c in selected),
    )


def _bind(type_: Any) -> Processor:
    processor: Processor = type_.dialect_impl(DIALECT).bind_processor(DIALECT)
    return processor


def _result(type_: Any) -> Processor:
    processor: Processor = type_.dialect_impl(DIALECT).result_processor(DIALECT, None)
    return processor


class LoopSqlite:
    """One ``sqlite3`` connection for the event loop's short statements."""

    def __init__(self, url: DatabaseUrl) -> None:
        if not url.is_sqlite:
            raise ValueError("LoopSqlite is for SQLite databases only")
        self.path = str(url.sqlite_path)
        self._conn = sqlite3.connect(self.path, isolation_level=None, timeout=0)
        for pragma in (
            "busy_timeout = 0",
            "journal_mode = WAL",
            "synchronous = NORMAL",
            "foreign_keys = ON",
            "wal_autocheckpoint = 0",
        ):
            self._conn.execute(f"PRAGMA {pragma}")
        self._thread = threading.get_ident()
        self._inserts: dict[tuple[str, frozenset[str]], PreparedInsert] = {}
        self.commits = 0
        self.not_now = 0  # statements handed to the asynchronous path (diagnostics)

    def insert(self, rows: Sequence[tuple[sa.Table, Sequence[Mapping[str, Any]]]]) -> int:
        """Insert the rows in one transaction and commit; the last row's key.

        Raises :class:`NotNow` when that cannot happen at once (see module doc).
        """
        self._check_thread()
        try:
            batches = []
            for table, values in rows:
                prepared = self._insert_for(table, frozenset(values[0]) if values else None)
                batches.append((prepared, [prepared.params(v) for v in values]))
        except Exception as exc:  # a value the column type refuses: SQLAlchemy says why
            self._refuse("insert", exc)
        last = 0
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._refuse("insert", exc)
        try:
            for prepared, params in batches:
                if len(params) == 1:
                    last = self._conn.execute(prepared.sql, params[0]).lastrowid or 0
                else:
                    self._conn.executemany(prepared.sql, params)
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            self._refuse("insert", exc)
        except BaseException:
            self._rollback()
            raise
        self.commits += 1
        return last

    def fetch(self, query: PreparedQuery, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run a prepared ``SELECT``; rows as dicts of processed values, or :class:`NotNow`."""
        self._check_thread()
        try:
            raw = self._conn.execute(query.sql, query.params(values)).fetchall()
            return [query.row(r) for r in raw]
        except Exception as exc:
            self._refuse("query", exc)

    def close(self) -> None:
        if threading.get_ident() == self._thread:
            self._conn.close()

    def _insert_for(self, table: sa.Table, given: frozenset[str] | None) -> PreparedInsert:
        key = (table.name, given or frozenset())
        prepared = self._inserts.get(key)
        if prepared is None:
            prepared = self._inserts[key] = prepare_insert(table, given)
        return prepared

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _refuse(self, what: str, exc: BaseException) -> NoReturn:
        self.not_now += 1
        log.debug("loop sqlite %s handed to the async path: %s", what, type(exc).__name__)
        raise NotNow from None

    def _check_thread(self) -> None:
        if threading.get_ident() != self._thread:
            raise NotNow


def checkpoint(path: str) -> None:
    """Copy the WAL into the database file without blocking anyone (worker thread)."""
    conn = sqlite3.connect(path, timeout=5.0, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        conn.close()
