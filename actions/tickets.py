"""Tickets (工单): create one from a confirmed complaint or suggestion, and
tell a citizen the status of their ticket."""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions._forms import CitizenFormValidation
from actions._runtime import MENU_BUTTONS, drill_tags, get_db, latest_text, record_event
from actions.answers import (
    digit_value,
    find_phone,
    mandarin,
    mentions_unknown,
    normalise_digits,
    tail_replaced,
)
from actions.complaints import (
    ANONYMOUS,
    NOT_GIVEN,
    SERVICE,
    _clear_complaint,
    destination,
    phone_from_slot,
)
from bot.db.routing import load_routing

logger = logging.getLogger(__name__)

TICKET_NO = re.compile(r"(?<!\d)(\d{8})\s*[-—_ ]?\s*(\d{6})(?!\d)")
LAST4 = re.compile(r"(?<!\d)(\d{4})(?!\d)")

STATUS_TEXT = {
    "new": ("已受理，正在分派承办部门", "工作人员会尽快将工单转交承办部门。"),
    "assigned": ("已转交承办部门办理", "承办部门正在处理，办结后会通过本渠道告知您结果。"),
    "accepted": ("承办部门已签收，正在办理", "办结后会通过本渠道告知您结果。"),
    "returned": ("正在重新分派承办部门", "工作人员会尽快重新分派。"),
    "replied": ("承办部门已答复", "请留意答复内容并为办理结果评价。"),
    "reopened": ("已重新办理", "您对上次的答复不满意，工单已重新交办。"),
    "closed": ("已办结", "如仍有问题，可以重新提交诉求。"),
}


#: Between the digits of a number said or typed in pieces: spaces, dashes of
#: any width, dots, the spoken dash ("二零二六一一二七 杠 零零零一二三") and a
#: date's 年/月/日 ("二零二六年一二零四 零零零零一一").
_DIGIT_GAP = re.compile(r"(?<=\d)(?:[\s\-‐‑‒–—―－_.·年月日]|杠|横杠|减)+(?=\d)")


def compact_digits(text: str) -> str:
    """Chinese and full-width digits as ASCII, and the digits of a number said
    in groups joined: "2026 1127 000123" -> "20261127000123", "0 9 2 1" -> "0921"."""
    return _DIGIT_GAP.sub("", normalise_digits(unicodedata.normalize("NFKC", text or "")))


def parse_ticket_no(text: str) -> str | None:
    """ "20261127-000123" out of a message; full-width digits as ASCII (``\\d``
    matches them too: they were kept as typed). The date may be said in words
    ("二零二六年十二月一号 零零四五一二") and the serial after other words
    ("20261201 后面是 004512")."""
    text = unicodedata.normalize("NFKC", text or "")
    match = TICKET_NO.search(text)
    if match is None:
        match = TICKET_NO.search(compact_digits(_spoken_date(text)))
    if match is None:
        return _date_then_serial(compact_digits(_spoken_date(text)))
    return f"{match.group(1)}-{match.group(2)}" if match else None


_SPOKEN_DATE = re.compile(
    r"((?:20|二[零〇])[0-9零〇一二三四五六七八九]{2})年"
    r"([0-9]{1,2}|十[一二]?|[一二三四五六七八九])月"
    r"([0-9]{1,2}|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])[日号]"
)


def _cn_number(said: str) -> int:
    """1..31 said in Chinese ("十二", "二十一", "三") or in digits
    (_SPOKEN_DATE admits only digits around 十)."""
    if said.isdigit():
        return int(said)
    tens, ten, ones = said.partition("十")
    if not ten:
        return digit_value(said) or 0
    high = (digit_value(tens) or 0) if tens else 1
    low = (digit_value(ones) or 0) if ones else 0
    return high * 10 + low


def _spoken_date(text: str) -> str:
    """A ticket's date said as a date, as its 8 digits: "二零二六年十二月一号" -> 20261201."""

    def digits(match: re.Match[str]) -> str:
        year = "".join(str(digit_value(ch)) for ch in match.group(1))
        month, day = _cn_number(match.group(2)), _cn_number(match.group(3))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return match.group(0)
        return f"{year}{month:02d}{day:02d}"

    return _SPOKEN_DATE.sub(digits, text)


