"""The ticket state machine as pure functions: current state in, planned change out.

``new -> assigned -> replied -> closed``; ``reopened`` when the citizen is not
satisfied, then assigned again. Each function checks that the change is
allowed and returns the column updates and timeline events; the repository
applies them atomically. Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bot.db.errors import InvalidTransition
from bot.db.models import PRIORITIES, STATUS_NAMES
from bot.db.routing import Route
from bot.privacy import mask_text

TRIAGE = "triage"


@dataclass(frozen=True)
class State:
    """The parts of a ticket the rules look at."""

    number: str
    status: str
    department: str
    priority: str
    rating: int | None
    deadline: dt.datetime | None = None


@dataclass
class Change:
    """Column updates plus the timeline events that explain them, in order."""

    values: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def _require(state: State, allowed: tuple[str, ...], action: str) -> None:
    if state.status not in allowed:
        raise InvalidTransition(
            f"ticket {state.number} is {state.status} ({STATUS_NAMES[state.status]}); "
            f"cannot {action} (allowed when {', '.join(allowed)})"
        )


def _text(value: str | None, what: str, limit: int = 5000) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise ValueError(f"{what} must not be empty")
    if len(cleaned) > limit:
        raise ValueError(f"{what} is longer than {limit} characters")
    return cleaned


def assign(state: State, route: Route, deadline: dt.datetime, reason: str | None) -> Change:
    """Send the ticket to a department (from triage, reopened, or re-assign)."""
    _require(state, ("new", "assigned", "reopened"), "assign")
    if route.department == TRIAGE:
        raise ValueError("use return_to_triage to send a ticket back to the triage desk")
    if state.status == "assigned" and state.department == route.department:
        raise InvalidTransition(f"ticket {state.number} is already assigned to {route.department}")
    data = route_data(route, deadline) | ({"reason": reason} if reason else {})
    return Change(values=_route_values(route, deadline, "assigned"), events=[("assigned", data)])


def transfer(state: State, route: Route, deadline: dt.datetime, reason: str) -> Change:
    """A department passes an assigned ticket to another one; the clock restarts."""
    _require(state, ("assigned",), "transfer")
    if route.department in (TRIAGE, state.department):
        raise InvalidTransition(f"cannot transfer ticket {state.number} to {route.department}")
    data = route_data(route, deadline) | {
        "from": state.department,
        "reason": _text(reason, "reason", 500),
    }
    return Change(values=_route_values(route, deadline, "assigned"), events=[("transferred", data)])


def accept(state: State) -> Change:
    """The department confirms it handles the ticket (签收)."""
    _require(state, ("assigned",), "accept")
    return Change(events=[("accepted", {"department": state.department})])


def return_to_triage(state: State, route: Route, deadline: dt.datetime, reason: str) -> Change:
    """The department says the ticket is not theirs (退单): back to the triage desk."""
    _require(state, ("assigned",), "return")
    data = {"from": state.department, "reason": _text(reason, "reason", 500)}
    return Change(values=_route_values(route, deadline, "new"), events=[("returned", data)])


def reply(state: State, text: str) -> Change:
    """The department's answer to the citizen."""
    _require(state, ("assigned",), "reply")
    return Change(
        values={"status": "replied"}, events=[("replied", {"text": _text(text, "reply")})]
    )


def notified(state: State, channel: str | None, via: str | None = None) -> Change:
    """The citizen has been told the result (``via``: message or template)."""
    _require(state, ("replied", "closed"), "record a notification")
    data = {"channel": channel} if channel else {}
    return Change(events=[("notified", data | ({"via": via} if via else {}))])


MAX_EXTENSION_DAYS = 60


def extend(state: State, deadline: dt.datetime, days: int, reason: str) -> Change:
    """The department needs more time (延期): a later deadline, with why."""
    _require(state, ("assigned",), "extend")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValueError(f"days must be a whole number from 1 to {MAX_EXTENSION_DAYS}")
    if state.deadline is not None and deadline <= state.deadline:
        raise ValueError("the new deadline must be later than the current one")
    data = {
        "deadline": deadline.isoformat(),
        "from": state.deadline.isoformat() if state.deadline else None,
        "days": days,
        "reason": mask_text(_text(reason, "reason", 500)),
    }
    return Change(values={"deadline": deadline}, events=[("extended", data)])


def told(state: State, about: str, event: int, channel: str, via: str) -> Change:
    """The citizen has been told of a step (timeline event ``event``); any status."""
    data = {"about": about, "event": event, "channel": channel, "via": via}
    return Change(events=[("told", data)])


def not_told(
    state: State, about: str, event: int, channel: str, code: str, reason: str
) -> Change:
    """A step's notice did not reach the citizen (``code``; ``reason`` in the
    agent's words): someone should phone."""
    data = {"about": about, "event": event, "channel": channel, "code": code, "reason": reason}
    return Change(events=[("not_told", data)])


