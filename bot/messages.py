"""Channel-neutral message models: one inbound message, one outbound reply.

Every channel adapter turns its traffic into an :class:`InboundMessage` and
renders :class:`OutboundMessage` objects back into its own format. The hub
never sees WeChat XML or Telegram JSON.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    """A quick reply: ``title`` is shown, ``payload`` is sent back (e.g. ``/faq``)."""

    title: str
    payload: str


@dataclass(frozen=True)
class Attachment:
    """A non-text part of an inbound message (image, voice, location, file)."""

    kind: str  # "image" | "voice" | "location" | "file"
    url: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "url": self.url, "data": dict(self.data)}


@dataclass(frozen=True)
class InboundMessage:
    """One normalised message from a citizen on any channel.

    ``conversation_id`` is stable per citizen and channel
    (``"<channel>:<channel_user_id>"``) and is what Rasa sees as ``sender``.
    ``message_id`` is unique per channel; duplicates are dropped by
    ``(channel, message_id)``.
    """

    channel: str
    channel_user_id: str
    message_id: str
    text: str | None = None
    payload: str | None = None
    attachments: tuple[Attachment, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    received_at: float = field(default_factory=time.time)
    #: The citizen's network address where the channel knows it (the widget),
    #: as the trusted-proxy middleware resolved it; ``None`` for WeChat and
    #: Telegram (their servers call us) and for REST (a trusted integration's
    #: back end speaks for all its citizens from one address). For rate limits.
    client_address: str | None = None

    @property
    def conversation_id(self) -> str:
        return conversation_id_for(self.channel, self.channel_user_id)

    @property
    def rasa_text(self) -> str:
        """What Rasa receives: a button payload wins over display text."""
        return self.payload or self.text or ""

    def to_dict(self) -> dict[str, Any]:
        # Built by hand: dataclasses.asdict deep-copies recursively and was a
        # twentieth of the front door's CPU per message (docs/adr/0009-messages-to-dict-by-hand.md).
        return {
            "channel": self.channel,
            "channel_user_id": self.channel_user_id,
            "message_id": self.message_id,
            "text": self.text,
            "payload": self.payload,
            "attachments": [a.to_dict() for a in self.attachments],
            "metadata": dict(self.metadata),
            "received_at": self.received_at,
            "client_address": self.client_address,
            "conversation_id": self.conversation_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InboundMessage:
        data = dict(data)
        data.pop("conversation_id", None)
        data["attachments"] = tuple(Attachment(**a) for a in data.get("attachments", ()))
        return cls(**data)


@dataclass(frozen=True)
class OutboundMessage:
    """One reply to a citizen: text, buttons, an image or link, or custom JSON."""

    text: str | None = None
    buttons: tuple[Button, ...] = ()
    image: str | None = None
    custom: dict[str, Any] | None = None
    sender: str = "bot"  # "bot" | "agent:<name>" | "system"
    created_at: float = field(default_factory=time.time)

    def to_rasa_dict(self, recipient_id: str) -> dict[str, Any]:
        """Rasa's REST channel reply shape."""
        out: dict[str, Any] = {"recipient_id": recipient_id}
        if self.text is not None:
            out["text"] = self.text
        if self.buttons:
            out["buttons"] = [{"title": b.title, "payload": b.payload} for b in self.buttons]
        if self.image:
            out["image"] = self.image
        if self.custom is not None:
            out["custom"] = self.custom
        return out

    @classmethod
    def from_rasa_dict(cls, data: dict[str, Any], sender: str = "bot") -> OutboundMessage:
        """Build from one item of Rasa's REST reply list."""
        buttons = tuple(
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in data.get("buttons") or ()
        )
        return cls(
            text=data.get("text"),
            buttons=buttons,
            image=data.get("image"),
            custom=data.get("custom"),
            sender=sender,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "buttons": [{"title": b.title, "payload": b.payload} for b in self.buttons],
            "image": self.image,
            "custom": self.custom,
            "sender": self.sender,
            "created_at": self.created_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutboundMessage:
        data = dict(data)
        data["buttons"] = tuple(Button(**b) for b in data.get("buttons", ()))
        return cls(**data)


@dataclass(frozen=True)
class TicketNotice:
    """What a ticket notice says, in fields, for channels with a structured way
    to reach a citizen outside a conversation (WeChat's template messages,
    channels/wechat/_notice.py). The same notice always goes with its text
    messages; a channel without such a way sends only those.

    ``kind``: ``"progress"`` or ``"result"``; ``about``: the timeline event it
    tells of (``accepted``, ``assigned``, ``transferred``, ``extended``,
    ``escalated``, ``replied``); ``status``: a short phrase (已签收, 已转办...);
    ``detail``: one short sentence; ``at``: local time text; ``keyword``: what
    the citizen replies to see the whole result and rate it; ``due``: the
    expected answer date ("" when none).
    """

    kind: str
    number: str
    about: str
    status: str
    detail: str
    at: str
    keyword: str = ""
    due: str = ""


#: ``metadata`` flag of the message a channel hands the hub when the citizen
#: ended the conversation (the widget's 结束会话): the front door takes them
#: out of the handoff queue or closes the agent's chat, and never routes it to
#: Rasa. Only a channel sets it, never a citizen's frame.
CITIZEN_LEFT = "citizen_left"

#: The polite reply when the front door cannot answer (Rasa down or too slow, the
#: store failing mid-turn): the hub's busy result, and what a channel says when
#: the hub itself failed.
BUSY_TEXT = "系统繁忙，请稍后再试。如需人工帮助，请拨打12345热线。"
#: Rasa could not run an action for the citizen's message (no action server
#: answered) and the turn was undone (bot/rasa_client.py, ``NO_REPLY``):
#: nothing they gave is lost, and sending the same message again works.
RETRY_TEXT = (
    "抱歉，系统繁忙，您刚才的消息没有处理完成，已填写的信息都还在。"
    "请稍后再发送一次（例如再回复“确认”），或回复“转人工”联系人工客服。"
)


def conversation_id_for(channel: str, channel_user_id: str) -> str:
    """The one place that builds a conversation id."""
    return f"{channel}:{channel_user_id}"
