"""SQLAlchemy Core tables used by the repositories.

The database itself is created and changed only by the Alembic migrations
in ``bot/db/migrations``; a test checks that these tables match them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

from bot.db.models import LOCAL_TZ

metadata = sa.MetaData()

#: Integer primary keys: BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JsonData = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


class AwareDateTime(sa.types.TypeDecorator):  # type: ignore[type-arg]
    """Aware datetimes, stored as UTC and read back in the hotline's time zone
    (Asia/Shanghai), so that ``f"{ticket.deadline:%m月%d日}"`` is the local date.
    SQLite keeps no zone: its naive values are UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware datetimes")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(LOCAL_TZ)


tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("number", sa.String(20), nullable=False, unique=True),
    sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("category", sa.String(40), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("location", sa.Text(), nullable=True),
    sa.Column("occurred_at", sa.String(100), nullable=True),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("conversation_id", sa.String(200), nullable=False, index=True),
    sa.Column("contact_name_enc", sa.Text(), nullable=True),
    sa.Column("contact_phone_enc", sa.Text(), nullable=True),
    sa.Column("id_number_enc", sa.Text(), nullable=True),
    sa.Column("anonymous", sa.Boolean(), nullable=False),
    sa.Column("department", sa.String(60), nullable=False, index=True),
    sa.Column("department_name", sa.String(100), nullable=False),
    sa.Column("priority", sa.String(10), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("deadline", AwareDateTime(), nullable=True),
    sa.Column("escalated_at", AwareDateTime(), nullable=True),
    sa.Column("rating", sa.SmallInteger(), nullable=True),
    sa.Column("rating_comment", sa.Text(), nullable=True),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("created_at", AwareDateTime(), nullable=False),
    sa.Column("updated_at", AwareDateTime(), nullable=False),
    # Complaint dispatch (migration 0010_dispatch): the town or street (镇街) key of
    # data/towns.yml recognised in the citizen's location, the classifier's
    # confidence in the category, and whether a person must check the category
    # (low confidence: the ticket went to the triage desk).
    sa.Column("town", sa.String(20), nullable=True),
    sa.Column("category_confidence", sa.Float(), nullable=True),
    sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Index("ix_tickets_status_deadline", "status", "deadline"),
    sa.Index("ix_tickets_created_at", "created_at"),  # the figures (migration 0007)
    sa.CheckConstraint(
        "type IN ('consultation', 'complaint', 'suggestion', 'help', 'callback')",
        name="ck_tickets_type",
    ),
    sa.CheckConstraint(
        "status IN ('new', 'assigned', 'replied', 'closed', 'reopened')", name="ck_tickets_status"
    ),
    sa.CheckConstraint("priority IN ('normal', 'high', 'urgent')", name="ck_tickets_priority"),
    sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="ck_tickets_rating"),
)

ticket_events = sa.Table(
    "ticket_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("ticket_id", BigId, sa.ForeignKey("tickets.id"), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("at", AwareDateTime(), nullable=False),
    sa.Column("data", JsonData, nullable=False),
    sa.UniqueConstraint("ticket_id", "version", name="uq_ticket_events_ticket_version"),
)

ticket_counters = sa.Table(
    "ticket_counters",
    metadata,
    sa.Column("day", sa.String(8), primary_key=True),
    sa.Column("value", sa.Integer(), nullable=False),
)

transcripts = sa.Table(
    "transcripts",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("direction", sa.String(3), nullable=False),
    sa.Column("sender", sa.String(100), nullable=False),
    sa.Column("message_id", sa.String(200), nullable=True),
    sa.Column("text", sa.Text(), nullable=True),
    sa.Column("data", JsonData, nullable=False),
    sa.Column("created_at", AwareDateTime(), nullable=False),
    # Agents' messages only (migration 0005): sending | sent | failed, why, the console's id.
    sa.Column("delivery", sa.String(10), nullable=True),
    sa.Column("delivery_reason", sa.String(40), nullable=True),
    sa.Column("request_id", sa.String(64), nullable=True),
    sa.Column("delivery_at", AwareDateTime(), nullable=True),
    sa.Index("ix_transcripts_conversation_seq", "conversation_id", "seq"),
    sa.Index("ix_transcripts_created_at", "created_at"),  # the figures (migration 0007)
    sa.Index(
        "ux_transcripts_request",
        "conversation_id",
        "request_id",
        unique=True,
        sqlite_where=sa.text("request_id IS NOT NULL"),
        postgresql_where=sa.text("request_id IS NOT NULL"),
    ),  # fmt: skip
    sa.Index(
        "ix_transcripts_sending",
        "delivery_at",
        sqlite_where=sa.text("delivery = 'sending'"),
        postgresql_where=sa.text("delivery = 'sending'"),
    ),  # fmt: skip
    sa.CheckConstraint("direction IN ('in', 'out')", name="ck_transcripts_direction"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(60), nullable=False),
    sa.Column("conversation_id", sa.String(200), nullable=True),
    sa.Column("ticket_number", sa.String(20), nullable=True),
    sa.Column("data", JsonData, nullable=False),
    sa.Column("at", AwareDateTime(), nullable=False),
    sa.Index("ix_events_kind_at", "kind", "at"),
    sa.Index("ix_events_at", "at"),
)

