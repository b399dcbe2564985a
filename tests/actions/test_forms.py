"""Every form question (complaint, ticket query, service guide) takes
"不知道"/"跳过", "上一步" and corrections, and no form validates the empty
slots its start action cleared (issue 21).

The validation actions are run the way Rasa calls them: a tracker whose last
events are the form's execution and the slot candidates (Rasa's
``FormAction._temporary_tracker``), with the real domain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions._forms import parse_correction
from actions.complaints import (
    FIELD_WORDS,
    ActionComplaintSummary,
    ActionEditComplaint,
    ActionStartComplaint,
    ValidateComplaintForm,
    phone_from_slot,
    seal_phone,
)
from actions.guidance import ValidateServiceGuideForm
from actions.tickets import ActionStartTicketQuery, ValidateTicketStatusForm
from tests.actions.helpers import parse_data, slot_events, tracker

DOMAIN: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "domain.yml").read_text(encoding="utf-8")
)


async def validate_messages(
    form: Any,
    text: str,
    intent: str,
    slots: dict[str, Any],
    candidates: dict[str, Any],
    requested: str | None,
    before: list[dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run ``form`` as Rasa does: (slot values it sets, messages it sends)."""
    latest = parse_data(text, intent)
    events = [
        {"event": "user", "text": text, "parse_data": latest},
        *(before or []),
        {"event": "slot", "name": "requested_slot", "value": requested},
        {"event": "action", "name": form.form_name()},
        *({"event": "slot", "name": k, "value": v} for k, v in candidates.items()),
    ]
    t = Tracker(
        sender_id="rest:forms",
        slots={**slots, **candidates, "requested_slot": requested},
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": form.form_name()} if requested else {},
        latest_action_name=form.form_name(),
    )
    dispatcher = CollectingDispatcher()
    out = await form.run(dispatcher, t, DOMAIN)
    return slot_events(out), dispatcher.messages


