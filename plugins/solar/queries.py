"""Reads and writes of the solar plugin's callback queue (``solar_voicemail``)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plugins.solar.models import Voicemail

# The queue's "returned" and "all" views show the newest messages, at most this many.
LISTED = 500


async def open_voicemails(session: AsyncSession) -> list[Voicemail]:
    """Messages not yet returned, oldest first (the order the team calls back)."""
    rows = await session.scalars(
        select(Voicemail).where(Voicemail.returned_at.is_(None)).order_by(Voicemail.left_at, Voicemail.id)
    )
    return list(rows)


async def voicemails(session: AsyncSession, status: Literal["open", "returned", "all"]) -> list[Voicemail]:
    if status == "open":
        return await open_voicemails(session)
    query = select(Voicemail).order_by(Voicemail.left_at.desc(), Voicemail.id.desc()).limit(LISTED)
    if status == "returned":
        query = query.where(Voicemail.returned_at.is_not(None))
    return list(await session.scalars(query))


async def by_call_id(session: AsyncSession, call_id: str) -> Voicemail | None:
    """The message the phone system already left for this call, if any (a retried post)."""
    found: Voicemail | None = await session.scalar(select(Voicemail).where(Voicemail.call_id == call_id))
    return found


async def for_update(session: AsyncSession, voicemail_id: int) -> Voicemail | None:
    return await session.get(Voicemail, voicemail_id, with_for_update=True)


async def late(session: AsyncSession, now: dt.datetime) -> list[Voicemail]:
    """Messages past their callback deadline and still not returned, most overdue first."""
    rows = await session.scalars(
        select(Voicemail)
        .where(Voicemail.returned_at.is_(None), Voicemail.due_at < now)
        .order_by(Voicemail.due_at)
    )
    return list(rows)
