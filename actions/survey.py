"""Satisfaction survey: store the citizen's 1-5 rating of the service."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions._runtime import latest_text, record_event

_WORDS = (
    (re.compile(r"非常不满意|很差|太差|垃圾"), 1),
    (re.compile(r"不满意|不太满意|差评"), 2),
    (re.compile(r"一般|还行|凑合"), 3),
    (re.compile(r"非常满意|很满意|五星|好评|太好了"), 5),
    (re.compile(r"满意|不错|挺好"), 4),
)
_DIGIT = re.compile(r"(?<!\d)([1-5])\s*(分|星)?(?!\d)")


def rating_from(slot_value: Any, text: str) -> int | None:
    """A 1-5 rating from the button's entity, a number, or words."""
    for candidate in (str(slot_value or ""), text):
        match = _DIGIT.search(candidate)
        if match:
            return int(match.group(1))
    for pattern, value in _WORDS:
        if pattern.search(text):
            return value
    return None


class ActionRecordRating(Action):
    def name(self) -> str:
        return "action_record_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        rating = rating_from(tracker.get_slot("rating"), latest_text(tracker))
        if rating is None:
            dispatcher.utter_message(response="utter_ask_rating")
            return [SlotSet("rating", None)]
        await record_event("rating", tracker, rating=rating)
        if rating <= 2:
            text = (
                "感谢您的评价，很抱歉没能让您满意。我们会认真改进；如需进一步帮助，可以转人工客服。"
            )
            buttons = [{"title": "转人工客服", "payload": "/request_human"}]
        else:
            text = "感谢您的评价，祝您生活愉快！"
            buttons = []
        dispatcher.utter_message(text=text, buttons=buttons)
        return [SlotSet("rating", None)]
