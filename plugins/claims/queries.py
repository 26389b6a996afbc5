"""Reads and writes of the claims plugin's own tables: claims, their documents, incident reports."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from core.contract.inputs import InputError
from plugins.claims.models import Claim, ClaimDocument
from plugins.claims.rules import UNDECIDED


async def by_key(session: AsyncSession, key: str) -> Claim | None:
    found: Claim | None = await session.scalar(select(Claim).where(Claim.idempotency_key == key))
    return found


async def load(session: AsyncSession, claim_id: int, *, lock: bool = False) -> Claim:
    """One claim (locked for update when ``lock``); an unknown id is a 404 naming it."""
    found: Claim | None = await session.get(Claim, claim_id, with_for_update=lock)
    if found is None:
        raise InputError("claim_id", f"no claim #{claim_id}", 404)
    return found


async def find(session: AsyncSession, claim_id: int) -> Claim | None:
    found: Claim | None = await session.get(Claim, claim_id)
    return found


async def listed(
    session: AsyncSession, *, status: str | None = None, account_id: str | None = None, limit: int = 500
) -> list[Claim]:
    """Claims in filing order: in ``status``, else one account's, else those still undecided."""
    query = select(Claim).order_by(Claim.filed_at, Claim.id).limit(limit)
    if status is not None:
        query = query.where(Claim.status == status)
    elif account_id is None:
        query = query.where(Claim.status.in_([s.value for s in UNDECIDED]))
    if account_id is not None:
        query = query.where(Claim.account_id == account_id)
    return list(await session.scalars(query))


async def undecided(session: AsyncSession, *, limit: int = 500) -> list[Claim]:
    """Claims waiting for a decision, oldest first (the order the SLA makes them due)."""
    query = select(Claim).where(Claim.status.in_([s.value for s in UNDECIDED]))
    return list(await session.scalars(query.order_by(Claim.filed_at, Claim.id).limit(limit)))


async def decided_since(session: AsyncSession, since: dt.datetime, *, limit: int = 50) -> list[Claim]:
    """Claims decided from ``since`` on, newest first: what the review desk did lately."""
    query = (
        select(Claim)
        .where(Claim.decided_at.is_not(None), Claim.decided_at >= since)
        .order_by(Claim.decided_at.desc(), Claim.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(query))


async def documents(session: AsyncSession, claim_id: int) -> list[ClaimDocument]:
    """One claim's documents in upload order."""
    return list(
        await session.scalars(
            select(ClaimDocument).where(ClaimDocument.claim_id == claim_id).order_by(ClaimDocument.id)
        )
    )


async def documents_of(session: AsyncSession, claim_ids: list[int]) -> dict[int, list[ClaimDocument]]:
    """The documents of several claims at once, without their bytes (a page lists them, never shows them)."""
    found: dict[int, list[ClaimDocument]] = {i: [] for i in claim_ids}
    if not claim_ids:
        return found
    rows = await session.scalars(
        select(ClaimDocument)
        .where(ClaimDocument.claim_id.in_(claim_ids))
        .options(defer(ClaimDocument.data))
        .order_by(ClaimDocument.id)
    )
    for doc in rows:
        found[doc.claim_id].append(doc)
    return found


async def document(session: AsyncSession, claim_id: int, document_id: int) -> ClaimDocument:
    """A document of ``claim_id``; another claim's or an unknown one is a 404 naming it."""
    doc = await session.get(ClaimDocument, document_id)
    if doc is None or doc.claim_id != claim_id:
        raise InputError("document_id", f"no document #{document_id} on claim #{claim_id}", 404)
    return doc


async def undecided_by_id(session: AsyncSession) -> list[Claim]:
    """Every undecided claim in id order (what the SLA check walks)."""
    query = select(Claim).where(Claim.status.in_([s.value for s in UNDECIDED])).order_by(Claim.id)
    return list(await session.scalars(query))
