"""PCI terminal inspection: inventory, change log, photos, inspections, incidents, risk analyses.

Revision ID: pci_0001
Revises: (none; a branch of its own that needs the core's first revision)
Create Date: 2026-11-28

Plain SQLAlchemy types only: a migration keeps meaning what it meant when it was written, so nothing is
imported from the application. Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "pci_0001"
down_revision = None
branch_labels = ("pci_inspection",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "pci_risk_analysis",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("assets", sa.Text(), nullable=False),
        sa.Column("threats", sa.Text(), nullable=False),
        sa.Column("factors", sa.Text(), nullable=False),
        sa.Column("frequency_days", sa.Integer(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("performed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("performed_by", sa.String(length=64), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pci_risk_analysis"),
    )
    op.create_table(
        "pci_risk_review",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("frequency_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["analysis_id"],
            ["pci_risk_analysis.id"],
            name="fk_pci_risk_review_analysis_id_pci_risk_analysis",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pci_risk_review"),
    )
    op.create_index("ix_pci_risk_review_analysis_id", "pci_risk_review", ["analysis_id"])
    op.create_table(
        "pci_device",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("make", sa.String(length=80), nullable=False),
        sa.Column("model", sa.String(length=80), nullable=False),
        sa.Column("serial_number", sa.String(length=64), nullable=False),
        sa.Column("terminal_id", sa.String(length=40), nullable=True),
        sa.Column("site", sa.String(length=16), nullable=False),
        sa.Column("window", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("public_area", sa.Boolean(), nullable=False),
        sa.Column("seal_ids", sa.JSON(), nullable=False),
        sa.Column("assigned_to", sa.String(length=80), nullable=True),
        sa.Column("risk_analysis_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["risk_analysis_id"],
            ["pci_risk_analysis.id"],
            name="fk_pci_device_risk_analysis_id_pci_risk_analysis",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pci_device"),
        sa.UniqueConstraint("serial_number", name="uq_pci_device_serial_number"),
    )
    op.create_index("ix_pci_device_site", "pci_device", ["site"])
    op.create_index("ix_pci_device_status", "pci_device", ["status"])
    op.create_table(
        "pci_device_change",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["pci_device.id"], name="fk_pci_device_change_device_id_pci_device"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pci_device_change"),
    )
    op.create_index("ix_pci_device_change_device_id", "pci_device_change", ["device_id"])
    op.create_table(
        "pci_photo",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["pci_device.id"], name="fk_pci_photo_device_id_pci_device"),
        sa.PrimaryKeyConstraint("id", name="pk_pci_photo"),
    )
    op.create_index("ix_pci_photo_device_id", "pci_photo", ["device_id"])
    op.create_table(
        "pci_inspection",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inspector", sa.String(length=64), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("site", sa.String(length=16), nullable=False),
        sa.Column("window", sa.String(length=80), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["pci_device.id"], name="fk_pci_inspection_device_id_pci_device"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pci_inspection"),
        sa.UniqueConstraint("idempotency_key", name="uq_pci_inspection_idempotency_key"),
    )
    op.create_index("ix_pci_inspection_device_id", "pci_inspection", ["device_id"])
    op.create_index("ix_pci_inspection_inspected_at", "pci_inspection", ["inspected_at"])
    op.create_table(
        "pci_inspection_item",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("item_no", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["pci_inspection.id"],
            name="fk_pci_inspection_item_inspection_id_pci_inspection",
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["pci_photo.id"], name="fk_pci_inspection_item_photo_id_pci_photo"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pci_inspection_item"),
        sa.UniqueConstraint("inspection_id", "item_no", name="uq_pci_inspection_item_inspection_id"),
    )
    op.create_index("ix_pci_inspection_item_inspection_id", "pci_inspection_item", ["inspection_id"])
    op.create_table(
        "pci_incident",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("found_by", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["pci_device.id"], name="fk_pci_incident_device_id_pci_device"
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["pci_inspection.id"], name="fk_pci_incident_inspection_id_pci_inspection"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pci_incident"),
    )
    op.create_index("ix_pci_incident_device_id", "pci_incident", ["device_id"])


def downgrade() -> None:
    for index, table in (
        ("ix_pci_incident_device_id", "pci_incident"),
        ("ix_pci_inspection_item_inspection_id", "pci_inspection_item"),
        ("ix_pci_inspection_inspected_at", "pci_inspection"),
        ("ix_pci_inspection_device_id", "pci_inspection"),
        ("ix_pci_photo_device_id", "pci_photo"),
        ("ix_pci_device_change_device_id", "pci_device_change"),
        ("ix_pci_device_status", "pci_device"),
        ("ix_pci_device_site", "pci_device"),
        ("ix_pci_risk_review_analysis_id", "pci_risk_review"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "pci_incident",
        "pci_inspection_item",
        "pci_inspection",
        "pci_photo",
        "pci_device_change",
        "pci_device",
        "pci_risk_review",
        "pci_risk_analysis",
    ):
        op.drop_table(table)
