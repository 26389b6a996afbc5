"""Meter read rules (docs/ccb-domain.md §1.4): read types, dial rollover, high/low check, estimates,
streaks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from itertools import pairwise

from core.ccb.rates import round_half_up

__all__ = [
    "DEFAULT_LOOKBACK",
    "FIELD_INVESTIGATION_AT",
    "DialConsumption",
    "Estimate",
    "HighLowResult",
    "HighLowStatus",
    "HighLowThresholds",
    "MeterRead",
    "ReadError",
    "ReadType",
    "Register",
    "consecutive_estimates",
    "dial_consumption",
    "estimate",
    "high_low_check",
    "needs_field_investigation",
]

# The hub opens a field investigation at the third estimated bill in a row (project rule).
FIELD_INVESTIGATION_AT = 3
# Expected use comes from the last three measured intervals (about six months on bimonthly reads).
DEFAULT_LOOKBACK = 3


class ReadError(ValueError):
    """A read, register or history that the rules cannot work with."""


class ReadType(Enum):
    """Register read type (CCB ``READ_TYPE_FLG``), value = the code.

    20, 60 and 70 are verified CCB codes (docs/ccb-domain.md §1.4). The other types exist by name in CCB but
    their numbers were not confirmed (§1.4, §7): the codes below are mock placeholders placed in the
    gaps between the verified ones; see ``code_confirmed``.
    """

    NO_READ = "20"
    BILLING_COMPUTED = "30"
    BILLING_FORCED = "35"
    OFFICE_ESTIMATE = "40"
    SYSTEM_ESTIMATE = "45"
    CUSTOMER_READ = "50"
    SYSTEM_PRORATE = "55"
    REGULAR = "60"
    VERIFIED = "70"

    @classmethod
    def from_code(cls, code: str) -> ReadType:
        """Parse a code; CCB's REST API returns lookup codes space-padded (docs/ccb-domain.md §1.2)."""
        try:
            return cls(code.strip())
        except ValueError:
            raise ReadError(f"unknown read type code {code!r}") from None

    @property
    def code_confirmed(self) -> bool:
        return self in (ReadType.NO_READ, ReadType.REGULAR, ReadType.VERIFIED)

    @property
    def is_actual(self) -> bool:
        """A "read" in CCB's sense: Regular or Verified (§1.4)."""
        return self in (ReadType.REGULAR, ReadType.VERIFIED)

    @property
    def is_estimate(self) -> bool:
        """Whether this is "unread" in CCB's sense: any estimate, prorate, computed or forced value (§1.4)."""
        return self in (
            ReadType.BILLING_COMPUTED,
            ReadType.BILLING_FORCED,
            ReadType.OFFICE_ESTIMATE,
            ReadType.SYSTEM_ESTIMATE,
            ReadType.SYSTEM_PRORATE,
        )

    @property
    def is_measured(self) -> bool:
        """Someone looked at the dials: an actual read or a customer read."""
        return self.is_actual or self is ReadType.CUSTOMER_READ


@dataclass(frozen=True)
class Register:
    """A subtractive register: ``digits`` integer dials, ``decimals`` fractional ones, and the register
    constant that turns dial units into billed units (docs/ccb-domain.md §1.4)."""

    digits: int
    decimals: int = 0
    constant: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        if self.digits < 1 or self.decimals < 0:
            raise ReadError("a register needs at least one dial and no negative decimals")
        if Decimal(self.constant) <= 0:
            raise ReadError("the register constant must be positive")

    @property
    def capacity(self) -> int:
        """Dial units at which the register rolls over to zero: 10^digits."""
        return 10**self.digits

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.decimals)

    def check_reading(self, reading: int | Decimal) -> Decimal:
        """Validate a reading: 0 <= reading < 10^digits, no more decimals than the register shows."""
        if isinstance(reading, bool) or not isinstance(reading, int | Decimal):
            raise ReadError("a reading must be an int or a Decimal")
        value = Decimal(reading)
        if not value.is_finite() or value < 0 or value >= self.capacity:
            raise ReadError(f"reading {reading} is outside 0..{self.capacity - 1} for {self.digits} dials")
        if value != value.quantize(self.quantum):
            raise ReadError(f"reading {reading} has more than {self.decimals} decimals")
        return value


