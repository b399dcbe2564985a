"""The service level command on seeded handoff records."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from bot.console.cli import main
from bot.console.stats import compute, handoff_stats
from bot.db import Database
from bot.db.crypto import Cipher
from bot.db.models import LOCAL_TZ
from bot.db.schema import handoffs

T0 = dt.datetime(2026, 11, 3, 10, 0, tzinfo=LOCAL_TZ)
S = dt.timedelta(seconds=1)

#: (queued offset s, wait to claim s, claim -> first message s, duration s, outcome, rating)
SEED: list[tuple[float, float | None, float | None, float, str, int | None]] = [
    (0, 10, 15, 300, "closed", 5),
    (60, 30, 20, 400, "closed", 3),
    (120, 5, 8, 200, "handed_back", None),
    (180, None, None, 120, "abandoned", None),  # the citizen cancelled
    (240, None, None, 0, "callback", None),  # outside hours
    (300, 12, 3, 60, "requeued", None),  # the agent dropped: not counted...
    (400, 40, 10, 500, "closed", 4),  # ...its continuation is
]


async def seed(db: Database) -> None:
    rows: list[dict[str, Any]] = []
    for i, (offset, wait, first, duration, outcome, rating) in enumerate(SEED):
        queued = T0 + offset * S
        claimed = queued + wait * S if wait is not None else None
        rows.append(
            {
                "conversation_id": f"webchat:s{i}", "channel": "webchat",
                "reason": "citizen_request", "priority": "normal", "summary": {},
                "queued_at": queued, "claimed_at": claimed,
                "claimed_by": "zhangsan" if claimed else None,
                "first_agent_message_at": claimed + first * S if claimed and first else None,
                "ended_at": (claimed or queued) + duration * S,
                "outcome": outcome, "rating": rating,
            }
        )  # fmt: skip
    old = dict(rows[0], conversation_id="webchat:old", queued_at=T0 - dt.timedelta(days=5))
    async with db.write() as conn:
        await conn.execute(handoffs.insert(), [*rows, old])


@pytest.fixture
def data_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("HOTLINE_DATA_KEYS", key)
    return key


async def test_figures_on_seeded_data(tmp_path: Path, data_key: str) -> None:
    async with Database(f"sqlite:///{tmp_path / 's.db'}", cipher=Cipher([data_key])) as db:
        await seed(db)
        s = await handoff_stats(db, T0 - dt.timedelta(days=2), T0 + dt.timedelta(days=5))
    assert s.handoffs == 6
    assert (s.answered, s.answered_in_target) == (4, 2)
    assert s.answer_rate == pytest.approx(2 / 6)
    assert s.median_wait == 20.0  # of 10, 30, 5, 40
    assert (s.abandoned, s.callbacks) == (1, 1)
    assert s.abandonment_rate == pytest.approx(1 / 6)
    assert (s.ratings, s.average_rating) == (3, 4.0)
    assert s.median_first_message == 12.5  # of 15, 20, 8, 10
    assert compute([]).answer_rate is None


async def test_stats_command(
    tmp_path: Path, data_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    async with Database(url, cipher=Cipher([data_key])) as db:
        await seed(db)
    args = ["--database-url", url, "stats", "--since", "2026-11-01", "--until", "2026-11-08"]
    assert await asyncio.to_thread(main, args) == 0
    out = capsys.readouterr().out
    assert "人工服务统计 2026-11-01 00:00 至 2026-11-08 00:00（不含）" in out
    assert "转人工次数           6" in out
    assert "20 秒内接入率        33.3% (2/6)" in out
    assert "等待时长中位数       20.0 秒" in out
    assert "放弃率               16.7% (1/6)" in out
    assert "平均满意度           4.00 (3 条评价)" in out
    assert "首次回复时长中位数   12.5 秒（接入后）" in out
    with pytest.raises(SystemExit) as bad:
        main(["--database-url", url, "stats", "--since", "yesterday"])
    assert bad.value.code == 2
