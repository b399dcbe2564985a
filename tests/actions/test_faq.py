"""FAQ answers come from the knowledge file, and only when confident."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions._runtime import FAQ_MIN_CONFIDENCE, consecutive_misunderstandings
from actions.complaints import COMPLAINT_BUTTON, ActionStartComplaint, complaint_offer
from actions.faq import ActionAnswerFaq, ActionHandleFallback
from actions.thresholds import COMPLAINT_OFFER, FAQ_ANSWER_CONFIDENCE
from bot.db import Database
from bot.knowledge import format_answer, load_faq
from tests.actions.helpers import faq_parse, parse_data, slot_events, tracker, user_event


def _first_faq():
    return next(iter(load_faq().values()))


async def test_confident_faq_is_answered_from_the_knowledge_file(db: Database) -> None:
    entry = _first_faq()
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, tracker(faq_parse("问题", entry.id, 0.9)), {})
    text = dispatcher.messages[0]["text"]
    assert text.startswith(entry.answer)
    assert entry.source in text and entry.updated.isoformat() in text
    assert (await db.events.counts("faq_answered")).get("faq_answered") == 1


async def test_unsure_faq_is_not_answered(db: Database) -> None:
    entry = _first_faq()
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(
        dispatcher, tracker(faq_parse("嗯那个", entry.id, FAQ_MIN_CONFIDENCE - 0.01)), {}
    )
    assert entry.answer not in dispatcher.messages[0]["text"]
    assert "没太理解" in dispatcher.messages[0]["text"]


async def test_a_guess_between_the_thresholds_is_named_for_the_citizen_to_confirm(
    db: Database,
) -> None:
    entry = _first_faq()
    dispatcher = CollectingDispatcher()
    unsure = (FAQ_MIN_CONFIDENCE + FAQ_ANSWER_CONFIDENCE) / 2
    await ActionAnswerFaq().run(
        dispatcher, tracker(faq_parse("社保转过来咋弄", entry.id, unsure)), {}
    )
    [message] = dispatcher.messages
    # the question understood is named; nothing of the answer is said on a guess
    assert f"“{entry.question}”" in message["text"] and "是这个问题吗" in message["text"]
    assert entry.answer not in message["text"]
    buttons = {b["title"]: b["payload"] for b in message["buttons"]}
    # confirming asks the entry's own question (it parses back to the entry:
    # tests/rasa/test_dialogue.py); "不是这个" invites another wording
    assert buttons == {
        "是的，看解答": entry.question,
        "不是这个": "/consult",
        "转人工客服": "/request_human",
    }
    # counted as a fallback until confirmed, never as an answer
    assert (await db.events.counts("faq_answered")).get("faq_answered") is None
    assert (await db.events.counts("fallback")).get("fallback") == 1


async def test_a_sure_guess_is_answered_at_once(db: Database) -> None:
    entry = _first_faq()
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(
        dispatcher, tracker(faq_parse("问题", entry.id, FAQ_ANSWER_CONFIDENCE)), {}
    )
    assert dispatcher.messages[0]["text"].startswith(entry.answer)


def _with_service_guess(parse: dict, service: str | None, confidence: float, off: float) -> dict:
    sure = service is not None and confidence >= 0.7
    parse["service_retriever"] = {
        "service": service,
        "confidence": confidence,
        "off_topic": off,
        "sure": sure,
        "used": False,
    }
    return parse


async def test_an_answer_offers_the_guide_of_the_service_it_is_about(db: Database) -> None:
    entry = _first_faq()
    parse = _with_service_guess(
        faq_parse("辞职了 单位存的买房的钱能拿出来吗", entry.id, 0.9),
        "provident_fund_withdrawal",
        0.95,
        0.01,
    )
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, tracker(parse), {})
    buttons = dispatcher.messages[0]["buttons"]
    assert buttons[0] == {
        "title": "办事指南：住房公积金提取",
        "payload": '/request_service_guide{"service":"provident_fund_withdrawal"}',
    }
    assert [b["payload"] for b in buttons[1:]] == ["/thank", "/consult", "/request_human"]


@pytest.mark.parametrize(
    ("service", "confidence", "off"),
    [
        (None, 0.99, 0.0),  # the retriever's "no service" class
        ("provident_fund_withdrawal", 0.5, 0.0),  # unsure
        ("provident_fund_withdrawal", 0.99, 0.8),  # more likely no hotline matter
        ("no_such_service", 0.99, 0.0),  # gone from the catalog
    ],
)
async def test_no_guide_is_offered_on_a_weak_guess(
    db: Database, service: str | None, confidence: float, off: float
) -> None:
    entry = _first_faq()
    parse = _with_service_guess(faq_parse("问题", entry.id, 0.9), service, confidence, off)
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, tracker(parse), {})
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert payloads == ["/thank", "/consult", "/request_human"]


async def test_second_miss_in_a_row_offers_a_person(db: Database) -> None:
    history = [user_event(parse_data("啊吧啊吧", "nlu_fallback"))]
    t = tracker(parse_data("咿呀咿呀", "nlu_fallback"), history=history)
    assert consecutive_misunderstandings(t) == 2
    dispatcher = CollectingDispatcher()
    await ActionHandleFallback().run(dispatcher, t, {})
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/request_human"


async def test_stray_answers_declined_by_the_fallback_count_as_misses(db: Database) -> None:
    """An `inform` with no form running is declined by a rule (data/rules.yml): the
    parse looked fine, so the misses are read from the fallback action's answers."""
    stray = parse_data("明早七点叫我起床", "inform")
    history = [user_event(stray), {"event": "action", "name": "action_handle_fallback"}]
    t = tracker(parse_data("帮我设个闹钟", "inform"), history=history)
    assert consecutive_misunderstandings(t) == 0  # seen from outside the fallback
    assert consecutive_misunderstandings(t, latest_missed=True) == 2
    dispatcher = CollectingDispatcher()
    await ActionHandleFallback().run(dispatcher, t, {})
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/request_human"
    # the first stray answer alone: asked to rephrase
    first = CollectingDispatcher()
    await ActionHandleFallback().run(first, tracker(stray), {})
    assert first.messages[0]["buttons"][0]["payload"] == "/consult"