# --- console (migration 0003) ---------------------------------------------
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(40), nullable=False, unique=True),
    sa.Column("display_name", sa.String(60), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("department", sa.String(60), nullable=True),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", AwareDateTime(), nullable=False),
    sa.Column("failed_attempts", sa.Integer(), nullable=False),
    sa.Column("locked_until", AwareDateTime(), nullable=True),
    # migration 0004: raised to end every session of the user
    sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"),
    sa.CheckConstraint("role IN ('agent', 'supervisor', 'department')", name="ck_users_role"),
)

handoffs = sa.Table(
    "handoffs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(200), nullable=False, index=True),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("reason", sa.String(200), nullable=False),
    sa.Column("priority", sa.String(10), nullable=False),
    sa.Column("summary", JsonData, nullable=False),
    sa.Column("queued_at", AwareDateTime(), nullable=False, index=True),
    sa.Column("claimed_at", AwareDateTime(), nullable=True),
    sa.Column("claimed_by", sa.String(40), nullable=True),
    sa.Column("first_agent_message_at", AwareDateTime(), nullable=True),
    sa.Column("ended_at", AwareDateTime(), nullable=True, index=True),
    sa.Column("outcome", sa.String(20), nullable=True),
    sa.Column("rating", sa.SmallInteger(), nullable=True),
    sa.Column("comment", sa.Text(), nullable=True),
    sa.CheckConstraint(
        "outcome IS NULL OR outcome IN "
        "('handed_back', 'closed', 'abandoned', 'callback', 'requeued')",
        name="ck_handoffs_outcome",
    ),
    sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="ck_handoffs_rating"),
)

handoff_notes = sa.Table(
    "handoff_notes",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(200), nullable=False, index=True),
    sa.Column("author", sa.String(60), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("created_at", AwareDateTime(), nullable=False),
)

# --- audit log (migration 0004) --------------------------------------------
#: Append-only: the repository has no update or delete, and on PostgreSQL a
#: trigger refuses UPDATE and DELETE. ``detail`` never holds a password or a
#: citizen's unmasked data.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", AwareDateTime(), nullable=False),
    sa.Column("actor", sa.String(60), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("client_address", sa.String(64), nullable=True),
    sa.Column("detail", JsonData, nullable=False),
    sa.Index("ix_audit_log_at", "at"),
    sa.Index("ix_audit_log_action_id", "action", "id"),
    sa.Index("ix_audit_log_actor_id", "actor", "id"),
)

