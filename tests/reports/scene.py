"""Write a small, exactly known day through the product's repositories.

``Scene`` sets the database's clock before every write, so each transcript
row, handoff change and ticket step carries the time the test chose.
``small_day`` is the day whose figures tests/reports/test_small_day.py
computes by hand (the comments there do the arithmetic).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.console.records import HandoffRepo
from bot.db import Database
from bot.db.models import LOCAL_TZ

DAY = dt.date(2026, 11, 30)  # a Monday
#: "Now" when the figures are computed: every deadline of the day has passed.
NOW = dt.datetime(2026, 12, 10, 12, 0, tzinfo=LOCAL_TZ)
FAQ_A, FAQ_B = "si_transfer_in", "si_payment_record"
S1, S2, S3 = "residence_permit", "id_card", "social_security_card"


def at(h: int, m: int = 0, s: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, h, m, s, tzinfo=LOCAL_TZ)


def on(month: int, d: int, h: int, m: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, d, h, m, s, tzinfo=LOCAL_TZ)


class Scene:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.handoffs = HandoffRepo(db)
        self.n = 0

    def clock(self, t: dt.datetime) -> None:
        self.db.clock = lambda: t

    async def message(self, cid: str, t: dt.datetime, direction: str, sender: str) -> None:
        self.clock(t)
        self.n += 1
        await self.db.transcripts.add(
            conversation_id=cid, channel=cid.split(":", 1)[0], direction=direction,
            sender=sender, message_id=f"m{self.n}", text="……",
        )  # fmt: skip

    async def event(self, kind: str, cid: str, t: dt.datetime, **data: Any) -> None:
        await self.db.events.record(kind, conversation_id=cid, data=data, at=t)

    async def turn(
        self, cid: str, t_in: dt.datetime, t_out: dt.datetime, *events: tuple[str, dict[str, Any]]
    ) -> None:
        """A citizen's message the assistant answers: in, out, ``answered``, ``events``."""
        drill = {"drill": True} if cid.startswith("webchat:drill") else {}
        await self.message(cid, t_in, "in", "citizen")
        await self.message(cid, t_out, "out", "bot")
        await self.event("answered", cid, t_out, replies=1, **drill)
        for kind, data in events:
            await self.event(kind, cid, t_out, **data, **drill)

    async def handoff(
        self,
        cid: str,
        queued: dt.datetime,
        claimed: dt.datetime | None,
        ended: dt.datetime,
        outcome: str,
        rating: int | None = None,
        comment: str | None = None,
    ) -> int:
        hid = await self.handoffs.open(
            conversation_id=cid, channel=cid.split(":", 1)[0], reason="citizen_request",
            priority="normal", summary={}, queued_at=queued,
        )  # fmt: skip
        if claimed is not None:
            self.clock(claimed)
            await self.handoffs.claim(hid, "agent_li")
        self.clock(ended)
        await self.handoffs.end(hid, outcome)
        if rating is not None:
            await self.handoffs.rate(hid, rating)
        if comment is not None:
            await self.handoffs.comment(hid, comment)
        return hid

    async def ticket(self, cid: str, t: dt.datetime, category: str, kind: str = "complaint") -> str:
        self.clock(t)
        ticket, _ = await self.db.tickets.create(
            idempotency_key=f"k:{cid}:{t.isoformat()}", type=kind, category=category,
            description="楼下噪音扰民，请处理", location="南城街道", occurred_at=None,
            channel=cid.split(":", 1)[0], conversation_id=cid, contact_name="王先生",
            contact_phone="13812345678",
        )  # fmt: skip
        await self.event("ticket_created", cid, t, ticket=ticket.number, category=category)
        return ticket.number


