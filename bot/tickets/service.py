"""The ticket service used by the console, the REST API and the sweep.

Every change runs as one atomic step of ``TicketRepo`` (row lock, version
check, timeline append): the department scope and the caller's
``version`` are checked inside that step, so a ticket transferred away a
moment ago cannot be answered by its former department, and a stale console
page cannot overwrite a newer state. After a reply the citizen is told on
their channel, and of every step that matters to them (accepted,
transferred, extended) likewise (``bot.tickets.notify``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.db import workflow
from bot.db.errors import ConflictError, InvalidTransition, TicketNotFound
from bot.db.models import Ticket
from bot.tickets.access import Principal
from bot.tickets.commands import Command, Plan, build_plan, parse_command
from bot.tickets.errors import BadInput, Conflict, Forbidden, NotFound

if TYPE_CHECKING:
    from bot.db import Database
    from bot.tickets.notify import Notifier

log = logging.getLogger(__name__)


class _OutOfScope(Exception):
    """Raised inside the transaction: the ticket left the principal's department."""


@dataclass
class Outcome:
    ticket: Ticket
    notified: bool | None = None  # set for replies: was the citizen told?


def not_found(number: str) -> NotFound:
    return NotFound(f"ticket {number} not found")


async def apply_plan(
    db: Database, number: str, plan: Plan, *, actor: str, expected_version: int | None
) -> Ticket:
    """One atomic change with an optional version check.

    ``TicketRepo`` offers ``expected_version`` only on some of its methods;
    its ``_change`` is the same step for every plan, so all actions go
    through it (a public ``TicketRepo.apply(plan, ...)`` would be nicer).
    """
    return await db.tickets._change(number, plan, actor=actor, expected_version=expected_version)


class TicketService:
    def __init__(self, db: Database, notifier: Notifier) -> None:
        self.db = db
        self.notifier = notifier

    async def get(self, principal: Principal, number: str) -> Ticket:
        """The ticket with its timeline, or :class:`NotFound` (also when out of scope)."""
        ticket = await self.db.tickets.get(number) if len(number) <= 20 else None
        if ticket is None or not principal.can_see(ticket):
            raise not_found(number)
        return ticket

    async def act(self, principal: Principal, number: str, action: str, body: Any) -> Outcome:
        """Validate and apply one action; raises a :class:`TicketError` subclass."""
        command = parse_command(action, body)
        if not principal.can(action):
            raise Forbidden(f"role {principal.role} may not {action} tickets")
        before = await self.get(principal, number)  # 404 before any other check
        plan = self._scoped(principal, build_plan(command, self.db.routing))
        if command.action == "merge":
            await self._check_merge_target(principal, number, command)
        ticket = await self._apply(principal, number, command, plan)
        outcome = Outcome(ticket)
        if action == "reply":
            outcome.notified = await self.notifier.notify_result(ticket)
        else:  # accepted, transferred, extended...: the citizen hears of the step
            await self.notifier.notify_steps(ticket, before.version)
        # with what the notices added to the timeline
        outcome.ticket = await self.db.tickets.get(number) or ticket
        return outcome

    async def _apply(
        self, principal: Principal, number: str, command: Command, plan: Plan
    ) -> Ticket:
        try:
            return await apply_plan(
                self.db, number, plan, actor=principal.actor, expected_version=command.version
            )
        except (_OutOfScope, TicketNotFound):
            raise not_found(number) from None
        except InvalidTransition as exc:
            raise Conflict(str(exc)) from None
        except ConflictError as exc:
            current = await self.db.tickets.get(number)
            version = current.version if current else None
            raise Conflict(str(exc), current_version=version) from None
        except ValueError as exc:
            raise BadInput(str(exc)) from None

    @staticmethod
    def _scoped(principal: Principal, plan: Plan) -> Plan:
        if not principal.scoped:
            return plan

        def guarded(state: workflow.State, now: Any) -> workflow.Change:
            if state.department != principal.department:
                raise _OutOfScope()
            return plan(state, now)

        return guarded

    async def _check_merge_target(self, principal: Principal, number: str, cmd: Command) -> None:
        into = cmd.args["into"]
        if into == number:
            raise BadInput("a ticket cannot be merged into itself")
        target = await self.db.tickets.get(into)
        if target is None or not principal.can_see(target):
            raise BadInput(f"ticket {into} does not exist")