def _date_then_serial(text: str) -> str | None:
    """The one date (8 digits, 20…) and the one serial (6 digits) of a message
    that says other words between them: "20261201 后面是 004512"."""
    runs = re.findall(r"(?<!\d)\d+(?!\d)", text)
    dates = [run for run in runs if len(run) == 8 and run.startswith("20")]
    serials = [run for run in runs if len(run) == 6]
    if len(dates) == 1 and len(serials) == 1 and len(runs) == 2 and runs[0] in dates:
        return f"{dates[0]}-{serials[0]}"
    return None


#: Two answers offered as either: "5678还是5687".
_EITHER = re.compile(r"还是|或者|或是|要么|定系|抑或")

#: No phone left with the ticket: "登记的是匿名", "当时没留电话".
_NO_PHONE_GIVEN = re.compile(r"匿名|没(?:有)?(?:留|留下|登记)(?:电话|手机|号码)")

#: A part of an answer that says a number is not the one ("不是…吗", "…不对",
#: "…错了") or asks about it: "不是20261101-000001吗 你再看看 20261101-000010".
_DOUBTED = re.compile(r"不是|不对|错|(?:吗|么)\s*$")
_PARTS = re.compile(r"[，,。!！?？;；]+|(?<=吗)|(?<=么)")


def meant_ticket_no(text: str) -> str | None:
    """The ticket number an answer means: the only one it gives, or of several
    different ones the only one not said to be wrong or asked about; else the
    first (as :func:`parse_ticket_no`)."""
    found = {
        number: bool(_DOUBTED.search(part))
        for part in _PARTS.split(text or "")
        if (number := parse_ticket_no(part)) is not None
    }
    kept = [number for number, doubted in found.items() if not doubted]
    if len(found) > 1 and len(kept) == 1:
        return kept[0]
    return parse_ticket_no(text)


def _contact(tracker: Tracker) -> tuple[str | None, str | None, bool]:
    phone = phone_from_slot(tracker.get_slot("contact_phone"))
    name = tracker.get_slot("contact_name")
    anonymous = phone in (None, ANONYMOUS)
    return (
        None if name in (None, ANONYMOUS, NOT_GIVEN) else str(name),
        None if anonymous else str(phone),
        anonymous,
    )


class ActionCreateTicket(Action):
    """Create exactly one ticket per confirmed submission, also when retried."""

    def name(self) -> str:
        return "action_create_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        submission = tracker.get_slot("complaint_submission_id")
        what = tracker.get_slot("complaint_what")
        if not submission or not what:
            dispatcher.utter_message(text="目前没有待提交的投诉或建议。", buttons=MENU_BUTTONS)
            return []
        kind = tracker.get_slot("complaint_type") or "complaint"
        routing = load_routing()
        sent = destination(tracker)  # as the summary showed it
        category = sent.category
        # A complaint about the hotline's own service is a complaint ticket of
        # the category hotline_service (the hotline's supervisors).
        kind = "complaint" if kind == SERVICE else kind
        name, phone, anonymous = _contact(tracker)
        try:
            db = await get_db()
            ticket, created = await db.tickets.create(
                idempotency_key=f"{tracker.sender_id}:{submission}",
                type=kind,
                category=category,
                description=str(what),
                location=_given(tracker.get_slot("complaint_where")),
                occurred_at=_given(tracker.get_slot("complaint_when")),
                channel=tracker.sender_id.split(":", 1)[0] if ":" in tracker.sender_id else "rest",
                conversation_id=tracker.sender_id,
                contact_name=name,
                contact_phone=phone,
                anonymous=anonymous,
                town=sent.town,
                category_confidence=sent.confidence,
                needs_review=sent.needs_review,
            )
        except Exception:  # noqa: BLE001 - the citizen must hear something
            logger.exception("ticket creation failed")
            dispatcher.utter_message(
                text="抱歉，系统暂时无法登记工单，您填写的信息都还在。请稍后点“确认提交”重试，"
                "或回复“转人工”联系人工客服。",
            )
            # The summary again, with its buttons: the dialogue is back where a
            # confirmation submits (data/rules.yml "confirmed summary creates
            # the ticket"), and the retry keeps the submission id, so a ticket
            # whose commit did land is not created twice.
            return [FollowupAction("action_complaint_summary")]
        shown = "other" if sent.needs_review else category  # triage's expectation
        dispatcher.utter_message(text=_created_text(ticket, shown, anonymous, routing))
        dispatcher.utter_message(response="utter_anything_else")
        if created:
            await record_event(
                "ticket_created", tracker, ticket=ticket.number, category=category,
                town=sent.town, category_confidence=sent.confidence,
                needs_review=sent.needs_review,
            )  # fmt: skip
        return [*_clear_complaint(), SlotSet("last_ticket_no", ticket.number)]


