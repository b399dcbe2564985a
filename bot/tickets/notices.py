"""What a citizen is told about their ticket, step by step, in short Chinese.

Each step that matters to the citizen is one timeline event of the ticket:
a department signs for it (``accepted``), it is sent on to another
department (``assigned`` after the first routing, ``transferred``), the
department needs more time (``extended``, with the new expected date), it is
past its deadline and escalated (``escalated``), and the result
(``replied``, bot/tickets/notify.py). For each step this module gives the
text the citizen reads and the same facts in fields
(:class:`~bot.messages.TicketNotice`) for WeChat's template messages.
Internal reasons (an extension's, a return's) are never in a notice.
"""

from __future__ import annotations

import datetime as dt

from bot.db.models import LOCAL_TZ, TicketEvent
from bot.messages import OutboundMessage, TicketNotice

#: Timeline events a citizen hears of while the ticket is worked on.
STEP_KINDS = ("accepted", "assigned", "transferred", "extended", "escalated")

#: The short status of each step (a template's ``phrase`` takes 5 characters).
STATUS = {
    "accepted": "已签收",
    "assigned": "已转办",
    "transferred": "已转办",
    "extended": "已延期",
    "escalated": "督办中",
    "replied": "已答复",
}


def day_text(value: dt.datetime | None) -> str:
    """``12月8日`` in local time, or "" without a date."""
    if value is None:
        return ""
    local = value.astimezone(LOCAL_TZ)
    return f"{local.month}月{local.day}日"


def time_text(value: dt.datetime) -> str:
    """The local time as a template's ``time`` keyword takes it."""
    return value.astimezone(LOCAL_TZ).strftime("%Y年%m月%d日 %H:%M")


def _deadline(event: TicketEvent, deadline: dt.datetime | None) -> dt.datetime | None:
    """The event's own deadline (assigned, transferred, extended), else the ticket's."""
    raw = event.data.get("deadline")
    if isinstance(raw, str):
        try:
            return dt.datetime.fromisoformat(raw)
        except ValueError:
            pass
    return deadline


def step_notice(
    number: str,
    event: TicketEvent,
    department_name: str,
    deadline: dt.datetime | None,
) -> tuple[OutboundMessage, TicketNotice] | None:
    """The message and notice of one step, or ``None`` for an event citizens
    are not told of. ``department_name`` and ``deadline``: the ticket's now
    (an event without its own department or date uses them)."""
    kind = event.kind
    if kind not in STEP_KINDS:
        return None
    dept = str(event.data.get("department_name") or department_name)
    due_at = _deadline(event, deadline)
    date = day_text(due_at)
    due = f"，预计{date}前答复" if date else ""
    if kind == "accepted":
        text = f"您的工单 {number} 已由{dept}签收办理{due}。"
        detail = f"{dept}已签收{due}"
    elif kind in ("assigned", "transferred"):
        text = f"您的工单 {number} 已转交{dept}办理{due}。"
        detail = f"已转交{dept}办理{due}"
    elif kind == "extended":
        text = f"您的工单 {number} 因办理需要延长了办理时间{due}。感谢您的耐心等待。"
        detail = f"办理时间延长{due}"
    else:  # escalated
        text = (
            f"您的工单 {number} 已超过答复期限，12345热线已督促{dept}尽快办理。"
            "给您带来不便，敬请谅解。"
        )
        detail = f"已督促{dept}尽快办理"
    notice = TicketNotice(
        kind="progress",
        number=number,
        about=kind,
        status=STATUS[kind],
        detail=detail,
        at=time_text(event.at),
        due=due_at.astimezone(LOCAL_TZ).strftime("%Y年%m月%d日") if due_at else "",
    )
    return OutboundMessage(text=f"【工单进度】{text}", sender="system"), notice


def result_notice(number: str, at: dt.datetime, keyword: str) -> TicketNotice:
    """The result's notice: the template says how to read and rate the answer."""
    return TicketNotice(
        kind="result",
        number=number,
        about="replied",
        status=STATUS["replied"],
        detail=f"回复“{keyword}”查看答复并评价",
        at=time_text(at),
        keyword=keyword,
    )
