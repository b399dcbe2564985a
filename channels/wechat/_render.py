"""Rendering outbound replies as WeChat text, within WeChat's byte limit.

WeChat has no quick-reply buttons for Official Accounts, so buttons become
numbered choices (``channels.base.buttons_as_numbered_text``) and images
become links. Text messages (passive replies and customer-service messages)
are limited to 2048 bytes of UTF-8, so long answers are split at line breaks
or sentence ends, never inside a character.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages import OutboundMessage
from channels.base import buttons_as_numbered_text

#: WeChat's limit for one text message (passive reply or customer-service), in bytes.
TEXT_LIMIT_BYTES = 2048
#: Separator between several replies joined into one passive reply.
JOINER = "\n\n"

# Preferred break points, best first. ASCII marks only count with a following
# space so that a link ("a.gov.cn/x?y=1") is never cut.
_SENTENCE_ENDS = ("\n", "。", "！", "？", "；", ". ", "! ", "? ", "; ")
_SOFT_BREAKS = (" ", "，", "、", "：")


def render_message(message: OutboundMessage, start: int = 1) -> str:
    """One reply as WeChat text: text, numbered choices (from ``start``), then an image link."""
    text = buttons_as_numbered_text(message, start)
    if message.image:
        text = f"{text}\n{message.image}" if text else message.image
    return text.strip()


def render_messages(messages: Sequence[OutboundMessage]) -> list[str]:
    """The non-empty texts of ``messages``, in order, their choices numbered on
    across the messages (1. 2. in the first, 3. 4. 5. in the next...): a reply
    "3" names one button even when two messages of one reply have buttons
    (the outcome question at the start of a new contact, then the answer)."""
    texts, start = [], 1
    for message in messages:
        text = render_message(message, start)
        start += len(message.buttons)
        if text:
            texts.append(text)
    return texts


def reply_buttons(messages: Sequence[OutboundMessage]) -> list[tuple[str, str]]:
    """(title, payload) of every button of the reply, in the order they are
    numbered by :func:`render_messages`, or ``[]``: what a number answers."""
    return [(b.title, b.payload) for message in messages for b in message.buttons]


def utf8_len(text: str) -> int:
    """Length of ``text`` in UTF-8 bytes."""
    return len(text.encode("utf-8"))


def split_utf8(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` UTF-8 bytes.

    A part ends at the last line break or sentence end that fits (if that is
    not in the first half of the part), else at the last whole character.
    """
    parts: list[str] = []
    rest = text
    while utf8_len(rest) > limit:
        fit = max(1, _chars_fitting(rest, limit))
        cut = _natural_cut(rest[:fit])
        part = rest[:cut].rstrip()
        if part:
            parts.append(part)
        rest = rest[cut:].lstrip("\n")
    if rest.strip():
        parts.append(rest)
    return parts


def _chars_fitting(text: str, limit: int) -> int:
    """How many leading characters of ``text`` fit in ``limit`` bytes."""
    return len(text.encode("utf-8")[:limit].decode("utf-8", errors="ignore"))


def _natural_cut(chunk: str) -> int:
    """Index just after the last good break in ``chunk``, or ``len(chunk)``."""
    for marks in (_SENTENCE_ENDS, _SOFT_BREAKS):
        cut = max(chunk.rfind(mark) + len(mark) if mark in chunk else 0 for mark in marks)
        if cut >= len(chunk) // 2 and cut > 0:
            return cut
    return len(chunk)


def join_for_passive(texts: Sequence[str], limit: int = TEXT_LIMIT_BYTES) -> str | None:
    """All ``texts`` as one passive reply, or ``None`` if that exceeds ``limit``."""
    joined = JOINER.join(texts)
    return joined if utf8_len(joined) <= limit else None


def split_for_push(texts: Sequence[str], limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """``texts`` packed into as few messages of at most ``limit`` bytes as possible.

    Consecutive short texts share one customer-service message (WeChat allows
    only a few per citizen message, error 45047); long ones are split.
    """
    packed: list[str] = []
    for part in (p for text in texts for p in split_utf8(text, limit)):
        if packed and utf8_len(packed[-1] + JOINER + part) <= limit:
            packed[-1] += JOINER + part
        else:
            packed.append(part)
    return packed
