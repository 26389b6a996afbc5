"""Random sub-streams, handle-time and arrival samplers, per-caller draws and run-length modes.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import math
import statistics
from itertools import islice

import pytest

from simulators.phone import (
    QueueConfig,
    derive_seed,
    handle_time_sampler,
    lognormal_parameters,
    simulate,
    single_queue_config,
    stream,
)
from simulators.phone.streams import arrival_times


def test_derived_seeds_are_pinned_and_independent() -> None:
    # Pinned so a change of the derivation (which would change every recorded run) is noticed.
    assert derive_seed(0, "arrivals/Q1") == 13764309055548104494
    assert derive_seed(12345, "handle/Q1") == 14679868389945688354
    assert derive_seed(1, "arrivals/Q1") != derive_seed(2, "arrivals/Q1")
    assert derive_seed(1, "arrivals/Q1") != derive_seed(1, "handle/Q1")
    a, b = stream(5, "patience/Q1"), stream(5, "patience/Q1")
    assert [a.random() for _ in range(5)] == [b.random() for _ in range(5)]


def test_lognormal_handle_times_have_the_configured_mean_and_cv() -> None:
    mean, cv = 240.0, 0.8
    sample = handle_time_sampler("lognormal", mean, cv, stream(3, "test/lognormal"))
    values = [sample() for _ in range(200_000)]
    m = statistics.fmean(values)
    assert m == pytest.approx(mean, rel=0.015)
    assert statistics.pstdev(values) / m == pytest.approx(cv, rel=0.03)
    # §6: log handle times have the configured mean and sd (±2 %).
    mu, sigma = lognormal_parameters(mean, cv)
    logs = [math.log(v) for v in values]
    assert statistics.fmean(logs) == pytest.approx(mu, rel=0.02)
    assert statistics.pstdev(logs) == pytest.approx(sigma, rel=0.02)


def test_lognormal_parameters_formula() -> None:
    mu, sigma = lognormal_parameters(180.0, 1.0)
    assert sigma**2 == pytest.approx(math.log(2.0))
    assert math.exp(mu + sigma**2 / 2) == pytest.approx(180.0)


def test_exponential_and_constant_handle_times() -> None:
    sample = handle_time_sampler("exponential", 180.0, 1.0, stream(4, "test/exp"))
    values = [sample() for _ in range(100_000)]
    assert statistics.fmean(values) == pytest.approx(180.0, rel=0.015)
    assert statistics.pstdev(values) / statistics.fmean(values) == pytest.approx(1.0, rel=0.02)
    constant = handle_time_sampler("constant", 42.0, 0.0, stream(4, "test/const"))
    assert {constant() for _ in range(10)} == {42.0}
    zero_cv = handle_time_sampler("lognormal", 42.0, 0.0, stream(4, "test/zero"))
    assert {zero_cv() for _ in range(10)} == {42.0}


def test_stationary_interarrival_times_pass_an_exponential_ks_test() -> None:
    queue = QueueConfig(calls_per_hour=200.0)
    times = list(islice(arrival_times(queue, stream(9, "arrivals/Q1")), 20_000))
    gaps = sorted(b - a for a, b in zip([0.0, *times], times, strict=False))
    rate = 200.0 / 3600.0
    n = len(gaps)
    d = max(
        max((i + 1) / n - (1 - math.exp(-rate * g)), (1 - math.exp(-rate * g)) - i / n)
        for i, g in enumerate(gaps)
    )
    assert d < 1.628 / math.sqrt(n)  # Kolmogorov-Smirnov, p > 0.01 (§6)


def test_profiled_arrivals_follow_the_per_interval_rates() -> None:
    # A "day" of three 30-minute slots: closed, busy, quiet; repeated 300 times.
    queue = QueueConfig(rate_profile=(0.0, 360.0, 120.0), profile_interval_seconds=1800.0)
    horizon = 300 * 3 * 1800.0
    counts = [0, 0, 0]
    for t in arrival_times(queue, stream(10, "arrivals/Q1")):
        if t >= horizon:
            break
        counts[int(t // 1800.0) % 3] += 1
    assert counts[0] == 0
    assert counts[1] == pytest.approx(300 * 180, rel=0.03)
    assert counts[2] == pytest.approx(300 * 60, rel=0.03)


def test_scripted_arrivals_are_used_verbatim() -> None:
    queue = QueueConfig(arrival_times=(1.0, 2.5, 2.5, 9.0))
    assert list(arrival_times(queue, stream(1, "x"))) == [1.0, 2.5, 2.5, 9.0]


def test_callers_keep_their_draws_and_never_wait_longer_with_more_agents() -> None:
    # §6 monotonicity: FCFS, no abandonment, per-caller streams.
    base = simulate(
        single_queue_config(agents=11, calls_per_hour=200.0, aht_seconds=180.0, seed=5, calls=20_000)
    )
    more = simulate(
        single_queue_config(agents=12, calls_per_hour=200.0, aht_seconds=180.0, seed=5, calls=20_000)
    )
    assert [(c.arrival, c.talk_seconds) for c in base.calls] == [
        (c.arrival, c.talk_seconds) for c in more.calls
    ]
    for slow, fast in zip(base.calls, more.calls, strict=True):
        assert slow.wait is not None and fast.wait is not None
        assert fast.wait <= slow.wait + 1e-9
    assert more.summary.asa_seconds < base.summary.asa_seconds


def test_hours_mode_stops_arrivals_at_the_horizon_and_drops_the_warm_up_by_time() -> None:
    config = single_queue_config(
        agents=14, calls_per_hour=200.0, aht_seconds=180.0, seed=8, hours=10.0, warmup_fraction=0.2
    )
    result = simulate(config)
    assert all(c.arrival < 36_000.0 for c in result.calls)
    dropped = sum(1 for c in result.calls if c.arrival < 7_200.0)
    s = result.summary
    assert s.calls_warmup_dropped == dropped
    assert s.calls_offered == len(result.calls) - dropped
    assert (s.window_start_seconds, s.window_end_seconds) == (7_200.0, 36_000.0)
    assert s.simulated_seconds >= 36_000.0 and s.calls_unfinished == 0
    assert len(result.intervals) >= 20  # 30-minute reporting intervals over 10 hours


def test_calls_mode_offers_exactly_that_many_calls() -> None:
    result = simulate(
        single_queue_config(agents=5, calls_per_hour=60.0, aht_seconds=200.0, seed=3, calls=777)
    )
    assert len(result.calls) == 777
    assert result.summary.calls_warmup_dropped == 77
    assert result.summary.calls_offered == 700
    assert result.summary.window_start_seconds == result.calls[77].arrival
    assert result.summary.window_end_seconds == result.calls[-1].arrival


def test_result_serialises_to_json() -> None:
    result = simulate(single_queue_config(agents=3, calls_per_hour=30.0, aht_seconds=200.0, seed=3, calls=50))
    text = result.to_json(include_calls=True)
    assert '"seed": 3' in text and '"calls": [' in text and "NaN" not in text
    assert result.to_dict()["summary"]["calls_offered"] == 45


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"calls_per_hour": 0.0}, "calls_per_hour"),
        ({"aht_seconds": -1.0}, "aht_seconds"),
        ({"aht_distribution": "lognormal", "aht_cv": -0.5}, "aht_cv"),
        ({"aht_cv": 0.5}, "exponential handle times have cv 1"),
        ({"patience_seconds": 0.0}, "patience_seconds"),
        ({"rate_profile": (0.0, 0.0)}, "at least one positive rate"),
    ],
)
def test_queue_config_rejects_impossible_values(kwargs: dict[str, object], message: str) -> None:
    params: dict[str, object] = {"calls_per_hour": 100.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        QueueConfig(**params)  # type: ignore[arg-type]


def test_run_config_rejects_impossible_values() -> None:
    with pytest.raises(ValueError, match="exactly one of calls or hours"):
        single_queue_config(agents=2, calls_per_hour=10.0, aht_seconds=60.0, seed=1)
    with pytest.raises(ValueError, match="exactly one of calls or hours"):
        single_queue_config(agents=2, calls_per_hour=10.0, aht_seconds=60.0, seed=1, calls=5, hours=1.0)
    with pytest.raises(ValueError, match="warmup_fraction"):
        single_queue_config(
            agents=2, calls_per_hour=10.0, aht_seconds=60.0, seed=1, calls=5, warmup_fraction=1.0
        )
    with pytest.raises(ValueError, match="agents"):
        single_queue_config(agents=0, calls_per_hour=10.0, aht_seconds=60.0, seed=1, calls=5)
