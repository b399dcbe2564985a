"""Indexes for the figures (bot/reports): transcripts and tickets by time.

The figures read a period's citizen messages (``transcripts.created_at``)
and tickets (``tickets.created_at``); without these indexes every report
scanned the whole transcript table, which holds the retention period's
messages (tens of thousands a day).

Revision ID: 0007_figures
Revises: 0006_ops
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0007_figures"
down_revision = "0006_ops"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_transcripts_created_at", "transcripts", ["created_at"])
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_created_at", table_name="tickets")
    op.drop_index("ix_transcripts_created_at", table_name="transcripts")
