"""Who may see and do what with a ticket, and what each one is shown.

Roles: ``supervisor`` and ``agent`` (the hotline), ``department`` (a unit
that handles tickets; bound to one department key), ``api`` (the city's case
system; a token may be bound to one department, then it acts like that
department).

Visibility is enforced on the server: a principal bound to a department sees
only tickets currently assigned to that department, and any other ticket is
answered exactly like a missing one (404), so numbers cannot be probed.

Personal data: supervisors, agents and unbound API clients see the name,
phone and ID number in full. A department sees the name and phone in full
(it has to call the citizen back) but only on tickets assigned to it, which
are the only ones it can open; the ID number stays masked. Lists show masked
contacts to everyone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.db.models import STATUS_NAMES, TYPE_NAMES, Ticket
from bot.db.routing import Routing
from bot.tickets.notify import was_notified
from bot.tickets.query import flags

ROLES = ("supervisor", "agent", "department", "api")
ACTIONS: dict[str, frozenset[str]] = {
    "supervisor": frozenset({"assign", "priority", "note", "merge", "close", "reply", "extend"}),
    "agent": frozenset({"assign", "priority", "note", "merge", "close", "reply"}),
    "department": frozenset({"accept", "return", "reply", "note", "extend"}),
    "api": frozenset({"assign", "reply", "close", "note", "extend"}),
}
DEPARTMENT_API_ACTIONS = frozenset({"reply", "note", "extend"})


@dataclass(frozen=True)
class Principal:
    """The signed-in user or API client acting on tickets."""

    actor: str  # written on the timeline: "alice", "api:case-system"
    role: str
    department: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.role == "department" and not self.department:
            raise ValueError("a department user needs a department key")

    @property
    def scoped(self) -> bool:
        """Bound to one department: sees only that department's tickets."""
        return self.department is not None and self.role in ("department", "api")

    def can_see(self, ticket: Ticket) -> bool:
        return not self.scoped or ticket.department == self.department

    def can(self, action: str) -> bool:
        if self.role == "api" and self.scoped:
            return action in DEPARTMENT_API_ACTIONS
        return action in ACTIONS[self.role]

    @property
    def full_identity(self) -> bool:
        """May see the ID number unmasked."""
        return self.role in ("supervisor", "agent") or (self.role == "api" and not self.scoped)


def summary(ticket: Ticket, routing: Routing, now: dt.datetime) -> dict[str, Any]:
    """A list row: masked contact, no timeline."""
    public = ticket.to_public_dict()
    keep = (
        "number",
        "type",
        "type_name",
        "category",
        "status",
        "status_name",
        "department_name",
        "priority",
        "deadline",
        "created_at",
        "updated_at",
        "contact_name",
        "contact_phone",
        "anonymous",
        "rating",
    )
    row = {key: public[key] for key in keep}
    row.update(
        department=ticket.department,
        category_name=routing.category_name(ticket.category),
        description=ticket.description[:200],
        version=ticket.version,
        flags=flags(ticket, now),
        town=ticket.town,
        town_name=town_name(ticket, routing),
        needs_review=ticket.needs_review,
    )
    return row


def town_name(ticket: Ticket, routing: Routing) -> str | None:
    """The name of the ticket's town or street (镇街), if one was recognised."""
    return routing.towns.name(ticket.town) if routing.towns is not None else None


def detail(
    ticket: Ticket,
    principal: Principal,
    routing: Routing,
    now: dt.datetime,
    *,
    masked_contact: bool = False,
) -> dict[str, Any]:
    """Everything the principal may see of one ticket, with its timeline.

    ``masked_contact`` (the console): name, phone and ID number masked; the
    full values come only from :func:`contact`, an audited action.
    """
    data = ticket.to_full_dict()
    if not principal.full_identity:
        data["id_number"] = ticket.masked_id_number or None
    if masked_contact:
        data["contact_name"] = ticket.masked_name or None
        data["contact_phone"] = ticket.masked_phone or None
        data["id_number"] = ticket.masked_id_number or None
    data.update(
        type_name=TYPE_NAMES.get(ticket.type, ticket.type),
        status_name=STATUS_NAMES.get(ticket.status, ticket.status),
        category_name=routing.category_name(ticket.category),
        town_name=town_name(ticket, routing),
        flags=flags(ticket, now),
        reply=ticket.last_reply,
        notified=was_notified(ticket),
        citizen_comments=[
            str(e.data.get("text", ""))
            for e in ticket.events
            if e.kind == "note" and e.actor == "citizen"
        ],
    )
    return data


def contact(ticket: Ticket, principal: Principal) -> dict[str, str | None]:
    """The citizen's contact decrypted, as far as the principal may see it."""
    return {
        "contact_name": ticket.contact_name,
        "contact_phone": ticket.contact_phone,
        "id_number": ticket.id_number
        if principal.full_identity
        else (ticket.masked_id_number or None),
    }
