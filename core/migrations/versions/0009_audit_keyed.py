"""The keyed audit chain: the head records the sequence from which records carry an HMAC under the audit key.

Rows written before this revision were chained with the unkeyed SHA-256 rule; re-chaining them here would
need the audit key inside the migration, which is exactly what the key must not be near. So existing rows
stay verifiable under the old rule and ``keyed_from`` marks the first sequence written with the key: the
current head's sequence + 1 (1 on a hub without records). The first keyed record's digest covers the last
legacy record's hash, which anchors the legacy part too.

Revision ID: 0009_audit_keyed
Revises: 0001_core
Create Date: 2026-12-06 22:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_audit_keyed"
down_revision = "0001_core"
branch_labels = ("audit_keyed",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hub_audit_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("keyed_from", sa.BigInteger(), server_default="1", nullable=False))
    op.execute("UPDATE hub_audit_head SET keyed_from = seq + 1")


def downgrade() -> None:
    with op.batch_alter_table("hub_audit_head", schema=None) as batch_op:
        batch_op.drop_column("keyed_from")
