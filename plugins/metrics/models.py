"""Tables of the metrics plugin (all prefixed ``metrics_``); their reads and writes are in :mod:`.queries`.

``metrics_tally`` holds the counts: one row per local day, section, staff member and kind. ``metrics_seen``
remembers every dedupe key already counted and where it was filed, so a redelivered event adds nothing and a
more specific event for the same work (see :mod:`plugins.metrics.rules`) can re-file it.
``metrics_contact`` remembers each contact's channel from ``hub.contact.opened`` until it is wrapped up.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from core.contract.db import Base, UTCDateTime


class MetricsTally(Base):
    """How many of ``kind`` one staff member did in one section on one local day."""

    __tablename__ = "metrics_tally"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    section: Mapped[str] = mapped_column(String(40), primary_key=True)
    staff: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class MetricsSeen(Base):
    """A dedupe key already counted, and the tally row it went to (a refinement moves it)."""

    __tablename__ = "metrics_seen"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    section: Mapped[str] = mapped_column(String(40))
    staff: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class MetricsContact(Base):
    """A contact's channel, kept from its opening so its wrap-up can be counted by channel."""

    __tablename__ = "metrics_contact"

    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# For tests and tools that build the tables without Alembic (the migration is the source of truth).
TABLES: list[Table] = [
    Base.metadata.tables[model.__tablename__] for model in (MetricsTally, MetricsSeen, MetricsContact)
]
