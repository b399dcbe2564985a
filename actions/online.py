"""Did the online way work? (网上业务办理成功率, issue 17)

After guidance that gives a service's online way, the citizen is asked for
the outcome: the guidance itself ends with the buttons "已办好" / "遇到问题"
(:func:`outcome_buttons`), and when they did not answer, the question is asked
once more at the start of their next contact (their next Rasa session,
:class:`ActionSessionStart`). It is asked at most twice in all: never again
after an answer, never a second time on a later contact, and not at all once
:data:`FOLLOWUP_WINDOW` has passed since the online way was given.

The open question is kept per citizen (Rasa's sender, the conversation id) in
the slot ``online_followup``, the only slot carried into a new session:
``{"service": <catalog id>, "offered_at": <ISO 8601, UTC>, "followup": bool}``
(``followup``: the next-contact question was asked). One question at a time:
the online way of another service replaces it; the same service's online way
shown again while its question is open keeps the open one.

Events for the figures (bot/reports, docs/figures.md):

- ``guidance.online_offered`` {service}: a question was opened (the online way
  was given and no question about that service was open);
- ``guidance.online_followup_asked`` {service}: asked again on the next contact;
- ``guidance.online_outcome`` {service, outcome: "done" | "problem",
  asked: "first" | "followup"}: the citizen's answer to an open question
  ("followup" when it came after the next-contact question). An answer with
  no open question (an old button pressed again, typed after the expiry) gets
  the same help but records nothing, so each offer has at most one outcome.

"遇到问题" offers the service's offline way (office, hours, materials), a
person (handoff) and a ticket (:class:`ActionStartOnlineTicket`, the complaint
form with the service's online way as the place), as buttons.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions._runtime import latest_intent, record_event
from actions.complaints import COMPLAINT_SLOTS
from bot.knowledge import Service, service_by_id

SLOT = "online_followup"
#: After this long the outcome is no longer asked (the open question is dropped).
FOLLOWUP_WINDOW = dt.timedelta(days=7)

DONE, PROBLEM = "done", "problem"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def outcome_payload(intent: str, service_id: str) -> str:
    return f'/{intent}{{"service":"{service_id}"}}'


def outcome_buttons(service_id: str) -> list[dict[str, str]]:
    """The two answers, on every channel (widget buttons, WeChat numbers, Telegram keys)."""
    return [
        {"title": "已办好", "payload": outcome_payload("online_done", service_id)},
        {"title": "遇到问题", "payload": outcome_payload("online_problem", service_id)},
    ]


def open_question(value: Any, at: dt.datetime | None = None) -> dict[str, Any] | None:
    """The slot's open question, or None when there is none, it is malformed,
    or it has expired (older than :data:`FOLLOWUP_WINDOW` at ``at``)."""
    if not isinstance(value, dict) or not isinstance(value.get("service"), str):
        return None
    try:
        offered = dt.datetime.fromisoformat(str(value.get("offered_at")))
    except ValueError:
        return None
    if offered.tzinfo is None:
        offered = offered.replace(tzinfo=dt.UTC)
    if (at or now()) - offered > FOLLOWUP_WINDOW:
        return None
    return {
        "service": value["service"],
        "offered_at": offered.isoformat(),
        "followup": bool(value.get("followup")),
    }


async def online_way_given(tracker: Tracker, service: Service) -> list[dict[str, Any]]:
    """Open the outcome question for ``service`` (called by the guidance when it
    gives the online way): the slot events, and ``guidance.online_offered``
    unless the same question is already open."""
    current = open_question(tracker.get_slot(SLOT))
    if current is not None and current["service"] == service.id:
        return []
    await record_event("guidance.online_offered", tracker, service=service.id)
    value = {"service": service.id, "offered_at": now().isoformat(), "followup": False}
    return [SlotSet(SLOT, value)]


def _service_name(service_id: str) -> str:
    service = service_by_id(service_id)
    return service.name if service else "该事项"


class ActionSessionStart(Action):
    """A new session (the citizen's next contact): carry the open outcome
    question over, and ask it once more if it was never asked again.

    Like Rasa's own session start otherwise: no other slot is carried over
    (``carry_over_slots_to_new_session: false``), and the session ends with
    ``action_listen``. Its message comes before the answer to the citizen's
    first message of the new session.
    """

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = [SessionStarted()]
        question = open_question(tracker.get_slot(SLOT))
        if question is not None and not question["followup"]:
            service_id = question["service"]
            dispatcher.utter_message(
                text=f"上次为您介绍了「{_service_name(service_id)}」的网上办理方式，"
                "请问办好了吗？告诉我结果，我们好改进服务；遇到问题我来帮您想办法。",
                buttons=outcome_buttons(service_id),
            )
            await record_event("guidance.online_followup_asked", tracker, service=service_id)
            question["followup"] = True
        if question is not None:
            events.append(SlotSet(SLOT, question))
        events.append(ActionExecuted("action_listen"))
        return events


def problem_text_and_buttons(service: Service | None) -> tuple[str, list[dict[str, str]]]:
    """What "遇到问题" offers: the offline way, a person, a ticket."""
    if service is None:
        text = (
            "很抱歉给您添麻烦了。请告诉我是哪项业务遇到了问题，我帮您查线下办理方式；"
            "也可以转人工客服，或者登记工单由承办部门联系您。"
        )
        return text, [
            {"title": "查办事指南", "payload": "/request_service_guide"},
            {"title": "转人工客服", "payload": "/request_human"},
            {"title": "登记工单", "payload": "/online_ticket"},
        ]
    lines = [f"很抱歉，「{service.name}」网上办理遇到了问题。您可以选择："]
    buttons = []
    if service.offline is not None:
        way = service.offline
        materials = "；".join(way.materials)
        lines.append(f"· 到线下窗口办理：{way.office}；办理时间：{way.hours}；需带：{materials}。")
        buttons.append(
            {
                "title": "看线下办理",
                "payload": f'/request_service_guide{{"service":"{service.id}",'
                '"service_mode":"offline"}',
            }
        )
    lines.append("· 转人工客服，帮您看看卡在哪一步；")
    lines.append(f"· 登记工单，由承办部门{service.department}联系您处理。")
    buttons += [
        {"title": "转人工客服", "payload": "/request_human"},
        {"title": "登记工单", "payload": f'/online_ticket{{"service":"{service.id}"}}'},
    ]
    return "\n".join(lines), buttons


class ActionOnlineOutcome(Action):
    """The citizen's answer: "已办好" (``online_done``) or "遇到问题" (``online_problem``),
    from a button (which names the service) or typed."""

    def name(self) -> str:
        return "action_online_outcome"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        outcome = DONE if latest_intent(tracker) == "online_done" else PROBLEM
        question = open_question(tracker.get_slot(SLOT))
        named = next(iter(tracker.get_latest_entity_values("service")), None)
        service_id = named or (question or {}).get("service") or tracker.get_slot("last_service")
        service = service_by_id(str(service_id or ""))
        # The `service` entity also fills the guidance's slot: leave it empty.
        events: list[dict[str, Any]] = [SlotSet("service", None)]
        if question is not None and service is not None and question["service"] == service.id:
            asked = "followup" if question["followup"] else "first"
            await record_event(
                "guidance.online_outcome", tracker, service=service.id, outcome=outcome, asked=asked
            )
            events.append(SlotSet(SLOT, None))  # answered: never asked again
        if outcome == DONE and question is None and service is None:
            # "已经办好了" with nothing asked and no service known: more often
            # a question about a ticket ("我那单搞掂未啊", "上次报的事办好了没")
            # than news; thanking for a result nobody reported would mislead
            dispatcher.utter_message(
                text="请问您是想查询之前反映的问题（工单）的办理进度，还是告诉我们网上业务已经办好了？",
                buttons=[
                    {"title": "查询工单进度", "payload": "/check_ticket"},
                    {"title": "网上业务已办好", "payload": "/thank"},
                    {"title": "转人工客服", "payload": "/request_human"},
                ],
            )
            return events
        if outcome == DONE:
            name = f"「{service.name}」" if service else ""
            dispatcher.utter_message(
                text=f"太好了，{name}已经办好！感谢您告诉我们结果。还有什么可以帮您？",
                buttons=[
                    {"title": "政策咨询", "payload": "/consult"},
                    {"title": "办事指南", "payload": "/request_service_guide"},
                    {"title": "没有了，再见", "payload": "/goodbye"},
                ],
            )
        else:
            text, buttons = problem_text_and_buttons(service)
            dispatcher.utter_message(text=text, buttons=buttons)
        if service is not None:
            events.append(SlotSet("last_service", service.id))
        return events


class ActionStartOnlineTicket(Action):
    """A ticket about a service that could not be done online: the complaint
    form (what, where, when, contact) with the place already filled with the
    service's online way; the summary and confirmation are the complaint's."""

    def name(self) -> str:
        return "action_start_online_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        named = next(iter(tracker.get_latest_entity_values("service")), None)
        service = service_by_id(str(named or tracker.get_slot("last_service") or ""))
        events: list[dict[str, Any]] = [SlotSet(slot, None) for slot in COMPLAINT_SLOTS]
        events += [
            SlotSet("service", None),
            SlotSet("complaint_type", "complaint"),
            SlotSet("complaint_submission_id", uuid.uuid4().hex),
        ]
        if service is not None and service.online is not None:
            events.append(
                SlotSet("complaint_where", f"网上办理「{service.name}」（{service.online.entry}）")
            )
            intro = (
                f"好的，我来帮您登记工单，「{service.name}」网上办理遇到的问题"
                f"会转给{service.department}处理。"
            )
        else:
            intro = "好的，我来帮您登记工单，由承办部门联系您处理。"
        dispatcher.utter_message(
            text=intro
            + "需要了解几项信息（请说明卡在哪一步、提示了什么），随时回复“取消”可以退出。"
        )
        return events
