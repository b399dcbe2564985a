"""Ticket routing: category (and town) -> department and deadline, from ``data/routing.yml``.

Categories with ``level: town`` (street-level matters: noise, sanitation,
roads, neighbours ...) go to the office of the town or street (镇街) the
citizen's location names (``data/towns.yml``, department key ``town_<key>``);
without a recognised town, and for ``level: city`` categories, they go to the
category's city bureau.

The file is edited by a hotline administrator, so loading validates it and
names the offending entry in the error.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot import config
from bot.dispatch.towns import Towns, TownsError, load_towns

DEFAULT_PATH = config.ROOT / "data" / "routing.yml"
FALLBACK_CATEGORY = "other"
PRIORITIES = ("normal", "high", "urgent")
LEVELS = ("city", "town")
TOWN_PREFIX = "town_"
DEFAULT_MIN_CONFIDENCE = 0.35


class RoutingError(ValueError):
    """``routing.yml`` is malformed; the message names the entry."""


@dataclass(frozen=True)
class Route:
    """Where a category goes and how fast it must be answered."""

    department: str
    department_name: str
    deadline_days: int
    priority: str


@dataclass(frozen=True)
class Category:
    key: str
    name: str
    route: Route
    keywords: tuple[str, ...]
    expectation: str | None = None
    level: str = "city"


@dataclass(frozen=True)
class Routing:
    """The loaded routing table; immutable, safe to share between tasks."""

    categories: dict[str, Category]
    departments: dict[str, tuple[str, int]]  # key -> (name, default deadline days)
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    towns: Towns | None = None
    # Below this classifier confidence a complaint goes to the triage desk for a person.
    min_confidence: float = DEFAULT_MIN_CONFIDENCE

    def classify(self, text: str) -> str:
        """The category whose keywords cover most of ``text``; 'other' if none match."""
        normalized = unicodedata.normalize("NFKC", text or "").lower()
        best, best_score = FALLBACK_CATEGORY, 0
        for key, category in self.categories.items():
            score = sum(len(word) for word in category.keywords if word in normalized)
            if score > best_score:
                best, best_score = key, score
        return best

    def route(self, category: str, town: str | None = None) -> Route:
        """The route of ``category``; unknown categories go to the triage desk.

        A street-level category (``level: town``) with a known ``town`` goes
        to that town's office, with the category's deadline and priority."""
        known = self.categories.get(category) or self.categories[FALLBACK_CATEGORY]
        office = self.town_office(town)
        if known.level == "town" and office is not None:
            return Route(office[0], office[1], known.route.deadline_days, known.route.priority)
        return known.route

    def town_office(self, town: str | None) -> tuple[str, str] | None:
        """(department key, office name) of a town key, or ``None``."""
        if not town or self.towns is None or town not in self.towns.towns:
            return None
        return TOWN_PREFIX + town, self.towns.towns[town].office

    def is_known(self, category: str) -> bool:
        return category in self.categories and category != FALLBACK_CATEGORY

    def category_name(self, category: str) -> str:
        known = self.categories.get(category) or self.categories[FALLBACK_CATEGORY]
        return known.name

    def department_route(self, department: str) -> Route:
        """A route for assigning by hand to ``department`` (its default deadline)."""
        if department not in self.departments:
            raise ValueError(f"unknown department {department!r}")
        name, days = self.departments[department]
        return Route(department, name, days, "normal")

    def reply_expectation(self, category: str) -> str:
        """The sentence telling the citizen when to expect an answer."""
        known = self.categories.get(category) or self.categories[FALLBACK_CATEGORY]
        if known.expectation:
            return known.expectation
        return f"{known.name}类诉求一般在{known.route.deadline_days}个工作日内答复"

    def deadline(self, start: dt.datetime, days: int) -> dt.datetime:
        """End of the ``days``-th working day after ``start`` (local time, aware)."""
        local = start.astimezone(self.timezone)
        due = add_working_days(local.date(), days, self.holidays, self.workdays)
        return dt.datetime.combine(due, dt.time(23, 59, 59), tzinfo=self.timezone)


def is_working_day(
    day: dt.date, holidays: Iterable[dt.date], workdays: Iterable[dt.date] = ()
) -> bool:
    """Monday to Friday except holidays, plus weekend days listed as workdays."""
    if day in _as_set(workdays):
        return True
    return day.weekday() < 5 and day not in _as_set(holidays)


def _as_set(days: Iterable[dt.date]) -> frozenset[dt.date] | set[dt.date]:
    return days if isinstance(days, (set, frozenset)) else set(days)


def add_working_days[D: (dt.date, dt.datetime)](
    start: D, days: int, holidays: Iterable[dt.date], workdays: Iterable[dt.date] = ()
) -> D:
    """The ``days``-th working day after ``start`` (same time of day for datetimes)."""
    if days < 0:
        raise ValueError("days must not be negative")
    holiday_set, workday_set = frozenset(holidays), frozenset(workdays)
    current = start
    remaining = days
    while remaining > 0:
        current = current + dt.timedelta(days=1)
        day = current.date() if isinstance(current, dt.datetime) else current
        if is_working_day(day, holiday_set, workday_set):
            remaining -= 1
    return current


def load_routing(path: Path | str | None = None) -> Routing:
    """Load and validate ``data/routing.yml`` (or ``path``)."""
    source = Path(path) if path else DEFAULT_PATH
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as exc:  # ValueError: a date like 2026-13-01
        raise RoutingError(f"{source}: cannot read routing table: {exc}") from None
    if not isinstance(raw, Mapping):
        raise RoutingError(f"{source}: expected a mapping at the top level")
    departments = _parse_departments(source, raw.get("departments"))
    categories = {
        key: _parse_category(source, str(key), entry, departments)
        for key, entry in _mapping(source, "categories", raw.get("categories")).items()
    }
    if FALLBACK_CATEGORY not in categories:
        raise RoutingError(f"{source}: category {FALLBACK_CATEGORY!r} is required")
    try:
        timezone = ZoneInfo(str(raw.get("timezone", "Asia/Shanghai")))
    except (KeyError, ValueError):
        raise RoutingError(f"{source}: unknown timezone {raw.get('timezone')!r}") from None
    towns = _load_towns(source, raw.get("towns"))
    if towns is not None:
        for town in towns.towns.values():
            # A town office takes street-level cases at the default deadline of its desk.
            departments.setdefault(TOWN_PREFIX + town.key, (town.office, 5))
    dispatch = raw.get("dispatch") or {}
    min_confidence = dispatch.get("min_confidence", DEFAULT_MIN_CONFIDENCE)
    if not isinstance(min_confidence, (int, float)) or not 0 <= min_confidence <= 1:
        raise RoutingError(f"{source}: dispatch.min_confidence must be a number from 0 to 1")
    return Routing(
        categories=categories,
        departments=departments,
        holidays=_parse_dates(source, "holidays", raw.get("holidays")),
        workdays=_parse_dates(source, "workdays", raw.get("workdays")),
        timezone=timezone,
        towns=towns,
        min_confidence=float(min_confidence),
    )


def _load_towns(source: Path, value: Any) -> Towns | None:
    """The towns file named by ``towns:`` (relative to the routing file), if any."""
    if value is None:
        return None
    try:
        return load_towns(source.parent / str(value))
    except TownsError as exc:
        raise RoutingError(f"{source}: towns: {exc}") from None


def _mapping(source: Path, what: str, value: Any) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping) or not value:
        raise RoutingError(f"{source}: {what} must be a non-empty mapping")
    return value


def _parse_departments(source: Path, value: Any) -> dict[str, tuple[str, int]]:
    departments: dict[str, tuple[str, int]] = {}
    for key, entry in _mapping(source, "departments", value).items():
        where = f"{source}: department {key!r}"
        if not isinstance(entry, Mapping) or not entry.get("name"):
            raise RoutingError(f"{where}: needs a name")
        days = entry.get("default_deadline_days", 5)
        if not isinstance(days, int) or days < 0:
            raise RoutingError(f"{where}: default_deadline_days must be a whole number >= 0")
        departments[str(key)] = (str(entry["name"]), days)
    if "triage" not in departments:
        raise RoutingError(f"{source}: department 'triage' is required")
    return departments


def _parse_category(
    source: Path, key: str, entry: Any, departments: Mapping[str, tuple[str, int]]
) -> Category:
    where = f"{source}: category {key!r}"
    if not isinstance(entry, Mapping):
        raise RoutingError(f"{where}: must be a mapping")
    department = str(entry.get("department", ""))
    if department not in departments:
        raise RoutingError(f"{where}: unknown department {department!r}")
    days = entry.get("deadline_days")
    if not isinstance(days, int) or days < 0:
        raise RoutingError(f"{where}: deadline_days must be a whole number >= 0")
    priority = entry.get("priority", "normal")
    if priority not in PRIORITIES:
        raise RoutingError(f"{where}: priority must be one of {', '.join(PRIORITIES)}")
    keywords = entry.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, str) and k for k in keywords):
        raise RoutingError(f"{where}: keywords must be a list of words")
    level = entry.get("level", "city")
    if level not in LEVELS:
        raise RoutingError(f"{where}: level must be one of {', '.join(LEVELS)}")
    route = Route(department, departments[department][0], days, priority)
    return Category(
        key=key,
        name=str(entry.get("name") or key),
        route=route,
        keywords=tuple(unicodedata.normalize("NFKC", k).lower() for k in keywords),
        expectation=entry.get("expectation"),
        level=level,
    )


def _parse_dates(source: Path, what: str, value: Any) -> frozenset[dt.date]:
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise RoutingError(f"{source}: {what} must be a list of dates")
    days = set()
    for item in value:
        try:
            days.add(item if isinstance(item, dt.date) else dt.date.fromisoformat(str(item)))
        except ValueError:
            raise RoutingError(f"{source}: {what}: {item!r} is not a date (YYYY-MM-DD)") from None
    return frozenset(days)
