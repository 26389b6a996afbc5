"""The local CCB's shared base: what every area builds on.

The database, clock, identity hash key, id generator, rate configuration, event writer and audit log; the
one-transaction idempotent ``_write`` every port write goes through (ARCHITECTURE §7); ``_get`` with its
``NotFound``; and the lookups several areas share — an account's SAs and ledger, an SP's meter and SA, a
meter's reads and registers (§1.4), SA status transitions (§1.5) and financial transactions (§1.1, §1.8).
Also the limits and rules constants (docs/rules.md §4.2, §6.2, §6.3) and the free-text cleaner (ARCHITECTURE
§6).

Section signs (§) cite docs/ccb-domain.md.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import msgspec
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState

from core.audit import AuditLog
from core.ccb import codes
from core.ccb import events as ev
from core.ccb import models as m
from core.ccb.batch import KeyedWrite
from core.ccb.billing import (
    LedgerEntry,
    local_date,
)
from core.ccb.errors import CcbError, IllegalTransition, Invalid, NotFound
from core.ccb.ids import IdGenerator
from core.ccb.port.operations import WRITE_OPERATIONS
from core.ccb.rates import RateConfig, load_default_config
from core.ccb.reads import MeterRead, ReadType
from core.clock import Clock
from core.db import Database
from core.outbox import EventWriter
from core.redact import redact

__all__ = [
    "DELIVERED",
    "MAX_ARRANGEMENT_INSTALLMENTS",
    "MAX_TEXT",
    "PAY_PLAN_BREACH_DAYS",
    "RECEIVED",
    "SA_TYPE_ORDER",
    "SERVICE_DIGITS",
    "SERVICE_SA_TYPE",
    "SERVICE_UNIT",
    "VERIFY_MAX_FAILURES",
    "VERIFY_WINDOW",
    "LocalBase",
    "clean_text",
    "utc_aware",
]

T = TypeVar("T")

SERVICE_SA_TYPE = codes.SERVICE_SA_TYPE
SERVICE_UNIT = codes.SERVICE_UNIT
SERVICE_DIGITS = codes.SERVICE_DIGITS
SA_TYPE_ORDER = {"E-RES": 0, "E-NEM": 0, "W-RES": 1, "PA-RES": 2, "D-RES": 3}
DELIVERED = codes.REGISTER_FLOWS[codes.REGISTER_DELIVERED]
RECEIVED = codes.REGISTER_FLOWS[codes.REGISTER_RECEIVED]

# docs/rules.md §4.2: 5 consecutive failures per account within 24 hours lock the knowledge factors.
VERIFY_MAX_FAILURES = 5
VERIFY_WINDOW = dt.timedelta(hours=24)
# docs/rules.md §6.3 step 3: a plan is breached only after 60 days of non-compliance.
PAY_PLAN_BREACH_DAYS = 60
# Payment arrangements are billed on the bimonthly bills and must fit in 12 months (docs/rules.md §6.2, §2.4).
MAX_ARRANGEMENT_INSTALLMENTS = 6
MAX_TEXT = 4000


def clean_text(value: str, field: str, *, limit: int = MAX_TEXT, required: bool = True) -> str:
    """Free text as stored: trimmed, length-checked and with card numbers / SSNs masked (ARCHITECTURE §6)."""
    cleaned = value.strip()
    if required and not cleaned:
        raise Invalid(field, "must not be empty")
    if len(cleaned) > limit:
        raise Invalid(field, f"must be at most {limit} characters")
    return redact(cleaned)


def utc_aware(value: dt.datetime, field: str) -> dt.datetime:
    """A time as stored: it must carry a zone (a naive one is ambiguous) and is kept in UTC."""
    if value.tzinfo is None:
        raise Invalid(field, "must include a time zone")
    return value.astimezone(dt.UTC)


class _Answer(NamedTuple):
    """A stored idempotency record's columns (plain values: they outlive the run's ORM state)."""

    operation: str
    request_hash: str
    response: str


@dataclass
class _Batch:
    """The one transaction a run of ``write_batch`` shares, and the idempotency records it already holds."""

    session: AsyncSession
    stored: dict[str, _Answer | None] = field(default_factory=dict)
    loaded: list[Any] = field(default_factory=list)
    # Set when a write ran a bulk UPDATE/DELETE, which leaves objects loaded earlier in the run stale.
    stale: bool = False

    def __post_init__(self) -> None:
        event.listen(self.session.sync_session, "do_orm_execute", self._on_execute)

    def _on_execute(self, state: ORMExecuteState) -> None:
        if state.is_update or state.is_delete:
            self.stale = True


class _Refused(Exception):
    """Write ``index`` of a run failed; the run's transaction is rolled back."""

    def __init__(self, index: int) -> None:
        super().__init__(f"write {index} of the run failed")
        self.index = index


