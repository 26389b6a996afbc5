"""Unit tests for the "was the customer billed in the right tier?" review (docs/ccb-domain.md §2.5)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.ccb.rates import RateError, ScheduleSpec, load_default_config
from core.ccb.tier_review import BilledPeriod, review_tiers

D = Decimal


@pytest.fixture(scope="module")
def r1a() -> ScheduleSpec:
    return load_default_config().schedule("R-1A")


# Two bimonthly Zone 1 bills:
#   P1 2023-01-01 -> 03-02 (60 days, all "Jan-Mar"), 1,000 kWh, billed 700 / 300 / 0: right.
#   P2 2023-03-02 -> 05-01 (30 days "Jan-Mar" + 30 days "Apr-May"), 1,200 kWh, billed with the
#      un-prorated 30-day blocks 350 / 700 / 150: wrong (limits for 60 days are 700 / 1400).
RIGHT = BilledPeriod(date(2023, 1, 1), date(2023, 3, 2), 1000, (700, 300, 0), bill_id="549133128888")
WRONG = BilledPeriod(date(2023, 3, 2), date(2023, 5, 1), 1200, (350, 700, 150), bill_id="549133128889")


def test_one_right_one_wrong_bill(r1a: ScheduleSpec) -> None:
    review = review_tiers(r1a, 1, [WRONG, RIGHT])  # order of input does not matter

    # Window: 2,200 kWh / 120 days = 18.33 kWh/day; per-day thresholds 350/30 = 11.67, 1050/30 = 35.00
    # -> tier 2 on average (tier 3 only above 35 kWh/day).
    assert review.days == 120
    assert review.total_quantity == D("2200.00")
    assert review.average_daily == D("18.33")
    assert review.daily_thresholds == (D("11.67"), D("35.00"))
    assert review.average_tier == 2

    first, second = review.periods
    # P1: correct 700 / 300 / 0 = billed. 700 x 0.18857 = 131.999 -> 132.00; 300 x 0.24716 = 74.148
    # -> 74.15; PAC tier 2 7.90 x 60/30 = 15.80 -> $221.95. Difference 0.
    assert first.period.bill_id == "549133128888"
    assert first.right_tiers
    assert first.prorated_limits == (D("700.00"), D("1400.00"))
    assert first.correct_tiers == (D("700.00"), D("300.00"), D("0.00"))
    assert (first.billed_cents, first.correct_cents, first.difference_cents) == (22195, 22195, 0)

    # P2 correct: 600 kWh per 30-day part, limits 350 / 700 per part ->
    #   Jan-Mar: 350 x 0.18857 = 65.9995 -> 66.00; 250 x 0.24716 = 61.79
    #   Apr-May: 350 x 0.18957 = 66.3495 -> 66.35; 250 x 0.24816 = 62.04
    #   usage $256.18 + PAC tier 2 $15.80 = $271.98.
    # P2 as billed (each tier split 50/50 by days): 33.00 + 86.51 + 18.54 + 33.17 + 86.86 + 18.61
    #   = $276.69 + PAC tier 3 22.70 x 2 = $45.40 -> $322.09. Overbilled $322.09 - $271.98 = $50.11.
    assert not second.right_tiers
    assert second.correct_tiers == (D("700.00"), D("500.00"), D("0.00"))
    assert second.billed_tier == 3 and second.correct_tier == 2
    assert second.daily_average == D("20.00")
    assert (second.billed_cents, second.correct_cents, second.difference_cents) == (32209, 27198, 5011)

    assert review.wrong_periods == (second,)
    assert review.total_difference_cents == 5011


def test_billed_amount_given_by_the_caller(r1a: ScheduleSpec) -> None:
    # When the bill's own amount is known it is used as-is: $330.00 billed vs $271.98 correct.
    wrong = BilledPeriod(WRONG.start, WRONG.end, WRONG.quantity, WRONG.billed_tiers, billed_cents=33000)
    review = review_tiers(r1a, 1, [wrong])
    assert review.periods[0].difference_cents == 33000 - 27198


def test_last_n_limits_the_window(r1a: ScheduleSpec) -> None:
    older = BilledPeriod(date(2023, 1, 1), date(2023, 3, 2), 5000, (0, 0, 5000))  # not reviewed
    newer = BilledPeriod(date(2023, 3, 2), date(2023, 5, 1), 1200, (700, 500, 0))
    review = review_tiers(r1a, 1, [older, newer], last_n=1)
    assert [p.period for p in review.periods] == [newer]
    assert review.days == 60 and review.average_daily == D("20.00")
    assert review.periods[0].right_tiers and review.periods[0].difference_cents == 0


def test_tolerance(r1a: ScheduleSpec) -> None:
    # A billing system that rounds limits to whole kWh bills 700.4 / 299.6 instead of 700 / 300.
    close = BilledPeriod(date(2023, 1, 1), date(2023, 3, 2), 1000, (D("700.4"), D("299.6"), 0))
    assert review_tiers(r1a, 1, [close]).periods[0].right_tiers
    assert not review_tiers(r1a, 1, [close], tolerance=D(0)).periods[0].right_tiers


def test_spread_after_a_corrected_estimate(r1a: ScheduleSpec) -> None:
    # P_a was billed on a low estimate (400 kWh), P_b on the actual read that caught up (2,400 kWh).
    # §2.5 step 5: 2,800 kWh over 120 days, spread evenly -> 1,400 kWh for each 60-day bill.
    est = BilledPeriod(date(2023, 1, 1), date(2023, 3, 2), 400, (400, 0, 0))
    catch_up = BilledPeriod(date(2023, 3, 2), date(2023, 5, 1), 2400, (700, 1400, 300))
    review = review_tiers(r1a, 1, [est, catch_up], spread_usage=True)
    a, b = review.periods
    assert (a.reviewed_quantity, b.reviewed_quantity) == (D("1400.00"), D("1400.00"))
    # P_a corrected: 700 x 0.18857 = 132.00; 700 x 0.24716 = 173.012 -> 173.01; PAC tier 2 $15.80
    #   -> $320.81. Billed: 400 x 0.18857 = 75.428 -> 75.43 + PAC tier 1 $4.60 = $80.03. Under by $240.78.
    assert a.correct_tiers == (D("700.00"), D("700.00"), D("0.00"))
    assert (a.billed_cents, a.correct_cents, a.difference_cents) == (8003, 32081, -24078)
    # P_b corrected: parts of 700: 66.00 + 350 x 0.24716 = 86.506 -> 86.51 | 66.35 + 350 x 0.24816
    #   = 86.856 -> 86.86 -> $305.72 + $15.80 = $321.52. Billed 700/1400/300 split 50/50:
    #   66.00 + 173.01 + 37.07 | 66.35 + 173.71 + 37.22 = $553.36 + PAC tier 3 $45.40 = $598.76.
    #   Over by $277.24. Net over the two bills: $277.24 - $240.78 = $36.46.
    assert b.correct_tiers == (D("700.00"), D("700.00"), D("0.00"))
    assert (b.billed_cents, b.correct_cents, b.difference_cents) == (59876, 32152, 27724)
    assert not a.right_tiers and not b.right_tiers
    assert review.total_difference_cents == 3646
    # Without spreading, P_b on its own 2,400 kWh really is tier 3 and was billed right.
    plain = review_tiers(r1a, 1, [est, catch_up])
    assert plain.periods[1].right_tiers and plain.periods[1].difference_cents == 0


def test_spread_keeps_the_window_total_exactly(r1a: ScheduleSpec) -> None:
    # 1,000 kWh over 31 + 30 days: 1000 x 31/61 = 508.197 -> 508.20, the rest 491.80.
    p1 = BilledPeriod(date(2023, 1, 1), date(2023, 2, 1), 100, (100, 0, 0))
    p2 = BilledPeriod(date(2023, 2, 1), date(2023, 3, 3), 900, (350, 550, 0))
    review = review_tiers(r1a, 1, [p1, p2], spread_usage=True)
    assert [p.reviewed_quantity for p in review.periods] == [D("508.20"), D("491.80")]


def test_invalid_inputs(r1a: ScheduleSpec) -> None:
    with pytest.raises(RateError):
        review_tiers(r1a, 1, [])
    with pytest.raises(RateError):
        review_tiers(r1a, 1, [RIGHT], last_n=0)
    overlapping = BilledPeriod(date(2023, 2, 1), date(2023, 4, 1), 10, (10, 0, 0))
    with pytest.raises(RateError, match="overlap"):
        review_tiers(r1a, 1, [RIGHT, overlapping])
    with pytest.raises(RateError):
        review_tiers(r1a, 1, [BilledPeriod(date(2023, 1, 1), date(2023, 3, 2), 10, (10, 0))])


def test_exactly_at_the_threshold_is_not_the_next_tier(r1a: ScheduleSpec) -> None:
    # §2.5 step 5: tier 3 only when the daily average EXCEEDS (350 + 700) / 30 = 35 kWh/day.
    # 2,100 kWh in 60 days = 35.00/day -> tier 2, filling T1 700 + T2 1400 exactly; 2,101 -> tier 3.
    at = BilledPeriod(date(2023, 1, 1), date(2023, 3, 2), 2100, (700, 1400, 0))
    review = review_tiers(r1a, 1, [at])
    assert review.average_daily == D("35.00") and review.average_tier == 2
    assert review.periods[0].right_tiers and review.periods[0].correct_tier == 2
    above = BilledPeriod(date(2023, 1, 1), date(2023, 3, 2), 2101, (700, 1400, 1))
    assert review_tiers(r1a, 1, [above]).average_tier == 3
