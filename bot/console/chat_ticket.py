"""A ticket from the chat: fields prefilled from the handoff summary, then created.

The draft guesses the type from the intent, the category with
``db.routing.classify`` over what the citizen said, and takes the location
and time from the filled slots. The agent checks and completes it (the
phone number in the summary is masked, so the agent asks for it).
"""

from __future__ import annotations

import re
from typing import Any

from bot.console import texts
from bot.console.context import Console
from bot.console.desk import DeskError
from bot.console.users import User
from bot.db.models import TYPE_NAMES
from bot.dispatch.dispatcher import dispatch, find_town

COMPLAINT_INTENTS = ("complain", "complaint", "report_problem", "angry")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


def _slots(summary: dict[str, Any]) -> dict[str, Any]:
    slots = summary.get("slots")
    return slots if isinstance(slots, dict) else {}


async def draft(console: Console, cid: str) -> dict[str, Any]:
    row = await console.handoffs.latest(cid)
    summary = row.summary if row is not None else {}
    slots = _slots(summary)
    said = [str(m) for m in summary.get("last_messages") or [] if _meaningful(str(m))]
    since = row.queued_at if row is not None else None
    entries = await console.hub.history(cid, limit=50)
    later = [
        e.text for e in entries
        if e.direction == "in" and e.text and _meaningful(e.text)
        and (since is None or e.created_at >= since) and e.text not in said
    ]  # fmt: skip
    what = str(slots.get("complaint_what") or "；".join([*said, *later][-8:]))
    kind = _type(str(summary.get("intent") or ""), slots, row.reason if row is not None else "")
    routing = console.db.routing
    location = str(slots.get("complaint_where") or "")
    return {
        "type": kind,
        # The dispatch classifier's guess (bot/dispatch); the agent confirms it.
        "category": dispatch(routing, what, location).category if what else "other",
        "description": what,
        "location": location,
        "occurred_at": str(slots.get("complaint_when") or ""),
        "contact_phone": "",
        "priority": row.priority if row is not None else "normal",
        "types": [{"key": k, "name": v} for k, v in TYPE_NAMES.items()],
        "categories": [{"key": k, "name": c.name} for k, c in routing.categories.items()],
    }


def _meaningful(text: str) -> bool:
    """Not a button payload and not just "转人工"."""
    text = text.strip()
    return bool(text) and not text.startswith("/") and not (len(text) <= 6 and "人工" in text)


def _type(intent: str, slots: dict[str, Any], reason: str) -> str:
    if slots.get("complaint_type") == "suggestion" or intent == "suggest":
        return "suggestion"
    if intent in COMPLAINT_INTENTS or slots.get("complaint_type"):
        return "complaint"
    return "consultation" if intent == "consult" else "help"


def _text(body: dict[str, Any], name: str, limit: int) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise DeskError(400, "bad_field", f"字段 {name} 格式不正确")
    return value.strip() or None


async def create(console: Console, user: User, cid: str, body: dict[str, Any]) -> dict[str, Any]:
    request_id = body.get("request_id")
    if not isinstance(request_id, str) or not _REQUEST_ID.match(request_id):
        raise DeskError(400, "bad_request", "缺少请求编号，请刷新后重试")
    if not await console.hub.history(cid, limit=1):
        raise DeskError(404, "unknown", "找不到该会话")
    anonymous = body.get("anonymous") is True
    try:
        ticket, created = await console.db.tickets.create(
            idempotency_key=f"console:{cid}:{request_id}",
            type=str(body.get("type") or ""),
            category=str(body.get("category") or "other"),
            description=_text(body, "description", 5000) or "",
            location=_text(body, "location", 500),
            occurred_at=_text(body, "occurred_at", 100),
            channel=cid.split(":", 1)[0],
            conversation_id=cid,
            contact_name=_text(body, "contact_name", 50),
            contact_phone=_text(body, "contact_phone", 30),
            anonymous=anonymous,
            priority=str(body.get("priority") or "normal"),
            actor=f"agent:{user.username}",
            # The agent chose the category; the town still comes from the location.
            town=find_town(
                console.db.routing, _text(body, "location", 500), _text(body, "description", 5000)
            ),
        )
    except ValueError as exc:
        raise DeskError(400, "invalid", _field_message(str(exc))) from None
    if created:
        await console.notes.add(
            cid, user.display_name, f"创建工单 {ticket.number}（{ticket.department_name}）"
        )
        told = (
            f"已为您登记工单，编号 {ticket.number}，将由{ticket.department_name}办理，"
            "办理结果会及时告知您。"
        )
        await console.hub.push(cid, [texts.system(told)])
        await console.notifier.conversation_changed(cid, "note")
    return {"number": ticket.number, "department_name": ticket.department_name, "created": created}


_FIELD_NAMES = {
    "description": "诉求内容",
    "contact_phone": "联系电话",
    "type": "工单类型",
    "category": "诉求类别",
    "priority": "紧急程度",
    "location": "地点",
    "contact_name": "联系人",
}


def _field_message(error: str) -> str:
    for field, name in _FIELD_NAMES.items():
        if error.startswith(field):
            return f"{name}填写有误，请检查后重试"
    return "工单信息有误，请检查后重试"
