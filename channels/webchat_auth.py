"""Anonymous web chat sessions: random session ids and HMAC-signed tokens.

A token is ``v1.<session id>.<issued at>.<signature>``; the signature is
HMAC-SHA256 over the first three parts with the shared ``WEBCHAT_SECRET``.
A valid signature only says which session a token names; whether that
session is still open (not ended, not idle too long) is kept in the shared
store (channels/webchat_sessions.py).
Every replica must use the same secret, so when the variable is unset the
secret is generated once into ``var/webchat.secret`` and reused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from bot.config import VAR_DIR, Secret

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
    """``value`` (Settings ``webchat_secret``, ``WEBCHAT_SECRET``), else the shared file.

    The file (``var/webchat.secret`` by default) is created once with mode
    0600 from the start (``os.open`` with ``O_EXCL``), never widened by a chmod.
    """
    if value:
        if len(value) < MIN_SECRET_LENGTH:
            log.warning("WEBCHAT_SECRET is shorter than %d characters", MIN_SECRET_LENGTH)
        return Secret(value)
    return Secret(_file_secret(path or VAR_DIR / "webchat.secret"))


def _file_secret(path: Path) -> str:
    """Read the generated secret, creating it exactly once (O_EXCL) if missing."""
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return _read_secret(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    log.warning(
        "WEBCHAT_SECRET is not set: generated %s; set the same WEBCHAT_SECRET on every replica",
        path,
    )
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    for _ in range(50):  # the creator may still be writing it
        value = path.read_text().strip()
        if value:
            return value
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty; delete it or set WEBCHAT_SECRET")
