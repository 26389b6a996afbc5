"""Reads and writes of the correspondence plugin's own table, ``corr_letter``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from plugins.correspondence.models import CorrLetter
from plugins.correspondence.rules import LetterStatus


async def by_key(session: AsyncSession, key: str) -> CorrLetter | None:
    found: CorrLetter | None = await session.scalar(
        select(CorrLetter).where(CorrLetter.idempotency_key == key)
    )
    return found


async def get(session: AsyncSession, letter_id: int, *, lock: bool = False) -> CorrLetter | None:
    found: CorrLetter | None = await session.get(CorrLetter, letter_id, with_for_update=lock)
    return found


async def recent(
    session: AsyncSession, *, account_id: str | None = None, status: str | None = None, limit: int = 200
) -> list[CorrLetter]:
    """Letters newest first; the documents stay in the database until one is asked for."""
    query = select(CorrLetter).options(defer(CorrLetter.document)).order_by(CorrLetter.id.desc()).limit(limit)
    if account_id is not None:
        query = query.where(CorrLetter.account_id == account_id)
    if status is not None:
        query = query.where(CorrLetter.status == status)
    return list(await session.scalars(query))


async def waiting_to_be_mailed(session: AsyncSession) -> list[Any]:
    """(id, account_id, template_id, created_at) of every queued or printed letter, oldest first."""
    rows = await session.execute(
        select(CorrLetter.id, CorrLetter.account_id, CorrLetter.template_id, CorrLetter.created_at)
        .where(CorrLetter.status.in_([LetterStatus.QUEUED.value, LetterStatus.PRINTED.value]))
        .order_by(CorrLetter.created_at)
    )
    return list(rows.all())
