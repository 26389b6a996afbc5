"""E-team: Contact Us incidents pulled from Customer Connect and the e-team's responses.

Revision ID: eteam_0001
Revises: (none; a branch of its own that needs the core's first revision)
Create Date: 2026-12-10

Plain SQLAlchemy types only: a migration keeps meaning what it meant when it was written, so nothing is
imported from the application. Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "eteam_0001"
down_revision = None
branch_labels = ("eteam",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "eteam_incident",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference_number", sa.String(length=13), nullable=False),
        sa.Column("cc_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=240), nullable=False),
        sa.Column("customer_text", sa.Text(), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=True),
        sa.Column("contact_name", sa.String(length=120), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cc_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pulled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_eteam_incident"),
        sa.UniqueConstraint("reference_number", name="uq_eteam_incident_reference_number"),
        sa.UniqueConstraint("cc_id", name="uq_eteam_incident_cc_id"),
    )
    op.create_index("ix_eteam_incident_account_id", "eteam_incident", ["account_id"])
    op.create_index("ix_eteam_incident_status", "eteam_incident", ["status"])
    op.create_index("ix_eteam_incident_received_at", "eteam_incident", ["received_at"])
    op.create_table(
        "eteam_response",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("action_taken", sa.Boolean(), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=True),
        sa.Column("contact_id", sa.String(length=20), nullable=True),
        sa.Column("cc_thread_id", sa.Integer(), nullable=False),
        sa.Column("ccb_contact_id", sa.String(length=20), nullable=True),
        sa.Column("responded_by", sa.String(length=64), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["eteam_incident.id"], name="fk_eteam_response_incident_id_eteam_incident"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_eteam_response"),
    )
    op.create_index("ix_eteam_response_incident_id", "eteam_response", ["incident_id"])


def downgrade() -> None:
    op.drop_table("eteam_response")
    op.drop_table("eteam_incident")