async def test_a_problem_read_as_a_stray_answer_starts_the_complaint(db: Database) -> None:
    """DIET read "路灯一整排都不亮" as a form's answer with no form running; Rasa's
    complaint arbiter gave it P(complaint) 0.99: the fallback starts the
    complaint (its opening, the line as what happened, then the form)."""
    parse = parse_data("路灯一整排都不亮", "inform", complaint={"p": 0.9862})
    dispatcher = CollectingDispatcher()
    events = await ActionHandleFallback().run(dispatcher, tracker(parse), {})
    assert dispatcher.messages[0]["text"].startswith("听起来您是要反映一个问题")
    assert slot_events(events)["complaint_what"] == "路灯一整排都不亮"
    assert events[-1] == {"event": "followup", "name": "complaint_form", "timestamp": None}
    # an everyday request read so stays declined; so does a problem told
    # inside a running form (its answer) and a parse without the arbiter
    for latest, loop in (
        (parse_data("明天早上七点叫我起床", "inform", complaint={"p": 0.0696}), None),
        (parse, "service_guide_form"),
        (parse_data("路灯一整排都不亮", "inform"), None),
    ):
        dispatcher = CollectingDispatcher()
        events = await ActionHandleFallback().run(dispatcher, tracker(latest, active_loop=loop), {})
        assert not any(e.get("event") == "followup" for e in events)
        assert not dispatcher.messages[0]["text"].startswith("听起来")


