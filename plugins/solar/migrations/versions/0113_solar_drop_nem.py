"""Solar: drop the plugin's own net-metering tables; the CCB now bills net-metered service agreements.

Revision ID: solar_0002
Revises: solar_0001
Create Date: 2026-12-12

``solar_nem_account`` and ``solar_nem_period`` held kWh delivered/received typed in by the Solar team while
the CCB mock had no net meters. The CCB now has net meters (a received register), a net-metered SA type and
net billing, and the plugin reads bills through the CCB port, so the tables are obsolete. Each is dropped
only when present, so a database whose tables were already removed by hand upgrades too. The downgrade
recreates them empty: the typed-in periods are not recoverable, and the CCB's bills are the record now.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "solar_0002"
down_revision = "solar_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "solar_nem_period" in present:  # the child first: it references solar_nem_account (its index goes too)
        op.drop_table("solar_nem_period")
    if "solar_nem_account" in present:
        op.drop_table("solar_nem_account")


def downgrade() -> None:
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
