"""Button payloads of the ticket loop, handled by the front door without Rasa.

``/rate_ticket{"ticket":"20261127-000001","rating":"2"}`` is a citizen's 1-5
rating of a ticket result; ``/ticket_comment_skip{"ticket":"..."}`` declines
to add a comment after an unsatisfied rating. Both fit Telegram's 64-byte
``callback_data``, and WeChat maps a numbered reply ("2") back to them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from bot.messages import Button

RATE_INTENT = "/rate_ticket"
SKIP_INTENT = "/ticket_comment_skip"
TICKET_NUMBER = re.compile(r"^\d{8}-\d{6}$")

#: Button titles in rating order: the n-th button is rating n.
RATING_TITLES = ("非常不满意", "不满意", "基本满意", "满意", "非常满意")


@dataclass(frozen=True)
class RatePayload:
    number: str
    rating: int


def _entities(payload: str, intent: str) -> dict[str, object] | None:
    rest = payload[len(intent) :].strip()
    if not payload.startswith(intent) or not rest.startswith("{") or len(rest) > 200:
        return None
    try:
        data = json.loads(rest)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _number(data: dict[str, object]) -> str | None:
    number = data.get("ticket")
    return number if isinstance(number, str) and TICKET_NUMBER.match(number) else None


def _is(payload: str, intent: str) -> bool:
    """The payload names ``intent`` (anything may follow but more of a name)."""
    rest = payload[len(intent) : len(intent) + 1]
    return payload.startswith(intent) and not (rest.isalnum() or rest == "_")


def is_rate(payload: str) -> bool:
    return _is(payload, RATE_INTENT)


def is_skip(payload: str) -> bool:
    return _is(payload, SKIP_INTENT)


def parse_rate(payload: str) -> RatePayload | None:
    """The ticket and rating of a rating payload, or ``None`` when malformed."""
    data = _entities(payload, RATE_INTENT)
    if data is None:
        return None
    number, raw = _number(data), data.get("rating")
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if number is None or isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 5:
        return None
    return RatePayload(number, raw)


def parse_skip(payload: str) -> str | None:
    data = _entities(payload, SKIP_INTENT)
    return None if data is None else _number(data)


def _compact(intent: str, entities: dict[str, str]) -> str:
    return intent + json.dumps(entities, ensure_ascii=False, separators=(",", ":"))


def rating_buttons(number: str) -> tuple[Button, ...]:
    return tuple(
        Button(title, _compact(RATE_INTENT, {"ticket": number, "rating": str(i)}))
        for i, title in enumerate(RATING_TITLES, start=1)
    )


def skip_button(number: str) -> Button:
    return Button("不补充了", _compact(SKIP_INTENT, {"ticket": number}))
