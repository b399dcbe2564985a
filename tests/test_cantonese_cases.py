"""actions.answers.mandarin holds to tests/data/cantonese_cases.json.

Two readers of Cantonese exist, one per environment: the action server's
(``actions.answers.mandarin``, for reading a form's answer, with the scope
rules negations and refusals need) and the NLU's
(``hotline_rasa.cantonese.to_mandarin``, for the scikit-learn components'
features). No process imports both. Their words are one table,
data/language/cantonese.yml (tests/test_cantonese_table.py); the rules around
the words are each reader's own code, so both are held to the same cases here
and in Rasa's environment (hotline_rasa/tests/test_cantonese.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actions.answers import mandarin

CASES = json.loads(
    (Path(__file__).resolve().parent / "data" / "cantonese_cases.json").read_text(encoding="utf-8")
)["cases"]


@pytest.mark.parametrize(("cantonese", "reading"), [tuple(case) for case in CASES])
def test_the_form_reader_reads_cantonese_like_the_nlu(cantonese: str, reading: str) -> None:
    assert mandarin(cantonese) == reading