async def test_an_answer_to_a_message_telling_of_a_problem_offers_the_complaint(
    db: Database,
) -> None:
    """ "厂里三个月冇出粮 老板跑了": the retriever was sure of the wage-arrears
    entry, so it stays an FAQ answer; the complaint arbiter's P(complaint) 0.97
    adds the button that registers it, and the click takes the message as
    what happened."""
    entry = _first_faq()
    told = faq_parse("厂里三个月冇出粮 老板跑了", entry.id, 0.95)
    told["complaint"] = {"p": 0.97}
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, tracker(told), {})
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert "/complain" in payloads and payloads[-3:] == ["/thank", "/consult", "/request_human"]
    click = parse_data("/complain", "complain", 1.0)
    history = [user_event(told), {"event": "action", "name": "action_answer_faq"}]
    start = CollectingDispatcher()
    events = await ActionStartComplaint().run(start, tracker(click, history=history), {})
    assert slot_events(events)["complaint_what"] == "厂里三个月冇出粮 老板跑了"
    # a question: no such button; the menu's 投诉建议 after it takes no text
    asked = faq_parse("工资拖欠怎么维权", entry.id, 0.95)
    asked["complaint"] = {"p": 0.3}
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, tracker(asked), {})
    assert "/complain" not in [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    history = [user_event(asked), {"event": "action", "name": "action_answer_faq"}]
    events = await ActionStartComplaint().run(
        CollectingDispatcher(), tracker(click, history=history), {}
    )
    assert "complaint_what" not in {k for k, v in slot_events(events).items() if v}


async def test_an_understood_message_resets_the_count(db: Database) -> None:
    history = [
        user_event(parse_data("啊吧", "nlu_fallback")),
        user_event(parse_data("你好", "greet")),
    ]
    t = tracker(parse_data("咿呀", "nlu_fallback"), history=history)
    assert consecutive_misunderstandings(t) == 1
    dispatcher = CollectingDispatcher()
    await ActionHandleFallback().run(dispatcher, t, {})
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/consult"


async def test_a_misrouted_emergency_still_gets_the_numbers_first(db: Database) -> None:
    entry = _first_faq()
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(
        dispatcher, tracker(faq_parse("楼道里好大煤气味", entry.id, 0.9)), {}
    )
    assert "119" in dispatcher.messages[0]["text"]
    fallback = CollectingDispatcher()
    await ActionHandleFallback().run(
        fallback, tracker(parse_data("有人晕倒了快来", "nlu_fallback")), {}
    )
    assert "120" in fallback.messages[0]["text"]
    assert fallback.messages[1]["buttons"][0]["payload"] == "/request_human"


async def test_the_nlu_detectors_alarm_puts_the_numbers_first(db: Database) -> None:
    """Danger without a word of the list ("脸色发紫 推不醒"): Rasa's learned
    detector raises ``danger.alarm`` in the parse (hotline_rasa/safety_net.py),
    which the FAQ and the fallback heed as they heed a word."""
    entry = _first_faq()
    text = "我爸脸色发紫 推他也不动"
    parse = faq_parse(text, entry.id, 0.9)
    parse["danger"] = {"p": 0.91, "alarm": True, "words": []}
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, tracker(parse), {})
    assert "120" in dispatcher.messages[0]["text"]
    fallback = CollectingDispatcher()
    declined = parse_data(text, "nlu_fallback", danger={"p": 0.91, "alarm": True, "words": []})
    await ActionHandleFallback().run(fallback, tracker(declined), {})
    assert "120" in fallback.messages[0]["text"]
    assert fallback.messages[1]["buttons"][0]["payload"] == "/request_human"
    # a word of the list the NLU vetoed (a calm question, P far below its
    # threshold): the parse decides, no warning above the answer
    vetoed = faq_parse("上班路上被车撞算不算工伤", entry.id, 0.9)
    vetoed["danger"] = {"p": 0.01, "alarm": False, "words": ["被车撞"], "vetoed": True}
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, tracker(vetoed), {})
    assert not any("119" in str(m.get("text")) for m in dispatcher.messages)
    # no alarm (p below the threshold): an ordinary answer
    quiet = faq_parse(entry.question, entry.id, 0.9)
    quiet["danger"] = {"p": 0.2, "alarm": False, "words": []}
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, tracker(quiet), {})
    assert not any("119" in str(m.get("text")) for m in dispatcher.messages)


