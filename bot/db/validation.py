"""Checks on a new ticket's fields before anything is written.

Each problem raises ``ValueError`` naming the field, so the caller (an action
or the console) can ask again; nothing is stored for invalid input. The
messages never repeat the citizen's phone or ID number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.db.models import PRIORITIES, TICKET_TYPES
from bot.privacy import normalize_phone, validate_id_number

_CATEGORY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class NewTicket:
    """A validated, normalised new ticket (plain text, before encryption)."""

    idempotency_key: str
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
    priority: str
    actor: str
    town: str | None = None
    category_confidence: float | None = None
    needs_review: bool = False


def required(value: str | None, field: str, limit: int) -> str:
    """A non-empty string of at most ``limit`` characters, stripped."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field} is required")
    cleaned = value.strip()
    if len(cleaned) > limit:
        raise ValueError(f"{field} is longer than {limit} characters")
    return cleaned


def optional(value: str | None, field: str, limit: int) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return required(value, field, limit)


def validate_new_ticket(
    *,
    idempotency_key: str,
    type: str,  # noqa: A002 - the public keyword is "type"
    category: str,
    description: str,
    location: str | None,
    occurred_at: str | None,
    channel: str,
    conversation_id: str,
    contact_name: str | None,
    contact_phone: str | None,
    id_number: str | None,
    anonymous: bool,
    priority: str,
    actor: str,
    town: str | None = None,
    category_confidence: float | None = None,
    needs_review: bool = False,
) -> NewTicket:
    """Validate and normalise the arguments of ``TicketRepo.create``."""
    if type not in TICKET_TYPES:
        raise ValueError(f"type must be one of {', '.join(TICKET_TYPES)}")
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}")
    if not isinstance(category, str) or not _CATEGORY.match(category):
        raise ValueError("category must be a lower-case key such as 'noise'")
    if not isinstance(anonymous, bool):
        raise ValueError("anonymous must be true or false")
    if town is not None and (not isinstance(town, str) or not _CATEGORY.match(town)):
        raise ValueError("town must be a lower-case key of data/towns.yml such as 'humen'")
    if category_confidence is not None and (
        isinstance(category_confidence, bool)
        or not isinstance(category_confidence, (int, float))
        or not 0 <= category_confidence <= 1
    ):
        raise ValueError("category_confidence must be a number from 0 to 1")
    if not isinstance(needs_review, bool):
        raise ValueError("needs_review must be true or false")
    phone = normalize_phone(contact_phone) if contact_phone else None
    if phone is None and not anonymous:
        raise ValueError("contact_phone is required unless the ticket is anonymous")
    return NewTicket(
        idempotency_key=required(idempotency_key, "idempotency_key", 200),
        type=type,
        category=category,
        description=required(description, "description", 5000),
        location=optional(location, "location", 500),
        occurred_at=optional(occurred_at, "occurred_at", 100),
        channel=required(channel, "channel", 40),
        conversation_id=required(conversation_id, "conversation_id", 200),
        contact_name=optional(contact_name, "contact_name", 50),
        contact_phone=phone,
        id_number=validate_id_number(id_number) if id_number else None,
        anonymous=anonymous,
        priority=priority,
        actor=required(actor, "actor", 100),
        town=town,
        category_confidence=None if category_confidence is None else float(category_confidence),
        needs_review=needs_review,
    )