def _given(value: Any) -> str | None:
    return None if value in (None, NOT_GIVEN) else str(value)


def _created_text(ticket: Any, category: str, anonymous: bool, routing: Any) -> str:
    kind = "建议" if ticket.type == "suggestion" else "投诉"
    department = ticket.department_name or "12345热线分拨中心"
    lines = [
        f"您的{kind}已登记，工单编号：{ticket.number}。",
        f"已转交{department}办理。{routing.reply_expectation(category)}",
    ]
    if ticket.deadline is not None:
        lines.append(f"预计{ticket.deadline:%Y年%m月%d日}前答复。")
    if anonymous:
        lines.append("本工单为匿名提交，无法电话回访，也无法凭手机尾号查询进度，请保存好工单编号。")
    else:
        lines.append(
            "办理结果会通过本渠道通知您；也可随时发送“查询工单”，凭工单编号和手机尾号查询进度。"
        )
    return "\n".join(lines)


class ActionStartTicketQuery(Action):
    """Pre-fill the ticket number and last four digits from the opening message."""

    def name(self) -> str:
        return "action_start_ticket_query"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        number = parse_ticket_no(text)
        rest = TICKET_NO.sub(" ", text)
        last4 = LAST4.search(rest)
        return [
            SlotSet("ticket_no", number),
            SlotSet("ticket_phone_last4", last4.group(1) if last4 and number else None),
        ]


