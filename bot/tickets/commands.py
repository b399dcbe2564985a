"""Ticket actions as validated commands: a JSON body in, a workflow plan out.

Every action of the console and the REST API is checked here before anything
is written: unknown or missing fields, wrong types and over-long text are a
``BadInput`` naming the field. The plan itself is a ``bot.db.workflow``
function, so the state rules stay in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.db import workflow
from bot.db.models import PRIORITIES
from bot.db.routing import Routing
from bot.tickets.errors import BadInput
from bot.tickets.payloads import TICKET_NUMBER

MAX_TEXT = 5000
MAX_REASON = 500

Plan = Callable[[workflow.State, dt.datetime], workflow.Change]

#: action -> {field: (required, max length)}; all strings; "version" is allowed everywhere.
FIELDS: dict[str, dict[str, tuple[bool, int]]] = {
    "assign": {"department": (True, 60), "reason": (False, MAX_REASON)},
    "reply": {"text": (True, MAX_TEXT)},
    "close": {"reason": (False, MAX_REASON)},
    "note": {"text": (True, MAX_TEXT)},
    "priority": {"priority": (True, 10), "reason": (False, MAX_REASON)},
    "merge": {"into": (True, 20)},
    "accept": {},
    "return": {"reason": (True, MAX_REASON)},
    "extend": {"days": (True, 2), "reason": (True, MAX_REASON)},
}
#: Fields given as whole numbers (also accepted as a string of digits: the console's forms).
NUMBER_FIELDS = frozenset({"days"})


@dataclass(frozen=True)
class Command:
    action: str
    args: dict[str, str]
    version: int | None = None


def parse_command(action: str, body: Any) -> Command:
    """Validate ``body`` for ``action``; raises :class:`BadInput`."""
    spec = FIELDS.get(action)
    if spec is None:
        raise BadInput(f"unknown action {action!r}")
    if not isinstance(body, Mapping):
        raise BadInput("the body must be a JSON object")
    unknown = sorted(set(body) - set(spec) - {"version"})
    if unknown:
        raise BadInput(f"unknown field '{unknown[0][:40]}'")
    body = {k: _number_text(k, v) if k in NUMBER_FIELDS else v for k, v in body.items()}
    args = {name: _field(body, name, *rule) for name, rule in spec.items()}
    return Command(action, {k: v for k, v in args.items() if v is not None}, _version(body))


def _field(body: Mapping[str, Any], name: str, needed: bool, limit: int) -> str | None:
    value = body.get(name)
    if value is None:
        if needed:
            raise BadInput(f"'{name}' is required")
        return None
    if not isinstance(value, str):
        raise BadInput(f"'{name}' must be a string")
    value = value.strip()
    if needed and not value:
        raise BadInput(f"'{name}' must not be empty")
    if len(value) > limit:
        raise BadInput(f"'{name}' is longer than {limit} characters")
    return value or None


def _number_text(name: str, value: Any) -> Any:
    """A whole-number field as the digits the other checks read."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and not (value.strip().isascii() and value.strip().isdigit()):
        raise BadInput(f"'{name}' must be a whole number")
    return value


def _version(body: Mapping[str, Any]) -> int | None:
    version = body.get("version")
    if version is None:
        return None
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise BadInput("'version' must be a positive whole number")
    return version


def build_plan(command: Command, routing: Routing) -> Plan:
    """The workflow step for ``command`` (checks values that need the routing table)."""
    a = command.args
    if command.action == "assign":
        dept = a["department"]
        if dept not in routing.departments or dept == workflow.TRIAGE:
            raise BadInput(f"'department' must be a department key of routing.yml, not {dept!r}")
        route = routing.department_route(dept)
        return lambda s, now: workflow.assign(
            s, route, routing.deadline(now, route.deadline_days), a.get("reason")
        )
    if command.action == "return":
        triage = routing.department_route(workflow.TRIAGE)
        return lambda s, now: workflow.return_to_triage(
            s, triage, routing.deadline(now, triage.deadline_days), a["reason"]
        )
    if command.action == "extend":
        days = int(a["days"])
        if not 1 <= days <= workflow.MAX_EXTENSION_DAYS:
            raise BadInput(f"'days' must be from 1 to {workflow.MAX_EXTENSION_DAYS}")
        return lambda s, now: workflow.extend(
            s, routing.deadline(s.deadline or now, days), days, a["reason"]
        )
    if command.action == "priority" and a["priority"] not in PRIORITIES:
        raise BadInput(f"'priority' must be one of {', '.join(PRIORITIES)}")
    if command.action == "merge" and not TICKET_NUMBER.match(a["into"]):
        raise BadInput("'into' must be a ticket number like 20261127-000001")
    simple: dict[str, Plan] = {
        "reply": lambda s, _now: workflow.reply(s, a["text"]),
        "close": lambda s, _now: workflow.close(s, a.get("reason")),
        "note": lambda s, _now: workflow.note(s, a["text"]),
        "priority": lambda s, _now: workflow.set_priority(s, a["priority"], a.get("reason")),
        "merge": lambda s, _now: workflow.merge(s, a["into"]),
        "accept": lambda s, _now: workflow.accept(s),
    }
    return simple[command.action]