async def validate(
    form: Any,
    text: str,
    intent: str,
    slots: dict[str, Any],
    candidates: dict[str, Any],
    requested: str | None,
    before: list[dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Run ``form`` as Rasa does: (slot values it sets, texts it says)."""
    set_slots, messages = await validate_messages(
        form, text, intent, slots, candidates, requested, before
    )
    return set_slots, [m.get("text") or "" for m in messages]


# --- the form's own start is never an answer ----------------------------------


async def test_a_ticket_query_without_a_number_is_asked_once() -> None:
    """ "查一下我的工单进度" used to get "工单编号格式不对…" and "请输入4位数字…"
    before the question: the start action's empty slots were validated."""
    text = "查一下我的工单进度"
    start = await ActionStartTicketQuery().run(
        CollectingDispatcher(), tracker(parse_data(text, "check_ticket")), DOMAIN
    )
    cleared = slot_events(start)
    assert cleared == {"ticket_no": None, "ticket_phone_last4": None}
    slots, said = await validate(
        ValidateTicketStatusForm(), text, "check_ticket", {}, cleared, None, start
    )
    assert said == []
    assert slots.get("ticket_no") is None and slots.get("ticket_phone_last4") is None


async def test_a_number_in_the_first_sentence_is_taken() -> None:
    text = "我的工单20261205-000004到哪一步了"
    start = slot_events(
        await ActionStartTicketQuery().run(
            CollectingDispatcher(), tracker(parse_data(text, "check_ticket")), DOMAIN
        )
    )
    assert start["ticket_no"] == "20261205-000004"
    slots, said = await validate(
        ValidateTicketStatusForm(), text, "check_ticket", {}, {"ticket_no": "20261205-000004"},
        None,
    )  # fmt: skip
    assert said == [] and slots["ticket_no"] == "20261205-000004"


async def test_a_short_complaint_asks_what_happened_and_skips_nothing() -> None:
    """ "我要投诉" used to get "请再具体描述一下" and "号码格式好像不对", and
    the place, time and name were filled with "未提供"/"匿名" unasked (issue 18)."""
    text = "我要投诉"
    start = await ActionStartComplaint().run(
        CollectingDispatcher(), tracker(parse_data(text, "complain")), DOMAIN
    )
    candidates = {k: v for k, v in slot_events(start).items() if k in FIELD_WORDS}
    pending = {"complaint_submission_id": "x", "complaint_type": "complaint"}
    slots, said = await validate(
        ValidateComplaintForm(), text, "complain", pending, candidates, None, start
    )
    assert said == []
    assert all(slots.get(k) is None for k in FIELD_WORDS), slots


async def test_a_guide_request_without_a_service_is_asked_once() -> None:
    slots, said = await validate(
        ValidateServiceGuideForm(), "我想办个业务", "request_service_guide", {},
        {"service": None, "service_mode": None}, None,
    )  # fmt: skip
    assert said == [] and slots.get("service") is None


# --- "不知道" / "跳过" --------------------------------------------------------

COMPLAINT = {"complaint_submission_id": "s1", "complaint_type": "complaint"}


@pytest.mark.parametrize("text", ["不知道", "跳过", "我也不清楚", "这个跳过吧"])
async def test_optional_complaint_questions_can_be_skipped(text: str) -> None:
    slots, _ = await validate(
        ValidateComplaintForm(), text, "skip", {**COMPLAINT, "complaint_what": "路灯坏了一个月"},
        {"complaint_where": text}, "complaint_where",
    )  # fmt: skip
    assert slots["complaint_where"] == "未提供"


async def test_what_happened_cannot_be_skipped_but_offers_a_person() -> None:
    slots, said = await validate(
        ValidateComplaintForm(), "不知道", "skip", COMPLAINT,
        {"complaint_what": "不知道"}, "complaint_what",
    )  # fmt: skip
    assert slots["complaint_what"] is None and "发生了什么" in said[0]


async def test_skipping_the_phone_is_anonymous_and_says_what_that_means() -> None:
    slots, said = await validate(
        ValidateComplaintForm(), "跳过", "skip", COMPLAINT,
        {"contact_phone": "跳过"}, "contact_phone",
    )  # fmt: skip
    assert slots["contact_phone"] == "匿名" and "无法电话回访" in said[0]


async def test_skipping_the_ticket_number_says_where_it_is() -> None:
    slots, said = await validate(
        ValidateTicketStatusForm(), "不知道", "skip", {}, {"ticket_no": "不知道"}, "ticket_no"
    )
    assert slots["ticket_no"] is None
    assert "格式不对" not in said[0] and "登记成功时" in said[0]


async def test_skipping_the_way_shows_the_online_way() -> None:
    slots, _ = await validate(
        ValidateServiceGuideForm(), "不知道", "skip", {"service": "residence_permit"},
        {"service_mode": "不知道"}, "service_mode",
    )  # fmt: skip
    assert slots["service_mode"] in ("online", "offline")


# --- "上一步" ---------------------------------------------------------------


async def test_back_asks_the_previous_question_again() -> None:
    filled = {**COMPLAINT, "complaint_what": "路灯坏了", "complaint_where": "南城鸿福路",
              "complaint_when": "上周"}  # fmt: skip
    slots, said = await validate(
        ValidateComplaintForm(), "上一步", "go_back", filled,
        {"contact_phone": "上一步"}, "contact_phone",
    )  # fmt: skip
    assert slots == {"complaint_when": None, "contact_phone": None}
    assert "时间" in said[0]


async def test_back_skips_questions_never_asked() -> None:
    """A suggestion never asks the time: back from the phone goes to the place."""
    filled = {**COMPLAINT, "complaint_type": "suggestion", "complaint_what": "多设路灯",
              "complaint_where": "东城", "complaint_when": "未提供"}  # fmt: skip
    slots, _ = await validate(
        ValidateComplaintForm(), "返回上一步", "go_back", filled,
        {"contact_phone": "返回上一步"}, "contact_phone",
    )  # fmt: skip
    assert slots == {"complaint_where": None, "contact_phone": None}


async def test_back_on_the_first_question_says_so() -> None:
    slots, said = await validate(
        ValidateTicketStatusForm(), "上一步", "go_back", {}, {"ticket_no": "上一步"}, "ticket_no"
    )
    assert slots == {"ticket_no": None} and "第一个问题" in said[0]


async def test_back_in_the_ticket_query() -> None:
    slots, _ = await validate(
        ValidateTicketStatusForm(), "上一步", "go_back", {"ticket_no": "20261205-000004"},
        {"ticket_phone_last4": "上一步"}, "ticket_phone_last4",
    )  # fmt: skip
    assert slots == {"ticket_no": None, "ticket_phone_last4": None}


# --- corrections of an earlier answer --------------------------------------


def test_corrections_are_recognised_only_when_they_say_so() -> None:
    assert parse_correction("地址说错了，是东城街道东纵路", FIELD_WORDS) == (
        "complaint_where", "东城街道东纵路",
    )  # fmt: skip
    assert parse_correction("刚才地址说错了", FIELD_WORDS) == ("complaint_where", None)
    assert parse_correction("时间改为上周五下午", FIELD_WORDS) == ("complaint_when", "上周五下午")
    assert parse_correction("不好意思，电话留错了 应该是13912345678", FIELD_WORDS) == (
        "contact_phone", "13912345678",
    )  # fmt: skip
    assert parse_correction("修改一下地址，改成莞城街道", FIELD_WORDS) == (
        "complaint_where", "莞城街道",
    )  # fmt: skip
    # an answer that merely mentions a field is an answer
    assert parse_correction("物业说我电话号码不对，不给我登记", FIELD_WORDS) is None
    assert parse_correction("在南城区鸿福路", FIELD_WORDS) is None


async def test_a_correction_at_a_later_question_replaces_the_earlier_answer() -> None:
    filled = {**COMPLAINT, "complaint_what": "路灯坏了", "complaint_where": "南城街道",
              "complaint_when": "上周"}  # fmt: skip
    text = "地址说错了，是东城街道东纵路"
    slots, said = await validate(
        ValidateComplaintForm(), text, "edit_complaint", filled,
        {"contact_phone": text}, "contact_phone",
    )  # fmt: skip
    assert slots == {"complaint_where": "东城街道东纵路", "contact_phone": None}
    assert "地点已改为：东城街道东纵路" in said[0]
    assert not any("格式" in s for s in said)  # not read as a phone number


async def test_a_corrected_phone_is_checked_and_sealed() -> None:
    filled = {**COMPLAINT, "complaint_what": "路灯坏了", "complaint_where": "南城",
              "complaint_when": "上周", "contact_phone": seal_phone("13812345678")}  # fmt: skip
    text = "电话说错了，是13912345678"
    slots, said = await validate(
        ValidateComplaintForm(), text, "edit_complaint", filled,
        {"contact_name": text}, "contact_name",
    )  # fmt: skip
    assert phone_from_slot(slots["contact_phone"]) == "13912345678"
    assert slots["contact_name"] is None and "139****5678" in said[0]


async def test_not_this_but_that_corrects_the_answer_that_said_it() -> None:
    filled = {**COMPLAINT, "complaint_what": "路灯坏了", "complaint_where": "万江公交总站"}
    slots, _ = await validate(
        ValidateComplaintForm(), "不是万江，是东城", "inform", filled,
        {"complaint_when": "不是万江，是东城"}, "complaint_when",
    )  # fmt: skip
    assert slots == {"complaint_where": "东城公交总站", "complaint_when": None}


async def test_a_correction_without_a_value_asks_again() -> None:
    filled = {**COMPLAINT, "complaint_what": "路灯坏了", "complaint_where": "南城"}
    slots, said = await validate(
        ValidateComplaintForm(), "地点说错了", "edit_complaint", filled,
        {"complaint_when": "地点说错了"}, "complaint_when",
    )  # fmt: skip
    assert slots == {"complaint_where": None, "complaint_when": None}
    assert "重新告诉我地点" in said[0]


async def test_the_ticket_number_can_be_corrected_while_asked_for_the_digits() -> None:
    slots, _ = await validate(
        ValidateTicketStatusForm(), "编号输错了，是20261205-000005", "edit_complaint",
        {"ticket_no": "20261205-000004"},
        {"ticket_phone_last4": "编号输错了，是20261205-000005"}, "ticket_phone_last4",
    )  # fmt: skip
    assert slots == {"ticket_no": "20261205-000005", "ticket_phone_last4": None}


# --- after the summary -------------------------------------------------------

DONE = {**COMPLAINT, "complaint_what": "楼下KTV半夜太吵", "complaint_where": "南城鸿福路",
        "complaint_when": "每晚", "contact_phone": "匿名", "contact_name": "匿名"}  # fmt: skip


async def test_a_correction_with_its_value_after_the_summary_is_taken_at_once() -> None:
    t = tracker(parse_data("地址说错了，是东城街道东纵路", "edit_complaint"), slots=DONE)
    slots = slot_events(await ActionEditComplaint().run(CollectingDispatcher(), t, DOMAIN))
    assert slots["complaint_where"] == "东城街道东纵路"


async def test_back_after_the_summary_reopens_the_last_question() -> None:
    t = tracker(parse_data("上一步", "go_back"), slots=DONE)
    dispatcher = CollectingDispatcher()
    slots = slot_events(await ActionEditComplaint().run(dispatcher, t, DOMAIN))
    # "匿名" answered phone and name at once: back to the phone
    assert slots["contact_phone"] is None and slots["contact_name"] is None
    assert "上一步" in dispatcher.messages[0]["text"]


async def test_nothing_pending_the_form_asks_nothing() -> None:
    slots, said = await validate(ValidateComplaintForm(), "上一步", "go_back", {}, {}, None)
    assert slots.get("requested_slot", "unset") is None and said == []
    dispatcher = CollectingDispatcher()
    t = tracker(parse_data("上一步", "go_back"), slots={})
    await ActionComplaintSummary().run(dispatcher, t, DOMAIN)
    assert dispatcher.messages == []


async def test_the_summary_shows_what_will_be_sent_and_where() -> None:
    dispatcher = CollectingDispatcher()
    await ActionComplaintSummary().run(
        dispatcher, tracker(parse_data("王", "inform"), DONE), DOMAIN
    )
    text = dispatcher.messages[0]["text"]
    assert "楼下KTV半夜太吵" in text and "南城鸿福路" in text and "每晚" in text
    # where the dispatch rules send it (a town-level noise complaint in 南城)
    assert "匿名（不回访" in text and "转交：南城街道办事处（噪音扰民）" in text


async def test_a_service_complaint_asks_no_place_and_goes_to_the_supervisors() -> None:
    upset = parse_data("你们这个办事效率太差了，我都打了三次电话了！！", "complain_service")
    t = tracker(
        parse_data("/record_service_complaint", "record_service_complaint"),
        history=[{"event": "user", "text": upset["text"], "parse_data": upset}],
    )
    dispatcher = CollectingDispatcher()
    slots = slot_events(await ActionStartComplaint().run(dispatcher, t, DOMAIN))
    assert slots["complaint_type"] == "service"
    assert slots["complaint_what"] == upset["text"] and slots["complaint_where"] == "未提供"
    assert "抱歉" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/request_human"
    filled = {**DONE, "complaint_type": "service", "complaint_where": "未提供"}
    dispatcher = CollectingDispatcher()
    await ActionComplaintSummary().run(
        dispatcher, tracker(parse_data("x", "inform"), filled), DOMAIN
    )
    text = dispatcher.messages[0]["text"]
    assert "地点" not in text and "12345热线服务监督组" in text
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert "修改地点" not in titles


# --- refusals, negations, "不知道" and corrections as citizens say them (issue 18)

PHONE_ASKED = {**COMPLAINT, "complaint_what": "楼下烧烤店油烟很大", "complaint_where": "南城",
               "complaint_when": "每晚"}  # fmt: skip
NAME_ASKED = {**PHONE_ASKED, "contact_phone": seal_phone("13711112228")}


@pytest.mark.parametrize("intent", ["skip", "deny", "inform"])
async def test_not_anonymous_is_not_a_refusal(intent: str) -> None:
    """Asked for a phone number, "不需要匿名" registered the complaint as
    anonymous (issue 18): the number is asked for, nothing is stored."""
    slots, said = await validate(
        ValidateComplaintForm(), "不需要匿名", intent, PHONE_ASKED,
        {"contact_phone": "不需要匿名"}, "contact_phone",
    )  # fmt: skip
    assert slots == {"contact_phone": None}
    assert "不匿名" in said[0] and "电话" in said[0]


async def test_a_phone_said_in_chinese_digits_after_a_negation() -> None:
    text = "不用匿名，我电话一三九一二三四五六七八"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", PHONE_ASKED, {"contact_phone": text},
        "contact_phone",
    )  # fmt: skip
    assert phone_from_slot(slots["contact_phone"]) == "13912345678"


@pytest.mark.parametrize("text", ["电话就不留了，怕被报复", "不是不愿意留，还是匿名吧"])
async def test_a_refused_phone_is_anonymous_and_says_what_that_means(text: str) -> None:
    slots, said = await validate(
        ValidateComplaintForm(), text, "deny", PHONE_ASKED, {"contact_phone": text},
        "contact_phone",
    )  # fmt: skip
    assert slots == {"contact_phone": "匿名", "contact_name": "匿名"}
    assert "无法电话回访" in said[0]


async def test_anonymous_as_the_question_offers_it_skips_the_name_too() -> None:
    """"匿名", the word the phone question offers, files the complaint anonymously
    at once (no name question), as before the form answers were read."""
    slots, _ = await validate(
        ValidateComplaintForm(), "匿名", "inform", PHONE_ASKED, {"contact_phone": "匿名"},
        "contact_phone",
    )  # fmt: skip
    assert slots == {"contact_phone": "匿名", "contact_name": "匿名"}


async def test_a_name_is_taken_out_of_chatter_and_a_refusal_is_anonymous() -> None:
    text = "名字也不是不能留，叫我李女士就行"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", NAME_ASKED, {"contact_name": text},
        "contact_name",
    )  # fmt: skip
    assert slots == {"contact_name": "李女士"}
    slots, _ = await validate(
        ValidateComplaintForm(), "名字不用登记", "deny", NAME_ASKED,
        {"contact_name": "名字不用登记"}, "contact_name",
    )  # fmt: skip
    assert slots == {"contact_name": "匿名"}


async def test_a_bare_no_asks_the_question_again_saying_what_is_needed() -> None:
    slots, said = await validate(
        ValidateComplaintForm(), "不是", "deny", {**COMPLAINT, "complaint_what": "井盖丢了"},
        {"complaint_where": "不是"}, "complaint_where",
    )  # fmt: skip
    assert slots == {"complaint_where": None} and "地点" in said[0]


