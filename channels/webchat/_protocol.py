"""The web chat widget's JSON frames: parsing client frames, building server frames.

Kept apart from the socket handling so the rules (limits, error texts, the
shape of a transcript entry on the wire) can be read and tested on their own.
The protocol itself is documented in :mod:`channels.webchat`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_FRAME_BYTES = 8 * 1024
MAX_TEXT_CHARS = 2000
MAX_TITLE_CHARS = 200
MAX_PAYLOAD_CHARS = 500
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

ERROR_TEXTS = {
    "bad_json": "消息格式有误，请刷新页面后重试。",
    "bad_frame": "消息格式有误，请刷新页面后重试。",
    "too_large": f"消息过长，请控制在{MAX_TEXT_CHARS}字以内。",
    "too_long": f"消息过长，请控制在{MAX_TEXT_CHARS}字以内。",
    "empty": "消息内容不能为空。",
    "rate_limited": "发送太频繁，请稍后再试",
    "server_error": "系统繁忙，您的消息将稍后自动重发。",
    "too_many_connections": "您打开的对话窗口过多，请关闭其他窗口后稍后再试。",
    "session_ended": "本次会话已结束。如需继续咨询，请重新发起对话。",
}

#: Close codes of a socket the server ends (the reason is the error code).
CLOSE_SESSION_ENDED = 4001  # ended by the citizen or idle too long: start a new session
CLOSE_TOO_MANY = 4029  # too many sockets for the session or the client address
CLOSE_RATE_LIMITED = 1008  # policy violation: frames far above the rate limit


class FrameError(ValueError):
    """A client frame that is refused; ``code`` is sent back in an error frame."""

    def __init__(self, code: str, client_id: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.client_id = client_id


@dataclass(frozen=True)
class ClientMessage:
    """A citizen's message frame: typed text, or a clicked button."""

    client_id: str
    text: str | None
    payload: str | None
    title: str | None


@dataclass(frozen=True)
class Resume:
    after_seq: int | None


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class Feedback:
    """The citizen's 有帮助/没帮助 on the answer at transcript ``seq``."""

    seq: int
    vote: str  # "up" | "down"


@dataclass(frozen=True)
class Typing:
    """The citizen started (``on``) or stopped typing: for an agent holding the chat."""

    on: bool


ClientFrame = ClientMessage | Resume | Ping | Feedback | Typing


def parse_frame(raw: str) -> ClientFrame:
    """Parse and validate one text frame from the widget; raise :class:`FrameError`."""
    if len(raw.encode("utf-8", "replace")) > MAX_FRAME_BYTES:
        raise FrameError("too_large")
    try:
        data = json.loads(raw)
    except ValueError:
        raise FrameError("bad_json") from None
    if not isinstance(data, dict):
        raise FrameError("bad_json")
    kind = data.get("type")
    if kind == "message":
        return _parse_message(data)
    if kind == "resume":
        return Resume(_parse_seq(data.get("after_seq")))
    if kind == "ping":
        return Ping()
    if kind == "typing":
        on = data.get("on")
        if not isinstance(on, bool):
            raise FrameError("bad_frame")
        return Typing(on)
    if kind == "feedback":
        seq, vote = _parse_seq(data.get("seq")), data.get("vote")
        if seq is None or vote not in ("up", "down"):
            raise FrameError("bad_frame")
        return Feedback(seq, str(vote))
    raise FrameError("bad_frame")


def _parse_message(data: dict[str, Any]) -> ClientMessage:
    client_id = data.get("id")
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise FrameError("bad_frame")
    text = _optional_str(data.get("text"), MAX_TEXT_CHARS, client_id)
    payload = _optional_str(data.get("payload"), MAX_PAYLOAD_CHARS, client_id)
    title = _optional_str(data.get("title"), MAX_TITLE_CHARS, client_id)
    if payload is not None and not payload.strip():
        payload = None
    if payload is None and (text is None or not text.strip()):
        raise FrameError("empty", client_id)
    return ClientMessage(client_id, (text or "").strip() or None, payload, title)


def _optional_str(value: Any, limit: int, client_id: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FrameError("bad_frame", client_id)
    if len(value) > limit:
        raise FrameError("too_long", client_id)
    return value


def _parse_seq(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FrameError("bad_frame")
    return value


def error_frame(code: str, client_id: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": ERROR_TEXTS[code]}
    if client_id is not None:
        frame["id"] = client_id
    return frame


def entry_frame(entry: Any, id_prefix: str) -> dict[str, Any]:
    """Render one transcript entry (``TranscriptEntry``) as a ``message`` frame.

    ``id_prefix`` is stripped from inbound message ids, so the widget sees the
    id it chose and can match the echo with its pending bubble.
    """
    data = entry.data if isinstance(getattr(entry, "data", None), dict) else {}
    frame: dict[str, Any] = {
        "type": "message",
        "seq": entry.seq,
        "direction": entry.direction,
        "sender": entry.sender or ("citizen" if entry.direction == "in" else "bot"),
        "text": entry.text if entry.text is not None else data.get("title"),
        "buttons": _buttons(data.get("buttons")),
        "image": data.get("image") if isinstance(data.get("image"), str) else None,
        "at": iso_time(getattr(entry, "created_at", None)),
    }
    message_id = getattr(entry, "message_id", None)
    if entry.direction == "in" and isinstance(message_id, str):
        frame["id"] = message_id.removeprefix(id_prefix)
    faq = _answered_faq(data)
    if entry.direction == "out" and faq is not None:
        frame["faq"] = faq  # an FAQ answer: the widget offers 有帮助/没帮助
    return frame


def _answered_faq(data: dict[str, Any]) -> str | None:
    custom = data.get("custom")
    answer = custom.get("answer") if isinstance(custom, dict) else None
    faq = answer.get("faq") if isinstance(answer, dict) else None
    return faq if isinstance(faq, str) and faq else None


def _buttons(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list | tuple):
        return []
    buttons = []
    for item in raw:
        if isinstance(item, dict) and item.get("title") and item.get("payload"):
            buttons.append({"title": str(item["title"]), "payload": str(item["payload"])})
    return buttons


def iso_time(value: Any) -> str:
    """ISO 8601 in UTC for a datetime or an epoch timestamp (now when missing)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, int | float):
        moment = datetime.fromtimestamp(value, tz=UTC)
    else:
        moment = datetime.now(tz=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")
