"""Canned replies (常用语) in SQL, edited by supervisors in the console.

Until now they were read from data/canned_replies.yml on each replica. Edits
made in the console must reach every replica at once and survive a deploy,
so they live in the database. The file is the seed: the front door copies
it in once (``CannedRepo``, recorded as the ``ops_runs`` row
``canned_replies.seed``/``once`` in the same transaction), not this
migration, so a freshly migrated database stays empty for a restore, and a
database that was seeded is never seeded again (a reply a supervisor deleted
does not come back).

Revision ID: 0011_canned_replies
Revises: 0010_dispatch
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_canned_replies"
down_revision = "0010_dispatch"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "canned_replies",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(20), nullable=False, unique=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("updated_by", sa.String(60), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("canned_replies")
