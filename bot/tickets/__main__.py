"""``python -m bot.tickets sweep``: run the deadline sweep once and print the result.

Uses ``DATABASE_URL`` and ``REDIS_URL`` like the front door (so the sweep
lock is shared with running replicas). Results whose delivery failed are
re-sent only by the front door's own sweep, which has the channels.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
from collections.abc import Sequence

from bot.config import load_settings
from bot.db import Database
from bot.store import make_store
from bot.tickets.sweep import Sweeper


async def sweep_once(database_url: str | None = None) -> str:
    settings = load_settings()
    if database_url:
        settings = dataclasses.replace(settings, database_url=database_url)
    db = Database.from_settings(settings)
    store = make_store(settings)
    await db.connect()
    try:
        report = await Sweeper(db, store, notifier=None).sweep()
    finally:
        await db.close()
        await store.close()
    return report.summary()


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(
        prog="python -m bot.tickets", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--database-url", help="default: DATABASE_URL, else var/hotline.db")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sweep", help="flag tickets near their deadline, escalate overdue ones")
    args = parser.parse_args(argv)
    try:
        sys.stdout.write(f"{asyncio.run(sweep_once(args.database_url))}\n")
    except (OSError, ValueError, RuntimeError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
