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
import yaml

from actions.answers import _WORDS, mandarin
from bot.cantonese import CANTONESE_FILE, CantoneseTableError, load_cantonese
from bot.config import ROOT

TABLE = yaml.safe_load(CANTONESE_FILE.read_text(encoding="utf-8"))
WORDS = [
    (word, entry["mandarin"])
    for entry in TABLE["words"]
    for word in (
        entry["cantonese"] if isinstance(entry["cantonese"], list) else [entry["cantonese"]]
    )
]
ERRORS = json.loads((ROOT / "tests/data/cantonese_table_errors.json").read_text(encoding="utf-8"))


def test_the_form_reader_reads_the_shared_table() -> None:
    assert CANTONESE_FILE == ROOT / "data" / "language" / "cantonese.yml"
    assert _WORDS.meanings == load_cantonese().meanings == dict(WORDS)


@pytest.mark.parametrize(("word", "meaning"), WORDS)
def test_the_form_reader_reads_every_word_of_the_table(word: str, meaning: str) -> None:
    assert mandarin(word) == meaning


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


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("旁边度假村", "旁边度假村"),  # 边度 (where) not after a side: 旁边 + 度假
        ("这边处理一下", "这边处理一下"),
        ("几点办公", "几点办公"),  # 点办 (how to do) not after 几点
        ("红木有限公司", "红木有限公司"),  # 木有 (slang 没有) not in 木 + 有限
        ("完成日期", "完成日期"),  # 成日 (often) not in 完成 + 日期
        ("凉茶点样煲", "凉茶怎样煲"),
        ("仲有冇人喺度", "还有没有人在这里"),
    ],
)
def test_the_guards_keep_mandarin_words(text: str, reading: str) -> None:
    assert mandarin(text) == reading
