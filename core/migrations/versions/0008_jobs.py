"""Job runner: the last run of each periodic job and the lease that makes one hub process run them.

Revision ID: 0008_jobs
Revises: 0001_core
Create Date: 2026-12-06 22:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_jobs"
down_revision = "0001_core"
branch_labels = ("jobs",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_job",
        sa.Column("plugin", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_duration_ms", sa.Float(), nullable=True),
        sa.Column("last_outcome", sa.String(length=10), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("ran_by", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("plugin", "name", name=op.f("pk_hub_job")),
    )
    op.create_table(
        "hub_lease",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_hub_lease")),
    )


def downgrade() -> None:
    op.drop_table("hub_lease")
    op.drop_table("hub_job")
