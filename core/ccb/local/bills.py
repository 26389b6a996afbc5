"""The local CCB's bills (§1.7): the bill run for an account (one segment per billable SA, net-metered
electric priced with its kWh credit, §4.1), completing and freezing a bill, canceling a segment and
rebilling it with a corrected reading, and the bill reads.

Section signs (§) cite docs/ccb-domain.md.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb import codes
from core.ccb import events as ev
from core.ccb import models as m
from core.ccb import port as p
from core.ccb.billing import (
    PricedSegment,
    balance_cents,
    due_date_for,
    local_date,
    local_day_end,
    local_time,
    net_metering_of,
    price_net_metered_segment,
    price_segment,
)
from core.ccb.errors import IllegalTransition, Invalid
from core.ccb.local.base import (
    DELIVERED,
    clean_text,
)
from core.ccb.local.reads import ReadsMixin
from core.ccb.reads import ReadType

__all__ = ["BillsMixin"]


class BillsMixin(ReadsMixin):
    """Bill runs, freezing, canceling and rebilling segments."""

    async def get_bill(self, bill_id: str) -> p.BillView:
        async with self._db.read() as s:
            return await self._bill_view(s, await self._get(s, m.Bill, bill_id, "bill"))

    async def list_bills(self, account_id: str, limit: int = 6) -> list[p.BillView]:
        if limit < 1 or limit > 100:
            raise Invalid("limit", "must be between 1 and 100")
        async with self._db.read() as s:
            await self._get(s, m.Account, account_id, "account")
            bills = (
                await s.scalars(
                    select(m.Bill)
                    .where(m.Bill.account_id == account_id)
                    .order_by(m.Bill.bill_date.desc(), m.Bill.created_at.desc())
                    .limit(limit)
                )
            ).all()
            return [await self._bill_view(s, b) for b in bills]

    async def bill_account(
        self, request: p.BillAccount, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.BillView | None:
        async def work(s: AsyncSession) -> p.BillView | None:
            await self._get(s, m.Account, request.account_id, "account", lock=True)
            bill_date = request.bill_date or self._today()
            if bill_date < request.cut_off:
                raise Invalid("bill_date", "must not be before the cut-off date")
            metered = [sa for sa in await self._account_sas(s, request.account_id) if sa.sp_id is not None]
            if not metered:
                raise Invalid("account_id", "the account has no metered service agreement to bill")
            billable = [
                sa
                for sa in metered
                if sa.status in codes.BILLABLE_SA_STATUSES or (sa.status == "40" and not sa.final_billed)
            ]
            if not billable:
                # Bills need an active SA (§1.5): name the status that stands in the way.
                sa = metered[0]
                raise IllegalTransition(
                    "service_agreement", sa.id, sa.status, "bill", codes.SA_STATUS_LABELS[sa.status]
                )
            bill = await self._bill(
                s,
                request.account_id,
                request.cut_off,
                bill_date,
                freeze=request.freeze,
                only=None,
                actor=actor,
            )
            return None if bill is None else await self._bill_view(s, bill)

        return await self._write("bill_account", request, idempotency_key, p.BillView | None, work)

    async def _segment_start(
        self, s: AsyncSession, sa: m.ServiceAgreement
    ) -> tuple[dt.date, int | None, str | None, m.BillSegment | None]:
        """Where the next segment starts: the last segment's end read, else the SA's start read (§1.4);
        the last (not canceled) segment comes along, since a net-metered SA carries its credit from it."""
        last = await s.scalar(
            select(m.BillSegment)
            .where(m.BillSegment.sa_id == sa.id, m.BillSegment.status != codes.BsegStatus.CANCELED)
            .order_by(m.BillSegment.period_end.desc(), m.BillSegment.created_at.desc())
            .limit(1)
        )
        if last is not None:
            return last.period_end, last.end_reading, last.end_read_id, last
        if sa.start_read_id is not None:
            read = await self._get(s, m.MeterRead, sa.start_read_id, "meter_read")
            return max(sa.start_date, local_date(read.read_at)), read.reading, read.id, None
        return sa.start_date, None, None, None

    async def _price_net_metered(
        self,
        s: AsyncSession,
        zone: str,
        start: dt.date,
        end: dt.date,
        delivered: tuple[int, int],
        start_read_id: str | None,
        end_read: m.MeterRead,
        previous: m.BillSegment | None,
        register_digits: int,
        *,
        final: bool,
    ) -> tuple[PricedSegment, bool]:
        """Price a net-metered segment (billing.py: net kWh through the tiers, the kWh bank carried).

        The received register starts where the previous segment's ended (or at the partner of the SA's
        start read) and ends at the partner of the delivered end read; the bank comes from the previous
        segment. Returns the priced segment and whether the received end reading is an estimate.
        """
        received_end_read = await self._received_with(s, end_read)
        before = net_metering_of(previous.calc) if previous is not None else None
        received_start: int | None = None
        if previous is not None and before is not None:
            received_start = int(previous.calc["net_metering"]["received_end_reading"])  # continuity
        elif start_read_id is not None:
            start_read = await s.get(m.MeterRead, start_read_id)
            paired = await self._received_with(s, start_read) if start_read is not None else None
            received_start = paired.reading if paired is not None else None
        received_end = received_end_read.reading if received_end_read is not None else None
        # A missing partner counts no export for the period; the next actual read trues it up (§1.4).
        received_start = received_start if received_start is not None else received_end or 0
        received_end = received_end if received_end is not None else received_start
        priced = price_net_metered_segment(
            self._rates,
            zone,
            start,
            end,
            delivered_readings=delivered,
            received_readings=(received_start, received_end),
            register_digits=register_digits,
            credit_in_kwh=before.credit_out if before is not None else 0,
            final=final,
        )
        estimated = received_end_read is not None and ReadType(received_end_read.read_type).is_estimate
        return priced, estimated

    async def _bill(
        self,
        s: AsyncSession,
        account_id: str,
        cut_off: dt.date,
        bill_date: dt.date,
        *,
        freeze: bool,
        only: set[str] | None,
        actor: str,
    ) -> m.Bill | None:
        """Build one bill with a segment per SA that has a new read up to ``cut_off`` (§1.7)."""
        now = self._now()
        due = due_date_for(bill_date)
        premises: dict[str, m.Premise] = {}
        segments: list[m.BillSegment] = []
        bill_id = self._ids.bill_id()
        for sa in await self._account_sas(s, account_id):
            if only is not None and sa.id not in only:
                continue
            service = codes.SA_TYPES[sa.sa_type].service
            if service not in ("electric", "water") or sa.sp_id is None or sa.premise_id is None:
                continue
            final = sa.status == codes.SaStatus.STOPPED and not sa.final_billed
            if sa.status not in codes.BILLABLE_SA_STATUSES and not final:
                continue
            start, start_reading, start_read_id, previous = await self._segment_start(s, sa)
            if start_reading is None:
                continue
            meter = await self._current_meter(s, sa.sp_id)
            if meter is None:
                continue
            end_read: m.MeterRead | None
            if final and sa.stop_read_id is not None:
                end_read = await s.get(m.MeterRead, sa.stop_read_id)
            else:
                limit = cut_off if sa.end_date is None else min(cut_off, sa.end_date)
                end_read = await s.scalar(
                    select(m.MeterRead)
                    .where(
                        m.MeterRead.meter_id == meter.id,
                        m.MeterRead.register_seq == DELIVERED,
                        m.MeterRead.use_on_bill.is_(True),
                        m.MeterRead.reading.is_not(None),
                        m.MeterRead.read_at < local_day_end(limit),
                    )
                    .order_by(m.MeterRead.read_at.desc(), m.MeterRead.created_at.desc())
                    .limit(1)
                )
            if end_read is None or end_read.reading is None:
                continue
            end = local_date(end_read.read_at)
            if end <= start:
                continue
            if sa.premise_id not in premises:
                premises[sa.premise_id] = await self._get(s, m.Premise, sa.premise_id, "premise")
            premise = premises[sa.premise_id]
            zone = sa.zone or (
                premise.electric_zone if service == "electric" else premise.water_temperature_zone
            )
            estimated = ReadType(end_read.read_type).is_estimate
            if codes.SA_TYPES[sa.sa_type].net_metered:
                priced, received_estimated = await self._price_net_metered(
                    s,
                    zone,
                    start,
                    end,
                    (start_reading, end_read.reading),
                    start_read_id,
                    end_read,
                    previous,
                    meter.register_digits,
                    final=final,
                )
                estimated = estimated or received_estimated
            else:
                priced = price_segment(
                    self._rates,
                    "electric" if service == "electric" else "water",
                    zone,
                    premise.lot_size_sqft,
                    start,
                    end,
                    start_reading,
                    end_read.reading,
                    meter.register_digits,
                )
            seg = m.BillSegment(
                id=self._ids.bill_segment_id(),
                bill_id=bill_id,
                sa_id=sa.id,
                status=codes.BsegStatus.FROZEN if freeze else codes.BsegStatus.FREEZABLE,
                period_start=start,
                period_end=end,
                start_read_id=start_read_id,
                end_read_id=end_read.id,
                start_reading=start_reading,
                end_reading=end_read.reading,
                estimated=estimated,
                quantity=str(priced.quantity),
                tier_quantities=priced.tier_quantities,
                calc=priced.calc,
                amount_cents=priced.amount_cents,
                created_at=now,
                frozen_at=now if freeze else None,
            )
            segments.append(seg)
        unbilled = await self._unbilled_fts(s, account_id)
        if not segments and not unbilled:
            return None
        bill = m.Bill(
            id=bill_id,
            account_id=account_id,
            status=codes.BillStatus.PENDING,
            bill_date=bill_date,
            due_date=due,
            cut_off=cut_off,
            is_final=False,
            previous_balance_cents=0,
            payments_cents=0,
            adjustments_cents=0,
            current_charges_cents=0,
            amount_due_cents=0,
            created_at=now,
        )
        s.add(bill)
        await s.flush()
        s.add_all(segments)
        await s.flush()
        for seg in segments:
            sa_row = await self._get(s, m.ServiceAgreement, seg.sa_id, "service_agreement")
            self._add_ft(
                s,
                account_id=account_id,
                sa_id=seg.sa_id,
                ft_type=codes.FtType.BILL_SEGMENT,
                parent_id=seg.id,
                amount_cents=seg.amount_cents,
                frozen=freeze,
                arrears_date=due,
                bill_id=bill.id,
            )
            if sa_row.status == codes.SaStatus.STOPPED:
                sa_row.final_billed = True
        await s.flush()
        if freeze:
            await self._complete_bill(s, bill, actor)
        return bill

    async def _unbilled_fts(self, s: AsyncSession, account_id: str) -> list[m.FinancialTransaction]:
        """Frozen FTs not yet on a bill: payments and adjustments, plus the next arrangement installment.

        An arrangement's installments are all posted when it is created (so the balance is whole) but each
        bill carries only the next one (§1.10: installments on the regular bills).
        """
        ft = m.FinancialTransaction
        rows = (
            await s.execute(
                select(ft, m.Adjustment.adjustment_type)
                .outerjoin(m.Adjustment, m.Adjustment.id == ft.parent_id)
                .where(ft.account_id == account_id, ft.frozen.is_(True), ft.bill_id.is_(None))
                .order_by(ft.created_at, ft.id)
            )
        ).all()
        picked: list[m.FinancialTransaction] = []
        installments: list[m.FinancialTransaction] = []
        for row, adj_type in rows:
            if adj_type == "PA_INSTALLMENT" and row.ft_type == codes.FtType.ADJUSTMENT:
                installments.append(row)
            else:
                picked.append(row)
        if installments:
            # Split amounts put the extra cents first (payplan.split_cents), so the larger ones go first.
            installments.sort(key=lambda f: (-f.amount_cents, f.created_at, f.id))
            picked.append(installments[0])
        return picked

    async def _complete_bill(self, s: AsyncSession, bill: m.Bill, actor: str) -> None:
        """Sweep unbilled FTs onto the bill, fix its printed amounts and mark it Complete."""
        swept = await self._unbilled_fts(s, bill.account_id)
        payments = adjustments = 0
        for f in swept:
            f.bill_id = bill.id
            if f.ft_type in (codes.FtType.PAY_SEGMENT, codes.FtType.PAY_CANCEL):
                payments += f.amount_cents
            else:
                adjustments += f.amount_cents
                if f.ft_type == codes.FtType.ADJUSTMENT and f.amount_cents > 0:
                    f.arrears_date = bill.due_date  # a charge becomes due with the bill it is on
        await s.flush()
        current = int(
            await s.scalar(
                select(func.coalesce(func.sum(m.BillSegment.amount_cents), 0)).where(
                    m.BillSegment.bill_id == bill.id, m.BillSegment.status == codes.BsegStatus.FROZEN
                )
            )
            or 0
        )
        ledger = await self._ledger(s, bill.account_id)
        due_now = balance_cents(ledger)
        bill.current_charges_cents = current
        bill.payments_cents = payments
        bill.adjustments_cents = adjustments
        bill.amount_due_cents = due_now
        bill.previous_balance_cents = due_now - current - payments - adjustments
        open_left = await s.scalar(
            select(func.count())
            .select_from(m.ServiceAgreement)
            .where(
                m.ServiceAgreement.account_id == bill.account_id,
                m.ServiceAgreement.status.in_(sorted(codes.OPEN_SA_STATUSES)),
                m.ServiceAgreement.sa_type.in_(sorted(codes.METERED_SA_TYPES)),
            )
        )
        bill.is_final = not open_left
        bill.status = codes.BillStatus.COMPLETE
        bill.completed_at = self._now()
        await self._audit_money(
            s,
            actor,
            "ccb.bill.completed",
            f"account:{bill.account_id}",
            {"bill": bill.id, "current_charges_cents": current, "amount_due_cents": due_now},
        )
        self._emit(
            s,
            "hub.ccb.bill.completed",
            ev.BillCompleted(account_id=bill.account_id, bill_id=bill.id, is_final=bill.is_final),
            actor,
        )

    async def freeze_bill_segment(
        self, request: p.FreezeBillSegment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.BillSegmentView:
        async def work(s: AsyncSession) -> p.BillSegmentView:
            seg = await self._get(s, m.BillSegment, request.bill_segment_id, "bill_segment", lock=True)
            if seg.status != codes.BsegStatus.FREEZABLE:
                raise IllegalTransition("bill_segment", seg.id, seg.status, "freeze")
            ft = await self._ft_of(s, seg.id, codes.FtType.BILL_SEGMENT)
            assert ft is not None
            seg.status = codes.BsegStatus.FROZEN
            seg.frozen_at = self._now()
            ft.frozen = True
            await s.flush()
            pending = await s.scalar(
                select(func.count())
                .select_from(m.BillSegment)
                .where(
                    m.BillSegment.bill_id == seg.bill_id, m.BillSegment.status == codes.BsegStatus.FREEZABLE
                )
            )
            if not pending:
                bill = await self._get(s, m.Bill, seg.bill_id, "bill", lock=True)
                await self._complete_bill(s, bill, actor)
            return await self._segment_view(s, seg)

        return await self._write("freeze_bill_segment", request, idempotency_key, p.BillSegmentView, work)

    async def _cancel_segment(self, s: AsyncSession, seg: m.BillSegment, reason: str, actor: str) -> None:
        if seg.status != codes.BsegStatus.FROZEN:
            raise IllegalTransition("bill_segment", seg.id, seg.status, "cancel")
        original = await self._ft_of(s, seg.id, codes.FtType.BILL_SEGMENT)
        assert original is not None
        seg.status = codes.BsegStatus.CANCELED
        seg.cancel_reason = reason
        seg.canceled_at = self._now()
        # The reversing FT sits on the same bill with the same arrears date, so the pair nets to zero in
        # every bucket (balance and past due alike).
        self._add_ft(
            s,
            account_id=original.account_id,
            sa_id=original.sa_id,
            ft_type=codes.FtType.BILL_CANCEL,
            parent_id=seg.id,
            amount_cents=-original.amount_cents,
            cancels=original.id,
            arrears_date=original.arrears_date,
            bill_id=original.bill_id,
        )
        await self._audit_money(
            s,
            actor,
            "ccb.bill_segment.canceled",
            f"account:{original.account_id}",
            {"bill_segment": seg.id, "amount_cents": -original.amount_cents, "reason": reason},
        )

    async def cancel_bill_segment(
        self, request: p.CancelBillSegment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.BillSegmentView:
        async def work(s: AsyncSession) -> p.BillSegmentView:
            seg = await self._get(s, m.BillSegment, request.bill_segment_id, "bill_segment", lock=True)
            await self._cancel_segment(s, seg, clean_text(request.reason, "reason", limit=200), actor)
            await s.flush()
            return await self._segment_view(s, seg)

        return await self._write("cancel_bill_segment", request, idempotency_key, p.BillSegmentView, work)

    async def rebill(
        self, request: p.Rebill, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.RebillResult:
        """Cancel/rebill in one step (§1.7): the original goes Canceled with its BX, the new segment is
        built from the same start read and the (corrected) end read and frozen with its BS."""

        async def work(s: AsyncSession) -> p.RebillResult:
            seg = await self._get(s, m.BillSegment, request.bill_segment_id, "bill_segment", lock=True)
            reason = clean_text(request.reason, "reason", limit=200)
            if seg.status != codes.BsegStatus.FROZEN:
                raise IllegalTransition("bill_segment", seg.id, seg.status, "rebill")
            sa = await self._get(s, m.ServiceAgreement, seg.sa_id, "service_agreement")
            if (
                seg.start_reading is None
                or seg.end_reading is None
                or sa.sp_id is None
                or sa.premise_id is None
            ):
                raise Invalid("bill_segment_id", "only metered segments can be rebilled")
            meter = await self._current_meter(s, sa.sp_id)
            if meter is None:
                raise Invalid("bill_segment_id", "the service point has no meter")
            end_reading, end_read_id, estimated = seg.end_reading, seg.end_read_id, seg.estimated
            if request.corrected_reading is not None:
                later = await s.scalar(
                    select(func.count())
                    .select_from(m.BillSegment)
                    .where(
                        m.BillSegment.sa_id == sa.id,
                        m.BillSegment.status != codes.BsegStatus.CANCELED,
                        m.BillSegment.period_start >= seg.period_end,
                    )
                )
                if later:
                    raise Invalid(
                        "corrected_reading",
                        "a later segment was billed from this read; cancel/rebill the later segments first",
                    )
                old = await s.get(m.MeterRead, seg.end_read_id) if seg.end_read_id else None
                read_at = old.read_at if old is not None else local_time(seg.period_end)
                corrected = self._new_read(
                    meter,
                    read_at,
                    request.corrected_reading,
                    ReadType.REGULAR,
                    source="correction",
                    actor=actor,
                    remarks=f"corrects read {seg.end_read_id}",
                    field="corrected_reading",
                )
                if old is not None:
                    old.use_on_bill = False  # the corrected read replaces it on every later bill
                s.add(corrected)
                await s.flush()
                end_reading, end_read_id, estimated = corrected.reading or 0, corrected.id, False
            premise = await self._get(s, m.Premise, sa.premise_id, "premise")
            service = codes.SA_TYPES[sa.sa_type].service
            settled = net_metering_of(seg.calc)
            if settled is not None:
                # The rebill re-prices the same period: same received readings, same credit carried in,
                # and a final bill still forfeits what is left (billing.py, docs/ccb-domain.md §4.1).
                block = seg.calc["net_metering"]
                priced = price_net_metered_segment(
                    self._rates,
                    sa.zone or premise.electric_zone,
                    seg.period_start,
                    seg.period_end,
                    delivered_readings=(seg.start_reading, end_reading),
                    received_readings=(
                        int(block["received_start_reading"]),
                        int(block["received_end_reading"]),
                    ),
                    register_digits=meter.register_digits,
                    credit_in_kwh=settled.credit_in,
                    final=seg.end_read_id is not None and seg.end_read_id == sa.stop_read_id,
                )
            else:
                priced = price_segment(
                    self._rates,
                    "electric" if service == "electric" else "water",
                    sa.zone or "",
                    premise.lot_size_sqft,
                    seg.period_start,
                    seg.period_end,
                    seg.start_reading,
                    end_reading,
                    meter.register_digits,
                )
            await self._cancel_segment(s, seg, reason, actor)
            original = await self._ft_of(s, seg.id, codes.FtType.BILL_SEGMENT)
            assert original is not None
            now = self._now()
            new = m.BillSegment(
                id=self._ids.bill_segment_id(),
                bill_id=seg.bill_id,
                sa_id=seg.sa_id,
                status=codes.BsegStatus.FROZEN,
                period_start=seg.period_start,
                period_end=seg.period_end,
                start_read_id=seg.start_read_id,
                end_read_id=end_read_id,
                start_reading=seg.start_reading,
                end_reading=end_reading,
                estimated=estimated,
                quantity=str(priced.quantity),
                tier_quantities=priced.tier_quantities,
                calc=priced.calc,
                amount_cents=priced.amount_cents,
                rebill_of=seg.id,
                created_at=now,
                frozen_at=now,
            )
            s.add(new)
            await s.flush()
            self._add_ft(
                s,
                account_id=original.account_id,
                sa_id=seg.sa_id,
                ft_type=codes.FtType.BILL_SEGMENT,
                parent_id=new.id,
                amount_cents=new.amount_cents,
                arrears_date=original.arrears_date,
                bill_id=seg.bill_id,
            )
            await self._audit_money(
                s,
                actor,
                "ccb.bill_segment.rebilled",
                f"account:{original.account_id}",
                {"canceled": seg.id, "rebill": new.id, "amount_cents": new.amount_cents},
            )
            await s.flush()
            return p.RebillResult(canceled_segment_id=seg.id, new_segment=await self._segment_view(s, new))

        return await self._write("rebill", request, idempotency_key, p.RebillResult, work)
