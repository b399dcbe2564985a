"""Command line for the data layer: ``python -m bot.db COMMAND``.

migrate        bring the schema to the newest revision
current        show the schema revision
backup PATH    write every table to a gzip JSON-lines file
restore PATH   load a backup into an empty database (--force replaces data)
rotate-keys    re-encrypt personal data with the first key of HOTLINE_DATA_KEYS
retention      run the retention sweep once (RETENTION_DAYS, TICKET_CONTACT_RETENTION_DAYS)
check-routing  validate data/routing.yml (or a given file)
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import dataclasses
import datetime as dt
import getpass
import logging
import os
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from bot.config import load_settings
from bot.db import migrate
from bot.db.backup import BackupError, backup
from bot.db.crypto import DataKeyError, load_cipher
from bot.db.database import Database
from bot.db.engine import DatabaseUrl, create_sync, parse_url
from bot.db.keys import rotate_keys
from bot.db.restore import restore
from bot.db.routing import RoutingError, load_routing
from bot.db.schema import audit_log


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.db", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: DATABASE_URL, else var/hotline.db")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="upgrade the schema to head")
    sub.add_parser("current", help="show the schema revision")
    p_backup = sub.add_parser("backup", help="write a backup file")
    p_backup.add_argument("path", type=Path)
    p_restore = sub.add_parser("restore", help="restore a backup into an empty database")
    p_restore.add_argument("path", type=Path)
    p_restore.add_argument("--force", action="store_true", help="replace existing data")
    sub.add_parser("rotate-keys", help="re-encrypt personal data with the current key")
    sub.add_parser("retention", help="delete / anonymise data past its retention period")
    p_routing = sub.add_parser("check-routing", help="validate the routing table")
    p_routing.add_argument("path", type=Path, nargs="?")
    return parser


def _url(args: argparse.Namespace) -> DatabaseUrl:
    if args.database_url:
        return parse_url(args.database_url)
    return Database.from_settings(load_settings()).url


def run(args: argparse.Namespace) -> str:
    """Execute one command; returns the line to show the operator."""
    if args.command == "check-routing":
        routing = load_routing(args.path)
        sizes = f"{len(routing.categories)} categories, {len(routing.departments)} departments"
        return f"routing OK: {sizes}"
    url = _url(args)
    if args.command == "migrate":
        return f"schema at revision {migrate.upgrade(url)} ({url})"
    if args.command == "current":
        return f"schema at revision {migrate.current_revision(url) or 'none'} ({url})"
    if args.command == "backup":
        counts = backup(url, args.path)
        _audit(url, "backup", args.path, {"counts": dict(counts)})
        return f"backup written to {args.path}: {_counts(counts)}"
    if args.command == "restore":
        counts = restore(url, args.path, force=args.force)
        # After the restore, into the restored log: a forced restore replaces
        # the audit log with the backup's, so a record written before it
        # would be gone.
        _audit(url, "restore", args.path, {"counts": dict(counts), "force": bool(args.force)})
        return f"restored {args.path} into {url}: {_counts(counts)}"
    if args.command == "rotate-keys":
        return f"re-encrypted {rotate_keys(url, load_cipher(load_settings().data_keys))} tickets"
    if args.command == "retention":
        return _run(retention_once(url.sync_url.render_as_string(hide_password=False)))
    raise AssertionError(args.command)


def _audit(url: DatabaseUrl, action: str, path: Path, detail: dict[str, Any]) -> None:
    """The audit log's ``backup`` or ``restore`` record: the operating-system
    user (``cli:<user>``), the time, the file and the row counts. A backup
    holds every citizen's data and a restore replaces it, so who did either
    and when is kept beside the sign-ins and reads.

    Written with a short synchronous engine, like the backup and the restore
    themselves: neither needs the data keys (encrypted columns stay
    encrypted), and ``Database.connect`` would ask for them."""
    row = {
        "at": dt.datetime.now(dt.UTC),
        "actor": f"cli:{_os_user()}"[:60],
        "action": action,
        "target": str(path)[:200],
        "client_address": None,
        "detail": detail,
    }
    engine = create_sync(url)
    try:
        with engine.begin() as conn:
            conn.execute(audit_log.insert().values(**row))
    finally:
        engine.dispose()


def _run[T](coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from this synchronous command, also when the
    caller already runs an event loop (then on a thread of its own)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        return str(os.getuid())


async def retention_once(url: str) -> str:
    """One retention pass; the lock lives in ``REDIS_URL``'s store when it is set,
    so a pass by hand never runs beside a replica's own."""
    from bot.retention import RetentionSweep
    from bot.store import make_store

    settings = load_settings()
    db = Database.from_settings(dataclasses.replace(settings, database_url=url))
    store = make_store(settings)
    await db.connect()
    try:
        report = await RetentionSweep.from_settings(db, store, settings).sweep()
    finally:
        await db.close()
        await store.close()
    return report.summary()


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items())


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        sys.stdout.write(f"{run(args)}\n")
    except (BackupError, DataKeyError, RoutingError, ValueError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    return 0
