"""The account at a glance and a bill in plain words: each segment's tiers and amounts, the due date, and
whether the late payment charge would apply (docs/ccb-domain.md §1.17).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import msgspec

from core.ccb import port as p
from core.ccb.billing import DUE_DAYS
from core.ccb.codes import SA_TYPES
from core.ccb.rates import format_cents
from core.contact.common import ServiceBase, View
from core.contact.guard import ContactAccess

__all__ = [
    "AccountView",
    "BillExplanationView",
    "Bills",
    "ExplainedSegment",
    "LateFeeRule",
    "TierLine",
    "late_fee_cents",
    "late_fee_rule",
]

# LADWP late payment charge (docs/ccb-domain.md §1.17 [S]): 1.5% per month on a service's past-due amount over
# $150, after an 8-day grace following the due date (bills are due 19 days after issue, billing.DUE_DAYS).
LATE_FEE_RATE = Decimal("0.015")
LATE_FEE_THRESHOLD_CENTS = 15_000
LATE_FEE_GRACE_DAYS = 8


class AccountView(p.AccountSummary, frozen=True):
    """The account summary plus the active pay plan, so a missed installment shows on the summary."""

    pay_plan: p.PayPlanView | None = None


class TierLine(View, frozen=True):
    tier: int
    quantity: str


class ExplainedSegment(View, frozen=True):
    bill_segment_id: str
    sa_id: str
    service: str
    status: str
    period_start: dt.date
    period_end: dt.date
    estimated: bool
    quantity: str
    unit: str | None
    tiers: list[TierLine]
    amount_cents: int
    illustrative: bool
    lines: list[str]


class LateFeeRule(View, frozen=True):
    """The late payment charge as it would apply to this bill if it went unpaid (docs/ccb-domain.md §1.17)."""

    rule: str
    grace_ends: dt.date
    per_service: list[str]
    charge_per_month_cents: int


class BillExplanationView(View, frozen=True):
    bill_id: str
    account_id: str
    bill_date: dt.date
    due_date: dt.date
    previous_balance_cents: int
    payments_cents: int
    adjustments_cents: int
    current_charges_cents: int
    amount_due_cents: int
    lines: list[str]
    segments: list[ExplainedSegment]
    late_fee: LateFeeRule


def late_fee_cents(past_due_cents: int) -> int:
    """One month's late payment charge on a service's past-due amount: 1.5% when it exceeds $150."""
    if past_due_cents <= LATE_FEE_THRESHOLD_CENTS:
        return 0
    return int((Decimal(past_due_cents) * LATE_FEE_RATE).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def late_fee_rule(bill: p.BillView, service_names: dict[str, str]) -> LateFeeRule:
    """Say, per service on the bill, whether the late payment charge would apply if it went unpaid."""
    grace_ends = bill.due_date + dt.timedelta(days=LATE_FEE_GRACE_DAYS)
    lines: list[str] = []
    total = 0
    for seg in bill.segments:
        if seg.status != "50":
            continue
        name = service_names.get(seg.sa_type, seg.sa_type)
        fee = late_fee_cents(seg.amount_cents)
        total += fee
        if fee:
            lines.append(
                f"{name}: {format_cents(seg.amount_cents)} is over $150.00, so if it is still unpaid after "
                f"{grace_ends.isoformat()} a late payment charge of {format_cents(fee)} a month (1.5%) "
                "is added."
            )
        else:
            lines.append(
                f"{name}: {format_cents(seg.amount_cents)} is $150.00 or less: no late payment charge."
            )
    rule = (
        f"Bills are due {DUE_DAYS} days after the bill date. A service whose past-due amount is over $150 "
        f"is charged 1.5% a month from the end of an {LATE_FEE_GRACE_DAYS}-day grace period after the due "
        "date; a payment extension does not waive it."
    )
    return LateFeeRule(rule=rule, grace_ends=grace_ends, per_service=lines, charge_per_month_cents=total)


class Bills(ServiceBase):
    """The account summary with its pay plan, and the bill explanation."""

    async def account_view(self, access: ContactAccess, account_id: str) -> AccountView:
        summary = await self.ccb.get_account_summary(account_id)
        plan = await self.ccb.get_pay_plan(summary.active_pay_plan_id) if summary.active_pay_plan_id else None
        return AccountView(**msgspec.structs.asdict(summary), pay_plan=plan)

    async def explain_bill(self, access: ContactAccess, bill: p.BillView) -> BillExplanationView:
        explained = await self.ccb.bill_explanation(bill.bill_id)
        plain = {seg.bill_segment_id: seg for seg in explained.segments}
        names = {code: t.description for code, t in SA_TYPES.items()}
        segments = []
        for seg in bill.segments:
            words = plain.get(seg.bill_segment_id)
            segments.append(
                ExplainedSegment(
                    bill_segment_id=seg.bill_segment_id,
                    sa_id=seg.sa_id,
                    service=names.get(seg.sa_type, seg.sa_type),
                    status=seg.status,
                    period_start=seg.period_start,
                    period_end=seg.period_end,
                    estimated=seg.estimated,
                    quantity=seg.quantity,
                    unit=seg.unit,
                    tiers=[TierLine(tier=i + 1, quantity=q) for i, q in enumerate(seg.tier_quantities)],
                    amount_cents=seg.amount_cents,
                    illustrative=words.illustrative if words else False,
                    lines=list(words.lines) if words else [],
                )
            )
        return BillExplanationView(
            bill_id=bill.bill_id,
            account_id=bill.account_id,
            bill_date=bill.bill_date,
            due_date=bill.due_date,
            previous_balance_cents=bill.previous_balance_cents,
            payments_cents=bill.payments_cents,
            adjustments_cents=bill.adjustments_cents,
            current_charges_cents=bill.current_charges_cents,
            amount_due_cents=bill.amount_due_cents,
            lines=list(explained.lines),
            segments=segments,
            late_fee=late_fee_rule(bill, names),
        )
