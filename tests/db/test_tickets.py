"""TicketRepo: creation, idempotency, numbering, lookups, encryption at rest."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest
import sqlalchemy as sa

from bot.db import Database
from bot.db.schema import tickets
from tests.db.conftest import ticket_args

ID_NUMBER = "11010519491231002X"  # the standard's published example, valid checksum


async def test_known_category_is_assigned_with_deadline(db: Database) -> None:
    ticket, created = await db.tickets.create(**ticket_args())
    assert created
    assert re.fullmatch(r"\d{8}-\d{6}", ticket.number)
    assert ticket.status == "assigned"
    assert (ticket.department, ticket.department_name) == ("ecology_environment", "市生态环境局")
    assert ticket.deadline is not None and ticket.deadline > ticket.created_at
    assert ticket.deadline.utcoffset() == dt.timedelta(hours=8)  # read back in Dongguan time
    assert ticket.deadline.time() == dt.time(23, 59, 59)
    assert [e.kind for e in ticket.events] == ["created", "assigned"]
    assert [e.version for e in ticket.events] == [1, 2] and ticket.version == 2


async def test_unknown_category_goes_to_triage_as_new(db: Database) -> None:
    ticket, _ = await db.tickets.create(**ticket_args(category="ufo_sighting"))
    assert (ticket.status, ticket.department, ticket.department_name) == (
        "new",
        "triage",
        "分拨中心",
    )
    assert [e.kind for e in ticket.events] == ["created"]


async def test_route_priority_raises_the_default(db: Database) -> None:
    wages, _ = await db.tickets.create(**ticket_args("w", category="wages"))
    urgent, _ = await db.tickets.create(**ticket_args("u", priority="urgent"))
    assert (wages.priority, urgent.priority) == ("high", "urgent")


async def test_same_key_returns_the_existing_ticket(db: Database) -> None:
    first, created = await db.tickets.create(**ticket_args())
    again, created_again = await db.tickets.create(**ticket_args(description="重复提交"))
    assert created and not created_again
    assert again.number == first.number and again.description == first.description
    assert len(await db.tickets.list()) == 1


async def test_ten_concurrent_creates_with_one_key_make_one_ticket(db: Database) -> None:
    results = await asyncio.gather(*(db.tickets.create(**ticket_args("same")) for _ in range(10)))
    assert {t.number for t, _ in results} == {results[0][0].number}
    assert sum(created for _, created in results) == 1
    assert len(await db.tickets.list()) == 1


async def test_twenty_concurrent_creates_get_unique_consecutive_numbers(db: Database) -> None:
    results = await asyncio.gather(*(db.tickets.create(**ticket_args(f"k{i}")) for i in range(20)))
    numbers = sorted(t.number for t, _ in results)
    assert len(set(numbers)) == 20
    assert [int(n.split("-")[1]) for n in numbers] == list(range(1, 21))


async def test_number_uses_the_shanghai_date(db_url: str, cipher: object) -> None:
    late_utc = dt.datetime(2026, 3, 9, 17, 30, tzinfo=dt.UTC)  # 01:30 on the 10th
    db = Database(db_url, cipher=cipher, clock=lambda: late_utc)  # type: ignore[arg-type]
    await db.connect()
    try:
        ticket, _ = await db.tickets.create(**ticket_args())
        assert ticket.number == "20260310-000001"
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"type": "praise"}, "type"),
        ({"description": "   "}, "description"),
        ({"contact_phone": None}, "contact_phone"),
        ({"contact_phone": "12ab"}, "contact_phone"),
        ({"id_number": "110105194912310021"}, "check digit"),
        ({"priority": "asap"}, "priority"),
        ({"category": "Noise!"}, "category"),
        ({"idempotency_key": ""}, "idempotency_key"),
    ],
)
async def test_bad_input_is_refused_and_stores_nothing(
    db: Database, override: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await db.tickets.create(**ticket_args(**override))
    assert await db.tickets.list() == []


async def test_anonymous_ticket_needs_no_contact(db: Database) -> None:
    ticket, _ = await db.tickets.create(
        **ticket_args(contact_name=None, contact_phone=None, anonymous=True)
    )
    assert ticket.anonymous and ticket.contact_phone is None
    assert await db.tickets.get_for_citizen(ticket.number, "") is None
    assert await db.tickets.get_for_citizen(ticket.number, "5678") is None


async def test_get_for_citizen_checks_the_last_four_digits(db: Database) -> None:
    ticket, _ = await db.tickets.create(**ticket_args(contact_phone="+86 138-1234-5678"))
    assert ticket.contact_phone == "13812345678"
    found = await db.tickets.get_for_citizen(ticket.number, "5678")
    assert found is not None and found.number == ticket.number
    assert await db.tickets.get_for_citizen(ticket.number, "5679") is None
    assert await db.tickets.get_for_citizen(ticket.number, "") is None
    assert await db.tickets.get_for_citizen("20990101-000001", "5678") is None
    assert await db.tickets.get("20990101-000001") is None


async def test_personal_data_is_encrypted_at_rest(db: Database) -> None:
    ticket, _ = await db.tickets.create(**ticket_args(id_number=ID_NUMBER))
    async with db.read() as conn:
        row = (await conn.execute(sa.select(tickets))).one()
    raw = " ".join(str(v) for v in row)
    for secret in ("13812345678", "5678", "王小明", ID_NUMBER, "194912"):
        assert secret not in raw
    loaded = await db.tickets.get(ticket.number)
    assert loaded is not None
    assert (loaded.contact_name, loaded.contact_phone, loaded.id_number) == (
        "王小明", "13812345678", ID_NUMBER,
    )  # fmt: skip


async def test_public_view_is_masked(db: Database) -> None:
    ticket, _ = await db.tickets.create(**ticket_args(id_number=ID_NUMBER))
    public = ticket.to_public_dict()
    assert public["contact_phone"] == "138****5678"
    assert public["contact_name"] == "王**"
    assert "id_number" not in public and ID_NUMBER not in str(public)
    assert "13812345678" not in str(public)
    assert public["status_name"] == "办理中"
    assert [e["label"] for e in public["timeline"]] == ["工单已受理", "已派发至承办部门"]
    full = ticket.to_full_dict()
    assert full["contact_phone"] == "13812345678" and full["id_number"] == ID_NUMBER
    assert ticket.masked_id_number == "110105********002X"
    assert ticket.phone_last4 == "5678"


async def test_list_filters_and_searches(db: Database) -> None:
    noise, _ = await db.tickets.create(**ticket_args("a"))
    await db.tickets.create(**ticket_args("b", category="wages", description="老板拖欠三个月工资"))
    await db.tickets.create(**ticket_args("c", category="whatever", description="其他事情"))
    assert len(await db.tickets.list()) == 3
    assert [t.category for t in await db.tickets.list(status="new")] == ["whatever"]
    assert [t.category for t in await db.tickets.list(department="human_resources")] == ["wages"]
    assert [t.category for t in await db.tickets.list(query="拖欠")] == ["wages"]
    assert [t.number for t in await db.tickets.list(query=noise.number)] == [noise.number]
    assert await db.tickets.list(query="100%_") == []
    page = await db.tickets.list(limit=2, offset=2)
    assert len(page) == 1
    mine = await db.tickets.for_conversation("webchat:u-1")
    assert len(mine) == 3


async def test_due_soon_or_overdue(db_url: str, cipher: object) -> None:
    now = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in Dongguan
    clock = {"now": now}
    db = Database(db_url, cipher=cipher, clock=lambda: clock["now"])  # type: ignore[arg-type]
    await db.connect()
    try:
        utilities, _ = await db.tickets.create(**ticket_args("u", category="utilities"))  # 2 days
        suggestion, _ = await db.tickets.create(**ticket_args("s", category="suggestion"))
        assert await db.tickets.due_soon_or_overdue(now) == []
        wednesday_noon = now + dt.timedelta(days=2)
        due = await db.tickets.due_soon_or_overdue(wednesday_noon)
        assert [t.number for t in due] == [utilities.number]
        assert not due[0].is_overdue(wednesday_noon)
        assert due[0].is_overdue(now + dt.timedelta(days=3))
        await db.tickets.reply(utilities.number, "已恢复供水", actor="dept:utilities")
        assert await db.tickets.due_soon_or_overdue(now + dt.timedelta(days=3)) == []
    finally:
        await db.close()
