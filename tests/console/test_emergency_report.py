"""The emergency CLI (``python -m bot.console emergency ...``) on real Redis and
SQLite, and the incident report's numbers against records made by hand.

The CLI runs in a thread (it calls asyncio.run) with REDIS_URL, REDIS_PREFIX
and DATABASE_URL of the test; a front door on the same store and database
sees its switch (the notice on its next reply).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from bot.console.cli import main
from bot.db import Database
from bot.db.crypto import Cipher
from bot.db.schema import emergency_periods, emergency_sends, events, handoffs, transcripts
from bot.emergency import EmergencyBoard
from bot.emergency.report import incident_report
from bot.store.redis import RedisStore

UTC = dt.UTC
T0 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # the period: 10:00 to 12:00


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, redis_url: str, redis_prefix: str
) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REDIS_PREFIX", redis_prefix)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("HOTLINE_DATA_KEYS", Fernet.generate_key().decode())
    return url


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_the_cli_switches_reports_and_is_audited(
    cli_env: str, redis_url: str, redis_prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = await run(capsys, "emergency", "status")
    assert code == 0 and json.loads(out)["active"] is False
    notice = "演练：假设暴雨导致地铁2号线停运，请市民改乘公交。"
    code, out, _ = await run(
        capsys, "emergency", "on", "--notice", notice, "--faq", "ut_power_outage",
        "--keyword", "停运", "--keyword", "暴雨", "--drill",
    )  # fmt: skip
    assert (code, out) == (0, "drill mode on (period 1)\n")
    # the front door's board on the same store sees it
    store = RedisStore(redis_url, redis_prefix)
    try:
        state = await EmergencyBoard(store, refresh=0.0).fresh()
    finally:
        await store.close()
    assert state.active and state.drill and state.notice == notice
    assert state.keywords == ("停运", "暴雨") and state.faq == ("ut_power_outage",)
    code, out, _ = await run(capsys, "emergency", "status")
    assert json.loads(out)["switched_by"] == "cli"

    # refused: already on; an unknown FAQ key (nothing changes)
    code, _, err = await run(capsys, "emergency", "on", "--notice", "又一次")
    assert code == 1 and "already_on" in err
    code, out, _ = await run(capsys, "emergency", "off")
    assert code == 0 and "period 1" in out
    code, _, err = await run(capsys, "emergency", "on", "--notice", "x", "--faq", "nope")
    assert code == 1 and "nope" in err and "unknown_faq" in err
    code, _, err = await run(capsys, "emergency", "off")
    assert code == 1 and "not_on" in err

    code, out, _ = await run(capsys, "emergency", "report", "--format", "json")
    report = json.loads(out)
    assert report["period"]["id"] == 1 and report["drill"] is True
    assert report["period"]["started_by"] == "cli" and report["period"]["ended_by"] == "cli"
    code, out, _ = await run(capsys, "emergency", "report", "--id", "1")
    assert code == 0 and out.startswith("演练期间 #1") and notice in out
    code, _, err = await run(capsys, "emergency", "report", "--id", "9")
    assert code == 1 and "no emergency period" in err

    async with Database(cli_env) as db:
        audit = await db.audit.list()
    assert [(r["actor"], r["action"]) for r in audit] == [
        ("cli", "emergency_off"),
        ("cli", "emergency_on"),
    ]


async def test_the_cli_refuses_without_the_shared_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("HOTLINE_DATA_KEYS", Fernet.generate_key().decode())
    code, _, err = await run(capsys, "emergency", "on", "--notice", "停水通知")
    assert code == 2 and "REDIS_URL" in err


def _in(cid: str, minutes: float) -> dict[str, Any]:
    return {
        "conversation_id": cid, "channel": cid.split(":")[0], "direction": "in",
        "sender": "citizen", "message_id": None, "text": None, "data": {},
        "created_at": at(minutes),
    }  # fmt: skip


def _handoff(
    cid: str, queued: float, claimed: float | None, reason: str = "citizen_request", **kw: Any
) -> dict[str, Any]:
    row = {
        "conversation_id": cid, "channel": "webchat", "reason": reason, "priority": "normal",
        "summary": {}, "queued_at": at(queued),
        "claimed_at": at(claimed) if claimed is not None else None,
        "claimed_by": "zhangsan" if claimed is not None else None,
        "first_agent_message_at": None, "ended_at": None, "outcome": None, "rating": None,
        "comment": None,
    }  # fmt: skip
    return row | kw


async def seed(db: Database) -> int:
    """One period, 10:00-12:00, and records inside it and just outside it."""
    ev: Callable[..., dict[str, Any]] = lambda kind, minutes, **data: {  # noqa: E731
        "kind": kind, "conversation_id": "webchat:a", "ticket_number": None,
        "data": data, "at": at(minutes),
    }  # fmt: skip
    async with db.write() as conn:
        result = await conn.execute(
            emergency_periods.insert().values(
                started_at=T0, ended_at=at(120), notice="停电通知", faq=["ut_power_outage"],
                keywords=["停电"], drill=False, started_by="banzhang", ended_by="banzhang",
            )
        )  # fmt: skip
        period = int(result.inserted_primary_key[0])
        await conn.execute(
            transcripts.insert(),
            [
                _in("webchat:a", 5), _in("webchat:a", 6), _in("wechat:b", 30),
                _in("telegram:c", 119),
                _in("webchat:a", -1), _in("webchat:z", 120),  # outside: before, at the end
                _in("webchat:a", 5) | {"direction": "out", "sender": "bot"},
                _in("wechat:b", 30) | {"direction": "out", "sender": "bot"},
                _in("telegram:c", 119) | {"direction": "out", "sender": "system"},
            ],
        )  # fmt: skip
        await conn.execute(
            events.insert(),
            [
                ev("faq_answered", 5, faq="ut_power_outage"),
                ev("faq_answered", 7, faq="ut_power_outage"),
                ev("emergency.faq_answered", 8, faq="ut_power_outage", period_id=period),
                ev("emergency.faq_first", 9, faq="ut_gas_leak", period_id=period),
                ev("guide_answered", 10, service="residence_permit", mode="online"),
                ev("ticket_created", 11, ticket="20261201-000001", category="停电"),
                ev("fallback", 12, reason="nlu_fallback"),
                ev("fallback", 13, reason="faq_unsure"),
                ev("faq_answered", 120, faq="ut_gas_leak"),  # outside
            ],
        )  # fmt: skip
        await conn.execute(
            handoffs.insert(),
            [
                _handoff("webchat:h1", 10, 10.5, "incident", outcome="closed", ended_at=at(20)),
                _handoff("webchat:h2", 20, 22, outcome="closed", ended_at=at(30)),
                _handoff("webchat:h3", 40, 41.5, "incident", outcome="requeued", ended_at=at(45)),
                _handoff("webchat:h4", 60, None, outcome="abandoned", ended_at=at(65)),
                _handoff("webchat:h5", 110, None),
                _handoff("webchat:h6", -60, -59),  # outside
            ],
        )  # fmt: skip
        await conn.execute(
            emergency_sends.insert(),
            [
                {"period_id": period, "conversation_id": "wechat:b", "channel": "wechat",
                 "ok": True, "reason": "sent", "at": at(1)},
                {"period_id": period, "conversation_id": "wechat:y", "channel": "wechat",
                 "ok": False, "reason": "outside_window", "at": at(1)},
            ],
        )  # fmt: skip
    return period


async def test_the_incident_report_counts_the_records_of_its_period(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    async with Database(f"sqlite:///{tmp_path / 'r.db'}", cipher=Cipher([key])) as db:
        period = await seed(db)
        report = await incident_report(db, period)
        latest = await incident_report(db)
    assert report is not None and report == latest
    assert report["period"]["seconds"] == 7200 and report["period"]["ongoing"] is False
    assert report["messages"] == {
        "from_citizens": 4,
        "by_channel": {"telegram": 1, "webchat": 2, "wechat": 1},
        "replies": 3,
    }
    assert report["conversations"] == 3
    assert [(t["kind"], t["key"], t["count"]) for t in report["topics"]] == [
        ("faq", "ut_power_outage", 3),
        ("faq", "ut_gas_leak", 1),
        ("guide", "residence_permit", 1),
        ("ticket", "停电", 1),
    ]
    assert report["topics"][0]["label"].startswith("家里突然停电了")
    assert report["fallbacks"] == 2
    assert report["events"] == {"total": 8, "drill": 0}
    assert report["handoffs"] == {
        "total": 4,  # h3 ended requeued: its continuation counts, not it
        "incident": 1,
        "claimed": 2,
        "abandoned": 1,
        "waiting": 1,
        "wait_median_seconds": 75.0,  # of 30 s and 120 s
        "wait_p90_seconds": 120.0,
        "wait_max_seconds": 120.0,
    }
    assert report["broadcast"] == {
        "recipients": 2,
        "outcomes": {"sent": 1, "outside_window": 1},
    }
    assert report["drill"] is False


async def test_an_ongoing_period_ends_now_in_its_report(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    async with Database(f"sqlite:///{tmp_path / 'o.db'}", cipher=Cipher([key])) as db:
        period = await seed(db)
        async with db.write() as conn:
            await conn.execute(
                emergency_periods.update().values(ended_at=None, ended_by=None)
            )
        report = await incident_report(db, period, now=at(60))
        assert await incident_report(db, period + 1) is None
    assert report is not None and report["period"]["ongoing"] is True
    assert report["period"]["seconds"] == 3600
    assert report["messages"]["from_citizens"] == 3
    assert report["handoffs"]["total"] == 2  # h1, h2 (h3 requeued; h4 queued at the end)
