"""Metrics: the tallies, the dedupe keys already counted, and contact channels awaiting their wrap-up.

Revision ID: metrics_0001
Revises: (none; a branch of its own that needs the core's first revision)
Create Date: 2026-12-12

Plain SQLAlchemy types only: a migration keeps meaning what it meant when it was written, so nothing is
imported from the application. Timestamps are timezone-aware UTC; days are the utility's local days.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "metrics_0001"
down_revision = None
branch_labels = ("metrics",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "metrics_tally",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("section", sa.String(length=40), nullable=False),
        sa.Column("staff", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "section", "staff", "kind", name="pk_metrics_tally"),
    )
    op.create_table(
        "metrics_seen",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("section", sa.String(length=40), nullable=False),
        sa.Column("staff", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_metrics_seen"),
    )
    op.create_index("ix_metrics_seen_day", "metrics_seen", ["day"])
    op.create_table(
        "metrics_contact",
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", name="pk_metrics_contact"),
    )


def downgrade() -> None:
    op.drop_table("metrics_contact")
    op.drop_table("metrics_seen")
    op.drop_table("metrics_tally")