class ValidateTicketStatusForm(CitizenFormValidation):
    """The ticket number, then the phone's last four digits; both questions
    also take "不知道", "上一步" and corrections (actions/_forms.py)."""

    FIELDS = {
        "ticket_no": re.compile(r"工单编号|工单号|单号|编号|工单|日期|序号"),
        "ticket_phone_last4": re.compile(r"手机尾号|尾号|后四位|后4位|手机号|手机|号码"),
    }
    TITLES = {"ticket_no": "工单编号", "ticket_phone_last4": "手机号码后四位"}

    def name(self) -> str:
        return "validate_ticket_status_form"

    async def skip(
        self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        if slot == "ticket_no":
            text = (
                "工单编号在登记成功时发给您的消息里（格式如 20261127-000123）。"
                "找不到的话，可以转人工客服，核实身份后帮您查询。"
            )
        else:
            text = (
                "为保护您的信息，查询需要登记工单时所留手机号码的后四位。"
                "记不清的话，可以转人工客服，核实身份后帮您查询。"
            )
        dispatcher.utter_message(
            text=text,
            buttons=[
                {"title": "转人工客服", "payload": "/request_human"},
                {"title": "不查了", "payload": "/stop"},
            ],
        )
        return {slot: None}

    def reads_itself(self, slot: str) -> bool:
        return True

    def answers(self, slot: str, text: str) -> bool:
        if super().answers(slot, text) or self.fits(slot, normalise_digits(text)):
            return True
        return mentions_unknown(text) and not re.search(r"\d", normalise_digits(text))

    def corrected(self, slot: str, value: str, earlier: Any = None) -> dict[str, Any] | None:
        if slot == "ticket_no" and parse_ticket_no(value) is None and isinstance(earlier, str):
            # "单号最后几位错了，是000321": the serial said replaces the end of the number
            digits = re.sub(r"\D", "", compact_digits(value))
            if len(digits) == 8 and digits.startswith("20") and parse_ticket_no(earlier):
                # "日期写错 是20261126 后面一样": the date part
                return {slot: f"{digits}-{str(parse_ticket_no(earlier))[-6:]}"}
            number = tail_replaced(earlier, compact_digits(value), 6)
            if number is not None and parse_ticket_no(number):
                return {slot: parse_ticket_no(number)}
        return None

    def fits(self, slot: str, value: str) -> bool:
        if slot == "ticket_no":
            return parse_ticket_no(value) is not None
        return LAST4.search(compact_digits(value)) is not None

    async def validate_ticket_no(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        number = meant_ticket_no(text)
        if number is not None:
            return {"ticket_no": number}
        if mentions_unknown(text) and not re.search(r"\d", text):
            return await self.skip("ticket_no", dispatcher, tracker)
        dispatcher.utter_message(
            text="请告诉我工单编号：8位日期加6位序号，如 20261127-000123，"
            "在登记成功时发给您的消息里。找不到的话可以回复“找不到”。"
        )
        return {"ticket_no": None}

    async def validate_ticket_phone_last4(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        phone = find_phone(text)
        if phone is not None:
            return {"ticket_phone_last4": phone[-4:]}
        typed = normalise_digits(unicodedata.normalize("NFKC", text))
        said = set(LAST4.findall(typed))
        if len(said) > 1 and (mentions_unknown(text) or _EITHER.search(mandarin(text))):
            # "5678吗？还是5687 记不清了": not sure which
            return await self.skip("ticket_phone_last4", dispatcher, tracker)
        match = LAST4.search(typed) or LAST4.search(compact_digits(text))
        if match is not None:
            return {"ticket_phone_last4": match.group(1)}
        no_phone = _NO_PHONE_GIVEN.search(mandarin(text))  # "登记的是匿名": none left
        if (mentions_unknown(text) or no_phone) and not re.search(r"\d", text):
            return await self.skip("ticket_phone_last4", dispatcher, tracker)
        dispatcher.utter_message(
            text="请输入4位数字，即登记时所留手机号码的后四位；记不清的话可以回复“不记得”。"
        )
        return {"ticket_phone_last4": None}


class ActionTicketStatus(Action):
    """Status, department and next step; the same answer for an unknown number
    and a wrong phone, so nobody can probe other citizens' tickets."""

    def name(self) -> str:
        return "action_ticket_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        number = str(tracker.get_slot("ticket_no") or "")
        last4 = str(tracker.get_slot("ticket_phone_last4") or "")
        clear = [SlotSet("ticket_no", None), SlotSet("ticket_phone_last4", None)]
        try:
            db = await get_db()
            if await _too_many_misses(db, number):
                dispatcher.utter_message(
                    text="该工单号查询失败次数过多，为保护市民信息已暂停查询，请1小时后再试或转人工客服。",
                    buttons=[{"title": "转人工客服", "payload": "/request_human"}],
                )
                return clear
            ticket = await db.tickets.get_for_citizen(number, last4)
        except Exception:  # noqa: BLE001
            logger.exception("ticket lookup failed")
            dispatcher.utter_message(text="抱歉，系统暂时无法查询，请稍后再试或转人工客服。")
            return clear
        if ticket is None:
            dispatcher.utter_message(
                text="没有查到与该工单编号和手机尾号相符的工单，请核对后重试。",
                buttons=[
                    {"title": "重新查询", "payload": "/check_ticket"},
                    {"title": "转人工客服", "payload": "/request_human"},
                ],
            )
            await db.events.record(
                QUERY_MISS, conversation_id=tracker.sender_id, ticket_number=number[:20],
                data=drill_tags(tracker) or None,
            )  # fmt: skip
            return clear
        dispatcher.utter_message(text=status_text(ticket), buttons=MENU_BUTTONS[:3])
        await record_event("ticket_query", tracker, found=True)
        return [*clear, SlotSet("last_ticket_no", ticket.number)]


#: Wrong last-four-digit guesses allowed per ticket number and hour: four
#: digits are only 10,000 possibilities, so lookups are throttled per ticket
#: (not per sender, which a caller can change at will).
MAX_MISSES_PER_HOUR = 5
QUERY_MISS = "ticket_query_miss"


async def _too_many_misses(db: Any, number: str) -> bool:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    return bool(
        await db.events.count_for_ticket(QUERY_MISS, number[:20], since) >= MAX_MISSES_PER_HOUR
    )


def status_text(ticket: Any) -> str:
    label, next_step = STATUS_TEXT.get(ticket.status, ("处理中", "请耐心等待。"))
    lines = [f"工单 {ticket.number}：{label}。"]
    if ticket.department_name:
        lines.append(f"承办部门：{ticket.department_name}。")
    if ticket.deadline is not None and ticket.status not in ("replied", "closed"):
        lines.append(f"答复期限：{ticket.deadline:%Y年%m月%d日}。")
    lines.append(next_step)
    return "\n".join(lines)
