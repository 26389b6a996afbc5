"""Tiered residential rate engine (LADWP R-1A electric, Schedule A water) driven by a TOML rate config.

Section signs (§) cite docs/ccb-domain.md.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Literal

import msgspec

__all__ = [
    "QTY_QUANTUM",
    "BillCalculation",
    "ChargeLine",
    "FixedChargeSpec",
    "LotSizeClassSpec",
    "MinimumChargeSpec",
    "PricePeriodSpec",
    "RateConfig",
    "RateError",
    "ScheduleSpec",
    "SeasonSpec",
    "SubPeriod",
    "TierBlockSpec",
    "TierLine",
    "calculate",
    "calculate_electric",
    "calculate_water",
    "exact_tier_limits",
    "format_cents",
    "format_price",
    "format_quantity",
    "load_config",
    "load_default_config",
    "lot_size_class",
    "parse_config",
    "price_tier_split",
    "prorated_tier_limits",
    "round_half_up",
    "season_of",
    "to_cents",
    "to_quantity",
]

# Conventions (apply to every function in this module)
# ----------------------------------------------------
# Days: a billing period is the half-open range [start, end): ``start`` is the start-read date and
# ``end`` the end-read date, and days = end - start (docs/ccb-domain.md §2.5 step 1). The worked example of
# §2.5
# confirms it: May 15 -> July 15 is 61 days, split 17 low-season days (May 15-31) + 44 high-season days
# (June 1 - July 14), so the end-read day itself belongs to the next period.
#
# Rounding: ROUND HALF UP (half away from zero) everywhere, for quantities (to 0.01 kWh/HCF) and money
# (to the cent). Every calculation line must be reproducible by a customer or CSR with a calculator or a
# spreadsheet ROUND(), which round half up; banker's rounding only pays off when summing very many
# independently rounded values, and here each rounded line is shown to the customer on its own.
# The reference gives no rounding rule for prorated tier limits (its §2.5 example prints one decimal,
# e.g. 711.7, for display only; Oracle's §2.1 example 100/300 -> 150/450 is exact), so limits are
# rounded to QTY_QUANTUM like any quantity.
#
# Cumulative rounding: when a quantity is split over sub-periods (usage by days, tier limits by days),
# part i = round(cumulative exact value through i) - round(cumulative exact value through i-1). The parts
# then add up exactly to the rounded whole (e.g. 198.33 + 513.34 = 711.67 = round(350 x 61 / 30)), and
# each part is within one quantum of its exact value.
#
# Amount of a line = round_half_up(quantity x unit price) to the cent, computed from the rounded quantity
# that is printed, so "711.67 kWh at 18.957 cents = $134.91" checks out by hand. Totals are sums of the
# rounded lines (never re-rounded), so the lines always add up to the total on the bill.

QTY_QUANTUM = Decimal("0.01")

DEFAULT_CONFIG_PATH = Path(__file__).with_name("rates_default.toml")


class RateError(ValueError):
    """A bad rate config or a calculation request the config cannot price."""


# ---------------------------------------------------------------------------------------------------
# Rounding and formatting helpers


def _half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` (denominator > 0) to the nearest integer, halves away from zero.

    floor(|x| + 1/2) in integers: the engine prices every line through here, and exact integer arithmetic
    gives the same answer as ``Fraction`` at a fraction of the cost.
    """
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    return magnitude if numerator >= 0 else -magnitude


def round_half_up(value: Fraction | Decimal | int, quantum: Decimal = QTY_QUANTUM) -> Decimal:
    """``value`` rounded to a multiple of ``quantum``, halves away from zero, computed exactly."""
    n, d = (value, 1) if isinstance(value, int) else value.as_integer_ratio()
    qn, qd = quantum.as_integer_ratio()
    steps = _half_up(n * qd, d * qn)  # value / quantum, rounded
    return (Decimal(steps) * quantum).quantize(quantum)


def to_cents(dollars: Fraction | Decimal | int) -> int:
    """Dollars (exact) to integer cents, rounding half up."""
    if isinstance(dollars, int):
        return dollars * 100
    n, d = dollars.as_integer_ratio()
    return _half_up(n * 100, d)


