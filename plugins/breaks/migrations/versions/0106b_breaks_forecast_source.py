"""Break scheduling: where a schedule's forecast came from (explicit, simulator or history) and its detail.

Revision ID: breaks_0002
Revises: breaks_0001
Create Date: 2026-12-20

Existing schedules were all made from calls per hour given by hand, hence the server default.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "breaks_0002"
down_revision = "breaks_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "breaks_schedule",
        sa.Column("forecast_source", sa.String(length=16), nullable=False, server_default="explicit"),
    )
    op.add_column("breaks_schedule", sa.Column("forecast_detail", sa.JSON(), nullable=True))


def downgrade() -> None:
    # SQLite drops a column only by rebuilding the table, which the batch mode does.
    with op.batch_alter_table("breaks_schedule") as batch:
        batch.drop_column("forecast_detail")
        batch.drop_column("forecast_source")
