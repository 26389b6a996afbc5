"""Tables of the Serving Our Seniors plugin (all prefixed ``sos_``).

The contact layer's contacts carry no senior flag, so the CSR's flags live here keyed by contact id
(``sos_contact_flag``). A referral keeps its reasons as a JSON list (read whole, reviewed in Python); the
extra contacts the CRO adds and each need routed elsewhere are rows of their own. Customer free text is
redacted before it is stored; times are UTC (``UTCDateTime``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.contract.db import Base, UTCDateTime


class ContactFlag(Base):
    """What a CSR noticed in a contact: the customer is a senior, and what they mentioned."""

    __tablename__ = "sos_contact_flag"

    contact_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    senior: Mapped[bool] = mapped_column(Boolean)
    mentions: Mapped[list[str]] = mapped_column(JSON)
    set_by: Mapped[str] = mapped_column(String(80))
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Referral(Base):
    """An SOS referral filed from a contact, as the CRO works it."""

    __tablename__ = "sos_referral"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    account_id: Mapped[str] = mapped_column(String(10), index=True)
    # None when a lead or the CRO filed it without a contact (e.g. reported by a field employee).
    contact_id: Mapped[str | None] = mapped_column(String(10), index=True, nullable=True)
    access_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    details: Mapped[str | None] = mapped_column(Text, nullable=True)
    contact_name: Mapped[str] = mapped_column(String(120))
    contact_phone: Mapped[str] = mapped_column(String(32))
    consent_note: Mapped[str | None] = mapped_column(String(200), nullable=True)
    filed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    filed_by: Mapped[str] = mapped_column(String(80))
    sos_number: Mapped[str | None] = mapped_column(String(20), unique=True, nullable=True)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    accepted_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    mail_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ccb_contact_id: Mapped[str | None] = mapped_column(String(10), nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # A double-submitted form or a client retry carries the same key: one referral.
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True, nullable=True)


class ExtraContact(Base):
    """Someone else the Department of Aging may reach about the customer (family, neighbour, caregiver)."""

    __tablename__ = "sos_extra_contact"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("sos_referral.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    relationship: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    added_by: Mapped[str] = mapped_column(String(80))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Routing(Base):
    """A need outside the program, handed to the section that serves it; one per need and referral."""

    __tablename__ = "sos_routing"
    __table_args__ = (UniqueConstraint("referral_id", "need", name="uq_sos_routing_referral_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("sos_referral.id"), index=True)
    need: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    ccb_case_id: Mapped[str | None] = mapped_column(String(12), nullable=True)
    field_activity_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    mail_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    routed_by: Mapped[str] = mapped_column(String(80))
    routed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# For tests and tools that build the tables without Alembic (the migration is the source of truth).
TABLES = [
    Base.metadata.tables[name]
    for name in ("sos_contact_flag", "sos_referral", "sos_extra_contact", "sos_routing")
]