async def test_ordinary_questions_get_no_emergency_warning(db: Database) -> None:
    entry = _first_faq()
    dispatcher = CollectingDispatcher()
    await ActionAnswerFaq().run(dispatcher, tracker(faq_parse(entry.question, entry.id, 0.9)), {})
    texts = [m for m in dispatcher.messages if m.get("text")]
    assert len(texts) == 1 and "119" not in texts[0]["text"]


async def test_a_part_in_pinyin_initials_offers_its_service_guide(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """"gjj怎么提取" as a part of several questions: 公积金提取's guide offered."""
    from actions import faq
    from actions.faq import answer_several

    entry = _first_faq()

    async def parse(part: str) -> dict:
        if part.startswith("gjj"):
            return parse_data(part, "request_service_guide")
        return faq_parse(part, entry.id, 0.95)

    monkeypatch.setattr(faq, "parse_text", parse)
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data("社保断缴有什么影响？还有gjj怎么提取", "faq", 0.4))
    assert await answer_several(dispatcher, t)
    payloads = [b["payload"] for m in dispatcher.messages for b in m.get("buttons") or []]
    assert '/request_service_guide{"service":"provident_fund_withdrawal"}' in payloads


def test_several_questions_are_split_where_citizens_join_them() -> None:
    """Issue 21: the parts parsed on their own (the preamble is no question)."""
    from actions.faq import question_parts

    assert question_parts("我问你个事，医保和社保有什么区别，另外公积金能不能取出来交房租") == [
        "医保和社保有什么区别",
        "公积金能不能取出来交房租",
    ]
    assert question_parts("社保断缴有什么影响？还有居住证怎么办") == [
        "社保断缴有什么影响",
        "居住证怎么办",
    ]
    assert question_parts("请问顺便问一下公积金贷款最多能贷多少") == ["公积金贷款最多能贷多少"]
    assert question_parts("社保断缴了有什么影响") == ["社保断缴了有什么影响"]
    assert (
        len(question_parts("一。二。三。四个问题在这里。五个问题在这里。六个问题在这里。七个问题"))
        <= 3
    )


@pytest.mark.parametrize(
    "text",
    [
        "马路上有个阿伯倒在地上一动不动",
        "我爸喊了半天叫不醒",
        "同事突然抽搐口吐白沫",
        "我妈呼吸困难脸都紫了",
        "电动车把小孩撞倒了",
        "隔壁厂房刚刚爆炸了",
        "小区的围墙坍塌压到人了",
        "我被困在电梯里出不去",
    ],
)
def test_the_safety_net_hears_someone_down_hurt_or_trapped(text: str) -> None:
    from actions._runtime import sounds_like_danger

    assert sounds_like_danger(text)


@pytest.mark.parametrize(
    "text",
    [
        "有人在撬我家门，我好怕",
        "门口有陌生人一直在撬锁",
        "家里进贼了",
        "有小偷在我家楼下转",
        "我被人打了",
        "我老公被打伤了在流眼泪",
        "我刚刚被抢了手机",
        "有个男的一路跟踪我",
        "楼下烧烤摊有人打架",
    ],
)
def test_the_safety_net_hears_a_crime_going_on(text: str) -> None:
    """A crime going on or just done ("有人撬门": DIET once read it as a
    greeting) still gets 110 first where the safety net listens."""
    from actions._runtime import sounds_like_danger

    assert sounds_like_danger(text)


@pytest.mark.parametrize("text", ["晚上打架子鼓太吵", "被打扰了一晚上", "小偷小摸的事归谁管"])
def test_words_that_only_look_like_a_crime_raise_no_alarm(text: str) -> None:
    from actions._runtime import sounds_like_danger

    assert not sounds_like_danger(text)


