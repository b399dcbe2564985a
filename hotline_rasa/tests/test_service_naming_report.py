"""The service naming report (eval/service_naming_report.py): which service the
final parse names, before (matcher only) and after (with the retriever)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eval.service_naming_report import (
    figures,
    final_service,
    load_cases,
    matcher_only,
    offered,
    report,
)


def row(gold: str, intent: str, matcher: str | None, guess: str | None, conf: float) -> dict:
    entity = guess if intent == "request_service_guide" and conf >= 0.7 and not matcher else None
    return {
        "text": "x",
        "gold": gold,
        "intent": intent,
        "matcher": matcher,
        "guess": guess,
        "confidence": conf,
        "entity": entity,
    }


ROWS: list[dict[str, Any]] = [
    row("a", "request_service_guide", "a", "b", 0.9),  # the matcher names it: right
    row("a", "request_service_guide", None, "a", 0.8),  # the retriever: right
    row("b", "request_service_guide", None, "a", 0.75),  # the retriever: wrong
    row("b", "request_service_guide", None, "b", 0.5),  # below the threshold: none
    row("c", "faq", "c", "c", 0.99),  # not the guide: none
]


def test_the_final_service_is_the_matchers_else_the_entity() -> None:
    assert [final_service(r, None) for r in ROWS] == ["a", "a", "a", None, None]
    assert [final_service(r, 0.4) for r in ROWS] == ["a", "a", "a", "b", None]


def test_figures_before_and_after() -> None:
    assert figures(ROWS, None)["counts"] == {"right": 2, "wrong": 1, "none": 2, "total": 5}
    assert matcher_only(ROWS)["counts"] == {"right": 1, "wrong": 0, "none": 4, "total": 5}
    result = report(ROWS, 0.7)
    assert result["sweep"]["0.4"]["right"] == 60.0
    assert result["retriever_top1_where_no_name"] == pytest.approx(66.7)


def test_a_set_needs_cases_with_text(tmp_path: Path) -> None:
    good = tmp_path / "dev.yml"
    good.write_text("cases:\n  - {text: 我要办居住证, service: residence_permit}\n", "utf-8")
    assert load_cases(good) == [{"text": "我要办居住证", "service": "residence_permit"}]
    bad = tmp_path / "bad.yml"
    bad.write_text("cases:\n  - {service: residence_permit}\n", "utf-8")
    with pytest.raises(ValueError, match="case 1 has no text"):
        load_cases(bad)


def test_a_guide_offered_with_an_faq_answer_is_counted_apart() -> None:
    def answered(gold: str, guess: str | None, sure: bool, off: float, faq: float) -> dict:
        return {
            **row(gold, "faq", None, guess, 0.9 if sure else 0.5),
            "sure": sure,
            "off_topic": off,
            "faq_confidence": faq,
        }

    rows = [
        answered("a", "a", True, 0.0, 0.9),  # right service offered
        answered("a", "b", True, 0.1, 0.9),  # another service offered
        answered("a", "a", False, 0.0, 0.9),  # unsure: no button
        answered("a", "a", True, 0.7, 0.9),  # more likely no hotline matter: no button
        answered("a", "a", True, 0.0, 0.2),  # not answered at once (confirmed first)
        {**row("a", "request_service_guide", None, "a", 0.9), "faq_confidence": None},
    ]
    assert offered(rows)["counts"] == {"right": 1, "wrong": 1, "total": 6}