async def test_unsure_then_an_answer_keeps_the_answer() -> None:
    text = "想不起来了，好像是周三早上"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "skip", {**COMPLAINT, "complaint_what": "井盖丢了",
        "complaint_where": "东城"}, {"complaint_when": text}, "complaint_when",
    )  # fmt: skip
    assert slots == {"complaint_when": "好像是周三早上"}


async def test_not_a_but_b_after_a_mistake_replaces_the_earlier_answer() -> None:
    text = "刚才说错了，不是路灯，是红绿灯坏了"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "edit_complaint",
        {**COMPLAINT, "complaint_what": "路灯坏了"}, {"complaint_where": text}, "complaint_where",
    )  # fmt: skip
    assert slots == {"complaint_what": "红绿灯坏了", "complaint_where": None}


async def test_a_correction_with_chatter_before_the_new_value() -> None:
    text = "电话刚才打错一位，是13711112222"
    slots, said = await validate(
        ValidateComplaintForm(), text, "edit_complaint", NAME_ASKED, {"contact_name": text},
        "contact_name",
    )  # fmt: skip
    assert phone_from_slot(slots["contact_phone"]) == "13711112222"
    assert slots["contact_name"] is None and "137****2222" in said[0]
    text = "地址写错了，应该是虎门连升路，不是厚街"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "edit_complaint", {**PHONE_ASKED, "complaint_where": "厚街"},
        {"complaint_when": text}, "complaint_when",
    )  # fmt: skip
    assert slots["complaint_where"] == "虎门连升路"


async def test_ticket_answers_with_chinese_digits_and_a_lost_number() -> None:
    slots, _ = await validate(
        ValidateTicketStatusForm(), "后四位是三四五六", "inform", {"ticket_no": "20261201-000456"},
        {"ticket_phone_last4": "后四位是三四五六"}, "ticket_phone_last4",
    )  # fmt: skip
    assert slots["ticket_phone_last4"] == "3456"
    text = "单号找不到了，短信删了"
    slots, said = await validate(
        ValidateTicketStatusForm(), text, "inform", {}, {"ticket_no": text}, "ticket_no"
    )
    assert slots == {"ticket_no": None} and "登记成功时" in said[0]


async def test_a_negated_way_is_the_other_way_and_a_wrong_service_is_replaced() -> None:
    slots, _ = await validate(
        ValidateServiceGuideForm(), "不要网上的", "deny", {"service": "residence_permit"},
        {"service_mode": "不要网上的"}, "service_mode",
    )  # fmt: skip
    assert slots["service_mode"] == "offline"
    text = "搞错了 我要办的不是居住证 是户口迁入"
    slots, _ = await validate(
        ValidateServiceGuideForm(), text, "deny", {"service": "residence_permit"},
        {"service_mode": text}, "service_mode",
    )  # fmt: skip
    assert slots["service"] == "household_move_in"


@pytest.mark.parametrize(
    ("text", "service"),
    [("办那个去澳门的通行证", "hk_macau_permit"), ("提取公基晶", "provident_fund_withdrawal")],
)
async def test_a_service_written_loosely_is_found_at_the_service_question(
    text: str, service: str
) -> None:
    slots, _ = await validate(
        ValidateServiceGuideForm(), text, "inform", {}, {"service": text}, "service"
    )
    assert slots["service"] == service


async def test_no_loose_guess_from_a_few_shared_characters() -> None:
    slots, said = await validate(
        ValidateServiceGuideForm(), "我想问一下社保", "inform", {},
        {"service": "我想问一下社保"}, "service",
    )  # fmt: skip
    assert slots["service"] is None and said


# --- leaving from an answer, corrections in more words (forms helper) ----------


async def run_events(
    form: Any, text: str, slots: dict[str, Any], requested: str, intent: str = "inform"
) -> list[dict[str, Any]]:
    """The events ``form`` returns for ``text`` answering ``requested`` (all of them)."""
    latest = parse_data(text, intent)
    t = Tracker(
        sender_id="rest:forms",
        slots={**slots, requested: text, "requested_slot": requested},
        latest_message=latest,
        events=[
            {"event": "user", "text": text, "parse_data": latest},
            {"event": "slot", "name": "requested_slot", "value": requested},
            {"event": "action", "name": form.form_name()},
            {"event": "slot", "name": requested, "value": text},
        ],
        paused=False,
        followup_action=None,
        active_loop={"name": form.form_name()},
        latest_action_name=form.form_name(),
    )
    return list(await form.run(CollectingDispatcher(), t, DOMAIN))


@pytest.mark.parametrize(
    ("form", "text", "slots", "requested", "action"),
    [
        (ValidateComplaintForm(), "不投了 浪费时间", {**COMPLAINT, "complaint_what": "漏水",
         "complaint_where": "常平"}, "complaint_when", "action_cancel_process"),
        (ValidateComplaintForm(), "我想跟客服本人讲", COMPLAINT, "complaint_what",
         "action_handoff"),
        (ValidateTicketStatusForm(), "不查了 谢谢", {}, "ticket_no", "action_cancel_process"),
        (ValidateServiceGuideForm(), "下次再说", {}, "service", "action_cancel_process"),
    ],
)  # fmt: skip
async def test_an_answer_that_leaves_ends_the_form_with_the_rules_action(
    form: Any, text: str, slots: dict[str, Any], requested: str, action: str
) -> None:
    """What the NLU did not read as ``stop``/``request_human`` still leaves: the
    form ends (no question asked, nothing stored) and the rules' action follows."""
    events = await run_events(form, text, slots, requested)
    assert any(e.get("event") == "active_loop" and e.get("name") is None for e in events)
    assert any(e.get("event") == "followup" and e.get("name") == action for e in events)
    assert not any(e.get("event") == "slot" and e.get("name") == requested and e.get("value")
                   for e in events)  # fmt: skip


async def test_refusing_the_phone_after_suanle_is_no_cancel() -> None:
    slots, _ = await validate(
        ValidateComplaintForm(), "算了 不留了", "inform", PHONE_ASKED,
        {"contact_phone": "算了 不留了"}, "contact_phone",
    )  # fmt: skip
    assert slots["contact_phone"] == "匿名"


def test_more_ways_of_correcting_a_named_answer() -> None:
    assert parse_correction("更正一下 问题是路灯倒了", FIELD_WORDS) == (
        "complaint_what", "路灯倒了",
    )  # fmt: skip
    assert parse_correction("等等 电话最后一位错了 13924567813", FIELD_WORDS) == (
        "contact_phone", "13924567813",
    )  # fmt: skip
    assert parse_correction("地址其实在东城", FIELD_WORDS) == ("complaint_where", "东城")
    assert parse_correction("地址说错了，我重新说", FIELD_WORDS) == ("complaint_where", None)
    assert parse_correction("不好意思 单号应该是20261128-000123",
                            ValidateTicketStatusForm.FIELDS) == (
        "ticket_no", "20261128-000123",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [
        ("时间不是每晚 是每天早上", "complaint_when", "每天早上"),
        ("地址不是南城 是东城", "complaint_where", "东城"),
    ],
)
async def test_naming_the_field_then_not_a_but_b(text: str, slot: str, value: str) -> None:
    slots, _ = await validate(
        ValidateComplaintForm(), text, "edit_complaint", NAME_ASKED,
        {"contact_name": text}, "contact_name",
    )  # fmt: skip
    assert slots[slot] == value and slots["contact_name"] is None


async def test_a_mistake_without_naming_the_field_corrects_the_answer_just_given() -> None:
    text = "不好意思 刚才打错字了 是路灯倒了"
    slots, said = await validate(
        ValidateComplaintForm(), text, "inform", {**COMPLAINT, "complaint_what": "路灯坏了"},
        {"complaint_where": text}, "complaint_where",
    )  # fmt: skip
    assert slots == {"complaint_what": "路灯倒了", "complaint_where": None}
    assert "诉求内容已改为：路灯倒了" in said[0]
    text = "不是在塘厦 是在凤岗"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", {**COMPLAINT, "complaint_what": "噪音",
        "complaint_where": "塘厦"}, {"complaint_when": text}, "complaint_when",
    )  # fmt: skip
    assert slots["complaint_where"] == "凤岗"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("2026 1127 000123", "20261127-000123"),
        ("二零二六一一二七 杠 零零零一二三", "20261127-000123"),
        ("编号 20261127－000123", "20261127-000123"),
    ],
)
async def test_ticket_numbers_in_groups_and_spoken_dashes(text: str, number: str) -> None:
    slots, _ = await validate(
        ValidateTicketStatusForm(), text, "inform", {}, {"ticket_no": text}, "ticket_no"
    )
    assert slots == {"ticket_no": number}


async def test_last_four_digits_said_one_by_one() -> None:
    slots, _ = await validate(
        ValidateTicketStatusForm(), "0 9 2 1", "inform", {"ticket_no": "20261127-000123"},
        {"ticket_phone_last4": "0 9 2 1"}, "ticket_phone_last4",
    )  # fmt: skip
    assert slots["ticket_phone_last4"] == "0921"


async def test_not_this_service_but_that_one_at_the_way_question() -> None:
    text = "不是身份证 是社保卡"
    slots, _ = await validate(
        ValidateServiceGuideForm(), text, "request_service_guide", {"service": "id_card"},
        {"service_mode": text}, "service_mode",
    )  # fmt: skip
    assert slots["service"] == "social_security_card" and slots["service_mode"] is None


