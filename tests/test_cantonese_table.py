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

import ast
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
#: What both modules define to read the table: the same code in both.
LOADER = (
    "CantoneseTableError",
    "CantoneseWords",
    "_text",
    "_spellings",
    "_guard",
    "load_cantonese",
    "read_cantonese",
)


def test_the_form_reader_reads_the_shared_table() -> None:
    assert CANTONESE_FILE == ROOT / "data" / "language" / "cantonese.yml"
    assert _WORDS.meanings == load_cantonese().meanings == dict(WORDS)


@pytest.mark.parametrize(("word", "meaning"), WORDS)
def test_the_form_reader_reads_every_word_of_the_table(word: str, meaning: str) -> None:
    assert mandarin(word) == meaning


def _definitions(path: Path) -> dict[str, str]:
    """The module's top-level definitions as code, docstrings aside."""
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            for inner in ast.walk(node):
                body = getattr(inner, "body", None)
                if (
                    isinstance(inner, (ast.FunctionDef, ast.ClassDef))
                    and body
                    and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)
                ):
                    inner.body = body[1:] or [ast.Pass()]
            found[node.name] = ast.dump(node)
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = ast.dump(node.value)
    return found


def test_both_readers_load_the_table_with_the_same_code() -> None:
    """hotline_rasa/cantonese.py is read as text here (Rasa's environment is
    not imported): its loader is this one, and it loads the same file."""
    app = _definitions(ROOT / "bot" / "cantonese.py")
    nlu = _definitions(ROOT / "hotline_rasa" / "cantonese.py")
    for name in (*LOADER, "ENTRY_KEYS", "FILE_KEYS"):
        assert app[name] == nlu[name], name
    # the NLU's file, beside its package: the repository's (ROOT) here
    nlu_file = "Path(__file__).resolve().parent.parent / 'data' / 'language' / 'cantonese.yml'"
    assert nlu["CANTONESE_FILE"] == ast.dump(ast.parse(nlu_file, mode="eval").body)


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
