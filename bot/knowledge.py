"""The hotline's knowledge: FAQ entries and the service catalog, read from data files.

Knowledge editors maintain ``data/knowledge/faq.yml`` and
``data/knowledge/services.yml``; nothing citizen-facing about policies is
written anywhere else. The action server answers from these objects, and
``scripts/build_training_data.py`` turns the same files into Rasa data.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.config import ROOT

KNOWLEDGE_DIR = ROOT / "data" / "knowledge"
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class KnowledgeError(ValueError):
    """A knowledge file is malformed; the message names the entry and field."""


@dataclass(frozen=True)
class FaqEntry:
    id: str
    domain: str
    domain_name: str
    question: str
    answer: str
    source: str
    updated: dt.date
    sample: bool
    examples: tuple[str, ...]


@dataclass(frozen=True)
class OnlineWay:
    entry: str
    steps: tuple[str, ...]


@dataclass(frozen=True)
class OfflineWay:
    office: str
    address: str
    hours: str
    materials: tuple[str, ...]
    process: tuple[str, ...]
    fees: str
    time_limit: str


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    aliases: tuple[str, ...]
    department: str
    source: str
    updated: dt.date
    sample: bool
    online: OnlineWay | None
    offline: OfflineWay | None
    examples: tuple[str, ...] = field(default=())


def _require(entry: dict[str, Any], key: str, where: str) -> Any:
    value = entry.get(key)
    if value in (None, "", []):
        raise KnowledgeError(f"{where}: missing field '{key}'")
    return value


def _as_date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise KnowledgeError(f"{where}: 'updated' is not a date: {value!r}") from exc


def _read_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise KnowledgeError(f"{path}: expected a mapping at the top level")
    return data


def parse_faq(data: dict[str, Any]) -> dict[str, FaqEntry]:
    """Validate and build FAQ entries from the parsed ``faq.yml``."""
    domains: dict[str, str] = data.get("domains") or {}
    entries: dict[str, FaqEntry] = {}
    for raw in data.get("entries") or []:
        where = f"faq entry {raw.get('id', '?')}"
        entry_id = str(_require(raw, "id", where))
        if not _ID_RE.match(entry_id) or entry_id in entries:
            raise KnowledgeError(f"{where}: id must be unique ascii snake_case")
        domain = str(_require(raw, "domain", where))
        if domain not in domains:
            raise KnowledgeError(f"{where}: unknown domain '{domain}'")
        entries[entry_id] = FaqEntry(
            id=entry_id,
            domain=domain,
            domain_name=domains[domain],
            question=str(_require(raw, "question", where)).strip(),
            answer=str(_require(raw, "answer", where)).strip(),
            source=str(_require(raw, "source", where)),
            updated=_as_date(_require(raw, "updated", where), where),
            sample=bool(raw.get("sample", False)),
            examples=tuple(str(e).strip() for e in _require(raw, "examples", where)),
        )
    return entries


def _parse_online(raw: dict[str, Any] | None, where: str) -> OnlineWay | None:
    if not raw or not raw.get("available", True):
        return None
    return OnlineWay(
        entry=str(_require(raw, "entry", where + ".online")),
        steps=tuple(str(s) for s in _require(raw, "steps", where + ".online")),
    )


def _parse_offline(raw: dict[str, Any] | None, where: str) -> OfflineWay | None:
    if not raw:
        return None
    w = where + ".offline"
    return OfflineWay(
        office=str(_require(raw, "office", w)),
        address=str(raw.get("address") or ""),
        hours=str(_require(raw, "hours", w)),
        materials=tuple(str(m) for m in _require(raw, "materials", w)),
        process=tuple(str(p) for p in raw.get("process") or ()),
        fees=str(raw.get("fees") or "以窗口告知为准"),
        time_limit=str(raw.get("time_limit") or "以窗口告知为准"),
    )


def parse_services(data: dict[str, Any]) -> list[Service]:
    """Validate and build the service catalog from the parsed ``services.yml``."""
    services: list[Service] = []
    seen: set[str] = set()
    for raw in data.get("services") or []:
        where = f"service {raw.get('id', '?')}"
        service_id = str(_require(raw, "id", where))
        if not _ID_RE.match(service_id) or service_id in seen:
            raise KnowledgeError(f"{where}: id must be unique ascii snake_case")
        seen.add(service_id)
        online = _parse_online(raw.get("online"), where)
        offline = _parse_offline(raw.get("offline"), where)
        if online is None and offline is None:
            raise KnowledgeError(f"{where}: needs an online or an offline way")
        services.append(
            Service(
                id=service_id,
                name=str(_require(raw, "name", where)),
                aliases=tuple(str(a) for a in raw.get("aliases") or ()),
                department=str(_require(raw, "department", where)),
                source=str(_require(raw, "source", where)),
                updated=_as_date(_require(raw, "updated", where), where),
                sample=bool(raw.get("sample", False)),
                online=online,
                offline=offline,
                examples=tuple(str(e) for e in raw.get("examples") or ()),
            )
        )
    return services


@functools.lru_cache(maxsize=4)
def load_faq(path: Path = KNOWLEDGE_DIR / "faq.yml") -> dict[str, FaqEntry]:
    """FAQ entries by id (cached; the files change only with a redeploy)."""
    return parse_faq(_read_yaml(path))


@functools.lru_cache(maxsize=4)
def load_services(path: Path = KNOWLEDGE_DIR / "services.yml") -> list[Service]:
    """The service catalog (cached)."""
    return parse_services(_read_yaml(path))


def service_by_id(service_id: str, services: list[Service] | None = None) -> Service | None:
    for service in services if services is not None else load_services():
        if service.id == service_id:
            return service
    return None


_NOISE = re.compile(r"[\s,,。.!!??、::;;\"'“”‘’()()]+")


def match_service(text: str, services: list[Service] | None = None) -> Service | None:
    """The catalog service a citizen's text names, or None.

    Matches the service id (button payloads), then the longest alias or name
    contained in the text, so "我想补办身份证" finds the ID-card service and
    "居主证" (a typo listed as an alias) finds the residence permit.
    """
    catalog = services if services is not None else load_services()
    cleaned = _NOISE.sub("", text or "").lower()
    if not cleaned:
        return None
    best: tuple[int, Service] | None = None
    for service in catalog:
        if cleaned == service.id:
            return service
        for alias in (service.name, *service.aliases):
            key = _NOISE.sub("", alias).lower()
            if key and key in cleaned and (best is None or len(key) > best[0]):
                best = (len(key), service)
    return best[1] if best else None
