"""One table of pinyin initials for both readers.

The NLU reads "gjj", "sfz" … as their words (hotline_rasa/hotline_gate.py
``PINYIN_INITIALS`` and ``read_initials``, Rasa's environment); the action
server's reader of a form's answer (``actions.answers.mandarin``) and its
service matching keep a copy (no process imports both environments). The
copy is held here to hotline_gate.py's text: the same table, the same
pattern, the same code.
"""

from __future__ import annotations

import ast

import pytest

from actions.answers import PINYIN_INITIALS, mandarin, read_initials
from bot.config import ROOT
from tests.test_cantonese_table import _definitions

GATE = ROOT / "hotline_rasa" / "hotline_gate.py"


def _gate_table() -> dict[str, str]:
    for node in ast.parse(GATE.read_text(encoding="utf-8")).body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign):
            target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == "PINYIN_INITIALS":
            assert node.value is not None
            return ast.literal_eval(node.value)
    raise AssertionError(f"{GATE} defines no PINYIN_INITIALS")


def test_the_app_reads_the_nlus_table() -> None:
    assert PINYIN_INITIALS == _gate_table()
    assert list(PINYIN_INITIALS) == list(_gate_table())  # the pattern's order too


def test_the_app_reads_initials_with_the_nlus_code() -> None:
    app = _definitions(ROOT / "actions" / "answers.py")
    nlu = _definitions(GATE)
    for name in ("PINYIN_INITIALS", "_INITIALS", "read_initials"):
        assert app[name] == nlu[name], name


def test_every_initial_is_as_long_as_its_words() -> None:
    """So ``as_written`` finds the citizen's "sfz" for a value read as 身份证."""
    assert all(len(initials) == len(words) for initials, words in PINYIN_INITIALS.items())


@pytest.mark.parametrize(("initials", "words"), list(PINYIN_INITIALS.items()))
def test_every_initial_is_read_as_its_words(initials: str, words: str) -> None:
    assert mandarin(f"{initials}补办") == f"{words}补办"
    assert mandarin(initials.upper()) == words


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("gjj提取", "公积金提取"),
        ("用 sfz 办", "用 身份证 办"),
        ("ｙｙｚｚ过期了", "营业执照过期了"),  # full width, as the NLU's NFKC reads it
        ("系sfz丢咗", "是身份证丢了"),  # then the Cantonese rules see the words
        # only a whole run of Latin letters: words that hold them stay
        ("gjjx", "gjjx"),
        ("abcsfz", "abcsfz"),
        ("HKBN宽带装不了", "HKBN宽带装不了"),
        # sb (an insult) and hk (Hong Kong) are not in the table
        ("sb每个月交多少", "sb每个月交多少"),
        ("hk通行证", "hk通行证"),
    ],
)
def test_initials_are_read_only_as_a_whole_run(text: str, reading: str) -> None:
    assert mandarin(text) == reading


def test_reading_initials_keeps_everything_else() -> None:
    assert read_initials("我的gjj和SFZ") == "我的公积金和身份证"
    assert read_initials("no idea") == "no idea"
