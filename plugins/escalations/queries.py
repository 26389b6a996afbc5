"""Reads and writes of the escalations plugin's own tables (each takes the caller's session)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from plugins.escalations.models import Escalation, SectionMail
from plugins.escalations.rules import Queue, Status

LIST_LIMIT = 500


async def open_in_queues(session: AsyncSession, queues: list[str]) -> list[Escalation]:
    rows = await session.scalars(
        select(Escalation)
        .where(Escalation.queue.in_(queues), Escalation.status == Status.OPEN)
        .order_by(Escalation.due_at, Escalation.id)
    )
    return list(rows)


async def decided_in_queues(session: AsyncSession, queues: list[str], limit: int = 20) -> list[Escalation]:
    """The queues' latest decisions and resolutions, newest first (what the lead's page shows below)."""
    rows = await session.scalars(
        select(Escalation)
        .where(Escalation.queue.in_(queues), Escalation.status != Status.OPEN)
        .order_by(func.coalesce(Escalation.resolved_at, Escalation.decided_at).desc(), Escalation.id.desc())
        .limit(limit)
    )
    return list(rows)


async def by_key(session: AsyncSession, key: str) -> Escalation | None:
    found: Escalation | None = await session.scalar(
        select(Escalation).where(Escalation.idempotency_key == key)
    )
    return found


async def escalation(session: AsyncSession, escalation_id: int, *, lock: bool = False) -> Escalation | None:
    return await session.get(Escalation, escalation_id, with_for_update=lock)


async def escalations(session: AsyncSession, queue: Queue | None, status: Status | None) -> list[Escalation]:
    """Escalations by deadline, optionally of one queue and one status."""
    query = select(Escalation).order_by(Escalation.due_at, Escalation.id).limit(LIST_LIMIT)
    if queue is not None:
        query = query.where(Escalation.queue == queue)
    if status is not None:
        query = query.where(Escalation.status == status)
    return list(await session.scalars(query))


async def still_open_of(session: AsyncSession, actor: str) -> list[int]:
    """The ids of the requester's escalations still waiting (open) or to act on (approved)."""
    rows = await session.scalars(
        select(Escalation.id).where(
            Escalation.requested_by == actor, Escalation.status.in_([Status.OPEN, Status.APPROVED])
        )
    )
    return list(rows)


async def overdue_in(session: AsyncSession, queues: list[Queue], now: dt.datetime) -> list[Escalation]:
    """Open escalations of these queues past their deadline, most overdue first (the checks)."""
    rows = await session.scalars(
        select(Escalation)
        .where(
            Escalation.queue.in_([q.value for q in queues]),
            Escalation.status == Status.OPEN,
            Escalation.due_at < now,
        )
        .order_by(Escalation.due_at)
    )
    return list(rows)


async def section_mail_by_key(session: AsyncSession, key: str) -> SectionMail | None:
    found: SectionMail | None = await session.scalar(
        select(SectionMail).where(SectionMail.idempotency_key == key)
    )
    return found
