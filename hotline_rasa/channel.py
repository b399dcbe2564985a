"""Rasa's REST input channel, for the front door only.

``--auth-token`` protects Rasa's HTTP API (trackers, events, models) but not
its input channels: Rasa's own ``rest`` channel lets any local process talk
as any sender. :class:`TokenRestInput` is that channel (same name, same
``POST /webhooks/rest/webhook``, same request and answer) with one check in
front: every request on it must carry ``Authorization: Bearer <token>``; a
missing or wrong one is answered 401 (JSON) before Rasa reads the message,
and logged with the path and address (never the token). Compared in
constant time. credentials.yml registers it by module path::

    hotline_rasa.channel.TokenRestInput:
      token: ${RASA_AUTH_TOKEN}

``python -m hotline_rasa`` sets ``RASA_AUTH_TOKEN`` (the environment's or
the generated ``var/rasa_auth.token``) before Rasa reads the file; a missing
or short token stops Rasa at start.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

MIN_TOKEN_LENGTH = 16


def token_matches(header: str | None, token: str) -> bool:
    """``Authorization: Bearer <token>``, compared in constant time."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8", "replace"), token.encode())


#: The longest front-door message id kept on a user event (ids are client-made on REST).
MAX_MESSAGE_ID = 128


class TokenRestInput(RestInput):
    """Rasa's REST channel that answers only the holder of the token."""

    def __init__(self, token: str) -> None:
        if not isinstance(token, str) or len(token) < MIN_TOKEN_LENGTH:
            raise RasaException(
                f"{type(self).__name__} needs a token of at least {MIN_TOKEN_LENGTH} characters "
                "(credentials.yml: token: ${RASA_AUTH_TOKEN}; run Rasa with python -m hotline_rasa)"
            )
        self._token = token

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(str((credentials or {}).get("token") or ""))

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        """What of the turn's metadata reaches the tracker: the front door's
        emergency switch (``{"period_id", "drill"}``; the actions mark the
        events of an emergency drill with it, actions/_runtime.py
        ``drill_tags``) and the front door's message id as
        ``hotline_message_id`` (a replica that takes over a message another
        one may have sent asks the tracker whether Rasa ran it,
        bot/rasa_client.py ``find_turn``). The rest (the citizen's address,
        channel details) stays out of Rasa's stored events, as before (Rasa's
        own channel keeps none of it)."""
        try:
            body = request.json
        except Exception:  # noqa: BLE001 - Rasa answers a bad body itself
            return None
        metadata = body.get("metadata") if isinstance(body, dict) else None
        if not isinstance(metadata, dict):
            return None
        kept: dict[str, Any] = {}
        emergency = metadata.get("emergency")
        if isinstance(emergency, dict):
            drill = emergency.get("drill") is True
            kept["emergency"] = {"period_id": emergency.get("period_id"), "drill": drill}
        message_id = metadata.get("message_id")
        if isinstance(message_id, str) and 0 < len(message_id) <= MAX_MESSAGE_ID:
            kept["hotline_message_id"] = message_id
        return kept or None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        token = self._token

        @blueprint.middleware("request")
        async def require_token(request: Request) -> HTTPResponse | None:
            if token_matches(request.headers.get("Authorization"), token):
                return None
            logger.warning(
                "refused %s %s from %s: missing or wrong token",
                request.method,
                request.path,
                request.ip,
            )
            return response.json(
                {"error": "a valid 'Authorization: Bearer <token>' header is required"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="hotline-rasa"'},
            )

        return blueprint
