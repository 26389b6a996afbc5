"""CCB registers: a meter has one register per quantity it measures; reads are per register.

Every existing meter gets register 1 "delivered" (its one subtractive register until now) and every
existing read is a read of register 1 (the column's server default), so data written before this
revision bills exactly as before. Net meters add register 2 "received" (docs/ccb-domain.md §1.4, §4.1).

Revision ID: 0006_ccb_net_metering
Revises: 0002_ccb
Create Date: 2026-12-12 09:00:00.000000

Plain SQLAlchemy types only, as in the other revisions. The read's register is a plain column, not a
composite foreign key: adding a constraint to ``ccb_meter_read`` would need a table rebuild, which SQLite
refuses while bills and service agreements reference its rows (foreign keys are on).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_ccb_net_metering"
down_revision = "0002_ccb"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ccb_register",
        sa.Column("meter_id", sa.String(length=10), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("flow", sa.String(length=10), nullable=False),
        sa.Column("unit", sa.String(length=4), nullable=False),
        sa.Column("digits", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["meter_id"], ["ccb_meter.id"], name="fk_ccb_register_meter_id_ccb_meter"),
        sa.PrimaryKeyConstraint("meter_id", "seq", name="pk_ccb_register"),
    )
    op.add_column(
        "ccb_meter_read",
        sa.Column("register_seq", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )
    # Existing meters: their one register becomes register 1, "delivered", with the meter's unit and dials.
    op.execute(
        "INSERT INTO ccb_register (meter_id, seq, flow, unit, digits) "
        "SELECT id, 1, 'delivered', unit, register_digits FROM ccb_meter"
    )


def downgrade() -> None:
    # The older schema has one register per meter: received-register reads and the net-metered SA type
    # have no place there. Net-metered SAs fall back to plain residential electric on the delivered reads.
    op.execute("DELETE FROM ccb_meter_read WHERE register_seq <> 1")
    op.execute("UPDATE ccb_service_agreement SET sa_type = 'E-RES' WHERE sa_type = 'E-NEM'")
    op.drop_column("ccb_meter_read", "register_seq")
    op.drop_table("ccb_register")
