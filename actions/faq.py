"""Consultation: answer frequent questions from data/knowledge/faq.yml, and
handle what the assistant did not understand."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions._runtime import (
    FAQ_MIN_CONFIDENCE,
    MENU_BUTTONS,
    consecutive_misunderstandings,
    danger_alarm,
    faq_prediction,
    faq_sure_out_of_context,
    keep_unanswered,
    latest_intent,
    latest_text,
    parse_text,
    record_event,
    warn_if_danger,
)
from actions.answers import read_initials
from actions.complaints import ActionStartComplaint, complaint_offer, told_a_problem
from actions.guidance import service_offer
from actions.thresholds import FAQ_ANSWER_CONFIDENCE
from bot.knowledge import FaqEntry, format_answer, load_faq, match_service

logger = logging.getLogger(__name__)

AFTER_ANSWER_BUTTONS = [
    {"title": "问题解决了", "payload": "/thank"},
    {"title": "继续咨询", "payload": "/consult"},
    {"title": "没解决，转人工", "payload": "/request_human"},
]


def confirm_entry(dispatcher: CollectingDispatcher, entry: FaqEntry) -> None:
    """Name the question understood and let the citizen confirm it.

    For an FAQ guess between FAQ_MIN_CONFIDENCE and FAQ_ANSWER_CONFIDENCE
    (actions/thresholds.py): no policy content is given on a guess this
    unsure. The first button asks the entry's own question (its text as the
    payload, so the NLU reads it like any message: each entry's question
    parses back to its entry: tests/rasa/test_dialogue.py);
    不是这个 invites the citizen to say it otherwise; a person is offered.
    """
    dispatcher.utter_message(
        text=f"我理解您想问的是：“{entry.question}”，是这个问题吗？"
        "如果不是，请点“不是这个”换个说法，或转人工客服。",
        buttons=[
            {"title": "是的，看解答", "payload": entry.question},
            {"title": "不是这个", "payload": "/consult"},
            {"title": "转人工客服", "payload": "/request_human"},
        ],
    )


def not_understood(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """First miss: ask to rephrase. Second miss in a row: offer a person."""
    if consecutive_misunderstandings(tracker, latest_missed=True) >= 2:
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


# --- several questions in one message ------------------------------------
# "我问你个事，医保和社保有什么区别，另外公积金能不能取出来交房租": the whole
# message matches no single answer well. It is split where citizens join
# questions (sentence ends, "另外", "还有", "顺便问一下"...), each part is
# parsed by the same model on its own (Rasa's /model/parse), and every part
# the model answers with confidence is answered; the other parts are offered
# as buttons that ask them on their own (or open the service guide).

_JOINERS = re.compile(
    r"[。；;？?！!\n]+|[，,、\s]*(?:另外|还有就是|还有|还想问一下|还想问|还要问|再问一下|再问|"
    r"顺便问一下|顺便问|顺便|此外|以及|同时想问|另一个问题是|另一个是|第二个问题是|第二个是|第二)"
    r"[，,：:、\s]*"
)
_PREAMBLE = re.compile(
    r"^(?:你好|您好|在吗|喂)?[，,\s]*(?:我)?(?:想|要)?(?:问你个事|问你个问题|问个事|问个问题|问你|问一下|"
    r"请问一下|请问|咨询一下|咨询个事|咨询|打听一下|有两个问题|有几个问题|两个问题)?[，,：:\s]*"
)
#: A part shorter than this (after the preamble) is not a question of its own.
MIN_PART = 4
#: At most this many parts are parsed (each one is a call to Rasa).
MAX_PARTS = 3
#: The intent confidence a part needs to be answered on its own (the
#: FallbackClassifier's threshold in config.yml).
PART_MIN_CONFIDENCE = 0.6


def question_parts(text: str) -> list[str]:
    """The questions of one message, in order (one part: not several questions)."""
    parts: list[str] = []
    for raw in _JOINERS.split(text or ""):
        part = _PREAMBLE.sub("", raw.strip(), count=1).strip("，,：: ")
        if len(part) >= MIN_PART and part not in parts:
            parts.append(part)
    return parts[:MAX_PARTS]


def _confident_faq(parse: dict[str, Any]) -> FaqEntry | None:
    intent = parse.get("intent") or {}
    if intent.get("name") != "faq" or float(intent.get("confidence") or 0) < PART_MIN_CONFIDENCE:
        return None
    faq_id, confidence = faq_prediction(parse)
    entry = load_faq().get(faq_id or "")
    return entry if entry is not None and confidence >= FAQ_ANSWER_CONFIDENCE else None


async def answer_several(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Answer a message that asks several questions; False when it does not
    (one question, nothing answerable, or Rasa's parse unavailable)."""
    parts = question_parts(latest_text(tracker))
    if len(parts) < 2:
        return False
    answered: list[FaqEntry] = []
    offers: list[dict[str, str]] = []
    for part in parts:
        parse = await parse_text(part)
        if parse is None:
            return False
        entry = _confident_faq(parse)
        if entry is not None:
            if entry not in answered:
                answered.append(entry)
            continue
        service = match_service(read_initials(part))  # "gjj怎么提取", as the NLU reads it
        if (parse.get("intent") or {}).get("name") == "request_service_guide" and service:
            payload = f'/request_service_guide{{"service":"{service.id}"}}'
            offers.append({"title": f"办事指南：{service.name}"[:20], "payload": payload})
        else:
            offers.append({"title": f"再问：{part}"[:20], "payload": part})
    if not answered:
        return False
    for number, entry in enumerate(answered, 1):
        prefix = f"第{number}个问题：" if len(answered) > 1 else ""
        buttons = AFTER_ANSWER_BUTTONS if number == len(answered) and not offers else []
        dispatcher.utter_message(text=prefix + format_answer(entry), buttons=buttons)
        # As for a single answer: the front door puts it on the answer above
        # (有帮助/没帮助 in the widget for this FAQ).
        dispatcher.utter_message(json_message={"answer": {"faq": entry.id}})
        await record_event("faq_answered", tracker, faq=entry.id, several=True)
    if offers:
        dispatcher.utter_message(
            text="您的消息里还有别的问题，我没能一并准确回答，可以点下面的按钮单独问："
            if len(offers) > 1
            else "您的消息里还有一个问题，我没能一并准确回答，可以点下面的按钮单独问：",
            buttons=[*offers, {"title": "转人工客服", "payload": "/request_human"}],
        )
    return True


