"""The widget's fixed texts live in one place: the STRINGS table of widget.js.

widget.js is parsed with tree-sitter's JavaScript grammar. Outside the table
no string literal may hold Chinese (or other CJK) text, and no literal may be
a shown or read-out text: the value of ``text``/``title``/``placeholder``/
``alt``/``aria-label``/``label`` in an object, a ``textContent``/``title``/
``placeholder`` assignment, a ``setAttribute("aria-label"|..., "...")``, a
``notice("...")``. The table itself: zh-CN complete, the other languages
(en, yue) only with keys zh-CN has and the same ``{placeholders}``, starters
that ask what the zh-CN starters ask (the assistant understands Chinese).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from bot.config import ROOT

tree_sitter = pytest.importorskip("tree_sitter", reason="tree-sitter: make install (dev tools)")
tree_sitter_javascript = pytest.importorskip("tree_sitter_javascript")

WIDGET = ROOT / "bot" / "static" / "widget.js"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
TEXT_KEYS = {"text", "title", "placeholder", "alt", "aria-label", "label"}
TEXT_PROPERTIES = {"textContent", "innerText", "title", "placeholder", "innerHTML"}
TEXT_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt"}
TEXT_CALLS = {"notice", "setBubbleState", "alert", "confirm"}
PLACEHOLDER = re.compile(r"\{(\w+)\}")
LANGUAGES = ("zh-CN", "en", "yue")

Node = Any


@dataclass(frozen=True)
class Finding:
    line: int
    literal: str
    why: str


def parse(source: str) -> Node:
    language = tree_sitter.Language(tree_sitter_javascript.language())
    tree = tree_sitter.Parser(language).parse(source.encode("utf-8"))
    assert not tree.root_node.has_error, "widget.js does not parse"
    return tree.root_node


def text_of(node: Node) -> str:
    return str(node.text.decode("utf-8"))


def walk(node: Node) -> Any:
    yield node
    for child in node.children:
        yield from walk(child)


def strings_table(root: Node) -> Node:
    """The object literal of ``var STRINGS = {...}``."""
    for node in walk(root):
        if node.type == "variable_declarator" and text_of(node.child_by_field_name("name")) == (
            "STRINGS"
        ):
            value = node.child_by_field_name("value")
            assert value is not None and value.type == "object"
            return value
    raise AssertionError("widget.js has no STRINGS table")


def literal_value(node: Node) -> str:
    """The characters of a string literal (its fragments; escapes as written)."""
    return "".join(
        text_of(c) for c in node.children if c.type in ("string_fragment", "escape_sequence")
    )


def key_name(pair: Node) -> str:
    key = pair.child_by_field_name("key")
    return literal_value(key) if key.type == "string" else text_of(key)


def why_fixed_text(node: Node) -> str | None:
    """Why the string literal ``node`` is a fixed text, or None when it is not."""
    value = literal_value(node) if node.type == "string" else text_of(node)
    if CJK.search(value):
        return "CJK text"
    if not value.strip():
        return None
    parent = node.parent
    if parent.type == "pair" and parent.child_by_field_name("value") == node:
        if key_name(parent) in TEXT_KEYS:
            return f"the value of {key_name(parent)}"
    if parent.type == "assignment_expression" and parent.child_by_field_name("right") == node:
        left = parent.child_by_field_name("left")
        prop = left.child_by_field_name("property") if left.type == "member_expression" else None
        if prop is not None and text_of(prop) in TEXT_PROPERTIES:
            return f"assigned to {text_of(prop)}"
    if parent.type == "arguments":
        callee = parent.parent.child_by_field_name("function")  # None for ``new X(...)``
        name = callee
        if callee is not None and callee.type == "member_expression":
            name = callee.child_by_field_name("property")
        args = list(parent.named_children)
        if name is not None and text_of(name) in TEXT_CALLS:
            return f"passed to {text_of(name)}()"
        if name is not None and text_of(name) == "setAttribute" and len(args) == 2:
            if args[1] == node and args[0].type == "string":
                if literal_value(args[0]) in TEXT_ATTRIBUTES:
                    return f"set as {literal_value(args[0])}"
    return None


def fixed_texts_outside_table(source: str) -> list[Finding]:
    root = parse(source)
    table = strings_table(root)
    found = []
    for node in walk(root):
        if node.type not in ("string", "template_string"):
            continue
        if table.start_byte <= node.start_byte < table.end_byte:
            continue
        why = why_fixed_text(node)
        if why is not None:
            found.append(Finding(node.start_point[0] + 1, text_of(node), why))
    return found


def to_python(node: Node) -> Any:
    """An object/array/string literal of the table as Python values."""
    if node.type == "string":
        return literal_value(node)
    if node.type == "array":
        return [to_python(c) for c in node.named_children if c.type != "comment"]
    if node.type == "object":
        return {
            key_name(pair): to_python(pair.child_by_field_name("value"))
            for pair in node.named_children
            if pair.type == "pair"
        }
    raise AssertionError(f"unexpected {node.type} in the STRINGS table: {text_of(node)}")


@pytest.fixture(scope="module")
def source() -> str:
    return WIDGET.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def table(source: str) -> dict[str, dict[str, Any]]:
    return dict(to_python(strings_table(parse(source))))


def test_no_fixed_text_outside_the_strings_table(source: str) -> None:
    found = fixed_texts_outside_table(source)
    assert not found, "fixed texts outside STRINGS in widget.js:\n" + "\n".join(
        f"  line {f.line}: {f.literal} ({f.why})" for f in found
    )


@pytest.mark.parametrize(
    ("added", "why"),
    [
        ('el("p", { text: "新增的提示" })', "CJK text"),
        ('el("p", { text: "Please wait" })', "the value of text"),
        ('el("button", { "aria-label": "Close" })', "the value of aria-label"),
        ('ui.status.textContent = "Offline";', "assigned to textContent"),
        ('ui.input.setAttribute("placeholder", "Ask here");', "set as placeholder"),
        ('notice("Try again", true);', "passed to notice()"),
        ("var hint = `请稍候`;", "CJK text"),
    ],
)
def test_the_check_finds_a_text_added_outside_the_table(source: str, added: str, why: str) -> None:
    """The check above can fail: a text added in the code is found, with why."""
    marker = "  // ---- small helpers"
    assert marker in source
    changed = source.replace(marker, "  " + added + "\n" + marker, 1)
    found = fixed_texts_outside_table(changed)
    assert [f.why for f in found] == [why]


def test_zh_cn_is_complete_and_other_languages_fit_it(table: dict[str, dict[str, Any]]) -> None:
    assert set(table) == set(LANGUAGES)
    base = table["zh-CN"]
    assert all(isinstance(v, (str, list)) and v for v in base.values())
    asks = [s["ask"] for s in base["starters"]]
    assert all(s["label"] == s["ask"] for s in base["starters"])  # zh-CN shows what it sends
    for lang in LANGUAGES[1:]:
        texts = table[lang]
        assert set(texts) <= set(base), f"{lang}: keys zh-CN does not have"
        for key, text in texts.items():
            if key == "starters":
                assert [s["ask"] for s in text] == asks, f"{lang}: starters must ask in zh-CN"
                continue
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(base[key])), (
                f"{lang}.{key}: placeholders differ from zh-CN"
            )
    assert set(table["en"]) == set(base), "the English table is complete too"


def keys_in(node: Node) -> list[str]:
    """The table keys an argument of ``t(...)`` can name: a literal, or either
    side of a ``?:`` (a variable names none: SERVER_CODES is checked apart)."""
    if node.type == "string":
        return [literal_value(node)]
    if node.type == "parenthesized_expression":
        return keys_in(node.named_children[0])
    if node.type == "ternary_expression":
        return keys_in(node.child_by_field_name("consequence")) + keys_in(
            node.child_by_field_name("alternative")
        )
    return []


def test_every_key_used_in_the_code_is_in_the_table(
    source: str, table: dict[str, dict[str, Any]]
) -> None:
    root = parse(source)
    used: set[str] = set()
    for node in walk(root):
        callee = node.child_by_field_name("function") if node.type == "call_expression" else None
        if callee is not None and text_of(callee) == "t":
            used.update(keys_in(node.child_by_field_name("arguments").named_children[0]))
        if node.type == "variable_declarator" and text_of(node.child_by_field_name("name")) == (
            "SERVER_CODES"
        ):
            used.update(to_python(node.child_by_field_name("value")).values())
    assert len(used) > 40, "the widget looks its texts up with t(...)"
    missing = used - set(table["zh-CN"])
    assert not missing, f"t() keys without a zh-CN text: {sorted(missing)}"
    unused = set(table["zh-CN"]) - used
    assert not unused, f"texts in the table that nothing shows: {sorted(unused)}"
