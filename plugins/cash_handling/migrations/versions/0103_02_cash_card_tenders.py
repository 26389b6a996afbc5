"""Cash handling: card tenders at the window, and "payment types verified" on a drop-box collection.

Revision ID: cash_0002
Revises: cash_0001
Create Date: 2026-12-08

A card payment keeps only what the terminal's slip shows: card type, brand, the last four digits and the
approval code, plus the terminal's inventory id (docs/rules.md §1.5: never the card number). Existing payments
were all cash, hence the server default. Plain SQLAlchemy types only, as in the first revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "cash_0002"
down_revision = "cash_0001"
branch_labels = None
depends_on = None

CARD_COLUMNS = ("card_type", "card_brand", "card_last4", "authorization_code", "terminal_id")


def upgrade() -> None:
    op.add_column(
        "cash_payment",
        sa.Column("tender_type", sa.String(length=8), server_default="cash", nullable=False),
    )
    op.add_column("cash_payment", sa.Column("card_type", sa.String(length=8), nullable=True))
    op.add_column("cash_payment", sa.Column("card_brand", sa.String(length=12), nullable=True))
    op.add_column("cash_payment", sa.Column("card_last4", sa.String(length=4), nullable=True))
    op.add_column("cash_payment", sa.Column("authorization_code", sa.String(length=8), nullable=True))
    op.add_column("cash_payment", sa.Column("terminal_id", sa.Integer(), nullable=True))
    op.add_column(
        "cash_dropbox_collection",
        sa.Column("types_verified", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    # Batch mode: SQLite drops columns by copying the table.
    with op.batch_alter_table("cash_dropbox_collection") as batch:
        batch.drop_column("types_verified")
    with op.batch_alter_table("cash_payment") as batch:
        for name in ("tender_type", *CARD_COLUMNS):
            batch.drop_column(name)
