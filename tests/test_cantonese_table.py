"""One Cantonese word table for both readers: data/language/cantonese.yml.

The action server's reader of a form's answer (``actions.answers.mandarin``,
loading the table with bot/cantonese.py) and the NLU's
(``hotline_rasa.cantonese.to_mandarin``, Rasa's environment) load the same
file with the same code (each environment its own copy: no process imports
both), and each reads every word of the table as its meaning
(hotline_rasa/tests/test_cantonese.py holds the NLU to the same). A
malformed file stops the reader with an error naming the entry
(tests/data/cantonese_table_errors.json, both readers).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cantonese import CANTONESE_FILE, CantoneseTableError, load_cantonese
from bot.config import ROOT

ERRORS = json.loads((ROOT / "tests/data/cantonese_table_errors.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("text", "message"), ERRORS["cases"])
def test_a_malformed_table_names_the_entry(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "cantonese.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CantoneseTableError) as error:
        load_cantonese(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_a_missing_table_is_named(tmp_path: Path) -> None:
    with pytest.raises(CantoneseTableError, match="nothing.yml"):
        load_cantonese(tmp_path / "nothing.yml")


def test_the_table_loads() -> None:
    assert CANTONESE_FILE == ROOT / "data" / "language" / "cantonese.yml"
    assert load_cantonese().meanings["冇"] == "没有"
