"""Canned replies (常用语) in SQL, edited by supervisors in the console.

Until now they were read from data/canned_replies.yml on each replica. Edits
made in the console must reach every replica at once and survive a deploy,
so they live in the database; the file is the seed, copied in once here (a
database that already ran this revision is never re-seeded, so a reply a
supervisor deleted does not come back).

Revision ID: 0011_canned_replies
Revises: 0010_dispatch
Create Date: 2026-12-05
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0011_canned_replies"
down_revision = "0010_dispatch"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    from bot.console.canned import seed_items

    table = op.create_table(
        "canned_replies",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(20), nullable=False, unique=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("updated_by", sa.String(60), nullable=False),
    )
    now = dt.datetime.now(dt.UTC)
    rows = [
        {**item, "position": i, "updated_at": now, "updated_by": "system"}
        for i, item in enumerate(seed_items())
    ]
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_table("canned_replies")
