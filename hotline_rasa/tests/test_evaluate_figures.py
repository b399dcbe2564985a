"""scripts/evaluate.py's figures from hand-made parse rows (no model loaded):
FAQ top-1 and the FAQ questions as first messages, where the dialogue answers
a sure FAQ guess DIET read as a form's answer or a change (actions/faq.py,
actions/complaints.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _evaluate() -> Any:
    spec = importlib.util.spec_from_file_location(
        "hotline_evaluate", ROOT / "scripts" / "evaluate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _row(intent: str, faq_conf: float, *, right: bool = True, p: float | None = 0.1) -> dict:
    return {
        "text": "t",
        "gold": "faq",
        "faq_gold": "a",
        "raw_intent": intent,
        "raw_conf": 0.9,
        "faq_pred": "a" if right else "b",
        "faq_conf": faq_conf,
        "rescued": False,
        "complaint_p": p,
    }


def test_faq_questions_as_first_messages_count_the_dialogues_answers() -> None:
    evaluate = _evaluate()
    sure = evaluate.FAQ_SURE_OUT_OF_CONTEXT
    rows = [
        _row("faq", 0.9),  # answered: both figures
        _row("edit_complaint", sure),  # the dialogue answers it: first message only
        _row("inform", sure + 0.05),  # the same
        _row("inform", sure, p=evaluate.COMPLAINT_FROM_ANSWER),  # taken for a complaint: neither
        _row("inform", sure - 0.01),  # not sure: declined, neither
        _row("edit_complaint", 0.99, right=False),  # the wrong entry: neither
        _row("request_service_guide", 0.99),  # a guide: neither
        {**_row("inform", 0.99), "raw_conf": 0.2},  # the NLU fallback: neither
    ]
    result = evaluate.figures(rows, 0.5, 0.1)
    assert result["faq_top1_accuracy"] == round(1 / 8, 4)
    assert result["faq_top1_first_message"] == round(3 / 8, 4)
    assert [r["decision"] for r in rows][:2] == ["faq", "edit_complaint"]


def test_a_complaint_made_of_a_sure_faq_guess_counts_its_answer_as_a_first_message() -> None:
    """The complaint arbiter took a problem on a sure FAQ entry's subject for a
    complaint: the complaint's opening gives that entry's answer first
    (actions/complaints.py), so the first-message figure counts it."""
    evaluate = _evaluate()
    sure = evaluate.FAQ_SURE_OUT_OF_CONTEXT
    rows = [
        {**_row("complain", sure), "complaint_from": "faq"},  # the rules first
        {**_row("complain", sure - 0.01), "complaint_from": "faq"},  # unsure: no rules
        {**_row("complain", 0.99), "complaint_from": "out_of_scope"},  # declined line
        {**_row("complain", 0.99, right=False), "complaint_from": "faq"},  # wrong entry
        _row("complain", 0.99),  # DIET's own complaint: the plain opening
    ]
    result = evaluate.figures(rows, 0.5, 0.1)
    assert result["faq_top1_accuracy"] == 0.0
    assert result["faq_top1_first_message"] == round(1 / 5, 4)
