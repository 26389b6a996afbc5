"""Cash handling: drawers, window payments, seized notes and their custody, drop-box collections and slips.

Revision ID: cash_0001
Revises: (none; a branch of its own that needs the core's first revision)
Create Date: 2026-12-01

Plain SQLAlchemy types only: a migration keeps meaning what it meant when it was written, so nothing is
imported from the application. Timestamps are timezone-aware UTC; money is integer cents.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "cash_0001"
down_revision = None
branch_labels = ("cash_handling",)
depends_on = "0001_core"


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "cash_drawer",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tender_control_id", sa.String(length=20), nullable=False),
        sa.Column("csr", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("float_counts", sa.JSON(), nullable=False),
        sa.Column("starting_float_cents", sa.Integer(), nullable=False),
        _ts("opened_at"),
        sa.Column("opened_on", sa.Date(), nullable=False),
        _ts("closed_at", nullable=True),
        sa.Column("counted_counts", sa.JSON(), nullable=True),
        sa.Column("counted_cents", sa.Integer(), nullable=True),
        sa.Column("expected_cents", sa.Integer(), nullable=True),
        sa.Column("over_under_cents", sa.Integer(), nullable=True),
        sa.Column("deposit_control_id", sa.String(length=20), nullable=True),
        sa.Column("idempotency_key", sa.String(length=140), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cash_drawer"),
        sa.UniqueConstraint("tender_control_id", name="uq_cash_drawer_tender_control_id"),
        sa.UniqueConstraint("idempotency_key", name="uq_cash_drawer_idempotency_key"),
    )
    op.create_index("ix_cash_drawer_csr", "cash_drawer", ["csr"])
    op.create_index("ix_cash_drawer_status", "cash_drawer", ["status"])
    op.create_index("ix_cash_drawer_deposit_control_id", "cash_drawer", ["deposit_control_id"])
    op.create_table(
        "cash_payment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("receipt_no", sa.String(length=24), nullable=True),
        sa.Column("drawer_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("received_cents", sa.Integer(), nullable=False),
        sa.Column("seized_cents", sa.Integer(), nullable=False),
        sa.Column("change_cents", sa.Integer(), nullable=False),
        sa.Column("coins_cents", sa.Integer(), nullable=False),
        sa.Column("note_counts", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("payment_id", sa.String(length=20), nullable=True),
        sa.Column("payment_event_id", sa.String(length=20), nullable=True),
        sa.Column("balance_after_cents", sa.Integer(), nullable=True),
        sa.Column("mailed_to", sa.String(length=200), nullable=True),
        sa.Column("taken_by", sa.String(length=64), nullable=False),
        _ts("taken_at"),
        sa.Column("idempotency_key", sa.String(length=140), nullable=False),
        sa.ForeignKeyConstraint(
            ["drawer_id"], ["cash_drawer.id"], name="fk_cash_payment_drawer_id_cash_drawer"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_cash_payment"),
        sa.UniqueConstraint("receipt_no", name="uq_cash_payment_receipt_no"),
        sa.UniqueConstraint("idempotency_key", name="uq_cash_payment_idempotency_key"),
    )
    op.create_index("ix_cash_payment_drawer_id", "cash_payment", ["drawer_id"])
    op.create_index("ix_cash_payment_account_id", "cash_payment", ["account_id"])
    op.create_table(
        "cash_seized_note",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("denomination", sa.Integer(), nullable=False),
        sa.Column("note", sa.JSON(), nullable=False),
        sa.Column("receipt", sa.JSON(), nullable=False),
        sa.Column("passer", sa.JSON(), nullable=False),
        sa.Column("reporter", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        _ts("seized_at"),
        sa.Column("seized_on", sa.Date(), nullable=False),
        sa.Column("copy_offered", sa.Boolean(), nullable=False),
        sa.Column("usss_submission_id", sa.String(length=60), nullable=True),
        _ts("submitted_at", nullable=True),
        sa.Column("submitted_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["cash_payment.id"], name="fk_cash_seized_note_payment_id_cash_payment"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_cash_seized_note"),
    )
    op.create_index("ix_cash_seized_note_payment_id", "cash_seized_note", ["payment_id"])
    op.create_index("ix_cash_seized_note_status", "cash_seized_note", ["status"])
    op.create_table(
        "cash_custody",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("seized_note_id", sa.Integer(), nullable=False),
        sa.Column("from_holder", sa.String(length=64), nullable=True),
        sa.Column("to_holder", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        _ts("at"),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("remarks", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["seized_note_id"],
            ["cash_seized_note.id"],
            name="fk_cash_custody_seized_note_id_cash_seized_note",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_cash_custody"),
    )
    op.create_index("ix_cash_custody_seized_note_id", "cash_custody", ["seized_note_id"])
    op.create_table(
        "cash_dropbox_collection",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        _ts("collected_at"),
        sa.Column("collected_by", sa.String(length=64), nullable=False),
        sa.Column("envelopes", sa.Integer(), nullable=False),
        sa.Column("counter_cents", sa.Integer(), nullable=False),
        sa.Column("slips_cents", sa.Integer(), nullable=False),
        sa.Column("cash_slips_cents", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=140), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cash_dropbox_collection"),
        sa.UniqueConstraint("idempotency_key", name="uq_cash_dropbox_collection_idempotency_key"),
    )
    op.create_table(
        "cash_dropbox_slip",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("slip_no", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("slip_type", sa.String(length=12), nullable=False),
        sa.Column("check_number", sa.String(length=20), nullable=True),
        sa.Column("assigned_to", sa.String(length=64), nullable=False),
        _ts("posted_at", nullable=True),
        sa.Column("posted_by", sa.String(length=64), nullable=True),
        sa.Column("payment_id", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["cash_dropbox_collection.id"],
            name="fk_cash_dropbox_slip_collection_id_cash_dropbox_collection",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_cash_dropbox_slip"),
        sa.UniqueConstraint("collection_id", "slip_no", name="uq_cash_dropbox_slip_no"),
    )
    op.create_index("ix_cash_dropbox_slip_collection_id", "cash_dropbox_slip", ["collection_id"])
    op.create_index("ix_cash_dropbox_slip_assigned_to", "cash_dropbox_slip", ["assigned_to"])


def downgrade() -> None:
    for table in (
        "cash_dropbox_slip",
        "cash_dropbox_collection",
        "cash_custody",
        "cash_seized_note",
        "cash_payment",
        "cash_drawer",
    ):
        op.drop_table(table)
