"""``UnansweredRepo``: the citizens' questions the assistant did not settle,
kept for the knowledge editors (``unanswered``), and the editors' changes to
data/knowledge (``knowledge_changes``).

A question is kept when its message ended in Rasa's fallback, an FAQ guess
below the answer threshold (actions/thresholds.py), a thumbs-down on an
answer, or a handoff. The text is masked here, before it is written
(``bot.privacy.mask_text``: phone, ID and bank-card numbers), whoever the
caller is. Rows are deleted ``RETENTION_DAYS`` after they were kept
(bot/retention.py), like transcripts: they are the citizen's own words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.db.schema import knowledge_changes, unanswered
from bot.db.validation import optional, required
from bot.privacy import mask_text, mask_value

if TYPE_CHECKING:
    from bot.db.database import Database

REASONS = ("fallback", "low_confidence", "thumbs_down", "handoff")
HANDLED = ("attached", "drafted", "dismissed")
MAX_TEXT = 500  # a question, not an essay: longer texts are cut


@dataclass(frozen=True)
class Unanswered:
    """One kept question and what the assistant did with it."""

    id: int
    at: dt.datetime
    conversation_id: str | None
    channel: str
    reason: str
    text: str
    intent: str | None
    confidence: float | None
    faq_key: str | None
    action: str | None
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.astimezone(dt.UTC).isoformat(),
            "channel": self.channel,
            "reason": self.reason,
            "text": self.text,
            "intent": self.intent,
            "confidence": self.confidence,
            "faq_key": self.faq_key,
            "action": self.action,
            "status": self.status,
        }


@dataclass(frozen=True)
class KnowledgeChange:
    id: int
    at: dt.datetime
    actor: str
    kind: str
    faq_key: str
    file: str
    detail: dict[str, Any]
    fingerprint_before: str
    fingerprint_after: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.astimezone(dt.UTC).isoformat(),
            "actor": self.actor,
            "kind": self.kind,
            "faq_key": self.faq_key,
            "file": self.file,
            "detail": self.detail,
        }


class UnansweredRepo:
    """Keep, list and settle unanswered questions; record knowledge changes."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def keep(
        self,
        *,
        reason: str,
        text: str,
        conversation_id: str | None,
        intent: str | None = None,
        confidence: float | None = None,
        faq_key: str | None = None,
        action: str | None = None,
        at: dt.datetime | None = None,
    ) -> bool:
        """Keep one question (masked); false (nothing kept) for an empty text.

        Raises ``ValueError`` for an unknown reason: a caller's bug, not the citizen's.
        """
        if reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        cleaned = " ".join((text or "").split())[:MAX_TEXT]
        if not cleaned or cleaned.startswith("/"):
            return False  # a button payload says nothing about a missing answer
        cid = optional(conversation_id, "conversation_id", 200)
        row = {
            "at": at or self._db.now(),
            "conversation_id": cid,
            "channel": (cid or "unknown").split(":", 1)[0][:40],
            "reason": reason,
            "text": mask_text(cleaned),
            "intent": optional(intent, "intent", 100),
            "confidence": None if confidence is None else float(confidence),
            "faq_key": optional(faq_key, "faq_key", 100),
            "action": optional(action, "action", 100),
            "status": "open",
        }
        async with self._db.write() as conn:
            await conn.execute(unanswered.insert().values(**row))
        return True

    async def list_open(self, limit: int = 1000) -> list[Unanswered]:
        """The newest ``limit`` open questions, newest first."""
        stmt = (
            sa.select(unanswered)
            .where(unanswered.c.status == "open")
            .order_by(unanswered.c.at.desc(), unanswered.c.id.desc())
            .limit(max(1, min(limit, 5000)))
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_item(row) for row in rows]

    async def get_open(self, ids: Sequence[int]) -> list[Unanswered]:
        """The open questions among ``ids`` (handled or unknown ids are left out)."""
        if not ids:
            return []
        stmt = (
            sa.select(unanswered)
            .where(unanswered.c.id.in_(list(ids)), unanswered.c.status == "open")
            .order_by(unanswered.c.id)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_item(row) for row in rows]

    async def settle(self, ids: Sequence[int], status: str, *, by: str, to: str | None) -> int:
        """Mark open questions ``attached``/``drafted``/``dismissed``; how many changed."""
        if status not in HANDLED:
            raise ValueError(f"unknown status {status!r}")
        if not ids:
            return 0
        stmt = (
            unanswered.update()
            .where(unanswered.c.id.in_(list(ids)), unanswered.c.status == "open")
            .values(
                status=status,
                handled_by=required(by, "handled_by", 60),
                handled_at=self._db.now(),
                handled_to=optional(to, "handled_to", 100),
            )
        )
        async with self._db.write() as conn:
            result = await conn.execute(stmt)
        return int(result.rowcount or 0)

    async def all_rows(self) -> list[dict[str, Any]]:
        """Every row with its status (tests, exports)."""
        async with self._db.read() as conn:
            rows = (await conn.execute(sa.select(unanswered).order_by(unanswered.c.id))).all()
        return [dict(row._mapping) for row in rows]

    # --- the editor's changes ---------------------------------------------------
    async def record_change(
        self,
        *,
        actor: str,
        kind: str,
        faq_key: str,
        file: str,
        detail: dict[str, Any],
        fingerprint_before: str,
        fingerprint_after: str,
    ) -> int:
        row = {
            "at": self._db.now(),
            "actor": required(actor, "actor", 60),
            "kind": kind,
            "faq_key": required(faq_key, "faq_key", 100),
            "file": required(file, "file", 200),
            "detail": mask_value(detail),
            "fingerprint_before": fingerprint_before,
            "fingerprint_after": fingerprint_after,
        }
        async with self._db.write() as conn:
            result = await conn.execute(knowledge_changes.insert().values(**row))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    async def changes(self, limit: int = 200) -> list[KnowledgeChange]:
        """The editor's changes, newest first."""
        stmt = (
            sa.select(knowledge_changes)
            .order_by(knowledge_changes.c.id.desc())
            .limit(max(1, min(limit, 1000)))
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [
            KnowledgeChange(
                id=int(r["id"]),
                at=r["at"],
                actor=r["actor"],
                kind=r["kind"],
                faq_key=r["faq_key"],
                file=r["file"],
                detail=dict(r["detail"] or {}),
                fingerprint_before=r["fingerprint_before"],
                fingerprint_after=r["fingerprint_after"],
            )  # fmt: skip
            for r in rows
        ]


def _item(row: Any) -> Unanswered:
    return Unanswered(
        id=int(row["id"]), at=row["at"], conversation_id=row["conversation_id"],
        channel=row["channel"], reason=row["reason"], text=row["text"], intent=row["intent"],
        confidence=row["confidence"], faq_key=row["faq_key"], action=row["action"],
        status=row["status"],
    )  # fmt: skip
