"""Citizens' phone / ID / bank-card numbers never reach SQL in plaintext
(transcripts, events, ticket text); the encrypted ticket
field keeps the full number."""

from __future__ import annotations

from bot.db import Database
from tests.db.conftest import ticket_args
from tests.db.dump import CARD, ID_NUMBER, PHONE, assert_no_plaintext, dump_text

SAID = f"我电话{PHONE}，也可打138 1234 5678，身份证{ID_NUMBER}，卡号{CARD}"


async def test_no_plaintext_number_in_any_table(db: Database) -> None:
    await db.transcripts.append(
        conversation_id="webchat:u-1", channel="webchat", direction="in", sender="citizen",
        message_id="m-1", text=SAID, data={"payload": None, "metadata": {"note": SAID}},
    )  # fmt: skip
    await db.transcripts.add(
        conversation_id="webchat:u-1", channel="webchat", direction="out", sender="bot",
        message_id="m-1#0", text=f"联系电话：{PHONE}", data={"text": f"联系电话：{PHONE}"},
    )  # fmt: skip
    await db.events.record("answered", conversation_id="webchat:u-1", data={"said": SAID})
    # Handoff summaries are masked where they enter the front door, before the
    # store or SQL keeps them: tests/test_hub.py, tests/console/test_callback.py.
    ticket, _ = await db.tickets.create(
        **ticket_args(description=SAID, location=f"鸿福路，电话{PHONE}", occurred_at=SAID)
    )
    await db.tickets.reply(ticket.number, "已处理", actor="dept:urban")
    await db.tickets.rate(ticket.number, 1, f"没人打{PHONE}给我")

    assert_no_plaintext(await dump_text(db))
    history = await db.transcripts.history("webchat:u-1")
    assert "我电话138****5678" in (history[0].text or "")
    # the encrypted field still holds the full number for the audited read
    again = await db.tickets.get(ticket.number)
    assert again is not None and again.contact_phone == PHONE
    assert "138****5678" in again.description


async def test_notes_keep_no_plaintext_number(db: Database) -> None:
    """Ticket notes (a citizen's reason for a bad rating, an agent's remark) and
    the console's notes on a conversation: the full number stays on the
    ticket's encrypted field, read through the audited action."""
    from bot.console.records import NoteRepo

    ticket, _ = await db.tickets.create(**ticket_args())
    await db.tickets.add_note(ticket.number, f"市民不满意原因：打{PHONE}没人接", actor="citizen")
    await db.tickets.add_note(ticket.number, f"已回电{PHONE}，身份证{ID_NUMBER}", actor="agent1")
    await NoteRepo(db).add("webchat:u-1", "agent1", f"市民另留号码{PHONE}")
    assert_no_plaintext(await dump_text(db))