def rate(state: State, rating: int, comment: str | None, satisfied: bool | None) -> Change:
    """The citizen's satisfaction: unsatisfied reopens, satisfied closes."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValueError("rating must be a whole number from 1 to 5")
    _require(state, ("replied", "closed"), "rate")
    if state.status == "closed" and state.rating is not None:
        raise InvalidTransition(f"ticket {state.number} has already been rated")
    happy = rating >= 3 and satisfied is not False
    note = mask_text((comment or "").strip()[:1000]) or None  # no plaintext numbers at rest
    change = Change(
        values={"rating": rating, "rating_comment": note},
        events=[("rated", {"rating": rating, "comment": note, "satisfied": happy})],
    )
    if not happy:
        change.values["status"] = "reopened"
        change.events.append(("reopened", {"reason": "citizen not satisfied"}))
    elif state.status == "replied":
        change.values["status"] = "closed"
        change.events.append(("closed", {"reason": "citizen satisfied"}))
    return change


FOLLOWUP_METHODS = ("call", "message")
#: satisfied / not_satisfied: the citizen's rating taken on the follow-up
#: (it is the ticket's rating); unreachable / messaged: no answer yet (the
#: ticket closes by itself later, bot/ops/followup.py); reopened: the matter
#: is not settled, the ticket goes back to work.
FOLLOWUP_OUTCOMES = ("satisfied", "not_satisfied", "unreachable", "messaged", "reopened")


def follow_up(
    state: State, method: str, outcome: str, rating: int | None, note: str | None
) -> Change:
    """An agent's follow-up (回访) of an answered, unrated ticket."""
    if method not in FOLLOWUP_METHODS:
        raise ValueError(f"method must be one of {', '.join(FOLLOWUP_METHODS)}")
    if outcome not in FOLLOWUP_OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(FOLLOWUP_OUTCOMES)}")
    _require(state, ("replied",), "record a follow-up")
    text = mask_text((note or "").strip()[:1000]) or None  # no plaintext numbers at rest
    data: dict[str, Any] = {"method": method, "outcome": outcome}
    if text:
        data["note"] = text
    if outcome in ("satisfied", "not_satisfied"):
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ValueError("rating must be a whole number from 1 to 5")
        if outcome == "satisfied" and rating < 3:
            raise ValueError("a satisfied citizen's rating is 3 to 5")
        data["rating"] = rating
        rated = rate(state, rating, note, outcome == "satisfied")
        kind, rated_data = rated.events[0]
        events = [("followup", data), (kind, {**rated_data, "via": "followup"}), *rated.events[1:]]
        return Change(values=rated.values, events=events)
    if rating is not None:
        raise ValueError("a rating belongs only to a satisfied or not satisfied outcome")
    if outcome == "reopened":
        reason = text or "回访时市民反映问题未解决"
        return Change(
            values={"status": "reopened"},
            events=[("followup", data), ("reopened", {"reason": reason})],
        )
    return Change(events=[("followup", data)])


def reopen(state: State, reason: str) -> Change:
    _require(state, ("replied", "closed"), "reopen")
    data = {"reason": _text(reason, "reason", 500)}
    return Change(values={"status": "reopened"}, events=[("reopened", data)])


def close(state: State, reason: str | None) -> Change:
    """Close a replied ticket; closing an unanswered one needs a reason."""
    _require(state, ("new", "assigned", "replied", "reopened"), "close")
    if state.status != "replied":
        reason = _text(reason, "reason for closing an unanswered ticket", 500)
    data = {"reason": reason} if reason else {}
    return Change(values={"status": "closed"}, events=[("closed", data)])


def merge(state: State, into: str) -> Change:
    """Close a duplicate, pointing at the ticket that carries on."""
    _require(state, ("new", "assigned", "replied", "reopened"), "merge")
    if into == state.number:
        raise ValueError("a ticket cannot be merged into itself")
    return Change(values={"status": "closed"}, events=[("merged", {"into": into})])


def note(state: State, text: str) -> Change:
    """An internal note; allowed in every status, never shown to the citizen."""
    # masked like all text at rest: a full number belongs on the encrypted field
    return Change(events=[("note", {"text": mask_text(_text(text, "note"))})])


def set_priority(state: State, priority: str, reason: str | None) -> Change:
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}")
    _require(state, ("new", "assigned", "replied", "reopened"), "change the priority")
    if priority == state.priority:
        raise InvalidTransition(f"ticket {state.number} already has priority {priority}")
    data = {"from": state.priority, "to": priority} | ({"reason": reason} if reason else {})
    return Change(values={"priority": priority}, events=[("priority_changed", data)])


def escalate(state: State, now: dt.datetime, reason: str | None) -> Change:
    """Supervision of an overdue or sensitive open ticket (督办)."""
    _require(state, ("new", "assigned", "reopened"), "escalate")
    data = {"reason": reason} if reason else {}
    return Change(values={"escalated_at": now}, events=[("escalated", data)])


def _route_values(route: Route, deadline: dt.datetime, status: str) -> dict[str, Any]:
    return {
        "status": status,
        "department": route.department,
        "department_name": route.department_name,
        "deadline": deadline,
    }


def route_data(route: Route, deadline: dt.datetime) -> dict[str, Any]:
    return {
        "department": route.department,
        "department_name": route.department_name,
        "deadline": deadline.isoformat(),
    }
