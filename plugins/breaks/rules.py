"""Pure break-scheduling logic: rule sets, V1-V8 validation, premium exposure and the peak-aware scheduler.

Nothing here touches HTTP, the bus or the database. Times are whole minutes since local midnight of the
schedule's day; "work time" is time worked since the shift started, i.e. elapsed time minus unpaid meals
(docs/rules.md §3.1: rests count as hours worked; §3.2: an unpaid meal does not).

Rule sets are pluggable (docs/rules.md §3.5): ``CA_WAGE_ORDER_4`` is the conservative default (contractors,
and
anyone without an MOU), and ``MOU_<unit>`` sets come from config per bargaining unit, because Order 4 §§11-12
do not bind a public agency and its employees' breaks come from their MOU.

The interval forecast the scheduler staffs against comes from :mod:`plugins.breaks.rules_forecast`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated

import msgspec

from plugins.breaks.rules_forecast import DAY, INTERVAL, SimulatorProfileConfig

DEFAULT_RULE_SET = "CA_WAGE_ORDER_4"
UNIT_NAME = r"^[A-Z0-9][A-Z0-9_]{0,31}$"


class BreakKind(enum.StrEnum):
    REST = "rest"
    MEAL = "meal"
    LACTATION = "lactation"


class Rule(enum.StrEnum):
    """The scheduler validation rules of docs/rules.md §3.6."""

    V1 = "V1"  # rest count by hours worked
    V2 = "V2"  # each rest 10 consecutive minutes, not merged into a meal
    V3 = "V3"  # a rest in each 4-hour block
    V4 = "V4"  # first meal by the end of the 5th hour
    V5 = "V5"  # second meal by the end of the 10th hour
    V6 = "V6"  # on-duty meal only with a written agreement
    V7 = "V7"  # lactation breaks when flagged
    V8 = "V8"  # premium-pay exposure


class Premium(enum.StrEnum):
    """Which premium a violation exposes the employer to (LC 226.7; docs/rules.md §3.4): one hour each per
    day."""

    MEAL = "meal"
    REST = "rest"
    NONE = "none"


# -- config -------------------------------------------------------------------------------------------------
class MouRuleSetConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Break terms of one bargaining unit's MOU (docs/rules.md §3.5).

    The defaults mirror Order 4 only as a placeholder: the actual MOU terms must be loaded per unit. FLSA
    still holds under any MOU: a paid rest of 5-20 minutes, an unpaid meal only if ≥ 30 minutes
    (29 CFR 785.18-19), which the bounds below enforce. ``premium_pay`` is off because LC 226.7 does not bind
    a public employer; set it when the MOU provides a premium.
    """

    rest_minutes: Annotated[int, msgspec.Meta(ge=5, le=20)] = 10
    rest_per_hours: Annotated[float, msgspec.Meta(ge=1, le=8)] = 4.0
    rest_min_day_hours: Annotated[float, msgspec.Meta(ge=0, le=12)] = 3.5
    meal_minutes: Annotated[int, msgspec.Meta(ge=30, le=120)] = 30
    first_meal_after_hours: Annotated[float, msgspec.Meta(ge=1, le=12)] = 5.0
    second_meal_after_hours: Annotated[float, msgspec.Meta(ge=2, le=16)] = 10.0
    first_meal_waiver_max_hours: Annotated[float, msgspec.Meta(ge=0, le=24)] = 6.0
    second_meal_waiver_max_hours: Annotated[float, msgspec.Meta(ge=0, le=24)] = 12.0
    premium_pay: bool = False


class BreaksConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The breaks plugin's settings; every default works (the contract suite converts ``{}``)."""

    # Bargaining units with their own MOU rule set, e.g. {"IBEW18": {...}}; other staff get Order 4.
    mou_units: dict[Annotated[str, msgspec.Meta(pattern=UNIT_NAME)], MouRuleSetConfig] = {}
    # Forecast defaults when a request gives none: mean handle time and the 80/20 service-level target.
    aht_seconds: Annotated[float, msgspec.Meta(gt=0, le=7200)] = 300.0
    target_service_level: Annotated[float, msgspec.Meta(gt=0, lt=1)] = 0.8
    threshold_seconds: Annotated[float, msgspec.Meta(ge=0, le=600)] = 20.0
    max_occupancy: Annotated[float, msgspec.Meta(gt=0, le=1)] | None = None
    # Telephony Not Ready reason codes (ids) a break sets; the demo telephony has 1 Break and 2 Lunch.
    rest_reason_code_id: Annotated[int, msgspec.Meta(ge=1)] = 1
    meal_reason_code_id: Annotated[int, msgspec.Meta(ge=1)] = 2
    lactation_reason_code_id: Annotated[int, msgspec.Meta(ge=1)] = 1
    # The overdue check: a published break not started this long after its planned start fails it.
    overdue_minutes: Annotated[int, msgspec.Meta(ge=1, le=240)] = 10
    # Lactation breaks planned for a flagged shift when the shift does not say (LC 1030; docs/rules.md §3.5).
    lactation_breaks_default: Annotated[int, msgspec.Meta(ge=1, le=6)] = 2
    lactation_minutes: Annotated[int, msgspec.Meta(ge=5, le=60)] = 15
    # Forecast sources: the simulator's arrival profile, and how much recorded history a forecast reads —
    # the same weekday over this many weeks; the measured handle time replaces ``aht_seconds`` only when at
    # least ``history_min_handled_calls`` handled calls back it (fewer would make Erlang C's h noise).
    simulator: SimulatorProfileConfig = msgspec.field(default_factory=SimulatorProfileConfig)
    history_weeks: Annotated[int, msgspec.Meta(ge=1, le=26)] = 4
    history_min_handled_calls: Annotated[int, msgspec.Meta(ge=1, le=100000)] = 20

    def reason_code_for(self, kind: BreakKind) -> int:
        return {
            BreakKind.REST: self.rest_reason_code_id,
            BreakKind.MEAL: self.meal_reason_code_id,
            BreakKind.LACTATION: self.lactation_reason_code_id,
        }[kind]


# -- rule sets ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RuleSet:
    """The numbers one rule set uses (all durations in minutes of work time)."""

    name: str
    rest_minutes: int = 10
    rest_per_minutes: int = 240
    rest_min_day_minutes: int = 210
    meal_minutes: int = 30
    first_meal_after: int = 300
    second_meal_after: int = 600
    first_meal_waiver_max: int = 360
    second_meal_waiver_max: int = 720
    premium_pay: bool = True

    def rests_required(self, worked: int) -> int:
        """Rest count for ``worked`` minutes (docs/rules.md §3.1): one per 4 hours or major fraction (> 2 h).

        Under Order 4: 0 below 3.5 h, then floor(h/4) plus one when the remainder exceeds 2 h, so 3.5-6 h → 1,
        >6-10 h → 2, >10-14 h → 3. ``max(1, …)`` covers 3.5-4 h, which the table gives one rest.
        """
        if worked < self.rest_min_day_minutes:
            return 0
        per = self.rest_per_minutes
        count = worked // per + (1 if worked % per > per // 2 else 0)
        return max(1, count)


CA_WAGE_ORDER_4 = RuleSet(name=DEFAULT_RULE_SET)


def mou_rule_set(unit: str, terms: MouRuleSetConfig) -> RuleSet:
    return RuleSet(
        name=f"MOU_{unit}",
        rest_minutes=terms.rest_minutes,
        rest_per_minutes=round(terms.rest_per_hours * 60),
        rest_min_day_minutes=round(terms.rest_min_day_hours * 60),
        meal_minutes=terms.meal_minutes,
        first_meal_after=round(terms.first_meal_after_hours * 60),
        second_meal_after=round(terms.second_meal_after_hours * 60),
        first_meal_waiver_max=round(terms.first_meal_waiver_max_hours * 60),
        second_meal_waiver_max=round(terms.second_meal_waiver_max_hours * 60),
        premium_pay=terms.premium_pay,
    )


def rule_sets(config: BreaksConfig) -> dict[str, RuleSet]:
    found = {DEFAULT_RULE_SET: CA_WAGE_ORDER_4}
    for unit, terms in config.mou_units.items():
        found[f"MOU_{unit}"] = mou_rule_set(unit, terms)
    return found


def rule_set_for(config: BreaksConfig, bargaining_unit: str | None) -> RuleSet:
    """An employee in a configured unit gets the unit's MOU set; anyone else the Order 4 default (§3.5)."""
    if bargaining_unit and bargaining_unit in config.mou_units:
        return mou_rule_set(bargaining_unit, config.mou_units[bargaining_unit])
    return CA_WAGE_ORDER_4


