"""The core kit's idempotency record: the first answer to a keyed write, replayed to a retry.

Revision ID: 0007_idempotency
Revises: 0001_core
Create Date: 2026-12-06 22:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_idempotency"
down_revision = "0001_core"
branch_labels = ("idempotency",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_idempotency",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hub_idempotency"),
        sa.UniqueConstraint("scope", "key", name="uq_hub_idempotency_scope_key"),
    )


def downgrade() -> None:
    op.drop_table("hub_idempotency")
