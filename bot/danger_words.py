"""The safety net's words (data/danger_words.yml): a message that means
someone may be in danger right now gets 119 / 120 / 110 first.

The same file is read by Rasa's process at training time
(hotline_rasa/safety_net.py, its own reader: the two environments share data
files, not code); both read it the same way: the fragments of ``groups``
joined with "|", silenced by a fragment of ``quiet`` (a game, a film, a dream,
the news).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.config import ROOT

DANGER_WORDS_FILE = ROOT / "data" / "danger_words.yml"


class DangerWordsError(ValueError):
    """The word file is malformed; the message names the group."""


@dataclass(frozen=True)
class DangerWords:
    danger: re.Pattern[str]
    quiet: re.Pattern[str] | None

    def heard(self, text: str) -> list[str]:
        """The words of danger in ``text``; none when the danger is only told
        about (a game, a film, a dream, the news)."""
        found = [m.group(0) for m in self.danger.finditer(text or "")]
        if found and self.quiet is not None and self.quiet.search(text):
            return []
        return found


def _fragments(path: Path, name: str, items: Any) -> list[str]:
    if not isinstance(items, list) or not items:
        raise DangerWordsError(f"{path}: group {name!r} must be a non-empty list")
    fragments = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise DangerWordsError(f"{path}: group {name!r} has an empty fragment")
        try:
            re.compile(item)
        except re.error as error:
            raise DangerWordsError(f"{path}: group {name!r}: {item!r}: {error}") from error
        fragments.append(item.strip())
    return fragments


def load_danger_words(path: Path = DANGER_WORDS_FILE) -> DangerWords:
    """The file's words: ``groups`` (required) and ``quiet`` (optional)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if data.get("version") != 1:
        raise DangerWordsError(f"{path}: version must be 1")
    groups = data.get("groups")
    if not isinstance(groups, dict) or not groups:
        raise DangerWordsError(f"{path}: 'groups' must map names to lists of fragments")
    danger = [f for name, items in groups.items() for f in _fragments(path, name, items)]
    quiet = _fragments(path, "quiet", data["quiet"]) if "quiet" in data else []
    return DangerWords(re.compile("|".join(danger)), re.compile("|".join(quiet)) if quiet else None)
