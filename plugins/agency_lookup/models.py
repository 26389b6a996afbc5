"""Tables of the agency lookup (all prefixed ``agency_``): disclosure requests and the disclosure log.

``agency_disclosure`` is the working record of one request from an outside agency as it moves from decision
to approval to release; it carries the fields of docs/rules.md §5.5. ``agency_disclosure_log`` is the
append-only,
tamper-evident log: each step writes a full snapshot of those fields, chained to the previous entry by hash
(``prev_entry_hash``) and to the hub's audit log (``audit_seq``), and nothing ever updates or deletes a row.
Only internal account ids are kept; the released data itself is read out and never stored here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.contract.db import Base, UTCDateTime


class Disclosure(Base):
    """A request for customer information from an outside agency and what was decided and released."""

    __tablename__ = "agency_disclosure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    requester_kind: Mapped[str] = mapped_column(String(24))
    requester_name: Mapped[str] = mapped_column(String(120))
    requester_agency: Mapped[str] = mapped_column(String(120), index=True)
    requester_badge: Mapped[str | None] = mapped_column(String(40), nullable=True)
    requester_contact: Mapped[str] = mapped_column(String(160))
    identity_verified_by: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str | None] = mapped_column(String(24), index=True, nullable=True)
    instrument_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    case_or_incident_no: Mapped[str | None] = mapped_column(String(60), nullable=True)
    stated_purpose: Mapped[str | None] = mapped_column(Text, nullable=True)
    consent_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    public_interest_determination: Mapped[str | None] = mapped_column(Text, nullable=True)
    scope_requested: Mapped[dict[str, Any]] = mapped_column(JSON)
    elements_requested: Mapped[list[str]] = mapped_column(JSON)
    elements_allowed: Mapped[list[str]] = mapped_column(JSON)
    elements_disclosed: Mapped[list[str]] = mapped_column(JSON)
    accounts_affected: Mapped[list[str]] = mapped_column(JSON)
    record_count: Mapped[int] = mapped_column(Integer)
    bulk_flag: Mapped[bool] = mapped_column(Boolean)
    decision: Mapped[str] = mapped_column(String(16))
    denial_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    needs_approval: Mapped[bool] = mapped_column(Boolean)
    # denied | awaiting_approval | ready | released
    status: Mapped[str] = mapped_column(String(20), index=True)
    reviewed_by: Mapped[str] = mapped_column(String(64))
    reviewed_role: Mapped[str] = mapped_column(String(16))
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    released_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    disclosed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivery_method: Mapped[str] = mapped_column(String(24))
    encryption: Mapped[str | None] = mapped_column(String(40), nullable=True)
    customer_notified: Mapped[str] = mapped_column(String(12))
    notification_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    retention_until: Mapped[dt.date] = mapped_column(Date)
    linked_pra_request_no: Mapped[str | None] = mapped_column(String(60), nullable=True)

    def log_fields(self) -> dict[str, Any]:
        """The §5.5 fields as one JSON-able snapshot (the log entry's body)."""

        def iso(value: dt.date | dt.datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "disclosure_id": self.id,
            "received_at": iso(self.received_at),
            "channel": self.channel,
            "requester_kind": self.requester_kind,
            "requester_name": self.requester_name,
            "requester_agency": self.requester_agency,
            "badge_or_employee_id": self.requester_badge,
            "requester_contact": self.requester_contact,
            "identity_verified_by": self.identity_verified_by,
            "legal_basis": self.legal_basis,
            "instrument_ref": self.instrument_ref,
            "case_or_incident_no": self.case_or_incident_no,
            "stated_purpose": self.stated_purpose,
            "consent_ref": self.consent_ref,
            "scope_requested": self.scope_requested,
            "elements_disclosed": list(self.elements_disclosed),
            "accounts_affected": list(self.accounts_affected),
            "record_count": self.record_count,
            "bulk_flag": self.bulk_flag,
            "public_interest_determination": self.public_interest_determination,
            "reviewed_by": self.reviewed_by,
            "approved_by": self.approved_by,
            "approved_role": self.approved_role,
            "decision": self.decision,
            "denial_reason": self.denial_reason,
            "disclosed_at": iso(self.disclosed_at),
            "delivery_method": self.delivery_method,
            "encryption": self.encryption,
            "customer_notified": self.customer_notified,
            "notification_date": iso(self.notification_date),
            "retention_until": iso(self.retention_until),
            "linked_pra_request_no": self.linked_pra_request_no,
            "status": self.status,
        }


class DisclosureLogEntry(Base):
    """One append-only step of a disclosure (decided, approved, released), hash-chained."""

    __tablename__ = "agency_disclosure_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("agency_disclosure.id"), index=True)
    step: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    entry: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_entry_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    audit_seq: Mapped[int] = mapped_column(Integer)


# For tests and tools that build the tables without Alembic (the migration is the source of truth).
TABLES = [Base.metadata.tables[name] for name in ("agency_disclosure", "agency_disclosure_log")]