@dataclass(frozen=True)
class MeterRead:
    """One register read: date, reading (None for a No Read), type, and CCB's use-on-bill switch."""

    read_on: date
    reading: int | Decimal | None
    read_type: ReadType
    use_on_bill: bool = True


@dataclass(frozen=True)
class DialConsumption:
    """Consumption between two readings of one register."""

    dial_units: Decimal  # difference on the dials, after any rollover
    quantity: Decimal  # dial_units x register constant
    rolled_over: bool


def dial_consumption(previous: int | Decimal, current: int | Decimal, register: Register) -> DialConsumption:
    """Consumption = current - previous; when current < previous the dials rolled past all nines:
    (10^digits - previous) + current (subtractive register, docs/ccb-domain.md §1.4)."""
    prev = register.check_reading(previous)
    cur = register.check_reading(current)
    rolled = cur < prev
    units = (register.capacity - prev) + cur if rolled else cur - prev
    return DialConsumption(units, units * Decimal(register.constant), rolled)


class HighLowStatus(Enum):
    OK = "ok"
    HIGH = "high"
    LOW = "low"
    NO_HISTORY = "no_history"  # nothing to compare with: accept the read, nothing to flag


@dataclass(frozen=True)
class HighLowThresholds:
    """Factors applied to the expected consumption.

    The high factor 3 mirrors the utility's own trigger for an automatic review: a bill over 3x the
    historical average (docs/ccb-domain.md §2.4). The low factor is a project default [~]: the reference gives
    none. Both are configuration.
    """

    low_factor: Decimal = Decimal("0.25")
    high_factor: Decimal = Decimal(3)
    lookback: int = DEFAULT_LOOKBACK  # number of most recent measured intervals averaged

    def __post_init__(self) -> None:
        if not (0 <= self.low_factor <= 1 <= self.high_factor) or self.lookback < 1:
            raise ReadError("need 0 <= low_factor <= 1 <= high_factor and lookback >= 1")


@dataclass(frozen=True)
class HighLowResult:
    """Outcome of the high/low check of one new read against the register's history."""

    status: HighLowStatus
    days: int
    consumption: Decimal
    rolled_over: bool
    daily_average: Decimal | None  # history's average daily use, rounded half up to 0.01
    expected: Decimal | None  # daily average x days, rounded half up to 0.01
    low_limit: Decimal | None
    high_limit: Decimal | None
    intervals_used: int


def _measured(history: Sequence[MeterRead]) -> list[MeterRead]:
    # Estimates are left out: they were derived from this same history, and the interval between the
    # measured reads on either side of an estimate still carries the true consumption.
    return sorted(
        (r for r in history if r.read_type.is_measured and r.reading is not None),
        key=lambda r: r.read_on,
    )


def _average_daily(
    measured: Sequence[MeterRead], register: Register, lookback: int
) -> tuple[Fraction, int, int] | None:
    """(total quantity, total days, intervals) over the last ``lookback`` measured intervals, or None."""
    intervals: list[tuple[Decimal, int]] = []
    for a, b in pairwise(measured):
        days = (b.read_on - a.read_on).days
        if days < 1:
            continue  # two reads on one day (a re-read) say nothing about daily use
        assert a.reading is not None and b.reading is not None
        intervals.append((dial_consumption(a.reading, b.reading, register).quantity, days))
    recent = intervals[-lookback:]
    if not recent:
        return None
    total = sum((Fraction(q) for q, _ in recent), Fraction(0))
    return total, sum(d for _, d in recent), len(recent)


def _check_date(value: date, name: str) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ReadError(f"{name} must be a calendar date")


