"""Scheduled work: the record of each job's runs, and the report documents.

``ops_runs``: one row per (job, slot), e.g. ("backup", "2026-12-05"): status
``running`` | ``ok`` | ``failed``, attempts, times and a JSON detail (the
backup's file and size, the restore check's findings, an error). The unique
pair is how a restarted or second scheduler knows a slot already ran.

``scheduled_reports``: the daily, weekly and monthly report documents
(bot/ops/reports.py), city-wide or for one department, with their CSV and
Excel (base64) renderings, so any replica can serve the download.

Revision ID: 0006_ops
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_ops"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JsonData = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ops_runs",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("job", sa.String(40), nullable=False),
        sa.Column("slot", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", JsonData, nullable=False),
        sa.UniqueConstraint("job", "slot", name="uq_ops_runs_job_slot"),
        sa.CheckConstraint("status IN ('running', 'ok', 'failed')", name="ck_ops_runs_status"),
    )
    op.create_index("ix_ops_runs_job_started", "ops_runs", ["job", "started_at"])
    op.create_table(
        "scheduled_reports",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("since", sa.String(10), nullable=False),
        sa.Column("until", sa.String(10), nullable=False),
        sa.Column("department", sa.String(60), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("doc_json", sa.Text(), nullable=False),
        sa.Column("csv", sa.Text(), nullable=False),
        sa.Column("xlsx_b64", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "period IN ('daily', 'weekly', 'monthly')", name="ck_scheduled_reports_period"
        ),
    )
    op.create_index("ix_scheduled_reports_period_since", "scheduled_reports", ["period", "since"])


def downgrade() -> None:
    op.drop_index("ix_scheduled_reports_period_since", table_name="scheduled_reports")
    op.drop_table("scheduled_reports")
    op.drop_index("ix_ops_runs_job_started", table_name="ops_runs")
    op.drop_table("ops_runs")
