"""Complaint dispatch: the town, the category's confidence and the review flag on tickets.

``town``: the key of data/towns.yml (镇街) recognised in the citizen's
location (NULL when none was named or recognised); ``category_confidence``:
the dispatch classifier's confidence in ``category`` (NULL for tickets made
before this revision, by hand or for suggestions); ``needs_review``: the
confidence was below the routing table's ``dispatch.min_confidence``, so the
ticket went to the triage desk for a person to check the category.

Revision ID: 0010_dispatch
Revises: 0009_emergency
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_dispatch"
down_revision = "0009_emergency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("town", sa.String(20), nullable=True))
    op.add_column("tickets", sa.Column("category_confidence", sa.Float(), nullable=True))
    op.add_column(
        "tickets",
        sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("needs_review")
        batch.drop_column("category_confidence")
        batch.drop_column("town")
