"""eval/complaint_intake.py's outcome of one parse (no model loaded): what a
citizen who told a problem in a line meets."""

from __future__ import annotations

from typing import Any

import pytest

from eval.complaint_intake import (
    COMPLAINT_FROM_ANSWER,
    FAQ_MIN_CONFIDENCE,
    FAQ_SURE_OUT_OF_CONTEXT,
    outcome,
)


def _parse(intent: str, faq: float = 0.0, p: float | None = None) -> dict[str, Any]:
    return {
        "intent": {"name": intent, "confidence": 0.9},
        "response_selector": {
            "faq": {"response": {"intent_response_key": "faq/a", "confidence": faq}}
        },
        "complaint": {"p": p},
    }


@pytest.mark.parametrize(
    ("parse", "expected"),
    [
        (_parse("complain"), "complaint"),
        (_parse("inform", p=COMPLAINT_FROM_ANSWER), "complaint"),  # the fallback starts it
        (_parse("emergency"), "emergency"),
        (_parse("nlu_fallback"), "declined"),
        (_parse("out_of_scope"), "declined"),
        (_parse("faq", faq=FAQ_MIN_CONFIDENCE), "faq"),
        (_parse("faq", faq=FAQ_MIN_CONFIDENCE - 0.01), "declined"),
        # a sure FAQ read as a form's answer or a change: the dialogue answers it
        (_parse("inform", faq=FAQ_SURE_OUT_OF_CONTEXT, p=0.1), "faq"),
        (_parse("edit_complaint", faq=FAQ_SURE_OUT_OF_CONTEXT), "faq"),
        (_parse("inform", faq=FAQ_SURE_OUT_OF_CONTEXT - 0.01, p=0.1), "other"),
        (_parse("request_service_guide", faq=0.99), "other"),
    ],
)
def test_outcome(parse: dict[str, Any], expected: str) -> None:
    assert outcome(parse) == expected
