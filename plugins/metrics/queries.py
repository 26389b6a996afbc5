"""Reads and writes of the metrics tables, shared by the tally handler, the API, the CLI and the check."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from plugins.metrics.models import MetricsSeen, MetricsTally
from plugins.metrics.rules import Row


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
