"""The ticket loop's API clients, parsed from ``settings.tickets.api_tokens``.

The settings themselves (``TICKET_SWEEP_SECONDS``, ``CASE_API_TOKENS``) are
read with every other one: :class:`bot.config.TicketSettings`.

``CASE_API_TOKENS``       bearer tokens of the city's case system, comma-separated.
                          Each entry is ``token``, ``name:token`` or
                          ``dept:<department key>:token`` (bound to one department:
                          it sees and answers only that department's tickets).
                          Unset: the REST API answers 401 to everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.config import CASE_API_TOKENS_ENV as TOKENS_ENV
from bot.config import Secret

MIN_TOKEN_LENGTH = 16


@dataclass(frozen=True)
class ApiClient:
    """One configured API token and who it stands for."""

    name: str
    token: Secret
    department: str | None = None

    @property
    def actor(self) -> str:
        """How the client appears on a ticket's timeline."""
        return f"api:{self.name}"


def parse_tokens(raw: str | None, departments: Iterable[str]) -> list[ApiClient]:
    """Parse ``CASE_API_TOKENS``; fails loudly on an entry that cannot be right."""
    known = set(departments)
    clients: list[ApiClient] = []
    for index, entry in enumerate((raw or "").split(","), start=1):
        entry = entry.strip()
        if not entry:
            continue
        parts = entry.split(":")
        if len(parts) == 3 and parts[0] == "dept":
            department, token = parts[1], parts[2]
            if department not in known:
                raise ValueError(f"{TOKENS_ENV} entry {index}: unknown department {department!r}")
            client = ApiClient(f"dept-{department}", Secret(token), department)
        elif len(parts) == 2:
            client = ApiClient(parts[0] or f"client{index}", Secret(parts[1]))
        elif len(parts) == 1:
            client = ApiClient(f"client{index}", Secret(parts[0]))
        else:
            raise ValueError(
                f"{TOKENS_ENV} entry {index}: expected token, name:token or dept:<department>:token"
            )
        if len(client.token) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"{TOKENS_ENV} entry {index}: token shorter than {MIN_TOKEN_LENGTH} characters"
            )
        clients.append(client)
    return clients
