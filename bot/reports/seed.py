"""A seeded, realistic day of hotline traffic for demonstrations and checks
(``python -m bot.console seed-day --date D --seed N [--citizens 300]``).

Everything is written through the product's own repositories, stamped with a
simulated clock (``Database.clock``): transcripts (``TranscriptRepo``),
quality events (``EventRepo``), handoffs (``HandoffRepo``) and tickets with
their timelines (``TicketRepo``: create, transfer, accept, reply, notified,
rate, reopen, close — so ``ticket_events`` are what the workflow writes).

The same date, seed and size always give the same records. Citizens arrive
over the day (peaks mid-morning and mid-afternoon) on every channel and ask
FAQ questions, follow guidance (with the online-success question and its
answers), complain (tickets routed to departments, some transferred, some
answered late, some not yet: overdue), ask for a person (some answered
quickly, some slowly, some abandon), rate the assistant, the agents and the
tickets, and a few come back on the same topic; a few conversations are an
emergency drill (events with ``data.drill``). Ticket steps that would fall
after the real present are not written (the ticket stays open).

It refuses a database that already holds records (transcripts, events,
handoffs or tickets) unless ``force`` is set: it is meant for a scratch or
demonstration database, never for the production one.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.console.records import HandoffRepo
from bot.db.models import LOCAL_TZ
from bot.knowledge import FaqEntry, Service, load_faq, load_services
from bot.reports.sql import has_records

if TYPE_CHECKING:
    from bot.db.database import Database

CHANNELS = (("wechat", 45), ("webchat", 30), ("telegram", 10), ("rest", 15))
#: Relative arrivals per local hour (0-23): night, morning peak, afternoon peak.
HOURLY = (1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 18, 14, 8, 10, 14, 16, 15, 12, 8, 7, 6, 4, 3, 2)
SCENARIOS = (
    ("faq", 40),
    ("guidance", 20),
    ("complaint", 15),
    ("handoff", 12),
    ("fallback", 8),
    ("mixed", 5),
)
AGENTS = ("agent_li", "agent_wang", "agent_chen", "agent_zhao")
COMPLAINT_TEXTS = {
    "noise": "楼下商铺每晚十点后还在用高音喇叭放广告，噪音扰民，希望处理",
    "construction": "小区旁边工地夜间施工打桩，严重影响休息",
    "pollution": "河涌发黑有臭味，怀疑附近工厂偷排污水",
    "sanitation": "小区门口垃圾桶好几天没人清运，脏乱发臭",
    "wages": "公司拖欠工资两个月了，老板一直不给",
    "consumer": "在商场买的电器坏了，商家拒绝退换",
    "property": "物业乱收停车费，还不给发票",
    "roads": "路面有个大坑，晚上骑车很危险",
    "traffic": "路口红绿灯坏了好几天，车辆乱行",
    "utilities": "我们这片已经停水一整天了，也没有通知",
    "urban_management": "人行道上占道经营的摊贩太多，行人没法走",
    "food_safety": "在一家餐馆吃完饭后拉肚子，后厨卫生很差",
}
RATING_WEIGHTS = ((5, 45), (4, 25), (3, 12), (2, 10), (1, 8))


class SeedRefused(RuntimeError):
    """The database already holds records; the message says how to go on."""


def _pick(rng: random.Random, weighted: tuple[tuple[Any, int], ...]) -> Any:
    items, weights = zip(*weighted, strict=True)
    return rng.choices(items, weights=weights)[0]


@dataclass
class Clock:
    """The simulated time the repositories stamp their rows with."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Day:
    db: Database
    rng: random.Random
    clock: Clock
    real_now: dt.datetime
    faq: list[FaqEntry]
    services: list[Service]
    handoffs: HandoffRepo
    counts: Counter[str] = field(default_factory=Counter)
    tickets: list[tuple[str, dt.datetime]] = field(default_factory=list)
    msg_no: int = 0

    # --- writing through the repositories ---------------------------------
    def at(self, when: dt.datetime) -> None:
        self.clock.now = when

    async def citizen(self, cid: str, text: str, when: dt.datetime) -> dt.datetime:
        self.at(when)
        self.msg_no += 1
        await self.db.transcripts.add(
            conversation_id=cid, channel=cid.split(":", 1)[0], direction="in",
            sender="citizen", message_id=f"m{self.msg_no}", text=text,
        )  # fmt: skip
        self.counts["citizen_messages"] += 1
        return when

    async def reply(self, cid: str, text: str, after: dt.datetime, sender: str = "bot",
                    delay: float | None = None) -> dt.datetime:  # fmt: skip
        if delay is None:  # most answers come in a second or two, a few are slow
            delay = self.rng.uniform(6.0, 12.0) if self.rng.random() < 0.05 else (
                self.rng.uniform(0.4, 3.0))  # fmt: skip
        when = after + dt.timedelta(seconds=delay)
        self.at(when)
        await self.db.transcripts.add(
            conversation_id=cid, channel=cid.split(":", 1)[0], direction="out",
            sender=sender, message_id=f"m{self.msg_no}#0", text=text,
        )  # fmt: skip
        return when

    async def event(self, kind: str, cid: str, when: dt.datetime, drill: bool = False,
                    **data: Any) -> None:  # fmt: skip
        if drill:
            data["drill"] = True
        await self.db.events.record(kind, conversation_id=cid, data=data or None, at=when)
        self.counts[f"event:{kind}"] += 1

    async def turn(self, cid: str, text: str, answer: str, when: dt.datetime,
                   drill: bool = False) -> dt.datetime:  # fmt: skip
        """A citizen's message the assistant answers (one ``answered`` event)."""
        await self.citizen(cid, text, when)
        out = await self.reply(cid, answer, when)
        await self.event("answered", cid, out, drill, replies=1)
        return out

    def think(self, t: dt.datetime, low: float = 8.0, high: float = 60.0) -> dt.datetime:
        return t + dt.timedelta(seconds=self.rng.uniform(low, high))

    # --- scenarios -----------------------------------------------------------
    async def faq_question(self, cid: str, t: dt.datetime, entry: FaqEntry,
                           drill: bool = False) -> dt.datetime:  # fmt: skip
        text = self.rng.choice(entry.examples) if entry.examples else entry.question
        t = await self.turn(cid, text, entry.answer[:200], t, drill)
        await self.event("faq_answered", cid, t, drill, faq=entry.id)
        return t

    async def survey(self, cid: str, t: dt.datetime) -> dt.datetime:
        if self.rng.random() >= 0.35:
            return t
        rating = _pick(self.rng, RATING_WEIGHTS)
        t = await self.turn(cid, f"{rating}分", "感谢您的评价！", self.think(t))
        await self.event("rating", cid, t, rating=rating)
        return t

    async def guidance(self, cid: str, t: dt.datetime) -> dt.datetime:
        service = self.rng.choice(self.services)
        text = self.rng.choice(service.examples) if service.examples else f"{service.name}怎么办理"
        mode = "online" if service.online else "offline"
        t = await self.turn(cid, text, f"{service.name}的办理指南如下……", t)
        await self.event("guide_answered", cid, t, service=service.id, mode=mode)
        if service.online is None:
            return t
        await self.event("guidance.online_offered", cid, t, service=service.id)
        roll = self.rng.random()
        if roll < 0.6:  # answers at once
            done = self.rng.random() < 0.75
            t = await self.turn(cid, "已办好" if done else "遇到问题",
                                "感谢反馈！" if done else "可以选择线下办理或转人工。",
                                self.think(t, 60, 900))  # fmt: skip
            await self.event("guidance.online_outcome", cid, t, service=service.id,
                             outcome="done" if done else "problem", asked="first")  # fmt: skip
        elif roll < 0.8:  # answers on the next contact, a few hours later
            later = self.think(t, 3 * 3600, 8 * 3600)
            done = self.rng.random() < 0.7
            later = await self.turn(cid, "已办好" if done else "遇到问题", "感谢反馈！", later)
            await self.event("guidance.online_outcome", cid, later, service=service.id,
                             outcome="done" if done else "problem", asked="followup")  # fmt: skip
        return t

    async def fallback(self, cid: str, t: dt.datetime) -> dt.datetime:
        t = await self.turn(cid, "那个东西怎么弄啊，上次说的那个", "抱歉，我没有理解您的问题……", t)
        await self.event("fallback", cid, t, reason="nlu_fallback")
        return t

    async def complaint(self, cid: str, t: dt.datetime) -> dt.datetime:
        category = self.rng.choice(list(COMPLAINT_TEXTS))
        text = COMPLAINT_TEXTS[category]
        t = await self.turn(cid, "我要投诉", "请描述您要反映的问题。", t)
        t = await self.turn(cid, text, "请提供发生的地点。", self.think(t))
        t = await self.turn(cid, "东莞市南城街道鸿福路附近", "请留下联系电话。", self.think(t))
        t = await self.turn(
            cid, f"139{self.rng.randrange(10**8):08d}", "工单已受理。", self.think(t)
        )
        self.at(t)
        ticket, _new = await self.db.tickets.create(
            idempotency_key=f"seed:{cid}:{t.timestamp()}", type="complaint", category=category,
            description=text, location="东莞市南城街道鸿福路附近", occurred_at=None,
            channel=cid.split(":", 1)[0], conversation_id=cid, contact_name="市民",
            contact_phone=f"139{self.rng.randrange(10**8):08d}",
        )  # fmt: skip
        await self.event("ticket_created", cid, t, ticket=ticket.number, category=category)
        self.tickets.append((ticket.number, t))
        return t

    async def handoff(
        self, cid: str, t: dt.datetime, reason: str = "citizen_request"
    ) -> dt.datetime:
        t = await self.turn(cid, "转人工", "好的，正在为您转接人工客服，请稍候。", t)
        await self.event("handoff_requested", cid, t, reason=reason, priority="normal")
        await self.event("handoff_queued", cid, t, reason=reason, priority="normal")
        self.at(t)
        hid = await self.handoffs.open(
            conversation_id=cid, channel=cid.split(":", 1)[0], reason=reason,
            priority="normal", summary={"intent": "request_human"}, queued_at=t,
        )  # fmt: skip
        self.counts["handoffs"] += 1
        roll = self.rng.random()
        if roll < 0.1:  # gives up waiting
            self.at(self.think(t, 30, 240))
            await self.handoffs.end(hid, "abandoned")
            self.counts["handoffs_abandoned"] += 1
            return self.clock.now
        wait = self.rng.uniform(3, 19) if roll < 0.7 else (
            self.rng.uniform(21, 59) if roll < 0.9 else self.rng.uniform(61, 400))  # fmt: skip
        claimed = t + dt.timedelta(seconds=wait)
        agent = self.rng.choice(AGENTS)
        self.at(claimed)
        await self.handoffs.claim(hid, agent)
        await self.event("handoff_claimed", cid, claimed, handoff_id=hid)
        t = await self.reply(cid, "您好，我是人工客服，请问有什么可以帮您？", claimed, agent, 2.0)
        await self.handoffs.agent_message(hid)
        for _ in range(self.rng.randint(1, 3)):
            c = await self.citizen(cid, "我想问一下具体怎么处理", self.think(t))
            t = await self.reply(cid, "好的，我来为您说明……", c, agent, self.rng.uniform(8, 40))
        if self.rng.random() < 0.15:  # the agent writes a ticket for a department
            self.at(self.think(t, 20, 90))
            category = self.rng.choice(list(COMPLAINT_TEXTS))
            ticket, _new = await self.db.tickets.create(
                idempotency_key=f"seed:{cid}:{self.clock.now.timestamp()}", type="help",
                category=category, description=COMPLAINT_TEXTS[category], location=None,
                occurred_at=None, channel=cid.split(":", 1)[0], conversation_id=cid,
                contact_name="市民", contact_phone=f"138{self.rng.randrange(10**8):08d}",
                actor=agent,
            )  # fmt: skip
            self.tickets.append((ticket.number, self.clock.now))
            t = self.clock.now
        self.at(self.think(t, 10, 60))
        outcome = "closed" if self.rng.random() < 0.8 else "handed_back"
        await self.handoffs.end(hid, outcome)
        await self.event("handoff_ended", cid, self.clock.now, outcome=outcome)
        if self.rng.random() < 0.55:
            rating = _pick(self.rng, RATING_WEIGHTS)
            await self.handoffs.rate(hid, rating)
            await self.event("handoff_rating", cid, self.clock.now, handoff_id=hid, rating=rating)
            if rating <= 2 and self.rng.random() < 0.6:
                await self.handoffs.comment(hid, "等了很久，问题也没解决")
        return self.clock.now

    # --- the tickets' days after ------------------------------------------
    def _due(self, when: dt.datetime) -> bool:
        """Steps after the real present are not written (the ticket stays open)."""
        return when <= self.real_now

    async def progress(self, number: str, created: dt.datetime) -> None:
        tickets = self.db.tickets
        rng = self.rng
        ticket = await tickets.get(number)
        if ticket is None or ticket.deadline is None:
            return
        t = created + dt.timedelta(hours=rng.uniform(0.5, 6))
        if rng.random() < 0.1 and self._due(t):  # not theirs: passed on
            self.at(t)
            target = rng.choice(["urban_management", "housing_construction", "market_regulation"])
            if target != ticket.department:
                ticket = await tickets.transfer(number, target, actor="dispatcher",
                                                reason="职责不符，转交相关部门")  # fmt: skip
            t += dt.timedelta(hours=rng.uniform(1, 5))
        if not self._due(t):
            return
        self.at(t)
        ticket = await tickets.accept(number, actor=f"dept:{ticket.department}")
        deadline = ticket.deadline or t
        roll = rng.random()
        if roll < 0.15:  # never answered: overdue once the deadline passes
            return
        span = (deadline - t).total_seconds()
        if roll < 0.3:  # late
            reply_at = deadline + dt.timedelta(hours=rng.uniform(2, 72))
        else:
            reply_at = t + dt.timedelta(seconds=max(600.0, span * rng.uniform(0.1, 0.95)))
        if not self._due(reply_at):
            return
        self.at(reply_at)
        await tickets.reply(number, "经核查，已安排人员现场处理，问题已整改。",
                            actor=f"dept:{ticket.department}")  # fmt: skip
        await tickets.mark_notified(number, channel=ticket.channel)
        rate_at = reply_at + dt.timedelta(hours=rng.uniform(1, 30))
        if rng.random() < 0.6 and self._due(rate_at):
            rating = _pick(self.rng, RATING_WEIGHTS)
            self.at(rate_at)
            comment = "处理太慢，问题依旧" if rating <= 2 else None
            rated = await tickets.rate(number, rating, comment)
            await self.event("ticket.rated", ticket.conversation_id, rate_at,
                             rating=rating, status=rated.status)  # fmt: skip
            if rated.status == "reopened":
                again = rate_at + dt.timedelta(hours=rng.uniform(4, 48))
                if self._due(again):
                    self.at(again)
                    await tickets.assign(number, rated.department, actor="dispatcher",
                                         reason="群众不满意，重新办理")  # fmt: skip
                    await tickets.reply(number, "已再次核查并督促整改。",
                                        actor=f"dept:{rated.department}")  # fmt: skip
            return
        close_at = reply_at + dt.timedelta(days=rng.uniform(2, 5))
        if rng.random() < 0.5 and self._due(close_at):  # follow-up done, closed by an agent
            self.at(close_at)
            await tickets.close(number, actor=rng.choice(AGENTS), reason="回访后办结")


