"""Solar: net-metered accounts, their delivered/received periods, and the voicemail callback queue.

Revision ID: solar_0001
Revises: (none; a branch of its own that needs the core's first revision)
Create Date: 2026-12-10

Plain SQLAlchemy types only: a migration keeps meaning what it meant when it was written, so nothing is
imported from the application. Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "solar_0001"
down_revision = None
branch_labels = ("solar",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "solar_nem_account",
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("interconnected_on", sa.Date(), nullable=False),
        sa.Column("carried_credit_kwh", sa.Integer(), nullable=False),
        sa.Column("carried_credit_cents", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_solar_nem_account"),
    )
    op.create_table(
        "solar_nem_period",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("delivered_kwh", sa.Integer(), nullable=False),
        sa.Column("received_kwh", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["solar_nem_account.account_id"],
            name="fk_solar_nem_period_account_id_solar_nem_account",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_solar_nem_period"),
        sa.UniqueConstraint("account_id", "start_date", name="uq_solar_nem_period_account_id"),
    )
    op.create_index("ix_solar_nem_period_account_id", "solar_nem_period", ["account_id"])
    op.create_table(
        "solar_voicemail",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ani", sa.String(length=10), nullable=False),
        sa.Column("callback_number", sa.String(length=10), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_by", sa.String(length=64), nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_by", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_solar_voicemail"),
        sa.UniqueConstraint("call_id", name="uq_solar_voicemail_call_id"),
    )
    op.create_index("ix_solar_voicemail_left_at", "solar_voicemail", ["left_at"])
    op.create_index("ix_solar_voicemail_returned_at", "solar_voicemail", ["returned_at"])


def downgrade() -> None:
    op.drop_table("solar_voicemail")
    op.drop_table("solar_nem_period")
    op.drop_table("solar_nem_account")
