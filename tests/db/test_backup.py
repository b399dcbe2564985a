"""Backup and restore across SQLite and PostgreSQL; the CLI around them."""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.console.canned import CannedRepo, seed_items
from bot.db import Database
from bot.db.backup import BackupError, backup
from bot.db.cli import main
from bot.db.crypto import Cipher
from bot.db.engine import parse_url
from bot.db.restore import restore
from bot.emergency.records import PeriodRepo
from tests.db.conftest import ticket_args


async def _fill(db: Database) -> list[str]:
    numbers = []
    for i in range(3):
        ticket, _ = await db.tickets.create(
            **ticket_args(f"k{i}", contact_phone=f"1381234{i:04d}", category="noise")
        )
        numbers.append(ticket.number)
    await db.tickets.reply(numbers[0], "已处理", actor="dept:env")
    await db.tickets.rate(numbers[0], 1, "没解决")
    await db.transcripts.append(
        conversation_id="webchat:u-1", channel="webchat", direction="in", sender="citizen",
        message_id="m1", text="我要投诉噪音", data={},
    )  # fmt: skip
    await db.events.record("ticket.created", ticket_number=numbers[0])
    await db.audit.record("banzhang", "sign_in", "banzhang", client_address="10.0.0.7")
    assert await CannedRepo(db).seed_once() == len(seed_items())
    await PeriodRepo(db).open(
        started_at=dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC), notice="演练", faq=(),
        keywords=(), drill=True, actor="banzhang",
    )  # fmt: skip
    return numbers


async def _check_restored(
    url: str, cipher: Cipher, source: Database, numbers: list[str], *, by_cli: bool = False
) -> None:
    restored = Database(url, cipher=cipher)
    await restored.connect()
    try:
        for number in numbers:
            original, copy = await source.tickets.get(number), await restored.tickets.get(number)
            assert original is not None and copy is not None
            assert copy.to_full_dict() == original.to_full_dict()
        assert (await restored.tickets.get(numbers[0])).status == "reopened"  # type: ignore[union-attr]
        assert [e.text for e in await restored.transcripts.history("webchat:u-1")] == [
            "我要投诉噪音"
        ]
        assert await restored.events.counts() == {"ticket.created": 1}
        # sequences continue after the restored rows
        new, _ = await restored.tickets.create(**ticket_args("after-restore"))
        assert int(new.number.split("-")[1]) == 4
        await restored.tickets.add_note(numbers[1], "恢复后可继续办理", actor="agent:li")
        # the audit log comes back, and its ids continue after the restored rows
        # (the command line records its restore itself, after the restored rows)
        await restored.audit.record("cli", "restore")
        cli = [(2, "restore")] if by_cli else []
        assert [(r["id"], r["action"]) for r in await restored.audit.list()] == [
            (2 + len(cli), "restore"),
            *cli,
            (1, "sign_in"),
        ]
        # canned replies come back, are not seeded again, and their ids continue
        canned = CannedRepo(restored)
        assert [c.title for c in await canned.items()] == [s["title"] for s in seed_items()]
        made = await canned.create("恢复后新增", "测试", actor="banzhang")
        assert made.id == len(seed_items()) + 1
        # every serial key continues after the restored rows: the emergency
        # periods' did not (their sequence was missing from a hand-kept list)
        period = await PeriodRepo(restored).open(
            started_at=dt.datetime(2026, 12, 2, 8, tzinfo=dt.UTC), notice="恢复后", faq=(),
            keywords=(), drill=True, actor="banzhang",
        )  # fmt: skip
        assert period == 2
    finally:
        await restored.close()


@pytest.mark.parametrize(
    "target", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def test_backup_and_restore_into_an_empty_database(
    db: Database, cipher: Cipher, tmp_path: Path, target: str, pg_factory: Callable[[], str]
) -> None:
    numbers = await _fill(db)
    await db.unanswered.keep(reason="fallback", text="公积金断缴了还能贷款吗", conversation_id=None)
    path = tmp_path / "hotline.jsonl.gz"
    counts = backup(db.url, path)
    assert counts == {
        "tickets": 3,
        "ticket_events": 9,
        "ticket_counters": 1,
        "transcripts": 1,
        "events": 1,
        "users": 0,
        "handoffs": 0,
        "handoff_notes": 0,
        "audit_log": 1,
        "ops_runs": 1,  # the canned replies' seed record
        "scheduled_reports": 0,
        "unanswered": 1,
        "knowledge_changes": 0,
        "emergency_periods": 1,
        "emergency_sends": 0,
        "canned_replies": len(seed_items()),
    }
    dump = gzip.decompress(path.read_bytes()).decode()
    assert "13812340000" not in dump and "王小明" not in dump  # still encrypted
    target_url = f"sqlite:///{tmp_path / 'restored.db'}" if target == "sqlite" else pg_factory()
    assert restore(parse_url(target_url), path) == counts
    await _check_restored(target_url, cipher, db, numbers)


async def test_restore_refuses_a_database_with_data(
    db: Database, cipher: Cipher, tmp_path: Path
) -> None:
    numbers = await _fill(db)
    path = tmp_path / "b.jsonl.gz"
    backup(db.url, path)
    with pytest.raises(BackupError, match="not empty"):
        restore(db.url, path)
    await db.tickets.create(**ticket_args("only-in-target"))
    restore(db.url, path, force=True)  # replaces the data
    assert [t.number for t in await db.tickets.list()] == sorted(numbers, reverse=True)


def test_truncated_or_foreign_files_are_refused(tmp_path: Path) -> None:
    url = parse_url(f"sqlite:///{tmp_path / 'x.db'}")
    foreign = tmp_path / "foreign.gz"
    foreign.write_bytes(gzip.compress(b'{"hello": 1}\n'))
    with pytest.raises(BackupError, match="not a hotline backup"):
        restore(url, foreign)
    plain = tmp_path / "plain.txt"
    plain.write_text("not gzip")
    with pytest.raises(BackupError, match="not a hotline backup"):
        restore(url, plain)


async def test_truncated_backup_restores_nothing(db: Database, tmp_path: Path) -> None:
    await _fill(db)
    path = tmp_path / "b.jsonl.gz"
    backup(db.url, path)
    lines = gzip.decompress(path.read_bytes()).splitlines(keepends=True)
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress(b"".join(lines[:-3])))
    target = parse_url(f"sqlite:///{tmp_path / 't.db'}")
    with pytest.raises(BackupError, match="truncated"):
        restore(target, cut)
    restore(target, path)  # the failed attempt left the target empty


async def test_cli_backup_and_restore(
    db: Database, cipher: Cipher, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    numbers = await _fill(db)
    path = tmp_path / "cli.jsonl.gz"
    source = str(db.url.sync_url.render_as_string(hide_password=False))
    assert main(["--database-url", source, "backup", str(path)]) == 0
    target = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["--database-url", target, "restore", str(path)]) == 0
    assert main(["--database-url", target, "restore", str(path)]) == 1
    assert "not empty" in capsys.readouterr().err
    await _check_restored(target, cipher, db, numbers, by_cli=True)
