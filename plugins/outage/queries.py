"""Reads and writes of the outage plugin's own tables (each takes the caller's session)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plugins.outage.models import Outage, OutageSuggestion, OutageTicket
from plugins.outage.rules import OutageStatus, SuggestionStatus, TicketAction

LIST_LIMIT = 500


async def active_outages(session: AsyncSession) -> list[Outage]:
    rows = await session.scalars(
        select(Outage).where(Outage.status == OutageStatus.ACTIVE).order_by(Outage.declared_at, Outage.id)
    )
    return list(rows)


async def outages(session: AsyncSession, status: OutageStatus | None) -> list[Outage]:
    """The newest outages first, optionally of one status."""
    query = select(Outage).order_by(Outage.declared_at.desc(), Outage.id.desc()).limit(LIST_LIMIT)
    if status is not None:
        query = query.where(Outage.status == status)
    return list(await session.scalars(query))


async def outage(session: AsyncSession, outage_id: int, *, lock: bool = False) -> Outage | None:
    return await session.get(Outage, outage_id, with_for_update=lock)


async def outage_by_key(session: AsyncSession, key: str) -> Outage | None:
    found: Outage | None = await session.scalar(select(Outage).where(Outage.idempotency_key == key))
    return found


async def tickets_of(session: AsyncSession, outage_id: int) -> list[OutageTicket]:
    rows = await session.scalars(
        select(OutageTicket).where(OutageTicket.outage_id == outage_id).order_by(OutageTicket.id)
    )
    return list(rows)


async def ticket_seen(session: AsyncSession, field_activity_id: str) -> bool:
    found = await session.scalar(
        select(OutageTicket.id).where(OutageTicket.field_activity_id == field_activity_id)
    )
    return found is not None


async def dispatched_since(session: AsyncSession, key: str, since: dt.datetime) -> list[dt.datetime]:
    """When this area's tickets that no outage explained arrived, after ``since`` (the burst window)."""
    rows = await session.scalars(
        select(OutageTicket.received_at).where(
            OutageTicket.burst_key == key,
            OutageTicket.action == TicketAction.DISPATCHED,
            OutageTicket.received_at > since,
        )
    )
    return list(rows)


async def suggestions(session: AsyncSession, status: SuggestionStatus | None) -> list[OutageSuggestion]:
    """The newest suggestions first, optionally of one status."""
    query = select(OutageSuggestion).order_by(OutageSuggestion.id.desc()).limit(LIST_LIMIT)
    if status is not None:
        query = query.where(OutageSuggestion.status == status)
    return list(await session.scalars(query))


async def open_suggestions(session: AsyncSession) -> list[OutageSuggestion]:
    """Suggestions waiting for a lead, oldest first (the board)."""
    rows = await session.scalars(
        select(OutageSuggestion)
        .where(OutageSuggestion.status == SuggestionStatus.OPEN)
        .order_by(OutageSuggestion.id)
    )
    return list(rows)


async def suggestion(
    session: AsyncSession, suggestion_id: int, *, lock: bool = False
) -> OutageSuggestion | None:
    return await session.get(OutageSuggestion, suggestion_id, with_for_update=lock)


async def open_suggestion(session: AsyncSession, key: str) -> OutageSuggestion | None:
    found: OutageSuggestion | None = await session.scalar(
        select(OutageSuggestion)
        .where(OutageSuggestion.burst_key == key, OutageSuggestion.status == SuggestionStatus.OPEN)
        .order_by(OutageSuggestion.id.desc())
        .limit(1)
    )
    return found


async def suggestions_waiting_since(session: AsyncSession, cutoff: dt.datetime) -> list[OutageSuggestion]:
    """Open suggestions raised before ``cutoff`` (the check)."""
    rows = await session.scalars(
        select(OutageSuggestion).where(
            OutageSuggestion.status == SuggestionStatus.OPEN, OutageSuggestion.raised_at < cutoff
        )
    )
    return list(rows)
