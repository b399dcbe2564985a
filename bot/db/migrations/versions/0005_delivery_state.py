"""Delivery state of agents' messages, stored with the message in ``transcripts``.

``delivery``: ``sending`` | ``sent`` | ``failed`` (NULL for every other row);
``delivery_reason``: why a send failed (``outside_window``, ``blocked``, ...);
``request_id``: the console's id of the message, unique per conversation, so a
resubmitted or double-clicked send is recorded and sent once; ``delivery_at``:
when the state last changed (a ``sending`` left by a stopped replica is
settled by the handoff sweep).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

HAS_REQUEST = sa.text("request_id IS NOT NULL")
SENDING = sa.text("delivery = 'sending'")


def upgrade() -> None:
    op.add_column("transcripts", sa.Column("delivery", sa.String(10), nullable=True))
    op.add_column("transcripts", sa.Column("delivery_reason", sa.String(40), nullable=True))
    op.add_column("transcripts", sa.Column("request_id", sa.String(64), nullable=True))
    op.add_column(
        "transcripts", sa.Column("delivery_at", sa.DateTime(timezone=True), nullable=True)
    )
    # Partial: the message path's rows (no request id, no delivery) touch neither index.
    op.create_index(
        "ux_transcripts_request", "transcripts", ["conversation_id", "request_id"], unique=True,
        sqlite_where=HAS_REQUEST, postgresql_where=HAS_REQUEST,
    )  # fmt: skip
    op.create_index(
        "ix_transcripts_sending", "transcripts", ["delivery_at"],
        sqlite_where=SENDING, postgresql_where=SENDING,
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_transcripts_sending", table_name="transcripts")
    op.drop_index("ux_transcripts_request", table_name="transcripts")
    with op.batch_alter_table("transcripts") as batch:
        batch.drop_column("delivery_at")
        batch.drop_column("request_id")
        batch.drop_column("delivery_reason")
        batch.drop_column("delivery")
