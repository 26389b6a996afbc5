"""Phone simulator speed: simulated calls per second for an M/M/14 queue, beside the Erlang C oracle.

The oracle answers the same question (steady-state ASA, service level, occupancy) analytically, so its
evaluation rate is the natural baseline: it is what a staffing screen would call instead of simulating.
The units differ (calls/s vs evaluations/s); the ratio reads as "simulated calls per oracle evaluation's
worth of time". The run's P(wait) is printed next to the oracle's as a sanity check that the work was real.
"""

from __future__ import annotations

import time

from benchmarks.registry import Result, RunOptions, benchmark, median, meets, ratio
from core.telephony.erlang import erlang_c_metrics
from simulators.phone import simulate, single_queue_config

AGENTS = 14
CALLS_PER_HOUR = 200.0
AHT_SECONDS = 180.0
CALLS = 100_000
GOAL_SECONDS = 5.0


def _oracle_rate(seconds: float) -> float:
    """Evaluations per second of ``erlang_c_metrics`` for the same parameters, over ``seconds``."""
    batch = 1000  # read the clock once per batch so its own cost stays out of the figure
    done = 0
    started = time.perf_counter()
    deadline = started + seconds
    now = started
    while now < deadline:
        for _ in range(batch):
            erlang_c_metrics(CALLS_PER_HOUR, AHT_SECONDS, AGENTS)
        done += batch
        now = time.perf_counter()
    return done / (now - started)


@benchmark("phone", order=40)
def phone_simulator(opts: RunOptions) -> Result:
    """Simulated calls/s (100k calls, 14 agents) vs Erlang C oracle evaluations/s."""
    runs = 1 if opts.quick else 3
    config = single_queue_config(
        agents=AGENTS, calls_per_hour=CALLS_PER_HOUR, aht_seconds=AHT_SECONDS, seed=1, calls=CALLS
    )
    times: list[float] = []
    p_wait = float("nan")
    for i in range(runs):
        started = time.perf_counter()
        result = simulate(config)
        times.append(time.perf_counter() - started)
        p_wait = result.summary.p_wait
        opts.progress(f"simulation {i + 1}/{runs}: {times[-1]:.2f} s")
    elapsed = median(times)
    oracle_rate = _oracle_rate(0.3 if opts.quick else 1.0)
    oracle = erlang_c_metrics(CALLS_PER_HOUR, AHT_SECONDS, AGENTS)
    calls_rate = CALLS / elapsed
    return Result(
        name="phone sim 100k calls, 14 agents",
        baseline_label="Erlang C oracle",
        value=calls_rate,
        baseline_value=oracle_rate,
        unit="calls/s",
        baseline_unit="evals/s",
        goal=f"100k calls in <= {GOAL_SECONDS:.0f} s",
        ratio=ratio(calls_rate, oracle_rate),
        notes=(
            f"100k calls in {elapsed:.2f} s (median of {runs}); one oracle evaluation "
            f"{1e6 / oracle_rate:.1f} µs; P(wait) simulated {p_wait:.3f} vs Erlang C {oracle.p_wait:.3f} "
            "(one seed)"
        ),
        met=meets(elapsed, "<=", GOAL_SECONDS),
        details={"simulation_seconds": times, "calls": CALLS},
    )
