"""Reads of the e-team tables: the queue, one incident, responses, answered incidents still open."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plugins.eteam.models import Incident, Response
from plugins.eteam.rules import Status


async def by_cc_id(session: AsyncSession, cc_id: int) -> Incident | None:
    found: Incident | None = await session.scalar(select(Incident).where(Incident.cc_id == cc_id))
    return found


async def known_by_cc_id(session: AsyncSession) -> dict[int, Incident]:
    """Every incident in the queue's table, by its Customer Connect id."""
    return {r.cc_id: r for r in await session.scalars(select(Incident))}


async def unanswered(session: AsyncSession) -> list[Incident]:
    """Unresolved incidents not answered yet, oldest first (what the unanswered check looks at)."""
    query = (
        select(Incident)
        .where(Incident.status == Status.UNRESOLVED, Incident.answered_at.is_(None))
        .order_by(Incident.received_at)
    )
    return list(await session.scalars(query))


async def by_reference(session: AsyncSession, reference_number: str) -> Incident | None:
    found: Incident | None = await session.scalar(
        select(Incident).where(Incident.reference_number == reference_number)
    )
    return found


async def queue(session: AsyncSession, *, include_answered: bool = False) -> list[Incident]:
    """Unresolved incidents, oldest first; answered ones only when asked for."""
    query = select(Incident).where(Incident.status == Status.UNRESOLVED)
    if not include_answered:
        query = query.where(Incident.answered_at.is_(None))
    return list(await session.scalars(query.order_by(Incident.received_at, Incident.id).limit(1000)))


async def responses_of(session: AsyncSession, incident_id: int) -> list[Response]:
    rows = await session.scalars(
        select(Response).where(Response.incident_id == incident_id).order_by(Response.id)
    )
    return list(rows)


async def answered_open(session: AsyncSession, *, limit: int = 100) -> list[Incident]:
    """Answered incidents still open in Customer Connect (unresolved or waiting), latest answer first: where
    a CCB note is added once action is taken after the answer."""
    query = (
        select(Incident)
        .where(Incident.answered_at.is_not(None), Incident.status.in_([Status.UNRESOLVED, Status.WAITING]))
        .order_by(Incident.answered_at.desc(), Incident.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(query))


async def responses_by_incident(session: AsyncSession, incident_ids: list[int]) -> dict[int, list[Response]]:
    """The responses of several incidents at once, oldest first."""
    found: dict[int, list[Response]] = {i: [] for i in incident_ids}
    if not incident_ids:
        return found
    rows = await session.scalars(
        select(Response).where(Response.incident_id.in_(incident_ids)).order_by(Response.id)
    )
    for r in rows:
        found[r.incident_id].append(r)
    return found
