"""The hotline's knowledge: FAQ entries and the service catalog, read from data files.

Knowledge editors maintain ``data/knowledge/faq.yml`` and
``data/knowledge/services.yml``; nothing citizen-facing about policies is
written anywhere else. The action server answers from these objects, and
``scripts/build_training_data.py`` turns the same files into Rasa data.

Answer texts and guidance take effect without a restart: :func:`load_faq`
and :func:`load_services` notice a changed file within
``KNOWLEDGE_RELOAD_SECONDS`` (:class:`KnowledgeFile`). New or changed
phrasings (``examples``) still need ``make train``: the model, not this
module, recognises questions.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from bot.config import ROOT

log = logging.getLogger(__name__)

KNOWLEDGE_DIR = ROOT / "data" / "knowledge"
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")

# PyYAML's libyaml parser (in its wheels) reads the same documents to the same
# values as its pure-Python SafeLoader, about ten times faster: faq.yml (half
# a megabyte) takes 0.03 s instead of 0.3 s, and the knowledge editor's save
# reads it several times. SafeLoader where PyYAML was built without libyaml.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(stream: str | bytes | IO[str]) -> Any:
    """``yaml.safe_load`` with libyaml's parser when PyYAML has it."""
    return yaml.load(stream, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


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
    department: str = ""  # the department whose policy it is (optional)


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
        data = load_yaml(handle)
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
            department=str(raw.get("department") or "").strip(),
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


class KnowledgeFile[T]:
    """One knowledge file, parsed, reloaded when it changes on disk.

    At most every ``check_every`` seconds a use compares the file's size and
    mtime with those of the content in use; when they differ the file is read
    and parsed again and the new content replaces the old in one assignment
    (a reader sees the old or the new, never half of each). A file that no
    longer parses keeps the last good content in use and logs one error per
    broken version, naming the file and the problem; the first load raises
    (there is nothing to fall back on).
    """

    def __init__(
        self,
        path: Path,
        parse: Callable[[dict[str, Any]], T],
        *,
        check_every: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self._parse = parse
        self.check_every = check_every
        self._clock = clock
        self._state: tuple[tuple[int, int], T] | None = None
        self._checked_at = -math.inf
        self._broken: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        state = self._state
        now = self._clock()
        if state is not None and now - self._checked_at < self.check_every:
            return state[1]
        with self._lock:
            self._checked_at = now
            return self._reload_if_changed()

    def _reload_if_changed(self) -> T:
        state = self._state
        try:
            stat = self.path.stat()
            signature = (stat.st_mtime_ns, stat.st_size)
        except OSError as exc:
            if state is None:
                raise
            self._log_broken((-1, -1), f"cannot be read ({type(exc).__name__})")
            return state[1]
        if state is not None and (signature == state[0] or signature == self._broken):
            return state[1]
        try:
            value = self._parse(_read_yaml(self.path))
        except (OSError, ValueError, yaml.YAMLError) as exc:  # KnowledgeError is a ValueError
            if state is None:
                raise
            self._log_broken(signature, str(exc).splitlines()[0][:300])
            return state[1]
        self._state = (signature, value)  # the swap: one assignment
        self._broken = None
        if state is not None:
            log.info("knowledge file %s reloaded", self.path.name)
        return value

    def _log_broken(self, signature: tuple[int, int], problem: str) -> None:
        if signature != self._broken:
            self._broken = signature
            log.error(
                "knowledge file %s is broken, the last good version stays in use: %s",
                self.path,
                problem,
            )


_files: dict[tuple[Path, str], KnowledgeFile[Any]] = {}  # by (path, parser)
_files_lock = threading.Lock()
_reload_seconds = 3.0
_dir = KNOWLEDGE_DIR


def use_knowledge_dir(path: Path | None, reload_seconds: float | None = None) -> None:
    """Answer from the files under ``path`` (``None``: data/knowledge), checking
    them for changes at most every ``reload_seconds`` (settings, tests)."""
    global _dir, _reload_seconds
    _dir = path or KNOWLEDGE_DIR
    if reload_seconds is not None:
        _reload_seconds = reload_seconds
        for known in _files.values():
            known.check_every = reload_seconds


def knowledge_dir() -> Path:
    """The folder the answers are read from (see :func:`use_knowledge_dir`)."""
    return _dir


def _file[T](path: Path, parse: Callable[[dict[str, Any]], T]) -> KnowledgeFile[T]:
    key = (path, parse.__name__)
    with _files_lock:
        known = _files.get(key)
        if known is None:
            known = _files[key] = KnowledgeFile(path, parse, check_every=_reload_seconds)
    return known


def format_answer(entry: FaqEntry) -> str:
    """The answer with its source and date, so the citizen can judge it (the
    FAQ action's answer and the emergency mode's, bot/emergency)."""
    note = "示例内容，以官方最新发布为准" if entry.sample else "以官方最新发布为准"
    return f"{entry.answer}\n（来源：{entry.source}；更新于{entry.updated.isoformat()}；{note}）"


def load_faq(path: Path | None = None) -> dict[str, FaqEntry]:
    """FAQ entries by id: reloaded without a restart when the file changes (see
    :class:`KnowledgeFile`); a broken file keeps the last good entries."""
    return _file(path or _dir / "faq.yml", parse_faq).get()


def load_services(path: Path | None = None) -> list[Service]:
    """The service catalog, reloaded like :func:`load_faq`."""
    return _file(path or _dir / "services.yml", parse_services).get()


def read_faq(path: Path) -> dict[str, FaqEntry]:
    """Parse the FAQ file now, uncached (tools that must see what is on disk)."""
    return parse_faq(_read_yaml(path))


def read_services(path: Path) -> list[Service]:
    """Parse the service catalog now, uncached."""
    return parse_services(_read_yaml(path))


def service_by_id(service_id: str, services: list[Service] | None = None) -> Service | None:
    for service in services if services is not None else load_services():
        if service.id == service_id:
            return service
    return None


_NOISE = re.compile(r"[\s,,。.!!??、::;;\"'“”‘’()()]+")


#: How many characters may stand between the characters of a name or alias
#: when it is not written in one piece ("公积金怎么提取" names 公积金提取).
MAX_GAP = 4
#: Shorter names and aliases must be written in one piece: two or three
#: characters spread over a sentence match far too much by chance.
MIN_GAPPED = 4


def _gapped_span(key: str, text: str) -> int | None:
    """The shortest span of ``text`` holding ``key``'s characters in order with
    at most MAX_GAP characters between them in all, or None."""
    best: int | None = None
    for start in (i for i, ch in enumerate(text) if ch == key[0]):
        pos, ok = start, True
        for ch in key[1:]:
            pos = text.find(ch, pos + 1)
            if pos < 0 or pos - start + 1 - len(key) > MAX_GAP:
                ok = False
                break
        if ok:
            span = pos - start + 1
            best = span if best is None else min(best, span)
    return best


def match_service(text: str, services: list[Service] | None = None) -> Service | None:
    """The catalog service a citizen's text names, or None.

    Matches the service id (button payloads), then the longest alias or name
    contained in the text, so "我想补办身份证" finds the ID-card service and
    "居主证" (a typo listed as an alias) finds the residence permit. When no
    name or alias is contained as written, a name or alias of at least
    MIN_GAPPED characters whose characters stand in order with a few words
    between them ("公积金怎么提取", "驾照快到期了") is taken: the longest, then
    the tightest. A gapped alias that holds the contained one is a more precise
    reading of the same words and wins over it: "居住证要签注了" names 居住证签注,
    not 居住证.
    """
    catalog = services if services is not None else load_services()
    cleaned = _NOISE.sub("", text or "").lower()
    if not cleaned:
        return None
    best: tuple[int, str, Service] | None = None  # (length, key, service)
    spread: list[tuple[int, int, str, Service]] = []  # (-length, span, key, service)
    for service in catalog:
        if cleaned == service.id:
            return service
        for alias in (service.name, *service.aliases):
            key = _NOISE.sub("", alias).lower()
            if not key:
                continue
            if key in cleaned:
                if best is None or len(key) > best[0]:
                    best = (len(key), key, service)
            elif len(key) >= MIN_GAPPED:
                span = _gapped_span(key, cleaned)
                if span is not None:
                    spread.append((-len(key), span, key, service))
    if best is not None:
        spread = [g for g in spread if best[1] in g[2]]
        if not spread:
            return best[2]
    return min(spread, key=lambda g: g[:2])[3] if spread else None


LOOSE_SHARE = 0.75
LOOSE_MIN_CHARS = 3
_KEY_NOISE = re.compile(r"[\W_]+")


def _common_in_order(a: str, b: str) -> int:
    """Length of the longest common subsequence of ``a`` and ``b``."""
    row = [0] * (len(b) + 1)
    for ch in a:
        previous = 0
        for j, other in enumerate(b, start=1):
            current = row[j]
            row[j] = previous + 1 if ch == other else max(row[j], row[j - 1])
            previous = current
    return row[-1]


def match_service_loosely(text: str, services: list[Service] | None = None) -> Service | None:
    """The one service whose name or alias the text spells loosely, or None
    (none, or two services equally close): most of the characters of a name or
    alias, in order, with typos allowed ("提公积晶", "去香港那个通行证"). For an
    answer to the service question, after :func:`match_service` found nothing.
    """
    catalog = services if services is not None else load_services()
    cleaned = _KEY_NOISE.sub("", text).lower()
    if len(cleaned) < LOOSE_MIN_CHARS:
        return None
    scores: dict[str, tuple[float, Service]] = {}
    for service in catalog:
        for alias in (service.name, *service.aliases):
            key = _KEY_NOISE.sub("", alias).lower()
            if len(key) < LOOSE_MIN_CHARS + 1:
                continue
            common = _common_in_order(key, cleaned)
            share = common / len(key)
            if common >= LOOSE_MIN_CHARS and share >= LOOSE_SHARE:
                if share > scores.get(service.id, (0.0, service))[0]:
                    scores[service.id] = (share, service)
    ranked = sorted(scores.values(), key=lambda item: -item[0])
    if not ranked or (len(ranked) > 1 and ranked[1][0] == ranked[0][0]):
        return None
    return ranked[0][1]


if __name__ == "__main__":  # python -m bot.knowledge import|expired: bot/knowledge_import.py
    import sys

    from bot.knowledge_import import main

    sys.exit(main())