class ActionAnswerFaq(Action):
    """Answer an FAQ the FAQ retriever recognised with enough confidence."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        warn_if_danger(dispatcher, tracker)
        if await answer_several(dispatcher, tracker):
            return []
        faq_id, confidence = faq_prediction(tracker.latest_message)
        entry = load_faq().get(faq_id or "")
        if entry is None or confidence < FAQ_ANSWER_CONFIDENCE:
            # Not sure enough to answer. Below FAQ_MIN_CONFIDENCE no guess is
            # named (asked to say it otherwise); above it the question understood
            # is named for the citizen to confirm (answered only when confirmed).
            # Either way a fallback in the figures, and kept for the
            # unanswered-question loop. The text is masked where events are
            # written (bot/db/events.py).
            guess = entry if entry is not None and confidence >= FAQ_MIN_CONFIDENCE else None
            await record_event(
                "fallback",
                tracker,
                reason="faq_confirm" if guess else "faq_unsure",
                text=latest_text(tracker),
                **({"faq": guess.id} if guess else {}),
            )
            await keep_unanswered("low_confidence", tracker, action=self.name(), faq_key=faq_id)
            if guess:
                confirm_entry(dispatcher, guess)
            else:
                not_understood(dispatcher, tracker)
            return []
        # the guide of the service the question is about, as a next step
        offer = service_offer(tracker)
        # and registering a complaint, when the message also told of a problem
        offers = [o for o in (offer, complaint_offer(tracker)) if o]
        buttons = [*offers, *AFTER_ANSWER_BUTTONS]
        dispatcher.utter_message(text=format_answer(entry), buttons=buttons)
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
        if told_a_problem(tracker):
            # a problem DIET read as a form's answer with no form running
            # ("路灯一整排都不亮"): the complaint, as if it had been read so
            events = await ActionStartComplaint().run(dispatcher, tracker, domain)
            return [*events, FollowupAction("complaint_form")]
        if (
            latest_intent(tracker) == "inform"
            and not (tracker.active_loop or {}).get("name")
            and faq_sure_out_of_context(tracker.latest_message or {})
        ):
            # a question DIET read as a form's answer with no form running
            # ("自来水有股怪味"), the FAQ retriever sure of its entry: answer it
            return await ActionAnswerFaq().run(dispatcher, tracker, domain)
        if not danger_alarm(tracker) and await answer_several(dispatcher, tracker):
            return []  # several questions, answered one by one: not a fallback
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
