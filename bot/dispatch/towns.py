"""The town or street (镇街) a citizen's text names, from ``data/towns.yml``.

Every name a town is known by (full name, short form without 街道/镇, aliases,
well-known places inside it) is looked up in the text; the longest match wins,
so "松山湖大道" finds 松山湖 and "南城街道" beats "南城". A short form that is
also an ordinary word (``AMBIGUOUS``: 桥头 "bridge end", 沙田 "sandy field",
...) counts only with a place word after it ("桥头镇", "桥头这边") or when
the text says 东莞 near it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.config import ROOT

DEFAULT_PATH = ROOT / "data" / "towns.yml"
KINDS = ("street", "town", "zone")
_SUFFIXES = ("街道办事处", "街道办", "街道", "镇", "区")
# Short forms that are also ordinary words: need a place word after them.
AMBIGUOUS = frozenset({"桥头", "沙田", "长安", "茶山"})
# ... except after a verb of place (在长安、住沙田), which 桥头 ("在桥头等") does not get.
STRICT = frozenset({"桥头"})
_PLACE_AFTER = re.compile(
    r"^(镇|街|这边|那边|这里|那里|附近|一带|村|社区|路|大道|市场|车站|站|的[^车]|那|这"
    r"|医院|公园|广场|中学|小学|学校|派出所|汽车站|万达|工业区|政府|菜市场|港)"
)
_PLACE_BEFORE = re.compile(r"(在|住|到|去|来|是)$")
# Longer words a short form is part of without naming the town ("东莞城区" is
# not 莞城, "广东城市" not 东城): a match inside one of them does not count.
NOT_A_TOWN = {
    "莞城": ("东莞城",),
    "莞城区": ("东莞城区",),
    "东城": ("广东城", "山东城"),
}
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


class TownsError(ValueError):
    """``towns.yml`` is malformed; the message names the entry."""


@dataclass(frozen=True)
class Town:
    key: str
    name: str
    kind: str
    office: str
    names: tuple[str, ...]  # every normalised name it is recognised by


@dataclass(frozen=True)
class TownMatch:
    town: Town
    matched: str  # the words of the text that named it


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


@dataclass(frozen=True)
class Towns:
    towns: dict[str, Town]
    source: str
    _index: tuple[tuple[str, Town], ...]  # (name, town), longest names first

    def find(self, *texts: str | None, location: str | None = None) -> TownMatch | None:
        """The town named in ``location`` (the citizen's answer to "where":
        a place by construction, so 长安 alone is 长安镇) or else in the first
        of ``texts`` that names one (free text, where 长安 may be a car)."""
        match = self._find_one(normalise(location or ""), lenient=True)
        for text in texts:
            if match is not None:
                break
            match = self._find_one(normalise(text or ""), lenient=False)
        return match

    def _find_one(self, text: str, *, lenient: bool) -> TownMatch | None:
        if not text:
            return None
        for name, town in self._index:
            start = text.find(name)
            while start >= 0:
                if not _inside_other_word(text, name, start) and (
                    lenient or name not in AMBIGUOUS or _confirmed(text, name, start)
                ):
                    return TownMatch(town, name)
                start = text.find(name, start + 1)
        return None

    def name(self, key: str | None) -> str | None:
        town = self.towns.get(key or "")
        return town.name if town else None


def _inside_other_word(text: str, name: str, start: int) -> bool:
    for word in NOT_A_TOWN.get(name, ()):
        offset = word.find(name)
        if text[start - offset : start - offset + len(word)] == word:
            return True
    return False


def _confirmed(text: str, name: str, start: int) -> bool:
    before, after = text[max(0, start - 4) : start], text[start + len(name) :]
    if _PLACE_AFTER.match(after) or "东莞" in before:
        return True
    return name not in STRICT and bool(_PLACE_BEFORE.search(before))


def _short(name: str) -> str | None:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


def parse_towns(raw: Any, source: str = "towns.yml") -> Towns:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("towns"), list):
        raise TownsError(f"{source}: expected a mapping with a list 'towns'")
    towns: dict[str, Town] = {}
    owner: dict[str, str] = {}
    for i, entry in enumerate(raw["towns"], start=1):
        where = f"{source}: town #{i}"
        if not isinstance(entry, Mapping):
            raise TownsError(f"{where}: must be a mapping")
        key, name = str(entry.get("key") or ""), str(entry.get("name") or "")
        where = f"{source}: town {key or i!r}"
        if not _KEY.match(key) or key in towns:
            raise TownsError(f"{where}: key must be unique ascii snake_case")
        if not name or not entry.get("office"):
            raise TownsError(f"{where}: needs a name and an office")
        if entry.get("kind") not in KINDS:
            raise TownsError(f"{where}: kind must be one of {', '.join(KINDS)}")
        words = [name, _short(name), *(entry.get("aliases") or []), *(entry.get("places") or [])]
        names: list[str] = []
        for word in words:
            if not word:
                continue
            norm = normalise(str(word))
            if norm in owner and owner[norm] != key:
                raise TownsError(f"{where}: {word!r} already names town {owner[norm]!r}")
            owner[norm] = key
            if norm not in names:
                names.append(norm)
        towns[key] = Town(key, name, str(entry["kind"]), str(entry["office"]), tuple(names))
    index = sorted(
        ((n, t) for t in towns.values() for n in t.names), key=lambda item: -len(item[0])
    )
    return Towns(towns, str(raw.get("source") or ""), tuple(index))


@functools.lru_cache(maxsize=4)
def load_towns(path: Path | str | None = None) -> Towns:
    """Load and validate ``data/towns.yml`` (cached; it changes with a redeploy)."""
    source = Path(path) if path else DEFAULT_PATH
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TownsError(f"{source}: cannot read towns: {exc}") from None
    return parse_towns(raw, str(source))
