"""The core's own tables: staff and credentials, sections and plugin enablement, audit log, event outbox,
and the job runner's run records and lease."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow

# BIGINT on PostgreSQL, but INTEGER on SQLite so the column is the rowid alias and autoincrements.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Section(Base):
    """An organisational section (call center, security, …); plugins are enabled per section."""

    __tablename__ = "hub_section"

    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StaffUser(Base):
    """A member of staff. Passwords are stored only as slow-KDF hashes."""

    __tablename__ = "hub_staff_user"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    sections: Mapped[list[StaffSection]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def section_slugs(self) -> list[str]:
        return sorted(s.section_slug for s in self.sections)


class StaffSection(Base):
    """Membership of a staff user in a section."""

    __tablename__ = "hub_staff_section"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("hub_staff_user.id", ondelete="CASCADE"), primary_key=True
    )
    section_slug: Mapped[str] = mapped_column(ForeignKey("hub_section.slug"), primary_key=True)

    user: Mapped[StaffUser] = relationship(back_populates="sections")


class ApiToken(Base):
    """A bearer token for the API; only its SHA-256 is kept (tokens are 256-bit random, so no KDF needed)."""

    __tablename__ = "hub_api_token"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("hub_staff_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(64), default="cli")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WebSession(Base):
    """A browser session for the web UI; the cookie carries a random id whose SHA-256 is stored."""

    __tablename__ = "hub_web_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("hub_staff_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PluginSection(Base):
    """Whether a plugin is enabled for a section; the row is the truth, config only seeds it once."""

    __tablename__ = "hub_plugin_section"

    plugin_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    section_slug: Mapped[str] = mapped_column(ForeignKey("hub_section.slug"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(64))


class AuditRecord(Base):
    """One append-only, chained audit entry: ``hash = HMAC(audit key, prev_hash | canonical fields)``.

    Records before the head's ``keyed_from`` predate the keyed chain and use ``sha256`` (core.audit).
    """

    __tablename__ = "hub_audit_log"

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(80), index=True)
    target: Mapped[str] = mapped_column(String(120))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's last (seq, hash), updated in the same transaction: deleting the newest rows shows.

    ``keyed_from`` is the first sequence chained with the audit key (older rows use the legacy rule).
    """

    __tablename__ = "hub_audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    keyed_from: Mapped[int] = mapped_column(BigInteger, server_default="1", default=1)


class OutboxEvent(Base):
    """An event written in the same transaction as the change it describes; the relay publishes it."""

    __tablename__ = "hub_outbox"
    __table_args__ = (Index("ix_hub_outbox_pending", "published_at", "seq"),)

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    envelope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class KeyValue(Base):
    """Small named values the hub keeps (e.g. when seed data was loaded)."""

    __tablename__ = "hub_kv"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class JobRun(Base):
    """The last run of one periodic job (core.jobs): what ``GET /api/jobs`` shows, and the schedule a
    process that takes over the job runner's lease continues from."""

    __tablename__ = "hub_job"

    plugin: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    last_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_duration_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_outcome: Mapped[str | None] = mapped_column(String(10), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_run_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    ran_by: Mapped[str | None] = mapped_column(String(120), nullable=True)


class Lease(Base):
    """A named lease: one hub process holds it until ``expires_at`` and renews it while it lives."""

    __tablename__ = "hub_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
