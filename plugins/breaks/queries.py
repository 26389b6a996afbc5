"""Reads and writes of the breaks tables (the calls telephony recorded come through ``PhoneDesk``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from plugins.breaks.models import BreaksBreak, BreaksSchedule, BreaksShift


async def rows(session: AsyncSession, schedule_id: int) -> tuple[list[BreaksShift], list[BreaksBreak]]:
    """A schedule's shifts, and its breaks by agent and start."""
    shifts = list(
        await session.scalars(
            select(BreaksShift).where(BreaksShift.schedule_id == schedule_id).order_by(BreaksShift.id)
        )
    )
    breaks = list(
        await session.scalars(
            select(BreaksBreak)
            .where(BreaksBreak.schedule_id == schedule_id)
            .order_by(BreaksBreak.agent_id, BreaksBreak.start_minute, BreaksBreak.id)
        )
    )
    return shifts, breaks


async def schedules_of(session: AsyncSession, day: dt.date) -> list[BreaksSchedule]:
    """The schedules of a day, newest first."""
    found = await session.scalars(
        select(BreaksSchedule).where(BreaksSchedule.day == day).order_by(BreaksSchedule.id.desc())
    )
    return list(found)


async def published_others(session: AsyncSession, s: BreaksSchedule, status: str) -> list[BreaksSchedule]:
    """The other schedules of ``s``'s day in ``status`` (the published one a new publication supersedes)."""
    found = await session.scalars(
        select(BreaksSchedule).where(
            BreaksSchedule.day == s.day, BreaksSchedule.status == status, BreaksSchedule.id != s.id
        )
    )
    return list(found)


async def drop_breaks(session: AsyncSession, schedule_id: int) -> None:
    await session.execute(delete(BreaksBreak).where(BreaksBreak.schedule_id == schedule_id))
