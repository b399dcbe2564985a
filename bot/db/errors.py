"""Errors raised by the data layer; each says what went wrong in plain words."""

from __future__ import annotations

from bot.db.crypto import DataKeyError


class TicketNotFound(LookupError):
    """No ticket has this number."""

    def __init__(self, number: str) -> None:
        super().__init__(f"ticket {number} not found")
        self.number = number


class InvalidTransition(ValueError):
    """The requested change is not allowed in the ticket's current status."""


class ConflictError(RuntimeError):
    """The ticket changed since the caller read it (stale ``expected_version``),
    or it kept changing under concurrent updates; re-read and try again."""


__all__ = ["ConflictError", "DataKeyError", "InvalidTransition", "TicketNotFound"]
