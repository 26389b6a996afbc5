"""Deterministic random sub-streams and the samplers for arrivals, handle times and patience.

One root seed drives a run. Each named stream gets its own ``random.Random`` seeded with the
first 8 bytes (big-endian) of BLAKE2b over ``"ccbhub.phone-sim|<root seed>|<stream name>"``, so

* the same root seed and name always give the same sequence (any platform, any Python
  process: no dependence on ``hash()`` randomisation);
* streams are independent of each other: drawing more from one never shifts another;
* per-caller attributes are the k-th draw of their stream for the k-th caller of a queue, so
  adding agents, breaks or RONAs never changes which handle time or patience a caller has
  (§5.8: "adding a caller does not reshuffle everything").

Stream names: ``arrivals/<queue>``, ``handle/<queue>``, ``patience/<queue>`` and
``agent/<agent name>`` (answer decisions, Not Ready spells).

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Iterator

from simulators.phone.config import HandleDistribution, QueueConfig

__all__ = [
    "arrival_times",
    "derive_seed",
    "handle_time_sampler",
    "lognormal_parameters",
    "stream",
]

_STREAM_DOMAIN = "ccbhub.phone-sim"


def derive_seed(root_seed: int, name: str) -> int:
    """The 64-bit seed of sub-stream ``name`` under ``root_seed`` (see the module docstring)."""
    digest = hashlib.blake2b(f"{_STREAM_DOMAIN}|{root_seed}|{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def stream(root_seed: int, name: str) -> random.Random:
    """A fresh generator for sub-stream ``name``."""
    return random.Random(derive_seed(root_seed, name))


def lognormal_parameters(mean: float, cv: float) -> tuple[float, float]:
    """(μ, σ) of the underlying normal for a lognormal with this mean and cv (§2.6).

    σ² = ln(1 + cv²), μ = ln(mean) − σ²/2.
    """
    sigma2 = math.log1p(cv * cv)
    return math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)


def handle_time_sampler(
    distribution: HandleDistribution, mean: float, cv: float, rng: random.Random
) -> Callable[[], float]:
    """A zero-argument function drawing one handle (talk) time from ``rng``."""
    if distribution == "exponential":
        rate = 1.0 / mean
        expo = rng.expovariate
        return lambda: expo(rate)
    if distribution == "lognormal":
        mu, sigma = lognormal_parameters(mean, cv)
        if sigma == 0.0:
            return lambda: mean
        lognorm = rng.lognormvariate
        return lambda: lognorm(mu, sigma)
    if distribution == "constant":
        return lambda: mean
    raise ValueError(f"unknown handle-time distribution {distribution!r}")


def arrival_times(queue: QueueConfig, rng: random.Random) -> Iterator[float]:
    """Endless (or, for a script, finite) increasing arrival instants for ``queue``.

    Stationary and profiled arrivals draw exactly one Exp(1) variate per call: the next arrival
    is where the integrated rate Λ(t) has grown by that amount (time-change of a unit Poisson
    process). For a piecewise-constant rate this is exact, needs no rejection step and skips
    zero-rate intervals (a closed centre) naturally.
    """
    if queue.arrival_times is not None:
        yield from queue.arrival_times
        return
    if not queue.rate_profile:
        rate = queue.calls_per_hour / 3600.0
        t = 0.0
        expo = rng.expovariate
        while True:
            t += expo(rate)
            yield t
    rates = [r / 3600.0 for r in queue.rate_profile]
    width = queue.profile_interval_seconds
    slots = len(rates)
    t = 0.0
    k = 0  # index of the interval containing t (not reduced modulo the profile length)
    while True:
        need = rng.expovariate(1.0)
        while True:
            rate = rates[k % slots]
            end = (k + 1) * width
            room = (end - t) * rate
            if rate > 0.0 and room >= need:
                t += need / rate
                break
            need -= room
            t = end
            k += 1
        yield t
