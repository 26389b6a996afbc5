"""The local CCB's corrections and explanations of bills: adjustments and their approval and
cancellation (§1.8), the bill explanation in plain words (§1.7) and an account's net-metering view with
its billed periods and kWh credit bank (§4.1).

Section signs (§) cite docs/ccb-domain.md.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb import codes
from core.ccb import models as m
from core.ccb import port as p
from core.ccb.errors import IllegalTransition, Invalid
from core.ccb.local.base import (
    clean_text,
)
from core.ccb.local.views import LocalViews
from core.ccb.rates import format_cents

__all__ = ["AdjustmentsMixin"]


class AdjustmentsMixin(LocalViews):
    """Adjustments, bill explanations and the net-metering view."""

    async def get_adjustment(self, adjustment_id: str) -> p.AdjustmentView:
        async with self._db.read() as s:
            return self._adjustment_view(await self._get(s, m.Adjustment, adjustment_id, "adjustment"))

    async def _post_adjustment(
        self,
        s: AsyncSession,
        sa: m.ServiceAgreement,
        adj_type: codes.AdjustmentType,
        magnitude: int,
        reason: str,
        actor: str,
        *,
        freeze: bool,
    ) -> m.Adjustment:
        now = self._now()
        adj = m.Adjustment(
            id=self._ids.adjustment_id(),
            sa_id=sa.id,
            account_id=sa.account_id,
            adjustment_type=adj_type.code,
            amount_cents=adj_type.sign * magnitude,
            status=codes.AdjStatus.FROZEN if freeze else codes.AdjStatus.FREEZABLE,
            reason=reason,
            created_by=actor,
            created_at=now,
            frozen_at=now if freeze else None,
        )
        s.add(adj)
        await s.flush()
        if freeze:
            self._add_ft(
                s,
                account_id=sa.account_id,
                sa_id=sa.id,
                ft_type=codes.FtType.ADJUSTMENT,
                parent_id=adj.id,
                amount_cents=adj.amount_cents,
            )
            await self._audit_money(
                s,
                actor,
                "ccb.adjustment.frozen",
                f"account:{sa.account_id}",
                {"adjustment": adj.id, "type": adj.adjustment_type, "amount_cents": adj.amount_cents},
            )
        return adj

    async def create_adjustment(
        self, request: p.CreateAdjustment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.AdjustmentView:
        async def work(s: AsyncSession) -> p.AdjustmentView:
            adj_type = codes.ADJUSTMENT_TYPES.get(request.adjustment_type)
            if adj_type is None or adj_type.system:
                allowed = sorted(k for k, v in codes.ADJUSTMENT_TYPES.items() if not v.system)
                raise Invalid("adjustment_type", f"must be one of {', '.join(allowed)}")
            if request.amount_cents <= 0:
                raise Invalid("amount_cents", "must be a positive amount; the type decides charge or credit")
            reason = clean_text(request.reason, "reason", limit=200)
            sa = await self._get(s, m.ServiceAgreement, request.sa_id, "service_agreement", lock=True)
            if sa.status == codes.SaStatus.CANCELED:
                raise IllegalTransition(
                    "service_agreement",
                    sa.id,
                    sa.status,
                    "create_adjustment",
                    codes.SA_STATUS_LABELS[sa.status],
                )
            adj = await self._post_adjustment(
                s, sa, adj_type, request.amount_cents, reason, actor, freeze=not adj_type.approval_required
            )
            return self._adjustment_view(adj)

        return await self._write("create_adjustment", request, idempotency_key, p.AdjustmentView, work)

    async def approve_adjustment(
        self, request: p.ApproveAdjustment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.AdjustmentView:
        async def work(s: AsyncSession) -> p.AdjustmentView:
            adj = await self._get(s, m.Adjustment, request.adjustment_id, "adjustment", lock=True)
            if adj.status != codes.AdjStatus.FREEZABLE:
                raise IllegalTransition("adjustment", adj.id, adj.status, "approve")
            if actor == adj.created_by:
                raise Invalid("actor", "an adjustment must be approved by someone other than its creator")
            now = self._now()
            adj.status = codes.AdjStatus.FROZEN
            adj.approved_by = actor
            adj.frozen_at = now
            self._add_ft(
                s,
                account_id=adj.account_id,
                sa_id=adj.sa_id,
                ft_type=codes.FtType.ADJUSTMENT,
                parent_id=adj.id,
                amount_cents=adj.amount_cents,
            )
            await self._audit_money(
                s,
                actor,
                "ccb.adjustment.frozen",
                f"account:{adj.account_id}",
                {"adjustment": adj.id, "type": adj.adjustment_type, "amount_cents": adj.amount_cents},
            )
            return self._adjustment_view(adj)

        return await self._write("approve_adjustment", request, idempotency_key, p.AdjustmentView, work)

    async def cancel_adjustment(
        self, request: p.CancelAdjustment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.AdjustmentView:
        async def work(s: AsyncSession) -> p.AdjustmentView:
            adj = await self._get(s, m.Adjustment, request.adjustment_id, "adjustment", lock=True)
            reason = clean_text(request.reason, "reason", limit=200)
            if codes.ADJUSTMENT_TYPES[adj.adjustment_type].system:
                raise Invalid(
                    "adjustment_id", "adjustments posted by the system are canceled with their owner"
                )
            if adj.status == codes.AdjStatus.FREEZABLE:
                adj.status = codes.AdjStatus.CANCELED  # never frozen: nothing to reverse
            elif adj.status == codes.AdjStatus.FROZEN:
                original = await self._ft_of(s, adj.id, codes.FtType.ADJUSTMENT)
                assert original is not None
                adj.status = codes.AdjStatus.CANCELED
                self._add_ft(
                    s,
                    account_id=adj.account_id,
                    sa_id=adj.sa_id,
                    ft_type=codes.FtType.ADJUSTMENT_CANCEL,
                    parent_id=adj.id,
                    amount_cents=-original.amount_cents,
                    cancels=original.id,
                    arrears_date=original.arrears_date,
                )
                await self._audit_money(
                    s,
                    actor,
                    "ccb.adjustment.canceled",
                    f"account:{adj.account_id}",
                    {"adjustment": adj.id, "amount_cents": -original.amount_cents, "reason": reason},
                )
            else:
                raise IllegalTransition("adjustment", adj.id, adj.status, "cancel")
            adj.cancel_reason = reason
            adj.canceled_at = self._now()
            return self._adjustment_view(adj)

        return await self._write("cancel_adjustment", request, idempotency_key, p.AdjustmentView, work)

    async def bill_explanation(self, bill_id: str) -> p.BillExplanation:
        async with self._db.read() as s:
            bill = await self._get(s, m.Bill, bill_id, "bill")
            view = await self._bill_view(s, bill)
            segs = {
                seg.id: seg
                for seg in (
                    await s.scalars(select(m.BillSegment).where(m.BillSegment.bill_id == bill_id))
                ).all()
            }
        money = format_cents
        lines = [
            f"Bill {bill.id} dated {bill.bill_date.isoformat()}, due {bill.due_date.isoformat()}.",
            f"Previous balance {money(bill.previous_balance_cents)}; "
            f"payments {money(bill.payments_cents)}; adjustments {money(bill.adjustments_cents)}; "
            f"current charges {money(bill.current_charges_cents)}.",
            f"Amount due {money(bill.amount_due_cents)}.",
        ]
        explained: list[p.SegmentExplanation] = []
        for v in view.segments:
            seg = segs[v.bill_segment_id]
            calc = seg.calc or {}
            head = (
                f"{codes.SA_TYPES[v.sa_type].description}: {v.period_start.isoformat()} to "
                f"{v.period_end.isoformat()}"
            )
            seg_lines = [head]
            if "net_metering" in calc:
                # The register lines, the net and the credit lead the stored explanation (billing.py).
                seg_lines.append(f"Net-metered ({'estimated' if v.estimated else 'actual'} reads):")
            elif v.start_reading is not None and v.end_reading is not None:
                kind = "estimated" if v.estimated else "actual"
                seg_lines.append(
                    f"Meter {v.start_reading} -> {v.end_reading} ({kind} read) = "
                    f"{v.quantity} {calc.get('unit', '')}"
                    + (" (the dials rolled over)" if calc.get("rolled_over") else "")
                )
            seg_lines.extend(calc.get("explain", []))
            if v.status == codes.BsegStatus.CANCELED:
                seg_lines.append(f"Canceled: {seg.cancel_reason or 'no reason given'}")
            if v.rebill_of:
                seg_lines.append(f"Rebill of segment {v.rebill_of}")
            explained.append(
                p.SegmentExplanation(
                    bill_segment_id=v.bill_segment_id,
                    sa_type=v.sa_type,
                    status=str(v.status),
                    illustrative=bool(calc.get("illustrative", False)),
                    lines=seg_lines,
                )
            )
        return p.BillExplanation(bill_id=bill_id, lines=lines, segments=explained)

    async def get_net_metering(self, account_id: str, limit: int = 6) -> p.NetMeteringView | None:
        """The account's net-metered SA (an open one first, else the latest) and its frozen segments."""
        if limit < 1 or limit > 24:
            raise Invalid("limit", "must be between 1 and 24")
        async with self._db.read() as s:
            await self._get(s, m.Account, account_id, "account")
            nem = [
                sa for sa in await self._account_sas(s, account_id) if codes.SA_TYPES[sa.sa_type].net_metered
            ]
            if not nem:
                return None
            sa = max(
                nem, key=lambda x: (x.status in codes.OPEN_SA_STATUSES, x.start_date, x.created_at, x.id)
            )
            meter = await self._current_meter(s, sa.sp_id) if sa.sp_id is not None else None
            rows = (
                await s.execute(
                    select(m.BillSegment, m.Bill.bill_date)
                    .join(m.Bill, m.Bill.id == m.BillSegment.bill_id)
                    .where(m.BillSegment.sa_id == sa.id, m.BillSegment.status == codes.BsegStatus.FROZEN)
                    .order_by(m.BillSegment.period_end.desc(), m.BillSegment.created_at.desc())
                    .limit(limit)
                )
            ).all()
        periods = [
            period
            for seg, bill_date in rows
            if (period := self._net_metering_period(seg, bill_date)) is not None
        ]
        return p.NetMeteringView(
            account_id=account_id,
            sa_id=sa.id,
            sa_type=sa.sa_type,
            sa_status=str(sa.status),
            sa_status_label=codes.SA_STATUS_LABELS[sa.status],
            rate_schedule=sa.rate_schedule,
            zone=sa.zone,
            premise_id=sa.premise_id,
            meter_id=meter.id if meter is not None else None,
            badge_number=meter.badge_number if meter is not None else None,
            credit_bank_kwh=periods[0].credit_out_kwh if periods else "0.00",
            periods=periods,
        )

    @staticmethod
    def _net_metering_period(seg: m.BillSegment, bill_date: dt.date) -> p.NetMeteringPeriod | None:
        calc = seg.calc or {}
        block = calc.get("net_metering")
        if not block:
            return None  # billed before the SA was net-metered: nothing to explain in these terms
        return p.NetMeteringPeriod(
            bill_id=seg.bill_id,
            bill_date=bill_date,
            bill_segment_id=seg.id,
            period_start=seg.period_start,
            period_end=seg.period_end,
            days=int(calc["days"]),
            zone=str(calc["zone"]),
            estimated=seg.estimated,
            delivered_start_reading=int(block["delivered_start_reading"]),
            delivered_end_reading=int(block["delivered_end_reading"]),
            received_start_reading=int(block["received_start_reading"]),
            received_end_reading=int(block["received_end_reading"]),
            delivered_kwh=block["delivered_kwh"],
            received_kwh=block["received_kwh"],
            net_kwh=block["net_kwh"],
            credit_in_kwh=block["credit_in_kwh"],
            credit_used_kwh=block["credit_used_kwh"],
            billed_kwh=block["billed_kwh"],
            credit_earned_kwh=block["credit_earned_kwh"],
            credit_out_kwh=block["credit_out_kwh"],
            credit_forfeited_kwh=block["credit_forfeited_kwh"],
            tier_kwh=list(seg.tier_quantities),
            tier_lines=[
                p.NetMeteringTierLine(
                    start=dt.date.fromisoformat(line["start"]),
                    end=dt.date.fromisoformat(line["end"]),
                    season=line["season"],
                    tier=int(line["tier"]),
                    kwh=line["quantity"],
                    unit_price=line["unit_price"],
                    amount_cents=int(line["amount_cents"]),
                )
                for line in calc.get("lines", [])
            ],
            charges=[
                p.NetMeteringCharge(
                    name=c["name"], description=c["description"], amount_cents=c["amount_cents"]
                )
                for c in calc.get("charges", [])
            ],
            energy_cents=int(calc["usage_cents"]),
            charges_cents=int(calc["charges_cents"]),
            amount_cents=seg.amount_cents,
            lines=list(calc.get("explain", [])),
        )
