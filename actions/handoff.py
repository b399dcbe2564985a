"""Human help: signal a handoff to the front door, or offer one.

The signal is a custom message ``{"handoff": {...}}``; the front door's hub
hides it from the citizen and queues the conversation for an agent. It carries
a short summary so the agent can pick up without the citizen repeating
themselves. Its numbers are masked once, where it enters the front door
(bot/hub_routing.py ``Router._request_handoff``), before any store keeps it;
an agent who needs the full number opens it on the ticket (an audited read).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions._runtime import (
    consecutive_misunderstandings,
    danger_alarm,
    keep_unanswered,
    latest_intent,
    latest_text,
    record_event,
    sounds_like_danger,
)
from actions.complaints import shown_phone

SUMMARY_SLOTS = (
    "complaint_type",
    "complaint_what",
    "complaint_where",
    "complaint_when",
    "contact_phone",
    "service",
    "last_service",
    "last_ticket_no",
)


#: Intents of an upset citizen: angry at the assistant, or complaining about
#: the hotline's own service (issue 21). Both are offered a person at once and
#: queued as urgent.
UPSET_INTENTS = ("angry", "complain_service", "record_service_complaint")


def handoff_reason(tracker: Tracker) -> tuple[str, str]:
    """(reason, priority) for the queue.

    ``emergency``: the emergency intent, or words of danger in the citizen's
    last few messages (the ones that get the 119/120/110 advice at once, in
    the same turn). In the queue it earns a bounded head start
    (``HANDOFF_EMERGENCY_HEAD_START``, 10 minutes; bot.hub_routing.handoff_score):
    ahead of citizens who asked up to that long before, never ahead of one
    who has waited longer. ``angry`` is urgent with a smaller head start
    (``HANDOFF_URGENT_HEAD_START``, 2 minutes); the rest are normal.
    """
    intent = latest_intent(tracker)
    if (
        intent == "emergency"
        or danger_alarm(tracker)
        or any(sounds_like_danger(t) for t in _recent_texts(tracker))
    ):
        return "emergency", "urgent"
    if intent in UPSET_INTENTS or any(_recent_intent(tracker, name) for name in UPSET_INTENTS):
        return "angry", "urgent"
    if consecutive_misunderstandings(tracker) >= 2 or _recent_intent(tracker, "nlu_fallback"):
        return "not_understood", "normal"
    return "citizen_request", "normal"


def _recent_texts(tracker: Tracker, turns: int = 3) -> list[str]:
    texts = [latest_text(tracker)]
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            texts.append(str(event.get("text") or ""))
            if len(texts) > turns:
                break
    return texts


def _recent_intent(tracker: Tracker, name: str, turns: int = 3) -> bool:
    seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen += 1
            if ((event.get("parse_data") or {}).get("intent") or {}).get("name") == name:
                return True
            if seen >= turns:
                break
    return False


def conversation_summary(tracker: Tracker, limit: int = 5) -> dict[str, Any]:
    """Intent, filled slots and the last citizen messages, for the agent.

    Not masked here: the front door masks the summary once, on its way in,
    before its store or SQL keeps it (bot/hub_routing.py); Rasa's stored
    tracker masks the event holding it (hotline_rasa/tracker_store.py). The
    phone slot, kept encrypted, is shown as the agent sees it (masked).
    """
    slots = {}
    for slot in SUMMARY_SLOTS:
        value = tracker.get_slot(slot)
        if value is not None:
            slots[slot] = shown_phone(value) if slot == "contact_phone" else value
    texts = [
        str(e.get("text"))
        for e in tracker.events
        if e.get("event") == "user" and e.get("text") and not str(e.get("text")).startswith("/")
    ]
    return {"intent": latest_intent(tracker), "slots": slots, "last_messages": texts[-limit:]}


#: Messages that ask for a person or answer a prompt: skipped, looking further back.
_SKIPPED = {"request_human", "affirm", "deny", "greet", "goodbye", "thank", "angry", "stop"}
#: A question the knowledge could have answered; anything else (a complaint, a
#: ticket) means the handoff was not about missing knowledge.
_QUESTIONS = {"faq", "nlu_fallback", "out_of_scope", "request_service_guide", "consult", ""}


def question_before_handoff(tracker: Tracker, turns: int = 4) -> tuple[str, dict[str, Any]] | None:
    """The citizen's last real question before the handoff (text and parse data):
    typed, not a button, not the request for a person itself; None when there
    is none among the last ``turns`` messages, or the conversation was about
    something else (a complaint, a ticket)."""
    seen = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        seen += 1
        if seen > turns:
            break
        text = str(event.get("text") or "").strip()
        parse_data = event.get("parse_data") or {}
        intent = str((parse_data.get("intent") or {}).get("name") or "")
        if not text or text.startswith("/") or intent in _SKIPPED:
            continue
        return (text, parse_data) if intent in _QUESTIONS else None
    return None


class ActionHandoff(Action):
    """Tell the citizen a person is coming and signal the handoff."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reason, priority = handoff_reason(tracker)
        # Neutral on purpose: the front door follows it with the place in the
        # queue, or says plainly that nobody is online and offers a callback
        # (bot/console/citizen.py); "正在为您转接，请稍候" would promise a person
        # who may not be there.
        dispatcher.utter_message(
            text="好的，我来为您联系人工客服。您可以先简单描述一下需要帮助的事情，客服接入后会看到。"
        )
        dispatcher.utter_message(
            json_message={
                "handoff": {
                    "reason": reason,
                    "priority": priority,
                    "summary": conversation_summary(tracker),
                }
            }
        )
        await record_event("handoff_requested", tracker, reason=reason, priority=priority)
        question = question_before_handoff(tracker)
        if question is not None and reason != "emergency":  # danger is not a knowledge gap
            text, parse_data = question
            await keep_unanswered(
                "handoff", tracker, action=self.name(), text=text, parse_data=parse_data
            )
        events: list[dict[str, Any]] = []
        if tracker.active_loop_name:
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        return events


SERVICE_COMPLAINT_BUTTON = {"title": "投诉热线服务", "payload": "/record_service_complaint"}


class ActionOfferHuman(Action):
    """An upset citizen: apologise and offer a person at once.

    Angry at the assistant, or complaining about the hotline's own service
    ("你们这个办事效率太差了，我都打了三次电话了"): never the street-complaint
    form. Both may also record a complaint about the service itself, which
    goes to the hotline's own supervisors (routing category hotline_service).
    """

    def name(self) -> str:
        return "action_offer_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if latest_intent(tracker) == "complain_service":
            reason = "service_complaint"
            text = (
                "非常抱歉，给您带来了不好的体验，是我们的工作没做好。我马上为您转接人工客服；"
                "您也可以登记一条对热线服务的投诉，由12345热线的服务监督组核查处理并回复您。"
            )
            buttons = [
                {"title": "转人工客服", "payload": "/request_human"},
                SERVICE_COMPLAINT_BUTTON,
                {"title": "继续咨询", "payload": "/consult"},
            ]
        else:
            reason = "angry"
            text = "非常抱歉让您着急了。需要我马上为您转接人工客服吗？"
            buttons = [
                {"title": "转人工客服", "payload": "/request_human"},
                SERVICE_COMPLAINT_BUTTON,
                {"title": "我要投诉", "payload": "/complain"},
                {"title": "继续咨询", "payload": "/consult"},
            ]
        dispatcher.utter_message(text=text, buttons=buttons)
        await record_event("human_offered", tracker, reason=reason)
        return []
