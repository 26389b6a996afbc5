"""Correspondence: the letters sent to customers, with their Word documents and mailing state.

Revision ID: corr_0001
Revises: (none; a branch of its own that needs the core's first revision)
Create Date: 2026-12-12

Plain SQLAlchemy types only: a migration keeps meaning what it meant when it was written, so nothing is
imported from the application. Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "corr_0001"
down_revision = None
branch_labels = ("correspondence",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "corr_letter",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=20), nullable=False),
        sa.Column("person_id", sa.String(length=20), nullable=True),
        sa.Column("template_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("address", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.String(length=20), nullable=True),
        sa.Column("email_to", sa.String(length=254), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("printed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("printed_by", sa.String(length=64), nullable=True),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mailed_by", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_corr_letter"),
        sa.UniqueConstraint("idempotency_key", name="uq_corr_letter_idempotency_key"),
    )
    op.create_index("ix_corr_letter_account_id", "corr_letter", ["account_id"])
    op.create_index("ix_corr_letter_status", "corr_letter", ["status"])
    op.create_index("ix_corr_letter_created_at", "corr_letter", ["created_at"])


def downgrade() -> None:
    op.drop_table("corr_letter")
