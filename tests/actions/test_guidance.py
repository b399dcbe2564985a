"""Service guidance answers from the catalog, asking only what is missing."""

from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.guidance import (
    ActionAskServiceMode,
    ActionServiceGuide,
    ActionStartServiceGuide,
    ValidateServiceGuideForm,
    any_way,
    mode_from_text,
    narrowed_choice,
    render_guide,
)
from bot.knowledge import Service, load_services, match_service_loosely, service_by_id
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


async def test_a_request_with_danger_gets_the_emergency_numbers_first() -> None:
    """"走廊全是烟 门都出不去 怎么办" read as a request of a service: 119 first."""
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data("走廊全是烟 门都出不去 怎么办", "request_service_guide"))
    await ActionStartServiceGuide().run(dispatcher, t, DOMAIN)
    assert "119" in dispatcher.messages[0]["text"]
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data("居住证网上怎么办", "request_service_guide"))
    await ActionStartServiceGuide().run(dispatcher, t, DOMAIN)
    assert not any("119" in str(m.get("text")) for m in dispatcher.messages)
    # the NLU's learned detector raised the alarm without a word of the list
    dispatcher = CollectingDispatcher()
    alarm = {"p": 0.8, "alarm": True, "words": []}
    t = tracker(parse_data("我爸脸色发紫 推不醒 怎么办", "request_service_guide", danger=alarm))
    await ActionStartServiceGuide().run(dispatcher, t, DOMAIN)
    assert "119" in dispatcher.messages[0]["text"]


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


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("新买的电鸡要挂牌", "ebike_registration"),
        ("小电驴办个牌", "ebike_registration"),
        ("新车挂牌", "vehicle_registration"),
    ],
)
async def test_everyday_words_for_a_service(text: str, service: str) -> None:
    result = await ValidateServiceGuideForm().validate_service(
        text, CollectingDispatcher(), tracker(parse_data(text, "inform")), DOMAIN
    )
    assert result["service"] == service


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("sfz", "id_card"),
        ("sfz补办", "id_card"),
        ("SFZ丢了", "id_card"),
        ("gjj提取", "provident_fund_withdrawal"),
        ("jzz", "residence_permit"),
        ("yyzz", "business_license"),
        ("不是sfz 是gjj提取", "provident_fund_withdrawal"),
    ],
)
async def test_pinyin_initials_name_a_service(text: str, service: str) -> None:
    """"sfz补办" is 身份证补办 to the NLU (hotline_gate.PINYIN_INITIALS) and here."""
    dispatcher = CollectingDispatcher()
    result = await ValidateServiceGuideForm().validate_service(
        text, dispatcher, tracker(parse_data(text, "inform")), DOMAIN
    )
    assert result["service"] == service


@pytest.mark.parametrize("text", ["sb", "hk", "gjjx", "HKBN"])
async def test_letters_that_are_no_initials_name_no_service(text: str) -> None:
    """sb and hk are not in the table; "gjjx" and "HKBN" hold initials inside a word."""
    dispatcher = CollectingDispatcher()
    result = await ValidateServiceGuideForm().validate_service(
        text, dispatcher, tracker(parse_data(text, "inform")), DOMAIN
    )
    assert result == {"service": None}
    assert "没有找到" in dispatcher.messages[0]["text"]


async def test_a_request_in_pinyin_initials_fills_the_service() -> None:
    t = tracker(parse_data("sfz丢了网上怎么补", "request_service_guide"))
    slots = slot_events(await ActionStartServiceGuide().run(CollectingDispatcher(), t, DOMAIN))
    assert slots["service"] == "id_card"


async def test_the_way_question_takes_a_service_in_pinyin_initials() -> None:
    t = tracker(parse_data("不是这个，是jzz", "deny"), slots={"service": "id_card"})
    result = await ValidateServiceGuideForm().validate_service_mode(
        "不是这个，是jzz", CollectingDispatcher(), t, DOMAIN
    )
    assert result == {"service": "residence_permit", "service_mode": None}


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("交医保 居民的那种", "resident_medical_insurance"),
        ("失业了想领补助", "unemployment_benefit"),
        ("失业了想登记", "unemployment_registration"),
        ("医保", None),  # four services equally: offered as a choice
        ("公积金", None),
    ],
)
def test_the_rest_of_the_answer_narrows_a_shared_part(text: str, service: str | None) -> None:
    found = narrowed_choice(text)
    assert (found.id if found else None) == service


