"""bot.knowledge.match_service holds to tests/data/service_match_cases.json.

Rasa's process has its own copy of the rule (hotline_rasa/service_names.py,
used by hotline_rasa/service_arbiter.py) held to the same file in Rasa's
environment (hotline_rasa/tests/test_service_arbiter.py), so the two copies
cannot drift apart although no process imports both.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.knowledge import match_service

CASES = json.loads(
    (Path(__file__).resolve().parent / "data" / "service_match_cases.json").read_text(
        encoding="utf-8"
    )
)["cases"]


@pytest.mark.parametrize(("text", "service_id"), [tuple(case) for case in CASES])
def test_the_service_a_text_names(text: str, service_id: str | None) -> None:
    service = match_service(text)
    assert (service.id if service else None) == service_id
