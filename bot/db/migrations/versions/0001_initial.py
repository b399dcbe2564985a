"""Initial schema: tickets with their timeline and counters, transcripts, events.

Revision ID: 0001
Revises:
Create Date: 2026-01-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JsonData = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    _create_tickets()
    op.create_table(
        "ticket_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", BigId, sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("data", JsonData, nullable=False),
        sa.UniqueConstraint("ticket_id", "version", name="uq_ticket_events_ticket_version"),
    )
    op.create_table(
        "ticket_counters",
        sa.Column("day", sa.String(8), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    op.create_table(
        "transcripts",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("sender", sa.String(100), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("data", JsonData, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.CheckConstraint("direction IN ('in', 'out')", name="ck_transcripts_direction"),
    )
    op.create_index("ix_transcripts_conversation_seq", "transcripts", ["conversation_id", "seq"])
    op.create_table(
        "events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=True),
        sa.Column("ticket_number", sa.String(20), nullable=True),
        sa.Column("data", JsonData, nullable=False),
        sa.Column("at", Timestamp, nullable=False),
    )
    op.create_index("ix_events_at", "events", ["at"])


def _create_tickets() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(20), nullable=False, unique=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.String(100), nullable=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("contact_name_enc", sa.Text(), nullable=True),
        sa.Column("contact_phone_enc", sa.Text(), nullable=True),
        sa.Column("id_number_enc", sa.Text(), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("department", sa.String(60), nullable=False),
        sa.Column("department_name", sa.String(100), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("deadline", Timestamp, nullable=True),
        sa.Column("escalated_at", Timestamp, nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.CheckConstraint(
            "type IN ('consultation', 'complaint', 'suggestion', 'help', 'callback')",
            name="ck_tickets_type",
        ),
        sa.CheckConstraint(
            "status IN ('new', 'assigned', 'replied', 'closed', 'reopened')",
            name="ck_tickets_status",
        ),
        sa.CheckConstraint("priority IN ('normal', 'high', 'urgent')", name="ck_tickets_priority"),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="ck_tickets_rating"),
    )
    op.create_index("ix_tickets_conversation_id", "tickets", ["conversation_id"])
    op.create_index("ix_tickets_department", "tickets", ["department"])


def downgrade() -> None:
    for table in ("events", "transcripts", "ticket_counters", "ticket_events", "tickets"):
        op.drop_table(table)
