"""Unit tests for meter read rules: rollover, high/low, estimates, estimate streaks (docs/ccb-domain.md
§1.4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.ccb.reads import (
    HighLowStatus,
    HighLowThresholds,
    MeterRead,
    ReadError,
    ReadType,
    Register,
    consecutive_estimates,
    dial_consumption,
    estimate,
    high_low_check,
    needs_field_investigation,
)

D = Decimal
R = ReadType
FOUR = Register(digits=4)
FIVE = Register(digits=5)


def test_read_type_codes_and_categories() -> None:
    assert (R.NO_READ.value, R.REGULAR.value, R.VERIFIED.value) == ("20", "60", "70")
    assert R.from_code("60 ") is R.REGULAR  # REST lookups come space-padded
    assert [t for t in R if t.code_confirmed] == [R.NO_READ, R.REGULAR, R.VERIFIED]
    assert {t for t in R if t.is_actual} == {R.REGULAR, R.VERIFIED}
    assert {t for t in R if t.is_estimate} == {
        R.BILLING_COMPUTED,
        R.BILLING_FORCED,
        R.OFFICE_ESTIMATE,
        R.SYSTEM_ESTIMATE,
        R.SYSTEM_PRORATE,
    }
    assert R.CUSTOMER_READ.is_measured and not R.CUSTOMER_READ.is_estimate
    with pytest.raises(ReadError):
        R.from_code("99")


# ---------------------------------------------------------------------------------------------------
# Dials


def test_plain_consumption() -> None:
    used = dial_consumption(1000, 1250, FOUR)
    assert (used.dial_units, used.quantity, used.rolled_over) == (D(250), D(250), False)


def test_rollover() -> None:
    # 4 dials: 9950 -> 0030 rolled past 9999: (10^4 - 9950) + 30 = 50 + 30 = 80.
    used = dial_consumption(9950, 30, FOUR)
    assert (used.dial_units, used.rolled_over) == (D(80), True)
    # 5 dials: (100000 - 99990) + 5 = 15.
    assert dial_consumption(99990, 5, FIVE).dial_units == D(15)


def test_rollover_with_decimals_and_register_constant() -> None:
    # 4 dials + 1 decimal, constant 40: (10000 - 9999.5) + 0.7 = 1.2 dial units -> 1.2 x 40 = 48.
    register = Register(digits=4, decimals=1, constant=D(40))
    used = dial_consumption(D("9999.5"), D("0.7"), register)
    assert (used.dial_units, used.quantity, used.rolled_over) == (D("1.2"), D("48.0"), True)


def test_readings_are_validated() -> None:
    with pytest.raises(ReadError):
        dial_consumption(0, 10000, FOUR)  # a 4-dial register shows at most 9999
    with pytest.raises(ReadError):
        dial_consumption(-1, 5, FOUR)
    with pytest.raises(ReadError):
        dial_consumption(D("1.5"), 5, FOUR)  # no decimal dial
    with pytest.raises(ReadError):
        Register(digits=0)


# ---------------------------------------------------------------------------------------------------
# High/low


def _history() -> list[MeterRead]:
    # Three 60-day intervals of 600 kWh each -> 1,800 / 180 = 10 kWh/day. The estimate in the middle
    # is ignored: the May 1 actual read still measures the whole Mar 2 -> May 1 interval.
    return [
        MeterRead(date(2023, 1, 1), 1000, R.REGULAR),
        MeterRead(date(2023, 3, 2), 1600, R.VERIFIED),
        MeterRead(date(2023, 4, 1), 1750, R.SYSTEM_ESTIMATE),
        MeterRead(date(2023, 5, 1), 2200, R.REGULAR),
        MeterRead(date(2023, 6, 30), 2800, R.CUSTOMER_READ),
    ]


@pytest.mark.parametrize(
    ("reading", "status", "consumption"),
    [
        # Aug 29 is 60 days after Jun 30: expected 10 x 60 = 600; high limit 600 x 3 = 1800;
        # low limit 600 x 0.25 = 150.
        (3400, HighLowStatus.OK, 600),
        (4600, HighLowStatus.OK, 1800),  # exactly at the high limit is still ok
        (4601, HighLowStatus.HIGH, 1801),
        (2950, HighLowStatus.OK, 150),  # exactly at the low limit is still ok
        (2949, HighLowStatus.LOW, 149),
    ],
)
def test_high_low(reading: int, status: HighLowStatus, consumption: int) -> None:
    result = high_low_check(_history(), MeterRead(date(2023, 8, 29), reading, R.REGULAR), FIVE)
    assert result.status is status
    assert result.consumption == D(consumption)
    assert result.days == 60
    assert (result.daily_average, result.expected) == (D("10.00"), D("600.00"))
    assert (result.low_limit, result.high_limit) == (D("150.00"), D("1800.00"))
    assert result.intervals_used == 3


def test_high_low_lookback_and_thresholds() -> None:
    history = [
        MeterRead(date(2023, 1, 1), 0, R.REGULAR),
        MeterRead(date(2023, 1, 31), 3000, R.REGULAR),  # 100/day
        MeterRead(date(2023, 3, 2), 3300, R.REGULAR),  # 10/day
    ]
    new = MeterRead(date(2023, 4, 1), 3900, R.REGULAR)  # 600 in 30 days
    # lookback 1: only the last interval, 10/day -> expected 300, 600 <= 300 x 3: ok.
    # With high_factor 1.5 the limit is 450 -> HIGH.
    one = HighLowThresholds(lookback=1)
    assert high_low_check(history, new, FIVE, one).status is HighLowStatus.OK
    tight = HighLowThresholds(high_factor=D("1.5"), lookback=1)
    assert high_low_check(history, new, FIVE, tight).status is HighLowStatus.HIGH
    # lookback 2: (3000 + 300) / 60 = 55/day -> expected 1650, low limit 412.50 -> 600 is ok.
    both = high_low_check(history, new, FIVE, HighLowThresholds(lookback=2))
    assert (both.expected, both.low_limit, both.status) == (D("1650.00"), D("412.50"), HighLowStatus.OK)


def test_high_low_across_a_rollover() -> None:
    history = [MeterRead(date(2023, 1, 1), 9000, R.REGULAR), MeterRead(date(2023, 1, 31), 9600, R.REGULAR)]
    # 9600 -> 0300 on 4 dials = 400 + 300 = 700 in 30 days vs expected 600: ok, flagged as a rollover.
    result = high_low_check(history, MeterRead(date(2023, 3, 2), 300, R.REGULAR), FOUR)
    assert (result.consumption, result.rolled_over, result.status) == (D(700), True, HighLowStatus.OK)
    # A misread that goes backwards (9600 -> 9500) reads as a rollover of 9,900: HIGH.
    misread = high_low_check(history, MeterRead(date(2023, 3, 2), 9500, R.REGULAR), FOUR)
    assert (misread.consumption, misread.status) == (D(9900), HighLowStatus.HIGH)


def test_high_low_without_history() -> None:
    only = [MeterRead(date(2023, 1, 1), 100, R.REGULAR)]
    result = high_low_check(only, MeterRead(date(2023, 3, 2), 700, R.REGULAR), FOUR)
    assert (result.status, result.consumption, result.expected) == (HighLowStatus.NO_HISTORY, D(600), None)
    with pytest.raises(ReadError):
        high_low_check([], MeterRead(date(2023, 3, 2), 700, R.REGULAR), FOUR)
    with pytest.raises(ReadError):
        high_low_check(only, MeterRead(date(2023, 3, 2), None, R.NO_READ), FOUR)


# ---------------------------------------------------------------------------------------------------
# Estimates


def test_estimate_from_average_daily_use() -> None:
    # History average 10 kWh/day; 31 days -> 310; from reading 2800 the estimated reading is 3110.
    est = estimate(_history(), date(2023, 6, 30), date(2023, 7, 31), FIVE, start_reading=2800)
    assert (est.days, est.daily_average, est.quantity, est.reading) == (31, D("10.00"), D(310), D(3110))


def test_estimate_rounds_to_the_dials_and_wraps() -> None:
    # 9900 -> 0000 = 100 kWh in 30 days = 3.333/day; 31 days -> 103.33 -> 103 (whole dials, half up).
    history = [MeterRead(date(2023, 1, 1), 9900, R.REGULAR), MeterRead(date(2023, 1, 31), 0, R.REGULAR)]
    est = estimate(history, date(2023, 1, 31), date(2023, 3, 3), FOUR, start_reading=9950)
    assert est.quantity == D(103)
    assert est.reading == D(53)  # 9950 + 103 = 10053 wraps on 4 dials to 0053
    # Register constant 2: the same 100 dial units are 200 kWh in 30 days; 15 days -> 100 kWh,
    # which is 100 / 2 = 50 dial units.
    doubled = estimate(history, date(2023, 1, 31), date(2023, 2, 15), Register(4, constant=D(2)))
    assert (doubled.dial_units, doubled.quantity) == (D(50), D(100))


def test_estimate_needs_history() -> None:
    with pytest.raises(ReadError):
        estimate([MeterRead(date(2023, 1, 1), 5, R.REGULAR)], date(2023, 1, 1), date(2023, 2, 1), FOUR)
    with pytest.raises(ReadError):
        estimate(_history(), date(2023, 2, 1), date(2023, 2, 1), FOUR)


# ---------------------------------------------------------------------------------------------------
# Consecutive estimates


def _reads(*types: ReadType) -> list[MeterRead]:
    return [MeterRead(date(2023, 1 + 2 * i, 1), None, t) for i, t in enumerate(types)]


def test_consecutive_estimates_counts_back_from_the_latest() -> None:
    assert consecutive_estimates(_reads(R.REGULAR, R.SYSTEM_ESTIMATE, R.OFFICE_ESTIMATE)) == 2
    assert not needs_field_investigation(_reads(R.REGULAR, R.SYSTEM_ESTIMATE, R.OFFICE_ESTIMATE))
    # The third estimate in a row opens a field investigation; No Reads are skipped.
    third = _reads(R.REGULAR, R.SYSTEM_ESTIMATE, R.NO_READ, R.OFFICE_ESTIMATE, R.SYSTEM_PRORATE)
    assert consecutive_estimates(third) == 3
    assert needs_field_investigation(third)
    assert consecutive_estimates(_reads(R.SYSTEM_ESTIMATE, R.SYSTEM_ESTIMATE, R.VERIFIED)) == 0
    assert consecutive_estimates([]) == 0


def test_consecutive_estimates_input_order_and_use_on_bill() -> None:
    reads = _reads(R.REGULAR, R.SYSTEM_ESTIMATE, R.SYSTEM_ESTIMATE, R.BILLING_FORCED)
    assert consecutive_estimates(list(reversed(reads))) == 3  # sorted by date, not by position
    not_billed = MeterRead(date(2024, 1, 1), None, R.REGULAR, use_on_bill=False)
    assert consecutive_estimates([*reads, not_billed]) == 3  # a read not used on a bill is ignored


def test_customer_read_breaks_the_streak_by_default() -> None:
    reads = _reads(R.SYSTEM_ESTIMATE, R.SYSTEM_ESTIMATE, R.CUSTOMER_READ, R.SYSTEM_ESTIMATE)
    assert consecutive_estimates(reads) == 1
    assert consecutive_estimates(reads, customer_read_breaks=False) == 3
