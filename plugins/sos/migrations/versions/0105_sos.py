"""Serving Our Seniors: contact flags, referrals, their extra contacts and the needs routed elsewhere.

Revision ID: sos_0001
Revises: (none; a branch of its own that needs the core's first revision)
Create Date: 2026-12-06

Plain SQLAlchemy types only: a migration keeps meaning what it meant when it was written, so nothing is
imported from the application. Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sos_0001"
down_revision = None
branch_labels = ("sos",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "sos_contact_flag",
        sa.Column("contact_id", sa.String(length=10), nullable=False),
        sa.Column("senior", sa.Boolean(), nullable=False),
        sa.Column("mentions", sa.JSON(), nullable=False),
        sa.Column("set_by", sa.String(length=80), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", name="pk_sos_contact_flag"),
    )
    op.create_table(
        "sos_referral",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("contact_id", sa.String(length=10), nullable=True),
        sa.Column("access_reason", sa.String(length=200), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("contact_name", sa.String(length=120), nullable=False),
        sa.Column("contact_phone", sa.String(length=32), nullable=False),
        sa.Column("consent_note", sa.String(length=200), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_by", sa.String(length=80), nullable=False),
        sa.Column("sos_number", sa.String(length=20), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.String(length=80), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_by", sa.String(length=80), nullable=True),
        sa.Column("mail_id", sa.Integer(), nullable=True),
        sa.Column("ccb_contact_id", sa.String(length=10), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sos_referral"),
        sa.UniqueConstraint("sos_number", name="uq_sos_referral_sos_number"),
        sa.UniqueConstraint("idempotency_key", name="uq_sos_referral_idempotency_key"),
    )
    op.create_index("ix_sos_referral_status", "sos_referral", ["status"])
    op.create_index("ix_sos_referral_account_id", "sos_referral", ["account_id"])
    op.create_index("ix_sos_referral_contact_id", "sos_referral", ["contact_id"])
    op.create_index("ix_sos_referral_filed_at", "sos_referral", ["filed_at"])
    op.create_table(
        "sos_extra_contact",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("relationship", sa.String(length=60), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("added_by", sa.String(length=80), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["sos_referral.id"], name="fk_sos_extra_contact_referral_id_sos_referral"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sos_extra_contact"),
    )
    op.create_index("ix_sos_extra_contact_referral_id", "sos_extra_contact", ["referral_id"])
    op.create_table(
        "sos_routing",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("need", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("ccb_case_id", sa.String(length=12), nullable=True),
        sa.Column("field_activity_id", sa.String(length=20), nullable=True),
        sa.Column("mail_id", sa.Integer(), nullable=True),
        sa.Column("routed_by", sa.String(length=80), nullable=False),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["sos_referral.id"], name="fk_sos_routing_referral_id_sos_referral"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sos_routing"),
        sa.UniqueConstraint("referral_id", "need", name="uq_sos_routing_referral_id"),
    )
    op.create_index("ix_sos_routing_referral_id", "sos_routing", ["referral_id"])


def downgrade() -> None:
    op.drop_table("sos_routing")
    op.drop_table("sos_extra_contact")
    op.drop_table("sos_referral")
    op.drop_table("sos_contact_flag")
