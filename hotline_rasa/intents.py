"""Putting an intent in place of the one chosen so far (the FAQ rescue, the
service/FAQ arbiter and the hotline gate all do it the same way)."""

from __future__ import annotations

from collections.abc import Iterable

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


def put_first(
    message: Message, name: str, confidence: float, drop: Iterable[str] = ()
) -> None:
    """Make ``name`` (with ``confidence``, rounded to 4 places) the message's
    intent and the head of its ranking; the ranking keeps the other intents in
    their order, without ``name``'s old entry and any intent in ``drop``."""
    replacement = {"name": name, "confidence": round(float(confidence), 4)}
    dropped = {name, *drop}
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") not in dropped]
    message.set(INTENT, replacement, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [replacement, *ranking], add_to_output=True)
