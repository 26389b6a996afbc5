"""Escalations: requests to leads, supervisors and the CRO, and mail to other sections.

Revision ID: esc_0001
Revises: (none; a branch of its own that needs the core's first revision)
Create Date: 2026-12-08

Plain SQLAlchemy types only: a migration keeps meaning what it meant when it was written, so nothing is
imported from the application. Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "esc_0001"
down_revision = None
branch_labels = ("escalations",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "esc_escalation",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("queue", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=True),
        sa.Column("contact_id", sa.String(length=20), nullable=True),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("terms", sa.JSON(), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requester_email", sa.String(length=254), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("pay_plan_id", sa.String(length=20), nullable=True),
        sa.Column("idempotency_key", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_esc_escalation"),
        sa.UniqueConstraint("idempotency_key", name="uq_esc_escalation_idempotency_key"),
    )
    op.create_index("ix_esc_escalation_queue", "esc_escalation", ["queue"])
    op.create_index("ix_esc_escalation_status", "esc_escalation", ["status"])
    op.create_index("ix_esc_escalation_account_id", "esc_escalation", ["account_id"])
    op.create_index("ix_esc_escalation_requested_by", "esc_escalation", ["requested_by"])
    op.create_index("ix_esc_escalation_due_at", "esc_escalation", ["due_at"])
    op.create_table(
        "esc_section_mail",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("section", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("ccb_contact_id", sa.String(length=20), nullable=False),
        sa.Column("sent_by", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"], ["esc_escalation.id"], name="fk_esc_section_mail_escalation_id_esc_escalation"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_esc_section_mail"),
        sa.UniqueConstraint("idempotency_key", name="uq_esc_section_mail_idempotency_key"),
    )
    op.create_index("ix_esc_section_mail_account_id", "esc_section_mail", ["account_id"])


def downgrade() -> None:
    op.drop_table("esc_section_mail")
    op.drop_table("esc_escalation")
