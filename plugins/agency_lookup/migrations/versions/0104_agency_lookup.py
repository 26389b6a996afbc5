"""Agency lookup: disclosure requests from outside agencies and their append-only log.

Revision ID: agency_0001
Revises: (none; a branch of its own that needs the core's first revision)
Create Date: 2026-12-08

Plain SQLAlchemy types only: a migration keeps meaning what it meant when it was written, so nothing is
imported from the application. Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "agency_0001"
down_revision = None
branch_labels = ("agency_lookup",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "agency_disclosure",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("requester_kind", sa.String(length=24), nullable=False),
        sa.Column("requester_name", sa.String(length=120), nullable=False),
        sa.Column("requester_agency", sa.String(length=120), nullable=False),
        sa.Column("requester_badge", sa.String(length=40), nullable=True),
        sa.Column("requester_contact", sa.String(length=160), nullable=False),
        sa.Column("identity_verified_by", sa.String(length=200), nullable=False),
        sa.Column("legal_basis", sa.String(length=24), nullable=True),
        sa.Column("instrument_ref", sa.String(length=200), nullable=True),
        sa.Column("case_or_incident_no", sa.String(length=60), nullable=True),
        sa.Column("stated_purpose", sa.Text(), nullable=True),
        sa.Column("consent_ref", sa.String(length=200), nullable=True),
        sa.Column("public_interest_determination", sa.Text(), nullable=True),
        sa.Column("scope_requested", sa.JSON(), nullable=False),
        sa.Column("elements_requested", sa.JSON(), nullable=False),
        sa.Column("elements_allowed", sa.JSON(), nullable=False),
        sa.Column("elements_disclosed", sa.JSON(), nullable=False),
        sa.Column("accounts_affected", sa.JSON(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("bulk_flag", sa.Boolean(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("denial_reason", sa.Text(), nullable=True),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=False),
        sa.Column("reviewed_role", sa.String(length=16), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_role", sa.String(length=16), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=64), nullable=True),
        sa.Column("disclosed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery_method", sa.String(length=24), nullable=False),
        sa.Column("encryption", sa.String(length=40), nullable=True),
        sa.Column("customer_notified", sa.String(length=12), nullable=False),
        sa.Column("notification_date", sa.Date(), nullable=True),
        sa.Column("retention_until", sa.Date(), nullable=False),
        sa.Column("linked_pra_request_no", sa.String(length=60), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_agency_disclosure"),
    )
    op.create_index("ix_agency_disclosure_received_at", "agency_disclosure", ["received_at"])
    op.create_index("ix_agency_disclosure_requester_agency", "agency_disclosure", ["requester_agency"])
    op.create_index("ix_agency_disclosure_legal_basis", "agency_disclosure", ["legal_basis"])
    op.create_index("ix_agency_disclosure_status", "agency_disclosure", ["status"])
    op.create_table(
        "agency_disclosure_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("disclosure_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("entry", sa.JSON(), nullable=False),
        sa.Column("prev_entry_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["disclosure_id"],
            ["agency_disclosure.id"],
            name="fk_agency_disclosure_log_disclosure_id_agency_disclosure",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_agency_disclosure_log"),
        sa.UniqueConstraint("entry_hash", name="uq_agency_disclosure_log_entry_hash"),
    )
    op.create_index("ix_agency_disclosure_log_disclosure_id", "agency_disclosure_log", ["disclosure_id"])


def downgrade() -> None:
    op.drop_table("agency_disclosure_log")
    op.drop_table("agency_disclosure")
