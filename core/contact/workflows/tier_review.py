"""The tier review (docs/ccb-domain.md §2.5): per bill of the last N periods, the billed against the correct
tiers
and amounts, and the cancel/rebill of every segment billed in the wrong tiers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core.ccb import port as p
from core.ccb.errors import Invalid
from core.ccb.rates import RateError, format_cents, lot_size_class
from core.ccb.tier_review import BilledPeriod, PeriodReview, review_tiers
from core.contact import events as ev
from core.contact.common import ServiceBase, View, clean_reason
from core.contact.guard import ContactAccess

__all__ = [
    "RebilledSegment",
    "TierPeriod",
    "TierReview",
    "TierReviewApplied",
    "TierReviewView",
    "TierServiceReview",
]


class TierPeriod(View, frozen=True):
    bill_id: str | None
    bill_segment_id: str
    period_start: dt.date
    period_end: dt.date
    days: int
    quantity: str
    daily_average: str
    billed_tiers: list[str]
    correct_tiers: list[str]
    right_tiers: bool
    billed_tier: int
    correct_tier: int
    billed_cents: int
    correct_cents: int
    difference_cents: int


class TierServiceReview(View, frozen=True):
    sa_id: str
    service: str
    schedule: str
    zone: str
    lot_size: str | None
    days: int
    total_quantity: str
    average_daily: str
    daily_thresholds: list[str]
    average_tier: int
    wrong_periods: int
    total_difference_cents: int
    periods: list[TierPeriod]


class TierReviewView(View, frozen=True):
    account_id: str
    periods: int
    wrong_segments: int
    total_difference_cents: int
    services: list[TierServiceReview]


class RebilledSegment(View, frozen=True):
    bill_id: str | None
    canceled_segment_id: str
    new_segment_id: str
    before_cents: int
    after_cents: int


class TierReviewApplied(View, frozen=True):
    account_id: str
    rebilled: list[RebilledSegment]
    before_cents: int
    after_cents: int
    difference_cents: int
    balance_before_cents: int
    balance_after_cents: int


def _tier_period(review: PeriodReview, segment_id: str) -> TierPeriod:
    return TierPeriod(
        bill_id=review.period.bill_id,
        bill_segment_id=segment_id,
        period_start=review.period.start,
        period_end=review.period.end,
        days=review.days,
        quantity=str(review.reviewed_quantity),
        daily_average=str(review.daily_average),
        billed_tiers=[str(q) for q in review.billed_tiers],
        correct_tiers=[str(q) for q in review.correct_tiers],
        right_tiers=review.right_tiers,
        billed_tier=review.billed_tier,
        correct_tier=review.correct_tier,
        billed_cents=review.billed_cents,
        correct_cents=review.correct_cents,
        difference_cents=review.difference_cents,
    )


class TierReview(ServiceBase):
    """Reviewing an account's tiers and applying the review as rebills."""

    async def tier_review(self, account_id: str, periods: int) -> TierReviewView:
        reviews = await self._review(account_id, periods)
        services = [view for view, _ in reviews]
        return TierReviewView(
            account_id=account_id,
            periods=periods,
            wrong_segments=sum(v.wrong_periods for v in services),
            total_difference_cents=sum(v.total_difference_cents for v in services),
            services=services,
        )

    async def _review(
        self, account_id: str, periods: int
    ) -> list[tuple[TierServiceReview, list[TierPeriod]]]:
        summary = await self.ccb.get_account_summary(account_id)
        # Enough bills for N periods of every SA, with room for final and rebilled bills.
        bills = await self.ccb.list_bills(account_id, limit=min(100, periods * 2 + 4))
        out: list[tuple[TierServiceReview, list[TierPeriod]]] = []
        premises: dict[str, p.PremiseView] = {}
        for sa in summary.service_agreements:
            if sa.rate_schedule is None or sa.zone is None or sa.premise_id is None:
                continue
            segments = sorted(
                (
                    (bill.bill_id, seg)
                    for bill in bills
                    for seg in bill.segments
                    if seg.sa_id == sa.sa_id and seg.status == "50"
                ),
                key=lambda pair: pair[1].period_start,
            )[-periods:]
            if not segments:
                continue
            if sa.premise_id not in premises:
                premises[sa.premise_id] = await self.ccb.get_premise(sa.premise_id)
            try:
                schedule = self.rates.schedule(sa.rate_schedule)
                lot = (
                    lot_size_class(schedule, premises[sa.premise_id].lot_size_sqft)
                    if schedule.lot_sizes
                    else None
                )
                review = review_tiers(
                    schedule,
                    sa.zone,
                    [
                        BilledPeriod(
                            start=seg.period_start,
                            end=seg.period_end,
                            quantity=Decimal(seg.quantity),
                            billed_tiers=tuple(Decimal(q) for q in seg.tier_quantities),
                            billed_cents=seg.amount_cents,
                            bill_id=bill_id,
                        )
                        for bill_id, seg in segments
                    ],
                    lot_size=lot,
                    last_n=periods,
                )
            except RateError as exc:
                raise Invalid("periods", f"SA {sa.sa_id} cannot be reviewed: {exc}") from None
            by_start = {seg.period_start: seg for _, seg in segments}
            lines = [_tier_period(r, by_start[r.period.start].bill_segment_id) for r in review.periods]
            out.append(
                (
                    TierServiceReview(
                        sa_id=sa.sa_id,
                        service=sa.sa_type,
                        schedule=review.schedule_code,
                        zone=review.zone,
                        lot_size=review.lot_size,
                        days=review.days,
                        total_quantity=str(review.total_quantity),
                        average_daily=str(review.average_daily),
                        daily_thresholds=[str(t) for t in review.daily_thresholds],
                        average_tier=review.average_tier,
                        wrong_periods=len(review.wrong_periods),
                        total_difference_cents=sum(r.difference_cents for r in review.wrong_periods),
                        periods=lines,
                    ),
                    lines,
                )
            )
        return out

    async def apply_tier_review(
        self, access: ContactAccess, account_id: str, periods: int, reason: str
    ) -> TierReviewApplied:
        """Cancel and rebill every segment billed in the wrong tiers (§1.7 cancel/rebill, not adjustments).

        Each rebill is one port transaction keyed by the segment it cancels, so a repeated apply never
        rebills a segment twice; the rebill re-prices the segment's own reads with the rate engine.
        """
        text = clean_reason(reason) or "tier review: billed in the wrong tiers"
        balance_before = (await self.ccb.get_balance(account_id)).balance_cents
        wrong = [
            line
            for _, lines in await self._review(account_id, periods)
            for line in lines
            if not line.right_tiers
        ]
        rebilled: list[RebilledSegment] = []
        for line in wrong:
            result = await self.ccb.rebill(
                p.Rebill(bill_segment_id=line.bill_segment_id, reason=text),
                actor=access.actor,
                idempotency_key=f"tier-review:{line.bill_segment_id}",
            )
            rebilled.append(
                RebilledSegment(
                    bill_id=line.bill_id,
                    canceled_segment_id=result.canceled_segment_id,
                    new_segment_id=result.new_segment.bill_segment_id,
                    before_cents=line.billed_cents,
                    after_cents=result.new_segment.amount_cents,
                )
            )
        balance_after = (await self.ccb.get_balance(account_id)).balance_cents
        before = sum(r.before_cents for r in rebilled)
        after = sum(r.after_cents for r in rebilled)
        async with self.db.session() as s:
            if access.contact_id is not None:
                self._add_action(
                    s,
                    access.contact_id,
                    access.actor,
                    "change.billing",
                    f"tier review: rebilled {len(rebilled)} segment(s), {format_cents(after - before)}",
                    account_id,
                )
            if rebilled:
                self.events.emit(
                    s,
                    ev.TIER_REVIEW_APPLIED,
                    ev.TierReviewApplied(
                        account_id=account_id,
                        canceled_segment_ids=[r.canceled_segment_id for r in rebilled],
                        rebill_segment_ids=[r.new_segment_id for r in rebilled],
                    ),
                    actor=access.actor,
                )
        return TierReviewApplied(
            account_id=account_id,
            rebilled=rebilled,
            before_cents=before,
            after_cents=after,
            difference_cents=after - before,
            balance_before_cents=balance_before,
            balance_after_cents=balance_after,
        )
