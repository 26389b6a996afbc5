"""Tables of the claims plugin (all prefixed ``claims_``).

``claims_claim`` holds one claim for a bill credit: the claimant and account, the incident and the loss,
the amount claimed, the coverage review (covered or not and why), the SLA clock (filed time, the business
seconds spent paused and since when it is paused now), and the decision (granted amount and the CCB
adjustment, or the denial reason and its letter). ``claims_document`` keeps the uploaded receipts and
photos with their sniffed type, size and SHA-256. ``claims_incident`` is the report security receives when
a claim looks fraudulent. Times are stored in UTC (``UTCDateTime``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.contract.db import Base, UTCDateTime


class Claim(Base):
    """A customer's claim for a bill credit after a utility-caused break, leak or outage."""

    __tablename__ = "claims_claim"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(10), index=True)
    contact_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    claimant_name: Mapped[str] = mapped_column(String(120))
    claimant_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    incident: Mapped[str] = mapped_column(String(40))
    incident_date: Mapped[dt.date] = mapped_column()
    loss: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    claimed_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)
    # The review against the coverage rules, recorded at intake so the reason never changes silently.
    covered: Mapped[bool] = mapped_column()
    coverage_reason: Mapped[str] = mapped_column(String(400))
    filed_by: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The SLA clock: business seconds already spent waiting for the customer, and the open pause if any.
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    paused_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    info_request: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    granted_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sa_id: Mapped[str | None] = mapped_column(String(10), nullable=True)
    adjustment_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    letter_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A retried intake (double click, client retry) carries the same key and gets the first claim back.
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True, nullable=True)


class ClaimDocument(Base):
    """An uploaded receipt or photo supporting a claim (bytes kept here, served back to staff only)."""

    __tablename__ = "claims_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims_claim.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    label: Mapped[str | None] = mapped_column(String(80), nullable=True)
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ClaimIncident(Base):
    """An incident report for security about a claim that looks fraudulent."""

    __tablename__ = "claims_incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims_claim.id"), unique=True)
    account_id: Mapped[str] = mapped_column(String(10), index=True)
    reason: Mapped[str] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    mail_id: Mapped[int] = mapped_column(Integer)


# For tests and tools that build the tables without Alembic (the migration is the source of truth).
TABLES = [Base.metadata.tables[name] for name in ("claims_claim", "claims_document", "claims_incident")]
