"""Tables of the metrics plugin (all prefixed ``metrics_``) and the queries the API, CLI and checks share.

``metrics_tally`` holds the counts: one row per local day, section, staff member and kind. ``metrics_seen``
remembers every dedupe key already counted and where it was filed, so a redelivered event adds nothing and a
more specific event for the same work (see :mod:`plugins.metrics.service`) can re-file it.
``metrics_contact`` remembers each contact's channel from ``hub.contact.opened`` until it is wrapped up.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from plugins.metrics.service import Row


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


async def bump(session: AsyncSession, day: dt.date, section: str, staff: str, kind: str, by: int) -> None:
    """Add ``by`` to one tally row, creating it at need.

    The UPDATE comes first so that concurrent handlers never read-modify-write a count; a racing INSERT of
    the same new row fails on the primary key and the caller retries the whole transaction.
    """
    key = (
        MetricsTally.day == day,
        MetricsTally.section == section,
        MetricsTally.staff == staff,
        MetricsTally.kind == kind,
    )
    result = await session.execute(update(MetricsTally).where(*key).values(count=MetricsTally.count + by))
    if getattr(result, "rowcount", 0) == 0:
        session.add(MetricsTally(day=day, section=section, staff=staff, kind=kind, count=by))
        await session.flush()


async def rows_between(
    session: AsyncSession,
    first: dt.date,
    last: dt.date,
    *,
    section: str | None = None,
    staff: str | None = None,
) -> list[Row]:
    """Non-zero tally rows from ``first`` to ``last`` inclusive, by day, section, staff and kind."""
    query = (
        select(MetricsTally)
        .where(MetricsTally.day >= first, MetricsTally.day <= last, MetricsTally.count != 0)
        .order_by(MetricsTally.day, MetricsTally.section, MetricsTally.staff, MetricsTally.kind)
    )
    if section is not None:
        query = query.where(MetricsTally.section == section)
    if staff is not None:
        query = query.where(MetricsTally.staff == staff)
    return [
        Row(day=t.day, section=t.section, staff=t.staff, kind=t.kind, count=t.count)
        for t in await session.scalars(query)
    ]


async def totals(session: AsyncSession) -> tuple[int, int]:
    """(sum of every tally, number of keys seen): equal unless a count was lost or doubled."""
    counted = await session.scalar(select(func.coalesce(func.sum(MetricsTally.count), 0)))
    seen = await session.scalar(select(func.count()).select_from(MetricsSeen))
    return int(counted or 0), int(seen or 0)
