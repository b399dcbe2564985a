"""Emergency mode's history: its periods (switch-on to switch-off) and the
notices broadcast during them (bot/emergency).

Revision ID: 0009_emergency
Revises: 0008_knowledge
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009_emergency"
down_revision = "0008_knowledge"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JsonData = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "emergency_periods",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notice", sa.Text(), nullable=False),
        sa.Column("faq", JsonData, nullable=False),
        sa.Column("keywords", JsonData, nullable=False),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("started_by", sa.String(60), nullable=False),
        sa.Column("ended_by", sa.String(60), nullable=True),
    )
    op.create_index("ix_emergency_periods_started_at", "emergency_periods", ["started_at"])
    op.create_table(
        "emergency_sends",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("period_id", BigId, nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_emergency_sends_period", "emergency_sends", ["period_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_emergency_sends_period", table_name="emergency_sends")
    op.drop_table("emergency_sends")
    op.drop_index("ix_emergency_periods_started_at", table_name="emergency_periods")
    op.drop_table("emergency_periods")