# Set while a run of ``write_batch`` executes: ``_write`` then works in the run's transaction.
_BATCH: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar("ccb_local_batch", default=None)


class LocalBase:
    """Plumbing and shared lookups of the local CCB; the area mixins of ``core.ccb.local`` stack on it."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        hash_key: bytes,
        ids: IdGenerator | None = None,
        rates: RateConfig | None = None,
        *,
        events: EventWriter | None = None,
        audit: AuditLog | None = None,
        hash_key_version: int = 1,
    ) -> None:
        if len(hash_key) < 16:
            raise ValueError("the identity hash key must be at least 16 bytes")
        self._db = db
        self._clock = clock
        self._key = hash_key
        self._key_version = hash_key_version
        self._ids = ids or IdGenerator()
        self._rates = rates or load_default_config()
        self._events = events
        self._audit = audit

    def _now(self) -> dt.datetime:
        return self._clock.now()

    def _today(self) -> dt.date:
        return local_date(self._clock.now())

    def _emit(self, s: AsyncSession, subject: str, payload: msgspec.Struct, actor: str) -> None:
        if self._events is not None:
            self._events.emit(s, subject, payload, actor=actor)

    async def _audit_money(
        self, s: AsyncSession, actor: str, action: str, target: str, detail: dict[str, Any]
    ) -> None:
        if self._audit is not None:
            await self._audit.append(s, actor=actor, action=action, target=target, detail=detail)

    async def _write(
        self,
        operation: str,
        request: msgspec.Struct,
        idempotency_key: str | None,
        result_type: Any,
        work: Callable[[AsyncSession], Awaitable[T]],
    ) -> T:
        """Run ``work`` in one transaction; with a key, store the answer and replay it on a retry.

        A unique-key conflict means another writer got there first: the same idempotency key (its answer
        is the answer), a random id drawn twice, or a row a concurrent request just added. The whole
        transaction rolled back, so it is run once more, where the domain checks see the other write.
        """
        key: str | None = None
        digest = ""
        if idempotency_key is not None:
            key = idempotency_key.strip()
            if not key or len(key) > 100:
                raise Invalid("idempotency_key", "must be 1 to 100 characters")
            digest = hashlib.sha256(operation.encode() + b"|" + msgspec.json.encode(request)).hexdigest()
        batch = _BATCH.get()
        if batch is not None and key is not None:
            return await self._write_in_batch(batch, operation, key, digest, result_type, work)
        for attempt in (1, 2):
            try:
                async with self._db.session() as s:
                    if key is None:
                        return await work(s)
                    stored = await s.get(m.IdempotencyRecord, key)
                    if stored is not None:
                        return self._replay(stored, operation, digest, result_type)
                    result = await work(s)
                    s.add(
                        m.IdempotencyRecord(
                            key=key,
                            operation=operation,
                            request_hash=digest,
                            response=msgspec.json.encode(result).decode(),
                            created_at=self._now(),
                        )
                    )
                    await s.flush()
                    return result
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _write_in_batch(
        self,
        batch: _Batch,
        operation: str,
        key: str,
        digest: str,
        result_type: Any,
        work: Callable[[AsyncSession], Awaitable[T]],
    ) -> T:
        """``_write`` inside a run: the shared transaction; the record joins it, flushed with the rest."""
        s = batch.session
        stored = batch.stored[key] if key in batch.stored else await s.get(m.IdempotencyRecord, key)
        if stored is not None:
            result: T = self._replay(stored, operation, digest, result_type)
            return result
        result = await work(s)
        response = msgspec.json.encode(result).decode()
        s.add(
            m.IdempotencyRecord(
                key=key,
                operation=operation,
                request_hash=digest,
                response=response,
                created_at=self._now(),
            )
        )
        batch.stored[key] = _Answer(operation, digest, response)
        if batch.stale:
            # Each write on its own sees fresh rows; in a run, what an earlier write loaded must be reread
            # after a bulk UPDATE (flushed first, so no change of the run is lost).
            await s.flush()
            s.expire_all()
            batch.loaded.clear()
            batch.stale = False
        return result

    async def write_batch(self, writes: Sequence[KeyedWrite]) -> list[Any]:
        """Apply keyed writes in order, a run at a time in one transaction (``core.ccb.batch``).

        A run commits all its writes or none. When a write of a run is refused (a ``CcbError``) or collides
        (a random id drawn twice, a concurrent writer), the run rolls back; the writes before it go again as
        a shorter run, and the failing write then runs on its own through its port method, so its answer —
        result or error — is exactly what a single call gives. Refusals are rare, so most runs commit once.
        """
        unknown = {w.operation for w in writes} - WRITE_OPERATIONS.keys()
        if unknown:
            raise ValueError(f"not write operations of the port: {sorted(unknown)}")
        out: list[Any] = []
        rest = list(writes)
        limit = len(rest)
        while rest:
            try:
                results = await self._run(rest[:limit])
            except _Refused as refused:
                if refused.index > 0:
                    limit = refused.index
                    continue
                out.append(await self._alone(rest[0]))
                rest = rest[1:]
            else:
                out.extend(results)
                rest = rest[len(results) :]
            limit = len(rest)
        return out

    async def _run(self, writes: Sequence[KeyedWrite]) -> list[Any]:
        index = 0
        results: list[Any] = []
        try:
            async with self._db.session() as s:
                batch = _Batch(s)
                keys = [w.idempotency_key.strip() for w in writes]
                # One query for the run's stored answers (a resent run, a second replay) instead of one each.
                rec = m.IdempotencyRecord
                found = await s.execute(
                    select(rec.key, rec.operation, rec.request_hash, rec.response).where(rec.key.in_(keys))
                )
                batch.stored = {key: None for key in keys} | {r.key: _Answer(*r[1:]) for r in found.all()}
                token = _BATCH.set(batch)
                try:
                    for write in writes:
                        index = len(results)
                        method = getattr(self, write.operation)
                        results.append(
                            await method(
                                write.request, actor=write.actor, idempotency_key=write.idempotency_key
                            )
                        )
                    index = len(writes)
                    await s.flush()
                finally:
                    _BATCH.reset(token)
        except CcbError:
            raise _Refused(index) from None
        except IntegrityError:
            # Which write collided is unknown once rows flush together: the first goes on its own.
            raise _Refused(0) from None
        return results

    async def _alone(self, write: KeyedWrite) -> Any:
        try:
            return await getattr(self, write.operation)(
                write.request, actor=write.actor, idempotency_key=write.idempotency_key
            )
        except CcbError as exc:
            return exc

    @staticmethod
    def _replay(stored: m.IdempotencyRecord | _Answer, operation: str, digest: str, result_type: Any) -> Any:
        if stored.operation != operation or stored.request_hash != digest:
            raise Invalid("idempotency_key", "was already used for a different request")
        result = msgspec.json.decode(stored.response, type=result_type)
        if isinstance(result, msgspec.Struct) and "replayed" in result.__struct_fields__:
            result = msgspec.structs.replace(result, replayed=True)
        return result

    @staticmethod
    async def _get(s: AsyncSession, model: type[T], ident: str, kind: str, *, lock: bool = False) -> T:
        # ``None`` unless locking: any other value makes ``get`` skip the identity map and query (and
        # autoflush) every time, which costs a batch of writes on one object a round trip per write.
        row = await s.get(model, ident, with_for_update=True if lock else None)
        if row is None:
            raise NotFound(kind, ident)
        batch = _BATCH.get()
        if batch is not None:
            # The session's identity map holds objects weakly: without a reference the next write of the
            # run on the same object would query (and autoflush) it again.
            batch.loaded.append(row)
        return row

    async def _ledger(self, s: AsyncSession, account_id: str) -> list[LedgerEntry]:
        """The account's frozen FTs in posting order, each marked when a reversing FT cancels it."""
        ft = m.FinancialTransaction
        rows = (
            await s.execute(
                select(ft.id, ft.sa_id, ft.ft_type, ft.amount_cents, ft.arrears_date, ft.cancels_ft_id)
                .where(ft.account_id == account_id, ft.frozen.is_(True))
                .order_by(ft.created_at, ft.id)
            )
        ).all()
        canceled = {r.cancels_ft_id for r in rows if r.cancels_ft_id is not None}
        return [
            LedgerEntry(r.id, r.sa_id, r.ft_type, r.amount_cents, r.arrears_date, r.id in canceled)
            for r in rows
        ]

    async def _account_sas(self, s: AsyncSession, account_id: str) -> list[m.ServiceAgreement]:
        rows = (
            await s.scalars(select(m.ServiceAgreement).where(m.ServiceAgreement.account_id == account_id))
        ).all()
        return sorted(rows, key=lambda sa: (SA_TYPE_ORDER.get(sa.sa_type, 9), sa.start_date, sa.id))

    async def _current_meter(self, s: AsyncSession, sp_id: str) -> m.Meter | None:
        install = await s.scalar(
            select(m.MeterInstall)
            .where(m.MeterInstall.sp_id == sp_id, m.MeterInstall.removed_at.is_(None))
            .order_by(m.MeterInstall.installed_at.desc())
            .limit(1)
        )
        if install is None:
            return None
        return await s.get(m.Meter, install.meter_id)

    async def _meter_sp(self, s: AsyncSession, meter_id: str) -> m.ServicePoint | None:
        install = await s.scalar(
            select(m.MeterInstall)
            .where(m.MeterInstall.meter_id == meter_id, m.MeterInstall.removed_at.is_(None))
            .order_by(m.MeterInstall.installed_at.desc())
            .limit(1)
        )
        return None if install is None else await s.get(m.ServicePoint, install.sp_id)

    async def _sp_sa(self, s: AsyncSession, sp_id: str) -> m.ServiceAgreement | None:
        """The SA serving an SP now: an open one if any, else the most recently started."""
        rows = (await s.scalars(select(m.ServiceAgreement).where(m.ServiceAgreement.sp_id == sp_id))).all()
        if not rows:
            return None
        open_ = [sa for sa in rows if sa.status in codes.OPEN_SA_STATUSES]
        pool = open_ or rows
        return max(pool, key=lambda sa: (sa.start_date, sa.created_at, sa.id))

    async def _meter_reads(
        self, s: AsyncSession, meter_id: str, register_seq: int = DELIVERED
    ) -> list[m.MeterRead]:
        """One register's reads in time order (the delivered register unless told otherwise)."""
        return list(
            (
                await s.scalars(
                    select(m.MeterRead)
                    .where(m.MeterRead.meter_id == meter_id, m.MeterRead.register_seq == register_seq)
                    .order_by(m.MeterRead.read_at, m.MeterRead.created_at, m.MeterRead.id)
                )
            ).all()
        )

    @staticmethod
    async def _register_flows(s: AsyncSession, meter_id: str) -> list[codes.RegisterFlow]:
        seqs = await s.scalars(
            select(m.Register.seq).where(m.Register.meter_id == meter_id).order_by(m.Register.seq)
        )
        return [codes.FLOW_OF_REGISTER[seq] for seq in seqs.all()]

    @staticmethod
    async def _is_net_meter(s: AsyncSession, meter_id: str) -> bool:
        return await s.get(m.Register, (meter_id, RECEIVED)) is not None

    @staticmethod
    async def _received_with(s: AsyncSession, read: m.MeterRead) -> m.MeterRead | None:
        """The received register's reading taken with the delivered ``read`` (same meter, same time).

        Every path that writes a delivered read on a net meter writes its received partner
        (``_add_received``), so the pair normally exists; should it not, the newest received reading before
        it stands in.
        """
        return await s.scalar(
            select(m.MeterRead)
            .where(
                m.MeterRead.meter_id == read.meter_id,
                m.MeterRead.register_seq == RECEIVED,
                m.MeterRead.reading.is_not(None),
                m.MeterRead.read_at <= read.read_at,
            )
            .order_by(
                m.MeterRead.read_at.desc(), m.MeterRead.use_on_bill.desc(), m.MeterRead.created_at.desc()
            )
            .limit(1)
        )

    @staticmethod
    def _as_rule_reads(rows: Iterable[m.MeterRead]) -> list[MeterRead]:
        return [
            MeterRead(local_date(r.read_at), r.reading, ReadType(r.read_type), r.use_on_bill) for r in rows
        ]

    def _transition(self, sa: m.ServiceAgreement, action: str) -> str:
        target = codes.sa_next_status(sa.status, action)
        if target is None:
            raise IllegalTransition(
                "service_agreement", sa.id, sa.status, action, codes.SA_STATUS_LABELS.get(sa.status)
            )
        sa.status = target
        sa.updated_at = self._now()
        return target

    def _service_event(self, sa: m.ServiceAgreement) -> ev.ServiceChanged:
        return ev.ServiceChanged(
            account_id=sa.account_id,
            sa_id=sa.id,
            premise_id=sa.premise_id,
            sa_type=sa.sa_type,
            status=str(sa.status),
        )

    def _add_ft(
        self,
        s: AsyncSession,
        *,
        account_id: str,
        sa_id: str,
        ft_type: str,
        parent_id: str,
        amount_cents: int,
        frozen: bool = True,
        cancels: str | None = None,
        arrears_date: dt.date | None = None,
        bill_id: str | None = None,
    ) -> m.FinancialTransaction:
        ft = m.FinancialTransaction(
            id=self._ids.ft_id(),
            account_id=account_id,
            sa_id=sa_id,
            ft_type=ft_type,
            parent_id=parent_id,
            amount_cents=amount_cents,
            frozen=frozen,
            cancels_ft_id=cancels,
            accounting_date=self._today(),
            arrears_date=arrears_date,
            bill_id=bill_id,
            created_at=self._now(),
        )
        s.add(ft)
        return ft

    async def _ft_of(self, s: AsyncSession, parent_id: str, ft_type: str) -> m.FinancialTransaction | None:
        return await s.scalar(
            select(m.FinancialTransaction).where(
                m.FinancialTransaction.parent_id == parent_id, m.FinancialTransaction.ft_type == ft_type
            )
        )