async def test_naming_the_field_then_not_a_but_b_replaces_the_part_said() -> None:
    text = "编号不是000088 是000089"
    slots, _ = await validate(
        ValidateTicketStatusForm(), text, "inform", {"ticket_no": "20261130-000088"},
        {"ticket_phone_last4": text}, "ticket_phone_last4",
    )  # fmt: skip
    assert slots == {"ticket_no": "20261130-000089", "ticket_phone_last4": None}
    text = "地点打错了 是大朗不是大岭山"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "edit_complaint", {**COMPLAINT, "complaint_what": "噪音",
        "complaint_where": "大岭山"}, {"complaint_when": text}, "complaint_when",
    )  # fmt: skip
    assert slots["complaint_where"] == "大朗"


async def test_no_need_at_the_service_question_cancels() -> None:
    events = await run_events(ValidateServiceGuideForm(), "不用了", {}, "service")
    assert any(e.get("name") == "action_cancel_process" for e in events)
    slots, _ = await validate(
        ValidateComplaintForm(), "不用了", "inform", PHONE_ASKED,
        {"contact_phone": "不用了"}, "contact_phone",
    )  # fmt: skip
    assert slots["contact_phone"] == "匿名"  # the phone may be refused


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [
        ("哦对了 地方说错了 在道滘", "complaint_where", "道滘"),
        ("把地址改成樟木头镇", "complaint_where", "樟木头镇"),
        ("不对不对 是上周六 不是上周五", "complaint_when", "上周六"),
        ("我前面讲错咗 系万江唔系南城", "complaint_where", "万江"),
    ],
)
async def test_corrections_with_leads_and_the_right_value_first(
    text: str, slot: str, value: str
) -> None:
    filled = {**PHONE_ASKED, "complaint_where": "南城", "complaint_when": "上周五"}
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", filled, {"contact_phone": text}, "contact_phone"
    )
    assert slots[slot] == value and slots["contact_phone"] is None


@pytest.mark.parametrize(
    "text",
    ["刚刚那个电话号码错了，正确的是13512345678", "手机号码多打了一个数 应该是13512345678",
     "号码错咗 系13512345678"],
)  # fmt: skip
async def test_phone_corrections_in_more_words(text: str) -> None:
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", NAME_ASKED, {"contact_name": text}, "contact_name"
    )
    assert phone_from_slot(slots["contact_phone"]) == "13512345678"


async def test_full_width_ticket_digits_are_stored_as_ascii() -> None:
    text = "编号２０２６１２０１-０００００９"
    slots, _ = await validate(
        ValidateTicketStatusForm(), text, "check_ticket", {}, {"ticket_no": text}, "ticket_no"
    )
    assert slots == {"ticket_no": "20261201-000009"}
    text = "单号少打了一位 是20261201-000019"
    slots, _ = await validate(
        ValidateTicketStatusForm(), text, "check_ticket", {"ticket_no": "20261201-000009"},
        {"ticket_phone_last4": text}, "ticket_phone_last4",
    )  # fmt: skip
    assert slots["ticket_no"] == "20261201-000019"


@pytest.mark.parametrize(
    ("text", "service"),
    [("居住整", "residence_permit"), ("我想开间公司", "business_license"),
     ("装个电表", "electricity_service")],
)  # fmt: skip
async def test_a_short_name_one_character_off_at_the_service_question(
    text: str, service: str
) -> None:
    slots, _ = await validate(
        ValidateServiceGuideForm(), text, "inform", {}, {"service": text}, "service"
    )
    assert slots["service"] == service


def test_a_short_name_one_character_off_is_taken_only_when_it_is_one_service() -> None:
    from actions.guidance import match_short_alias

    assert match_short_alias("我想问一下社保") is None
    assert match_short_alias("办个证") is None
    assert match_short_alias("你好") is None


async def test_a_mistake_after_the_question_was_asked_again_answers_it() -> None:
    """ "打错了，13812345678" after a malformed phone fixes this answer, not the
    time given before it."""
    text = "打错了 是13812345678"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", PHONE_ASKED, {"contact_phone": text},
        "contact_phone",
    )  # fmt: skip
    assert phone_from_slot(slots["contact_phone"]) == "13812345678"
    assert "complaint_when" not in slots
    # a free-text question asked again: the earlier message answered it
    text = "说错了 是东城"
    before = [
        {"event": "slot", "name": "requested_slot", "value": "complaint_where"},
        {"event": "user", "text": "嗯", "parse_data": parse_data("嗯", "inform")},
    ]
    filled = {**COMPLAINT, "complaint_what": "路灯坏了"}
    latest = parse_data(text, "inform")
    t = Tracker(
        sender_id="rest:forms",
        slots={**filled, "complaint_where": text, "requested_slot": "complaint_where"},
        latest_message=latest,
        events=[*before, {"event": "bot", "text": "事情发生在哪里？"},
                {"event": "user", "text": text, "parse_data": latest},
                {"event": "action", "name": "complaint_form"},
                {"event": "slot", "name": "complaint_where", "value": text}],
        paused=False, followup_action=None, active_loop={"name": "complaint_form"},
        latest_action_name="complaint_form",
    )  # fmt: skip
    slots = slot_events(await ValidateComplaintForm().run(CollectingDispatcher(), t, DOMAIN))
    assert slots["complaint_where"] == "东城" and "complaint_what" not in slots


def test_a_correction_naming_the_earlier_answer_as_qianmian_de() -> None:
    assert parse_correction("前面的时间说错了 应该是每天早上六点", FIELD_WORDS) == (
        "complaint_when", "每天早上六点",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [
        ("反映的情况说错了 应该是井盖不见了", "complaint_what", "井盖不见了"),
        ("路名写错了 应该是鸿福路 不是宏福路", "complaint_where", "鸿福路"),
        ("日子记错了 是上周六", "complaint_when", "上周六"),
        ("联系电话少写了一位 应该是13811112223", "contact_phone", "13811112223"),
    ],
)
def test_more_names_of_the_fields(text: str, slot: str, value: str) -> None:
    assert parse_correction(text, FIELD_WORDS) == (slot, value)


def test_corrections_with_gengai_and_a_colon() -> None:
    assert parse_correction("更改电话号码为13712341234", FIELD_WORDS) == (
        "contact_phone", "13712341234",
    )  # fmt: skip
    assert parse_correction("诉求内容更正：小区垃圾三天没人收", FIELD_WORDS) == (
        "complaint_what", "小区垃圾三天没人收",
    )  # fmt: skip
    assert parse_correction("我重新说一下地址：茶山镇南社村", FIELD_WORDS) == (
        "complaint_where", "茶山镇南社村",
    )  # fmt: skip


async def test_no_need_at_a_place_question_skips_it() -> None:
    slots, _ = await validate(
        ValidateComplaintForm(), "不需要了", "deny", {**COMPLAINT, "complaint_what": "网购纠纷"},
        {"complaint_where": "不需要了"}, "complaint_where",
    )  # fmt: skip
    assert slots == {"complaint_where": "未提供"}


@pytest.mark.parametrize(
    ("text", "service"),
    [("公司注册", "business_license"), ("医保参保", "resident_medical_insurance")],
)  # fmt: skip
async def test_a_name_reordered_or_cut_short_at_the_service_question(
    text: str, service: str
) -> None:
    slots, _ = await validate(
        ValidateServiceGuideForm(), text, "inform", {}, {"service": text}, "service"
    )
    assert slots["service"] == service


async def test_not_this_word_but_that_one_in_the_understood_service() -> None:
    text = "唔系水表 系电表"
    slots, _ = await validate(
        ValidateServiceGuideForm(), text, "faq", {"service": "water_service"},
        {"service_mode": text}, "service_mode",
    )  # fmt: skip
    assert slots["service"] == "electricity_service"


async def test_a_ticket_number_said_with_the_year() -> None:
    text = "二零二六年一二零四 零零零零一一"
    slots, _ = await validate(
        ValidateTicketStatusForm(), text, "faq", {}, {"ticket_no": text}, "ticket_no"
    )
    assert slots == {"ticket_no": "20261204-000011"}


@pytest.mark.parametrize(
    ("text", "service"),
    [("开个证明 证明我没犯过罪的那种 单位要", "no_criminal_record"),
     ("违章的罚单怎么交", "traffic_violation"), ("残疾人的证", "disability_card"),
     ("出入境 去台湾", "taiwan_permit")],
)  # fmt: skip
def test_a_service_named_by_characters_only_its_names_use(text: str, service: str) -> None:
    from actions.guidance import match_by_own_characters

    found = match_by_own_characters(text)
    assert found is not None and found.id == service


@pytest.mark.parametrize(
    "text", ["我想问一下社保", "我丢了东西", "我要投诉物业", "去香港那个证件", "帮我看看怎么办"]
)
def test_one_own_character_or_common_ones_name_no_service(text: str) -> None:
    from actions.guidance import match_by_own_characters

    assert match_by_own_characters(text) is None


async def test_a_short_corrected_what_is_taken() -> None:
    text = "上面讲错咗 系鸡叫"
    slots, said = await validate(
        ValidateComplaintForm(), text, "faq", {**COMPLAINT, "complaint_what": "狗叫"},
        {"complaint_where": text}, "complaint_where",
    )  # fmt: skip
    assert slots == {"complaint_what": "鸡叫", "complaint_where": None}
    assert "诉求内容已改为：鸡叫" in said[0]


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [
        ("莞城写错了 是万江", "complaint_where", "万江"),  # the wrong answer named by its value
        ("唔好意思 地址打错咗 应该系万江", "complaint_where", "万江"),
        ("投诉内容搞错了 其实是偷倒废油", "complaint_what", "偷倒废油"),
    ],
)
async def test_round_8_corrections(text: str, slot: str, value: str) -> None:
    filled = {**COMPLAINT, "complaint_what": "偷倒垃圾", "complaint_where": "莞城"}
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", filled, {"complaint_when": text}, "complaint_when"
    )
    assert slots[slot] == value and slots["complaint_when"] is None


