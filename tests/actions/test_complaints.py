"""The complaint form's helpers and actions, run directly (rasa-sdk style)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions._runtime import EMERGENCY_TEXT
from actions.complaints import (
    ActionCancelProcess,
    ActionComplaintSummary,
    ActionEditComplaint,
    ActionStartComplaint,
    ValidateComplaintForm,
    is_descriptive,
    normalise_phone,
)
from bot.db import Database
from bot.knowledge import format_answer, load_faq
from tests.actions.helpers import leaves_loop, parse_data, slot_events, tracker

DOMAIN: dict = {}


def test_phone_numbers_are_normalised_or_refused() -> None:
    assert normalise_phone("我的电话是139 1234 5678") == "13912345678"
    assert normalise_phone("０７６９-22123456") == "076922123456"
    assert normalise_phone("1234") is None
    assert normalise_phone("12912345678") is None  # no mobile starts with 12


def test_only_descriptive_openings_prefill_the_complaint() -> None:
    assert is_descriptive("楼下工地半夜施工太吵了")
    assert not is_descriptive("我要投诉")
    assert not is_descriptive("我想提个建议")


async def test_start_complaint_prefills_what_and_sets_a_submission_id() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data("楼下工地半夜施工太吵了我要投诉", "complain"))
    slots = slot_events(await ActionStartComplaint().run(dispatcher, t, DOMAIN))
    assert slots["complaint_type"] == "complaint"
    assert slots["complaint_what"] == "楼下工地半夜施工太吵了我要投诉"
    assert len(slots["complaint_submission_id"]) == 32
    assert "取消" in dispatcher.messages[0]["text"]


async def test_a_problem_told_without_the_word_complaint_is_named_as_one() -> None:
    """Rasa's complaint arbiter turned an FAQ guess into a complaint: the
    opening says what was understood and how to leave for a question."""
    dispatcher = CollectingDispatcher()
    parse = parse_data("厂里三个月冇出粮", "complain")
    parse["complaint_arbiter"] = {"from": "faq", "confidence": 1.0, "p_complaint": 0.97}
    slots = slot_events(await ActionStartComplaint().run(dispatcher, tracker(parse), DOMAIN))
    text = dispatcher.messages[0]["text"]
    assert text.startswith("听起来您是要反映一个问题") and "登记投诉" in text
    assert "只是想咨询" in text and "取消" in text
    assert slots["complaint_what"] == "厂里三个月冇出粮"
    # "我要投诉 ..." said so: the plain opening
    dispatcher = CollectingDispatcher()
    await ActionStartComplaint().run(
        dispatcher, tracker(parse_data("我要投诉 厂里三个月冇出粮", "complain")), DOMAIN
    )
    assert dispatcher.messages[0]["text"].startswith("好的，我来帮您登记投诉。")


async def test_a_problem_on_a_sure_faq_entrys_subject_gets_the_rules_then_the_complaint(
    db: Database,
) -> None:
    """Rasa's complaint arbiter made a complaint of an FAQ guess the retriever
    was sure of ("厂里拖欠我两个月工资", the wage-arrears entry at 0.93): the
    entry's answer comes first, so a citizen who only wanted the rules has
    them (asking again in the same words would start the complaint again),
    then the registration with how to leave it."""
    entry = next(iter(load_faq().values()))
    parse = parse_data(
        "厂里拖欠我两个月工资",
        "complain",
        response_selector={
            "faq": {"response": {"intent_response_key": f"faq/{entry.id}", "confidence": 0.93}}
        },
    )
    parse["complaint_arbiter"] = {"from": "faq", "confidence": 1.0, "p_complaint": 0.96}
    dispatcher = CollectingDispatcher()
    slots = slot_events(await ActionStartComplaint().run(dispatcher, tracker(parse), DOMAIN))
    rules, opening = (m["text"] for m in dispatcher.messages)
    assert rules == format_answer(entry)
    assert opening.startswith("您说的情况，我可以帮您登记投诉") and "取消" in opening
    assert slots["complaint_what"] == "厂里拖欠我两个月工资"
    # the retriever unsure, or the arbiter turning a declined line: no rules
    for confidence, turned_from in ((0.6, "faq"), (0.93, "out_of_scope")):
        parse["response_selector"]["faq"]["response"]["confidence"] = confidence
        parse["complaint_arbiter"]["from"] = turned_from
        dispatcher = CollectingDispatcher()
        await ActionStartComplaint().run(dispatcher, tracker(parse), DOMAIN)
        assert len(dispatcher.messages) == 1
        assert dispatcher.messages[0]["text"].startswith("听起来您是要反映一个问题")


async def test_a_complaint_about_danger_going_on_gets_the_emergency_numbers_first() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data("楼下烧烤摊有人打架 我要投诉", "complain"))
    slots = slot_events(await ActionStartComplaint().run(dispatcher, t, DOMAIN))
    first, second = (m["text"] for m in dispatcher.messages)
    assert "110" in first and "登记投诉" in second
    assert slots["complaint_what"] == "楼下烧烤摊有人打架 我要投诉"
    # an ordinary complaint gets no alarm
    dispatcher = CollectingDispatcher()
    await ActionStartComplaint().run(
        dispatcher, tracker(parse_data("路灯坏了", "complain")), DOMAIN
    )
    assert "110" not in dispatcher.messages[0]["text"]


async def _answer(
    text: str,
    requested: str,
    parse: dict[str, Any] | None = None,
    earlier: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The complaint form run as Rasa runs it on the answer ``text`` to the
    question ``requested``, the form begun in an earlier turn (``earlier``:
    what that turn said): (slot values set, texts sent)."""
    form = ValidateComplaintForm()
    latest = parse or parse_data(text, "inform")
    events = [
        {"event": "user", "text": "我要投诉", "parse_data": parse_data("我要投诉", "complain")},
        {"event": "action", "name": "action_start_complaint"},
        *(earlier or []),
        {"event": "action", "name": form.form_name()},
        {"event": "active_loop", "name": form.form_name()},
        {"event": "slot", "name": "requested_slot", "value": requested},
        {"event": "user", "text": text, "parse_data": latest},
        {"event": "action", "name": form.form_name()},
        {"event": "slot", "name": requested, "value": text},
    ]
    t = Tracker(
        sender_id="webchat:test-session",
        slots={**(slots or {}), requested: text, "requested_slot": requested},
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": form.form_name()},
        latest_action_name=form.form_name(),
    )
    dispatcher = CollectingDispatcher()
    out = await form.run(dispatcher, t, DOMAIN)
    return slot_events(out), [str(m.get("text")) for m in dispatcher.messages]


