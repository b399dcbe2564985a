"""Delivery state of agents' messages, stored with the message in ``transcripts``.

``delivery``: ``sending`` | ``sent`` | ``failed`` (NULL for every other row);
``delivery_reason``: why a send failed (``outside_window``, ``blocked``, ...);
``request_id``: the console's id of the message, unique per conversation, so a
resubmitted or double-clicked send is recorded and sent once.

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


def upgrade() -> None:
    op.add_column("transcripts", sa.Column("delivery", sa.String(10), nullable=True))
    op.add_column("transcripts", sa.Column("delivery_reason", sa.String(40), nullable=True))
    op.add_column("transcripts", sa.Column("request_id", sa.String(64), nullable=True))
    op.create_index(
        "ux_transcripts_request", "transcripts", ["conversation_id", "request_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ux_transcripts_request", table_name="transcripts")
    with op.batch_alter_table("transcripts") as batch:
        batch.drop_column("request_id")
        batch.drop_column("delivery_reason")
        batch.drop_column("delivery")
