"""What one recount of the supervisors' live view costs (issue 20).

    .venv/bin/python benchmarks/live_view.py [--conversations 100] [--rounds 50]

While a supervisor shows the console's 全部会话 tab, each replica recounts the
view (``bot.console.live.live_conversations``: one SQL query over the last
30 minutes of transcripts, one state read per conversation, at most 100) after
changes and assistant turns, at most once a second
(``bot.console.agent_socket.LIVE_MIN_INTERVAL``). This script builds the
console on a throwaway SQLite database with the in-process store, writes
``--conversations`` conversations of 10 transcript rows each, and times
``--rounds`` recounts: p50/p95/max in milliseconds, i.e. the share of one
second of the event loop a replica gives the live view at the most.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web
from cryptography.fernet import Fernet

from bot.app import create_app
from bot.config import OpsSettings, Secret, Settings
from bot.console.context import CONSOLE_KEY
from bot.console.live import live_conversations
from bot.db.schema import transcripts


async def run(conversations: int, rounds: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'hotline.db'}",
            data_keys=Secret(Fernet.generate_key().decode()),
            webchat_secret=Secret("live-view-benchmark-" + "x" * 32),
            ops=OpsSettings(scheduler_seconds=0.0),
        )
        app = create_app(settings)
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            console = app[CONSOLE_KEY]
            now = dt.datetime.now(dt.UTC)
            rows = [
                {
                    "conversation_id": f"webchat:bench{c}",
                    "channel": "webchat",
                    "direction": "in" if m % 2 == 0 else "out",
                    "sender": "citizen" if m % 2 == 0 else "bot",
                    "text": "居住证怎么办理",
                    "data": {},
                    "created_at": now - dt.timedelta(seconds=c * 10 + m),
                }
                for c in range(conversations)
                for m in range(10)
            ]
            async with console.db.write() as conn:
                await conn.execute(transcripts.insert(), rows)
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                items = await live_conversations(console)
                times.append((time.perf_counter() - start) * 1000)
            assert len(items) == min(conversations, 100)
            return times
        finally:
            await runner.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    times = sorted(asyncio.run(run(args.conversations, args.rounds)))
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    sys.stdout.write(
        f"live view recount, {args.conversations} conversations, {args.rounds} rounds: "
        f"p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
