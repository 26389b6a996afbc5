"""Tables of the outage plugin (all prefixed ``outage_``).

An outage keeps its area as three JSON lists (service-area codes, ZIP codes, premise ids) because the area
is read whole and matched in Python (``rules.area_contains``); the number of active outages is small.
Every trouble ticket the CCB announces gets one ``outage_ticket`` row, keyed on its field activity, which
both dedupes redeliveries and feeds the burst window. Times are stored in UTC (``UTCDateTime``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.contract.db import Base, UTCDateTime
from plugins.outage.rules import OutageFacts, make_area


class Outage(Base):
    """A declared outage: electric or water, where, why, and when service should be back."""

    __tablename__ = "outage_outage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    utility: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    cause: Mapped[str] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    service_areas: Mapped[list[str]] = mapped_column(JSON)
    zips: Mapped[list[str]] = mapped_column(JSON)
    premise_ids: Mapped[list[str]] = mapped_column(JSON)
    estimated_restoration: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the outage last became active without an ETR (None while it has one): the ETR check's clock.
    etr_missing_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    declared_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    declared_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(64))
    restored_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    restored_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # A repeated declaration (double-submitted form, client retry) carries the same key: one record.
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True, nullable=True)
    suggestion_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    def facts(self) -> OutageFacts:
        return OutageFacts(
            outage_id=self.id,
            utility=self.utility,
            cause=self.cause,
            area=make_area(self.service_areas, self.zips, self.premise_ids),
            estimated_restoration=self.estimated_restoration,
        )


class OutageTicket(Base):
    """A trouble ticket (a CCB TROUBLE field activity) as the plugin saw it, and what it did with it."""

    __tablename__ = "outage_ticket"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    field_activity_id: Mapped[str] = mapped_column(String(20), unique=True)
    premise_id: Mapped[str] = mapped_column(String(20), index=True)
    burst_key: Mapped[str | None] = mapped_column(String(40), index=True, nullable=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    action: Mapped[str] = mapped_column(String(24))
    outage_id: Mapped[int | None] = mapped_column(ForeignKey("outage_outage.id"), index=True, nullable=True)
    remarks: Mapped[str | None] = mapped_column(Text, nullable=True)


class OutageSuggestion(Base):
    """A suggested outage raised by a burst of trouble tickets, waiting for a lead to confirm or dismiss."""

    __tablename__ = "outage_suggestion"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    burst_key: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    ticket_count: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outage_id: Mapped[int | None] = mapped_column(ForeignKey("outage_outage.id"), nullable=True)


# For tests and tools that build the tables without Alembic (the migration is the source of truth).
TABLES = [Base.metadata.tables[name] for name in ("outage_outage", "outage_ticket", "outage_suggestion")]
