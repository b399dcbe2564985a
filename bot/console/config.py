"""Console settings from the environment: service hours, presence and sweep timing.

``SERVICE_HOURS`` (default ``08:30-21:00``, Asia/Shanghai, every day) is when
agents answer; outside it citizens who ask for a person are offered a
callback instead of a queue. ``24:00`` may end a range.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass

from bot.db.models import LOCAL_TZ

_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class ServiceHours:
    """A daily opening time range in local minutes since midnight."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> ServiceHours:
        match = _HOURS.match(text or "")
        if not match:
            raise ValueError("SERVICE_HOURS must look like 08:30-21:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or start >= 24 * 60 or end > 24 * 60 or start >= end:
            raise ValueError("SERVICE_HOURS must be a range within one day, like 08:30-21:00")
        return cls(start, end)

    def is_open(self, at: dt.datetime | None = None) -> bool:
        local = (at or dt.datetime.now(LOCAL_TZ)).astimezone(LOCAL_TZ)
        minute = local.hour * 60 + local.minute
        return self.start <= minute < self.end

    def label(self) -> str:
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )


@dataclass(frozen=True)
class ConsoleConfig:
    """Timings of the handoff machinery (seconds)."""

    service_hours: ServiceHours
    presence_ttl: float = 60.0  # an agent without a heartbeat this long is offline
    sweep_interval: float = 10.0  # presence expiry and rebuild check
    max_queue_wait: float = 30 * 60.0  # then the citizen is offered a callback instead
    answer_target: float = 20.0  # "answered within 20 s" in the service level


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds") from None


def load_console_config() -> ConsoleConfig:
    return ConsoleConfig(
        service_hours=ServiceHours.parse(os.environ.get("SERVICE_HOURS") or "08:30-21:00"),
        presence_ttl=_float("CONSOLE_PRESENCE_TTL", 60.0),
        sweep_interval=_float("CONSOLE_SWEEP_INTERVAL", 10.0),
        max_queue_wait=_float("HANDOFF_MAX_WAIT", 30 * 60.0),
    )