def _arrival(rng: random.Random, day: dt.date) -> dt.datetime:
    hour = rng.choices(range(24), weights=HOURLY)[0]
    start = dt.datetime.combine(day, dt.time(hour), LOCAL_TZ)
    return start + dt.timedelta(seconds=rng.uniform(0, 3599))


async def _citizen_day(d: Day, n: int, day: dt.date) -> None:
    rng = d.rng
    channel = _pick(rng, CHANNELS)
    cid = f"{channel}:seed-{day:%Y%m%d}-{n:05d}"
    t = _arrival(rng, day)
    drill = rng.random() < 0.01
    scenario = _pick(rng, SCENARIOS)
    d.counts[f"scenario:{scenario}"] += 1
    if drill:  # an emergency drill's test conversation: excluded from the figures
        d.counts["drill_conversations"] += 1
        entry = rng.choice(d.faq)
        await d.faq_question(cid, t, entry, drill=True)
        return
    if scenario == "faq":
        entries = rng.sample(d.faq, rng.randint(1, 3))
        for entry in entries:
            t = await d.faq_question(cid, t, entry)
            t = d.think(t)
        t = await d.survey(cid, t)
        if rng.random() < 0.12:  # back on the same topic a few hours later: not settled
            d.counts["returns"] += 1
            await d.faq_question(cid, t + dt.timedelta(hours=rng.uniform(1, 10)), entries[0])
    elif scenario == "guidance":
        t = await d.guidance(cid, t)
        await d.survey(cid, d.think(t))
    elif scenario == "complaint":
        await d.complaint(cid, t)
    elif scenario == "handoff":
        t = await d.faq_question(cid, t, rng.choice(d.faq))
        await d.handoff(cid, d.think(t))
    elif scenario == "fallback":
        t = await d.fallback(cid, t)
        if rng.random() < 0.5:
            t = await d.fallback(cid, d.think(t))
            if rng.random() < 0.5:
                await d.handoff(cid, d.think(t), reason="fallback")
    else:  # mixed: a question, guidance, then a complaint
        t = await d.faq_question(cid, t, rng.choice(d.faq))
        t = await d.guidance(cid, d.think(t))
        await d.complaint(cid, d.think(t))


