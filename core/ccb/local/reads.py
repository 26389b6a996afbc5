"""The local CCB's meters and reads (§1.4): recording a read with its high/low check, the system
estimate after a No Read, the received register of a net meter read or estimated alongside, and the
estimate streak that opens a case and schedules a field read. Completing a field activity (§1.15) is here
too because what it records is a read.

Section signs (§) cite docs/ccb-domain.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb import codes
from core.ccb import events as ev
from core.ccb import models as m
from core.ccb import port as p
from core.ccb.billing import (
    local_date,
    local_time,
)
from core.ccb.errors import IllegalTransition, Invalid
from core.ccb.local.base import (
    DELIVERED,
    RECEIVED,
    clean_text,
    utc_aware,
)
from core.ccb.local.work import WorkMixin
from core.ccb.reads import HighLowStatus, MeterRead, ReadError, ReadType, Register, high_low_check
from core.ccb.reads import consecutive_estimates as count_estimates
from core.ccb.reads import estimate as estimate_read

__all__ = ["ReadsMixin"]


class ReadsMixin(WorkMixin):
    """Meter reads and estimates; completing a field activity's read."""

    async def list_reads(self, meter_id: str, register: p.RegisterFlow = "delivered") -> list[p.ReadView]:
        seq = codes.REGISTER_FLOWS.get(register)
        if seq is None:
            raise Invalid("register", f"must be one of {sorted(codes.REGISTER_FLOWS)}")
        async with self._db.read() as s:
            await self._get(s, m.Meter, meter_id, "meter")
            if await s.get(m.Register, (meter_id, seq)) is None:
                raise Invalid("register", f"meter {meter_id} has no {register} register")
            return [self._read_view(r) for r in await self._meter_reads(s, meter_id, seq)]

    def _new_read(
        self,
        meter: m.Meter,
        read_at: dt.datetime,
        reading: int | None,
        read_type: ReadType,
        *,
        source: str,
        actor: str,
        use_on_bill: bool = True,
        remarks: str | None = None,
        field: str = "reading",
        register_seq: int = DELIVERED,
    ) -> m.MeterRead:
        if read_type is ReadType.NO_READ:
            if reading is not None:
                raise Invalid(field, "a No Read has no reading")
        else:
            if reading is None:
                raise Invalid(field, "is required for this read type")
            try:
                Register(digits=meter.register_digits).check_reading(reading)
            except ReadError as exc:
                raise Invalid(field, str(exc)) from None
        return m.MeterRead(
            id=self._ids.meter_read_id(),
            meter_id=meter.id,
            register_seq=register_seq,
            read_at=read_at,
            reading=reading,
            read_type=read_type.value,
            use_on_bill=use_on_bill,
            source=source,
            remarks=remarks,
            created_by=actor,
            created_at=self._now(),
        )

    async def add_meter_read(
        self, request: p.AddMeterRead, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.ReadResult:
        async def work(s: AsyncSession) -> p.ReadResult:
            meter = await self._get(s, m.Meter, request.meter_id, "meter")
            try:
                read_type = ReadType.from_code(request.read_type)
            except ReadError as exc:
                raise Invalid("read_type", str(exc)) from None
            read_at = utc_aware(request.read_at, "read_at")
            if read_at > self._now() + dt.timedelta(minutes=5):
                raise Invalid("read_at", "is in the future")
            sp = await self._meter_sp(s, meter.id)
            if sp is None:
                raise Invalid("meter_id", "the meter is not installed at a service point")
            sa = await self._sp_sa(s, sp.id)
            if sa is None:
                raise Invalid("meter_id", "no service agreement uses this meter")
            if sa.status not in codes.BILLABLE_SA_STATUSES:
                # Reads bill only on active SAs; a field crew's start/stop reads come through the FA.
                raise IllegalTransition(
                    "service_agreement", sa.id, sa.status, "add_meter_read", codes.SA_STATUS_LABELS[sa.status]
                )
            remarks = (
                clean_text(request.remarks, "remarks", limit=500, required=False) if request.remarks else None
            )
            history = await self._meter_reads(s, meter.id)
            read = self._new_read(
                meter,
                read_at,
                request.reading,
                read_type,
                source=request.source[:16],
                actor=actor,
                use_on_bill=request.use_on_bill,
                remarks=remarks,
            )
            register = Register(digits=meter.register_digits)
            high_low: str | None = None
            if read_type.is_measured and request.reading is not None:
                high_low = self._high_low(history, read, register)
                read.high_low = high_low
            s.add(read)
            await s.flush()
            if high_low in (HighLowStatus.HIGH.value, HighLowStatus.LOW.value):
                await self._add_todo(
                    s,
                    role="METER_READS",
                    todo_type="HIGH_LOW_READ",
                    message=(
                        f"Read {read.id} on meter {meter.badge_number} failed the high/low check ({high_low})"
                    ),
                    related_kind="meter_read",
                    related_id=read.id,
                    priority=3,
                    actor=actor,
                )
            received = await self._add_received(s, meter, read, request.received_reading, actor)
            estimate: m.MeterRead | None = None
            if read_type is ReadType.NO_READ:
                self._emit(
                    s,
                    "hub.ccb.read.access_failed",
                    ev.ReadAccessFailed(meter_id=meter.id, premise_id=sp.premise_id, read_id=read.id),
                    actor,
                )
                if request.estimate_on_no_read and request.use_on_bill:
                    estimate = self._estimate_for(history, read, meter, actor)
                    if estimate is not None:
                        s.add(estimate)
                        await s.flush()
                        received = await self._add_received(s, meter, estimate, None, actor) or received
            streak = 0
            case_id = fa_id = None
            last = estimate or read
            if ReadType(last.read_type).is_estimate and last.use_on_bill:
                streak = count_estimates(
                    self._as_rule_reads([*history, read, *([estimate] if estimate else [])])
                )
                case_id, fa_id = await self._estimate_streak(s, meter, sp, sa, streak, actor)
            return p.ReadResult(
                read=self._read_view(read),
                estimate=self._read_view(estimate) if estimate is not None else None,
                high_low=high_low,
                consecutive_estimates=streak,
                case_id=case_id,
                field_activity_id=fa_id,
                received=self._read_view(received) if received is not None else None,
            )

        return await self._write("add_meter_read", request, idempotency_key, p.ReadResult, work)

    def _high_low(self, history: Sequence[m.MeterRead], read: m.MeterRead, register: Register) -> str | None:
        try:
            result = high_low_check(
                self._as_rule_reads(history),
                MeterRead(local_date(read.read_at), read.reading, ReadType(read.read_type), read.use_on_bill),
                register,
            )
        except ReadError:
            return None  # nothing earlier to compare with
        return result.status.value

    def _estimate_for(
        self,
        history: Sequence[m.MeterRead],
        no_read: m.MeterRead,
        meter: m.Meter,
        actor: str,
        *,
        register_seq: int = DELIVERED,
        remarks: str | None = None,
    ) -> m.MeterRead | None:
        """A system estimate for the time of ``no_read``, from the register's measured ``history`` (§1.4)."""
        day = local_date(no_read.read_at)
        previous = [r for r in history if r.reading is not None and local_date(r.read_at) < day]
        if not previous:
            return None
        start = previous[-1]
        assert start.reading is not None
        try:
            guess = estimate_read(
                self._as_rule_reads(history),
                local_date(start.read_at),
                day,
                Register(digits=meter.register_digits),
                start_reading=start.reading,
            )
        except ReadError:
            return None
        assert guess.reading is not None
        return self._new_read(
            meter,
            no_read.read_at,
            int(guess.reading),
            ReadType.SYSTEM_ESTIMATE,
            source="system",
            actor=actor,
            remarks=remarks or f"estimated for No Read {no_read.id}",
            register_seq=register_seq,
        )

    async def _add_received(
        self,
        s: AsyncSession,
        meter: m.Meter,
        delivered: m.MeterRead,
        reading: int | None,
        actor: str,
        *,
        field: str = "received_reading",
    ) -> m.MeterRead | None:
        """The received register's read taken with ``delivered`` on a net meter (§1.4: a meter read has a
        register read per register); None on any other meter, which takes no received reading.

        A reading given is stored with the delivered read's type. A No Read is a No Read on both registers.
        Otherwise (a reader or customer gave the delivered register only, or the system estimated or carried
        it) the received register is estimated from its own measured history, or, with too little history,
        its last reading is carried as billing-computed: nothing is exported until the next actual read,
        which trues it up, as any subtractive estimate does (§1.4).
        """
        if not await self._is_net_meter(s, meter.id):
            if reading is not None:
                raise Invalid(field, "the meter has no received register (it is not a net meter)")
            return None
        read_type = ReadType(delivered.read_type)
        extra: dict[str, Any] = {"use_on_bill": delivered.use_on_bill, "register_seq": RECEIVED}
        if read_type is ReadType.NO_READ or reading is not None:
            row = self._new_read(
                meter,
                delivered.read_at,
                reading,
                read_type,
                source=delivered.source,
                actor=actor,
                remarks=delivered.remarks,
                field=field,
                **extra,
            )
        else:
            history = [
                r for r in await self._meter_reads(s, meter.id, RECEIVED) if r.read_at <= delivered.read_at
            ]
            note = f"received register estimated with read {delivered.id}"
            estimated = self._estimate_for(
                history, delivered, meter, actor, register_seq=RECEIVED, remarks=note
            )
            row = estimated or self._new_read(
                meter,
                delivered.read_at,
                next((r.reading for r in reversed(history) if r.reading is not None), 0),
                ReadType.BILLING_COMPUTED,
                source="system",
                actor=actor,
                remarks=f"received register carried with read {delivered.id}",
                **extra,
            )
            row.use_on_bill = delivered.use_on_bill
        s.add(row)
        await s.flush()
        return row

    async def _estimate_streak(
        self,
        s: AsyncSession,
        meter: m.Meter,
        sp: m.ServicePoint,
        sa: m.ServiceAgreement,
        streak: int,
        actor: str,
    ) -> tuple[str | None, str | None]:
        """From the third estimate in a row, open one investigation case + FA per meter (reads.py rule)."""
        if streak < 3:
            return None, None
        open_case = await s.scalar(
            select(m.Case.id).where(
                m.Case.meter_id == meter.id, m.Case.case_type == "ESTIMATED_READS", m.Case.closed_at.is_(None)
            )
        )
        if open_case is not None:
            return None, None
        case = await self._open_case(
            s,
            "ESTIMATED_READS",
            f"Meter {meter.badge_number} has {streak} estimated reads in a row",
            actor,
            account_id=sa.account_id,
            premise_id=sp.premise_id,
            meter_id=meter.id,
        )
        fa = self._new_fa(
            "READ_INVESTIGATION",
            sp.premise_id,
            actor,
            sp_id=sp.id,
            sa_id=sa.id,
            case_id=case.id,
            scheduled_on=self._today() + dt.timedelta(days=7),
            instructions=f"Meter not read {streak} times in a row: find out why and read it",
        )
        self._add_fa(s, fa, actor)
        await s.flush()
        self._emit(
            s,
            "hub.ccb.read.estimated_streak",
            ev.EstimatedStreak(
                meter_id=meter.id,
                premise_id=sp.premise_id,
                consecutive_estimates=streak,
                case_id=case.id,
                field_activity_id=fa.id,
            ),
            actor,
        )
        return case.id, fa.id

    async def complete_field_activity(
        self, request: p.CompleteFieldActivity, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.FieldActivityView:
        async def work(s: AsyncSession) -> p.FieldActivityView:
            fa = await self._get(s, m.FieldActivity, request.field_activity_id, "field_activity", lock=True)
            if codes.FaStatus.COMPLETE not in codes.FA_TRANSITIONS.get(fa.status, frozenset()):
                raise IllegalTransition("field_activity", fa.id, fa.status, "complete")
            now = self._now()
            if request.received_reading is not None and request.reading is None:
                raise Invalid("received_reading", "give the delivered register's reading too")
            if request.reading is not None:
                if fa.sp_id is None:
                    raise Invalid("reading", "the field activity is not on a service point")
                meter = await self._current_meter(s, fa.sp_id)
                if meter is None:
                    raise Invalid("reading", "the service point has no meter")
                read_day = (
                    fa.scheduled_on if fa.fa_type in ("START", "STOP") and fa.scheduled_on else self._today()
                )
                read = self._new_read(
                    meter,
                    min(local_time(read_day), now),
                    request.reading,
                    ReadType.REGULAR,
                    source="field",
                    actor=actor,
                    remarks=f"field activity {fa.id}",
                )
                s.add(read)
                await s.flush()
                await self._add_received(s, meter, read, request.received_reading, actor)
                fa.read_id = read.id
                if fa.sa_id is not None and fa.fa_type == "STOP":
                    sa = await self._get(s, m.ServiceAgreement, fa.sa_id, "service_agreement", lock=True)
                    if sa.status == codes.SaStatus.PENDING_STOP:
                        sa.stop_read_id = read.id
            fa.status = codes.FaStatus.COMPLETE
            fa.completed_at = now
            if request.remarks:
                fa.remarks = clean_text(request.remarks, "remarks", limit=1000)
            return self._fa_view(fa)

        return await self._write(
            "complete_field_activity", request, idempotency_key, p.FieldActivityView, work
        )
