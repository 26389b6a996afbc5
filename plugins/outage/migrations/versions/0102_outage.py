"""Outage broadcast: outages, the trouble tickets seen, and suggested outages.

Revision ID: outage_0001
Revises: (none; a branch of its own that needs the core's first revision)
Create Date: 2026-12-05

Plain SQLAlchemy types only: a migration keeps meaning what it meant when it was written, so nothing is
imported from the application. Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "outage_0001"
down_revision = None
branch_labels = ("outage",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "outage_outage",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("utility", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("service_areas", sa.JSON(), nullable=False),
        sa.Column("zips", sa.JSON(), nullable=False),
        sa.Column("premise_ids", sa.JSON(), nullable=False),
        sa.Column("estimated_restoration", sa.DateTime(timezone=True), nullable=True),
        sa.Column("etr_missing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("declared_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("restored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("restored_by", sa.String(length=64), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=True),
        sa.Column("suggestion_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outage_outage"),
        sa.UniqueConstraint("idempotency_key", name="uq_outage_outage_idempotency_key"),
    )
    op.create_index("ix_outage_outage_status", "outage_outage", ["status"])
    op.create_table(
        "outage_ticket",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("field_activity_id", sa.String(length=20), nullable=False),
        sa.Column("premise_id", sa.String(length=20), nullable=False),
        sa.Column("burst_key", sa.String(length=40), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("outage_id", sa.Integer(), nullable=True),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["outage_id"], ["outage_outage.id"], name="fk_outage_ticket_outage_id_outage_outage"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outage_ticket"),
        sa.UniqueConstraint("field_activity_id", name="uq_outage_ticket_field_activity_id"),
    )
    op.create_index("ix_outage_ticket_premise_id", "outage_ticket", ["premise_id"])
    op.create_index("ix_outage_ticket_burst_key", "outage_ticket", ["burst_key"])
    op.create_index("ix_outage_ticket_received_at", "outage_ticket", ["received_at"])
    op.create_index("ix_outage_ticket_outage_id", "outage_ticket", ["outage_id"])
    op.create_table(
        "outage_suggestion",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("burst_key", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ticket_count", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("outage_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["outage_id"], ["outage_outage.id"], name="fk_outage_suggestion_outage_id_outage_outage"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outage_suggestion"),
    )
    op.create_index("ix_outage_suggestion_burst_key", "outage_suggestion", ["burst_key"])
    op.create_index("ix_outage_suggestion_status", "outage_suggestion", ["status"])


def downgrade() -> None:
    op.drop_table("outage_suggestion")
    op.drop_table("outage_ticket")
    op.drop_table("outage_outage")
