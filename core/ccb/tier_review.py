"""The "was the customer billed in the right tier?" review of past bills (docs/ccb-domain.md §2.5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

from core.ccb.rates import (
    BillCalculation,
    RateError,
    ScheduleSpec,
    calculate,
    exact_tier_limits,
    price_tier_split,
    round_half_up,
    to_quantity,
)

__all__ = [
    "DEFAULT_LAST_N",
    "DEFAULT_TOLERANCE",
    "BilledPeriod",
    "PeriodReview",
    "TierReview",
    "review_tiers",
]

# Six bimonthly bills = the last 12 months; residential billing is bimonthly (docs/ccb-domain.md §2.4).
DEFAULT_LAST_N = 6
# A bill's tier quantities count as right when each is within one unit (kWh/HCF) of the correct
# split: a billing system that rounds prorated limits to whole units legitimately differs by that much.
DEFAULT_TOLERANCE = Decimal(1)


@dataclass(frozen=True)
class BilledPeriod:
    """One past bill segment as billed: period [start, end), quantity and the quantity billed per tier.

    ``billed_cents`` is what the bill charged for usage plus fixed charges, before taxes; leave it None to
    re-price ``billed_tiers`` with the schedule (see ``rates.price_tier_split``).
    """

    start: date
    end: date  # end-read date, exclusive (docs/ccb-domain.md §2.5 step 1)
    quantity: int | Decimal
    billed_tiers: tuple[int | Decimal, ...]
    billed_cents: int | None = None
    bill_id: str | None = None


@dataclass(frozen=True)
class PeriodReview:
    """Verdict for one bill."""

    period: BilledPeriod
    days: int
    daily_average: Decimal  # reviewed quantity / days, rounded half up to 0.01
    reviewed_quantity: Decimal  # the bill's own quantity, or its share of the window when spreading
    prorated_limits: tuple[Decimal, ...]  # sizes of tiers 1..n-1 for this period (§2.5 step 3)
    billed_tiers: tuple[Decimal, ...]
    correct_tiers: tuple[Decimal, ...]
    right_tiers: bool  # every tier within the tolerance of the correct split
    billed_tier: int  # highest tier billed
    correct_tier: int  # highest tier the correct split reaches
    billed_cents: int
    correct_cents: int
    difference_cents: int  # billed - correct: > 0 overbilled (credit due), < 0 underbilled
    correct: BillCalculation  # the full corrected calculation, for the explanation


@dataclass(frozen=True)
class TierReview:
    """Review of the last N bills: the window's daily average against the tier thresholds, and per bill."""

    schedule_code: str
    zone: str
    lot_size: str | None
    spread_usage: bool
    days: int
    total_quantity: Decimal
    average_daily: Decimal  # window total / window days, rounded half up to 0.01
    daily_thresholds: tuple[Decimal, ...]  # per-day upper bounds of tiers 1..n-1 (cumulative)
    average_tier: int  # the tier the window's daily average falls in (§2.5 step 5)
    periods: tuple[PeriodReview, ...]

    @property
    def wrong_periods(self) -> tuple[PeriodReview, ...]:
        return tuple(p for p in self.periods if not p.right_tiers)

    @property
    def total_difference_cents(self) -> int:
        return sum(p.difference_cents for p in self.periods)


def _tier_of(value: Fraction, thresholds: Sequence[Fraction]) -> int:
    # "In tier k+1" only when strictly above the k-th threshold (§2.5 step 5: "exceeds").
    return 1 + sum(1 for t in thresholds if value > t)


