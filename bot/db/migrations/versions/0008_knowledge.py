"""The knowledge loop: questions the assistant did not settle (``unanswered``)
and the knowledge editor's changes to data/knowledge (``knowledge_changes``).

Revision ID: 0008_knowledge
Revises: 0007_figures
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_knowledge"
down_revision = "0007_figures"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JsonData = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "unanswered",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", Timestamp, nullable=False),
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
        sa.Column("handled_at", Timestamp, nullable=True),
        sa.Column("handled_to", sa.String(100), nullable=True),
        sa.CheckConstraint(
            "reason IN ('fallback', 'low_confidence', 'thumbs_down', 'handoff')",
            name="ck_unanswered_reason",
        ),
        sa.CheckConstraint(
            "status IN ('open', 'attached', 'drafted', 'dismissed')",
            name="ck_unanswered_status",
        ),
    )
    op.create_index("ix_unanswered_status_at", "unanswered", ["status", "at"])
    op.create_index("ix_unanswered_at", "unanswered", ["at"])
    op.create_table(
        "knowledge_changes",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("faq_key", sa.String(100), nullable=False),
        sa.Column("file", sa.String(200), nullable=False),
        sa.Column("detail", JsonData, nullable=False),
        sa.Column("fingerprint_before", sa.String(64), nullable=False),
        sa.Column("fingerprint_after", sa.String(64), nullable=False),
        sa.CheckConstraint("kind IN ('attach', 'draft')", name="ck_knowledge_changes_kind"),
    )


def downgrade() -> None:
    op.drop_table("knowledge_changes")
    op.drop_index("ix_unanswered_at", table_name="unanswered")
    op.drop_index("ix_unanswered_status_at", table_name="unanswered")
    op.drop_table("unanswered")
