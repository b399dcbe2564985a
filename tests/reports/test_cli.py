"""``python -m bot.console report`` and ``seed-day``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.console.cli import main
from bot.db import Database
from bot.db.crypto import Cipher
from bot.reports import compute_report
from bot.reports.seed import SeedRefused, seed_day
from tests.reports.scene import DAY, small_day
from tests.reports.xlsx import read_workbook


@pytest.fixture
def data_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("HOTLINE_DATA_KEYS", key)
    return key


@pytest.fixture
async def url(tmp_path: Path, data_key: str) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    async with Database(url, cipher=Cipher([data_key])) as db:
        await small_day(db)
    return url


def run(*args: str) -> int:
    return main(list(args))


async def test_report_as_json_csv_and_xlsx(
    url: str, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    base = ("--database-url", url, "report", "--since", "2026-11-30", "--until", "2026-11-30")
    assert await asyncio.to_thread(run, *base) == 0
    doc = json.loads(capsysbinary.readouterr().out)
    assert doc["figures"]["conversations"]["value"] == 16
    assert doc["figures"]["citizen_messages"]["value"] == 22
    assert doc["figures"]["handoff_wait_median_s"]["value"] == 45.0

    assert await asyncio.to_thread(run, *base, "--format", "csv", "--channel", "wechat") == 0
    text = capsysbinary.readouterr().out.decode()
    assert "conversations,会话数,6,6,6" in text  # C2 x2, C5, C8, C11, C13

    out = tmp_path / "day.xlsx"
    assert await asyncio.to_thread(run, *base, "--format", "xlsx", "--out", str(out)) == 0
    sheets = read_workbook(out.read_bytes())
    rows = {r[0]: r for r in sheets["指标 figures"][1:]}
    assert rows["conversations"][2] == 16.0
    csv_out = tmp_path / "day.csv"
    assert await asyncio.to_thread(run, *base, "--format", "csv", "--out", str(csv_out)) == 0
    assert csv_out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8


async def test_report_errors_are_clear(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit) as bad:
        run("--database-url", url, "report", "--since", "30/11/2026", "--until", "2026-11-30")
    assert bad.value.code == 2
    assert "日期格式应为 YYYY-MM-DD" in capsys.readouterr().err
    args = ("--database-url", url, "report", "--since", "2026-12-01", "--until", "2026-11-30")
    assert await asyncio.to_thread(run, *args) == 2
    assert "结束日期早于开始日期" in capsys.readouterr().err
    missing = tmp_path / "no" / "such" / "dir" / "x.json"
    args = ("--database-url", url, "report", "--since", "2026-11-30", "--until", "2026-11-30",
            "--out", str(missing))  # fmt: skip
    assert await asyncio.to_thread(run, *args) == 2
    assert "cannot write" in capsys.readouterr().err
    # xlsx to a terminal is refused (binary); to a pipe or a file it is written
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    args = ("--database-url", url, "report", "--since", "2026-11-30", "--until", "2026-11-30",
            "--format", "xlsx")  # fmt: skip
    assert await asyncio.to_thread(run, *args) == 2
    assert "xlsx is binary" in capsys.readouterr().err


async def test_seed_day_refuses_a_database_with_records(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("--database-url", url, "seed-day", "--date", "2026-11-30", "--citizens", "3")
    assert await asyncio.to_thread(run, *args) == 3
    err = capsys.readouterr().err
    assert "seed-day 只用于空的演示或测试数据库" in err and "--force" in err
    assert await asyncio.to_thread(run, *args, "--force") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["citizens"] == 3


async def test_a_seeded_day_is_reproducible_and_has_every_kind_of_traffic(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    docs = []
    real_now = dt.datetime(2026, 12, 20, 12, tzinfo=dt.UTC)
    for name in ("a", "b"):
        async with Database(f"sqlite:///{tmp_path / name}.db", cipher=Cipher([key])) as db:
            summary = await seed_day(db, DAY, seed=5, citizens=60, now=lambda: real_now)
            db.clock = lambda: real_now
            doc = await compute_report(db, DAY, DAY)
            with pytest.raises(SeedRefused):
                await seed_day(db, DAY, seed=5, citizens=1)
        doc.pop("generated_at")
        docs.append((summary, doc))
    assert docs[0] == docs[1]
    summary, doc = docs[0]
    written = summary["written"]
    for kind in (
        "faq_answered",
        "guide_answered",
        "fallback",
        "rating",
        "guidance.online_offered",
        "guidance.online_outcome",
        "handoff_queued",
    ):
        assert written[f"event:{kind}"] > 0, kind  # fmt: skip
    figures = doc["figures"]
    assert figures["conversations"]["value"] >= 60 - written.get("drill_conversations", 0)
    assert figures["tickets_created"]["value"] == summary["tickets"] > 0
    assert figures["handoffs"]["value"] == written["handoffs"]
    assert figures["citizen_messages"]["value"] > 100
    assert {b["key"] for b in doc["breakdowns"]["channel"]} == {
        "wechat",
        "webchat",
        "telegram",
        "rest",
    }
    for key in (
        "message_answered_5s_rate",
        "resolved_by_assistant_rate",
        "containment_rate",
        "online_success_rate",
        "ticket_on_time_rate",
    ):
        assert 0 < figures[key]["value"] < 1, key  # fmt: skip
