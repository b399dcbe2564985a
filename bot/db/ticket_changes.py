"""The state-changing operations of ``TicketRepo``, one thin method per action.

Each method builds a plan from ``workflow`` and hands it to ``_change``, which
applies it atomically. ``expected_version`` (optional) lets the console refuse
to act on a ticket that changed since the agent loaded it.
"""

from __future__ import annotations

import abc
import datetime as dt
from typing import TYPE_CHECKING

from bot.db import workflow
from bot.db.models import Ticket
from bot.db.workflow import Change, State

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.db.database import Database


class TicketChanges(abc.ABC):
    """Mixin: ticket actions on top of the repository's atomic ``_change``."""

    _db: Database

    @abc.abstractmethod
    async def _change(
        self,
        number: str,
        plan: Callable[[State, dt.datetime], Change],
        *,
        actor: str,
        expected_version: int | None = None,
    ) -> Ticket: ...

    async def assign(
        self,
        number: str,
        department: str,
        *,
        actor: str,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> Ticket:
        """Assign to ``department`` (a key in routing.yml) with its deadline."""
        route = self._db.routing.department_route(department)

        def plan(state: State, now: dt.datetime) -> Change:
            return workflow.assign(state, route, self._deadline(now, route.deadline_days), reason)

        return await self._change(number, plan, actor=actor, expected_version=expected_version)

    async def transfer(
        self,
        number: str,
        department: str,
        *,
        actor: str,
        reason: str,
        expected_version: int | None = None,
    ) -> Ticket:
        """Pass an assigned ticket to another department; its deadline restarts."""
        route = self._db.routing.department_route(department)

        def plan(state: State, now: dt.datetime) -> Change:
            return workflow.transfer(state, route, self._deadline(now, route.deadline_days), reason)

        return await self._change(number, plan, actor=actor, expected_version=expected_version)

    async def accept(self, number: str, *, actor: str) -> Ticket:
        """The department signs for the ticket."""
        return await self._change(number, lambda s, _now: workflow.accept(s), actor=actor)

    async def return_to_triage(self, number: str, reason: str, *, actor: str) -> Ticket:
        """The department returns a ticket that is not theirs; status back to new."""
        route = self._db.routing.department_route(workflow.TRIAGE)

        def plan(state: State, now: dt.datetime) -> Change:
            deadline = self._deadline(now, route.deadline_days)
            return workflow.return_to_triage(state, route, deadline, reason)

        return await self._change(number, plan, actor=actor)

    async def reply(
        self, number: str, text: str, *, actor: str, expected_version: int | None = None
    ) -> Ticket:
        """The department's answer; status replied."""
        return await self._change(
            number,
            lambda s, _now: workflow.reply(s, text),
            actor=actor,
            expected_version=expected_version,
        )

    async def mark_notified(
        self, number: str, *, actor: str = "system", channel: str | None = None, via: str = ""
    ) -> Ticket:
        """Record that the citizen was told the result (``via``: message, template)."""
        return await self._change(
            number, lambda s, _now: workflow.notified(s, channel, via or None), actor=actor
        )

    async def record_notice(
        self, number: str, plan: Callable[[State, dt.datetime], Change]
    ) -> Ticket:
        """Put a notice's outcome (``workflow.told``/``not_told``) on the timeline."""
        return await self._change(number, plan, actor="system")

    async def extend(
        self,
        number: str,
        days: int,
        reason: str,
        *,
        actor: str,
        expected_version: int | None = None,
    ) -> Ticket:
        """Move an assigned ticket's deadline ``days`` working days later (延期)."""

        def plan(state: State, now: dt.datetime) -> Change:
            return workflow.extend(state, self._deadline(state.deadline or now, days), days, reason)

        return await self._change(number, plan, actor=actor, expected_version=expected_version)

    async def rate(
        self,
        number: str,
        rating: int,
        comment: str | None = None,
        *,
        satisfied: bool | None = None,
        actor: str = "citizen",
    ) -> Ticket:
        """Satisfaction 1..5: <= 2 or ``satisfied=False`` reopens, otherwise it closes."""
        return await self._change(
            number, lambda s, _now: workflow.rate(s, rating, comment, satisfied), actor=actor
        )

    async def reopen(self, number: str, reason: str, *, actor: str) -> Ticket:
        return await self._change(number, lambda s, _now: workflow.reopen(s, reason), actor=actor)

    async def close(
        self,
        number: str,
        *,
        actor: str,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> Ticket:
        """Close (a reason is required unless the ticket was replied)."""
        return await self._change(
            number,
            lambda s, _now: workflow.close(s, reason),
            actor=actor,
            expected_version=expected_version,
        )

    async def merge(self, number: str, into: str, *, actor: str) -> Ticket:
        """Close ``number`` as a duplicate of ticket ``into`` (which must exist)."""
        if await self._db.tickets.get(into) is None:
            raise ValueError(f"ticket {into} does not exist")
        return await self._change(number, lambda s, _now: workflow.merge(s, into), actor=actor)

    async def add_note(self, number: str, text: str, *, actor: str) -> Ticket:
        """An internal note on the timeline (never shown to the citizen)."""
        return await self._change(number, lambda s, _now: workflow.note(s, text), actor=actor)

    async def set_priority(
        self, number: str, priority: str, *, actor: str, reason: str | None = None
    ) -> Ticket:
        return await self._change(
            number, lambda s, _now: workflow.set_priority(s, priority, reason), actor=actor
        )

    async def escalate(
        self, number: str, *, actor: str = "system", reason: str | None = None
    ) -> Ticket:
        """Supervise an open ticket (usually an overdue one); sets ``escalated_at``."""
        return await self._change(
            number, lambda s, now: workflow.escalate(s, now, reason), actor=actor
        )

    def _deadline(self, now: dt.datetime, days: int) -> dt.datetime:
        return self._db.routing.deadline(now, days)
