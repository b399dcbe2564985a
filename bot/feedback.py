"""Thumbs-up/down on the assistant's FAQ answers (the web widget's 有帮助/没帮助).

The citizen names an answer by its transcript ``seq``; which FAQ it was, and
the question it answered, come from the transcript, never from the client:
the answer's entry carries ``custom.answer.faq`` (actions/faq.py, kept there
by bot/hub_routing.py) and the question is the citizen's last message before
it. One vote per answer (a claim in the shared store, kept as long as the
transcript). Every vote is the event ``answer.feedback`` with data ``{faq_key,
vote}`` and the event's ``conversation_id``; a thumbs-down also keeps the question for the knowledge
editors (``unanswered``, reason ``thumbs_down``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.store.base import SharedStore

History = Callable[[str, int], Awaitable[list[Any]]]

log = logging.getLogger(__name__)

VOTES = ("up", "down")
RECORDED, ALREADY, NOT_AN_ANSWER = "recorded", "already", "not_an_answer"
LOOK_BACK = 200  # transcript entries searched for the answer and its question


def faq_of(entry: Any) -> str | None:
    """The FAQ key an outbound transcript entry answered with, if any."""
    data = getattr(entry, "data", None)
    custom = data.get("custom") if isinstance(data, dict) else None
    answer = custom.get("answer") if isinstance(custom, dict) else None
    faq = answer.get("faq") if isinstance(answer, dict) else None
    return faq if isinstance(faq, str) and faq else None


async def record_answer_feedback(
    db: Any,  # bot.db.Database: its events and unanswered repositories
    store: SharedStore,
    history: History,
    conversation_id: str,
    seq: int,
    vote: str,
    *,
    keep_days: float,
) -> str:
    """Record one vote; ``recorded``, ``already`` (this answer has a vote) or
    ``not_an_answer`` (no FAQ answer with that seq in this conversation).

    Raises ``ValueError`` for a vote other than ``up``/``down``.
    """
    if vote not in VOTES:
        raise ValueError("vote must be 'up' or 'down'")
    entries = await history(conversation_id, LOOK_BACK)
    at = next((i for i, e in enumerate(entries) if e.seq == seq), None)
    if at is None or entries[at].direction != "out":
        return NOT_AN_ANSWER
    faq_key = faq_of(entries[at])
    if faq_key is None:
        return NOT_AN_ANSWER
    if not await store.claim(f"feedback:{conversation_id}:{seq}", keep_days * 86400):
        return ALREADY
    # The conversation id goes in the event's own column: event data is masked
    # (bot/db/events.py) and a widget session id may hold a card-like digit run.
    data = {"faq_key": faq_key, "vote": vote}
    await db.events.record("answer.feedback", conversation_id=conversation_id, data=data)
    if vote == "down":
        question = next((e for e in reversed(entries[:at]) if e.direction == "in" and e.text), None)
        if question is not None:
            await db.unanswered.keep(
                reason="thumbs_down",
                text=str(question.text),
                conversation_id=conversation_id,
                intent="faq",
                faq_key=faq_key,
                action="action_answer_faq",
            )
        else:
            log.info("thumbs-down without a question in the transcript: nothing kept")
    return RECORDED
