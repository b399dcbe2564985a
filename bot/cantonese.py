"""The Cantonese word table (data/language/cantonese.yml), for reading a
citizen's answer to a form's question (actions/answers.py ``mandarin``).

The same file is read by Rasa's process (hotline_rasa/cantonese.py, its own
reader: the two environments share data files, not code); both read it the
same way: every spelling of an entry becomes its Mandarin meaning, the longest
word first where two start alike, except where a character of the entry's
``not_after`` stands right before it or one of its ``not_before`` right after
it (tests/test_cantonese_table.py and hotline_rasa/tests/test_cantonese.py
hold both to the file). The rules that depend on the sentence around a word
stay in the readers' code (actions/answers.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.config import ROOT

CANTONESE_FILE = ROOT / "data" / "language" / "cantonese.yml"
ENTRY_KEYS = frozenset({"cantonese", "mandarin", "note", "not_after", "not_before"})
FILE_KEYS = frozenset({"version", "guards", "words"})


class CantoneseTableError(ValueError):
    """The word table is malformed; the message names the entry."""


@dataclass(frozen=True)
class CantoneseWords:
    #: every spelling and its Mandarin meaning
    meanings: dict[str, str]
    pattern: re.Pattern[str]
    #: the table's YAML, as read (a Rasa model keeps the table it was trained with)
    text: str

    def read(self, text: str) -> str:
        """``text`` with the table's words in Mandarin."""
        if not text:
            return text
        return self.pattern.sub(lambda match: self.meanings[match.group(0)], text)


def _text(path: str, where: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise CantoneseTableError(f"{path}: {where}: {key!r} must be a non-empty text")
    return value


def _spellings(path: str, where: str, value: Any) -> list[str]:
    spellings = value if isinstance(value, list) else [value]
    if not spellings:
        raise CantoneseTableError(f"{path}: {where}: 'cantonese' must name a word")
    words = [_text(path, where, "cantonese", word) for word in spellings]
    if any(re.search(r"\s", word) for word in words):
        raise CantoneseTableError(f"{path}: {where}: a Cantonese word has a space")
    return words


def _guard(path: str, where: str, entry: dict[str, Any], key: str) -> str:
    if key not in entry:
        return ""
    return f"[{re.escape(_text(path, where, key, entry[key]))}]"


def load_cantonese(path: Path = CANTONESE_FILE) -> CantoneseWords:
    """The words of the table file ``path``; :class:`CantoneseTableError`
    names a missing file or a malformed entry."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CantoneseTableError(f"{path}: {error}") from error
    return read_cantonese(text, str(path))


def read_cantonese(text: str, path: str) -> CantoneseWords:
    """The words of a table's YAML ``text`` (``path`` names it in errors);
    :class:`CantoneseTableError` names a malformed entry."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CantoneseTableError(f"{path}: {error}") from error
    if not isinstance(data, dict) or data.get("version") != 1:
        raise CantoneseTableError(f"{path}: version must be 1")
    if unknown := sorted(set(data) - FILE_KEYS):
        raise CantoneseTableError(f"{path}: unknown keys {unknown}")
    if not isinstance(data.get("guards", {}), dict):
        raise CantoneseTableError(f"{path}: 'guards' must map names to characters")
    entries = data.get("words")
    if not isinstance(entries, list) or not entries:
        raise CantoneseTableError(f"{path}: 'words' must be a non-empty list")
    meanings: dict[str, str] = {}
    owner: dict[str, str] = {}
    pieces: list[tuple[str, str]] = []
    for number, entry in enumerate(entries, 1):
        where = f"entry {number}"
        if not isinstance(entry, dict):
            raise CantoneseTableError(f"{path}: {where} must be a mapping")
        first = entry.get("cantonese")
        first = first[0] if isinstance(first, list) and first else first
        if isinstance(first, str):
            where = f"{where} ({first})"
        if unknown := sorted(set(entry) - ENTRY_KEYS):
            raise CantoneseTableError(f"{path}: {where}: unknown keys {unknown}")
        words = _spellings(path, where, entry.get("cantonese"))
        mandarin = _text(path, where, "mandarin", entry.get("mandarin"))
        if "note" in entry:
            _text(path, where, "note", entry["note"])
        after = _guard(path, where, entry, "not_after")
        before = _guard(path, where, entry, "not_before")
        for word in words:
            if word == mandarin:
                raise CantoneseTableError(f"{path}: {where}: {word} is its own meaning")
            if word in owner:
                raise CantoneseTableError(f"{path}: {where}: {word} is also {owner[word]}")
            owner[word] = where
            meanings[word] = mandarin
            guarded = (f"(?<!{after})" if after else "") + re.escape(word)
            pieces.append((word, guarded + (f"(?!{before})" if before else "")))
    # the longest word first wherever two start alike (冇咗 before 冇)
    pieces.sort(key=lambda piece: len(piece[0]), reverse=True)
    return CantoneseWords(meanings, re.compile("|".join(regex for _, regex in pieces)), text)