async def test_round_9_corrections() -> None:
    text = "13712222222不对 是13711112222"  # the wrong phone named by itself
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform",
        {**NAME_ASKED, "contact_phone": seal_phone("13712222222")},
        {"contact_name": text}, "contact_name",
    )  # fmt: skip
    assert phone_from_slot(slots["contact_phone"]) == "13711112222"
    text = "我想改下诉求 是电梯异响"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", {**COMPLAINT, "complaint_what": "电梯困人"},
        {"complaint_where": text}, "complaint_where",
    )  # fmt: skip
    assert slots["complaint_what"] == "电梯异响"


async def test_round_10_corrections() -> None:
    text = "虎门改成厚街"  # the wrong answer named by its value, with 改成
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", {**COMPLAINT, "complaint_what": "噪音",
        "complaint_where": "虎门"}, {"complaint_when": text}, "complaint_when",
    )  # fmt: skip
    assert slots["complaint_where"] == "厚街"
    text = "电话号码重新说一下 13800138001"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", NAME_ASKED, {"contact_name": text},
        "contact_name",
    )  # fmt: skip
    assert phone_from_slot(slots["contact_phone"]) == "13800138001"
    text = "不是社保卡 是医保"  # two characters set against the service understood
    slots, said = await validate_messages(
        ValidateServiceGuideForm(), text, "deny", {"service": "social_security_card"},
        {"service_mode": text}, "service_mode",
    )  # fmt: skip
    assert slots["service"] is None  # four services are 医保: which one is asked
    assert "resident_medical_insurance" in offered(said)


def _stop_tracker(text: str, requested: str, slots: dict[str, Any]) -> Tracker:
    latest = parse_data(text, "stop")
    return Tracker(
        sender_id="rest:forms", slots={**slots, "requested_slot": requested},
        latest_message=latest, events=[{"event": "user", "text": text, "parse_data": latest}],
        paused=False, followup_action=None, active_loop={"name": "complaint_form"},
        latest_action_name="action_listen",
    )  # fmt: skip


@pytest.mark.parametrize("text", ["名字就别登记了", "称呼就不用了", "算了名字不用了"])
async def test_a_name_refusal_read_as_stop_refuses_the_name_not_the_complaint(text: str) -> None:
    from actions.complaints import ActionCancelProcess

    events = await ActionCancelProcess().run(
        CollectingDispatcher(), _stop_tracker(text, "contact_name", NAME_ASKED), DOMAIN
    )
    assert slot_events(events) == {"contact_name": "匿名"}
    assert any(e.get("event") == "followup" and e.get("name") == "complaint_form" for e in events)


@pytest.mark.parametrize(
    ("text", "requested"),
    [("算了 不投诉了", "contact_name"), ("算了", "contact_name"),
     ("名字就别登记了", "complaint_when")],
)  # fmt: skip
async def test_a_real_stop_still_cancels(text: str, requested: str) -> None:
    from actions.complaints import ActionCancelProcess

    events = await ActionCancelProcess().run(
        CollectingDispatcher(), _stop_tracker(text, requested, NAME_ASKED), DOMAIN
    )
    assert any(e.get("event") == "active_loop" and e.get("name") is None for e in events)
    assert slot_events(events)["complaint_submission_id"] is None


async def test_round_12_corrections_and_a_short_what() -> None:
    filled = {**PHONE_ASKED, "complaint_where": "东城", "complaint_when": "前天"}
    for text, slot, value in [
        ("地址错咗 唔系东城 系南城", "complaint_where", "南城"),
        ("前天不对 大前天", "complaint_when", "大前天"),
    ]:
        slots, _ = await validate(
            ValidateComplaintForm(), text, "inform", filled, {"contact_phone": text},
            "contact_phone",
        )  # fmt: skip
        assert slots[slot] == value
    # two meaningful characters describe; a greeting does not
    slots, _ = await validate(
        ValidateComplaintForm(), "噪音", "inform", COMPLAINT, {"complaint_what": "噪音"},
        "complaint_what",
    )  # fmt: skip
    assert slots["complaint_what"] == "噪音"
    slots, _ = await validate(
        ValidateComplaintForm(), "你好", "greet", COMPLAINT, {"complaint_what": "你好"},
        "complaint_what",
    )  # fmt: skip
    assert slots["complaint_what"] is None


# --- answers the NLU took for leaving (forms helper 2) ----------------------------