async def seed_day(
    db: Database,
    day: dt.date,
    *,
    seed: int = 1,
    citizens: int = 300,
    force: bool = False,
    now: Callable[[], dt.datetime] | None = None,
) -> dict[str, Any]:
    """Write one simulated day; returns what was written (counts, tickets)."""
    async with db.read() as conn:
        existing = await has_records(conn)
    if existing and not force:
        raise SeedRefused(
            f"数据库里已有 {existing} 条记录（对话、事件、转人工或工单），seed-day 只用于空的"
            f"演示或测试数据库；确实要写入模拟数据请加 --force "
            f"(the database holds {existing} records: refusing without --force)"
        )
    real_now = (now or (lambda: dt.datetime.now(dt.UTC)))().astimezone(LOCAL_TZ)
    rng = random.Random(f"{day.isoformat()}:{seed}")
    faq = [e for e in load_faq().values()]
    services = load_services()
    saved = db.clock
    clock = Clock(dt.datetime.combine(day, dt.time(), LOCAL_TZ))
    db.clock = clock
    d = Day(db, rng, clock, real_now, faq, services, HandoffRepo(db))
    try:
        for n in range(citizens):
            await _citizen_day(d, n, day)
        for number, created in d.tickets:
            await d.progress(number, created)
    finally:
        db.clock = saved
    return {
        "date": day.isoformat(),
        "seed": seed,
        "citizens": citizens,
        "written": dict(sorted(d.counts.items())),
        "tickets": len(d.tickets),
    }
