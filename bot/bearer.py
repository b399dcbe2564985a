"""The one check of ``Authorization: Bearer <token>`` for the front door's callers.

Used by the REST channel (``REST_TOKENS``, channels/rest.py), the case
system's tickets API (``CASE_API_TOKENS``, bot/tickets/api.py) and the action
server (``ACTION_SERVER_TOKEN``, bot/action_server.py); each keeps its own
answer to a refusal. (Rasa's process has its own copy in hotline_rasa/: it
must not import ``bot``.)

The scheme is case-insensitive and separated from the token by one space;
the token's surrounding blanks are ignored. Every configured token is
compared, in constant time (``hmac.compare_digest`` on UTF-8 bytes, an
undecodable character replaced), so the answer's timing tells neither which
token came closest nor how much of a guess was right.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable


def bearer_match[E](
    header: str | None, entries: Iterable[E], token: Callable[[E], str]
) -> E | None:
    """The entry whose token (``token(entry)``) the header carries, or ``None``.

    With two entries of one token (a configuration mistake) the last one wins.
    """
    scheme, _, given = (header or "").partition(" ")
    given = given.strip()
    if scheme.lower() != "bearer" or not given:
        return None
    given_bytes = given.encode("utf-8", "replace")
    found: E | None = None
    for entry in entries:
        if hmac.compare_digest(given_bytes, token(entry).encode("utf-8", "replace")):
            found = entry
    return found
