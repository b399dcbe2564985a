"""The action server's side of the emergency drill flag: the front door puts
``{"emergency": {"period_id", "drill"}}`` in the turn's metadata
(bot/hub_routing.py); every event the actions record in that turn carries
``{"drill": true}``, the others nothing."""

from __future__ import annotations

import sqlalchemy as sa
from rasa_sdk.executor import CollectingDispatcher

from actions._runtime import drill_tags
from actions.faq import ActionAnswerFaq
from bot.db import Database
from bot.db.schema import events
from bot.knowledge import load_faq
from tests.actions.helpers import faq_parse, tracker

ENTRY = "ut_power_outage"


def _turn(metadata: dict[str, object] | None) -> object:
    parse = faq_parse("停电了怎么办", ENTRY, 0.95)
    if metadata is not None:
        parse["metadata"] = metadata
    return tracker(parse)


async def test_events_of_a_drill_turn_carry_the_flag(db: Database) -> None:
    assert ENTRY in load_faq()
    drill = _turn({"emergency": {"period_id": 3, "drill": True}})
    real = _turn({"emergency": {"period_id": 4, "drill": False}})
    plain = _turn(None)
    odd = _turn({"emergency": {"drill": "yes"}})  # only a true boolean counts
    assert [drill_tags(t) for t in (drill, real, plain, odd)] == [{"drill": True}, {}, {}, {}]  # type: ignore[arg-type]
    for t in (drill, real, plain):
        await ActionAnswerFaq().run(CollectingDispatcher(), t, {})  # type: ignore[arg-type]
    async with db.read() as conn:
        rows = (await conn.execute(sa.select(events.c.data).order_by(events.c.id))).scalars().all()
    assert rows == [{"faq": ENTRY, "drill": True}, {"faq": ENTRY}, {"faq": ENTRY}]
