"""Model-versus-theory properties of the phone simulator at ≥ 100k calls (§6), with fixed seeds.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import pytest

from core.telephony.erlang import erlang_a_metrics, erlang_c_metrics
from simulators.phone import SimulationResult, simulate, single_queue_config

pytestmark = pytest.mark.slow

CALLS_PER_HOUR = 200.0  # 100 calls per 30 minutes, the §2.4 utility-like case
AHT = 180.0
THRESHOLD = 20.0


@pytest.fixture(scope="module")
def mmn_run() -> SimulationResult:
    # M/M/14, A = 10: exactly the Erlang C model. 400k calls puts the p95 ASA error near 6 % (§2.7).
    return simulate(
        single_queue_config(
            agents=14, calls_per_hour=CALLS_PER_HOUR, aht_seconds=AHT, seed=20240614, calls=400_000
        )
    )


@pytest.fixture(scope="module")
def mmn_m_run() -> SimulationResult:
    # M/M/11+M with mean patience 60 s: the §2.5 Erlang A vector.
    return simulate(
        single_queue_config(
            agents=11,
            calls_per_hour=CALLS_PER_HOUR,
            aht_seconds=AHT,
            patience_seconds=60.0,
            seed=20240615,
            calls=300_000,
        )
    )


def test_erlang_c_figures(mmn_run: SimulationResult) -> None:
    s = mmn_run.summary
    model = erlang_c_metrics(CALLS_PER_HOUR, AHT, 14, THRESHOLD)
    assert s.calls_offered == 360_000 and s.calls_abandoned == 0 and s.calls_unfinished == 0
    assert s.asa_seconds == pytest.approx(model.asa_seconds, rel=0.10)
    assert s.service_level == pytest.approx(model.service_level, abs=0.01)
    assert s.p_wait == pytest.approx(model.p_wait, abs=0.01)
    assert s.occupancy == pytest.approx(model.occupancy, abs=0.01)


def test_littles_law_without_abandonment(mmn_run: SimulationResult) -> None:
    s = mmn_run.summary
    # Time-average queue length (integrated by the simulator) against λ·W from the call records.
    lam = s.offered_per_hour / 3600.0
    assert s.mean_queue_length == pytest.approx(lam * s.mean_wait_seconds, rel=0.02)


def test_abandonment_is_theta_times_mean_wait(mmn_m_run: SimulationResult) -> None:
    s = mmn_m_run.summary
    theta = 1.0 / 60.0
    # §2.5: P(ab) = θ·E[W], W the queue time of all callers — model-free for exponential patience.
    assert s.p_abandon / (theta * s.mean_wait_seconds) == pytest.approx(1.0, abs=0.03)


def test_erlang_a_figures(mmn_m_run: SimulationResult) -> None:
    s = mmn_m_run.summary
    model = erlang_a_metrics(CALLS_PER_HOUR, AHT, 11, 60.0, THRESHOLD)
    assert s.p_wait == pytest.approx(model.p_wait, abs=0.01)
    assert s.p_abandon == pytest.approx(model.p_abandon, abs=0.01)
    assert s.asa_seconds == pytest.approx(model.asa_seconds, rel=0.10)
    assert s.mean_wait_seconds == pytest.approx(model.mean_wait_seconds, rel=0.10)
    assert s.service_level == pytest.approx(model.service_level, abs=0.01)
    assert s.service_level_abandons_ignored == pytest.approx(model.service_level_abandons_ignored, abs=0.01)
    assert s.service_level_abandons_positive == pytest.approx(model.service_level_abandons_positive, abs=0.01)
    assert s.occupancy == pytest.approx(model.occupancy, abs=0.01)


def test_littles_law_and_throughput_with_abandonment(mmn_m_run: SimulationResult) -> None:
    s = mmn_m_run.summary
    lam = s.offered_per_hour / 3600.0
    assert s.mean_queue_length == pytest.approx(lam * s.mean_wait_seconds, rel=0.02)
    # Throughput = λ·(1 − P(ab)) (§6).
    span = s.window_end_seconds - s.window_start_seconds
    model = erlang_a_metrics(CALLS_PER_HOUR, AHT, 11, 60.0, THRESHOLD)
    assert s.calls_answered / span * 3600.0 == pytest.approx(
        CALLS_PER_HOUR * (1.0 - model.p_abandon), rel=0.02
    )


def test_overloaded_queue_is_stable_with_abandonment() -> None:
    # A = 12 Erlangs on 10 agents: Erlang C has no steady state, Erlang A does.
    result = simulate(
        single_queue_config(
            agents=10,
            calls_per_hour=240.0,
            aht_seconds=AHT,
            patience_seconds=120.0,
            seed=20240616,
            calls=150_000,
        )
    )
    s = result.summary
    model = erlang_a_metrics(240.0, AHT, 10, 120.0, THRESHOLD)
    assert s.p_abandon == pytest.approx(model.p_abandon, abs=0.01)
    assert s.p_abandon / (s.mean_wait_seconds / 120.0) == pytest.approx(1.0, abs=0.03)
    # Near saturation the queue mixes slowly: over 8 seeds at this size P(wait) and SL scattered
    # with sd ≈ 0.006 around the model (no bias), so these two get a wider band.
    assert s.p_wait == pytest.approx(model.p_wait, abs=0.02)
    assert s.service_level == pytest.approx(model.service_level, abs=0.02)


def test_lognormal_handle_times_match_the_reference_simulation() -> None:
    # §2.6 (computed by the reference's own simulation): lognormal cv 0.5 → ASA 5.34 s, SL 0.905,
    # i.e. Erlang C overstates the wait when handle times vary less than exponential ones.
    result = simulate(
        single_queue_config(
            agents=14,
            calls_per_hour=CALLS_PER_HOUR,
            aht_seconds=AHT,
            aht_distribution="lognormal",
            aht_cv=0.5,
            seed=20240617,
            calls=300_000,
        )
    )
    s = result.summary
    assert s.asa_seconds == pytest.approx(5.34, rel=0.10)
    assert s.service_level == pytest.approx(0.905, abs=0.01)
    assert s.asa_seconds < erlang_c_metrics(CALLS_PER_HOUR, AHT, 14, THRESHOLD).asa_seconds
