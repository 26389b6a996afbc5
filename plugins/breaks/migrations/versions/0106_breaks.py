"""Break scheduling: schedules, shifts and breaks.

Revision ID: breaks_0001
Revises: (none; a branch of its own that needs the core's first revision)
Create Date: 2026-12-06

Plain SQLAlchemy types only, so the migration keeps meaning what it meant when written; timestamps are
timezone-aware UTC.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "breaks_0001"
down_revision = None
branch_labels = ("breaks",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "breaks_schedule",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("forecast_start", sa.Integer(), nullable=False),
        sa.Column("calls_per_hour", sa.JSON(), nullable=False),
        sa.Column("aht_seconds", sa.Float(), nullable=False),
        sa.Column("target_service_level", sa.Float(), nullable=False),
        sa.Column("threshold_seconds", sa.Float(), nullable=False),
        sa.Column("required", sa.JSON(), nullable=False),
        sa.Column("available", sa.JSON(), nullable=False),
        sa.Column("shortfalls", sa.JSON(), nullable=False),
        sa.Column("violations", sa.JSON(), nullable=False),
        sa.Column("premium_hours", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_breaks_schedule"),
    )
    op.create_index("ix_breaks_schedule_day", "breaks_schedule", ["day"])
    op.create_index("ix_breaks_schedule_status", "breaks_schedule", ["status"])
    op.create_table(
        "breaks_shift",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("bargaining_unit", sa.String(length=32), nullable=True),
        sa.Column("rule_set", sa.String(length=40), nullable=False),
        sa.Column("meal1_waived", sa.Boolean(), nullable=False),
        sa.Column("meal2_waived", sa.Boolean(), nullable=False),
        sa.Column("on_duty_meal_agreement", sa.Boolean(), nullable=False),
        sa.Column("lactation", sa.Boolean(), nullable=False),
        sa.Column("lactation_breaks", sa.Integer(), nullable=False),
        sa.Column("regular_rate", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["breaks_schedule.id"], name="fk_breaks_shift_schedule_id_breaks_schedule"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_breaks_shift"),
    )
    op.create_index("ix_breaks_shift_schedule_id", "breaks_shift", ["schedule_id"])
    op.create_table(
        "breaks_break",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
        sa.Column("lactation", sa.Boolean(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["breaks_schedule.id"], name="fk_breaks_break_schedule_id_breaks_schedule"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_breaks_break"),
    )
    op.create_index("ix_breaks_break_schedule_id", "breaks_break", ["schedule_id"])
    op.create_index("ix_breaks_break_agent_id", "breaks_break", ["agent_id"])
    op.create_index("ix_breaks_break_start_at", "breaks_break", ["start_at"])
    op.create_index("ix_breaks_break_status", "breaks_break", ["status"])


def downgrade() -> None:
    op.drop_table("breaks_break")
    op.drop_table("breaks_shift")
    op.drop_table("breaks_schedule")
