"""The phone traffic model: one queue's arrivals and handle times, as the simulator and forecasts read them.

Pure rules, no I/O: the phone simulator draws its calls from a :class:`QueueTraffic`, and the breaks
planner integrates the same daily rate profile to forecast calls per interval, so both read a day the same
way.  Section numbers refer to the project's docs/telephony.md (§2.1 queues, §2.6 daily profiles).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = ["HANDLE_DISTRIBUTIONS", "HandleDistribution", "QueueTraffic", "non_negative", "positive"]

HandleDistribution = Literal["exponential", "lognormal", "constant"]
HANDLE_DISTRIBUTIONS: tuple[str, ...] = ("exponential", "lognormal", "constant")


@dataclass(frozen=True, slots=True)
class QueueTraffic:
    """One queue (skill group / CSQ, §2.1) with its own traffic.

    Arrivals, in order of precedence:

    * ``arrival_times``: a fixed script of arrival instants (for scenarios and tests);
    * ``rate_profile``: calls per hour for consecutive intervals of ``profile_interval_seconds``,
      repeated cyclically (a daily forecast, §2.6) — a non-homogeneous Poisson process with
      piecewise-constant rate;
    * ``calls_per_hour``: a stationary Poisson process (the default model).

    ``aht_seconds`` is the whole mean handle time (talk + hold + wrap-up) as in Erlang C. If the
    run has a separate wrap-up timer, the talk part has mean ``aht_seconds − wrapup_seconds``.
    ``aht_cv`` is the coefficient of variation (sd/mean); exponential handle times have cv 1.
    ``patience_seconds`` is the mean of the callers' exponential patience; ``None`` means
    callers never abandon. ``priority`` 1 (highest) … 10 orders queues when an agent with
    several skills frees up (§2.1).
    """

    name: str = "Q1"
    calls_per_hour: float = 0.0
    rate_profile: tuple[float, ...] = ()
    profile_interval_seconds: float = 1800.0
    arrival_times: tuple[float, ...] | None = None
    aht_seconds: float = 180.0
    aht_distribution: HandleDistribution = "exponential"
    aht_cv: float = 1.0
    patience_seconds: float | None = None
    priority: int = 5
    skill: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("queue name must not be empty")
        where = f"queue {self.name}"
        positive(f"{where}: aht_seconds", self.aht_seconds)
        if self.aht_distribution not in HANDLE_DISTRIBUTIONS:
            raise ValueError(f"{where}: aht_distribution must be one of {', '.join(HANDLE_DISTRIBUTIONS)}")
        non_negative(f"{where}: aht_cv", self.aht_cv)
        if self.aht_distribution == "exponential" and self.aht_cv != 1.0:
            raise ValueError(f"{where}: exponential handle times have cv 1; use lognormal for another cv")
        if self.patience_seconds is not None:
            positive(f"{where}: patience_seconds", self.patience_seconds)
        if not (1 <= self.priority <= 10):
            raise ValueError(f"{where}: priority must be 1 (highest) to 10")
        if self.arrival_times is not None:
            previous = 0.0
            for t in self.arrival_times:
                non_negative(f"{where}: arrival time", t)
                if t < previous:
                    raise ValueError(f"{where}: arrival_times must be in increasing order")
                previous = t
        elif self.rate_profile:
            positive(f"{where}: profile_interval_seconds", self.profile_interval_seconds)
            for rate in self.rate_profile:
                non_negative(f"{where}: rate_profile entry", rate)
            if not any(rate > 0 for rate in self.rate_profile):
                raise ValueError(f"{where}: rate_profile needs at least one positive rate")
        else:
            positive(f"{where}: calls_per_hour", self.calls_per_hour)

    @property
    def skill_name(self) -> str:
        """The skill an agent needs to take calls from this queue (defaults to the queue name)."""
        return self.skill if self.skill is not None else self.name


def positive(name: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def non_negative(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