async def test_either_way_will_do_takes_the_way_without_a_trip() -> None:
    assert any_way("随便 你看着办") and any_way("你定吧")
    assert not any_way("都行") and not any_way("随便问问")  # "都行" alone: asked again
    t = tracker(parse_data("随便 你看着办", "out_of_scope"), slots={"service": "residence_permit"})
    result = await ValidateServiceGuideForm().validate_service_mode(
        "随便 你看着办", CollectingDispatcher(), t, DOMAIN
    )
    assert result == {"service_mode": "online"}


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


def test_a_service_named_with_words_between_is_found() -> None:
    """Issue 18: "公积金怎么提取" named 住房公积金提取 in other words and got
    "办事指南里暂时没有找到这个事项"; a name or alias whose characters stand in
    order with a few words between them is now taken."""
    from bot.knowledge import match_service

    found = {
        "公积金怎么提取": "provident_fund_withdrawal",
        "驾照快到期了怎么办": "driver_license_renewal",
        "结婚要怎么登记": "marriage_registration",
        "个税要怎么汇算": "iit_annual_settlement",
        # written in one piece, the longest alias still wins over a gapped one
        "社保卡丢了怎么补办": "social_security_card",
    }
    for text, service_id in found.items():
        service = match_service(text)
        assert service is not None and service.id == service_id, text
    # short aliases never match spread out, and unrelated text matches nothing
    for text in ("今天天气怎么样", "公司结账要登记吗", "我想问一下", "驾校学车多少钱"):
        assert match_service(text) is None, text
    # more than MAX_GAP characters between the parts is not a match
    assert match_service("公积金这个东西到底应该怎么样才能提取") is None


def test_the_catalog_is_as_broad_as_the_hotline() -> None:
    """Issue 18: at least 60 services, each marked as sample content with its source."""
    services = load_services()
    assert len(services) >= 60
    assert len({s.id for s in services}) == len(services)
    for service in services:
        assert service.sample and service.source.startswith("示例内容"), service.id


def test_everyday_phrasings_of_the_wider_catalog_are_found() -> None:
    """Issue 18: common requests outside the first 18 services got "办事指南里暂时
    没有找到这个事项". Phrasings written the way citizens ask, none of them a
    catalog example."""
    from bot.knowledge import match_service

    found = {
        "我要办退休": "pension_claim",
        "社保怎么转到东莞来": "social_insurance_transfer",
        "去外地住院要先备案吗": "cross_region_medical_filing",
        "生孩子的生育津贴啥时候能领": "maternity_allowance",
        "老家公积金怎么转过来": "provident_fund_transfer",
        "孩子出生了怎么上户口": "newborn_hukou",
        "护照过期了去哪换": "passport",
        "驾驶证丢了咋办": "driver_license_replacement",
        "车子要年检了去哪": "vehicle_inspection",
        "电瓶车上牌在哪弄": "ebike_registration",
        "我们想离婚去哪办手续": "divorce_registration",
        "结婚证丢了怎么补": "marriage_certificate_reissue",
        "开个无房证明": "real_estate_record_query",
        "开奶茶店要办食品经营许可证吗": "food_business_license",
        "怎么领发票": "invoice_application",
        "小孩想转学怎么弄": "school_transfer",
        "宝宝出生证在哪领": "birth_medical_certificate",
        "疫苗本丢了": "vaccination_certificate",
        "老板欠薪想申请劳动仲裁": "labour_arbitration",
        "新房子燃气开户": "gas_service",
        # a longer alias written with words between wins over the short one it holds
        "我的居住证要签注了": "residence_permit_endorsement",
        "个体户怎么注销": "company_deregistration",
        # the first services are still found as before
        "居住证怎么办": "residence_permit",
        "我想开个体户": "business_license",
    }
    examples = {e for s in load_services() for e in s.examples}
    for text, service_id in found.items():
        assert text not in examples, text
        service = match_service(text)
        assert service is not None and service.id == service_id, (text, service)


