"""Claims: claims for bill credits, their documents, and incident reports for security.

Revision ID: claims_0001
Revises: (none; a branch of its own that needs the core's first revision)
Create Date: 2026-12-09

Plain SQLAlchemy types only: a migration keeps meaning what it meant when it was written, so nothing is
imported from the application. Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "claims_0001"
down_revision = None
branch_labels = ("claims",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "claims_claim",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("contact_id", sa.String(length=20), nullable=True),
        sa.Column("claimant_name", sa.String(length=120), nullable=False),
        sa.Column("claimant_email", sa.String(length=254), nullable=True),
        sa.Column("incident", sa.String(length=40), nullable=False),
        sa.Column("incident_date", sa.Date(), nullable=False),
        sa.Column("loss", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("claimed_cents", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("covered", sa.Boolean(), nullable=False),
        sa.Column("coverage_reason", sa.String(length=400), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_seconds", sa.Integer(), nullable=False),
        sa.Column("paused_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("info_request", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("granted_cents", sa.Integer(), nullable=True),
        sa.Column("sa_id", sa.String(length=10), nullable=True),
        sa.Column("adjustment_id", sa.String(length=20), nullable=True),
        sa.Column("letter_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_claims_claim"),
        sa.UniqueConstraint("idempotency_key", name="uq_claims_claim_idempotency_key"),
    )
    op.create_index("ix_claims_claim_account_id", "claims_claim", ["account_id"])
    op.create_index("ix_claims_claim_status", "claims_claim", ["status"])
    op.create_table(
        "claims_document",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=True),
        sa.Column("content_type", sa.String(length=60), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims_claim.id"], name="fk_claims_document_claim_id_claims_claim"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_claims_document"),
    )
    op.create_index("ix_claims_document_claim_id", "claims_document", ["claim_id"])
    op.create_table(
        "claims_incident",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reported_by", sa.String(length=64), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims_claim.id"], name="fk_claims_incident_claim_id_claims_claim"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_claims_incident"),
        sa.UniqueConstraint("claim_id", name="uq_claims_incident_claim_id"),
    )
    op.create_index("ix_claims_incident_account_id", "claims_incident", ["account_id"])


def downgrade() -> None:
    op.drop_table("claims_incident")
    op.drop_table("claims_document")
    op.drop_table("claims_claim")