def _product_cents(quantity: Decimal, unit_price: Decimal) -> int:
    """``quantity x unit_price`` dollars in cents, rounded half up (exact, like ``to_cents``)."""
    qn, qd = quantity.as_integer_ratio()
    pn, pd = unit_price.as_integer_ratio()
    return _half_up(qn * pn * 100, qd * pd)


def to_quantity(value: int | Decimal | str, what: str = "quantity") -> Decimal:
    """Validate a metered quantity: non-negative, at most two decimals (0.01 kWh/HCF); never a float."""
    if isinstance(value, bool) or isinstance(value, float):
        # A float already carries binary noise (0.1 + 0.2); insist on exact input.
        raise RateError(f"{what} must be an int or Decimal, not {type(value).__name__}")
    try:
        q = Decimal(value)
    except ArithmeticError:
        raise RateError(f"{what} is not a number: {value!r}") from None
    if not q.is_finite():
        raise RateError(f"{what} must be finite")
    if q < 0:
        raise RateError(f"{what} must not be negative")
    if q != q.quantize(QTY_QUANTUM):
        raise RateError(f"{what} has more than two decimals: {value}")
    return q.quantize(QTY_QUANTUM)


def format_cents(cents: int) -> str:
    """``12345`` -> ``"$123.45"``; negative amounts get a leading minus."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{part:02d}"


def format_quantity(q: Decimal) -> str:
    """``Decimal("1500.00")`` -> ``"1,500"``; a fractional quantity keeps two decimals (``"711.67"``)."""
    if q == q.to_integral_value():
        return f"{int(q):,}"
    return f"{q:,.2f}"


def format_price(price: Decimal, unit: str) -> str:
    """A unit price as printed: ``Decimal("0.19645")``, ``"kWh"`` -> ``"19.645¢/kWh"``."""
    # Sub-dollar unit prices read naturally in cents ("18.857¢"), as on LADWP's rate pages.
    if price < 1:
        cents = format((price * 100).normalize(), "f")
        return f"{cents}¢/{unit}"
    return f"${format(price.normalize(), 'f')}/{unit}"


# ---------------------------------------------------------------------------------------------------
# Config schema (decoded from TOML with msgspec)


class SeasonSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A season starts on (month, day) every year and runs until the next season starts."""

    name: str
    start_month: int
    start_day: int


class TierBlockSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Tier block sizes (tiers 1..n-1, per ``basis_days``; the last tier is unbounded).

    ``None`` in season/zone/lot_size means "any"; exactly one entry must match each combination.
    """

    blocks: tuple[Decimal, ...]
    season: str | None = None
    zone: str | None = None
    lot_size: str | None = None


class PricePeriodSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Unit prices ($ per unit, one per tier) per season, effective from/to (inclusive) dates."""

    label: str
    source_year: int
    effective_from: date
    prices: dict[str, tuple[Decimal, ...]]
    # None: in force until superseded (how a tariff works); only the last period may be open.
    effective_to: date | None = None


class FixedChargeSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A per-period charge in cents per ``basis_days``, prorated by days billed.

    One amount is a flat charge; one amount per tier makes it graduated by the highest tier reached
    (LADWP's Power Access Charge, docs/ccb-domain.md §2.2).
    """

    name: str
    description: str
    source_year: int
    effective_from: date
    amounts_cents: tuple[int, ...]
    basis_days: int = 30
    effective_to: date | None = None


class MinimumChargeSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Minimum for usage + fixed charges, in cents per ``basis_days`` (docs/ccb-domain.md §2.2: $10/month)."""

    amount_cents: int
    source_year: int
    basis_days: int = 30


class LotSizeClassSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A lot-size class starting at ``min_sqft`` (inclusive) up to the next class's minimum."""

    name: str
    min_sqft: int


class ScheduleSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One rate schedule (e.g. R-1A electric, A water)."""

    code: str
    title: str
    service: Literal["electric", "water"]
    unit: str
    source: str
    illustrative: bool
    basis_days: int
    tiers: int
    zones: tuple[str, ...]
    seasons: tuple[SeasonSpec, ...]
    tier_blocks: tuple[TierBlockSpec, ...]
    price_periods: tuple[PricePeriodSpec, ...]
    lot_sizes: tuple[LotSizeClassSpec, ...] = ()
    fixed_charges: tuple[FixedChargeSpec, ...] = ()
    minimum_charge: MinimumChargeSpec | None = None


class RateConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """All schedules, plus which ones ``calculate_electric`` / ``calculate_water`` use."""

    schedules: tuple[ScheduleSpec, ...]
    electric_schedule: str = "R-1A"
    water_schedule: str = "A"

    def schedule(self, code: str) -> ScheduleSpec:
        for s in self.schedules:
            if s.code == code:
                return s
        raise RateError(f"no rate schedule {code!r} in the config")


def parse_config(text: str | bytes) -> RateConfig:
    """Decode and validate a TOML rate config."""
    try:
        config = msgspec.toml.decode(text, type=RateConfig)
    except msgspec.DecodeError as exc:  # TOML syntax errors and schema (validation) errors alike
        raise RateError(f"invalid rate config: {exc}") from exc
    _validate_config(config)
    return config


def load_config(path: str | Path) -> RateConfig:
    """Read, decode and validate a TOML rate config file."""
    return parse_config(Path(path).read_bytes())


@functools.cache
def load_default_config() -> RateConfig:
    """The bundled default config (R-1A with 2023-24 prices; illustrative Schedule A water).

    Cached and shared: the structs are frozen and hold tuples; treat the ``prices`` dicts as read-only.
    """
    return load_config(DEFAULT_CONFIG_PATH)


def _validate_config(config: RateConfig) -> None:
    codes = [s.code for s in config.schedules]
    if len(set(codes)) != len(codes):
        raise RateError("duplicate schedule codes")
    for schedule in config.schedules:
        _validate_schedule(schedule)
    for code in (config.electric_schedule, config.water_schedule):
        config.schedule(code)


def _validate_schedule(s: ScheduleSpec) -> None:
    where = f"schedule {s.code}"
    if s.basis_days <= 0 or s.tiers < 1:
        raise RateError(f"{where}: basis_days and tiers must be positive")
    if not s.zones or len(set(s.zones)) != len(s.zones):
        raise RateError(f"{where}: zones must be non-empty and unique")
    if not s.seasons:
        raise RateError(f"{where}: at least one season is required")
    starts = set()
    for season in s.seasons:
        try:
            date(2001, season.start_month, season.start_day)  # a non-leap year rejects Feb 29 too
        except ValueError:
            raise RateError(f"{where}: season {season.name} has an invalid start date") from None
        starts.add((season.start_month, season.start_day))
    season_names = [x.name for x in s.seasons]
    if len(set(season_names)) != len(season_names) or len(starts) != len(s.seasons):
        raise RateError(f"{where}: season names and start dates must be unique")

    lot_names = [x.name for x in s.lot_sizes]
    if len(set(lot_names)) != len(lot_names):
        raise RateError(f"{where}: lot-size class names must be unique")
    mins = [x.min_sqft for x in s.lot_sizes]
    if mins and (mins[0] != 0 or mins != sorted(set(mins))):
        raise RateError(f"{where}: lot-size classes must start at 0 sq ft and ascend")

    for entry in s.tier_blocks:
        if entry.season is not None and entry.season not in season_names:
            raise RateError(f"{where}: tier blocks name unknown season {entry.season!r}")
        if entry.zone is not None and entry.zone not in s.zones:
            raise RateError(f"{where}: tier blocks name unknown zone {entry.zone!r}")
        if entry.lot_size is not None and entry.lot_size not in lot_names:
            raise RateError(f"{where}: tier blocks name unknown lot size {entry.lot_size!r}")
        if len(entry.blocks) != s.tiers - 1 or any(b < 0 for b in entry.blocks):
            raise RateError(f"{where}: each tier-block entry needs {s.tiers - 1} non-negative sizes")
    # Every combination the engine can be asked about must resolve to exactly one entry.
    for season_name in season_names:
        for zone in s.zones:
            lots: list[str | None] = [*lot_names] if lot_names else [None]
            for lot in lots:
                _tier_blocks(s, season_name, zone, lot)

    previous: PricePeriodSpec | None = None
    for period in s.price_periods:
        if period.effective_to is not None and period.effective_to < period.effective_from:
            raise RateError(f"{where}: price period {period.label} ends before it starts")
        if previous is not None:
            if previous.effective_to is None or previous.effective_to >= period.effective_from:
                raise RateError(f"{where}: price periods must be in date order without overlap")
        for season_name, prices in period.prices.items():
            if season_name not in season_names:
                raise RateError(f"{where}: price period {period.label} names unknown season {season_name!r}")
            if len(prices) != s.tiers or any(p < 0 for p in prices):
                raise RateError(f"{where}: price period {period.label} needs {s.tiers} non-negative prices")
        needed = set(season_names) if period.effective_to is None else _seasons_between(s, period)
        missing = needed - set(period.prices)
        if missing:
            raise RateError(f"{where}: price period {period.label} has no prices for {sorted(missing)}")
        previous = period

    for charge in s.fixed_charges:
        if charge.basis_days <= 0 or len(charge.amounts_cents) not in (1, s.tiers):
            raise RateError(f"{where}: fixed charge {charge.name} needs 1 or {s.tiers} amounts")
        if any(a < 0 for a in charge.amounts_cents):
            raise RateError(f"{where}: fixed charge {charge.name} has a negative amount")
    if s.minimum_charge is not None and (
        s.minimum_charge.amount_cents < 0 or s.minimum_charge.basis_days <= 0
    ):
        raise RateError(f"{where}: invalid minimum charge")


def _seasons_between(s: ScheduleSpec, period: PricePeriodSpec) -> set[str]:
    assert period.effective_to is not None
    names: set[str] = set()
    day = period.effective_from
    while day <= period.effective_to and len(names) < len(s.seasons):
        names.add(season_of(s, day))
        day += timedelta(days=1)
    return names


# ---------------------------------------------------------------------------------------------------
# Calendar: seasons, price periods, sub-periods


def season_of(schedule: ScheduleSpec, day: date) -> str:
    """Name of the season ``day`` falls in (seasons wrap around the new year)."""
    ordered = sorted(schedule.seasons, key=lambda x: (x.start_month, x.start_day))
    key = (day.month, day.day)
    current = ordered[-1]  # before the first start of the year we are still in last year's last season
    for season in ordered:
        if (season.start_month, season.start_day) <= key:
            current = season
    return current.name


def lot_size_class(schedule: ScheduleSpec, lot_sqft: int) -> str:
    """The schedule's lot-size class for a lot of ``lot_sqft`` square feet (docs/ccb-domain.md §2.3)."""
    if not schedule.lot_sizes:
        raise RateError(f"schedule {schedule.code} has no lot-size classes")
    if isinstance(lot_sqft, bool) or not isinstance(lot_sqft, int) or lot_sqft < 0:
        raise RateError("lot size must be a non-negative whole number of square feet")
    name = schedule.lot_sizes[0].name
    for cls in schedule.lot_sizes:
        if lot_sqft >= cls.min_sqft:
            name = cls.name
    return name


def _price_period(schedule: ScheduleSpec, day: date) -> PricePeriodSpec:
    for period in schedule.price_periods:
        if period.effective_from <= day and (period.effective_to is None or day <= period.effective_to):
            return period
    raise RateError(f"schedule {schedule.code} has no prices in force on {day.isoformat()}")


def _tier_blocks(schedule: ScheduleSpec, season: str, zone: str, lot: str | None) -> tuple[Decimal, ...]:
    matches = [
        e
        for e in schedule.tier_blocks
        if (e.season is None or e.season == season)
        and (e.zone is None or e.zone == zone)
        and (e.lot_size is None or e.lot_size == lot)
    ]
    if len(matches) != 1:
        raise RateError(
            f"schedule {schedule.code}: {len(matches)} tier-block entries match "
            f"season={season} zone={zone} lot_size={lot}; exactly one is required"
        )
    return matches[0].blocks


@dataclass(frozen=True)
class _Segment:
    start: date
    end: date
    season: str
    price: PricePeriodSpec

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def _segments(schedule: ScheduleSpec, start: date, end: date) -> list[_Segment]:
    """Split [start, end) wherever the season or the price period changes (docs/ccb-domain.md §2.1, §2.5 step
    2)."""
    cuts: set[date] = set()
    for year in range(start.year, end.year + 1):
        for spec in schedule.seasons:
            cuts.add(date(year, spec.start_month, spec.start_day))
    for period in schedule.price_periods:
        cuts.add(period.effective_from)
        if period.effective_to is not None:
            cuts.add(period.effective_to + timedelta(days=1))
    points = [start, *sorted(c for c in cuts if start < c < end), end]
    segments: list[_Segment] = []
    for a, b in pairwise(points):
        season = season_of(schedule, a)
        price = _price_period(schedule, a)
        if segments and segments[-1].season == season and segments[-1].price == price:
            last = segments[-1]
            segments[-1] = _Segment(last.start, b, season, price)
        else:
            segments.append(_Segment(a, b, season, price))
    return segments


def _cumulative_parts(cumulative: Sequence[Fraction], quantum: Decimal = QTY_QUANTUM) -> list[Decimal]:
    """Parts whose running sums are the rounded running totals (see "Cumulative rounding" above)."""
    parts: list[Decimal] = []
    previous = Decimal(0).quantize(quantum)
    for value in cumulative:
        rounded = round_half_up(value, quantum)
        parts.append(rounded - previous)
        previous = rounded
    return parts


# ---------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class TierLine:
    """One priced line: ``quantity`` of ``tier`` in one sub-period at ``unit_price`` ($/unit)."""

    start: date
    end: date
    season: str
    tier: int
    quantity: Decimal
    unit_price: Decimal
    amount_cents: int


@dataclass(frozen=True)
class SubPeriod:
    """A part of the billing period with one season and one set of prices (docs/ccb-domain.md §2.1)."""

    start: date
    end: date  # exclusive, like the billing period's end
    days: int
    season: str
    price_label: str
    price_source_year: int
    quantity: Decimal  # usage allocated to this part, pro rata by days (§2.5 step 2)
    tier_limits: tuple[Decimal, ...]  # prorated sizes of tiers 1..n-1 in this part (§2.5 step 3)
    lines: tuple[TierLine, ...]  # only tiers with a non-zero quantity

    @property
    def amount_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


@dataclass(frozen=True)
class ChargeLine:
    """A non-usage charge: ``kind`` "fixed" (prorated by days) or "minimum" (top-up to the minimum)."""

    kind: Literal["fixed", "minimum"]
    name: str
    description: str
    days: int
    basis_amount_cents: int  # the amount per basis_days before proration
    basis_days: int
    amount_cents: int


@dataclass(frozen=True)
class BillCalculation:
    """The full, explainable result of pricing one billing period's usage. Totals exclude taxes."""

    schedule_code: str
    service: str
    unit: str
    illustrative: bool  # True when the schedule's figures are placeholders, not published rates
    zone: str
    lot_size: str | None
    start: date
    end: date  # exclusive (the end-read date)
    days: int
    quantity: Decimal
    daily_average: Decimal  # quantity / days, rounded half up to 0.01 for display
    tier_limits: tuple[Decimal, ...]  # whole-period prorated sizes of tiers 1..n-1
    tier_quantities: tuple[Decimal, ...]  # whole-period quantity per tier (all n tiers)
    highest_tier: int  # highest tier with usage (1 when there is no usage)
    sub_periods: tuple[SubPeriod, ...]
    charges: tuple[ChargeLine, ...]
    usage_cents: int
    charges_cents: int
    total_cents: int

    @property
    def lines(self) -> tuple[TierLine, ...]:
        """All tier lines of all sub-periods in date then tier order."""
        return tuple(line for sp in self.sub_periods for line in sp.lines)

    def explain(self) -> tuple[str, ...]:
        """Plain-words lines, e.g. ``"first 711.67 kWh at 18.957¢/kWh = $134.91"``."""
        out: list[str] = []
        for sp in self.sub_periods:
            last_day = sp.end - timedelta(days=1)
            out.append(
                f"{sp.start.isoformat()} to {last_day.isoformat()} ({sp.days} days, {sp.season} season, "
                f"{sp.quantity} {self.unit}):"
            )
            for line in sp.lines:
                lead = "first" if line.tier == 1 else "next"
                if line.tier == len(self.tier_quantities) and line.tier > 1:
                    lead = "remaining"
                out.append(
                    f"  tier {line.tier}: {lead} {format_quantity(line.quantity)} {self.unit} at "
                    f"{format_price(line.unit_price, self.unit)} = {format_cents(line.amount_cents)}"
                )
        for charge in self.charges:
            if charge.kind == "fixed":
                out.append(
                    f"{charge.description}: {format_cents(charge.basis_amount_cents)} per "
                    f"{charge.basis_days} days x {charge.days} days = {format_cents(charge.amount_cents)}"
                )
            else:
                out.append(f"{charge.description}: {format_cents(charge.amount_cents)}")
        out.append(f"Total before taxes: {format_cents(self.total_cents)}")
        return tuple(out)


# ---------------------------------------------------------------------------------------------------
# Engine


def _check_period(start: date, end: date) -> int:
    for value, name in ((start, "start"), (end, "end")):
        # datetime is a date subclass; a time of day has no meaning for billing days.
        if not isinstance(value, date) or isinstance(value, datetime):
            raise RateError(f"{name} must be a datetime.date")
    days = (end - start).days
    if days < 1:
        raise RateError("end (the end-read date) must be after start")
    return days


def _resolve_zone_lot(
    schedule: ScheduleSpec, zone: str | int, lot_size: str | None
) -> tuple[str, str | None]:
    zone_key = str(zone)
    if zone_key not in schedule.zones:
        raise RateError(f"schedule {schedule.code}: unknown zone {zone_key!r} (known: {schedule.zones})")
    lot_names = [x.name for x in schedule.lot_sizes]
    if lot_names:
        if lot_size not in lot_names:
            raise RateError(f"schedule {schedule.code}: lot size must be one of {lot_names}")
    elif lot_size is not None:
        raise RateError(f"schedule {schedule.code} does not use lot sizes")
    return zone_key, lot_size


def _exact_limits_by_segment(
    schedule: ScheduleSpec, segments: Sequence[_Segment], zone: str, lot: str | None
) -> list[list[Fraction]]:
    """Exact cumulative tier sizes through each segment: Σ block x days / basis_days (§2.1, §2.5 step 3)."""
    running = [Fraction(0)] * (schedule.tiers - 1)
    out: list[list[Fraction]] = []
    for seg in segments:
        blocks = _tier_blocks(schedule, seg.season, zone, lot)
        running = [
            r + Fraction(b) * seg.days / schedule.basis_days for r, b in zip(running, blocks, strict=True)
        ]
        out.append(list(running))
    return out


def exact_tier_limits(
    schedule: ScheduleSpec, zone: str | int, start: date, end: date, lot_size: str | None = None
) -> tuple[Fraction, ...]:
    """Exact (unrounded) prorated sizes of tiers 1..n-1 for [start, end), season by season."""
    _check_period(start, end)
    zone_key, lot = _resolve_zone_lot(schedule, zone, lot_size)
    segments = _segments(schedule, start, end)
    return tuple(_exact_limits_by_segment(schedule, segments, zone_key, lot)[-1])


def prorated_tier_limits(
    schedule: ScheduleSpec, zone: str | int, start: date, end: date, lot_size: str | None = None
) -> tuple[Decimal, ...]:
    """Prorated sizes of tiers 1..n-1 for [start, end), rounded half up to 0.01 (e.g. 350x61/30 → 711.67)."""
    return tuple(round_half_up(x) for x in exact_tier_limits(schedule, zone, start, end, lot_size))


def calculate(
    schedule: ScheduleSpec,
    zone: str | int,
    start: date,
    end: date,
    quantity: int | Decimal,
    *,
    lot_size: str | None = None,
) -> BillCalculation:
    """Price ``quantity`` used over [start, end) on ``schedule`` (docs/ccb-domain.md §2.5 steps 1-4).

    The period is split where the season or the price period changes; usage is allocated to each part
    pro rata by days; each part's tier sizes are the 30-day (basis) blocks x days / basis; tiers are
    filled in order within each part. Fixed charges are prorated by days; a minimum charge tops up.
    """
    days = _check_period(start, end)
    qty = to_quantity(quantity)
    zone_key, lot = _resolve_zone_lot(schedule, zone, lot_size)
    segments, limit_parts = _period(schedule, zone_key, lot, start, end)

    # §2.5 step 2: usage by days, cumulative so the parts add up to the metered quantity exactly.
    elapsed = 0
    cumulative_usage: list[Fraction] = []
    for seg in segments:
        elapsed += seg.days
        cumulative_usage.append(Fraction(qty) * elapsed / days)
    usage_parts = _cumulative_parts(cumulative_usage)

    per_segment: list[list[Decimal]] = []
    for usage, limits in zip(usage_parts, limit_parts, strict=True):
        remaining = usage
        tiers: list[Decimal] = []
        for size in limits:  # §2.5 step 4: fill tiers in order
            take = min(remaining, size)
            tiers.append(take)
            remaining -= take
        tiers.append(remaining)  # the top tier is unbounded
        per_segment.append(tiers)
    return _build(schedule, zone_key, lot, start, end, days, qty, segments, limit_parts, per_segment)


def price_tier_split(
    schedule: ScheduleSpec,
    zone: str | int,
    start: date,
    end: date,
    tier_quantities: Sequence[int | Decimal],
    *,
    lot_size: str | None = None,
) -> BillCalculation:
    """Price a given per-tier split of [start, end) (e.g. the split a bill actually used).

    Each tier's quantity is spread over the sub-periods pro rata by days (the same rule as usage) and
    priced at that sub-period's price for the tier; fixed charges follow the highest tier with usage.
    Used to re-price what was billed when only the tier quantities are known.
    """
    days = _check_period(start, end)
    zone_key, lot = _resolve_zone_lot(schedule, zone, lot_size)
    if len(tier_quantities) != schedule.tiers:
        raise RateError(f"schedule {schedule.code} has {schedule.tiers} tiers; got {len(tier_quantities)}")
    tier_qty = [to_quantity(q, f"tier {i + 1} quantity") for i, q in enumerate(tier_quantities)]
    segments, limit_parts = _period(schedule, zone_key, lot, start, end)

    by_tier: list[list[Decimal]] = []
    for q in tier_qty:
        elapsed = 0
        cumulative: list[Fraction] = []
        for seg in segments:
            elapsed += seg.days
            cumulative.append(Fraction(q) * elapsed / days)
        by_tier.append(_cumulative_parts(cumulative))
    per_segment = [[by_tier[t][i] for t in range(schedule.tiers)] for i in range(len(segments))]
    total = sum(tier_qty, Decimal(0)).quantize(QTY_QUANTUM)
    return _build(schedule, zone_key, lot, start, end, days, total, segments, limit_parts, per_segment)


# Sub-periods and tier sizes by (schedule, zone, lot size, start, end). They depend on the period alone,
# not on usage, and a bill run or the seeder prices thousands of usages over the same few hundred periods.
# The schedule itself is kept beside its id, so an id reused by a later object never matches.
_Period = tuple[tuple[_Segment, ...], tuple[tuple[Decimal, ...], ...]]
_PERIODS: dict[tuple[int, str, str | None, date, date], tuple[ScheduleSpec, _Period]] = {}
_PERIODS_MAX = 4096


def _period(schedule: ScheduleSpec, zone: str, lot: str | None, start: date, end: date) -> _Period:
    key = (id(schedule), zone, lot, start, end)
    hit = _PERIODS.get(key)
    if hit is not None and hit[0] is schedule:
        return hit[1]
    segments = _segments(schedule, start, end)
    limits = _limit_parts(schedule, segments, zone, lot)
    period = (tuple(segments), tuple(tuple(row) for row in limits))
    if len(_PERIODS) >= _PERIODS_MAX:
        _PERIODS.clear()
    _PERIODS[key] = (schedule, period)
    return period


def _limit_parts(
    schedule: ScheduleSpec, segments: Sequence[_Segment], zone: str, lot: str | None
) -> list[list[Decimal]]:
    """Rounded tier sizes per segment, cumulative-rounded so they add up to the whole-period limits."""
    exact = _exact_limits_by_segment(schedule, segments, zone, lot)
    per_tier = [_cumulative_parts([row[t] for row in exact]) for t in range(schedule.tiers - 1)]
    return [[per_tier[t][i] for t in range(schedule.tiers - 1)] for i in range(len(segments))]


def _build(
    schedule: ScheduleSpec,
    zone: str,
    lot: str | None,
    start: date,
    end: date,
    days: int,
    qty: Decimal,
    segments: Sequence[_Segment],
    limit_parts: Sequence[Sequence[Decimal]],
    per_segment: Sequence[Sequence[Decimal]],
) -> BillCalculation:
    sub_periods: list[SubPeriod] = []
    for seg, limits, tier_qty in zip(segments, limit_parts, per_segment, strict=True):
        prices = seg.price.prices.get(seg.season)
        if prices is None:  # guarded by config validation; kept for configs built in code
            raise RateError(f"price period {seg.price.label} has no {seg.season} prices")
        lines = tuple(
            TierLine(
                seg.start,
                seg.end,
                seg.season,
                t + 1,
                q,
                prices[t],
                _product_cents(q, prices[t]),
            )
            for t, q in enumerate(tier_qty)
            if q > 0
        )
        sub_periods.append(
            SubPeriod(
                start=seg.start,
                end=seg.end,
                days=seg.days,
                season=seg.season,
                price_label=seg.price.label,
                price_source_year=seg.price.source_year,
                quantity=sum(tier_qty, Decimal(0)).quantize(QTY_QUANTUM),
                tier_limits=tuple(limits),
                lines=lines,
            )
        )

    tier_totals = tuple(
        sum((row[t] for row in per_segment), Decimal(0)).quantize(QTY_QUANTUM) for t in range(schedule.tiers)
    )
    highest = max((t + 1 for t, q in enumerate(tier_totals) if q > 0), default=1)
    usage_cents = sum(sp.amount_cents for sp in sub_periods)

    charges: list[ChargeLine] = []
    for spec in schedule.fixed_charges:
        overlap = _overlap_days(start, end, spec.effective_from, spec.effective_to)
        if overlap == 0:
            continue
        # Graduated charges (Power Access Charge) take the highest tier reached in the period; the
        # reference marks that reading as an interpretation [~] (docs/ccb-domain.md §2.2).
        basis = spec.amounts_cents[0] if len(spec.amounts_cents) == 1 else spec.amounts_cents[highest - 1]
        amount = to_cents(Fraction(basis, 100) * overlap / spec.basis_days)
        description = (
            spec.description if len(spec.amounts_cents) == 1 else f"{spec.description} (tier {highest})"
        )
        charges.append(ChargeLine("fixed", spec.name, description, overlap, basis, spec.basis_days, amount))

    if schedule.minimum_charge is not None:
        minimum = schedule.minimum_charge
        floor_cents = to_cents(Fraction(minimum.amount_cents, 100) * days / minimum.basis_days)
        billed = usage_cents + sum(c.amount_cents for c in charges)
        if billed < floor_cents:
            charges.append(
                ChargeLine(
                    "minimum",
                    "minimum_charge",
                    f"Minimum charge top-up ({format_cents(minimum.amount_cents)} "
                    f"per {minimum.basis_days} days)",
                    days,
                    minimum.amount_cents,
                    minimum.basis_days,
                    floor_cents - billed,
                )
            )

    charges_cents = sum(c.amount_cents for c in charges)
    whole_limits = tuple(
        sum((row[t] for row in limit_parts), Decimal(0)).quantize(QTY_QUANTUM)
        for t in range(schedule.tiers - 1)
    )
    return BillCalculation(
        schedule_code=schedule.code,
        service=schedule.service,
        unit=schedule.unit,
        illustrative=schedule.illustrative,
        zone=zone,
        lot_size=lot,
        start=start,
        end=end,
        days=days,
        quantity=qty,
        daily_average=round_half_up(Fraction(qty) / days),
        tier_limits=whole_limits,
        tier_quantities=tier_totals,
        highest_tier=highest,
        sub_periods=tuple(sub_periods),
        charges=tuple(charges),
        usage_cents=usage_cents,
        charges_cents=charges_cents,
        total_cents=usage_cents + charges_cents,
    )


def _overlap_days(start: date, end: date, eff_from: date, eff_to: date | None) -> int:
    upper = end if eff_to is None else min(end, eff_to + timedelta(days=1))
    return max(0, (upper - max(start, eff_from)).days)


def calculate_electric(
    config: RateConfig, zone: str | int, start: date, end: date, kwh: int | Decimal
) -> BillCalculation:
    """Price ``kwh`` on the config's residential electric schedule (R-1A) for temperature ``zone`` 1 or 2."""
    return calculate(config.schedule(config.electric_schedule), zone, start, end, kwh)


def calculate_water(
    config: RateConfig,
    temperature_zone: str,
    lot_size_sqft: int,
    start: date,
    end: date,
    hcf: int | Decimal,
) -> BillCalculation:
    """Price ``hcf`` on the config's residential water schedule (A) for a temperature zone and lot size."""
    schedule = config.schedule(config.water_schedule)
    return calculate(
        schedule, temperature_zone, start, end, hcf, lot_size=lot_size_class(schedule, lot_size_sqft)
    )