def test_a_spread_out_alias_holding_the_one_written_in_one_piece_wins() -> None:
    """Text like "居住证要签注" holds 居住证 in one piece and 居住证签注 spread out: the longer
    reading names the service; without a longer alias the short one still counts."""
    from bot.knowledge import match_service

    def svc(sid: str, *aliases: str) -> Service:
        return Service(
            sid, aliases[0], aliases, "部门", "示例内容", dt.date(2026, 12, 5), True, None, None
        )

    catalog = [svc("permit", "居住证"), svc("endorse", "居住证签注")]
    assert match_service("居住证要签注了", catalog).id == "endorse"  # type: ignore[union-attr]
    assert match_service("居住证签注", catalog).id == "endorse"  # type: ignore[union-attr]
    assert match_service("居住证要续期了", catalog).id == "permit"  # type: ignore[union-attr]
    # a spread-out alias that does not hold the one written in one piece does not win
    catalog = [svc("permit", "居住证"), svc("other", "居民签注")]
    assert match_service("居住证居民要签注", catalog).id == "permit"  # type: ignore[union-attr]


async def test_the_way_question_names_the_service_and_offers_not_this() -> None:
    """Issue 18: "社保卡丢了怎么补办" was answered "您想在网上办理，还是到线下窗口办
    理？" without naming the service."""
    t = tracker(
        parse_data("社保卡丢了怎么补办", "request_service_guide"),
        {"service": "social_security_card"},
    )
    d = CollectingDispatcher()
    await ActionAskServiceMode().run(d, t, DOMAIN)
    (message,) = d.messages
    assert "社保卡申领补换" in message["text"] and "网上办理" in message["text"]
    assert [b["title"] for b in message["buttons"]] == ["网上办理", "线下窗口办理", "不是这个"]
    # without a service understood there is nothing to correct
    d = CollectingDispatcher()
    await ActionAskServiceMode().run(d, tracker(parse_data("网上还是线下", "inform")), DOMAIN)
    assert [b["title"] for b in d.messages[0]["buttons"]] == ["网上办理", "线下窗口办理"]


async def test_not_this_asks_for_the_service_again_or_takes_the_one_named() -> None:
    form = ValidateServiceGuideForm()
    slots = {"service": "social_security_card", "requested_slot": "service_mode"}
    for text, intent in (("/deny", "deny"), ("不是这个", "deny"), ("搞错了", "out_of_scope")):
        t = tracker(parse_data(text, intent), slots, active_loop="service_guide_form")
        got = await form.validate_service_mode(text, CollectingDispatcher(), t, DOMAIN)
        assert got == {"service": None, "service_mode": None}, text
    t = tracker(
        parse_data("不是这个，是公积金提取", "deny"), slots, active_loop="service_guide_form"
    )
    got = await form.validate_service_mode(
        "不是这个，是公积金提取", CollectingDispatcher(), t, DOMAIN
    )
    assert got == {"service": "provident_fund_withdrawal", "service_mode": None}
    # the right one in everyday words: the catalog's aliases hold them
    car = {"service": "vehicle_registration", "requested_slot": "service_mode"}
    t = tracker(parse_data("不是汽车，是电鸡", "deny"), car, active_loop="service_guide_form")
    got = await form.validate_service_mode("不是汽车，是电鸡", CollectingDispatcher(), t, DOMAIN)
    assert got == {"service": "ebike_registration", "service_mode": None}
    # an ordinary answer still gives the way
    t = tracker(parse_data("网上", "inform_service_mode"), slots, active_loop="service_guide_form")
    got = await form.validate_service_mode("网上", CollectingDispatcher(), t, DOMAIN)
    assert got == {"service_mode": "online"}


@pytest.mark.parametrize(
    ("text", "service_id"),
    [("提公积晶", "provident_fund_withdrawal"), ("去香港那个通行证", "hk_macau_permit")],
)
def test_a_service_spelt_loosely_is_found(text: str, service_id: str) -> None:
    found = match_service_loosely(text)
    assert found is not None and found.id == service_id


def test_a_loose_spelling_close_to_nothing_finds_nothing() -> None:
    assert match_service_loosely("今天天气怎么样") is None
    assert match_service_loosely("证") is None  # too short to say


def test_not_doing_it_online_is_the_other_way_not_giving_up() -> None:
    form = ValidateServiceGuideForm()
    assert form.leaves("service_mode", "不在网上办") is None
    assert form.leaves("service_mode", "不办了") == "cancel"
    assert form.leaves("service", "不在网上办了") == "cancel"


