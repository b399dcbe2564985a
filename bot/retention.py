"""Retention: what the hotline keeps about a citizen, and for how long.

Every ``RETENTION_SWEEP_SECONDS`` (default 3600; 0: off) the front door runs
one pass, and ``python -m bot.db retention`` runs one by hand:

- transcripts, the agents' internal notes and the questions kept for the
  knowledge editors (``unanswered``, bot/db/unanswered.py: the citizen's own
  words, masked) older than ``RETENTION_DAYS`` (default 180) are deleted,
  whether an editor handled them or not;
- quality events older than that keep their kind and time (the city's
  figures count them) but lose the conversation id and their data;
- handoff records older than that keep their times, reason, agent and
  rating (the service-level figures) but lose the summary, the citizen's
  comment and the conversation id (``<channel>:expired``);
- a closed ticket keeps its record (number, category, department, the
  masked description, timeline: what the hotline must keep), but
  ``TICKET_CONTACT_RETENTION_DAYS`` (default 365) after it was closed it
  loses the citizen's contact data: name, phone and ID number (their
  encrypted columns), the conversation id and the idempotency key made from
  it. Open tickets keep theirs.
- scheduled report documents (bot/ops/reports.py) older than that are
  deleted: their tables quote ratings' comments and name tickets and
  conversations; the record of scheduled runs (``ops_runs``) goes with them.
- the record of emergency notices sent (``emergency_sends``, bot/emergency)
  older than that is deleted (it names conversations); the periods
  themselves (times, notice, who switched) stay for the incident history.
- Rasa's trackers expire in Redis after the same ``RETENTION_DAYS``
  (``record_exp`` of hotline_rasa/tracker_store.py); without Redis they live
  in Rasa's memory only.

Several replicas may start a pass at the same moment: one store lock
(``lock:retention:sweep``, the pattern of bot/tickets/sweep.py) lets one of
them work; the others skip. Each table is worked through in short
transactions of :data:`BATCH` rows, so the services keep running, and a
pass that lost its lock stops after the current batch. Every statement is
idempotent: a second pass finds nothing left to do.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from aiohttp import web

from bot.aio import cancel_and_wait
from bot.db.schema import (
    emergency_sends,
    events,
    handoff_notes,
    handoffs,
    ops_runs,
    scheduled_reports,
    tickets,
    transcripts,
    unanswered,
)
from bot.store.base import HeldLock

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.db import Database
    from bot.store.base import SharedStore

log = logging.getLogger(__name__)

LOCK_NAME = "retention:sweep"
LOCK_TTL = 300.0
BATCH = 500
EXPIRED = "expired"


@dataclass
class RetentionReport:
    ran: bool = True
    transcripts: int = 0
    notes: int = 0
    events: int = 0
    handoffs: int = 0
    tickets: int = 0
    reports: int = 0
    unanswered: int = 0

    def summary(self) -> str:
        if not self.ran:
            return "retention skipped: another replica is sweeping"
        return (
            f"retention done: {self.transcripts} transcript entries, {self.notes} notes and "
            f"{self.unanswered} kept questions deleted, {self.events} events and "
            f"{self.handoffs} handoff records anonymised, "
            f"{self.tickets} closed tickets without contact data now, "
            f"{self.reports} scheduled reports deleted"
        )


class RetentionSweep:
    """One retention pass at a time across replicas (see the module doc)."""

    def __init__(
        self,
        db: Database,
        store: SharedStore,
        *,
        retention_days: float,
        ticket_contact_days: float,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        if retention_days <= 0 or ticket_contact_days <= 0:
            raise ValueError("retention periods must be more than zero days")
        self.db = db
        self.store = store
        self.retention = dt.timedelta(days=retention_days)
        self.ticket_contact = dt.timedelta(days=ticket_contact_days)
        self.clock = clock or db.now

    @classmethod
    def from_settings(cls, db: Database, store: SharedStore, settings: Settings) -> RetentionSweep:
        return cls(
            db,
            store,
            retention_days=settings.retention_days,
            ticket_contact_days=settings.ticket_contact_days,
        )

    async def sweep(self) -> RetentionReport:
        """One pass; skipped (``ran=False``) while another replica holds the lock."""
        held = await self.store.try_lock(LOCK_NAME, LOCK_TTL)
        if held is None:
            return RetentionReport(ran=False)
        report = RetentionReport()
        async with held:
            now = self.clock()
            cutoff = now - self.retention
            report.transcripts = await self._delete(
                held, transcripts, transcripts.c.seq, transcripts.c.created_at < cutoff
            )
            report.notes = await self._delete(
                held, handoff_notes, handoff_notes.c.id, handoff_notes.c.created_at < cutoff
            )
            report.unanswered = await self._delete(
                held, unanswered, unanswered.c.id, unanswered.c.at < cutoff
            )
            report.events = await self._update(
                held,
                events,
                events.c.id,
                sa.and_(events.c.at < cutoff, events.c.conversation_id.is_not(None)),
                {"conversation_id": None, "data": {}},
            )
            report.handoffs = await self._update(
                held,
                handoffs,
                handoffs.c.id,
                sa.and_(handoffs.c.queued_at < cutoff, _not_expired(handoffs.c.conversation_id)),
                {
                    "summary": {},
                    "comment": None,
                    "conversation_id": handoffs.c.channel + ":" + EXPIRED,
                },
            )
            report.reports = await self._delete(
                held,
                scheduled_reports,
                scheduled_reports.c.id,
                scheduled_reports.c.created_at < cutoff,
            )
            await self._delete(held, ops_runs, ops_runs.c.id, ops_runs.c.started_at < cutoff)
            await self._delete(
                held, emergency_sends, emergency_sends.c.id, emergency_sends.c.at < cutoff
            )
            report.tickets = await self._update(
                held,
                tickets,
                tickets.c.id,
                sa.and_(
                    tickets.c.status == "closed",
                    tickets.c.updated_at < now - self.ticket_contact,
                    _not_expired(tickets.c.conversation_id),
                ),
                {
                    "contact_name_enc": None,
                    "contact_phone_enc": None,
                    "id_number_enc": None,
                    "conversation_id": tickets.c.channel + ":" + EXPIRED,
                    # built from the conversation id (an openid, a chat id): unique
                    # again with the ticket's number, nothing of the citizen left
                    "idempotency_key": EXPIRED + ":" + tickets.c.number,
                },
            )
        if (
            report.transcripts or report.events or report.tickets or report.handoffs
            or report.reports or report.unanswered
        ):  # fmt: skip
            log.info("%s", report.summary())
        return report

    async def _delete(
        self, held: HeldLock, table: sa.Table, key: sa.Column[Any], where: Any
    ) -> int:
        done = 0
        while not held.lost:
            ids = sa.select(key).where(where).order_by(key).limit(BATCH).scalar_subquery()
            async with self.db.write() as conn:
                result = await conn.execute(table.delete().where(key.in_(ids)))
            done += result.rowcount or 0
            if (result.rowcount or 0) < BATCH:
                break
        return done

    async def _update(
        self,
        held: HeldLock,
        table: sa.Table,
        key: sa.Column[Any],
        where: Any,
        values: dict[str, Any],
    ) -> int:
        done = 0
        while not held.lost:
            async with self.db.write() as conn:
                ids = (
                    (await conn.execute(sa.select(key).where(where).order_by(key).limit(BATCH)))
                    .scalars()
                    .all()
                )
                if ids:
                    await conn.execute(table.update().where(key.in_(ids)).values(**values))
            done += len(ids)
            if len(ids) < BATCH:
                break
        return done


def _not_expired(column: sa.Column[Any]) -> Any:
    return sa.not_(column.like("%:" + EXPIRED))


async def run_forever(sweep: RetentionSweep, interval: float) -> None:
    """The background job: a pass, then ``interval`` seconds of sleep; errors are logged."""
    while True:
        try:
            await sweep.sweep()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the next pass tries again
            log.error("retention sweep failed: %s", type(exc).__name__)
        await asyncio.sleep(interval)


RETENTION_KEY = web.AppKey("retention", RetentionSweep)


def setup_retention(
    app: web.Application, db: Database, store: SharedStore, settings: Settings
) -> None:
    """Run the retention sweep in the background while the app runs."""
    sweep = RetentionSweep.from_settings(db, store, settings)
    app[RETENTION_KEY] = sweep

    async def job(_app: web.Application) -> AsyncIterator[None]:
        task = None
        if settings.retention_sweep_seconds > 0:
            task = asyncio.create_task(
                run_forever(sweep, settings.retention_sweep_seconds), name="retention-sweep"
            )
        yield
        if task is not None:
            await cancel_and_wait([task])

    app.cleanup_ctx.append(job)
