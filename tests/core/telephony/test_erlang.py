"""Unit tests for the Erlang B/C/A staffing formulas against the reference vectors and identities.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from core.telephony.erlang import (
    ErlangAResult,
    asa_seconds,
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    occupancy,
    offered_load,
    required_agents,
    service_level,
)

# --- independent exact oracle -------------------------------------------------------------------


def exact_erlang_c(servers: int, load: Fraction) -> Fraction:
    """The closed-form sum of §2.4 in exact rational arithmetic (different route from the code)."""
    term = Fraction(1)
    total = Fraction(0)
    for k in range(servers):
        total += term
        term = term * load / (k + 1)
    tail = term * servers / (servers - load)  # A^N/N! · N/(N − A)
    return tail / (total + tail)


def exact_erlang_b(servers: int, load: Fraction) -> Fraction:
    terms = [Fraction(1)]
    for k in range(1, servers + 1):
        terms.append(terms[-1] * load / k)
    return terms[-1] / sum(terms)


# --- reference vectors (§2.4), compared at the precision the reference prints --------------------

# (calls per hour, aht s, agents, threshold s, P(wait), ASA s, SL(T) or None, decimals of P/ASA/SL)
VECTORS = [
    pytest.param(200.0, 180.0, 14, 20.0, 0.17413, 7.836, 0.88835, (5, 3, 5), id="utility-like"),
    pytest.param(200.0, 180.0, 13, 20.0, 0.28527, 17.116, 0.79559, (5, 3, 5), id="one-agent-fewer"),
    pytest.param(720.0, 240.0, 55, 15.0, 0.23870, 8.18, 0.84588, (5, 2, 5), id="textbook"),
    # λ = 0.2/s and μ = 0.1/s: 720 calls per hour, aht 10 s.
    pytest.param(720.0, 10.0, 3, 0.0, 0.44444, 4.444, None, (5, 3, 5), id="ciw-mm3"),
]


@pytest.mark.parametrize(("cph", "aht", "agents", "threshold", "p_wait", "asa", "sl", "decimals"), VECTORS)
def test_reference_vectors(
    cph: float,
    aht: float,
    agents: int,
    threshold: float,
    p_wait: float,
    asa: float,
    sl: float | None,
    decimals: tuple[int, int, int],
) -> None:
    result = erlang_c_metrics(cph, aht, agents, threshold)
    # A printed value rounded to d decimals is within half a unit of its last place.
    assert result.p_wait == pytest.approx(p_wait, abs=0.5 * 10 ** -decimals[0])
    assert result.asa_seconds == pytest.approx(asa, abs=0.5 * 10 ** -decimals[1])
    if sl is not None:
        assert result.service_level == pytest.approx(sl, abs=0.5 * 10 ** -decimals[2])
    # And the stable recursion agrees with the exact closed form far beyond 1e-6.
    load = Fraction(cph) * Fraction(aht) / 3600
    assert result.p_wait == pytest.approx(float(exact_erlang_c(agents, load)), abs=1e-12)
    assert result.load_erlangs == pytest.approx(float(load), abs=1e-12)


def test_utility_vector_rounds_exactly_as_printed() -> None:
    result = erlang_c_metrics(200.0, 180.0, 14, 20.0)
    assert round(result.p_wait, 5) == 0.17413
    assert round(result.asa_seconds, 3) == 7.836
    assert round(result.service_level, 5) == 0.88835
    assert result.occupancy == pytest.approx(10 / 14, abs=1e-15)


def test_thirteen_agents_miss_80_20_and_fourteen_meet_it() -> None:
    assert service_level(13, 10.0, 180.0, 20.0) < 0.80
    assert service_level(14, 10.0, 180.0, 20.0) >= 0.80
    assert required_agents(200.0, 180.0, 0.80, 20.0) == 14


def test_required_agents_with_occupancy_cap() -> None:
    # 14 agents give 10/14 = 0.714 occupancy; a 0.70 cap needs 15.
    assert required_agents(200.0, 180.0, 0.80, 20.0, max_occupancy=0.70) == 15
    assert required_agents(200.0, 180.0, 0.80, 20.0, max_occupancy=1.0) == 14


def test_required_agents_textbook_case() -> None:
    n = required_agents(720.0, 240.0, 0.80, 15.0)
    assert service_level(n, 48.0, 240.0, 15.0) >= 0.80
    assert service_level(n - 1, 48.0, 240.0, 15.0) < 0.80 or n - 1 <= 48


@pytest.mark.parametrize(
    ("servers", "load"),
    [
        (1, Fraction(1, 2)),
        (3, Fraction(2)),
        (14, Fraction(10)),
        (55, Fraction(48)),
        (120, Fraction(1111, 10)),
    ],
)
def test_erlang_c_matches_exact_oracle(servers: int, load: Fraction) -> None:
    assert erlang_c(servers, float(load)) == pytest.approx(float(exact_erlang_c(servers, load)), abs=1e-12)
    assert erlang_b(servers, float(load)) == pytest.approx(float(exact_erlang_b(servers, load)), abs=1e-12)


def test_erlang_b_edge_values() -> None:
    assert erlang_b(0, 5.0) == 1.0
    assert erlang_b(3, 0.0) == 0.0
    assert erlang_b(1, 2.0) == pytest.approx(2.0 / 3.0)


def test_large_systems_do_not_overflow() -> None:
    # A^N/N! would overflow a float long before this size.
    b = erlang_b(10_000, 9_500.0)
    c = erlang_c(2_000, 1_950.5)
    assert 0.0 < b < 1.0
    assert 0.0 < c < 1.0
    assert math.isfinite(asa_seconds(2_000, 1_950.5, 300.0))


def test_formulas_relate_as_in_reference() -> None:
    servers, load, aht, t = 14, 10.0, 180.0, 20.0
    c = erlang_c(servers, load)
    assert asa_seconds(servers, load, aht) == pytest.approx(c * aht / (servers - load))
    assert service_level(servers, load, aht, 0.0) == pytest.approx(1.0 - c)
    assert occupancy(servers, load) == pytest.approx(load / servers)
    metrics = erlang_c_metrics(200.0, aht, servers, t)
    assert metrics.mean_queue_length == pytest.approx(200.0 / 3600.0 * metrics.asa_seconds)
    assert offered_load(200.0, 180.0) == pytest.approx(10.0)


def test_more_load_never_improves_service_level() -> None:
    levels = [service_level(14, load, 180.0, 20.0) for load in (6.0, 8.0, 10.0, 12.0, 13.5)]
    assert levels == sorted(levels, reverse=True)
    by_agents = [service_level(n, 10.0, 180.0, 20.0) for n in range(11, 20)]
    assert by_agents == sorted(by_agents)


# --- argument checks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("servers", "load", "message"),
    [
        (10, 10.0, "load_erlangs < servers"),
        (10, 12.5, "unstable"),
        (0, 1.0, "servers must be at least 1"),
        (-3, 1.0, "servers must be at least 1"),
        (5, 0.0, "load_erlangs must be a positive"),
        (5, -1.0, "load_erlangs must be a positive"),
        (5, math.nan, "load_erlangs must be a positive"),
        (5, math.inf, "load_erlangs must be a positive"),
    ],
)
def test_erlang_c_rejects_impossible_parameters(servers: int, load: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        erlang_c(servers, load)
    with pytest.raises(ValueError, match=message):
        occupancy(servers, load)


def test_unstable_message_names_both_numbers() -> None:
    with pytest.raises(ValueError) as info:
        erlang_c(10, 12.5)
    assert "12.5" in str(info.value) and "10 servers" in str(info.value)


def test_servers_must_be_int() -> None:
    with pytest.raises(TypeError):
        erlang_c(14.0, 10.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        erlang_b(True, 1.0)


def test_other_argument_checks() -> None:
    with pytest.raises(ValueError, match="aht_seconds"):
        asa_seconds(14, 10.0, 0.0)
    with pytest.raises(ValueError, match="threshold_seconds"):
        service_level(14, 10.0, 180.0, -1.0)
    with pytest.raises(ValueError, match="target_service_level"):
        required_agents(200.0, 180.0, 1.0, 20.0)
    with pytest.raises(ValueError, match="max_occupancy"):
        required_agents(200.0, 180.0, 0.8, 20.0, max_occupancy=0.0)
    with pytest.raises(ValueError, match="calls_per_hour"):
        erlang_c_metrics(0.0, 180.0, 14)
    with pytest.raises(ValueError, match="load_erlangs"):
        erlang_b(3, -1.0)
    with pytest.raises(ValueError, match="patience_seconds"):
        erlang_a_metrics(200.0, 180.0, 11, 0.0)


# --- Erlang A -----------------------------------------------------------------------------------


def test_erlang_a_reference_vector() -> None:
    # §2.5: λ = 100/30 min, h = 180 s, N = 11, mean patience 60 s.
    a = erlang_a_metrics(200.0, 180.0, 11, 60.0, 20.0)
    assert a.p_wait == pytest.approx(0.3268, abs=0.5e-4)
    assert a.p_abandon == pytest.approx(0.1118, abs=0.5e-4)
    assert a.mean_wait_seconds == pytest.approx(6.71, abs=0.5e-2)


@pytest.mark.parametrize(
    ("cph", "aht", "agents", "patience"),
    [(200.0, 180.0, 11, 60.0), (200.0, 180.0, 9, 30.0), (2000.0, 180.0, 90, 120.0), (60.0, 300.0, 2, 600.0)],
)
def test_erlang_a_abandonment_is_theta_times_mean_wait(
    cph: float, aht: float, agents: int, patience: float
) -> None:
    a = erlang_a_metrics(cph, aht, agents, patience, 20.0)
    lam = cph / 3600.0
    # P(ab) = θ·E[W] holds exactly for the model (§2.5); E[L_q] comes from the chain, E[W] from
    # the per-arrival formulas, so this also checks one against the other.
    assert a.p_abandon == pytest.approx(a.mean_wait_seconds / patience, rel=1e-12)
    assert a.p_abandon == pytest.approx(a.mean_queue_length / patience / lam, rel=1e-9)
    assert a.mean_queue_length == pytest.approx(lam * a.mean_wait_seconds, rel=1e-9)
    assert 0.0 < a.p_abandon < a.p_wait < 1.0
    # Carried load = offered load less what abandons.
    assert a.occupancy == pytest.approx(a.load_erlangs * (1.0 - a.p_abandon) / agents)


def test_erlang_a_converges_to_erlang_c() -> None:
    c = erlang_c_metrics(200.0, 180.0, 14, 20.0)
    errors = []
    for patience in (1e4, 1e6, 1e8, 1e10):
        a = erlang_a_metrics(200.0, 180.0, 14, patience, 20.0)
        errors.append(abs(a.asa_seconds - c.asa_seconds))
        if patience >= 1e10:
            assert a.p_wait == pytest.approx(c.p_wait, abs=1e-6)
            assert a.asa_seconds == pytest.approx(c.asa_seconds, abs=1e-6)
            assert a.service_level == pytest.approx(c.service_level, abs=1e-6)
            assert a.mean_queue_length == pytest.approx(c.mean_queue_length, abs=1e-6)
    # The gap shrinks in proportion to the abandon rate θ = 1/patience.
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < errors[0] * 1e-5


def test_erlang_a_infinite_patience_is_erlang_c() -> None:
    c = erlang_c_metrics(200.0, 180.0, 14, 20.0)
    a = erlang_a_metrics(200.0, 180.0, 14, math.inf, 20.0)
    assert isinstance(a, ErlangAResult)
    assert (a.p_wait, a.asa_seconds, a.service_level, a.p_abandon) == (
        c.p_wait,
        c.asa_seconds,
        c.service_level,
        0.0,
    )
    with pytest.raises(ValueError, match="load_erlangs < servers"):
        erlang_a_metrics(200.0, 180.0, 10, math.inf)


def test_erlang_a_is_stable_for_any_load() -> None:
    a = erlang_a_metrics(400.0, 180.0, 10, 60.0, 20.0)  # A = 20 on 10 agents
    assert 0.45 < a.p_abandon < 1.0
    assert a.p_wait > 0.9
    assert a.occupancy <= 1.0
    assert a.service_level <= a.service_level_abandons_ignored
    assert a.service_level <= a.service_level_abandons_positive


def test_erlang_a_service_levels_follow_the_three_formulas() -> None:
    a = erlang_a_metrics(200.0, 180.0, 11, 60.0, 20.0)
    ans, ab = a.p_answered_within_threshold, a.p_abandoned_within_threshold
    assert a.service_level == pytest.approx(ans)
    assert a.service_level_abandons_ignored == pytest.approx(ans / (1.0 - ab))
    assert a.service_level_abandons_positive == pytest.approx(ans + ab)
    zero = erlang_a_metrics(200.0, 180.0, 11, 60.0, 0.0)
    assert zero.service_level == pytest.approx(1.0 - zero.p_wait, abs=1e-12)
    assert zero.p_abandoned_within_threshold == pytest.approx(0.0, abs=1e-12)


def _tagged_caller_oracle(
    cph: float, aht: float, agents: int, patience: float, threshold: float
) -> tuple[float, float, float]:
    """P(answered ≤ T), P(abandoned ≤ T) and ASA by integrating the caller's Markov chain.

    An independent route: the stationary distribution is the plain product formula, and the
    tagged caller's fate is found by RK4 integration of its forward equations (state = number
    of callers ahead; absorbed by being answered or abandoning), not by the Beta-function
    identities the implementation uses.
    """
    lam, mu, theta = cph / 3600.0, 1.0 / aht, 1.0 / patience
    weights = [1.0]
    n = 0
    while True:
        n += 1
        weights.append(weights[-1] * lam / (min(n, agents) * mu + max(n - agents, 0) * theta))
        if n > agents + 10 and weights[-1] < 1e-18 * max(weights):
            break
    total = sum(weights)
    pi = [w / total for w in weights]
    n_mu = agents * mu
    q = pi[agents:]  # q[k]: P(caller still queued with k callers ahead)
    size = len(q)

    def deriv(state: list[float]) -> list[float]:
        out = []
        for k in range(size):
            inflow = (n_mu + (k + 1) * theta) * state[k + 1] if k + 1 < size else 0.0
            out.append(inflow - (n_mu + k * theta + theta) * state[k])
        return out

    step = 0.02
    t = 0.0
    answered_by_t = sum(pi[:agents])
    abandoned_by_t = 0.0
    answered_within = abandoned_within = math.nan
    wait_times_answer = 0.0  # ∫ t · (answer rate) dt
    state = list(q)
    while True:
        if answered_within != answered_within and t >= threshold - 1e-9:
            answered_within, abandoned_within = answered_by_t, abandoned_by_t
        if t >= threshold and sum(state) < 1e-13:
            break
        # Integrate answer flow n_mu·q0 and abandon flow θ·Σq with Simpson on the RK4 points.
        k1 = deriv(state)
        mid1 = [s + 0.5 * step * d for s, d in zip(state, k1, strict=True)]
        k2 = deriv(mid1)
        mid2 = [s + 0.5 * step * d for s, d in zip(state, k2, strict=True)]
        k3 = deriv(mid2)
        end = [s + step * d for s, d in zip(state, k3, strict=True)]
        k4 = deriv(end)
        new = [
            s + step / 6.0 * (a + 2 * b + 2 * c + d)
            for s, a, b, c, d in zip(state, k1, k2, k3, k4, strict=True)
        ]
        mid = [0.5 * (m1 + m2) for m1, m2 in zip(mid1, mid2, strict=True)]
        answered_by_t += step / 6.0 * n_mu * (state[0] + 4 * mid[0] + new[0])
        abandoned_by_t += step / 6.0 * theta * (sum(state) + 4 * sum(mid) + sum(new))
        wait_times_answer += (
            step / 6.0 * n_mu * (t * state[0] + 4 * (t + step / 2) * mid[0] + (t + step) * new[0])
        )
        state = new
        t += step
    asa = wait_times_answer / answered_by_t
    return answered_within, abandoned_within, asa


def test_erlang_a_waiting_time_figures_match_an_independent_integration() -> None:
    a = erlang_a_metrics(200.0, 180.0, 11, 60.0, 20.0)
    answered, abandoned, asa = _tagged_caller_oracle(200.0, 180.0, 11, 60.0, 20.0)
    assert a.p_answered_within_threshold == pytest.approx(answered, abs=1e-6)
    assert a.p_abandoned_within_threshold == pytest.approx(abandoned, abs=1e-6)
    assert a.asa_seconds == pytest.approx(asa, abs=1e-4)
