"""Reads and writes of the Serving Our Seniors plugin's own tables (each takes the caller's session)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plugins.sos.models import ContactFlag, ExtraContact, Referral, Routing
from plugins.sos.rules import OPEN_STATUSES, Status

LIST_LIMIT = 500


async def open_referrals(session: AsyncSession) -> list[Referral]:
    rows = await session.scalars(
        select(Referral)
        .where(Referral.status.in_([str(s) for s in OPEN_STATUSES]))
        .order_by(Referral.filed_at, Referral.id)
    )
    return list(rows)


async def referrals_in(session: AsyncSession, status: Status) -> list[Referral]:
    query = select(Referral).where(Referral.status == status).order_by(Referral.id.desc()).limit(LIST_LIMIT)
    return list(await session.scalars(query))


async def referral(session: AsyncSession, referral_id: int, *, lock: bool = False) -> Referral | None:
    return await session.get(Referral, referral_id, with_for_update=lock)


async def referral_by_key(session: AsyncSession, key: str) -> Referral | None:
    found: Referral | None = await session.scalar(select(Referral).where(Referral.idempotency_key == key))
    return found


async def extra_contacts(session: AsyncSession, referral_id: int) -> list[ExtraContact]:
    rows = await session.scalars(
        select(ExtraContact).where(ExtraContact.referral_id == referral_id).order_by(ExtraContact.id)
    )
    return list(rows)


async def routings(session: AsyncSession, referral_id: int) -> list[Routing]:
    rows = await session.scalars(
        select(Routing).where(Routing.referral_id == referral_id).order_by(Routing.id)
    )
    return list(rows)


async def routed_needs(session: AsyncSession, referral_id: int) -> list[str]:
    return list(await session.scalars(select(Routing.need).where(Routing.referral_id == referral_id)))


async def contact_flag(session: AsyncSession, contact_id: str, *, lock: bool = False) -> ContactFlag | None:
    return await session.get(ContactFlag, contact_id, with_for_update=lock)


async def referral_filed_from(session: AsyncSession, contact_id: str) -> bool:
    found = await session.scalar(select(Referral.id).where(Referral.contact_id == contact_id).limit(1))
    return found is not None
