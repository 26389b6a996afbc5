"""Reads and writes of the agency lookup's own tables: disclosures and the hash-chained disclosure log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.contract.inputs import InputError
from plugins.agency_lookup.models import Disclosure, DisclosureLogEntry
from plugins.agency_lookup.rules import GENESIS, chain_entry, entry_digest


async def get(session: AsyncSession, disclosure_id: int, *, lock: bool = False) -> Disclosure:
    """One disclosure (locked for update when ``lock``); an unknown id is a 404 naming it."""
    found = await session.get(Disclosure, disclosure_id, with_for_update=lock)
    if found is None:
        raise InputError("disclosure_id", f"no disclosure #{disclosure_id}", 404)
    return found


async def recent(session: AsyncSession, *, status: str | None = None, limit: int = 500) -> list[Disclosure]:
    """Disclosures newest first, optionally only those in ``status``."""
    query = select(Disclosure).order_by(Disclosure.id.desc()).limit(limit)
    if status:
        query = query.where(Disclosure.status == status)
    return list(await session.scalars(query))


async def log_entries(session: AsyncSession, disclosure_id: int) -> list[DisclosureLogEntry]:
    """A disclosure's log entries in the order they were written."""
    rows = await session.scalars(
        select(DisclosureLogEntry)
        .where(DisclosureLogEntry.disclosure_id == disclosure_id)
        .order_by(DisclosureLogEntry.id)
    )
    return list(rows)


async def last_log_entry(session: AsyncSession) -> DisclosureLogEntry | None:
    found: DisclosureLogEntry | None = await session.scalar(
        select(DisclosureLogEntry).order_by(DisclosureLogEntry.id.desc()).limit(1)
    )
    return found


async def monthly_counts(
    session: AsyncSession, start: dt.datetime, end: dt.datetime
) -> list[tuple[str, str, str, int]]:
    """(legal basis or "none", agency, decision, count) of the requests received in [start, end)."""
    rows = await session.execute(
        select(
            Disclosure.legal_basis,
            Disclosure.requester_agency,
            Disclosure.decision,
            func.count(Disclosure.id),
        )
        .where(Disclosure.received_at >= start, Disclosure.received_at < end)
        .group_by(Disclosure.legal_basis, Disclosure.requester_agency, Disclosure.decision)
        .order_by(Disclosure.legal_basis, Disclosure.requester_agency, Disclosure.decision)
    )
    return [(basis or "none", agency, decision, int(n)) for basis, agency, decision, n in rows]


async def unsupported_releases(session: AsyncSession) -> list[Disclosure]:
    """Released disclosures without a basis, with a denial, or without the second person's approval."""
    released = await session.scalars(select(Disclosure).where(Disclosure.disclosed_at.is_not(None)))
    logged = set(
        await session.scalars(
            select(DisclosureLogEntry.disclosure_id).where(DisclosureLogEntry.step == "released")
        )
    )
    return [
        d
        for d in released
        if d.legal_basis is None
        or d.decision == "denied"
        or (d.needs_approval and (d.approved_by is None or d.approved_by == d.reviewed_by))
        or d.id not in logged
    ]


async def log_chain_problems(session: AsyncSession) -> list[str]:
    """Walk the disclosure log: every entry links to the one before and matches its own fields."""
    problems: list[str] = []
    prev = GENESIS
    for row in await session.scalars(select(DisclosureLogEntry).order_by(DisclosureLogEntry.id)):
        if row.prev_entry_hash != prev:
            problems.append(f"log entry {row.id}: link to the previous entry is broken")
        if chain_entry(row.prev_entry_hash, row.step, entry_digest(row.entry)) != row.entry_hash:
            problems.append(f"log entry {row.id}: contents do not match its hash")
        prev = row.entry_hash
    return problems
