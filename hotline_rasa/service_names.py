"""Which catalog service a text names: the Rasa process's copy of the matcher.

``bot.knowledge.match_service`` finds the service a citizen's text names (the
longest name or alias written in it, else one of at least ``MIN_GAPPED``
characters whose characters stand in order with at most ``MAX_GAP`` others
between them: "公积金怎么提取" names 住房公积金提取). Rasa's process must not
import ``bot`` (its image holds hotline_rasa/ alone), so this module holds the
same rule over (service id, names) pairs that the model carries; both copies
are held to tests/data/service_match_cases.json (tests/test_service_match_cases.py
for ``bot``, hotline_rasa/tests/test_service_arbiter.py here).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import yaml

_NOISE = re.compile(r"[\s,,。.!!??、::;;\"'“”‘’()()]+")
MAX_GAP = 4
MIN_GAPPED = 4

#: (service id, its name and aliases)
Names = Sequence[tuple[str, Sequence[str]]]


def load_service_names(path: Path) -> list[tuple[str, list[str]]]:
    """(id, [name, *aliases]) of every service of a catalog file
    (data/knowledge/services.yml's shape: ``services: [{id, name, aliases}]``)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    services = document.get("services") if isinstance(document, dict) else None
    if not isinstance(services, list) or not services:
        raise ValueError(f"{path}: no 'services' list")
    names: list[tuple[str, list[str]]] = []
    for number, service in enumerate(services, 1):
        if not isinstance(service, dict) or not service.get("id") or not service.get("name"):
            raise ValueError(f"{path}: service {number} has no id or name")
        aliases = [str(a) for a in service.get("aliases") or []]
        names.append((str(service["id"]), [str(service["name"]), *aliases]))
    return names


def _gapped_span(key: str, text: str) -> int | None:
    """The shortest span of ``text`` holding ``key``'s characters in order with
    at most MAX_GAP characters between them in all, or None."""
    best: int | None = None
    start = text.find(key[0])
    while start >= 0:
        pos, ok = start, True
        for ch in key[1:]:
            pos = text.find(ch, pos + 1)
            if pos < 0 or pos - start + 1 - len(key) > MAX_GAP:
                ok = False
                break
        if ok:
            span = pos - start + 1
            best = span if best is None else min(best, span)
        start = text.find(key[0], start + 1)
    return best


@lru_cache(maxsize=8192)
def _key(alias: str) -> str:
    """A name or alias as it is matched: without noise, lower case."""
    return _NOISE.sub("", alias).lower()


def named_service(text: str, names: Iterable[tuple[str, Sequence[str]]]) -> str | None:
    """The id of the service ``text`` names, or None (``match_service``'s rule)."""
    cleaned = _NOISE.sub("", text or "").lower()
    if not cleaned:
        return None
    best: tuple[int, str, str] | None = None  # (length, key, service id)
    spread: list[tuple[int, int, str, str]] = []  # (-length, span, key, service id)
    for service_id, aliases in names:
        if cleaned == service_id:
            return service_id
        for alias in aliases:
            key = _key(alias)
            if not key:
                continue
            if key in cleaned:
                if best is None or len(key) > best[0]:
                    best = (len(key), key, service_id)
            elif len(key) >= MIN_GAPPED:
                span = _gapped_span(key, cleaned)
                if span is not None:
                    spread.append((-len(key), span, key, service_id))
    if best is not None:
        spread = [g for g in spread if best[1] in g[2]]
        if not spread:
            return best[2]
    return min(spread, key=lambda g: g[:2])[3] if spread else None
