"""The breaks plugin's forecast sources: the phone simulator's cyclic arrival profile, the same weekday's
recorded history (hand-worked counts, local days, DST days, measured handle times) and the window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import msgspec
import pytest

from core.contract.phone import RecordedCall
from plugins.breaks.rules import BreaksConfig, ShiftPlan, forecast_window
from plugins.breaks.rules_forecast import (
    DAY,
    INTERVAL,
    LOCAL_TZ,
    SimulatorProfileConfig,
    history_days,
    history_forecast,
    interval_exposure,
    local_day_bounds,
    profile_forecast,
    simulator_queue,
    wall_interval,
)
from simulators.phone.config import single_queue_config
from simulators.phone.engine import simulate

H = 60
MONDAY = dt.date(2026, 2, 23)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    """A local wall-clock time on ``day`` as the UTC instant the telephony part stores."""
    hours, minutes = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=LOCAL_TZ).astimezone(dt.UTC)


def calls(day: dt.date, hhmm: str, n: int, handle: float | None = None) -> list[RecordedCall]:
    return [RecordedCall(at(day, hhmm), handle) for _ in range(n)]


# -- the simulator's profile --------------------------------------------------------------------------------
def test_a_half_hour_profile_gives_each_quarter_hour_its_rate() -> None:
    profile = SimulatorProfileConfig(rate_profile=[0.0] * 16 + [60.0, 120.0] + [0.0] * 30)
    # 08:00-08:30 is slot 16 (60/h), 08:30-09:00 slot 17 (120/h).
    assert profile_forecast(simulator_queue(profile), 8 * H, 4) == (60.0, 60.0, 120.0, 120.0)


def test_a_profile_not_aligned_with_quarter_hours_is_time_weighted() -> None:
    # 20-minute slots from midnight: 00:00-00:20 at 30/h, 00:20-00:40 at 90/h, repeated every 40 minutes.
    queue = simulator_queue(SimulatorProfileConfig(rate_profile=[30.0, 90.0], profile_interval_seconds=1200))
    # 00:00-00:15 all at 30; 00:15-00:30 is 5 min at 30 and 10 min at 90 → (150 + 900) / 15 = 70;
    # 00:30-00:45 is 10 min at 90 and 5 min at 30 (the cycle restarts at 00:40) → (900 + 150) / 15 = 70.
    assert profile_forecast(queue, 0, 3) == (30.0, 70.0, 70.0)


def test_a_short_profile_repeats_cyclically_like_the_simulator() -> None:
    queue = simulator_queue(SimulatorProfileConfig(rate_profile=[10.0, 20.0], profile_interval_seconds=3600))
    # Two one-hour slots repeat all day: 08:00 is slot 8 % 2 = 0, 09:00 slot 1, 23:45 slot 23 % 2 = 1.
    assert profile_forecast(queue, 8 * H, 8) == (10.0,) * 4 + (20.0,) * 4
    assert profile_forecast(queue, DAY - INTERVAL, 1) == (20.0,)


def test_the_default_profile_is_a_day_the_simulator_accepts() -> None:
    queue = simulator_queue(BreaksConfig().simulator)
    rates = profile_forecast(queue, 0, DAY // INTERVAL)
    assert len(rates) == 96 and rates[0] == 0.0 and max(rates) == 150.0
    assert rates[wall_interval(at(MONDAY, "10:00"))] == 150.0


def test_a_profile_the_simulator_refuses_makes_the_config_invalid() -> None:
    with pytest.raises(msgspec.ValidationError, match="at least one positive rate"):
        msgspec.convert({"simulator": {"rate_profile": [0.0, 0.0]}}, BreaksConfig)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"simulator": {"rate_profile": [-1.0]}}, BreaksConfig)


def test_the_profile_forecast_is_what_the_simulator_offers_on_average() -> None:
    """Ten simulated days on the default profile: offered calls per interval average to the forecast."""
    profile = BreaksConfig().simulator
    days = 10
    cfg = single_queue_config(
        agents=30, calls_per_hour=1.0, aht_seconds=60, seed=5, hours=24.0 * days, warmup_fraction=0.0
    )
    queue = replace(
        cfg.queues[0],
        rate_profile=tuple(profile.rate_profile),
        profile_interval_seconds=profile.profile_interval_seconds,
    )
    result = simulate(replace(cfg, queues=(queue,), interval_seconds=INTERVAL * 60.0))
    per_slot = [0.0] * (DAY // INTERVAL)
    for k, iv in enumerate(result.intervals[: days * DAY // INTERVAL]):
        per_slot[k % len(per_slot)] += iv.offered * (60 / INTERVAL) / days
    expected = profile_forecast(simulator_queue(profile), 0, DAY // INTERVAL)
    assert sum(per_slot) == pytest.approx(sum(expected), rel=0.03)
    for got, want in zip(per_slot, expected, strict=True):
        # Poisson: the sd of a 10-day mean of a 15-minute count at rate r/h is 4·sqrt(r/4/10).
        assert abs(got - want) <= 5 * 4 * (want / 40) ** 0.5 + 1e-9


# -- the window ---------------------------------------------------------------------------------------------
def test_the_window_defaults_to_the_shifts_span_on_whole_intervals() -> None:
    shifts = [ShiftPlan("a", 8 * H + 10, 16 * H + 35), ShiftPlan("b", 9 * H, 17 * H)]
    assert forecast_window(shifts, None, None) == (8 * H, (17 * H - 8 * H) // INTERVAL)
    assert forecast_window(shifts, 9 * H, None) == (9 * H, 32)
    with pytest.raises(ValueError, match="not after the start"):
        forecast_window(shifts, 18 * H, None)
    with pytest.raises(ValueError, match="boundary"):
        forecast_window(shifts, 8 * H + 5, None)


# -- history ------------------------------------------------------------------------------------------------
def three_mondays() -> list[RecordedCall]:
    m1, m2, m3 = history_days(MONDAY, 3)
    assert (m1, m2, m3) == (dt.date(2026, 2, 16), dt.date(2026, 2, 9), dt.date(2026, 2, 2))
    return [
        # 08:00-08:15: 2, 4 and 3 calls → mean 3 → 12 calls per hour.
        *calls(m1, "08:01", 2),
        *calls(m2, "08:05", 4),
        *calls(m3, "08:14", 3),
        # 08:15-08:30: one each Monday → 4 per hour.
        *calls(m1, "08:15", 1),
        *calls(m2, "08:29", 1),
        *calls(m3, "08:20", 1),
        # 08:30-08:45: six on one Monday only → mean 2 → 8 per hour.
        *calls(m3, "08:40", 6),
        # Not counted: a Tuesday, the target day itself.
        *calls(dt.date(2026, 2, 17), "08:05", 9),
        *calls(MONDAY, "08:05", 9),
        # 23:59 on a Monday in Los Angeles is Tuesday 07:59 UTC: still that Monday's last interval.
        *calls(m1, "23:59", 3),
    ]


def test_three_mondays_average_per_interval() -> None:
    older = calls(dt.date(2026, 1, 26), "08:05", 9)  # the fourth Monday back: beyond three weeks
    found = history_forecast(MONDAY, 3, three_mondays() + older, 8 * H, 4, min_handled=1)
    assert found.calls_per_hour == (12.0, 4.0, 8.0, 0.0)
    assert found.days_used == (dt.date(2026, 2, 16), dt.date(2026, 2, 9), dt.date(2026, 2, 2))
    assert found.days_empty == () and found.calls == 2 + 4 + 3 + 3 + 6 + 3
    late = history_forecast(MONDAY, 3, three_mondays(), DAY - INTERVAL, 1, min_handled=1)
    assert late.calls_per_hour == (4.0,)  # 3 calls on one of three Mondays: mean 1 → 4 per hour
    assert found.aht_seconds is None and found.handled == 0  # nobody handled these


def test_a_monday_without_any_call_is_left_out_not_averaged_as_zero() -> None:
    # Four weeks asked for, but the hub recorded nothing on the fourth Monday back (not yet running, or a
    # holiday): the three Mondays with calls give the same rates as above, not three quarters of them.
    found = history_forecast(MONDAY, 4, three_mondays(), 8 * H, 3, min_handled=1)
    assert found.calls_per_hour == (12.0, 4.0, 8.0)
    assert found.days_empty == (dt.date(2026, 1, 26),) and len(found.days_used) == 3


def test_no_recorded_call_means_no_day_used() -> None:
    found = history_forecast(MONDAY, 2, calls(dt.date(2026, 2, 17), "08:00", 5), 8 * H, 2, min_handled=1)
    assert found.days_used == () and found.calls_per_hour == (0.0, 0.0) and found.calls == 0


def test_handle_time_is_measured_when_enough_handled_calls_back_it() -> None:
    m1, m2 = history_days(MONDAY, 2)
    recorded = [*calls(m1, "09:00", 3, handle=200.0), *calls(m2, "09:10", 1, handle=400.0)]
    recorded += calls(m2, "09:20", 2)  # abandoned: arrivals, no handle time
    found = history_forecast(MONDAY, 2, recorded, 9 * H, 2, min_handled=4)
    assert found.calls_per_hour == (8.0, 4.0)  # (3 + 1) / 2 · 4, then 2 / 2 · 4
    assert (found.handled, found.aht_seconds) == (4, 250.0)
    assert history_forecast(MONDAY, 2, recorded, 9 * H, 2, min_handled=5).aht_seconds is None


def test_local_days_and_dst_exposure() -> None:
    spring, autumn = dt.date(2026, 3, 8), dt.date(2026, 11, 1)
    start, end = local_day_bounds(MONDAY)
    assert (start.hour, end - start) == (8, dt.timedelta(hours=24))  # PST midnight is 08:00 UTC
    assert local_day_bounds(spring)[1] - local_day_bounds(spring)[0] == dt.timedelta(hours=23)
    assert sum(interval_exposure(spring)) == 23 * 3600 and interval_exposure(spring)[8:12] == [0.0] * 4
    assert sum(interval_exposure(autumn)) == 25 * 3600 and interval_exposure(autumn)[4:8] == [1800.0] * 4
    assert set(interval_exposure(MONDAY)) == {900.0}


def test_the_repeated_fall_back_hour_is_not_counted_twice() -> None:
    sunday = dt.date(2026, 11, 8)
    fall_back, before = history_days(sunday, 2)
    assert fall_back == dt.date(2026, 11, 1)
    # 01:05 happens twice on Nov 1 (PDT, then PST): one call in each, and one call at 01:05 a week before.
    first = dt.datetime(2026, 11, 1, 8, 5, tzinfo=dt.UTC)  # 01:05 PDT
    second = dt.datetime(2026, 11, 1, 9, 5, tzinfo=dt.UTC)  # 01:05 PST
    assert wall_interval(first) == wall_interval(second) == 4
    recorded = [RecordedCall(first), RecordedCall(second), *calls(before, "01:05", 1)]
    found = history_forecast(sunday, 2, recorded, 1 * H, 1, min_handled=1)
    # 3 calls over 30 + 15 minutes of real time in that wall-clock interval: 4 per hour, not (2 + 1)/2·4 = 6.
    assert found.calls_per_hour == (4.0,)


def test_the_skipped_spring_forward_hour_is_no_observation() -> None:
    sunday = dt.date(2026, 3, 15)
    spring, before = history_days(sunday, 2)
    assert spring == dt.date(2026, 3, 8)
    recorded = [*calls(before, "02:10", 1), *calls(spring, "03:10", 2), *calls(before, "03:10", 2)]
    found = history_forecast(sunday, 2, recorded, 2 * H, 5, min_handled=1)
    # 02:00 exists only on the week before (1 call in 15 min → 4/h); 03:00 exists on both (4 calls, 2 days).
    assert found.calls_per_hour == (4.0, 0.0, 0.0, 0.0, 8.0)