def review_tiers(
    schedule: ScheduleSpec,
    zone: str | int,
    periods: Sequence[BilledPeriod],
    *,
    lot_size: str | None = None,
    last_n: int = DEFAULT_LAST_N,
    spread_usage: bool = False,
    tolerance: Decimal = DEFAULT_TOLERANCE,
) -> TierReview:
    """Check the last ``last_n`` bills of ``periods`` against the correct tier split (docs/ccb-domain.md
    §2.5).

    For the window of the last N bills: average daily use u = total quantity / total days, compared
    with the per-day tier thresholds (prorated limits / days; t1_30/30 and (t1_30+t2_30)/30 for R-1A).
    For each bill: the correct split is recomputed with the rate engine and compared tier by tier
    with what was billed; the amount difference is billed - correct, in cents.

    ``spread_usage=True`` is the §2.5 step 5 correction after an estimated read was later corrected:
    the window's total is spread evenly per day (u x days of each bill, cumulative-rounded so the
    window total is kept exactly) and each bill is re-tiered on its share. The fix itself is a
    cancel/rebill of the affected segments, which is the caller's job.
    """
    if isinstance(last_n, bool) or not isinstance(last_n, int) or last_n < 1:
        raise RateError("last_n must be a positive whole number")
    if not periods:
        raise RateError("at least one billed period is required")
    tol = Decimal(tolerance)
    if tol < 0:
        raise RateError("tolerance must not be negative")

    ordered = sorted(periods, key=lambda p: p.start)
    for earlier, later in pairwise(ordered):
        if later.start < earlier.end:
            raise RateError(f"billed periods overlap: {earlier.start}-{earlier.end} and {later.start}")
    window = ordered[-last_n:]

    quantities = [to_quantity(p.quantity, "billed quantity") for p in window]
    day_counts = [(p.end - p.start).days for p in window]
    if any(d < 1 for d in day_counts):
        raise RateError("every billed period must end after it starts")
    total_days = sum(day_counts)
    total_qty = sum(quantities, Decimal(0))
    window_u = Fraction(total_qty) / total_days

    # Window thresholds: the exact prorated limits of each bill added up, per day of the window.
    exact_sizes = [exact_tier_limits(schedule, zone, p.start, p.end, lot_size) for p in window]
    cumulative_per_day: list[Fraction] = []
    running = Fraction(0)
    for t in range(schedule.tiers - 1):
        running += sum((sizes[t] for sizes in exact_sizes), Fraction(0))
        cumulative_per_day.append(running / total_days)

    if spread_usage:
        reviewed = _spread(total_qty, day_counts)
    else:
        reviewed = quantities

    reviews: list[PeriodReview] = []
    for period, days, qty in zip(window, day_counts, reviewed, strict=True):
        billed_tiers = tuple(to_quantity(q, "billed tier quantity") for q in period.billed_tiers)
        if len(billed_tiers) != schedule.tiers:
            raise RateError(
                f"schedule {schedule.code} has {schedule.tiers} tiers; a bill lists {len(billed_tiers)}"
            )
        correct = calculate(schedule, zone, period.start, period.end, qty, lot_size=lot_size)
        right = all(abs(b - c) <= tol for b, c in zip(billed_tiers, correct.tier_quantities, strict=True))
        if period.billed_cents is not None:
            billed_cents = period.billed_cents
        elif billed_tiers == correct.tier_quantities:
            billed_cents = correct.total_cents  # same split, same price: skip re-pricing
        else:
            billed_cents = price_tier_split(
                schedule, zone, period.start, period.end, billed_tiers, lot_size=lot_size
            ).total_cents
        reviews.append(
            PeriodReview(
                period=period,
                days=days,
                daily_average=round_half_up(Fraction(qty) / days),
                reviewed_quantity=qty,
                prorated_limits=correct.tier_limits,
                billed_tiers=billed_tiers,
                correct_tiers=correct.tier_quantities,
                right_tiers=right,
                billed_tier=max((i + 1 for i, q in enumerate(billed_tiers) if q > 0), default=1),
                correct_tier=correct.highest_tier,
                billed_cents=billed_cents,
                correct_cents=correct.total_cents,
                difference_cents=billed_cents - correct.total_cents,
                correct=correct,
            )
        )

    return TierReview(
        schedule_code=schedule.code,
        zone=str(zone),
        lot_size=lot_size,
        spread_usage=spread_usage,
        days=total_days,
        total_quantity=total_qty,
        average_daily=round_half_up(window_u),
        daily_thresholds=tuple(round_half_up(t) for t in cumulative_per_day),
        average_tier=_tier_of(window_u, cumulative_per_day),
        periods=tuple(reviews),
    )


def _spread(total: Decimal, day_counts: Sequence[int]) -> list[Decimal]:
    """Split ``total`` over periods by days, cumulative-rounded to 0.01 so the parts sum to ``total``."""
    total_days = sum(day_counts)
    parts: list[Decimal] = []
    elapsed = 0
    previous = Decimal("0.00")
    for days in day_counts:
        elapsed += days
        upto = round_half_up(Fraction(total) * elapsed / total_days)
        parts.append(upto - previous)
        previous = upto
    return parts
