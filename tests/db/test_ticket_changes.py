"""Ticket state changes: allowed paths, refused ones, and the timeline they leave."""

from __future__ import annotations

import pytest

from bot.db import ConflictError, Database, InvalidTransition, TicketNotFound
from tests.db.conftest import ticket_args


async def _new_ticket(db: Database, key: str = "k", category: str = "ufo") -> str:
    ticket, _ = await db.tickets.create(**ticket_args(key, category=category))
    return ticket.number


async def test_full_path_new_assigned_replied_closed(db: Database) -> None:
    number = await _new_ticket(db)
    ticket = await db.tickets.assign(number, "urban_management", actor="agent:li", reason="占道")
    assert (ticket.status, ticket.department_name) == ("assigned", "市城市管理和综合执法局")
    assert ticket.deadline is not None
    ticket = await db.tickets.accept(number, actor="dept:urban")
    ticket = await db.tickets.reply(number, "已安排执法人员现场处理", actor="dept:urban")
    assert ticket.status == "replied" and ticket.last_reply == "已安排执法人员现场处理"
    ticket = await db.tickets.mark_notified(number, channel="webchat")
    ticket = await db.tickets.rate(number, 5, "处理很快")
    assert ticket.status == "closed" and ticket.rating == 5
    assert [e.kind for e in ticket.events] == [
        "created", "assigned", "accepted", "replied", "notified", "rated", "closed",
    ]  # fmt: skip
    assert [e.version for e in ticket.events] == list(range(1, 8)) and ticket.version == 7
    assert ticket.events[1].actor == "agent:li"


@pytest.mark.parametrize(("rating", "satisfied"), [(2, None), (1, None), (4, False)])
async def test_unsatisfied_rating_reopens(
    db: Database, rating: int, satisfied: bool | None
) -> None:
    ticket, _ = await db.tickets.create(**ticket_args())
    await db.tickets.reply(ticket.number, "已处理", actor="dept:env")
    rated = await db.tickets.rate(ticket.number, rating, "没解决", satisfied=satisfied)
    assert rated.status == "reopened" and rated.rating == rating
    assert [e.kind for e in rated.events][-2:] == ["rated", "reopened"]
    again = await db.tickets.assign(ticket.number, "ecology_environment", actor="agent:li")
    assert again.status == "assigned"


async def test_rating_must_be_one_to_five(db: Database) -> None:
    ticket, _ = await db.tickets.create(**ticket_args())
    await db.tickets.reply(ticket.number, "已处理", actor="dept:env")
    for bad in (0, 6, True):
        with pytest.raises(ValueError, match="rating"):
            await db.tickets.rate(ticket.number, bad)  # type: ignore[arg-type]
    closed = await db.tickets.rate(ticket.number, 3)
    with pytest.raises(InvalidTransition, match="already been rated"):
        await db.tickets.rate(ticket.number, 4)
    assert (await db.tickets.get(ticket.number)).version == closed.version  # type: ignore[union-attr]


async def test_invalid_transitions_change_nothing(db: Database) -> None:
    number = await _new_ticket(db)
    before = await db.tickets.get(number)
    assert before is not None
    attempts = [
        db.tickets.reply(number, "答复", actor="dept:x"),
        db.tickets.rate(number, 5),
        db.tickets.transfer(number, "education", actor="dept:x", reason="不属于"),
        db.tickets.accept(number, actor="dept:x"),
        db.tickets.mark_notified(number),
        db.tickets.close(number, actor="agent:li"),  # unanswered needs a reason
    ]
    for attempt in attempts:
        with pytest.raises(ValueError):
            await attempt
    after = await db.tickets.get(number)
    assert after is not None
    assert (after.status, after.version, len(after.events)) == ("new", before.version, 1)


async def test_closed_ticket_refuses_changes(db: Database) -> None:
    number = await _new_ticket(db)
    await db.tickets.close(number, actor="agent:li", reason="市民撤回诉求")
    for attempt in (
        db.tickets.assign(number, "education", actor="agent:li"),
        db.tickets.set_priority(number, "urgent", actor="agent:li"),
        db.tickets.escalate(number),
        db.tickets.close(number, actor="agent:li", reason="again"),
    ):
        with pytest.raises(InvalidTransition):
            await attempt
    note = await db.tickets.add_note(number, "市民来电确认撤回", actor="agent:li")
    assert note.events[-1].kind == "note"
    assert "note" not in [e["kind"] for e in note.to_public_dict()["timeline"]]


async def test_assign_validates_department(db: Database) -> None:
    number = await _new_ticket(db)
    with pytest.raises(ValueError, match="unknown department"):
        await db.tickets.assign(number, "ministry_of_magic", actor="agent:li")
    with pytest.raises(ValueError, match="return_to_triage"):
        await db.tickets.assign(number, "triage", actor="agent:li")
    with pytest.raises(TicketNotFound):
        await db.tickets.assign("20990101-000009", "education", actor="agent:li")


async def test_transfer_and_return_to_triage(db: Database) -> None:
    ticket, _ = await db.tickets.create(**ticket_args())
    moved = await db.tickets.transfer(
        ticket.number, "public_security", actor="dept:env", reason="属于社会生活噪声"
    )
    assert (moved.status, moved.department) == ("assigned", "public_security")
    assert moved.events[-1].data["from"] == "ecology_environment"
    with pytest.raises(InvalidTransition):
        await db.tickets.transfer(ticket.number, "public_security", actor="x", reason="同部门")
    back = await db.tickets.return_to_triage(ticket.number, "非本部门职责", actor="dept:police")
    assert (back.status, back.department) == ("new", "triage")


async def test_priority_escalation_and_merge(db: Database) -> None:
    first = await _new_ticket(db, "a")
    second = await _new_ticket(db, "b")
    ticket = await db.tickets.set_priority(first, "urgent", actor="agent:li", reason="涉及安全")
    assert ticket.priority == "urgent" and ticket.events[-1].data["from"] == "normal"
    with pytest.raises(InvalidTransition):
        await db.tickets.set_priority(first, "urgent", actor="agent:li")
    escalated = await db.tickets.escalate(first, reason="超期")
    assert escalated.escalated_at is not None
    merged = await db.tickets.merge(second, first, actor="agent:li")
    assert merged.status == "closed" and merged.events[-1].data == {"into": first}
    with pytest.raises(ValueError):
        await db.tickets.merge(first, "20990101-000001", actor="agent:li")


async def test_expected_version_detects_a_stale_console(db: Database) -> None:
    ticket, _ = await db.tickets.create(**ticket_args())
    await db.tickets.add_note(ticket.number, "先联系市民", actor="agent:wang")
    with pytest.raises(ConflictError):
        await db.tickets.reply(
            ticket.number, "答复", actor="dept:env", expected_version=ticket.version
        )
    latest = await db.tickets.get(ticket.number)
    assert latest is not None and latest.status == "assigned"
    replied = await db.tickets.reply(
        ticket.number, "答复", actor="dept:env", expected_version=latest.version
    )
    assert replied.status == "replied"


async def test_a_closed_ticket_can_be_rated_once(db: Database) -> None:
    number = await _new_ticket(db)
    await db.tickets.close(number, actor="agent:li", reason="市民已自行解决")
    rated = await db.tickets.rate(number, 4)
    assert (rated.status, rated.rating) == ("closed", 4)
    assert [e.kind for e in rated.events][-2:] == ["closed", "rated"]
    with pytest.raises(InvalidTransition, match="already been rated"):
        await db.tickets.rate(number, 5)
