"""An index on transcripts' time, for the live wallboard's figures of today.

The wallboard (bot/console/wallboard.py) reads today's transcript rows every
few seconds per open dashboard; without this index each read scanned the
whole table.

Revision ID: 0006_dashboard
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0006_dashboard"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_transcripts_created_at", "transcripts", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_transcripts_created_at", table_name="transcripts")
