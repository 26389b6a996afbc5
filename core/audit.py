"""The append-only, hash-chained audit log and its verifier.

Each record's hash covers the previous record's hash and the record's own canonical fields, so editing a
row breaks its hash, deleting a row breaks the next row's link, and deleting the newest rows no longer
matches the head row kept beside the chain. Appends serialize: SQLite writers already hold the write lock
(BEGIN IMMEDIATE), PostgreSQL takes a transaction-level advisory lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.models import AuditHead, AuditRecord
from core.redact import redact

GENESIS = "0" * 64
_AUDIT_LOCK_KEY = 0x4155444954  # "AUDIT": the advisory-lock key on PostgreSQL


def _canonical(
    seq: int, at: dt.datetime, actor: str, action: str, target: str, detail: dict[str, Any]
) -> bytes:
    at_utc = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return msgspec.json.encode([seq, at_utc, actor, action, target, detail], order="sorted")


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + b"|" + canonical).hexdigest()


def _scrub(value: Any) -> Any:
    """Audit details are text a person reads later: mask card numbers and SSNs in every string."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


class AuditLog:
    """Appends audit records inside the caller's transaction."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def append(
        self,
        session: AsyncSession,
        *,
        actor: str,
        action: str,
        target: str,
        detail: dict[str, Any] | None = None,
    ) -> AuditRecord:
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK_KEY})
        head = await session.get(AuditHead, 1, with_for_update=True)
        prev_seq, prev_hash = (head.seq, head.hash) if head else (0, GENESIS)
        seq = prev_seq + 1
        at = self._clock.now()
        clean = _scrub(detail or {})
        digest = chain_hash(prev_hash, _canonical(seq, at, actor, action, target, clean))
        record = AuditRecord(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            target=target,
            detail=clean,
            prev_hash=prev_hash,
            hash=digest,
        )
        session.add(record)
        if head is None:
            session.add(AuditHead(id=1, seq=seq, hash=digest))
        else:
            head.seq, head.hash = seq, digest
        await session.flush()
        return record


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    records: int
    problems: list[str]


async def verify_chain(session: AsyncSession) -> VerifyResult:
    """Walk the whole chain; report every edited, deleted or re-ordered record."""
    problems: list[str] = []
    prev_hash = GENESIS
    expected_seq = 1
    count = 0
    result = await session.stream(
        select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=1000)
    )
    async for rec in result.scalars():
        count += 1
        if rec.seq != expected_seq:
            problems.append(f"records {expected_seq}..{rec.seq - 1} are missing (deleted)")
        if rec.prev_hash != prev_hash:
            problems.append(f"record {rec.seq}: link to the previous record is broken")
        digest = chain_hash(
            rec.prev_hash, _canonical(rec.seq, rec.at, rec.actor, rec.action, rec.target, rec.detail)
        )
        if digest != rec.hash:
            problems.append(f"record {rec.seq}: contents do not match its hash (edited)")
        prev_hash = rec.hash
        expected_seq = rec.seq + 1
    head = await session.get(AuditHead, 1)
    if head is None and count:
        problems.append("the chain head is missing")
    elif head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        problems.append(f"the newest records after {expected_seq - 1} are missing (head is at {head.seq})")
    return VerifyResult(ok=not problems, records=count, problems=problems)
