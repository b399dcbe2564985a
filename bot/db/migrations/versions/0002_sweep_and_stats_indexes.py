"""Indexes for the deadline sweep (open tickets by deadline) and the quality figures.

The overdue check runs every few minutes over open tickets, and the
supervisor's figures count events by kind over a period; both scanned the
whole table without these.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-12
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_status_deadline", "tickets", ["status", "deadline"])
    op.create_index("ix_events_kind_at", "events", ["kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_events_kind_at", table_name="events")
    op.drop_index("ix_tickets_status_deadline", table_name="tickets")