async def after_misread(
    form: Any,
    text: str,
    intent: str,
    slots: dict[str, Any],
    requested: str,
    asked: str | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(events, messages) of ``form`` run as Rasa runs it right after a message
    whose intent the slot mappings leave out (``stop``, ``request_human``):
    the question ``asked`` (default ``requested``) was asked before the message,
    and no slot candidate comes with it."""
    latest = parse_data(text, intent)
    name = form.form_name()
    events = [
        {"event": "action", "name": name},
        {"event": "active_loop", "name": name},
        {"event": "slot", "name": "requested_slot", "value": asked or requested},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": text, "parse_data": latest},
        {"event": "action", "name": "action_extract_slots"},
    ]
    t = Tracker(
        sender_id="rest:forms",
        slots={**slots, "requested_slot": requested},
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": name},
        latest_action_name="action_extract_slots",
    )
    dispatcher = CollectingDispatcher()
    out = list(await form.run(dispatcher, t, DOMAIN))
    return out, dispatcher.messages


@pytest.mark.parametrize(
    ("form", "text", "intent", "slots", "requested", "value"),
    [
        (ValidateServiceGuideForm(), "不想跑", "stop", {"service": "id_card"}, "service_mode",
         "online"),
        (ValidateComplaintForm(), "说不清楚具体位置", "request_human",
         {**COMPLAINT, "complaint_what": "乱倒垃圾"}, "complaint_where", "未提供"),
        (ValidateComplaintForm(), "算了 时间记不得了", "stop",
         {**COMPLAINT, "complaint_what": "噪音", "complaint_where": "南城"}, "complaint_when",
         "未提供"),
        (ValidateComplaintForm(), "算了吧 不想留", "stop", PHONE_ASKED, "contact_phone", "匿名"),
        (ValidateComplaintForm(), "算了 不用称呼", "stop", NAME_ASKED, "contact_name", "匿名"),
        (ValidateComplaintForm(), "不想再被吵了 楼上装修天天电钻", "stop", COMPLAINT,
         "complaint_what", "不想再被吵了 楼上装修天天电钻"),
        (ValidateServiceGuideForm(), "签注", "stop", {}, "service", "hk_macau_permit"),
    ],
)  # fmt: skip
async def test_an_answer_the_nlu_took_for_leaving_answers_the_question(
    form: Any, text: str, intent: str, slots: dict[str, Any], requested: str, value: str
) -> None:
    """Rasa runs the active form before the rules of ``stop`` and
    ``request_human``; the validation reads the message against the question
    asked and takes it as the answer (the form then goes on)."""
    out, _ = await after_misread(form, text, intent, slots, requested)
    assert slot_events(out).get(requested) == value
    assert not any(e.get("event") == "followup" for e in out)


@pytest.mark.parametrize(
    ("form", "text", "intent", "slots", "requested"),
    [
        (ValidateServiceGuideForm(), "不办了", "stop", {"service": "id_card"}, "service_mode"),
        (ValidateServiceGuideForm(), "身份证不办了", "stop", {}, "service"),
        (ValidateServiceGuideForm(), "算了 下次再弄", "stop", {"service": "id_card"},
         "service_mode"),
        (ValidateComplaintForm(), "转人工", "request_human", PHONE_ASKED, "contact_phone"),
        (ValidateComplaintForm(), "说不清楚 你们派人来看", "request_human",
         {**COMPLAINT, "complaint_what": "乱倒垃圾"}, "complaint_where"),
        (ValidateComplaintForm(), "我不清楚 让工作人员跟我说", "request_human",
         {**COMPLAINT, "complaint_what": "乱倒垃圾"}, "complaint_where"),
        (ValidateComplaintForm(), "没意思", "stop", {**COMPLAINT, "complaint_what": "乱倒垃圾"},
         "complaint_where"),
        (ValidateComplaintForm(), "不知道 不投诉了", "stop",
         {**COMPLAINT, "complaint_what": "乱倒垃圾"}, "complaint_where"),
        (ValidateComplaintForm(), "说不清楚具体位置", "emergency",
         {**COMPLAINT, "complaint_what": "着火了"}, "complaint_where"),
        (ValidateTicketStatusForm(), "算了", "stop", {}, "ticket_no"),
    ],
)  # fmt: skip
async def test_leaving_for_real_is_left_to_the_rules(
    form: Any, text: str, intent: str, slots: dict[str, Any], requested: str
) -> None:
    """Nothing validated: Rasa rejects the form and the rules cancel or hand over."""
    out, said = await after_misread(form, text, intent, slots, requested)
    assert not slot_events(out) and not said


async def test_a_misread_message_is_no_answer_to_a_question_asked_after_it() -> None:
    """Only the question asked before the message is answered by it."""
    out, _ = await after_misread(
        ValidateServiceGuideForm(), "不想跑", "stop", {"service": "id_card"}, "service_mode",
        asked="service",
    )  # fmt: skip
    assert not slot_events(out)


async def test_not_knowing_the_ticket_number_misread_offers_a_person() -> None:
    out, said = await after_misread(
        ValidateTicketStatusForm(), "单号讲不清楚 你帮我查下", "request_human", {}, "ticket_no"
    )
    assert slot_events(out) == {"ticket_no": None}
    assert any(b.get("payload") == "/request_human" for m in said for b in m.get("buttons") or [])


@pytest.mark.parametrize(
    ("text", "service"),
    [("签注", "hk_macau_permit"), ("我想问签注怎么办", "hk_macau_permit"),
     ("居住证签注", "residence_permit_endorsement"), ("孩子上小学报名", "school_enrolment")],
)  # fmt: skip
def test_catalogue_aliases_added_by_forms_helper_2(text: str, service: str) -> None:
    from bot.knowledge import match_service

    found = match_service(text)
    assert found is not None and found.id == service


@pytest.mark.parametrize(
    ("text", "slots", "requested", "field", "value"),
    [
        ("哦不对 是路灯不亮", {**COMPLAINT, "complaint_what": "路灯坏了"}, "complaint_where",
         "complaint_what", "路灯不亮"),
        ("不是 是东城", {**COMPLAINT, "complaint_what": "噪音", "complaint_where": "南城"},
         "complaint_when", "complaint_where", "东城"),
        ("不对 是寮步", {**COMPLAINT, "complaint_what": "噪音"}, "complaint_where",
         "complaint_where", "寮步"),  # nothing like 噪音: the answer to the question asked
        ("我刚说的漏水不对 是渗水", {**COMPLAINT, "complaint_what": "漏水"}, "complaint_where",
         "complaint_what", "渗水"),
        ("南城是错的 是东城", {**COMPLAINT, "complaint_what": "噪音", "complaint_where": "南城"},
         "complaint_when", "complaint_where", "东城"),
        ("更正一下 是垃圾桶满了没人倒", {**COMPLAINT, "complaint_what": "垃圾没人收"},
         "complaint_where", "complaint_what", "垃圾桶满了没人倒"),
    ],
)  # fmt: skip
async def test_a_no_then_a_value_corrects_the_answer_it_is_like(
    text: str, slots: dict[str, Any], requested: str, field: str, value: str
) -> None:
    got, _ = await validate(
        ValidateComplaintForm(), text, "deny", slots, {requested: text}, requested
    )
    assert got[field] == value


@pytest.mark.parametrize(
    ("text", "fields", "parsed"),
    [
        ("不对 号码是13612345687", FIELD_WORDS, ("contact_phone", "13612345687")),
        ("那个地址改下 清溪镇", FIELD_WORDS, ("complaint_where", "清溪镇")),
        ("不对 单号是20261121-000301", ValidateTicketStatusForm.FIELDS,
         ("ticket_no", "20261121-000301")),
        ("不对 是下午", FIELD_WORDS, None),  # no field named: the answer it is like decides
    ],
)  # fmt: skip
def test_a_no_then_a_field_with_its_value_and_gai_xia(
    text: str, fields: dict[str, Any], parsed: tuple[str, str] | None
) -> None:
    assert parse_correction(text, fields) == parsed


async def test_an_answer_said_in_error_is_replaced() -> None:
    slots, _ = await validate(
        ValidateComplaintForm(), "停水写成了 其实是停电", "complain",
        {**COMPLAINT, "complaint_what": "小区停水"}, {"complaint_where": "停水写成了 其实是停电"},
        "complaint_where",
    )  # fmt: skip
    assert slots["complaint_what"] == "小区停电"


async def test_the_right_service_after_not_a_is_found_as_loosely_as_at_its_question() -> None:
    slots, _ = await validate(
        ValidateServiceGuideForm(), "不是驾照 是行驶证违章", "faq",
        {"service": "driver_license_renewal"}, {"service_mode": "不是驾照 是行驶证违章"},
        "service_mode",
    )  # fmt: skip
    assert slots["service"] == "traffic_violation"


def test_tui_shui_names_the_tax_settlement() -> None:
    from actions.guidance import match_by_own_characters
    from bot.knowledge import match_service

    found = match_service("我要退税")
    assert found is not None and found.id == "iit_annual_settlement"
    other = match_service("退个税")  # an alias: with 77 services 退 and 税 are shared
    assert other is not None and other.id == "iit_annual_settlement"
    assert match_by_own_characters("个税汇算") is not None


def test_adding_to_an_answer_replaces_it() -> None:
    assert parse_correction("地址补充一下 南城胜和社区", FIELD_WORDS) == (
        "complaint_where", "南城胜和社区",
    )  # fmt: skip


async def test_the_wrong_service_named_then_the_right_one_after_wo_yao_de_shi() -> None:
    text = "社保卡选错了 我要的是医保"
    slots, said = await validate_messages(
        ValidateServiceGuideForm(), text, "nlu_fallback", {"service": "social_security_card"},
        {"service_mode": text}, "service_mode",
    )  # fmt: skip
    assert slots["service"] is None and "resident_medical_insurance" in offered(said)
    text = "社保卡选错了 我要的是居民医保"
    slots, _ = await validate(
        ValidateServiceGuideForm(), text, "nlu_fallback", {"service": "social_security_card"},
        {"service_mode": text}, "service_mode",
    )  # fmt: skip
    assert slots["service"] == "resident_medical_insurance"


def test_changing_a_named_field_then_its_value_after_a_pause() -> None:
    assert parse_correction("修改地址 东城主山社区", FIELD_WORDS) == (
        "complaint_where", "东城主山社区",
    )  # fmt: skip
    assert parse_correction(
        "等下 单号应该是20261127-000124", ValidateTicketStatusForm.FIELDS
    ) == ("ticket_no", "20261127-000124")


@pytest.mark.parametrize(
    ("text", "current", "service"),
    [("我想办的其实是居住证", "id_card", "residence_permit"),
     ("失业金不是 是居民医保", "unemployment_benefit", "resident_medical_insurance")],
)  # fmt: skip
async def test_the_service_meant_said_at_the_way_question(
    text: str, current: str, service: str
) -> None:
    slots, _ = await validate(
        ValidateServiceGuideForm(), text, "faq", {"service": current},
        {"service_mode": text}, "service_mode",
    )  # fmt: skip
    assert slots["service"] == service


async def test_a_no_with_what_was_meant_corrects_the_answer_it_is_like() -> None:
    text = "啊不是 我要说的是火锅店油烟"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "deny", {**COMPLAINT, "complaint_what": "烧烤油烟"},
        {"complaint_where": text}, "complaint_where",
    )  # fmt: skip
    assert slots["complaint_what"] == "火锅店油烟"


def offered(messages: list[dict[str, Any]]) -> list[str]:
    """The service ids of the choice buttons the messages offer."""
    ids = []
    for message in messages:
        for button in message.get("buttons") or []:
            payload = str(button.get("payload"))
            if payload.startswith("/request_service_guide{"):
                ids.append(payload.split('"service":"', 1)[1].split('"', 1)[0])
    return ids


@pytest.mark.parametrize(
    ("text", "expected"),
    [("住房公积金", {"provident_fund_withdrawal", "provident_fund_loan"}),
     ("医保", {"resident_medical_insurance", "medical_insurance_transfer"}),
     ("结婚", {"marriage_registration", "marriage_certificate_reissue"})],
)  # fmt: skip
async def test_a_part_several_services_share_offers_them_as_a_choice(
    text: str, expected: set[str]
) -> None:
    """With 77 services "住房公积金" names five (提取, 贷款, 转移, 账户, 缴存证明):
    the citizen chooses among them instead of being told nothing was found."""
    slots, said = await validate_messages(
        ValidateServiceGuideForm(), text, "inform", {}, {"service": text}, "service"
    )
    assert slots["service"] is None
    choice = offered(said)
    assert expected <= set(choice) and len(choice) <= 6
    assert not any("没有找到" in (m.get("text") or "") for m in said)


async def test_a_choice_button_names_its_service() -> None:
    slots, _ = await validate(
        ValidateServiceGuideForm(), "provident_fund_loan", "request_service_guide", {},
        {"service": "provident_fund_loan"}, "service",
    )  # fmt: skip
    assert slots["service"] == "provident_fund_loan"


async def test_an_answer_naming_nothing_is_still_told_so() -> None:
    slots, said = await validate_messages(
        ValidateServiceGuideForm(), "那个东西", "inform", {}, {"service": "那个东西"}, "service"
    )
    assert slots["service"] is None and not offered(said)
    assert any("没有找到" in (m.get("text") or "") for m in said)


# --- round seven (helper i-forms3) ----------------------------------------------


async def test_a_correction_naming_no_answer_replaces_the_one_it_is_like() -> None:
    """ "刚才那个问题我没说清楚，应该是…" at the phone question: the new text is
    like what happened (路灯), not like the time just given."""
    filled = {**COMPLAINT, "complaint_what": "路灯坏了", "complaint_where": "南城",
              "complaint_when": "昨晚"}  # fmt: skip
    text = "刚才那个问题我没说清楚，应该是路灯倒了压到车"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", filled, {"contact_phone": text}, "contact_phone"
    )
    assert slots == {"complaint_what": "路灯倒了压到车", "contact_phone": None}


async def test_a_place_said_in_a_correction_replaces_the_place() -> None:
    filled = {**NAME_ASKED, "complaint_where": "厚街"}
    slots, _ = await validate(
        ValidateComplaintForm(), "刚才说错了，是长安", "inform", filled,
        {"contact_name": "刚才说错了，是长安"}, "contact_name",
    )  # fmt: skip
    assert slots == {"complaint_where": "长安", "contact_name": None}


@pytest.mark.parametrize(
    ("slot", "text", "value"),
    [
        ("complaint_where", "东城 哦不是 是莞城", "莞城"),
        ("complaint_when", "星期二 不对 星期三", "星期三"),
    ],
)
async def test_an_answer_corrected_within_itself_keeps_the_one_meant(
    slot: str, text: str, value: str
) -> None:
    filled = {**COMPLAINT, "complaint_what": "路灯坏了"}
    if slot == "complaint_when":
        filled["complaint_where"] = "南城"
    slots, _ = await validate(ValidateComplaintForm(), text, "deny", filled, {slot: text}, slot)
    assert slots == {slot: value}


async def test_numbers_corrected_within_the_answer() -> None:
    text = "13800138000 不对不对 13800138001"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", PHONE_ASKED, {"contact_phone": text},
        "contact_phone",
    )  # fmt: skip
    assert phone_from_slot(slots["contact_phone"]) == "13800138001"
    text = "20261127-000123 哦不对是20261127-000124"
    slots, _ = await validate(ValidateTicketStatusForm(), text, "inform", {}, {"ticket_no": text},
                              "ticket_no")  # fmt: skip
    assert slots == {"ticket_no": "20261127-000124"}


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [
        ("前面说的事情要改 是垃圾桶被偷了", "complaint_what", "垃圾桶被偷了"),
        ("诶 地址应该写东城花园 不是东城", "complaint_where", "东城花园"),
        ("等阵 地点讲错咗 应该系沙田", "complaint_where", "沙田"),
        ("唔系狗吠 系鸡叫", "complaint_what", "鸡叫扰民"),
    ],
)
async def test_more_ways_of_correcting_an_earlier_answer(text: str, slot: str, value: str) -> None:
    filled = {**COMPLAINT, "complaint_what": "狗叫扰民", "complaint_where": "东城",
              "complaint_when": "昨晚"}  # fmt: skip
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", filled, {"contact_phone": text}, "contact_phone"
    )
    assert slots[slot] == value and slots["contact_phone"] is None


async def test_a_phone_with_a_digit_missing_said_again() -> None:
    text = "前面电话漏了一位 重新说 13912345678"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", NAME_ASKED, {"contact_name": text}, "contact_name"
    )
    assert phone_from_slot(slots["contact_phone"]) == "13912345678"
    assert slots["contact_name"] is None


async def test_a_few_digits_correct_the_end_of_an_earlier_number() -> None:
    text = "单号最后几位错了 是000321"
    slots, _ = await validate(
        ValidateTicketStatusForm(), text, "inform", {"ticket_no": "20261127-000123"},
        {"ticket_phone_last4": text}, "ticket_phone_last4",
    )  # fmt: skip
    assert slots == {"ticket_no": "20261127-000321", "ticket_phone_last4": None}
    text = "电话最后两位错了 是79"
    filled = {**NAME_ASKED, "contact_phone": seal_phone("13711112228")}  # this test's key
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", filled, {"contact_name": text}, "contact_name"
    )
    assert phone_from_slot(slots["contact_phone"]) == "13711112279"


async def test_a_no_and_another_service_in_a_clause_replaces_the_service() -> None:
    text = "我说的是电 不是水 电表过户"
    slots, _ = await validate(
        ValidateServiceGuideForm(), text, "deny", {"service": "water_service"},
        {"service_mode": text}, "service_mode",
    )  # fmt: skip
    assert slots["service"] == "electricity_service"
    text = "不是要办证 我是要补社保卡"
    slots, _ = await validate(
        ValidateServiceGuideForm(), text, "inform", {}, {"service": text}, "service"
    )
    assert slots["service"] == "social_security_card"


async def test_a_corrected_number_keeps_the_words_around_it() -> None:
    filled = {**PHONE_ASKED, "complaint_when": "晚上十点"}
    text = "晚上十点不对 是十一点"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", filled, {"contact_phone": text}, "contact_phone"
    )
    assert slots == {"complaint_when": "晚上十一点", "contact_phone": None}
    filled = {**PHONE_ASKED, "complaint_where": "幸福花园3栋"}
    text = "不是3栋 是5栋"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", filled, {"contact_phone": text}, "contact_phone"
    )
    assert slots == {"complaint_where": "幸福花园5栋", "contact_phone": None}


async def test_pinyin_initials_are_read_and_the_citizens_words_kept() -> None:
    """"sfz" reads as 身份证 (actions.answers.read_initials); what is stored is "sfz"."""
    text = "sfz补办了三次都没办好"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", COMPLAINT, {"complaint_what": text},
        "complaint_what",
    )  # fmt: skip
    assert slots == {"complaint_what": text}
    filled = {**COMPLAINT, "complaint_what": "水管爆了"}
    text = "刚才讲得不对 系sfz丢咗"  # 系 (是) before the words: a correction
    slots, said = await validate(
        ValidateComplaintForm(), text, "deny", filled, {"complaint_where": text}, "complaint_where"
    )
    assert slots == {"complaint_what": "sfz丢咗", "complaint_where": None}
    assert "sfz丢咗" in said[0]


async def test_corrections_in_other_words_keep_the_citizens_words() -> None:
    filled = {**COMPLAINT, "complaint_what": "水管爆了"}
    text = "刚才讲得不对 系水表爆咗"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "deny", filled, {"complaint_where": text}, "complaint_where"
    )
    assert slots == {"complaint_what": "水表爆咗", "complaint_where": None}
    filled = {**PHONE_ASKED, "complaint_where": "长安镇"}
    for text in ("不是长安镇 我讲错了 系凤岗镇", "那个地址唔啱 应该系凤岗镇"):
        slots, _ = await validate(
            ValidateComplaintForm(), text, "deny", filled, {"contact_phone": text}, "contact_phone"
        )
        assert slots == {"complaint_where": "凤岗镇", "contact_phone": None}
    text = "我重新描述下问题 小区车位被外来车占满"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "edit_complaint", filled, {"contact_phone": text},
        "contact_phone",
    )  # fmt: skip
    assert slots["complaint_what"] == "小区车位被外来车占满"


async def test_an_old_number_then_the_new_one() -> None:
    text = "刚刚给的号码是旧的 新号码15800002222"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", NAME_ASKED, {"contact_name": text}, "contact_name"
    )
    assert phone_from_slot(slots["contact_phone"]) == "15800002222"
    text = "尾号2233 哦不是 3322"
    slots, _ = await validate(
        ValidateTicketStatusForm(), text, "inform", {"ticket_no": "20261127-000123"},
        {"ticket_phone_last4": text}, "ticket_phone_last4",
    )  # fmt: skip
    assert slots == {"ticket_phone_last4": "3322"}


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [
        ("前天那个不对哈 昨天才对", "complaint_when", "昨天"),
        ("哎 上面那句打错了 应该是占道停车", "complaint_what", "占道停车"),
        ("哦 刚才漏咗讲 垃圾站旁边还有老鼠", "complaint_what", "垃圾站旁边还有老鼠"),
        ("唔好意思 地址系麻涌 唔系南城", "complaint_where", "麻涌"),
    ],
)
async def test_round_nine_corrections(text: str, slot: str, value: str) -> None:
    filled = {**COMPLAINT, "complaint_what": "垃圾站占道经营", "complaint_where": "南城",
              "complaint_when": "前天"}  # fmt: skip
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", filled, {"contact_phone": text}, "contact_phone"
    )
    assert slots[slot] == value and slots["contact_phone"] is None


async def test_a_ticket_number_corrected_with_a_cantonese_classifier() -> None:
    text = "头先个单号写错 正确系20261201-000201"
    slots, _ = await validate(
        ValidateTicketStatusForm(), text, "check_ticket", {"ticket_no": "20261201-000210"},
        {"ticket_phone_last4": text}, "ticket_phone_last4",
    )  # fmt: skip
    assert slots == {"ticket_no": "20261201-000201", "ticket_phone_last4": None}


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [
        ("地扯写错了 应该是南城新基社区", "complaint_where", "南城新基社区"),
        ("时问不对 是今天凌晨", "complaint_when", "今天凌晨"),
        ("把南城改成万江", "complaint_where", "万江"),
        ("啊我说错 宏伟路是宏远路", "complaint_where", "南城宏远路"),
    ],
)
async def test_round_ten_corrections(text: str, slot: str, value: str) -> None:
    filled = {**COMPLAINT, "complaint_what": "井盖松动", "complaint_where": "南城宏伟路",
              "complaint_when": "昨晚"}  # fmt: skip
    if "南城改成" in text:
        filled["complaint_where"] = "南城"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", filled, {"contact_phone": text}, "contact_phone"
    )
    assert slots[slot] == value and slots["contact_phone"] is None


async def test_a_misspelt_field_name_needs_a_value_of_its_kind() -> None:
    """ "电梯说错了" names no field one character off: 电梯 is not 电话 unless a
    phone number follows."""
    text = "电梯说错了 是扶梯"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", {**COMPLAINT, "complaint_what": "电梯坏了"},
        {"complaint_where": text}, "complaint_where",
    )  # fmt: skip
    assert "contact_phone" not in slots


async def test_numbers_corrected_by_their_end_or_their_date() -> None:
    filled = {**NAME_ASKED, "contact_phone": seal_phone("13600000001")}  # this test's key
    text = "手机尾号是0002 我打成0001了"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", filled, {"contact_name": text}, "contact_name"
    )
    assert phone_from_slot(slots["contact_phone"]) == "13600000002"
    text = "13922223333 哦错了 最后一位是4"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", PHONE_ASKED, {"contact_phone": text},
        "contact_phone",
    )  # fmt: skip
    assert phone_from_slot(slots["contact_phone"]) == "13922223334"
    text = "日期写错 是20261126 后面一样"
    slots, _ = await validate(
        ValidateTicketStatusForm(), text, "inform", {"ticket_no": "20261125-000456"},
        {"ticket_phone_last4": text}, "ticket_phone_last4",
    )  # fmt: skip
    assert slots == {"ticket_no": "20261126-000456", "ticket_phone_last4": None}
    text = "6688 唔系 8866"
    slots, _ = await validate(
        ValidateTicketStatusForm(), text, "inform", {"ticket_no": "20261125-000456"},
        {"ticket_phone_last4": text}, "ticket_phone_last4",
    )  # fmt: skip
    assert slots == {"ticket_phone_last4": "8866"}


async def test_a_question_naming_a_service_at_the_way_is_no_correction() -> None:
    text = "居民医保报销是不是比职工医保少"
    slots, _ = await validate(
        ValidateServiceGuideForm(), text, "inform", {"service": "id_card"},
        {"service_mode": text}, "service_mode",
    )  # fmt: skip
    assert "service" not in slots


@pytest.mark.parametrize(
    ("text", "slot", "value"),
    [
        ("唔该改一改地点 系凤岗雁田", "complaint_where", "凤岗雁田"),
        ("我想修改投诉内容 商铺把货物堆在盲道上", "complaint_what", "商铺把货物堆在盲道上"),
        ("刚才时间打错了 6点 不是7点", "complaint_when", "早上6点"),
    ],
)
async def test_round_eleven_corrections(text: str, slot: str, value: str) -> None:
    filled = {**COMPLAINT, "complaint_what": "商铺占用人行道", "complaint_where": "塘厦",
              "complaint_when": "早上七点"}  # fmt: skip
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", filled, {"contact_phone": text}, "contact_phone"
    )
    assert slots[slot] == value and slots["contact_phone"] is None


async def test_a_value_then_the_mistake_and_a_landline_instead() -> None:
    filled = {**NAME_ASKED, "contact_phone": seal_phone("13312345678")}  # this test's key
    for text, phone in (
        ("不好意思 手机号是13312345687 刚刚输反了", "13312345687"),
        ("号码换一个 打我座机0769-22334455", "076922334455"),
    ):
        slots, _ = await validate(
            ValidateComplaintForm(), text, "inform", filled, {"contact_name": text}, "contact_name"
        )
        assert phone_from_slot(slots["contact_phone"]) == phone


async def test_changing_a_phone_screen_is_no_correction() -> None:
    text = "手机屏幕碎了换一个多少钱"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", NAME_ASKED, {"contact_name": text}, "contact_name"
    )
    assert "contact_phone" not in slots


async def test_round_twelve_corrections() -> None:
    filled = {**COMPLAINT, "complaint_what": "楼上漏水", "complaint_where": "南城",
              "complaint_when": "昨天", "contact_phone": seal_phone("13800001234")}  # fmt: skip
    text = "我想把最开始说的问题改一下是楼上空调滴水"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", filled, {"contact_name": text}, "contact_name"
    )
    assert slots["complaint_what"] == "楼上空调滴水"
    text = "电话是13800001243才对"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", filled, {"contact_name": text}, "contact_name"
    )
    assert phone_from_slot(slots["contact_phone"]) == "13800001243"
    text = "呃 刚才那个地点我再说一遍 南城元美路口"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", filled, {"contact_name": text}, "contact_name"
    )
    assert slots["complaint_where"] == "南城元美路口"


async def test_a_phone_given_after_all_at_the_name_question() -> None:
    filled = {**PHONE_ASKED, "contact_phone": "匿名"}
    text = "我改主意了 还是留个电话 13688889999"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", filled, {"contact_name": text}, "contact_name"
    )
    assert phone_from_slot(slots["contact_phone"]) == "13688889999"
    assert slots["contact_name"] is None
    text = "我姓王 电话13800000000"  # the name asked for is taken
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", NAME_ASKED, {"contact_name": text}, "contact_name"
    )
    assert slots == {"contact_name": "王"}


async def test_round_thirteen_corrections() -> None:
    filled = {**PHONE_ASKED, "complaint_where": "大岭山"}
    text = "前面的地点有问题 应该是大朗"
    slots, _ = await validate(
        ValidateComplaintForm(), text, "inform", filled, {"contact_phone": text}, "contact_phone"
    )
    assert slots["complaint_where"] == "大朗"
    text = "水不对 电才对"
    slots, _ = await validate(
        ValidateServiceGuideForm(), text, "deny", {"service": "water_service"},
        {"service_mode": text}, "service_mode",
    )  # fmt: skip
    assert slots["service"] == "electricity_service"
    text = "单号后六位应该是000050"
    slots, _ = await validate(
        ValidateTicketStatusForm(), text, "inform", {"ticket_no": "20261129-000500"},
        {"ticket_phone_last4": text}, "ticket_phone_last4",
    )  # fmt: skip
    assert slots["ticket_no"] == "20261129-000050"


async def test_round_fourteen_corrections() -> None:
    """Something left out ("地址漏了门牌", "地点写漏了") or said unclearly
    ("地址说得不清楚"), then the right value: the earlier answer is replaced."""
    filled = {**PHONE_ASKED, "complaint_where": "塘厦"}
    for text, value in (
        ("地点写漏了 是塘厦镇林村社区", "塘厦镇林村社区"),
        ("地址漏了门牌 是塘厦镇林村社区十八号", "塘厦镇林村社区十八号"),
        ("刚才地址说得不清楚 是塘厦镇林村", "塘厦镇林村"),
    ):
        slots, _ = await validate(
            ValidateComplaintForm(), text, "inform", filled, {"contact_phone": text},
            "contact_phone",
        )  # fmt: skip
        assert slots["complaint_where"] == value, text
        assert slots["contact_phone"] is None


# --- "not A but B" at the question asked (round 17) -----------------------------


async def test_a_number_said_not_to_be_it_then_the_one_meant_at_the_question_asked() -> None:
    slots, _ = await validate(
        ValidateTicketStatusForm(), "不是5678 是5687", "inform",
        {"ticket_no": "20261205-000004"},
        {"ticket_phone_last4": "不是5678 是5687"}, "ticket_phone_last4",
    )  # fmt: skip
    assert slots == {"ticket_phone_last4": "5687"}
    slots, _ = await validate(
        ValidateComplaintForm(), "不是13800000000 是13800000001", "inform",
        {**COMPLAINT, "complaint_when": "昨晚"},
        {"contact_phone": "不是13800000000 是13800000001"}, "contact_phone",
    )  # fmt: skip
    assert phone_from_slot(slots["contact_phone"]) == "13800000001"


async def test_not_a_number_but_words_is_read_as_before() -> None:
    slots, _ = await validate(
        ValidateTicketStatusForm(), "不是5678 是我老婆的手机", "inform",
        {"ticket_no": "20261205-000004"},
        {"ticket_phone_last4": "不是5678 是我老婆的手机"}, "ticket_phone_last4",
    )  # fmt: skip
    assert slots == {"ticket_phone_last4": "5678"}


async def test_the_questions_own_field_named_before_not_a_but_b() -> None:
    slots, _ = await validate(
        ValidateTicketStatusForm(), "尾号唔系1234 系4321", "inform",
        {"ticket_no": "20261205-000004"},
        {"ticket_phone_last4": "尾号唔系1234 系4321"}, "ticket_phone_last4",
    )  # fmt: skip
    assert slots == {"ticket_phone_last4": "4321"}


async def test_a_correction_opening_with_a_hello_is_a_correction() -> None:
    slots, _ = await validate(
        ValidateComplaintForm(), "喂 等等 地方唔啱 应该系虎门", "inform",
        {**COMPLAINT, "complaint_what": "噪音扰民", "complaint_where": "厚街"},
        {"complaint_when": "喂 等等 地方唔啱 应该系虎门"}, "complaint_when",
    )  # fmt: skip
    assert slots["complaint_where"] == "虎门" and slots["complaint_when"] is None


async def test_not_a_but_b_at_the_time_question_answers_it_when_b_is_a_time() -> None:
    said = "不是晚上 是凌晨两三点"
    slots, _ = await validate(
        ValidateComplaintForm(), said, "inform",
        {**COMPLAINT, "complaint_what": "路灯坏了 晚上很黑", "complaint_where": "东城"},
        {"complaint_when": said}, "complaint_when",
    )  # fmt: skip
    assert slots == {"complaint_when": "凌晨两三点"}
    # an earlier time is still corrected at a later question
    slots, _ = await validate(
        ValidateComplaintForm(), "不是昨晚 是前晚", "inform",
        {**COMPLAINT, "complaint_what": "噪音", "complaint_where": "东", "complaint_when": "昨晚"},
        {"contact_phone": "不是昨晚 是前晚"}, "contact_phone",
    )  # fmt: skip
    assert slots["complaint_when"] == "前晚"
