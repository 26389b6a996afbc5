"""Core tables (staff, sections, plugin enablement, audit, outbox) and the default sections.

Revision ID: 0001_core
Revises: (none)
Create Date: 2026-11-27 03:29:38.577525
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None

# Copied here, not imported: a migration must keep meaning what it meant when it was written.
DEFAULT_SECTIONS = [
    ("call-center", "Call Center"),
    ("customer-service-center", "Customer Service Center"),
    ("e-team", "E-Team"),
    ("solar", "Solar Team"),
    ("customer-relations", "Customer Relations Office"),
    ("security", "Security"),
    ("lead", "Leads"),
]


def upgrade() -> None:
    op.create_table(
        "hub_audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_audit_head")),
    )
    op.create_table(
        "hub_audit_log",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("target", sa.String(length=120), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_hub_audit_log")),
    )
    with op.batch_alter_table("hub_audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_audit_log_action"), ["action"], unique=False)

    op.create_table(
        "hub_kv",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_hub_kv")),
    )
    op.create_table(
        "hub_mail_outbox",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("to_addrs", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_mail_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_hub_mail_outbox_idempotency_key")),
    )
    with op.batch_alter_table("hub_mail_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_mail_outbox_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_hub_mail_outbox_status"), ["status"], unique=False)

    op.create_table(
        "hub_outbox",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_hub_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_hub_outbox_event_id")),
    )
    with op.batch_alter_table("hub_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_hub_outbox_pending", ["published_at", "seq"], unique=False)

    op.create_table(
        "hub_section",
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_hub_section")),
    )
    op.create_table(
        "hub_staff_user",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_staff_user")),
        sa.UniqueConstraint("name", name=op.f("uq_hub_staff_user_name")),
    )
    op.create_table(
        "hub_api_token",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["hub_staff_user.id"],
            name=op.f("fk_hub_api_token_user_id_hub_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_hub_api_token_token_hash")),
    )
    with op.batch_alter_table("hub_api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "hub_plugin_section",
        sa.Column("plugin_id", sa.String(length=40), nullable=False),
        sa.Column("section_slug", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["section_slug"],
            ["hub_section.slug"],
            name=op.f("fk_hub_plugin_section_section_slug_hub_section"),
        ),
        sa.PrimaryKeyConstraint("plugin_id", "section_slug", name=op.f("pk_hub_plugin_section")),
    )
    op.create_table(
        "hub_staff_section",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("section_slug", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["section_slug"], ["hub_section.slug"], name=op.f("fk_hub_staff_section_section_slug_hub_section")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["hub_staff_user.id"],
            name=op.f("fk_hub_staff_section_user_id_hub_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "section_slug", name=op.f("pk_hub_staff_section")),
    )
    op.create_table(
        "hub_web_session",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["hub_staff_user.id"],
            name=op.f("fk_hub_web_session_user_id_hub_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_hub_web_session")),
    )
    with op.batch_alter_table("hub_web_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_web_session_user_id"), ["user_id"], unique=False)

    # The default sections exist as soon as the database is migrated, demo data or not (issue 2 §4).
    sections = sa.table(
        "hub_section",
        sa.column("slug", sa.String),
        sa.column("title", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.datetime.now(datetime.UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    op.bulk_insert(
        sections, [{"slug": slug, "title": title, "created_at": now} for slug, title in DEFAULT_SECTIONS]
    )


def downgrade() -> None:
    with op.batch_alter_table("hub_web_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hub_web_session_user_id"))

    op.drop_table("hub_web_session")
    op.drop_table("hub_staff_section")
    op.drop_table("hub_plugin_section")
    with op.batch_alter_table("hub_api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hub_api_token_user_id"))

    op.drop_table("hub_api_token")
    op.drop_table("hub_staff_user")
    op.drop_table("hub_section")
    with op.batch_alter_table("hub_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_hub_outbox_pending")

    op.drop_table("hub_outbox")
    op.drop_table("hub_mail_outbox")
    op.drop_table("hub_kv")
    with op.batch_alter_table("hub_audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hub_audit_log_action"))

    op.drop_table("hub_audit_log")
    op.drop_table("hub_audit_head")
