"""The breaks plugin's pure rules: the rest-count table, V1-V8 (each passing and failing), premium exposure,
MOU rule sets, and the scheduler's staffing against Erlang C on a simulated interval forecast.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.contract.phone import required_agents
from plugins.breaks.rules import (
    CA_WAGE_ORDER_4,
    BreakKind,
    BreakPlan,
    BreaksConfig,
    Forecast,
    MouRuleSetConfig,
    Premium,
    Rule,
    ShiftPlan,
    available_per_interval,
    meal_needs,
    required_per_interval,
    rule_set_for,
    schedule,
    validate_shift,
    work_time_at,
)
from plugins.breaks.rules_forecast import INTERVAL
from simulators.phone.config import single_queue_config
from simulators.phone.engine import simulate

H = 60
A = "ana"


def rest(at: int, minutes: int = 10, **kw: bool) -> BreakPlan:
    return BreakPlan(A, BreakKind.REST, at, minutes, **kw)


def meal(at: int, minutes: int = 30, **kw: bool) -> BreakPlan:
    return BreakPlan(A, BreakKind.MEAL, at, minutes, **kw)


def shift(hours: float, **kw: object) -> ShiftPlan:
    return ShiftPlan(A, 8 * H, 8 * H + round(hours * H), **kw)  # type: ignore[arg-type]


# An 8.5-hour shift 08:00-16:30 with a 30-min meal works 8 h: two rests and one meal (docs/rules.md
# §3.1-§3.2).
GOOD_8H = [rest(10 * H), meal(12 * H), rest(14 * H + 30)]


@pytest.mark.parametrize(
    ("minutes", "rests"),
    # docs/rules.md §3.1 checks: 3.5→1, 6.0→1, 6.01→2, 10→2, 10.01→3, 14→3 (one minute stands for ".01").
    [(209, 0), (210, 1), (360, 1), (361, 2), (600, 2), (601, 3), (840, 3), (841, 4), (1080, 4)],
)
def test_rest_count_follows_the_table(minutes: int, rests: int) -> None:
    assert CA_WAGE_ORDER_4.rests_required(minutes) == rests


CASES = [
    # (id, shift, breaks, rule expected or None for passing)
    ("V1 pass", shift(8.5), GOOD_8H, None),
    ("V1 fail: one rest on 8 h", shift(8.5), [rest(10 * H), meal(12 * H)], Rule.V1),
    ("V2 pass", shift(8.5), GOOD_8H, None),
    ("V2 fail: 8-min rest", shift(8.5), [rest(10 * H, 8), meal(12 * H), rest(14 * H + 30)], Rule.V2),
    ("V2 fail: rest merged into meal", shift(8.5), [rest(10 * H), meal(12 * H), rest(12 * H + 30)], Rule.V2),
    ("V3 pass", shift(8.5), GOOD_8H, None),
    ("V3 fail: both rests in the 1st block", shift(8.5), [rest(9 * H), meal(12 * H), rest(11 * H)], Rule.V3),
    ("V4 pass: meal at 5:00", shift(8.5), [rest(10 * H), meal(13 * H), rest(14 * H + 30)], None),
    ("V4 fail: meal at 5:15", shift(8.5), [rest(10 * H), meal(13 * H + 15), rest(15 * H)], Rule.V4),
    ("V4 fail: 20-min meal", shift(8.5), [rest(10 * H), meal(12 * H, 20), rest(14 * H + 30)], Rule.V4),
    ("V4 pass: waived on 6 h", shift(6.0, meal1_waived=True), [rest(11 * H)], None),
    ("V4 fail: waived on 8 h", shift(8.0, meal1_waived=True), [rest(10 * H), rest(14 * H)], Rule.V4),
    (
        "V5 pass: second meal by 10:00",
        shift(12.0),
        [rest(10 * H), meal(12 * H), rest(14 * H + 30), meal(18 * H), rest(18 * H + 50)],
        None,
    ),
    (
        "V5 fail: no second meal on 11 h",
        shift(12.0),
        [rest(10 * H), meal(12 * H), rest(14 * H + 30), rest(18 * H + 50)],
        Rule.V5,
    ),
    (
        "V5 pass: second waived on 11.5 h",
        shift(12.0, meal2_waived=True),
        [rest(10 * H), meal(12 * H), rest(14 * H + 30), rest(18 * H + 30)],
        None,
    ),
    (
        "V5 fail: second waived after the first was waived",
        shift(11.0, meal1_waived=True, meal2_waived=True),
        [rest(10 * H), rest(14 * H), rest(17 * H)],
        Rule.V5,
    ),
    (
        "V6 pass: on-duty with agreement",
        shift(8.0, on_duty_meal_agreement=True),
        [rest(10 * H), meal(12 * H, on_duty=True), rest(14 * H)],
        None,
    ),
    (
        "V6 fail: on-duty without agreement",
        shift(8.0),
        [rest(10 * H), meal(12 * H, on_duty=True), rest(14 * H)],
        Rule.V6,
    ),
    (
        "V7 pass: rests double as lactation",
        shift(8.5, lactation=True, lactation_breaks=2),
        [rest(10 * H, lactation=True), meal(12 * H), rest(14 * H + 30, lactation=True)],
        None,
    ),
    ("V7 fail: flagged, none given", shift(8.5, lactation=True, lactation_breaks=2), GOOD_8H, Rule.V7),
]


@pytest.mark.parametrize(("case", "plan", "breaks", "rule"), CASES, ids=[c[0] for c in CASES])
def test_validation_rules(case: str, plan: ShiftPlan, breaks: list[BreakPlan], rule: Rule | None) -> None:
    report = validate_shift(plan, breaks)
    rules = {v.rule for v in report.violations}
    if rule is None:
        assert report.violations == (), [v.message for v in report.violations]
        assert report.premium_hours == 0
    else:
        assert rule in rules, [v.message for v in report.violations]


def test_v8_premium_is_one_hour_per_kind_and_capped_at_two() -> None:
    rate = 31.5
    # Several rest problems and two meal problems still cost one rest hour and one meal hour (docs/rules.md
    # §3.4).
    bad = [rest(9 * H, 5), meal(13 * H + 30, 20)]
    report = validate_shift(shift(8.5, regular_rate=rate), bad)
    assert {Rule.V1, Rule.V2, Rule.V4, Rule.V8} <= {v.rule for v in report.violations}
    assert report.premium_hours == 2 and report.premium_amount == 2 * rate
    only_rest = validate_shift(shift(8.5, regular_rate=rate), [rest(10 * H), meal(12 * H)])
    assert only_rest.premium_hours == 1 and only_rest.premium_amount == rate
    v8 = [v for v in only_rest.violations if v.rule is Rule.V8]
    assert len(v8) == 1 and "1 h" in v8[0].message
    # V7 (lactation) has its own penalty, no LC 226.7 hour.
    lact = validate_shift(shift(8.5, lactation=True, lactation_breaks=1), GOOD_8H)
    assert lact.premium_hours == 0 and {v.rule for v in lact.violations} == {Rule.V7}


def test_mou_rule_set_applies_per_unit_without_lc_226_7_premium() -> None:
    config = BreaksConfig(mou_units={"IBEW18": MouRuleSetConfig(rest_minutes=15, premium_pay=False)})
    mou = rule_set_for(config, "IBEW18")
    assert mou.name == "MOU_IBEW18" and rule_set_for(config, "OTHER") is CA_WAGE_ORDER_4
    plan = shift(8.5, rules=mou)
    report = validate_shift(plan, GOOD_8H)  # 10-minute rests are short under this MOU
    assert {v.rule for v in report.violations} == {Rule.V2}
    assert all(v.premium is Premium.NONE for v in report.violations) and report.premium_hours == 0


def test_work_time_excludes_unpaid_meals_only() -> None:
    plan = shift(12.0)
    breaks = [meal(12 * H), meal(15 * H, on_duty=True)]
    assert work_time_at(plan, breaks, 14 * H) == 5 * H + 30
    assert work_time_at(plan, breaks, 17 * H) == 8 * H + 30  # the on-duty meal counts as work


# -- the scheduler against Erlang C ------------------------------------------------------------------------
def simulated_forecast(start: int, profile: tuple[float, ...], seed: int = 11) -> tuple[float, ...]:
    """Calls per hour per 15-minute interval from the phone simulator's offered calls on a rate profile."""
    hours = len(profile) * INTERVAL / 60
    cfg = single_queue_config(
        agents=40, calls_per_hour=max(profile), aht_seconds=300, seed=seed, hours=hours, rate_profile=profile
    )
    # Profile and reporting intervals both 15 minutes, and no warm-up cut: every arrival is counted.
    queue = replace(cfg.queues[0], profile_interval_seconds=INTERVAL * 60.0)
    cfg = replace(cfg, queues=(queue,), interval_seconds=INTERVAL * 60.0, warmup_fraction=0.0)
    result = simulate(cfg)
    counts = [iv.offered * (60 / INTERVAL) for iv in result.intervals][: len(profile)]
    return tuple(counts + [0.0] * (len(profile) - len(counts)))


