"""Records returned by the repositories: tickets, their timeline, transcripts.

Plain dataclasses, decoupled from SQL rows; personal data is already
decrypted here, so the ``to_public_dict`` view is the one to show citizens
and lists, ``to_full_dict`` only to agents who handle the ticket.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from bot.privacy import mask_id_number, mask_name, mask_phone, phone_last4

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
TICKET_TYPES = ("consultation", "complaint", "suggestion", "help", "callback")
TICKET_STATUSES = ("new", "assigned", "replied", "closed", "reopened")
OPEN_STATUSES = ("new", "assigned", "reopened")
PRIORITIES = ("normal", "high", "urgent")
EVENT_KINDS = (
    "created", "assigned", "transferred", "accepted", "returned", "replied", "notified",
    "rated", "reopened", "closed", "note", "escalated", "priority_changed", "merged", "followup",
)  # fmt: skip

TYPE_NAMES = {
    "consultation": "咨询",
    "complaint": "投诉",
    "suggestion": "建议",
    "help": "求助",
    "callback": "回电",
}
STATUS_NAMES = {
    "new": "待派发",
    "assigned": "办理中",
    "replied": "已答复",
    "closed": "已办结",
    "reopened": "重新办理",
}
PUBLIC_EVENT_LABELS = {
    "created": "工单已受理",
    "assigned": "已派发至承办部门",
    "transferred": "已转派至其他部门",
    "accepted": "承办部门已签收",
    "returned": "已退回分拨中心重新派发",
    "replied": "承办部门已答复",
    "notified": "已告知办理结果",
    "rated": "已评价",
    "reopened": "重新办理",
    "closed": "已办结",
    "escalated": "已督办",
    "merged": "已与相同诉求合并办理",
    "followup": "已回访",
}


@dataclass(frozen=True)
class TicketEvent:
    """One entry of a ticket's append-only timeline; ``version`` orders it."""

    kind: str
    actor: str
    at: dt.datetime
    data: dict[str, Any]
    version: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "actor": self.actor,
            "at": _iso(self.at),
            "data": self.data,
            "version": self.version,
        }


@dataclass
class Ticket:
    """A citizen's ticket (工单) with decrypted contact data."""

    number: str
    type: str
    category: str
    description: str
    location: str | None
    occurred_at: str | None
    channel: str
    conversation_id: str
    contact_name: str | None
    contact_phone: str | None
    id_number: str | None
    anonymous: bool
    department: str
    department_name: str
    priority: str
    status: str
    deadline: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    rating: int | None
    version: int
    events: list[TicketEvent] = field(default_factory=list)
    rating_comment: str | None = None
    escalated_at: dt.datetime | None = None
    town: str | None = None  # key of data/towns.yml
    category_confidence: float | None = None  # the dispatch classifier's, 0..1
    needs_review: bool = False  # low confidence: a person checks the category

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.contact_phone)

    @property
    def masked_name(self) -> str:
        return mask_name(self.contact_name)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def phone_last4(self) -> str | None:
        return phone_last4(self.contact_phone)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def last_reply(self) -> str | None:
        """The text of the latest department reply, if the timeline is loaded."""
        for event in reversed(self.events):
            if event.kind == "replied":
                return str(event.data.get("text", ""))
        return None

    def is_overdue(self, now: dt.datetime) -> bool:
        return self.is_open and self.deadline is not None and self.deadline < now

    def to_public_dict(self) -> dict[str, Any]:
        """Masked view for the citizen and for lists; no internal notes or actors."""
        return {
            "number": self.number,
            "type": self.type,
            "type_name": TYPE_NAMES.get(self.type, self.type),
            "category": self.category,
            "description": self.description,
            "location": self.location,
            "status": self.status,
            "status_name": STATUS_NAMES.get(self.status, self.status),
            "department_name": self.department_name,
            "priority": self.priority,
            "deadline": _iso(self.deadline),
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "contact_name": self.masked_name,
            "contact_phone": self.masked_phone,
            "anonymous": self.anonymous,
            "rating": self.rating,
            "reply": self.last_reply,
            "timeline": [
                {"kind": e.kind, "label": PUBLIC_EVENT_LABELS[e.kind], "at": _iso(e.at)}
                for e in self.events
                if e.kind in PUBLIC_EVENT_LABELS
            ],
        }

    def to_full_dict(self) -> dict[str, Any]:
        """Everything, decrypted, for the agent console; never for a log line."""
        return {
            "number": self.number,
            "type": self.type,
            "category": self.category,
            "description": self.description,
            "location": self.location,
            "occurred_at": self.occurred_at,
            "channel": self.channel,
            "conversation_id": self.conversation_id,
            "contact_name": self.contact_name,
            "contact_phone": self.contact_phone,
            "id_number": self.id_number,
            "anonymous": self.anonymous,
            "department": self.department,
            "department_name": self.department_name,
            "priority": self.priority,
            "status": self.status,
            "status_name": STATUS_NAMES.get(self.status, self.status),
            "deadline": _iso(self.deadline),
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "rating": self.rating,
            "rating_comment": self.rating_comment,
            "escalated_at": _iso(self.escalated_at),
            "version": self.version,
            "town": self.town,
            "category_confidence": self.category_confidence,
            "needs_review": self.needs_review,
            "events": [e.to_dict() for e in self.events],
        }


@dataclass(frozen=True)
class TranscriptEntry:
    """One message of a conversation as stored; ``seq`` orders a conversation."""

    seq: int
    conversation_id: str
    channel: str
    direction: str  # "in" | "out"
    sender: str
    message_id: str | None
    text: str | None
    data: dict[str, Any]
    created_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "direction": self.direction,
            "sender": self.sender,
            "message_id": self.message_id,
            "text": self.text,
            "data": self.data,
            "created_at": _iso(self.created_at),
        }

    def to_row(self) -> dict[str, Any]:
        """Column values for the ``transcripts`` table."""
        return {**self.to_dict(), "data": dict(self.data), "created_at": self.created_at}


def _iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 in the hotline's local time (Asia/Shanghai)."""
    return value.astimezone(LOCAL_TZ).isoformat() if value is not None else None
