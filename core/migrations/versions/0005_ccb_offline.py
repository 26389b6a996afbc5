"""CCB offline mode: the offline-form journal, read snapshots and the local conflict To Do table.

Revision ID: 0005_ccb_offline
Revises: 0001_core
Create Date: 2026-11-27 06:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_ccb_offline"
down_revision = "0001_core"
branch_labels = ("ccb_offline",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ccb_offline_form",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("operation", sa.String(length=40), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("todo_ref", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ccb_offline_form"),
        sa.UniqueConstraint("idempotency_key", name="uq_ccb_offline_form_idempotency_key"),
    )
    op.create_index("ix_ccb_offline_form_status_id", "ccb_offline_form", ["status", "id"])
    op.create_table(
        "ccb_offline_snapshot",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_ccb_offline_snapshot"),
    )
    op.create_table(
        "ccb_offline_todo",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=1), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ccb_offline_todo"),
    )
    op.create_index("ix_ccb_offline_todo_form_id", "ccb_offline_todo", ["form_id"])


def downgrade() -> None:
    op.drop_index("ix_ccb_offline_todo_form_id", table_name="ccb_offline_todo")
    op.drop_table("ccb_offline_todo")
    op.drop_table("ccb_offline_snapshot")
    op.drop_index("ix_ccb_offline_form_status_id", table_name="ccb_offline_form")
    op.drop_table("ccb_offline_form")