# --- scheduled work (migration 0006_ops) -------------------------------------
#: One row per job and slot ("backup", "2026-12-05"): the durable record that a
#: slot ran (or failed, and how often), so a restart neither repeats nor skips it.
ops_runs = sa.Table(
    "ops_runs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(40), nullable=False),
    sa.Column("slot", sa.String(40), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("started_at", AwareDateTime(), nullable=False),
    sa.Column("finished_at", AwareDateTime(), nullable=True),
    sa.Column("detail", JsonData, nullable=False),
    sa.UniqueConstraint("job", "slot", name="uq_ops_runs_job_slot"),
    sa.Index("ix_ops_runs_job_started", "job", "started_at"),
    sa.CheckConstraint("status IN ('running', 'ok', 'failed')", name="ck_ops_runs_status"),
)

#: Report documents written on schedule: the JSON document, its CSV and its
#: Excel file (base64), city-wide (``department`` NULL) or one department's.
scheduled_reports = sa.Table(
    "scheduled_reports",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("period", sa.String(10), nullable=False),
    sa.Column("since", sa.String(10), nullable=False),
    sa.Column("until", sa.String(10), nullable=False),
    sa.Column("department", sa.String(60), nullable=True),
    sa.Column("created_at", AwareDateTime(), nullable=False),
    sa.Column("doc_json", sa.Text(), nullable=False),
    sa.Column("csv", sa.Text(), nullable=False),
    sa.Column("xlsx_b64", sa.Text(), nullable=False),
    sa.Index("ix_scheduled_reports_period_since", "period", "since"),
    sa.CheckConstraint(
        "period IN ('daily', 'weekly', 'monthly')", name="ck_scheduled_reports_period"
    ),
)

# --- the knowledge loop (migration 0008_knowledge) --------------------------
#: Citizens' questions the assistant did not settle, kept (masked) for the
#: knowledge editors: a fallback, an FAQ guess below the answer threshold, a
#: thumbs-down on an answer, a handoff. ``status`` moves from ``open`` to
#: ``attached`` (a phrasing of an FAQ now), ``drafted`` (a new FAQ) or
#: ``dismissed``; retention deletes rows older than ``RETENTION_DAYS``.
unanswered = sa.Table(
    "unanswered",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", AwareDateTime(), nullable=False),
    sa.Column("conversation_id", sa.String(200), nullable=True),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("reason", sa.String(20), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("intent", sa.String(100), nullable=True),
    sa.Column("confidence", sa.Float(), nullable=True),
    sa.Column("faq_key", sa.String(100), nullable=True),
    sa.Column("action", sa.String(100), nullable=True),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("handled_by", sa.String(60), nullable=True),
    sa.Column("handled_at", AwareDateTime(), nullable=True),
    sa.Column("handled_to", sa.String(100), nullable=True),
    sa.Index("ix_unanswered_status_at", "status", "at"),
    sa.Index("ix_unanswered_at", "at"),
    sa.CheckConstraint(
        "reason IN ('fallback', 'low_confidence', 'thumbs_down', 'handoff')",
        name="ck_unanswered_reason",
    ),
    sa.CheckConstraint(
        "status IN ('open', 'attached', 'drafted', 'dismissed')", name="ck_unanswered_status"
    ),
)

#: Every change the knowledge editor's page made to data/knowledge (also in the
#: audit log), with the training fingerprint (scripts/train.py) before and after,
#: so the page can tell which changes the trained model does not have yet.
knowledge_changes = sa.Table(
    "knowledge_changes",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", AwareDateTime(), nullable=False),
    sa.Column("actor", sa.String(60), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("faq_key", sa.String(100), nullable=False),
    sa.Column("file", sa.String(200), nullable=False),
    sa.Column("detail", JsonData, nullable=False),
    sa.Column("fingerprint_before", sa.String(64), nullable=False),
    sa.Column("fingerprint_after", sa.String(64), nullable=False),
    sa.CheckConstraint("kind IN ('attach', 'draft')", name="ck_knowledge_changes_kind"),
)

# --- emergency mode (migration 0009_emergency) -----------------------------
#: One row per switch-on of the emergency mode (bot/emergency): the incident
#: report's period; ``ended_at`` NULL while it is on. The live switch itself is
#: in the shared store; this is its history.
emergency_periods = sa.Table(
    "emergency_periods",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("started_at", AwareDateTime(), nullable=False),
    sa.Column("ended_at", AwareDateTime(), nullable=True),
    sa.Column("notice", sa.Text(), nullable=False),
    sa.Column("faq", JsonData, nullable=False),
    sa.Column("keywords", JsonData, nullable=False),
    sa.Column("drill", sa.Boolean(), nullable=False),
    sa.Column("started_by", sa.String(60), nullable=False),
    sa.Column("ended_by", sa.String(60), nullable=True),
    sa.Index("ix_emergency_periods_started_at", "started_at"),
)

#: One row per notice broadcast to a recently active citizen: sent, or why not
#: (``outside_window``, ``rate_limited``, ``no_push``...).
emergency_sends = sa.Table(
    "emergency_sends",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("period_id", BigId, nullable=False),
    sa.Column("conversation_id", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("ok", sa.Boolean(), nullable=False),
    sa.Column("reason", sa.String(40), nullable=False),
    sa.Column("at", AwareDateTime(), nullable=False),
    sa.Index("ix_emergency_sends_period", "period_id", "id"),
)

# --- canned replies (migration 0011_canned_replies) -----------------------------
#: The agents' canned replies (常用语), edited by supervisors in the console;
#: seeded once from data/canned_replies.yml by the front door (bot/console/canned.py).
canned_replies = sa.Table(
    "canned_replies",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("title", sa.String(20), nullable=False, unique=True),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("updated_at", AwareDateTime(), nullable=False),
    sa.Column("updated_by", sa.String(60), nullable=False),
)

#: Tables in dependency order (backup, restore, truncate).
ALL_TABLES = (
    tickets,
    ticket_events,
    ticket_counters,
    transcripts,
    events,
    users,
    handoffs,
    handoff_notes,
    audit_log,
    ops_runs,
    scheduled_reports,
    unanswered,
    knowledge_changes,
    emergency_periods,
    emergency_sends,
    canned_replies,
)
