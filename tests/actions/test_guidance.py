"""Service guidance answers from the catalog, asking only what is missing."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.guidance import (
    ActionServiceGuide,
    ActionStartServiceGuide,
    ValidateServiceGuideForm,
    mode_from_text,
    render_guide,
)
from bot.knowledge import load_services, service_by_id
from tests.actions.helpers import parse_data, slot_events, tracker

DOMAIN: dict = {}


def test_way_is_read_from_colloquial_text() -> None:
    assert mode_from_text("手机上能办吗") == "online"
    assert mode_from_text("去窗口办要带啥") == "offline"
    assert mode_from_text("怎么办") is None


async def test_request_naming_service_and_way_fills_both() -> None:
    t = tracker(parse_data("居住证网上怎么办", "request_service_guide"))
    slots = slot_events(await ActionStartServiceGuide().run(CollectingDispatcher(), t, DOMAIN))
    assert slots == {"service": "residence_permit", "service_mode": "online"}


async def test_vague_request_leaves_both_for_the_form() -> None:
    t = tracker(parse_data("我想办个业务", "request_service_guide"))
    slots = slot_events(await ActionStartServiceGuide().run(CollectingDispatcher(), t, DOMAIN))
    assert slots == {"service": None, "service_mode": None}


async def test_follow_up_way_uses_the_last_service() -> None:
    t = tracker(parse_data("那线下呢 去窗口办", "inform_service_mode"), {"last_service": "id_card"})
    slots = slot_events(await ActionStartServiceGuide().run(CollectingDispatcher(), t, DOMAIN))
    assert slots == {"service": "id_card", "service_mode": "offline"}


async def test_unknown_service_is_asked_again() -> None:
    dispatcher = CollectingDispatcher()
    result = await ValidateServiceGuideForm().validate_service(
        "办火星签证", dispatcher, tracker(parse_data("办火星签证", "inform")), DOMAIN
    )
    assert result == {"service": None}
    assert "没有找到" in dispatcher.messages[0]["text"]


async def test_offline_only_service_skips_the_way_question() -> None:
    offline_only = [s for s in load_services() if s.online is None]
    assert offline_only, "the sample catalog has an offline-only service"
    result = await ValidateServiceGuideForm().validate_service(
        offline_only[0].name, CollectingDispatcher(), tracker(parse_data("x", "inform")), DOMAIN
    )
    assert result == {"service": offline_only[0].id, "service_mode": "offline"}


async def test_answer_comes_from_the_catalog_with_source_and_buttons() -> None:
    service = service_by_id("residence_permit")
    assert service is not None and service.offline is not None
    dispatcher = CollectingDispatcher()
    t = tracker(
        parse_data("线下", "inform"), {"service": "residence_permit", "service_mode": "offline"}
    )
    events = slot_events(await ActionServiceGuide().run(dispatcher, t, DOMAIN))
    text = dispatcher.messages[0]["text"]
    assert service.offline.office in text and service.offline.materials[0] in text
    assert service.source in text and "示例内容" in text
    assert dispatcher.messages[0]["buttons"][0]["title"] == "看网上办理"
    assert events == {"last_service": "residence_permit", "service": None, "service_mode": None}


def test_every_catalog_service_renders_both_ways_it_has() -> None:
    for service in load_services():
        for mode, way in (("online", service.online), ("offline", service.offline)):
            if way is not None:
                assert service.name in render_guide(service, mode)
