"""The FAQ rescue (hotline_rasa/faq_rescue.py): a declined message whose FAQ entry
the retriever is sure of becomes ``faq``; anything else is left alone."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.shared.nlu.training_data.message import Message

from hotline_rasa.faq_rescue import RESCUE_KEY, FaqRescue


def _message(
    intent: str,
    ranking: list[tuple[str, float]],
    faq_confidence: float | None,
    text: str = "如果在家闻到煤气味，应该怎么做",
) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": ranking[0][1]}, add_to_output=True)
    message.set(
        "intent_ranking", [{"name": n, "confidence": c} for n, c in ranking], add_to_output=True
    )
    if faq_confidence is not None:
        key = "faq/ut_gas_leak"
        message.set(
            "response_selector",
            {
                "all_retrieval_intents": ["faq"],
                "faq": {
                    "response": {"confidence": faq_confidence, "intent_response_key": key},
                    "ranking": [{"confidence": faq_confidence, "intent_response_key": key}],
                },
            },
            add_to_output=True,
        )
    return message


def _run(message: Message, **config: Any) -> Message:
    return FaqRescue(config).process([message])[0]


def test_a_declined_message_with_a_sure_entry_becomes_the_faq() -> None:
    declined = [("nlu_fallback", 0.6), ("edit_complaint", 0.43), ("faq", 0.3), ("greet", 0.1)]
    message = _run(_message("nlu_fallback", declined, 0.91))
    assert message.get("intent") == {"name": "faq", "confidence": 0.91}
    assert [r["name"] for r in message.get("intent_ranking")] == ["faq", "edit_complaint", "greet"]
    assert message.get(RESCUE_KEY) == {"from": "edit_complaint", "diet_confidence": 0.43}
    assert RESCUE_KEY in message.as_dict(only_output_properties=True)


def test_diet_unsure_of_the_faq_itself_is_named_as_its_top_intent() -> None:
    declined = [("nlu_fallback", 0.6), ("faq", 0.58), ("consult", 0.3)]
    message = _run(_message("nlu_fallback", declined, 0.6))
    assert message.get(RESCUE_KEY) == {"from": "faq", "diet_confidence": 0.58}
    assert [r["name"] for r in message.get("intent_ranking")] == ["faq", "consult"]


@pytest.mark.parametrize("confidence", [0.0, 0.2, 0.4999])
def test_an_unsure_entry_leaves_the_fallback(confidence: float) -> None:
    declined = [("nlu_fallback", 0.6), ("stop", 0.49)]
    message = _run(_message("nlu_fallback", declined, confidence))
    assert message.get("intent")["name"] == "nlu_fallback"
    assert message.get(RESCUE_KEY) is None


def test_no_retriever_output_leaves_the_fallback() -> None:
    message = _run(_message("nlu_fallback", [("nlu_fallback", 0.6), ("greet", 0.3)], None))
    assert message.get("intent")["name"] == "nlu_fallback"


@pytest.mark.parametrize("intent", ["complain", "out_of_scope", "faq", "request_service_guide"])
def test_a_message_the_fallback_did_not_decline_is_untouched(intent: str) -> None:
    message = _run(_message(intent, [(intent, 0.9), ("faq", 0.05)], 0.95))
    assert message.get("intent") == {"name": intent, "confidence": 0.9}
    assert message.get(RESCUE_KEY) is None


RUN_ON = "喂你好我想问下就是我驾照今年已经扣了9分了如果再扣扣满12分会怎么样"


@pytest.mark.parametrize("intent", ["greet", "rate", "thank", "goodbye", "ask_identity"])
def test_a_long_message_diet_calls_small_talk_with_a_sure_entry_becomes_the_faq(
    intent: str,
) -> None:
    message = _run(_message(intent, [(intent, 0.8), ("faq", 0.15)], 0.98, RUN_ON))
    assert message.get("intent") == {"name": "faq", "confidence": 0.98}
    assert message.get(RESCUE_KEY) == {"from": intent, "diet_confidence": 0.8}


@pytest.mark.parametrize(
    ("text", "confidence", "config"),
    [
        ("你好 我想问点事情", 0.98, {}),  # short: small talk
        ("你好你好 在吗 , ，。 !", 0.98, {"small_talk_min_chars": 7}),  # 6 characters
        (RUN_ON, 0.4, {}),  # the retriever unsure
        (RUN_ON, 0.98, {"small_talk_intents": []}),  # switched off
    ],
)
def test_small_talk_stays_small_talk(text: str, confidence: float, config: dict) -> None:
    message = _run(_message("greet", [("greet", 0.8)], confidence, text), **config)
    assert message.get("intent")["name"] == "greet" and message.get(RESCUE_KEY) is None


def test_the_threshold_is_configurable_and_checked() -> None:
    declined = [("nlu_fallback", 0.6), ("edit_complaint", 0.43)]
    assert _run(_message("nlu_fallback", declined, 0.7), min_confidence=0.8).get(RESCUE_KEY) is None
    with pytest.raises(ValueError, match="min_confidence"):
        FaqRescue({"min_confidence": 0})


def test_the_shipped_pipeline_rescues_after_the_fallback_and_before_the_gate() -> None:
    from pathlib import Path

    import yaml

    config = yaml.safe_load((Path(__file__).resolve().parents[2] / "config.yml").read_text())
    names = [c["name"] for c in config["pipeline"]]
    rescue = names.index("hotline_rasa.faq_rescue.FaqRescue")
    assert names[rescue - 1] == "FallbackClassifier"
    assert names.index("hotline_rasa.faq_retriever.FaqRetriever") < rescue
    assert rescue < names.index("hotline_rasa.hotline_gate.HotlineGate")
