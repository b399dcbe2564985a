"""Satisfaction ratings are understood and stored."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.survey import ActionRecordRating, rating_from
from bot.db import Database
from tests.actions.helpers import parse_data, tracker


@pytest.mark.parametrize(
    ("slot", "text", "expected"),
    [
        ("5", "/rate", 5),
        (None, "打3分", 3),
        (None, "非常满意", 5),
        (None, "不满意", 2),
        (None, "非常不满意", 1),
        (None, "还行吧", 3),
        (None, "嗯", None),
        (None, "9分", None),
    ],
)
def test_ratings_from_buttons_numbers_and_words(slot, text, expected) -> None:
    assert rating_from(slot, text) == expected


async def test_rating_is_stored(db: Database) -> None:
    dispatcher = CollectingDispatcher()
    await ActionRecordRating().run(
        dispatcher, tracker(parse_data("/rate", "rate"), {"rating": "2"}), {}
    )
    counts = await db.events.counts("rating")
    assert counts.get("rating") == 1
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/request_human"


async def test_unclear_rating_asks_again(db: Database) -> None:
    dispatcher = CollectingDispatcher()
    await ActionRecordRating().run(dispatcher, tracker(parse_data("嗯", "rate")), {})
    assert dispatcher.messages[0]["response"] == "utter_ask_rating"
    assert (await db.events.counts("rating")).get("rating") is None
