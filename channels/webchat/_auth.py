"""Anonymous web chat sessions: random session ids and HMAC-signed tokens.

A token is ``v1.<session id>.<issued at>.<signature>``; the signature is
HMAC-SHA256 over the first three parts with the shared ``WEBCHAT_SECRET``.
A valid signature only says which session a token names; whether that
session is still open (not ended, not idle too long) is kept in the shared
store (channels/webchat/_sessions.py).
Every replica must use the same secret, so when the variable is unset the
secret is generated once into ``var/webchat.secret`` and reused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from bot import config
from bot.config import Secret

log = logging.getLogger(__name__)

SCHEME = "v1"
DEFAULT_MAX_AGE = 90 * 24 * 3600  # an anonymous session lives at most 90 days
MIN_SECRET_LENGTH = 32
_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Session:
    """A verified web chat session."""

    session_id: str
    issued_at: int


class TokenSigner:
    """Issues and verifies session tokens with one shared secret."""

    def __init__(self, secret: str, max_age: int = DEFAULT_MAX_AGE) -> None:
        self._key = secret.encode()
        self._max_age = max_age

    def new_session(self, now: float | None = None) -> tuple[Session, str]:
        """Create a random 128-bit session id and its token."""
        session = Session(secrets.token_hex(16), int(now if now is not None else time.time()))
        return session, self.sign(session)

    def sign(self, session: Session) -> str:
        body = f"{SCHEME}.{session.session_id}.{session.issued_at}"
        return f"{body}.{self._signature(body)}"

    def verify(self, token: str | None, now: float | None = None) -> Session | None:
        """Return the session of a valid, unexpired token, else ``None``."""
        if not token or len(token) > 200:
            return None
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != SCHEME:
            return None
        body = ".".join(parts[:3])
        if not hmac.compare_digest(parts[3], self._signature(body)):
            return None
        session_id, issued = parts[1], parts[2]
        if not _SESSION_ID.match(session_id) or not issued.isdigit():
            return None
        current = now if now is not None else time.time()
        if not 0 <= current - int(issued) <= self._max_age:
            return None
        return Session(session_id, int(issued))

    def _signature(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def load_secret(value: str | None = None, path: Path | None = None) -> Secret:
    """``value`` (Settings ``webchat_secret``, ``WEBCHAT_SECRET``), else the file
    ``var/webchat.secret`` (or ``path``), generated once like the other internal
    secrets (:func:`bot.config.secret_file`: mode 0600 from the start, O_EXCL).
    """
    if value:
        if len(value) < MIN_SECRET_LENGTH:
            log.warning("WEBCHAT_SECRET is shorter than %d characters", MIN_SECRET_LENGTH)
        return Secret(value)
    return config.secret_file(path or config.VAR_DIR / "webchat.secret", "WEBCHAT_SECRET")
