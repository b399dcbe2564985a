"""Consultation: answer frequent questions from data/knowledge/faq.yml, and
handle what the assistant did not understand."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions._runtime import (
    FAQ_MIN_CONFIDENCE,
    MENU_BUTTONS,
    consecutive_misunderstandings,
    faq_prediction,
    keep_unanswered,
    latest_text,
    record_event,
    warn_if_danger,
)
from bot.knowledge import format_answer, load_faq

logger = logging.getLogger(__name__)

AFTER_ANSWER_BUTTONS = [
    {"title": "问题解决了", "payload": "/thank"},
    {"title": "继续咨询", "payload": "/consult"},
    {"title": "没解决，转人工", "payload": "/request_human"},
]


def not_understood(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """First miss: ask to rephrase. Second miss in a row: offer a person."""
    if consecutive_misunderstandings(tracker) >= 2:
        dispatcher.utter_message(
            text="抱歉，我还是没能理解您的问题。为您转接人工客服好吗？",
            buttons=[
                {"title": "转人工客服", "payload": "/request_human"},
                {"title": "换个说法再问", "payload": "/consult"},
            ],
        )
        return
    dispatcher.utter_message(
        text="抱歉，我没太理解您的意思。您可以换个说法，说得具体一些，或者选择下面的服务：",
        buttons=MENU_BUTTONS,
    )


class ActionAnswerFaq(Action):
    """Answer an FAQ the ResponseSelector recognised with enough confidence."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        warn_if_danger(dispatcher, tracker)
        faq_id, confidence = faq_prediction(tracker.latest_message)
        entry = load_faq().get(faq_id or "")
        if entry is None or confidence < FAQ_MIN_CONFIDENCE:
            # The text is masked where events are written (bot/db/events.py).
            await record_event("fallback", tracker, reason="faq_unsure", text=latest_text(tracker))
            await keep_unanswered("low_confidence", tracker, action=self.name(), faq_key=faq_id)
            not_understood(dispatcher, tracker)
            return []
        dispatcher.utter_message(text=format_answer(entry), buttons=AFTER_ANSWER_BUTTONS)
        # Not shown: the front door puts it on the answer above (bot/hub_routing.py),
        # so the widget can offer 有帮助/没帮助 for this FAQ.
        dispatcher.utter_message(json_message={"answer": {"faq": entry.id}})
        await record_event("faq_answered", tracker, faq=entry.id)
        return []


class ActionHandleFallback(Action):
    """The NLU fallback: never guess; ask again, then offer a person."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        await record_event("fallback", tracker, reason="nlu_fallback", text=latest_text(tracker))
        await keep_unanswered("fallback", tracker, action=self.name())
        if warn_if_danger(dispatcher, tracker):
            dispatcher.utter_message(
                text="需要人工帮助请点下方按钮。",
                buttons=[{"title": "转人工客服", "payload": "/request_human"}],
            )
            return []
        not_understood(dispatcher, tracker)
        return []