def test_schedule_meets_erlang_c_need_wherever_feasible_and_stays_legal() -> None:
    config = BreaksConfig()
    start = 8 * H
    # A morning and an afternoon peak over a 9-hour day, from the simulator (seeded).
    profile = tuple([60.0] * 6 + [110.0] * 8 + [70.0] * 8 + [110.0] * 8 + [60.0] * 6)
    rates = simulated_forecast(start, profile)
    forecast = Forecast(start, rates, 300, 0.8, 20)
    required = required_per_interval(forecast, required_agents)
    assert required == [required_agents(r, 300, 0.8, 20) if r > 0 else 0 for r in rates]
    shifts = [
        ShiftPlan(f"a{i:02d}", start + (i % 2) * 30, start + 8 * H + 30 + (i % 2) * 30) for i in range(16)
    ]
    result = schedule(shifts, forecast, required, config)
    assert list(result.available) == available_per_interval(forecast, shifts, list(result.breaks))
    for i, need in enumerate(required):
        if result.on_shift[i] >= need + 3:  # room for the breaks that must fall in it
            assert result.available[i] >= need, f"interval {i}"
    reported = {f.start for f in result.shortfalls}
    for i, need in enumerate(required):
        at = start + i * INTERVAL
        assert (result.available[i] < need) == (at in reported)
    for plan in shifts:
        assert validate_shift(plan, result.breaks).violations == ()


