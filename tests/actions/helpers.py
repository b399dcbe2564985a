"""Build rasa-sdk Trackers the way Rasa sends them to the action server."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker


def parse_data(text: str, intent: str, confidence: float = 0.95, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "entities": extra.pop("entities", []),
    }
    data.update(extra)
    return data


def faq_parse(text: str, faq_id: str, confidence: float) -> dict[str, Any]:
    return parse_data(
        text,
        "faq",
        response_selector={
            "all_retrieval_intents": ["faq"],
            "faq": {
                "response": {
                    "intent_response_key": f"faq/{faq_id}",
                    "confidence": confidence,
                    "utter_action": f"utter_faq/{faq_id}",
                },
                "ranking": [],
            },
        },
    )


def user_event(parse: dict[str, Any]) -> dict[str, Any]:
    return {"event": "user", "text": parse["text"], "parse_data": parse}


def tracker(
    latest: dict[str, Any],
    slots: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    sender: str = "webchat:test-session",
    active_loop: str | None = None,
) -> Tracker:
    events = [*(history or []), user_event(latest)]
    return Tracker(
        sender_id=sender,
        slots=slots or {},
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def leaves_loop(events: list[dict[str, Any]]) -> bool:
    return any(e.get("event") == "active_loop" and e.get("name") is None for e in events)
