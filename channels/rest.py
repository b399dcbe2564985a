"""Rasa-compatible REST channel: ``POST /webhooks/rest/webhook``, for trusted
integrations only (the city's app back end, tests, load tools).

On only when ``REST_TOKENS`` is set (without it the path is 404). Every
request carries ``Authorization: Bearer <token>`` (checked by bot/bearer.py,
in constant time against every token); a missing or wrong token is 401
before the body is read, and nothing is recorded. Senders are
namespaced per token: the conversation is ``rest:<token name>:<sender>``
(a bare token's name is a short hash of it), so two integrations never reach
each other's conversations or waiting messages; replies still carry the
sender as the client sent it (``recipient_id``). ``sender`` is 1 to 128
characters of ``[A-Za-z0-9_.:@=-]``.

Request ``{"sender": str, "message": str, "metadata"?: dict, "message_id"?: str}``;
answer: Rasa's list of ``{"recipient_id", "text", "buttons", "image", "custom"}``,
through the whole front door (dedupe, handoff, transcript). The header
``X-Hotline-Status`` carries the hub's status (``ok``, ``busy``, ``to_agent``,
``duplicate``), so a busy reply can be told apart from a normal answer.

REST has no push channel: messages pushed to a REST sender (an agent's
reply, a ticket result) wait in a store list for up to a day and are
returned first on that sender's next request (they are in the transcript
in any case), encrypted like the hub's own values (bot/store/sealed.py).
Without ``message_id`` every request is a new message. A request with a
``message_id`` the sender already used is not processed again: it is answered
with the first request's replies (waiting for them if that request is still
in progress, for example on a front door that died) and
``X-Hotline-Status: duplicate``, so a client that resends after a dropped
connection still gets its answer.

Errors: malformed JSON, missing or wrong-typed fields, a sender outside the
pattern above or a message over 5000 characters get 400 ``{"error": ...}``; a body over
``MAX_BODY_BYTES`` gets 413. Neither touches the store, the transcript or
Rasa. A dead shared store gets 503 with ``Retry-After`` (nothing was
recorded, so the client may resend). Rasa down, too slow or erroring gets
200 with one polite busy reply and ``X-Hotline-Status: busy``.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import uuid
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from bot.bearer import bearer_match
from bot.config import Settings
from bot.inbound import DeliveryMode, InboundPort
from bot.messages import InboundMessage, OutboundMessage
from bot.store.base import StoreUnavailable
from channels.base import Channel

logger = logging.getLogger(__name__)

PATH = "/webhooks/rest/webhook"
MAX_TEXT = 5000
MAX_ID = 200
MAX_SENDER = 128
_SENDER = re.compile(rf"[A-Za-z0-9_.:@=-]{{1,{MAX_SENDER}}}")
OUTBOX_TTL = 24 * 3600.0
STATUS_HEADER = "X-Hotline-Status"
_dumps = functools.partial(json.dumps, ensure_ascii=False)


class BadRequest(ValueError):
    """The request body is not a valid REST message; the text is safe to return."""


def parse_message(raw: bytes) -> tuple[str, str, dict[str, Any], str | None]:
    """Validate a request body: (sender, message, metadata, message_id)."""
    try:
        body = json.loads(raw)
    except ValueError:
        raise BadRequest("malformed JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        raise BadRequest("'sender' must be a non-empty string")
    if len(sender) > MAX_SENDER:
        raise BadRequest(f"'sender' is longer than {MAX_SENDER} characters")
    if not _SENDER.fullmatch(sender):
        raise BadRequest("'sender' may contain only letters, digits and _ . : @ = -")
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        raise BadRequest("'message' must be a non-empty string")
    if len(message) > MAX_TEXT:
        raise BadRequest(f"'message' is longer than {MAX_TEXT} characters")
    metadata = body.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise BadRequest("'metadata' must be an object")
    message_id = body.get("message_id")
    if message_id is not None and (
        not isinstance(message_id, str) or not message_id or len(message_id) > MAX_ID
    ):
        raise BadRequest(f"'message_id' must be a string of 1 to {MAX_ID} characters")
    return sender, message, metadata, message_id


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class RestChannel(Channel):
    """Rasa's REST input channel, in front of the hub."""

    name = "rest"

    def __init__(self, inbound: InboundPort, settings: Settings) -> None:
        self.inbound = inbound
        #: The channel's keys in the shared store (``rest:...``).
        self.store = inbound.store(self.name)
        self.settings = settings

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(PATH, self.webhook)

    async def webhook(self, request: web.Request) -> web.Response:
        """One message in, the replies out (waits for Rasa)."""
        header = request.headers.get("Authorization")
        client = bearer_match(header, self.settings.rest_tokens, lambda entry: entry.token)
        if client is None:
            logger.warning("rest: request without a valid token refused")
            return web.json_response(
                {"error": "a valid 'Authorization: Bearer <token>' header is required"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="hotline-rest"'},
            )
        limit = self.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return _error(413, f"body larger than {limit} bytes")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _error(413, f"body larger than {limit} bytes")
        if len(raw) > limit:
            return _error(413, f"body larger than {limit} bytes")
        try:
            sender, text, metadata, message_id = parse_message(raw)
        except BadRequest as exc:
            return _error(400, str(exc))
        user_id = f"{client.namespace}:{sender}"
        inbound = InboundMessage(
            channel=self.name,
            channel_user_id=user_id,
            message_id=message_id or uuid.uuid4().hex,
            text=text,
            payload=text if text.startswith("/") else None,
            metadata=metadata,
        )
        try:
            result = await self.inbound.handle(inbound, DeliveryMode.ANSWER_IN_PLACE)
        except StoreUnavailable as exc:
            logger.warning("rest: store unavailable: %s", exc)
            return web.json_response(
                {"error": "service temporarily unavailable"},
                status=503,
                headers={"Retry-After": "5"},
            )
        replies = await self._take_outbox(user_id) + list(result.replies)
        body = [reply.to_rasa_dict(sender) for reply in replies]
        return web.json_response(body, headers={STATUS_HEADER: result.status}, dumps=_dumps)

    async def send(self, channel_user_id: str, messages: Sequence[OutboundMessage]) -> None:
        """Keep pushed messages for the sender's next request."""
        seal = self.store.seal
        values = [seal(json.dumps(m.to_dict(), ensure_ascii=False)) for m in messages]
        if values:
            await self.store.rpush(_outbox_key(channel_user_id), *values, ttl=OUTBOX_TTL)

    async def _take_outbox(self, user_id: str) -> list[OutboundMessage]:
        taken: list[OutboundMessage] = []
        try:
            while (raw := await self.store.lpop(_outbox_key(user_id))) is not None:
                text = self.store.unseal(raw)
                if text is None:
                    logger.error("rest: an outbox message the data keys cannot decrypt dropped")
                    continue
                taken.append(OutboundMessage.from_dict(json.loads(text)))
        except StoreUnavailable as exc:
            logger.warning("rest: outbox not read: %s", exc)
        return taken


def _outbox_key(user_id: str) -> str:
    """``user_id`` is the namespaced ``<token name>:<sender>``; the store key
    is ``rest:outbox:<user_id>``."""
    return f"outbox:{user_id}"