async def test_danger_told_as_what_happened_gets_the_numbers_once() -> None:
    """ "我要投诉" then "楼下有人打架" as the description: 110 first, the form
    goes on; not a second time when the complaint's start already said it."""
    text = "楼下有人打架 好吓人"
    slots, texts = await _answer(text, "complaint_what")
    assert slots["complaint_what"] == text
    assert "110" in texts[0] and texts.count(EMERGENCY_TEXT) == 1
    warned = [{"event": "bot", "text": "【如有危险请立即拨打电话】…110…119"}]
    slots, texts = await _answer(text, "complaint_what", earlier=warned)
    assert slots["complaint_what"] == text
    assert EMERGENCY_TEXT not in texts
    # an ordinary description gets no alarm
    _, texts = await _answer("路灯坏了一个月", "complaint_what")
    assert EMERGENCY_TEXT not in texts
    # a description the form took from an earlier message ("楼下有人打架" in
    # the complaint's first message) is heard by its words, once
    said = "好的"
    form = ValidateComplaintForm()
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data(said, "affirm"))
    await form.validate_complaint_what(text, dispatcher, t, DOMAIN)
    assert dispatcher.messages[0]["text"] == EMERGENCY_TEXT
    dispatcher = CollectingDispatcher()
    warned_t = tracker(
        parse_data(said, "affirm"),
        history=[
            {"event": "bot", "text": EMERGENCY_TEXT},
            {"event": "active_loop", "name": form.form_name()},
        ],
    )
    await form.validate_complaint_what(text, dispatcher, warned_t, DOMAIN)
    assert not dispatcher.messages


async def test_the_nlu_detectors_alarm_on_the_description_gets_the_numbers() -> None:
    """The description said now with the parse's ``danger.alarm`` (Rasa's
    learned detector) and no word of the list: 120 first, the form goes on."""
    text = "隔壁阿婆倒在门口 脸色发紫"
    alarm = {"p": 0.88, "alarm": True, "words": [], "vetoed": False}
    slots, texts = await _answer(text, "complaint_what", parse_data(text, "inform", danger=alarm))
    assert slots["complaint_what"] == text
    assert "120" in texts[0] and texts.count(EMERGENCY_TEXT) == 1