def test_infeasible_intervals_are_reported_and_meals_never_slide_past_five_hours() -> None:
    config = BreaksConfig()
    start = 8 * H
    # A heavy peak exactly when every meal window falls (10:30-13:00): more need than people.
    rates = tuple(60.0 if not (10 * H + 30 <= start + i * INTERVAL < 13 * H) else 400.0 for i in range(36))
    forecast = Forecast(start, rates, 300, 0.8, 20)
    required = required_per_interval(forecast, required_agents)
    shifts = [ShiftPlan(f"a{i}", start, start + 8 * H + 30) for i in range(10)]
    result = schedule(shifts, forecast, required, config)
    assert result.shortfalls
    assert {f.cause for f in result.shortfalls} <= {"understaffed", "breaks"}
    assert any(f.cause == "understaffed" for f in result.shortfalls)
    for plan in shifts:
        meals = [b for b in result.breaks if b.agent_id == plan.agent_id and b.kind is BreakKind.MEAL]
        assert len(meals) == 1 and meals[0].start - plan.start <= 5 * H
        assert validate_shift(plan, result.breaks).violations == ()


def test_meal_windows_follow_the_rules() -> None:
    (first,) = meal_needs(shift(8.5))
    assert (first.earliest, first.latest) == (8 * H + 150, 13 * H)
    assert meal_needs(shift(6.0, meal1_waived=True)) == []
    two = meal_needs(shift(12.0))
    assert len(two) == 2 and two[1].latest == 8 * H + 10 * H + 30  # 10:00 of work after a 30-min meal
