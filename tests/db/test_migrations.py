"""Alembic migrations: fresh install, upgrade of a database holding data,
concurrent start-up, and the repositories' tables matching the migrations."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.db import Database, migrate
from bot.db.crypto import Cipher
from bot.db.engine import create_sync, parse_url
from bot.db.schema import metadata
from tests.db.conftest import ticket_args


def _tables_and_indexes(url: str) -> tuple[set[str], set[str]]:
    engine = create_sync(parse_url(url))
    try:
        inspector = sa.inspect(engine)
        tables = set(inspector.get_table_names())
        indexes = {i["name"] for t in tables for i in inspector.get_indexes(t)}
        return tables, indexes
    finally:
        engine.dispose()


async def test_fresh_database_is_migrated_to_head(fresh_url: str, cipher: Cipher) -> None:
    assert migrate.current_revision(parse_url(fresh_url)) is None
    db = Database(fresh_url, cipher=cipher)
    await db.connect()
    await db.close()
    assert migrate.current_revision(parse_url(fresh_url)) == migrate.head_revision()
    tables, indexes = _tables_and_indexes(fresh_url)
    assert {"tickets", "ticket_events", "ticket_counters", "transcripts", "events"} <= tables
    assert {"ix_transcripts_conversation_seq", "ix_tickets_status_deadline"} <= indexes


def _insert_0001_ticket(url: str, cipher: Cipher, number: str) -> None:
    """A ticket as the 0001 release wrote it: only the columns 0001 has (the
    current code's inserts name later columns, so they cannot stand in)."""
    engine = create_sync(parse_url(url))
    try:
        meta = sa.MetaData()
        tickets = sa.Table("tickets", meta, autoload_with=engine)
        events = sa.Table("ticket_events", meta, autoload_with=engine)
        counters = sa.Table("ticket_counters", meta, autoload_with=engine)
        args, now = ticket_args(), dt.datetime.now(dt.UTC)
        with engine.begin() as conn:
            conn.execute(counters.insert().values(day=number[:8], value=1))
            ticket_id = conn.execute(
                tickets.insert().values(
                    number=number, idempotency_key=args["idempotency_key"], type="complaint",
                    category="noise", description=args["description"], location=args["location"],
                    occurred_at=None, channel="webchat", conversation_id="webchat:u-1",
                    contact_name_enc=cipher.encrypt("王小明"),
                    contact_phone_enc=cipher.encrypt("13812345678"), id_number_enc=None,
                    anonymous=False, department="ecology_environment",
                    department_name="市生态环境局", priority="normal", status="assigned",
                    deadline=now, version=2, created_at=now, updated_at=now,
                )  # fmt: skip
            ).inserted_primary_key[0]
            for version, kind in enumerate(("created", "assigned"), start=1):
                conn.execute(events.insert().values(
                    ticket_id=ticket_id, version=version, kind=kind, actor="bot", at=now, data={},
                ))  # fmt: skip
            assert "town" not in tickets.c  # really the old table
    finally:
        engine.dispose()


async def test_upgrade_keeps_existing_data(fresh_url: str, cipher: Cipher) -> None:
    url = parse_url(fresh_url)
    await asyncio.to_thread(migrate.upgrade, url, "0001")
    number = dt.datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d") + "-000001"
    await asyncio.to_thread(_insert_0001_ticket, fresh_url, cipher, number)
    old = Database(fresh_url, cipher=cipher)
    await old.connect(run_migrations=False)  # the previous release, still at 0001
    await old.transcripts.append(
        conversation_id="webchat:u-1", channel="webchat", direction="in",
        sender="citizen", message_id="m1", text="你好", data={"a": 1},
    )  # fmt: skip
    await old.events.record("ticket.created", ticket_number=number)
    await old.close()
    assert "ix_tickets_status_deadline" not in _tables_and_indexes(fresh_url)[1]

    new = Database(fresh_url, cipher=cipher)
    await new.connect()  # upgrades 0001 -> head
    try:
        assert migrate.current_revision(url) == migrate.head_revision()
        loaded = await new.tickets.get(number)
        assert loaded is not None and loaded.contact_phone == "13812345678"
        assert (loaded.town, loaded.category_confidence, loaded.needs_review) == (None, None, False)
        assert [e.kind for e in loaded.events] == ["created", "assigned"]
        assert [e.text for e in await new.transcripts.history("webchat:u-1")] == ["你好"]
        assert await new.events.counts() == {"ticket.created": 1}
        second, _ = await new.tickets.create(**ticket_args("k-2"))
        assert second.number.endswith("-000002")
    finally:
        await new.close()
    assert "ix_tickets_status_deadline" in _tables_and_indexes(fresh_url)[1]


def test_concurrent_startups_migrate_once(fresh_url: str) -> None:
    url = parse_url(fresh_url)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            migrate.upgrade(url)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert migrate.current_revision(url) == migrate.head_revision()


def test_schema_module_matches_the_migrations(fresh_url: str) -> None:
    url = parse_url(fresh_url)
    migrate.upgrade(url)
    engine = create_sync(url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diffs == []
