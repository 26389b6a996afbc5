"""Erlang B, Erlang C (M/M/N) and Erlang A (M/M/N+M) staffing formulas as pure functions.

Conventions used throughout (docs/telephony.md §2.4):

* ``servers`` / ``agents`` is N, the number of agents on the queue.
* ``load_erlangs`` is A = λ·h, the offered load in Erlangs (arrival rate times mean handle time).
* ``aht_seconds`` is h, the *whole* mean handle time (talk + hold + wrap-up), as Erlang C assumes.
* Waiting times are in seconds, rates per hour where the name says so.

Everything is computed with the Erlang B recursion or with log-space sums, so large agent counts
(thousands) neither overflow nor lose precision; no factorial of a large number is ever formed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "ErlangAResult",
    "ErlangCResult",
    "asa_seconds",
    "erlang_a_metrics",
    "erlang_b",
    "erlang_c",
    "erlang_c_metrics",
    "occupancy",
    "offered_load",
    "required_agents",
    "service_level",
]

SECONDS_PER_HOUR = 3600.0

# Truncation of the Erlang A birth-death chain: states whose weight is below e^-50 (~2e-22) of
# the largest one are dropped; that is far below double precision of the sums we form.
_LOG_NEGLIGIBLE = -50.0
# Refuse chains longer than this instead of looping for minutes; only reachable with an
# overloaded queue (A > N) and an enormous mean patience.
_MAX_CHAIN_STATES = 5_000_000


# ---------------------------------------------------------------------------------------------
# argument checks (shared so every function reports problems the same way)


def _check_servers(servers: int, *, minimum: int = 1) -> None:
    if isinstance(servers, bool) or not isinstance(servers, int):
        raise TypeError(f"servers must be an int, got {type(servers).__name__}")
    if servers < minimum:
        raise ValueError(f"servers must be at least {minimum}, got {servers}")


def _check_positive(name: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _check_non_negative(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _check_stable(servers: int, load_erlangs: float) -> None:
    _check_servers(servers)
    _check_positive("load_erlangs", load_erlangs)
    if load_erlangs >= servers:
        raise ValueError(
            f"Erlang C needs load_erlangs < servers (queue is unstable otherwise): "
            f"load {load_erlangs:g} Erlangs with {servers} servers; add servers or model "
            f"abandonment with Erlang A"
        )


# ---------------------------------------------------------------------------------------------
# Erlang B / C


def offered_load(calls_per_hour: float, aht_seconds: float) -> float:
    """Return the offered load A = λ·h in Erlangs for a call rate per hour and a mean handle time."""
    _check_positive("calls_per_hour", calls_per_hour)
    _check_positive("aht_seconds", aht_seconds)
    return calls_per_hour * aht_seconds / SECONDS_PER_HOUR


def _erlang_b_unchecked(servers: int, load_erlangs: float) -> float:
    # §2.4: B(0) = 1, B(k) = A·B(k-1) / (k + A·B(k-1)). Every step stays in [0, 1], so the
    # recursion cannot overflow, unlike the textbook A^N/N! form.
    b = 1.0
    for k in range(1, servers + 1):
        ab = load_erlangs * b
        b = ab / (k + ab)
    return b


def erlang_b(servers: int, load_erlangs: float) -> float:
    """Blocking probability of an M/M/N/N loss system (Erlang B).

    ``servers`` may be 0 (then every call is blocked) and ``load_erlangs`` may be 0 (then nothing
    is blocked unless there are no servers). Computed with the stable recursion of §2.4.
    """
    _check_servers(servers, minimum=0)
    _check_non_negative("load_erlangs", load_erlangs)
    return _erlang_b_unchecked(servers, load_erlangs)


def _erlang_c_from_b(servers: int, load_erlangs: float, b: float) -> float:
    # §2.4: C(N, A) = N·B(N) / (N − A·(1 − B(N))).
    return servers * b / (servers - load_erlangs * (1.0 - b))


def erlang_c(servers: int, load_erlangs: float) -> float:
    """Probability that an arriving call has to wait in an M/M/N queue (Erlang C), §2.4.

    Raises ``ValueError`` when ``servers < 1``, ``load_erlangs <= 0`` or ``load_erlangs >= servers``
    (the queue would grow without bound, so no steady state exists).
    """
    _check_stable(servers, load_erlangs)
    return _erlang_c_from_b(servers, load_erlangs, _erlang_b_unchecked(servers, load_erlangs))


def asa_seconds(servers: int, load_erlangs: float, aht_seconds: float) -> float:
    """Average speed of answer, the mean wait over *all* calls: W_q = C·h / (N − A), §2.4."""
    _check_positive("aht_seconds", aht_seconds)
    return erlang_c(servers, load_erlangs) * aht_seconds / (servers - load_erlangs)


def service_level(servers: int, load_erlangs: float, aht_seconds: float, threshold_seconds: float) -> float:
    """Fraction of calls answered within ``threshold_seconds``: 1 − C·exp(−(N − A)·T/h), §2.4.

    Without abandonment the three service-level formulas of §2.3 coincide, so this is all of them.
    """
    _check_positive("aht_seconds", aht_seconds)
    _check_non_negative("threshold_seconds", threshold_seconds)
    c = erlang_c(servers, load_erlangs)
    return 1.0 - c * math.exp(-(servers - load_erlangs) * threshold_seconds / aht_seconds)


def occupancy(servers: int, load_erlangs: float) -> float:
    """Agent occupancy A/N of a stable M/M/N queue (§2.4); same argument checks as ``erlang_c``."""
    _check_stable(servers, load_erlangs)
    return load_erlangs / servers


def required_agents(
    calls_per_hour: float,
    aht_seconds: float,
    target_service_level: float,
    threshold_seconds: float,
    max_occupancy: float | None = None,
) -> int:
    """Smallest N > A whose Erlang C service level SL(T) reaches the target (§2.4 "Staffing").

    ``target_service_level`` is a fraction in (0, 1), e.g. 0.8 for "80/20" with
    ``threshold_seconds=20``. With ``max_occupancy`` (in (0, 1]) the answer is also large enough
    that A/N does not exceed it. The result is agents on the queue; divide by (1 − shrinkage)
    for rostered staff.
    """
    load = offered_load(calls_per_hour, aht_seconds)
    if not (0.0 < target_service_level < 1.0):
        raise ValueError(f"target_service_level must be in (0, 1), got {target_service_level!r}")
    _check_non_negative("threshold_seconds", threshold_seconds)
    if max_occupancy is not None and not (0.0 < max_occupancy <= 1.0):
        raise ValueError(f"max_occupancy must be in (0, 1], got {max_occupancy!r}")

    n = math.floor(load) + 1
    # Build B(n) once, then extend it one agent at a time: O(N) overall instead of O(N²).
    b = _erlang_b_unchecked(n, load)
    while True:
        c = _erlang_c_from_b(n, load, b)
        sl = 1.0 - c * math.exp(-(n - load) * threshold_seconds / aht_seconds)
        if sl >= target_service_level and (max_occupancy is None or load / n <= max_occupancy):
            return n
        n += 1
        ab = load * b
        b = ab / (n + ab)


@dataclass(frozen=True, slots=True)
class ErlangCResult:
    """Steady-state figures of an M/M/N queue (Erlang C), see §2.4."""

    agents: int
    load_erlangs: float
    p_wait: float
    asa_seconds: float
    service_level: float
    occupancy: float
    mean_queue_length: float
    threshold_seconds: float


def erlang_c_metrics(
    calls_per_hour: float, aht_seconds: float, agents: int, threshold_seconds: float = 20.0
) -> ErlangCResult:
    """All Erlang C figures for a call rate per hour, mean handle time and agent count."""
    load = offered_load(calls_per_hour, aht_seconds)
    _check_non_negative("threshold_seconds", threshold_seconds)
    c = erlang_c(agents, load)
    asa = c * aht_seconds / (agents - load)
    return ErlangCResult(
        agents=agents,
        load_erlangs=load,
        p_wait=c,
        asa_seconds=asa,
        service_level=1.0 - c * math.exp(-(agents - load) * threshold_seconds / aht_seconds),
        occupancy=load / agents,
        # Little's law, §2.4: L_q = λ·W_q.
        mean_queue_length=calls_per_hour / SECONDS_PER_HOUR * asa,
        threshold_seconds=threshold_seconds,
    )


# ---------------------------------------------------------------------------------------------
# Erlang A


@dataclass(frozen=True, slots=True)
class ErlangAResult:
    """Steady-state figures of an M/M/N+M queue (Erlang A: exponential patience), see §2.5.

    Waiting time W is the time a caller spends queued before being answered *or* abandoning.

    * ``p_wait``: probability an arriving caller finds all agents busy and has to queue.
    * ``p_abandon``: probability a caller hangs up before being answered (= θ·E[W]).
    * ``mean_wait_seconds``: E[W] over *all* callers, abandoners counting their time in queue.
    * ``asa_seconds``: mean wait of the *answered* calls only (what an ACD reports as ASA).
    * ``service_level``: the §2.3 "abandons negative" figure, answered-within-T ÷ all offered
      calls, i.e. P(answered and W ≤ T). This is the default because it is the plain meaning
      of "80 % answered within 20 s" and cannot be improved by callers hanging up.
    * ``service_level_abandons_ignored``: answered-within-T ÷ (offered − abandoned-within-T).
    * ``service_level_abandons_positive``: (answered-within-T + abandoned-within-T) ÷ offered.
    * ``occupancy``: carried load ÷ N = A·(1 − P(abandon)) / N.
    * ``chain_states``: how many birth-death states were kept after truncation.
    """

    agents: int
    load_erlangs: float
    patience_seconds: float
    p_wait: float
    p_abandon: float
    mean_wait_seconds: float
    asa_seconds: float
    service_level: float
    service_level_abandons_ignored: float
    service_level_abandons_positive: float
    p_answered_within_threshold: float
    p_abandoned_within_threshold: float
    mean_queue_length: float
    occupancy: float
    threshold_seconds: float
    chain_states: int


def _stationary_distribution(arrival: float, service: float, servers: int, theta: float) -> list[float]:
    """π of the birth-death chain of §2.5 (birth λ, death min(n,N)·μ + max(n−N,0)·θ), truncated."""
    log_arrival = math.log(arrival)
    log_weights = [0.0]
    peak = 0.0
    n = 0
    while True:
        n += 1
        death = min(n, servers) * service + max(n - servers, 0) * theta
        lw = log_weights[-1] + log_arrival - math.log(death)
        log_weights.append(lw)
        if lw > peak:
            peak = lw
        # Beyond N the death rate only grows, so once past the mode and negligible we can stop.
        elif n > servers and lw < peak + _LOG_NEGLIGIBLE:
            break
        if n >= _MAX_CHAIN_STATES:
            raise ValueError(
                "Erlang A chain did not become negligible within "
                f"{_MAX_CHAIN_STATES} states; the queue is heavily overloaded and patience is "
                "too long for a numerical solution"
            )
    weights = [math.exp(lw - peak) for lw in log_weights]
    total = math.fsum(weights)
    return [w / total for w in weights]


def erlang_a_metrics(
    calls_per_hour: float,
    aht_seconds: float,
    agents: int,
    patience_seconds: float,
    threshold_seconds: float = 20.0,
) -> ErlangAResult:
    """Erlang A (M/M/N+M) figures with exponential caller patience of mean ``patience_seconds``.

    Stable for any load, including A ≥ N, because impatient callers leave the queue. The
    stationary distribution comes from the birth-death chain of §2.5 (abandon rate θ = 1/mean
    patience), truncated where its probabilities become negligible. Per-caller waiting-time
    figures use PASTA (an arrival sees the stationary distribution) and FCFS order: a caller
    arriving with i callers queued ahead waits through i+1 exponential stages of rate N·μ + k·θ
    (k = i…0) unless its own patience runs out first. ``patience_seconds=math.inf`` gives the
    Erlang C figures (which then require A < N).
    """
    load = offered_load(calls_per_hour, aht_seconds)
    _check_servers(agents)
    _check_non_negative("threshold_seconds", threshold_seconds)
    if math.isnan(patience_seconds) or patience_seconds <= 0:
        raise ValueError(f"patience_seconds must be > 0 (math.inf for Erlang C), got {patience_seconds!r}")
    if math.isinf(patience_seconds):
        ec = erlang_c_metrics(calls_per_hour, aht_seconds, agents, threshold_seconds)
        return ErlangAResult(
            agents=agents,
            load_erlangs=load,
            patience_seconds=patience_seconds,
            p_wait=ec.p_wait,
            p_abandon=0.0,
            mean_wait_seconds=ec.asa_seconds,
            asa_seconds=ec.asa_seconds,
            service_level=ec.service_level,
            service_level_abandons_ignored=ec.service_level,
            service_level_abandons_positive=ec.service_level,
            p_answered_within_threshold=ec.service_level,
            p_abandoned_within_threshold=0.0,
            mean_queue_length=ec.mean_queue_length,
            occupancy=ec.occupancy,
            threshold_seconds=threshold_seconds,
            chain_states=0,
        )

    lam = calls_per_hour / SECONDS_PER_HOUR
    mu = 1.0 / aht_seconds
    theta = 1.0 / patience_seconds
    pi = _stationary_distribution(lam, mu, agents, theta)
    n_mu = agents * mu
    t = threshold_seconds

    # Offered wait V of a caller with i callers ahead (its own patience ignored): the stage
    # rates N·μ + k·θ = θ·(c + k) with c = N·μ/θ make 1 − e^{−θV} a Beta(i+1, c) variable, so
    #   P(V ≤ T)               = I_x(i+1, c),                x = 1 − e^{−θT},
    #   P(answered, V ≤ T)     = c/(c+i+1) · I_x(i+1, c+1)   (answered ⇔ V < own patience),
    # and for integer first argument I_x(i+1, b) = 1 − Σ_{j≤i} NB(j; b, x), a negative binomial
    # CDF whose terms we accumulate in log space so nothing under- or overflows.
    c = n_mu / theta
    if t > 0:
        log_x = math.log(-math.expm1(-theta * t))
        log_nb_c = -n_mu * t  # log of (1 − x)^c
        log_nb_c1 = -n_mu * t - theta * t  # log of (1 − x)^(c+1)
    else:
        log_x = -math.inf
        log_nb_c = log_nb_c1 = 0.0
    surv_patience = math.exp(-theta * t)  # P(own patience > T)
    cdf_c = 0.0  # running Σ_{j≤i} NB(j; c, x)
    cdf_c1 = 0.0  # running Σ_{j≤i} NB(j; c+1, x)

    p_no_wait = math.fsum(pi[:agents])
    p_wait_terms: list[float] = []
    ans_terms: list[float] = []  # P(answered and W ≤ T) contributions
    ab_t_terms: list[float] = []  # P(abandoned and W ≤ T) contributions
    wait_terms: list[float] = []  # E[W] contributions
    ans_wait_terms: list[float] = []  # E[W · 1{answered}] contributions
    abandon_terms: list[float] = []
    queue_terms: list[float] = []
    harmonic = 0.0  # Σ_{k=1}^{i+1} 1/(N·μ + k·θ): mean wait of an answered caller with i ahead
    for i, p in enumerate(pi[agents:]):
        if i > 0:
            if log_x == -math.inf:
                log_nb_c = log_nb_c1 = -math.inf
            else:
                log_nb_c += math.log((c + i - 1) / i) + log_x
                log_nb_c1 += math.log((c + i) / i) + log_x
        cdf_c += math.exp(log_nb_c)
        cdf_c1 += math.exp(log_nb_c1)
        served_within = max(0.0, 1.0 - cdf_c1)  # I_x(i+1, c+1)
        offered_within = max(0.0, 1.0 - cdf_c)  # I_x(i+1, c)
        stage_rate = n_mu + (i + 1) * theta
        p_served = n_mu / stage_rate  # = c/(c+i+1)
        harmonic += 1.0 / stage_rate
        ans_le_t = p_served * served_within
        p_wait_terms.append(p)
        ans_terms.append(p * ans_le_t)
        ab_t_terms.append(p * max(0.0, 1.0 - (1.0 - offered_within) * surv_patience - ans_le_t))
        wait_terms.append(p * (i + 1) / stage_rate)
        ans_wait_terms.append(p * p_served * harmonic)
        abandon_terms.append(p * (i + 1) * theta / stage_rate)
        queue_terms.append(p * i)

    p_wait = math.fsum(p_wait_terms)
    p_abandon = math.fsum(abandon_terms)
    p_answered = 1.0 - p_abandon
    p_ans_t = p_no_wait + math.fsum(ans_terms)
    p_ab_t = math.fsum(ab_t_terms)
    return ErlangAResult(
        agents=agents,
        load_erlangs=load,
        patience_seconds=patience_seconds,
        p_wait=p_wait,
        p_abandon=p_abandon,
        mean_wait_seconds=math.fsum(wait_terms),
        asa_seconds=math.fsum(ans_wait_terms) / p_answered,
        service_level=p_ans_t,
        service_level_abandons_ignored=p_ans_t / (1.0 - p_ab_t),
        service_level_abandons_positive=p_ans_t + p_ab_t,
        p_answered_within_threshold=p_ans_t,
        p_abandoned_within_threshold=p_ab_t,
        mean_queue_length=math.fsum(queue_terms),
        occupancy=load * p_answered / agents,
        threshold_seconds=threshold_seconds,
        chain_states=len(pi),
    )
