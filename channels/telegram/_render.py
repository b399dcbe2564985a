"""Renders hub replies as Telegram sends: text parts, photos, inline keyboards.

Telegram limits a text to 4096 characters, a photo caption to 1024 and a
button's ``callback_data`` to 64 bytes. Longer payloads are kept in the
shared store under a short key, and the key travels in ``callback_data``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit

from bot.inbound import ChannelStore
from bot.messages import Button, OutboundMessage
from channels.base import image_as_text, split_text
from channels.telegram._parse import BUTTONS_ONLY_TEXT

TEXT_LIMIT = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096
CAPTION_LIMIT = int(MessageLimit.CAPTION_LENGTH)  # 1024
CALLBACK_DATA_LIMIT = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)  # 64 bytes
KEY_MARK = "~"  # payloads are intents ("/faq") or plain text, never "~..."
PAYLOAD_TTL = 30 * 24 * 3600  # a button stays usable for 30 days


@dataclass(frozen=True)
class Outgoing:
    """One Bot API send: a text (``sendMessage``) or a photo with caption."""

    text: str | None = None
    photo: str | None = None
    buttons: tuple[Button, ...] = ()


def plan_sends(messages: Sequence[OutboundMessage]) -> list[Outgoing]:
    """The Bot API sends for ``messages``, in order; buttons on the last part."""
    sends: list[Outgoing] = []
    for message in messages:
        sends.extend(_plan_one(message))
    return sends


def _plan_one(message: OutboundMessage) -> list[Outgoing]:
    text = message.text or ""
    if message.image and _is_web_url(message.image):
        if len(text) <= CAPTION_LIMIT:
            return [Outgoing(text=text or None, photo=message.image, buttons=message.buttons)]
        return [Outgoing(photo=message.image), *_text_parts(text, message.buttons)]
    if message.image:
        text = image_as_text(message)
    return _text_parts(text, message.buttons)


def _text_parts(text: str, buttons: tuple[Button, ...]) -> list[Outgoing]:
    if not text.strip():
        if not buttons:
            return []  # e.g. a custom-only message: nothing to show
        text = BUTTONS_ONLY_TEXT
    parts = split_text(text, TEXT_LIMIT)
    sends = [Outgoing(text=part) for part in parts[:-1]]
    sends.append(Outgoing(text=parts[-1], buttons=buttons))
    return sends


def _is_web_url(value: str) -> bool:
    return value.startswith(("https://", "http://"))


class CallbackCodec:
    """Fits button payloads into ``callback_data`` and maps them back."""

    def __init__(self, store: ChannelStore, ttl: int = PAYLOAD_TTL) -> None:
        self._store = store
        self._ttl = ttl

    async def encode(self, payload: str) -> str:
        """``payload`` itself when it fits, else a short key to the stored payload."""
        if len(payload.encode("utf-8")) <= CALLBACK_DATA_LIMIT and not payload.startswith(KEY_MARK):
            return payload
        digest = hashlib.sha256(payload.encode("utf-8")).digest()[:15]
        key = KEY_MARK + base64.urlsafe_b64encode(digest).decode("ascii")
        await self._store.set(_store_key(key), payload, ttl=self._ttl)
        return key

    async def decode(self, data: str) -> str | None:
        """The payload behind ``data``; None when a stored payload has expired."""
        if not data.startswith(KEY_MARK):
            return data
        return await self._store.get(_store_key(data))

    async def keyboard(self, buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
        """One button per row: Chinese titles are long on a phone screen."""
        if not buttons:
            return None
        rows = [
            [InlineKeyboardButton(b.title or b.payload, callback_data=await self.encode(b.payload))]
            for b in buttons
        ]
        return InlineKeyboardMarkup(rows)


def _store_key(key: str) -> str:
    return f"callback:{key}"  # telegram:callback:<key> in the store