def high_low_check(
    history: Sequence[MeterRead],
    new_read: MeterRead,
    register: Register,
    thresholds: HighLowThresholds | None = None,
) -> HighLowResult:
    """Check a new read against history, as CCB does when a read is added (docs/ccb-domain.md §1.4).

    Expected consumption = average daily use of the last ``lookback`` measured intervals x days since
    the previous measured read; the read is HIGH above expected x high_factor, LOW below expected x
    low_factor. A lower reading than the previous one is treated as a rollover, so a misread that goes
    backwards shows up here as a very HIGH consumption.
    """
    limits = thresholds or HighLowThresholds()
    _check_date(new_read.read_on, "read_on")
    if new_read.reading is None:
        raise ReadError("a No Read has no reading to check")
    measured = [r for r in _measured(history) if r.read_on < new_read.read_on]
    if not measured:
        raise ReadError("no earlier measured read to compute consumption from")
    previous = measured[-1]
    assert previous.reading is not None
    used = dial_consumption(previous.reading, new_read.reading, register)
    days = (new_read.read_on - previous.read_on).days

    average = _average_daily(measured, register, limits.lookback)
    if average is None:
        return HighLowResult(
            HighLowStatus.NO_HISTORY, days, used.quantity, used.rolled_over, None, None, None, None, 0
        )
    total, total_days, intervals = average
    expected = total / total_days * days
    low = expected * Fraction(limits.low_factor)
    high = expected * Fraction(limits.high_factor)
    consumption = Fraction(used.quantity)
    if consumption > high:
        status = HighLowStatus.HIGH
    elif consumption < low:
        status = HighLowStatus.LOW
    else:
        status = HighLowStatus.OK
    return HighLowResult(
        status=status,
        days=days,
        consumption=used.quantity,
        rolled_over=used.rolled_over,
        daily_average=round_half_up(total / total_days),
        expected=round_half_up(expected),
        low_limit=round_half_up(low),
        high_limit=round_half_up(high),
        intervals_used=intervals,
    )


@dataclass(frozen=True)
class Estimate:
    """Estimated consumption for [start, end) and, when the start reading is known, the end reading."""

    start: date
    end: date
    days: int
    daily_average: Decimal  # rounded half up to 0.01
    dial_units: Decimal  # estimated dial movement, rounded half up to the register's precision
    quantity: Decimal  # dial_units x register constant
    reading: Decimal | None  # estimated end reading, wrapped past 10^digits like the dials


def estimate(
    history: Sequence[MeterRead],
    start: date,
    end: date,
    register: Register,
    *,
    lookback: int = DEFAULT_LOOKBACK,
    start_reading: int | Decimal | None = None,
) -> Estimate:
    """Estimate use over [start, end) as the history's average daily use x days.

    Only measured reads are used (§1.4: estimation is self-correcting on the next actual read, so an
    estimate is never built on estimates). The dial movement is rounded half up to what the register
    can show, so the estimated reading is one the meter could display.
    """
    _check_date(start, "start")
    _check_date(end, "end")
    days = (end - start).days
    if days < 1:
        raise ReadError("end must be after start")
    if lookback < 1:
        raise ReadError("lookback must be at least 1")
    average = _average_daily(_measured(history), register, lookback)
    if average is None:
        raise ReadError("at least two measured reads on different days are needed to estimate")
    total, total_days, _ = average
    daily = total / total_days
    units = round_half_up(daily * days / Fraction(register.constant), register.quantum)
    reading: Decimal | None = None
    if start_reading is not None:
        reading = (register.check_reading(start_reading) + units) % register.capacity
    return Estimate(
        start=start,
        end=end,
        days=days,
        daily_average=round_half_up(daily),
        dial_units=units,
        quantity=units * Decimal(register.constant),
        reading=reading,
    )


def consecutive_estimates(reads: Sequence[MeterRead], *, customer_read_breaks: bool = True) -> int:
    """How many of the most recent billed reads in a row are estimates.

    Only reads used on a bill count; No Reads are skipped because a No Read carries no value and bills
    nothing by itself (the estimate the bill used is its own read). An actual read (Regular or Verified)
    ends the streak; so does a Customer Read unless ``customer_read_breaks`` is False (a customer read
    proves a value but not that the utility can reach the meter).
    """
    count = 0
    for read in reversed(sorted(reads, key=lambda r: r.read_on)):
        if not read.use_on_bill or read.read_type is ReadType.NO_READ:
            continue
        if read.read_type.is_estimate:
            count += 1
        elif read.read_type is ReadType.CUSTOMER_READ and not customer_read_breaks:
            continue
        else:
            break
    return count


def needs_field_investigation(reads: Sequence[MeterRead], *, customer_read_breaks: bool = True) -> bool:
    """True from the third consecutive estimate on (``FIELD_INVESTIGATION_AT``)."""
    return consecutive_estimates(reads, customer_read_breaks=customer_read_breaks) >= FIELD_INVESTIGATION_AT
