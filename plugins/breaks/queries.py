"""Reads and writes of the breaks tables, and the one read outside them: the calls telephony recorded.

:func:`recorded_calls` reads the inbound calls the hub's telephony part recorded (``tel_dialog``), for a
forecast from history. Read only, and only the columns a forecast needs; the telephony part stays the only
writer. Its table comes from the telephony part until the contract offers recorded calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.telephony.models import TelDialog
from plugins.breaks.forecast import RecordedCall, handle_seconds
from plugins.breaks.models import BreaksBreak, BreaksSchedule, BreaksShift

# The telephony part's call type for a customer's call into a queue (core.telephony.dialogs.CallType.ACD_IN);
# consult legs are agents calling each other, not offered traffic.
INBOUND_CALL_TYPE = "ACD_IN"


async def recorded_calls(
    session: AsyncSession, spans: Sequence[tuple[dt.datetime, dt.datetime]], queue: str | None = None
) -> list[RecordedCall]:
    """Inbound calls that arrived in any of the UTC ``spans`` (optionally into one queue), with the handle
    time of those that ended (service.handle_seconds); abandoned calls are arrivals too (offered traffic)."""
    if not spans:
        return []
    query = select(TelDialog.created_at, TelDialog.ended_at, TelDialog.snapshot).where(
        TelDialog.call_type == INBOUND_CALL_TYPE,
        or_(*(and_(TelDialog.created_at >= a, TelDialog.created_at < b) for a, b in spans)),
    )
    if queue is not None:
        query = query.where(TelDialog.queue_name == queue)
    found = []
    for arrived, ended, snapshot in await session.execute(query):
        handled = None
        if ended is not None and isinstance(snapshot, dict):
            handled = handle_seconds(snapshot.get("participants"))
        found.append(RecordedCall(arrived, handled))
    return found


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