async def test_danger_told_in_the_middle_of_the_form_gets_the_numbers() -> None:
    """Asked for a phone number, the citizen tells of danger instead: the
    numbers first (the parse's alarm), once per form; the answer is still read
    as the question's. A word the NLU vetoed (a calm sentence) warns of nothing."""
    text = "等一下 我妈突然倒在地上了 叫她没反应"
    alarm = {"p": 0.97, "alarm": True, "words": [], "vetoed": False}
    done = {"complaint_what": "路灯坏了", "complaint_where": "南城", "complaint_when": "昨晚"}
    _, texts = await _answer(
        text, "contact_phone", parse_data(text, "inform", danger=alarm), slots=done
    )
    assert texts[0] == EMERGENCY_TEXT and texts.count(EMERGENCY_TEXT) == 1
    warned = [{"event": "bot", "text": EMERGENCY_TEXT}]
    _, texts = await _answer(
        text, "contact_phone", parse_data(text, "inform", danger=alarm), warned, done
    )
    assert EMERGENCY_TEXT not in texts
    calm = "路口被车撞过的那根灯杆"
    vetoed = {"p": 0.01, "alarm": False, "words": ["被车撞"], "vetoed": True}
    _, texts = await _answer(calm, "complaint_where", parse_data(calm, "inform", danger=vetoed))
    assert EMERGENCY_TEXT not in texts


async def test_suggestion_does_not_ask_when() -> None:
    t = tracker(parse_data("我有个建议", "suggest"))
    slots = slot_events(await ActionStartComplaint().run(CollectingDispatcher(), t, DOMAIN))
    assert slots["complaint_type"] == "suggestion"
    assert slots["complaint_when"] == "未提供"
    assert slots.get("complaint_what") is None


async def test_invalid_phone_is_asked_again_and_anonymous_is_allowed() -> None:
    form = ValidateComplaintForm()
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data("138", "inform"))
    assert await form.validate_contact_phone("138", dispatcher, t, DOMAIN) == {
        "contact_phone": None
    }
    assert "匿名" in dispatcher.messages[0]["text"]
    result = await form.validate_contact_phone("我想匿名", CollectingDispatcher(), t, DOMAIN)
    assert result == {"contact_phone": "匿名", "contact_name": "匿名"}


async def test_too_short_description_is_refused() -> None:
    dispatcher = CollectingDispatcher()
    result = await ValidateComplaintForm().validate_complaint_what(
        "吵", dispatcher, tracker(parse_data("吵", "inform")), DOMAIN
    )
    assert result == {"complaint_what": None}
    assert dispatcher.messages


async def test_wanting_to_complain_is_no_description() -> None:
    form = ValidateComplaintForm()
    for text in ("就是想投诉一下", "想反映个问题"):
        dispatcher = CollectingDispatcher()
        result = await form.validate_complaint_what(
            text, dispatcher, tracker(parse_data(text, "complain")), DOMAIN
        )
        assert result == {"complaint_what": None}
        assert dispatcher.messages
    text = "想投诉楼下烧烤店油烟"
    result = await form.validate_complaint_what(
        text, CollectingDispatcher(), tracker(parse_data(text, "inform")), DOMAIN
    )
    assert result == {"complaint_what": text}


def test_not_registering_gives_up_except_at_the_contact_questions() -> None:
    form = ValidateComplaintForm()
    assert form.leaves("complaint_when", "算喇 唔登记喇") == "cancel"
    assert form.leaves("complaint_where", "不登记了") == "cancel"
    assert form.leaves("contact_name", "不登记了") is None
    assert form.leaves("complaint_what", "物业说不登记了") is None


async def test_summary_lists_every_answer_with_edit_buttons() -> None:
    slots = {
        "complaint_type": "complaint",
        "complaint_what": "工地夜间施工噪音",
        "complaint_where": "南城区鸿福路",
        "complaint_when": "每天晚上十一点后",
        "contact_phone": "13812345678",
        "contact_name": "王先生",
    }
    dispatcher = CollectingDispatcher()
    pending = {**slots, "complaint_submission_id": "s1"}  # the summary of a pending complaint
    await ActionComplaintSummary().run(
        dispatcher, tracker(parse_data("x", "inform"), pending), DOMAIN
    )
    message = dispatcher.messages[0]
    for value in slots.values():
        if value != "complaint":  # the phone is shown masked, even to the citizen
            assert (value if value != "13812345678" else "138****5678") in message["text"]
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[0] == "/affirm"
    assert '/edit_complaint{"field":"complaint_where"}' in payloads
    assert payloads[-1] == "/stop"


async def test_editing_clears_only_the_chosen_answer() -> None:
    slots = {
        "complaint_submission_id": "abc",
        "edit_field": "complaint_where",
        "complaint_where": "东城",
        "contact_phone": "13812345678",
    }
    t = tracker(parse_data("/edit_complaint", "edit_complaint"), slots)
    events = slot_events(await ActionEditComplaint().run(CollectingDispatcher(), t, DOMAIN))
    assert events == {"edit_field": None, "complaint_where": None}


async def test_editing_by_words_finds_the_field() -> None:
    slots = {"complaint_submission_id": "abc", "contact_phone": "匿名", "contact_name": "匿名"}
    t = tracker(parse_data("电话留错了", "edit_complaint"), slots)
    events = slot_events(await ActionEditComplaint().run(CollectingDispatcher(), t, DOMAIN))
    assert events["contact_phone"] is None and events["contact_name"] is None