# -- shifts and breaks --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ShiftPlan:
    """One CSR's shift on the day, and what changes their entitlements."""

    agent_id: str
    start: int
    end: int
    rules: RuleSet = CA_WAGE_ORDER_4
    meal1_waived: bool = False
    meal2_waived: bool = False
    on_duty_meal_agreement: bool = False
    lactation: bool = False
    lactation_breaks: int = 0
    regular_rate: float | None = None

    @property
    def elapsed(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class BreakPlan:
    """A break at ``start`` (minutes since local midnight) for ``minutes``.

    ``on_duty`` is for meals only (docs/rules.md §3.2: paid and counted as work). A rest with ``lactation``
    is a
    rest taken concurrently as a lactation break (§3.5: concurrent with rests where possible).
    """

    agent_id: str
    kind: BreakKind
    start: int
    minutes: int
    on_duty: bool = False
    lactation: bool = False

    @property
    def end(self) -> int:
        return self.start + self.minutes

    @property
    def unpaid(self) -> bool:
        return self.kind is BreakKind.MEAL and not self.on_duty


@dataclass(frozen=True, slots=True)
class Violation:
    agent_id: str
    rule: Rule
    message: str
    premium: Premium
    # Index in the shift's break list (sorted by start) when one break is at fault.
    break_start: int | None = None


@dataclass(frozen=True, slots=True)
class ShiftReport:
    """The validation of one shift: its violations and the premium hours they expose (V8)."""

    agent_id: str
    rule_set: str
    worked_minutes: int
    violations: tuple[Violation, ...]
    premium_hours: int
    premium_amount: float | None


def worked_minutes(shift: ShiftPlan, breaks: Sequence[BreakPlan]) -> int:
    """Hours worked (in minutes): elapsed minus unpaid meal time inside the shift (docs/rules.md
    §3.1-§3.2)."""
    unpaid = sum(_overlap(b.start, b.end, shift.start, shift.end) for b in breaks if b.unpaid)
    return shift.elapsed - unpaid


def work_time_at(shift: ShiftPlan, breaks: Sequence[BreakPlan], clock: int) -> int:
    """Minutes worked from the shift start until ``clock`` (unpaid meals before it don't count)."""
    unpaid = sum(_overlap(b.start, b.end, shift.start, clock) for b in breaks if b.unpaid)
    return clock - shift.start - unpaid


def clock_at_work(shift: ShiftPlan, breaks: Sequence[BreakPlan], work: int) -> int:
    """The earliest clock minute at which ``work`` minutes have been worked (inverse of ``work_time_at``)."""
    clock = shift.start + work
    for meal in sorted((b for b in breaks if b.unpaid), key=lambda b: b.start):
        if meal.start < clock:
            clock += meal.minutes
    return min(clock, shift.end)


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def fmt(minute: int) -> str:
    """A clock minute as HH:MM (24 h), for messages."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _hours(minutes: int) -> str:
    return f"{minutes / 60:g} h"


# -- validation (docs/rules.md §3.6)
# -----------------------------------------------------------------------------
def validate_shift(shift: ShiftPlan, breaks: Iterable[BreakPlan]) -> ShiftReport:
    """Check one shift's breaks against V1-V7 and report the V8 premium exposure."""
    rules = shift.rules
    own = sorted((b for b in breaks if b.agent_id == shift.agent_id), key=lambda b: (b.start, b.kind))
    worked = worked_minutes(shift, own)
    found: list[Violation] = []

    def flag(rule: Rule, message: str, premium: Premium, at: BreakPlan | None = None) -> None:
        # A public employer owes no LC 226.7 premium unless its MOU says so (docs/rules.md §3.5).
        owed = premium if rules.premium_pay else Premium.NONE
        found.append(Violation(shift.agent_id, rule, message, owed, at.start if at else None))

    for b in own:
        if b.start < shift.start or b.end > shift.end:
            premium = Premium.MEAL if b.kind is BreakKind.MEAL else Premium.REST
            rule = Rule.V4 if b.kind is BreakKind.MEAL else Rule.V2
            flag(
                rule,
                f"{b.kind} at {fmt(b.start)} lies outside the shift {fmt(shift.start)}-{fmt(shift.end)}",
                premium,
                b,
            )

    rests = [b for b in own if b.kind is BreakKind.REST]
    meals = [b for b in own if b.kind is BreakKind.MEAL]

    # V1: enough rests for the hours worked (§3.1 table).
    needed = rules.rests_required(worked)
    if len(rests) < needed:
        flag(Rule.V1, f"{len(rests)} rest(s) for {_hours(worked)} worked; {needed} required", Premium.REST)

    # V2: each rest is one consecutive break of the full length, separate from any meal (§3.1, DLSE 2002).
    for r in rests:
        if r.minutes < rules.rest_minutes:
            flag(
                Rule.V2,
                f"rest at {fmt(r.start)} is {r.minutes} min; {rules.rest_minutes} consecutive "
                "minutes required",
                Premium.REST,
                r,
            )
        if any(m.start <= r.end and r.start <= m.end for m in meals):
            flag(Rule.V2, f"rest at {fmt(r.start)} is merged into a meal", Premium.REST, r)

    # V3: each 4-hour block of work that earns a rest has one in it (§3.1 "in the middle … as practicable").
    positions = sorted(work_time_at(shift, own, r.start) for r in rests)
    for block in range(needed):
        lo = block * rules.rest_per_minutes
        hi = min(lo + rules.rest_per_minutes, worked)
        if not any(lo <= p < hi for p in positions):
            flag(Rule.V3, f"no rest in work hours {_hours(lo)}-{_hours(hi)}", Premium.REST)

    # V4: a first meal that starts by the end of the 5th hour of work, unless validly waived (§3.2-§3.3).
    first = meals[0] if meals else None
    second = meals[1] if len(meals) > 1 else None
    meal1_waived = shift.meal1_waived and worked <= rules.first_meal_waiver_max
    if shift.meal1_waived and not meal1_waived:
        flag(
            Rule.V4,
            f"first meal waived on a {_hours(worked)} day; waivable only up to "
            f"{_hours(rules.first_meal_waiver_max)}",
            Premium.MEAL,
        )
    elif worked > rules.first_meal_after and not meal1_waived:
        if first is None:
            flag(Rule.V4, f"no meal on a {_hours(worked)} day", Premium.MEAL)
        else:
            _check_meal(flag, Rule.V4, shift, own, first, rules.first_meal_after, rules.meal_minutes, "first")

    # V5: a second meal by the end of the 10th hour, waivable only if ≤ 12 h and the first was not waived.
    if worked > rules.second_meal_after:
        waivable = worked <= rules.second_meal_waiver_max and not shift.meal1_waived
        if shift.meal2_waived and not waivable:
            flag(
                Rule.V5,
                f"second meal waived on a {_hours(worked)} day (or after waiving the first)",
                Premium.MEAL,
            )
        elif not shift.meal2_waived:
            if second is None:
                flag(Rule.V5, f"no second meal on a {_hours(worked)} day", Premium.MEAL)
            else:
                _check_meal(
                    flag, Rule.V5, shift, own, second, rules.second_meal_after, rules.meal_minutes, "second"
                )

    # V6: an on-duty meal needs the written, revocable agreement (§3.2).
    for m in meals:
        if m.on_duty and not shift.on_duty_meal_agreement:
            flag(Rule.V6, f"on-duty meal at {fmt(m.start)} without a written agreement", Premium.MEAL, m)

    # V7: lactation breaks when flagged; rests marked as lactation count (concurrent, §3.5). LC 1033 has its
    # own penalty, so no LC 226.7 premium hour is counted for it.
    if shift.lactation:
        given = sum(
            1 for b in own if b.kind is BreakKind.LACTATION or (b.kind is BreakKind.REST and b.lactation)
        )
        if given < max(1, shift.lactation_breaks):
            flag(
                Rule.V7, f"{given} lactation break(s); {max(1, shift.lactation_breaks)} needed", Premium.NONE
            )

    # V8: at most one meal and one rest premium hour per workday (§3.4).
    premium_hours = int(any(v.premium is Premium.MEAL for v in found)) + int(
        any(v.premium is Premium.REST for v in found)
    )
    if premium_hours:
        found.append(
            Violation(shift.agent_id, Rule.V8, f"premium pay exposure {premium_hours} h", Premium.NONE)
        )
    amount = premium_hours * shift.regular_rate if shift.regular_rate is not None else None
    return ShiftReport(shift.agent_id, rules.name, worked, tuple(found), premium_hours, amount)


def _check_meal(
    flag: Callable[[Rule, str, Premium, BreakPlan | None], None],
    rule: Rule,
    shift: ShiftPlan,
    own: Sequence[BreakPlan],
    meal: BreakPlan,
    latest: int,
    minutes: int,
    which: str,
) -> None:
    at = work_time_at(shift, own, meal.start)
    if at > latest:
        flag(
            rule,
            f"{which} meal starts after {_hours(at)} of work; must start by {_hours(latest)}",
            Premium.MEAL,
            meal,
        )
    if meal.minutes < minutes:
        flag(rule, f"{which} meal is {meal.minutes} min; at least {minutes} required", Premium.MEAL, meal)


def validate(shifts: Sequence[ShiftPlan], breaks: Sequence[BreakPlan]) -> list[ShiftReport]:
    """Validate every shift; a break for an agent with no shift is reported as a V2 problem of that agent."""
    reports = [validate_shift(s, breaks) for s in shifts]
    known = {s.agent_id for s in shifts}
    strays = sorted({b.agent_id for b in breaks} - known)
    for agent in strays:
        reports.append(
            ShiftReport(
                agent,
                "-",
                0,
                (Violation(agent, Rule.V2, "break for an agent not on shift", Premium.NONE),),
                0,
                None,
            )
        )
    return reports


# -- forecast and staffing ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Forecast:
    """Calls per hour for consecutive 15-minute intervals from ``start`` (minutes since midnight)."""

    start: int
    calls_per_hour: tuple[float, ...]
    aht_seconds: float
    target_service_level: float
    threshold_seconds: float
    max_occupancy: float | None = None

    @property
    def end(self) -> int:
        return self.start + INTERVAL * len(self.calls_per_hour)


def required_per_interval(forecast: Forecast, required_agents: Callable[..., int]) -> list[int]:
    """Agents needed on the queue per interval (Erlang C ``required_agents``); no calls needs nobody.

    The Erlang function is passed in so this module stays pure and testable.
    """
    need: list[int] = []
    for rate in forecast.calls_per_hour:
        if rate <= 0:
            need.append(0)
            continue
        need.append(
            required_agents(
                rate,
                forecast.aht_seconds,
                forecast.target_service_level,
                forecast.threshold_seconds,
                forecast.max_occupancy,
            )
        )
    return need


def on_shift_per_interval(forecast: Forecast, shifts: Sequence[ShiftPlan]) -> list[int]:
    """Agents whose shift covers the whole interval (someone leaving mid-interval can't be counted on)."""
    return [
        sum(1 for s in shifts if s.start <= t and t + INTERVAL <= s.end)
        for t in range(forecast.start, forecast.end, INTERVAL)
    ]


def available_per_interval(
    forecast: Forecast, shifts: Sequence[ShiftPlan], breaks: Sequence[BreakPlan]
) -> list[int]:
    """On shift minus anyone on a break for any part of the interval (a break of 10 min costs the slot)."""
    available = on_shift_per_interval(forecast, shifts)
    covering = {s.agent_id: s for s in shifts}
    for b in breaks:
        shift = covering.get(b.agent_id)
        if shift is None:
            continue
        for i, t in enumerate(range(forecast.start, forecast.end, INTERVAL)):
            if shift.start <= t and t + INTERVAL <= shift.end and _overlap(b.start, b.end, t, t + INTERVAL):
                available[i] -= 1
    return available


@dataclass(frozen=True, slots=True)
class Shortfall:
    """An interval where available agents stay below the need; ``cause`` says why it could not be met."""

    start: int
    required: int
    on_shift: int
    available: int
    cause: str  # "understaffed": too few on shift even with no breaks; "breaks": legal windows force breaks


@dataclass(frozen=True, slots=True)
class ScheduleResult:
    breaks: tuple[BreakPlan, ...]
    required: tuple[int, ...]
    on_shift: tuple[int, ...]
    available: tuple[int, ...]
    shortfalls: tuple[Shortfall, ...]


def shortfalls(
    forecast: Forecast, required: Sequence[int], on_shift: Sequence[int], available: Sequence[int]
) -> list[Shortfall]:
    found = []
    for i, t in enumerate(range(forecast.start, forecast.end, INTERVAL)):
        if available[i] < required[i]:
            cause = "understaffed" if on_shift[i] < required[i] else "breaks"
            found.append(Shortfall(t, required[i], on_shift[i], available[i], cause))
    return found


# -- forecast sources ---------------------------------------------------------------------------------------
def forecast_window(shifts: Sequence[ShiftPlan], start: int | None, end: int | None) -> tuple[int, int]:
    """The forecast's first interval start and its number of intervals.

    Either end not given is taken from the shifts: the earliest start rounded down and the latest end rounded
    up to a whole interval, so every minute anyone works is forecast. Raises ValueError when nothing is left.
    """
    first = start if start is not None else min(s.start for s in shifts) // INTERVAL * INTERVAL
    last = end if end is not None else min(DAY, -(-max(s.end for s in shifts) // INTERVAL) * INTERVAL)
    if first % INTERVAL or last % INTERVAL:
        raise ValueError(f"starts and ends on a {INTERVAL}-minute boundary")
    if last <= first:
        raise ValueError(f"ends at {fmt(last)}, not after the start {fmt(first)}")
    return first, (last - first) // INTERVAL


# -- the scheduler ------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Need:
    """A break still to place, with its legal window of start minutes [earliest, latest]."""

    shift: ShiftPlan
    kind: BreakKind
    minutes: int
    earliest: int
    latest: int
    ideal: int
    lactation: bool = False
    order: int = 0
    placed: int | None = field(default=None)


def _window(lo: int, hi: int, minutes: int, shift: ShiftPlan) -> tuple[int, int]:
    lo = max(lo, shift.start)
    hi = min(hi, shift.end - minutes)
    return lo, max(lo, hi)


def meal_needs(shift: ShiftPlan) -> list[_Need]:
    """Meals a shift is owed and their windows (docs/rules.md §3.2, §3.6 "meal window [start+~2.5h,
    start+5h]").

    Planned on elapsed time: without a meal, work time equals elapsed time, so a shift longer than 5 h needs
    one unless validly waived (§3.3). The latest start is the end of the 5th (10th) hour of work, never later.
    """
    rules = shift.rules
    needs: list[_Need] = []
    meal = rules.meal_minutes
    waive1 = shift.meal1_waived and shift.elapsed <= rules.first_meal_waiver_max
    if shift.elapsed > rules.first_meal_after and not waive1:
        lo, hi = _window(
            shift.start + rules.first_meal_after // 2, shift.start + rules.first_meal_after, meal, shift
        )
        needs.append(_Need(shift, BreakKind.MEAL, meal, lo, hi, (lo + hi) // 2))
    first_taken = 0 if waive1 else meal
    worked = shift.elapsed - first_taken
    waive2 = shift.meal2_waived and worked <= rules.second_meal_waiver_max and not shift.meal1_waived
    if worked > rules.second_meal_after and not waive2:
        # Work time 10:00 is clock start + 10 h + the unpaid first meal.
        latest = shift.start + rules.second_meal_after + first_taken
        lo, hi = _window(latest - rules.first_meal_after // 2, latest, meal, shift)
        needs.append(_Need(shift, BreakKind.MEAL, meal, lo, hi, (lo + hi) // 2))
    return needs


def rest_needs(shift: ShiftPlan, meals: Sequence[BreakPlan], config: BreaksConfig) -> list[_Need]:
    """Rests in their 4-hour blocks of work, window [block start + 1 h, block end − 1 h] (docs/rules.md §3.6).

    A short last block shrinks the window to its middle third rather than losing the rest.
    """
    rules = shift.rules
    worked = worked_minutes(shift, meals)
    needs = []
    for block in range(rules.rests_required(worked)):
        lo = block * rules.rest_per_minutes
        hi = min(lo + rules.rest_per_minutes, worked)
        span = hi - lo
        margin = min(60, span // 3)
        early = clock_at_work(shift, meals, lo + margin)
        late = clock_at_work(shift, meals, hi - margin) - rules.rest_minutes
        e, la = _window(early, max(early, late), rules.rest_minutes, shift)
        needs.append(
            _Need(
                shift, BreakKind.REST, rules.rest_minutes, e, la, clock_at_work(shift, meals, (lo + hi) // 2)
            )
        )
    if shift.lactation:
        # Concurrent with rests where possible (§3.5): mark the rests first, add separate breaks for the rest.
        wanted = max(1, shift.lactation_breaks or config.lactation_breaks_default)
        for need in needs[:wanted]:
            need.lactation = True
        for k in range(max(0, wanted - len(needs))):
            mid = shift.start + shift.elapsed * (k + 1) // (wanted - len(needs) + 1)
            lo, hi = _window(mid - 60, mid + 60, config.lactation_minutes, shift)
            needs.append(_Need(shift, BreakKind.LACTATION, config.lactation_minutes, lo, hi, mid))
    return needs


def _candidates(need: _Need) -> list[int]:
    """Start minutes to try: the window's ends and every 5-minute mark inside it."""
    first = -(-need.earliest // 5) * 5
    points = set(range(first, need.latest + 1, 5)) | {need.earliest, need.latest}
    return sorted(p for p in points if need.earliest <= p <= need.latest)


def _place(
    needs: list[_Need],
    forecast: Forecast,
    required: Sequence[int],
    available: list[int],
    busy: dict[str, list[tuple[int, int]]],
) -> None:
    """Greedy placement, tightest window first: each break goes where it costs the least staffing.

    The score for a start is (worst slack over the intervals it touches, −intervals touched, −distance
    from the ideal), so a break avoids understaffed intervals first, then prefers to stay inside one
    interval, then stays near the middle of its work period (§3.1 "insofar as practicable").
    """
    starts = list(range(forecast.start, forecast.end, INTERVAL))

    def touched(need: _Need, at: int) -> list[int]:
        shift = need.shift
        return [
            i
            for i, t in enumerate(starts)
            if shift.start <= t
            and t + INTERVAL <= shift.end
            and _overlap(at, at + need.minutes, t, t + INTERVAL)
        ]

    for need in sorted(needs, key=lambda n: (n.latest - n.earliest, n.shift.start, n.order)):
        taken = busy.setdefault(need.shift.agent_id, [])
        best: tuple[tuple[int, int, int], int] | None = None
        for at in _candidates(need):
            # Breaks of one agent never touch: a rest next to a meal would merge into it (V2).
            if any(at <= e and s <= at + need.minutes for s, e in taken):
                continue
            slots = touched(need, at)
            slack = min((available[i] - 1 - required[i] for i in slots), default=10**6)
            score = (slack, -len(slots), -abs(at - need.ideal))
            if best is None or score > best[0]:
                best = (score, at)
        if best is None:
            # No free start in the window (an unusual hand-set shift): take the ideal minute anyway and let
            # validation report it, rather than silently dropping a legally owed break.
            at = min(max(need.ideal, need.earliest), need.latest)
        else:
            at = best[1]
        need.placed = at
        taken.append((at, at + need.minutes))
        for i in touched(need, at):
            available[i] -= 1


def schedule(
    shifts: Sequence[ShiftPlan],
    forecast: Forecast,
    required: Sequence[int],
    config: BreaksConfig,
) -> ScheduleResult:
    """Place every owed break inside its legal window, keeping staffing at or above ``required``.

    Meals go first (their windows are hard: never past the 5th/10th hour, §3.6), then rests in their blocks.
    Peaks are covered only by moving breaks within their windows; where that is impossible the interval is
    reported as a shortfall, the breaks stay legal.
    """
    on_shift = on_shift_per_interval(forecast, shifts)
    available = list(on_shift)
    busy: dict[str, list[tuple[int, int]]] = {}
    meal_list = [n for s in shifts for n in meal_needs(s)]
    for k, n in enumerate(meal_list):
        n.order = k
    _place(meal_list, forecast, required, available, busy)
    meals = [_as_break(n) for n in meal_list]
    rest_list: list[_Need] = []
    for s in shifts:
        rest_list.extend(rest_needs(s, [m for m in meals if m.agent_id == s.agent_id], config))
    for k, n in enumerate(rest_list):
        n.order = k
    _place(rest_list, forecast, required, available, busy)
    placed = sorted([*meals, *(_as_break(n) for n in rest_list)], key=lambda b: (b.agent_id, b.start))
    final = available_per_interval(forecast, shifts, placed)
    return ScheduleResult(
        breaks=tuple(placed),
        required=tuple(required),
        on_shift=tuple(on_shift),
        available=tuple(final),
        shortfalls=tuple(shortfalls(forecast, required, on_shift, final)),
    )


def _as_break(need: _Need) -> BreakPlan:
    assert need.placed is not None
    return BreakPlan(need.shift.agent_id, need.kind, need.placed, need.minutes, lactation=need.lactation)
