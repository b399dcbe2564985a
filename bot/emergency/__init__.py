"""Emergency mode (应急预案): the one owner of its state.

A supervisor (console, ``/console/emergency``) or an operator
(``python -m bot.console emergency on|off|status|report``) switches it on with
a notice, the FAQ entries to put first, keywords of the incident and a drill
flag. What the switch does while it is on (bot/emergency/frontdoor.py,
bot/hub_routing.py):

- every channel's greeting (the first reply of each conversation while this
  period is on, and the assistant's greeting itself) starts with the notice,
  followed by buttons for the named FAQ answers;
- the web widget shows the notice as a banner (``GET /public/emergency``);
- a citizen's message that mentions the incident (a keyword) gets the
  best-matching named FAQ answer first, the assistant's own reply after it;
- a handoff that mentions the incident counts ``EMERGENCY_HANDOFF_HEAD_START``
  seconds older in the agents' queue (reason ``incident``);
- during a drill every event recorded carries ``{"drill": true}`` (the
  front door's :class:`~bot.db.events.EventRepo` tagger; the action server
  gets the flag in the turn's metadata), so the city's figures leave drills out.

Where the state lives: the live switch is one JSON value in the shared store
(``emergency:state``), so every replica sees it (each re-reads it at most every
``EMERGENCY_REFRESH`` seconds) and the action server gets it with each turn
(the front door adds it to the metadata it sends Rasa). The history, one row
per switch-on, is in SQL (``emergency_periods``) for the incident report
(bot/emergency/report.py). Every switch is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.knowledge import load_faq
from bot.store.base import SharedStore, StoreUnavailable

if TYPE_CHECKING:
    from bot.db.database import Database

logger = logging.getLogger(__name__)

STATE_KEY = "emergency:state"
SWITCH_LOCK = "emergency:switch"
#: Store values need a TTL; the switch stays on far longer than any incident.
STATE_TTL = 366 * 24 * 3600.0
#: A conversation gets the notice on its first reply once per period.
GREETED_TTL = 30 * 24 * 3600.0
MAX_NOTICE = 500
MAX_FAQ = 10
MAX_KEYWORDS = 20
MAX_KEYWORD = 20
_ACTOR = re.compile(r"^[A-Za-z0-9_.:-]{1,60}$")


class EmergencyError(ValueError):
    """A switch refused: ``code`` for programs, ``message`` in Chinese for people."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class EmergencyState:
    """The switch as every replica reads it."""

    active: bool = False
    period_id: int | None = None
    notice: str = ""
    faq: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    drill: bool = False
    switched_by: str = ""
    switched_at: str = ""  # ISO 8601, UTC

    def to_dict(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "period_id": self.period_id,
            "notice": self.notice,
            "faq": list(self.faq),
            "keywords": list(self.keywords),
            "drill": self.drill,
            "switched_by": self.switched_by,
            "switched_at": self.switched_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmergencyState:
        period = data.get("period_id")
        return cls(
            active=bool(data.get("active")),
            period_id=int(period) if isinstance(period, int) else None,
            notice=str(data.get("notice") or ""),
            faq=tuple(str(k) for k in data.get("faq") or ()),
            keywords=tuple(str(k) for k in data.get("keywords") or ()),
            drill=bool(data.get("drill")),
            switched_by=str(data.get("switched_by") or ""),
            switched_at=str(data.get("switched_at") or ""),
        )

    @property
    def banner(self) -> str:
        """The notice as citizens see it, labelled (a drill says so)."""
        label = "【应急演练】" if self.drill else "【应急通知】"
        return label + self.notice

    def mentions(self, *texts: str | None) -> bool:
        """True when one of ``texts`` names the incident (one of its keywords)."""
        if not self.active or not self.keywords:
            return False
        return any(k in (text or "") for text in texts for k in self.keywords)

    def public(self) -> dict[str, Any]:
        """What anyone may read (the widget's banner): no names, no keywords."""
        if not self.active:
            return {"active": False}
        return {
            "active": True,
            "notice": self.notice,
            "banner": self.banner,
            "drill": self.drill,
            "since": self.switched_at,
        }


OFF = EmergencyState()


def _clean_list(values: Iterable[Any], what: str, limit: int) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        if not isinstance(value, str):
            raise EmergencyError("bad_request", f"{what}格式有误")
        value = value.strip()
        if value and value not in out:
            out.append(value)
    if len(out) > limit:
        raise EmergencyError("bad_request", f"{what}最多 {limit} 个")
    return tuple(out)


def check_switch(
    notice: Any, faq: Iterable[Any] = (), keywords: Iterable[Any] = ()
) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The notice, FAQ keys and keywords, cleaned; :class:`EmergencyError` naming
    what is wrong (nothing is switched then)."""
    if not isinstance(notice, str) or not notice.strip():
        raise EmergencyError("notice_required", "请填写应急通知内容")
    notice = notice.strip()
    if len(notice) > MAX_NOTICE:
        raise EmergencyError("notice_too_long", f"应急通知最多 {MAX_NOTICE} 个字")
    keys = _clean_list(faq, "常见问题编号", MAX_FAQ)
    known = load_faq()
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise EmergencyError("unknown_faq", "没有这些常见问题：" + "、".join(unknown))
    words = _clean_list(keywords, "关键词", MAX_KEYWORDS)
    if any(len(w) > MAX_KEYWORD for w in words):
        raise EmergencyError("bad_request", f"每个关键词最多 {MAX_KEYWORD} 个字")
    return notice, keys, words


class EmergencyBoard:
    """Reads and writes the switch in the shared store (the only code that does).

    ``current()`` is what the message path asks: cached for ``refresh``
    seconds per replica (0: read the store every time); a switch made through
    this board is seen by this replica at once.
    """

    def __init__(
        self,
        store: SharedStore,
        refresh: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.refresh = refresh
        self.clock = clock
        self._cached: EmergencyState | None = None
        self._read_at = 0.0

    async def fresh(self) -> EmergencyState:
        """The switch as the store holds it now (raises StoreUnavailable)."""
        raw = await self.store.get(STATE_KEY)
        state = OFF
        if raw:
            try:
                data = json.loads(raw)
                state = EmergencyState.from_dict(data) if isinstance(data, dict) else OFF
            except ValueError:
                logger.error("emergency state in the store is not JSON; treated as off")
        self._cached, self._read_at = state, self.clock()
        return state

    async def current(self) -> EmergencyState:
        """The switch for the message path: cached briefly; OFF when the store is
        down (the citizen still gets an answer, without the notice)."""
        if self._cached is not None and self.clock() - self._read_at < self.refresh:
            return self._cached
        try:
            return await self.fresh()
        except StoreUnavailable:
            return self._cached or OFF

    async def write(self, state: EmergencyState) -> None:
        if state.active:
            value = json.dumps(state.to_dict(), ensure_ascii=False)
            await self.store.set(STATE_KEY, value, STATE_TTL)
        else:
            await self.store.delete(STATE_KEY)
        self._cached, self._read_at = state, self.clock()

    async def first_reply(self, state: EmergencyState, conversation_id: str) -> bool:
        """True the first time a conversation is answered in this period."""
        key = f"emergency:greeted:{state.period_id}:{conversation_id}"
        try:
            return await self.store.claim(key, GREETED_TTL)
        except StoreUnavailable:
            return False

    async def event_tags(self) -> dict[str, Any]:
        """What every event recorded now carries: ``{"drill": True}`` during a drill."""
        state = await self.current()
        return {"drill": True} if state.active and state.drill else {}


@dataclass
class SwitchResult:
    state: EmergencyState
    period_id: int
    closed_stale: list[int] = field(default_factory=list)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def switch_on(
    board: EmergencyBoard,
    db: Database,
    *,
    notice: Any,
    faq: Sequence[Any] = (),
    keywords: Sequence[Any] = (),
    drill: bool = False,
    actor: str,
    client_address: str | None = None,
) -> SwitchResult:
    """Switch the emergency mode on: a new period in SQL, the state in the
    store, an audit record. Already on: :class:`EmergencyError` (409)."""
    from bot.emergency.records import PeriodRepo

    notice, keys, words = check_switch(notice, faq, keywords)
    if not _ACTOR.match(actor or ""):
        raise EmergencyError("bad_actor", "操作人无效")
    periods = PeriodRepo(db)
    async with board.store.lock(SWITCH_LOCK, 30.0, timeout=10.0):
        if (await board.fresh()).active:
            raise EmergencyError("already_on", "应急模式已经开启，请先关闭再重新开启", 409)
        now = _now()
        # A period left open (the store lost the switch, e.g. Redis restarted
        # without persistence) ends where this one starts.
        stale = await periods.close_open(now, "system")
        period_id = await periods.open(
            started_at=now, notice=notice, faq=keys, keywords=words, drill=drill, actor=actor
        )
        state = EmergencyState(
            active=True, period_id=period_id, notice=notice, faq=keys, keywords=words,
            drill=drill, switched_by=actor, switched_at=now.isoformat(),
        )  # fmt: skip
        try:
            await board.write(state)
        except StoreUnavailable:
            await periods.close(period_id, now, "system")
            raise
    await db.audit.record(
        actor, "emergency_on", f"emergency:{period_id}", client_address=client_address,
        detail={"notice": notice, "faq": list(keys), "keywords": list(words), "drill": drill},
    )  # fmt: skip
    return SwitchResult(state, period_id, stale)


async def switch_off(
    board: EmergencyBoard, db: Database, *, actor: str, client_address: str | None = None
) -> SwitchResult:
    """Switch it off: the state leaves the store, the period ends, an audit
    record. Not on: :class:`EmergencyError` (409)."""
    from bot.emergency.records import PeriodRepo

    if not _ACTOR.match(actor or ""):
        raise EmergencyError("bad_actor", "操作人无效")
    periods = PeriodRepo(db)
    async with board.store.lock(SWITCH_LOCK, 30.0, timeout=10.0):
        state = await board.fresh()
        if not state.active or state.period_id is None:
            raise EmergencyError("not_on", "应急模式没有开启", 409)
        await board.write(OFF)
        await periods.close(state.period_id, _now(), actor)
    await db.audit.record(
        actor, "emergency_off", f"emergency:{state.period_id}", client_address=client_address,
        detail={"drill": state.drill},
    )  # fmt: skip
    return SwitchResult(state, state.period_id)