# --- the model's service retriever (hotline_rasa/service_retriever.py) ------

IN_OTHER_WORDS = "开个证明 证明我没犯过事的那种"


def retriever_parse(text: str, intent: str, service: str | None, sure: bool) -> dict:
    guess = {"service": service, "confidence": 0.8 if sure else 0.2, "sure": sure, "used": False}
    return parse_data(text, intent, service_retriever=guess)


async def test_the_retrievers_entity_starts_the_guide_with_its_service() -> None:
    entity = {"entity": "service", "value": "no_criminal_record", "extractor": "ServiceRetriever"}
    t = tracker(parse_data(IN_OTHER_WORDS, "request_service_guide", entities=[entity]))
    slots = slot_events(await ActionStartServiceGuide().run(CollectingDispatcher(), t, DOMAIN))
    assert slots["service"] == "no_criminal_record"
    # the next question names the service understood and offers "不是这个"
    dispatcher = CollectingDispatcher()
    await ActionAskServiceMode().run(dispatcher, tracker(parse_data("x", "inform"), slots), DOMAIN)
    message = dispatcher.messages[0]
    assert service_by_id("no_criminal_record").name in message["text"]  # type: ignore[union-attr]
    assert "不是这个" in [b["title"] for b in message["buttons"]]


async def test_the_service_question_takes_the_retrievers_sure_guess() -> None:
    t = tracker(retriever_parse(IN_OTHER_WORDS, "inform", "no_criminal_record", sure=True))
    result = await ValidateServiceGuideForm().validate_service(
        IN_OTHER_WORDS, CollectingDispatcher(), t, DOMAIN
    )
    assert result["service"] == "no_criminal_record"


@pytest.mark.parametrize(
    ("latest", "service", "sure"),
    [
        (IN_OTHER_WORDS, "no_criminal_record", False),  # not sure enough
        (IN_OTHER_WORDS, None, True),  # a request naming no service
        ("另一句话", "no_criminal_record", True),  # it guessed on another message
        (IN_OTHER_WORDS, "no_such_service", True),  # not in the catalog
    ],
)
async def test_the_service_question_ignores_other_guesses(
    latest: str, service: str | None, sure: bool
) -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(retriever_parse(latest, "inform", service, sure))
    result = await ValidateServiceGuideForm().validate_service(
        IN_OTHER_WORDS, dispatcher, t, DOMAIN
    )
    assert result == {"service": None}
    assert "没有找到" in dispatcher.messages[0]["text"]


async def test_a_name_the_matcher_finds_beats_the_retrievers_guess() -> None:
    t = tracker(retriever_parse("我要办居住证", "inform", "no_criminal_record", sure=True))
    result = await ValidateServiceGuideForm().validate_service(
        "我要办居住证", CollectingDispatcher(), t, DOMAIN
    )
    assert result["service"] == "residence_permit"


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("办 passport", "passport"),
        ("办passport", "passport"),
        ("ID card 丢了", "id_card"),
        ("生BB要办出世纸", "birth_medical_certificate"),
    ],
)
async def test_english_and_cantonese_names_of_documents_name_the_service(
    text: str, service: str
) -> None:
    result = await ValidateServiceGuideForm().validate_service(
        text, CollectingDispatcher(), tracker(parse_data(text, "inform")), DOMAIN
    )
    assert result["service"] == service


async def test_not_a_but_b_in_cantonese_never_takes_the_service_said_not_to_be_it() -> None:
    text = "唔系换身份证 系补户口簿"
    result = await ValidateServiceGuideForm().validate_service(
        text, CollectingDispatcher(), tracker(parse_data(text, "inform")), DOMAIN
    )
    assert result["service"] != "id_card"
    text = "唔系身份证 系社保卡"
    result = await ValidateServiceGuideForm().validate_service(
        text, CollectingDispatcher(), tracker(parse_data(text, "inform")), DOMAIN
    )
    assert result["service"] == "social_security_card"


async def test_not_knowing_the_way_and_leaving_it_to_us_shows_the_online_way() -> None:
    dispatcher = CollectingDispatcher()
    slots = {"service": "passport"}
    text = "不清楚 你推荐吧"
    result = await ValidateServiceGuideForm().validate_service_mode(
        text, dispatcher, tracker(parse_data(text, "inform"), slots), DOMAIN
    )
    assert result == {"service_mode": "online"}
