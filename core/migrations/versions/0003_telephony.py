"""Telephony state: agents, devices (extensions), dialogs and dialog participants.

Revision ID: 0003_telephony
Revises: 0001_core
Create Date: 2026-11-27 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_telephony"
down_revision = "0001_core"
branch_labels = ("telephony",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tel_agent",
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("extension", sa.String(length=16), nullable=True),
        sa.Column("team_id", sa.String(length=40), nullable=True),
        sa.Column("reason_code_id", sa.Integer(), nullable=True),
        sa.Column("pending_state", sa.String(length=16), nullable=True),
        sa.Column("state_change_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wrap_up_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_tel_agent")),
    )
    with op.batch_alter_table("tel_agent", schema=None) as batch_op:
        batch_op.create_index("ix_tel_agent_state_since", ["state", "state_change_time"], unique=False)
        batch_op.create_index(batch_op.f("ix_tel_agent_extension"), ["extension"], unique=False)
        batch_op.create_index(batch_op.f("ix_tel_agent_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tel_agent_wrap_up_deadline"), ["wrap_up_deadline"], unique=False)

    op.create_table(
        "tel_device",
        sa.Column("extension", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("in_use_by", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("extension", name=op.f("pk_tel_device")),
    )

    op.create_table(
        "tel_dialog",
        sa.Column("dialog_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("call_type", sa.String(length=16), nullable=False),
        sa.Column("from_address", sa.String(length=32), nullable=False),
        sa.Column("to_address", sa.String(length=32), nullable=False),
        sa.Column("queue_name", sa.String(length=64), nullable=True),
        sa.Column("associated_dialog_id", sa.String(length=36), nullable=True),
        sa.Column("routing", sa.String(length=16), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ring_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ringing_agent_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dialog_id", name=op.f("pk_tel_dialog")),
    )
    with op.batch_alter_table("tel_dialog", schema=None) as batch_op:
        batch_op.create_index("ix_tel_dialog_routing", ["routing", "priority", "queued_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_tel_dialog_ring_deadline"), ["ring_deadline"], unique=False)

    op.create_table(
        "tel_participant",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("dialog_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("media_address", sa.String(length=32), nullable=False),
        sa.Column("address_type", sa.String(length=16), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["dialog_id"],
            ["tel_dialog.dialog_id"],
            name=op.f("fk_tel_participant_dialog_id_tel_dialog"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tel_participant")),
    )
    with op.batch_alter_table("tel_participant", schema=None) as batch_op:
        batch_op.create_index("ix_tel_participant_agent_state", ["agent_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_tel_participant_dialog_id"), ["dialog_id"], unique=False)


def downgrade() -> None:
    op.drop_table("tel_participant")
    op.drop_table("tel_dialog")
    op.drop_table("tel_device")
    op.drop_table("tel_agent")