def test_no_catalog_question_or_training_sentence_raises_a_false_alarm() -> None:
    """The safety net's words appear only where danger is meant: in the FAQ
    catalog's phrasings only of the entries about danger, and in no NLU example
    outside emergencies (a false alarm puts 119/120/110 above an ordinary answer)."""
    import glob

    import yaml

    from actions._runtime import sounds_like_danger
    from bot.knowledge import load_faq

    about_danger = {
        "ut_gas_leak", "si_work_injury_recognition", "tr_minor_accident",
        "ca_divorce_cooling_off", "ca_temporary_assistance",
        # the broad catalog: injuries from a crash or a fight, someone trapped in a lift
        "mi_third_party_injury", "mr_elevator_inspection",
        # the 120 ambulance's fees, asked by someone who just called it for a parent
        # who fainted: the 120 line above the answer is right there
        "hc_ambulance_120",
        # barred windows in a rented room: "万一着火跑不出去" (the 119 line above
        # the fire-safety rules does no harm)
        "um_rental_fire_safety",
    }  # fmt: skip
    alarms = {
        entry.id
        for entry in load_faq().values()
        for text in (entry.question, *entry.examples)
        if sounds_like_danger(text)
    }
    assert alarms <= about_danger, alarms - about_danger
    for path in glob.glob("data/nlu/*.yml"):
        for block in yaml.safe_load(open(path, encoding="utf-8")).get("nlu", []):
            intent = str(block.get("intent"))
            if intent == "emergency" or intent.removeprefix("faq/") in about_danger:
                continue
            for line in (block.get("examples") or "").splitlines():
                text = line.strip()[2:]
                assert not sounds_like_danger(text), (path, intent, text)


def _faq_guess(parse: dict, faq_id: str, confidence: float) -> dict:
    """``parse`` with the FAQ retriever's guess, as Rasa sends every parse."""
    selector = faq_parse(parse["text"], faq_id, confidence)["response_selector"]
    return {**parse, "response_selector": selector}


@pytest.mark.parametrize(
    ("text", "p", "offered"),
    [
        ("退租房东扣押金不退", 0.74, True),  # a problem the citizen may want handled
        ("培训机构关门跑路 学费退不回来", 0.84, True),
        ("工资拖欠怎么维权", 0.3, False),  # a question
        ("/faq", None, False),  # no P: no button
    ],
)
def test_the_complaint_is_offered_from_p_0_6(text: str, p: float | None, offered: bool) -> None:
    """The button below an FAQ answer (COMPLAINT_OFFER, 0.8 until the eleventh
    session: 0.74 got the rules alone)."""
    assert COMPLAINT_OFFER == 0.6
    parse = faq_parse(text, _first_faq().id, 0.95)
    if p is not None:
        parse["complaint"] = {"p": p}
    assert (complaint_offer(tracker(parse)) == COMPLAINT_BUTTON) is offered


async def test_a_question_read_as_a_stray_answer_gets_the_faq_answer(db: Database) -> None:
    """DIET read "自来水有股怪味" as a form's answer with no form running; the
    FAQ retriever is sure of its entry (>= FAQ_SURE_OUT_OF_CONTEXT): the
    fallback answers it instead of "not understood". Below that, or inside a
    running form, it is declined as before; a problem goes to the complaint."""
    entry = _first_faq()
    sure = _faq_guess(parse_data("自来水有股怪味", "inform", complaint={"p": 0.68}), entry.id, 0.99)
    dispatcher = CollectingDispatcher()
    events = await ActionHandleFallback().run(dispatcher, tracker(sure), {})
    assert dispatcher.messages[0]["text"] == format_answer(entry)
    assert dispatcher.messages[1]["custom"] == {"answer": {"faq": entry.id}}
    assert not any(e.get("event") == "followup" for e in events)
    unsure = _faq_guess(parse_data("帮我设个闹钟", "inform"), entry.id, 0.6)
    in_form = sure
    for latest, loop in ((unsure, None), (in_form, "service_guide_form")):
        dispatcher = CollectingDispatcher()
        await ActionHandleFallback().run(dispatcher, tracker(latest, active_loop=loop), {})
        assert dispatcher.messages[0]["text"] != format_answer(entry)
    problem = _faq_guess(
        parse_data("小区门口好多人乱停车", "inform", complaint={"p": 0.93}), entry.id, 0.95
    )
    dispatcher = CollectingDispatcher()
    events = await ActionHandleFallback().run(dispatcher, tracker(problem), {})
    assert dispatcher.messages[0]["text"].startswith("听起来您是要反映一个问题")