async def test_a_question_read_as_a_change_with_no_complaint_gets_the_faq_answer(
    db: Database,
) -> None:
    """ "户口本上我生日写错了 可以改吗" read as a change to a complaint while none is
    being filled in: the FAQ retriever is sure of its entry, so the FAQ answer
    follows; unsure, the citizen is told no complaint is being filled in. A
    complaint being filled in is changed as always, whatever the retriever says."""

    def with_guess(confidence: float) -> dict:
        parse = parse_data("户口本上我生日写错了 可以改吗", "edit_complaint")
        parse["response_selector"] = {
            "faq": {
                "response": {
                    "intent_response_key": "faq/hr_birthdate_correction",
                    "confidence": confidence,
                }
            }
        }
        return parse

    dispatcher = CollectingDispatcher()
    events = await ActionEditComplaint().run(dispatcher, tracker(with_guess(0.99)), DOMAIN)
    assert not any(e.get("event") == "followup" for e in events)
    assert dispatcher.messages[0]["text"] == format_answer(load_faq()["hr_birthdate_correction"])
    assert dispatcher.messages[1]["custom"] == {"answer": {"faq": "hr_birthdate_correction"}}
    dispatcher = CollectingDispatcher()
    events = await ActionEditComplaint().run(dispatcher, tracker(with_guess(0.6)), DOMAIN)
    assert not any(e.get("event") == "followup" for e in events)
    assert dispatcher.messages[0]["text"] == "目前没有正在填写的投诉或建议。"
    filling = tracker(with_guess(0.99), {"complaint_submission_id": "abc"})
    events = await ActionEditComplaint().run(CollectingDispatcher(), filling, DOMAIN)
    assert not any(e.get("event") == "followup" for e in events)


async def test_deny_after_summary_asks_what_to_change() -> None:
    slots = {"complaint_submission_id": "abc", "complaint_type": "complaint"}
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data("不对", "deny"), slots)
    events = slot_events(await ActionEditComplaint().run(dispatcher, t, DOMAIN))
    assert events == {"edit_field": None}
    assert len(dispatcher.messages[0]["buttons"]) == 5


async def test_cancel_leaves_the_form_and_forgets_the_complaint() -> None:
    slots = {"complaint_submission_id": "abc", "complaint_what": "噪音"}
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data("算了不投诉了", "stop"), slots, active_loop="complaint_form")
    events = await ActionCancelProcess().run(dispatcher, t, DOMAIN)
    assert leaves_loop(events)
    assert slot_events(events)["complaint_submission_id"] is None
    assert "没有生成工单" in dispatcher.messages[0]["text"]


# --- the phone number crosses turns encrypted (Rasa's tracker store masks plaintext)
async def test_valid_phone_is_kept_encrypted_in_the_slot() -> None:
    from actions.complaints import phone_from_slot
    from bot.privacy import ENCRYPTED_PREFIX

    t = tracker(parse_data("我的电话138 1234 5678", "inform"))
    result = await ValidateComplaintForm().validate_contact_phone(
        "我的电话138 1234 5678", CollectingDispatcher(), t, DOMAIN
    )
    value = result["contact_phone"]
    assert value.startswith(ENCRYPTED_PREFIX) and "5678" not in value
    assert phone_from_slot(value) == "13812345678"
    assert phone_from_slot("匿名") == "匿名" and phone_from_slot(None) is None


async def test_summary_shows_the_encrypted_phone_masked() -> None:
    from actions.complaints import seal_phone

    slots = {
        "complaint_type": "complaint",
        "complaint_submission_id": "s1",
        "contact_phone": seal_phone("13812345678"),
    }
    dispatcher = CollectingDispatcher()
    await ActionComplaintSummary().run(
        dispatcher, tracker(parse_data("x", "inform"), slots), DOMAIN
    )
    text = dispatcher.messages[0]["text"]
    assert "联系电话：138****5678" in text and "enc:" not in text


async def test_reactivated_form_keeps_the_encrypted_phone() -> None:
    """Rasa validates prefilled slots again when the form comes back after an
    edit: the sealed value must pass as it is, not be asked for again."""
    from actions.complaints import phone_from_slot, seal_phone

    sealed = seal_phone("13812345678")
    dispatcher = CollectingDispatcher()
    result = await ValidateComplaintForm().validate_contact_phone(
        sealed, dispatcher, tracker(parse_data("东城区", "inform")), DOMAIN
    )
    assert result == {"contact_phone": sealed} and dispatcher.messages == []
    assert phone_from_slot(result["contact_phone"]) == "13812345678"
