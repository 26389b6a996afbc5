"""Tables of the escalations plugin (all prefixed ``esc_``).

One ``esc_escalation`` row per request for help: what was asked (kind, urgency, summary, the plan terms
for a special payment plan), where it came from (a verified contact, or the CRO intake with the
requester's e-mail), the queue and its SLA deadline (fixed when raised), and the decision: who approved
or denied it and why, then who resolved it. ``esc_section_mail`` records each "more action needed" mail
to another section together with the outbox mail and the CCB customer contact it produced (task 9).
Times are stored in UTC (``UTCDateTime``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.contract.db import Base, UTCDateTime


class Escalation(Base):
    """A request to a lead, a supervisor or the Customer Relations Office, and what became of it."""

    __tablename__ = "esc_escalation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[str | None] = mapped_column(String(10), index=True, nullable=True)
    contact_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    summary: Mapped[str] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Special payment plan terms as asked (and, once approved, as approved): amount, installments, ...
    terms: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    requested_by: Mapped[str] = mapped_column(String(64), index=True)
    requester_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    pay_plan_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # A retried submission (double click, client retry, the same e-mail read twice) carries the same key.
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True, nullable=True)


class SectionMail(Base):
    """A mail to another section about an account, and where it was recorded."""

    __tablename__ = "esc_section_mail"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(10), index=True)
    section: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("esc_escalation.id"), nullable=True)
    mail_id: Mapped[int] = mapped_column(Integer)
    ccb_contact_id: Mapped[str] = mapped_column(String(20))
    sent_by: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)


# For tests and tools that build the tables without Alembic (the migration is the source of truth).
TABLES = [Base.metadata.tables[name] for name in ("esc_escalation", "esc_section_mail")]
