"""Tables of the e-team plugin (all prefixed ``eteam_``).

``eteam_incident`` is the e-team's queue: one row per Customer Connect incident pulled while unresolved,
keyed by its reference number (``YYMMDD-NNNNNN``, docs/ccb-domain.md §3), with the customer's text (redacted
before storage), the account number found in it, when it was received, its status type and when the
e-team first answered. ``eteam_response`` records each answer: channel, text, whether action was taken,
the Customer Connect thread it became and the CCB customer contact that notes it (written with the answer,
or added to it afterwards when the action on the account followed the answer). Times are stored in UTC
(``UTCDateTime``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.contract.db import Base, UTCDateTime


class Incident(Base):
    """A Contact Us request in the e-team queue, as last pulled from Customer Connect."""

    __tablename__ = "eteam_incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference_number: Mapped[str] = mapped_column(String(13), unique=True)
    cc_id: Mapped[int] = mapped_column(Integer, unique=True)
    subject: Mapped[str] = mapped_column(String(240))
    customer_text: Mapped[str] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(String(10), index=True, nullable=True)
    contact_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    # Customer Connect's last update; the threads are read again only when it moves.
    cc_updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    pulled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Response(Base):
    """One answer of the e-team to an incident, by e-mail or by phone."""

    __tablename__ = "eteam_response"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("eteam_incident.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    action_taken: Mapped[bool] = mapped_column(Boolean)
    account_id: Mapped[str | None] = mapped_column(String(10), nullable=True)
    contact_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    cc_thread_id: Mapped[int] = mapped_column(Integer)
    ccb_contact_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    responded_by: Mapped[str] = mapped_column(String(64))
    responded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# For tests and tools that build the tables without Alembic (the migration is the source of truth).
TABLES = [Base.metadata.tables[name] for name in ("eteam_incident", "eteam_response")]
