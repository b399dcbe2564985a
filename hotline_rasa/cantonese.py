"""Written Cantonese to Mandarin, word by word, before a classifier reads a message.

Dongguan's citizens write Cantonese as often as Mandarin ("点样睇自己社保交咗
几多个月", "户口簿唔见咗 去边度补"), while the catalog, the services and nearly
all training examples are Mandarin. Every word that differs is a feature the
classifiers never met, so a Cantonese question reaches the FAQ retriever and
the gate as a sentence half made of unknown words: on the blind development
set eval/citizen_dev3, six of the ten FAQ questions declined were Cantonese,
with the FAQ retriever at 0.06-0.3 (docs/experiments/2026-12-07-cantonese.md).

``to_mandarin`` rewrites the Cantonese words that have one Mandarin meaning
(冇 → 没有, 点样 → 怎样, 喺 → 在, 睇 → 看, 揾 → 找, 咗 → 了...): the word table
data/language/cantonese.yml, which the action server's reader of a form's
answer (bot/cantonese.py, actions/answers.py ``mandarin``) reads too; the two
environments share the file, not code. A word that is also Mandarin is
rewritten only where the table's guards say it cannot be Mandarin (仲 never in
仲裁, 边度 never after 旁/这/路: 旁边度 is 旁边 + 度), or not at all: 人工 (转人工
is a request for a person), 紧 (紧急). Mandarin text comes back unchanged
(hotline_rasa/tests/test_cantonese.py).

Two rules depend on the sentence around a word and stay in this code, read
after the table's words:

- 系 is 是 only after a subject or an adverb or at the start of a phrase (我系,
  都系; not 系统, 关系, 佛系);
- every 唔 the table's words left (唔想, 唔见) is 不. The form reader leaves a
  lone 唔 (a filler, "嗯") alone; here a message that is only "唔" is too
  short for that to matter, and "唔work" is 不work.

Where it is applied: ``hotline_gate.normalise``, which every scikit-learn
component (the gate, the FAQ and service retrievers, the complaint arbiter, the
safety net's detector) applies to its training texts and to each message.
DIET's tokens are not rewritten: tried, the retrained DIET answered more FAQ
questions but read 18 more service requests of the tuning sets as FAQ
questions, with 12 more errors in all than this (docs/experiments/
2026-12-07-cantonese.md). The message's text itself is not changed: the parse
result, the tracker and the danger words (data/danger_words.yml, which hold
Cantonese forms) see what the citizen wrote.

Which table: the one the model was trained with. The gate keeps the table's
text in the model (``HotlineGate.persist``) and installs it when the model is
loaded (``use``), so a model read by an image whose data/language/cantonese.yml
was since changed still reads messages as its classifiers learnt them; the
image's file is what training reads, and what a model trained before the
table travelled with it (no table inside) falls back to, with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: The word table both environments read (the action server's reader:
#: bot/cantonese.py). In Rasa's image as in the repository, beside this package.
CANTONESE_FILE = Path(__file__).resolve().parent.parent / "data" / "language" / "cantonese.yml"
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


#: The image's table, read once when the process starts.
IMAGE_WORDS = load_cantonese()
#: The table messages are read with: the image's until a model is loaded,
#: then the table that model was trained with (``use``).
WORDS = IMAGE_WORDS


def use(words: CantoneseWords) -> None:
    """Read messages with ``words`` from now on. A loaded model installs the
    table it was trained with (``HotlineGate.load``), so a model served from an
    image holding another table reads messages as its classifiers were trained,
    not as the image's file says. Rasa's process serves one model at a time."""
    global WORDS
    WORDS = words

#: 系 is Cantonese 是 only after a subject or an adverb (我系, 佢系, 都系,
#: 真系, 即系) or at the start of a phrase; elsewhere it is Mandarin 系
#: (系统, 关系, 联系, 佛系, 中文系). Read after the table's words (佢 is 他 by then).
_XI = re.compile(r"(?:(?<=[我你他她佢都就真即又只也亦仲还个定])|(?<![\w]))[系係](?![统列数])")
#: Every 唔 the table's words left: 不.
_NOT = re.compile("唔")


def to_mandarin(text: str) -> str:
    """``text`` with its Cantonese words in Mandarin; Mandarin is unchanged."""
    if not text:
        return text
    text = _NOT.sub("不", WORDS.read(text))
    return _XI.sub("是", text)