async def small_day(db: Database) -> dict[str, str]:
    """14 citizens on 2026-11-30, a drill conversation, and one citizen on each
    neighbouring day; returns the ticket numbers by name (T0..T4, Tdrill)."""
    s = Scene(db)
    faq = "faq_answered"
    # C1 webchat: FAQ A (2 s), then rates the assistant 5.
    await s.turn("webchat:c1", at(9), at(9, 0, 2), (faq, {"faq": FAQ_A}))
    await s.turn("webchat:c1", at(9, 1), at(9, 1, 1), ("rating", {"rating": 5}))
    # C2 wechat: FAQ B answered slowly (7 s); back on FAQ B three hours later.
    await s.turn("wechat:c2", at(10), at(10, 0, 7), (faq, {"faq": FAQ_B}))
    await s.turn("wechat:c2", at(13), at(13, 0, 1), (faq, {"faq": FAQ_B}))
    # C3 telegram: not understood.
    await s.turn("telegram:c3", at(11), at(11, 0, 1), ("fallback", {"reason": "nlu_fallback"}))
    # C4 webchat: FAQ A, then a question that ends in a fallback.
    await s.turn("webchat:c4", at(11, 30), at(11, 30, 1), (faq, {"faq": FAQ_A}))
    await s.turn("webchat:c4", at(11, 31), at(11, 31, 2), ("fallback", {"reason": "faq_unsure"}))
    # C5 wechat: guidance S1 with an online way, 已办好 at once, then rates 2.
    await s.turn("wechat:c5", at(12), at(12, 0, 1), ("guide_answered", {"service": S1}),
                 ("guidance.online_offered", {"service": S1}))  # fmt: skip
    await s.turn("wechat:c5", at(12, 10), at(12, 10, 1), ("guidance.online_outcome",
                 {"service": S1, "outcome": "done", "asked": "first"}))  # fmt: skip
    await s.turn("wechat:c5", at(12, 11), at(12, 11, 1), ("rating", {"rating": 2}))
    # C6 rest: guidance S2 offered; 遇到问题 on the next contact at 18:00.
    await s.turn("rest:c6", at(14), at(14, 0, 3), ("guide_answered", {"service": S2}),
                 ("guidance.online_offered", {"service": S2}))  # fmt: skip
    await s.turn("rest:c6", at(18), at(18, 0, 1), ("guidance.online_outcome",
                 {"service": S2, "outcome": "problem", "asked": "followup"}))  # fmt: skip
    # C7 webchat: guidance S3 offered, answered in exactly 5 s, never asked back.
    await s.turn("webchat:c7", at(15), at(15, 0, 5), ("guide_answered", {"service": S3}),
                 ("guidance.online_offered", {"service": S3}))  # fmt: skip
    # C8 wechat: a person, taken in 10 s; the message during the chat is the agent's.
    await s.turn("wechat:c8", at(9, 30), at(9, 30, 1))
    await s.handoff("wechat:c8", at(9, 30, 1), at(9, 30, 11), at(9, 32), "closed", rating=5)
    await s.message("wechat:c8", at(9, 30, 13), "out", "agent_li")
    await s.message("wechat:c8", at(9, 31), "in", "citizen")
    await s.message("wechat:c8", at(9, 31, 30), "out", "agent_li")
    # C9 telegram: taken in 45 s, the agent writes a ticket (roads), rated 2.
    await s.turn("telegram:c9", at(10, 30), at(10, 30, 1))
    await s.handoff("telegram:c9", at(10, 30, 1), at(10, 30, 46), at(10, 40), "handed_back",
                    rating=2, comment="等太久")  # fmt: skip
    t2 = await s.ticket("telegram:c9", at(10, 35), "roads", kind="help")
    # C10 webchat: gives up waiting after two minutes.
    await s.turn("webchat:c10", at(16), at(16, 0, 1))
    await s.handoff("webchat:c10", at(16, 0, 1), None, at(16, 2), "abandoned")
    # C11 wechat: taken in 3 s, the agent drops (requeued), taken again after 60 s.
    await s.turn("wechat:c11", at(17), at(17, 0, 2))
    await s.handoff("wechat:c11", at(17, 0, 2), at(17, 0, 5), at(17, 1), "requeued")
    await s.handoff("wechat:c11", at(17, 1), at(17, 2), at(17, 10), "closed")
    # C12 rest: a noise complaint (the second answer took 9 s): ticket T1.
    await s.turn("rest:c12", at(8), at(8, 0, 1))
    await s.turn("rest:c12", at(8, 1), at(8, 1, 9))
    t1 = await s.ticket("rest:c12", at(8, 1, 9), "noise")
    # C13 wechat: noise complaint T3; C14 webchat: noise complaint T4.
    await s.turn("wechat:c13", at(19), at(19, 0, 1))
    t3 = await s.ticket("wechat:c13", at(19, 0, 1), "noise")
    await s.turn("webchat:c14", at(20), at(20, 0, 1))
    t4 = await s.ticket("webchat:c14", at(20, 0, 1), "noise")
    # A drill conversation (every event marked drill) with a ticket: left out.
    await s.turn("webchat:drill1", at(10), at(10, 0, 1), (faq, {"faq": FAQ_A}))
    tdrill = await s.ticket("webchat:drill1", at(10, 1), "noise")
    # The day before (last second) and the day after (first second).
    before = dt.date(2026, 11, 29)
    await s.turn("webchat:c16", at(23, 59, 58, before), at(23, 59, 59, before),
                 (faq, {"faq": FAQ_A}))  # fmt: skip
    t0 = await s.ticket("webchat:c16", at(23, 0, 0, before), "noise")
    await s.turn("webchat:c17", on(12, 1, 0), on(12, 1, 0, 0, 1), (faq, {"faq": FAQ_B}))

    tickets = db.tickets
    # T1: replied on time (deadline 12-03 23:59:59), rated 5: closed.
    s.clock(on(12, 2, 10))
    await tickets.reply(t1, "已处理", actor="dept")
    s.clock(on(12, 2, 12))
    await tickets.rate(t1, 5)
    # T2 (transport, deadline 12-07 23:59:59): never answered.
    # T3: first reply late (12-05), rated 1: reopened, re-assigned, answered again.
    s.clock(on(12, 5, 9))
    await tickets.reply(t3, "已处理", actor="dept")
    s.clock(on(12, 5, 10))
    await tickets.rate(t3, 1, "没解决")
    s.clock(on(12, 6, 9))
    await tickets.assign(t3, "ecology_environment", actor="dispatcher", reason="重新办理")
    s.clock(on(12, 6, 10))
    await tickets.reply(t3, "已再次处理", actor="dept")
    # T4: replied on time, not rated, closed after the follow-up call.
    s.clock(on(12, 1, 9))
    await tickets.reply(t4, "已处理", actor="dept")
    s.clock(on(12, 4, 9))
    await tickets.close(t4, actor="agent_li", reason="回访后办结")
    s.clock(NOW)
    return {"T0": t0, "T1": t1, "T2": t2, "T3": t3, "T4": t4, "Tdrill": tdrill}
