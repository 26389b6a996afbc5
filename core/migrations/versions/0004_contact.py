"""Customer contact layer: contacts, verified accounts per contact, the contact action log, returned mail.

Revision ID: 0004_contact
Revises: 0001_core
Create Date: 2026-11-27 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_contact"
down_revision = "0001_core"
branch_labels = ("contact",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_contact",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("opened_by", sa.String(length=80), nullable=False),
        sa.Column("ani", sa.String(length=16), nullable=True),
        sa.Column("dialog_id", sa.String(length=36), nullable=True),
        sa.Column("account_id", sa.String(length=10), nullable=True),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("verify_failures", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wrap_up_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note_kind", sa.String(length=10), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("ccb_contact_id", sa.String(length=10), nullable=True),
        sa.Column("premise_note_id", sa.String(length=10), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_contact")),
        sa.UniqueConstraint("dialog_id", name=op.f("uq_contact_contact_dialog_id")),
    )
    with op.batch_alter_table("contact_contact", schema=None) as batch_op:
        batch_op.create_index("ix_contact_contact_owner_status", ["owner", "status"], unique=False)

    op.create_table(
        "contact_verification",
        sa.Column("contact_id", sa.String(length=10), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("verified_by", sa.String(length=80), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact_contact.id"],
            name=op.f("fk_contact_verification_contact_id_contact_contact"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_id", "account_id", name=op.f("pk_contact_verification")),
    )

    op.create_table(
        "contact_action",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("contact_id", sa.String(length=10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=True),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact_contact.id"],
            name=op.f("fk_contact_action_contact_id_contact_contact"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_action")),
    )
    with op.batch_alter_table("contact_action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_action_contact_id"), ["contact_id"], unique=False)

    op.create_table(
        "contact_returned_mail",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("new_address", sa.JSON(), nullable=True),
        sa.Column("followup_todo_id", sa.String(length=12), nullable=True),
        sa.Column("contact_id", sa.String(length=10), nullable=True),
        sa.Column("logged_by", sa.String(length=80), nullable=False),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_by", sa.String(length=80), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_returned_mail")),
    )
    with op.batch_alter_table("contact_returned_mail", schema=None) as batch_op:
        batch_op.create_index("ix_contact_returned_mail_status", ["status", "received_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_contact_returned_mail_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_table("contact_returned_mail")
    op.drop_table("contact_action")
    op.drop_table("contact_verification")
    op.drop_table("contact_contact")
