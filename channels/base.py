"""The one contract every channel implements, and the shared rendering fallbacks.

A channel adapter does three things:

1. ``add_routes(app)``: registers its webhook / socket routes on the front
   door's aiohttp application. Each handler authenticates the request before
   it parses the body, turns it into an :class:`~bot.messages.InboundMessage`
   and hands it to the front door through the :class:`~bot.inbound.InboundPort`
   it was built with (``inbound.handle(message, DeliveryMode...)``); a channel
   never gets the hub itself.
2. ``send(channel_user_id, messages)``: pushes replies that arrive outside a
   request/response cycle (a slow Rasa answer for WeChat, an agent's message,
   a ticket result) to the citizen on this channel.
3. Renders :class:`~bot.messages.OutboundMessage` into the channel's format.
   Channels without native buttons or images use the fallbacks below, so the
   fallbacks live in one place.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.messages import OutboundMessage, TicketNotice

if TYPE_CHECKING:
    from aiohttp import web


@dataclass(frozen=True)
class Delivery:
    """Whether pushed messages reached the channel's API; ``reason`` a stable code
    when not ("outside_window", "quota", "blocked", "rate_limited", "error"...)."""

    ok: bool
    reason: str = ""
    #: How it went when it did: "message" (the channel's ordinary push) or
    #: "template" (WeChat's template message, outside the 48-hour window).
    via: str = ""


class DeliveryFailed(Exception):
    """Raised by ``send`` of a channel whose API refused a message."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"delivery failed: {reason}")
        self.reason = reason


class Channel(abc.ABC):
    """Base class of every channel adapter (``channels/<name>/``), built as
    ``XChannel(inbound: InboundPort, settings: Settings)``."""

    #: Short, stable channel name; the prefix of conversation ids ("wechat").
    name: str = ""

    @abc.abstractmethod
    def add_routes(self, app: web.Application) -> None:
        """Register this channel's HTTP / WebSocket routes on ``app``."""

    @abc.abstractmethod
    async def send(self, channel_user_id: str, messages: Sequence[OutboundMessage]) -> None:
        """Deliver ``messages`` to the citizen out of band (push)."""

    async def deliver(self, channel_user_id: str, messages: Sequence[OutboundMessage]) -> Delivery:
        """Like :meth:`send`, with the outcome: whether the citizen's channel took
        the messages, and why not (for the agent's console). Never raises for a
        refused message; :meth:`send` raising :class:`DeliveryFailed` is a refusal."""
        try:
            await self.send(channel_user_id, messages)
        except DeliveryFailed as exc:
            return Delivery(False, exc.reason)
        return Delivery(True)

    async def typing(self, channel_user_id: str, on: bool) -> None:  # noqa: B027 - optional hook
        """Show (``on``) or stop showing the citizen that an agent is typing, where
        the channel can; best effort, rate limited by the channel. Default: nothing."""

    async def deliver_notice(
        self, channel_user_id: str, messages: Sequence[OutboundMessage], notice: TicketNotice
    ) -> Delivery:
        """Deliver a ticket notice (``messages`` say it in text, ``notice`` in
        fields) within this channel's rules. Default: :meth:`deliver` of the
        messages; WeChat falls back to a template message when the 48-hour
        customer-service window is closed. Never raises for a refusal."""
        delivery = await self.deliver(channel_user_id, messages)
        return Delivery(True, via="message") if delivery.ok else delivery

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Start background work (polling, token refresh). Default: nothing."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Stop background work. Default: nothing."""


def buttons_as_numbered_text(message: OutboundMessage, start: int = 1) -> str:
    """Render a message's buttons as numbered choices the citizen can reply with.

    Used by channels that cannot show buttons (WeChat text). The citizen may
    answer with the number; :func:`payload_for_choice` maps it back. ``start``
    is the first number: several messages of one reply are numbered on from
    one another, so every number shown answers exactly one button.
    """
    text = message.text or ""
    if not message.buttons:
        return text
    lines = [text] if text else []
    lines.append("请回复数字选择:")
    lines.extend(f"{i}. {b.title}" for i, b in enumerate(message.buttons, start=start))
    return "\n".join(lines)


def payload_for_choice(reply: str, choices: Sequence[tuple[str, str]]) -> str | None:
    """Map a numeric reply ("2", "２") to the payload of the button it names."""
    choice = reply.strip().translate(_FULLWIDTH_DIGITS)
    if not choice.isdigit():
        return None
    index = int(choice) - 1
    if 0 <= index < len(choices):
        return choices[index][1]
    return None


def image_as_text(message: OutboundMessage) -> str:
    """Render an image as a link line, for channels that only send text."""
    text = message.text or ""
    if not message.image:
        return text
    return f"{text}\n{message.image}".strip()


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` characters, at line breaks
    or sentence ends where possible, never inside a character."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind("\n", 0, limit), rest.rfind("。", 0, limit) + 1)
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip("\n"))
        rest = rest[cut:].lstrip("\n")
    if rest:
        parts.append(rest)
    return parts


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
