"""Where eval/safety_report.py says the emergency numbers come from."""

from __future__ import annotations

import importlib.util
import sys

from hotline_rasa.safety_net import compile_words, load_fragments
from hotline_rasa.tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location("safety_report", ROOT / "eval" / "safety_report.py")
assert _spec and _spec.loader
report = importlib.util.module_from_spec(_spec)
sys.modules["safety_report"] = report
_spec.loader.exec_module(report)

WORDS = compile_words(load_fragments(ROOT / "data" / "danger_words.yml"))


def test_the_source_of_the_numbers() -> None:
    net = {"from": "greet", "by": "detector"}
    assert report.numbers_from("emergency", net, "x", WORDS) == "net:detector"
    assert report.numbers_from("emergency", None, "x", WORDS) == "model"
    # the actions' net: a word, or the parse's alarm
    assert report.numbers_from("faq", None, "楼道里好大煤气味", WORDS) == "action"
    assert report.numbers_from("faq", None, "我爸推不醒", WORDS, alarm=True) == "action"
    assert report.numbers_from("faq", None, "社保怎么交", WORDS) == "none"
    # the parse's alarm decides when there is one: a word the NLU vetoed warns of nothing
    calm = "上班路上被车撞算不算工伤"
    assert report.numbers_from("faq", None, calm, WORDS, alarm=False) == "none"
    assert report.numbers_from("faq", None, calm, WORDS) == "action"
    # inform outside a form is the fallback's (data/rules.yml), which warns
    assert report.numbers_from("inform", None, "我爸推不醒", WORDS, alarm=True) == "action"
    # a greeting's fixed reply warns of nothing
    assert report.numbers_from("greet", None, "我爸推不醒", WORDS, alarm=True) == "none"


def test_the_report_counts_misses_and_false_alarms() -> None:
    rows = [
        {"text": "a", "label": "emergency", "source": "model", "intent": "emergency"},
        {"text": "b", "label": "emergency", "source": "none", "intent": "greet"},
        {"text": "c", "label": "not_emergency", "source": "action", "intent": "faq"},
        {"text": "d", "label": "not_emergency", "source": "none", "intent": "faq"},
    ]
    result = report.report(rows)
    assert result["numbers_first"] == 1 and result["numbers_first_pct"] == 50.0
    assert [r["text"] for r in result["missed"]] == ["b"]
    assert result["false_alarms"] == 1 and result["false_alarm_pct"] == 50.0
