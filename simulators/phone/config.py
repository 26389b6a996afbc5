"""Configuration of the phone simulator: queues, agents, behaviours and run length."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "AGENT_STATES",
    "BUSY",
    "LOGOUT",
    "NOT_READY",
    "READY",
    "RESERVED",
    "RONA_REASON_CODE_CCE",
    "TALKING",
    "WORK",
    "WORK_READY",
    "AgentConfig",
    "HandleDistribution",
    "QueueConfig",
    "ReasonCode",
    "ScheduledBreak",
    "SimulationConfig",
    "single_queue_config",
]

# Finesse voice agent states the simulator uses (§1.3). Plain strings so they compare equal to
# the values of a ``str`` enum of the same names.
LOGOUT = "LOGOUT"
NOT_READY = "NOT_READY"
READY = "READY"
RESERVED = "RESERVED"
TALKING = "TALKING"
WORK = "WORK"
WORK_READY = "WORK_READY"
AGENT_STATES: tuple[str, ...] = (LOGOUT, NOT_READY, READY, RESERVED, TALKING, WORK, WORK_READY)
# States in which an agent is occupied by a call (counts towards occupancy).
BUSY: frozenset[str] = frozenset({RESERVED, TALKING, WORK, WORK_READY})

# CCE system Not Ready code for ring-no-answer (§1.5, §2.2); emitted by the system itself.
RONA_REASON_CODE_CCE = 32767

HandleDistribution = Literal["exponential", "lognormal", "constant"]
_HANDLE_DISTRIBUTIONS = ("exponential", "lognormal", "constant")


@dataclass(frozen=True, slots=True)
class ReasonCode:
    """A configured Not Ready / Logout reason code (§1.5): ``code`` 1–65535 on CCE, a label."""

    code: int
    label: str


# Configured codes the simulated agents use for their own requests. Real sites configure
# their own; these only need to be distinct from the system codes of §1.5.
BREAK = ReasonCode(1, "Break")
LUNCH = ReasonCode(2, "Lunch")
PERSONAL = ReasonCode(3, "Personal")
END_OF_SHIFT = ReasonCode(4, "End of shift")


@dataclass(frozen=True, slots=True)
class ScheduledBreak:
    """An agent's planned Not Ready period (break, lunch) starting at a simulated time.

    If the agent is on a call when the break comes due, it asks for NOT_READY mid-call and the
    request is applied when the call (and its wrap-up) ends, as a pending state (§1.4). The
    break then lasts ``duration_seconds`` from when it actually starts.
    """

    start_seconds: float
    duration_seconds: float
    reason: ReasonCode = BREAK


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """One simulated agent. The defaults describe an ideal agent: always answers at once, no breaks.

    * ``skills``: skill names the agent can take; ``None`` means every queue.
    * ``answer_probability``: chance the agent answers a ringing offer; otherwise the offer
      rings until the RONA timer fires (§2.2).
    * ``answer_delay_seconds``: ring time before answering. An answer delay at or beyond the
      RONA timer is a ring-no-answer.
    * ``breaks``: scheduled Not Ready periods.
    * ``not_ready_probability``: chance that, during an answered call, the agent asks to go
      NOT_READY (``not_ready_reason``) after it; the Not Ready spell lasts an exponential time of
      mean ``not_ready_mean_seconds``.
    """

    name: str
    skills: tuple[str, ...] | None = None
    answer_probability: float = 1.0
    answer_delay_seconds: float = 0.0
    breaks: tuple[ScheduledBreak, ...] = ()
    not_ready_probability: float = 0.0
    not_ready_mean_seconds: float = 120.0
    not_ready_reason: ReasonCode = PERSONAL

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("agent name must not be empty")
        if not (0.0 <= self.answer_probability <= 1.0):
            raise ValueError(f"agent {self.name}: answer_probability must be in [0, 1]")
        _non_negative(f"agent {self.name}: answer_delay_seconds", self.answer_delay_seconds)
        if not (0.0 <= self.not_ready_probability <= 1.0):
            raise ValueError(f"agent {self.name}: not_ready_probability must be in [0, 1]")
        _positive(f"agent {self.name}: not_ready_mean_seconds", self.not_ready_mean_seconds)
        for brk in self.breaks:
            _non_negative(f"agent {self.name}: break start_seconds", brk.start_seconds)
            _positive(f"agent {self.name}: break duration_seconds", brk.duration_seconds)


@dataclass(frozen=True, slots=True)
class QueueConfig:
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
        _positive(f"{where}: aht_seconds", self.aht_seconds)
        if self.aht_distribution not in _HANDLE_DISTRIBUTIONS:
            raise ValueError(f"{where}: aht_distribution must be one of {', '.join(_HANDLE_DISTRIBUTIONS)}")
        _non_negative(f"{where}: aht_cv", self.aht_cv)
        if self.aht_distribution == "exponential" and self.aht_cv != 1.0:
            raise ValueError(f"{where}: exponential handle times have cv 1; use lognormal for another cv")
        if self.patience_seconds is not None:
            _positive(f"{where}: patience_seconds", self.patience_seconds)
        if not (1 <= self.priority <= 10):
            raise ValueError(f"{where}: priority must be 1 (highest) to 10")
        if self.arrival_times is not None:
            previous = 0.0
            for t in self.arrival_times:
                _non_negative(f"{where}: arrival time", t)
                if t < previous:
                    raise ValueError(f"{where}: arrival_times must be in increasing order")
                previous = t
        elif self.rate_profile:
            _positive(f"{where}: profile_interval_seconds", self.profile_interval_seconds)
            for rate in self.rate_profile:
                _non_negative(f"{where}: rate_profile entry", rate)
            if not any(rate > 0 for rate in self.rate_profile):
                raise ValueError(f"{where}: rate_profile needs at least one positive rate")
        else:
            _positive(f"{where}: calls_per_hour", self.calls_per_hour)

    @property
    def skill_name(self) -> str:
        """The skill an agent needs to take calls from this queue (defaults to the queue name)."""
        return self.skill if self.skill is not None else self.name


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    """Everything one simulation run needs; equal configs with equal seeds give equal runs.

    Run length: exactly one of ``calls`` (total offered calls over all queues) or ``hours``
    (arrivals stop at that simulated time). After arrivals stop the run continues until every
    call has been answered or abandoned and every wrap-up has finished, then agents log out.

    Warm-up (§2.7): the first ``warmup_fraction`` of the run is dropped from the summary — in
    ``calls`` mode the first ⌊fraction·calls⌋ calls, in ``hours`` mode the calls arriving in
    the first fraction·hours. Time-based figures (occupancy, queue length) use the same window,
    from the warm-up boundary to the moment arrivals stop.

    ``wrapup_seconds`` > 0 gives every answered call a fixed wrap-up (WORK_READY or WORK, §1.4)
    that is part of the handle time. ``rona_timeout_seconds`` is the ring-no-answer timer;
    after a RONA the agent stays NOT_READY for ``rona_recovery_seconds`` (``None``: for the rest
    of the run) before making itself READY. ``short_abandon_seconds`` is the short-call timer
    of §2.3: abandons quicker than that count in no service-level figure.
    """

    queues: tuple[QueueConfig, ...]
    agents: tuple[AgentConfig, ...]
    seed: int
    calls: int | None = None
    hours: float | None = None
    sl_threshold_seconds: float = 20.0
    warmup_fraction: float = 0.1
    interval_seconds: float = 1800.0
    wrapup_seconds: float = 0.0
    rona_timeout_seconds: float = 15.0
    rona_recovery_seconds: float | None = 60.0
    rona_reason_code: int = RONA_REASON_CODE_CCE
    short_abandon_seconds: float = 0.0
    end_of_shift_reason: ReasonCode = field(default=END_OF_SHIFT)

    def __post_init__(self) -> None:
        if not self.queues:
            raise ValueError("at least one queue is required")
        if not self.agents:
            raise ValueError("at least one agent is required")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError("seed must be an int")
        names = [q.name for q in self.queues]
        if len(set(names)) != len(names):
            raise ValueError("queue names must be unique")
        agent_names = [a.name for a in self.agents]
        if len(set(agent_names)) != len(agent_names):
            raise ValueError("agent names must be unique")
        if (self.calls is None) == (self.hours is None):
            raise ValueError("give exactly one of calls or hours")
        if self.calls is not None and self.calls < 1:
            raise ValueError("calls must be at least 1")
        if self.hours is not None:
            _positive("hours", self.hours)
        _non_negative("sl_threshold_seconds", self.sl_threshold_seconds)
        if not (0.0 <= self.warmup_fraction < 1.0):
            raise ValueError("warmup_fraction must be in [0, 1)")
        _positive("interval_seconds", self.interval_seconds)
        _non_negative("wrapup_seconds", self.wrapup_seconds)
        for q in self.queues:
            if self.wrapup_seconds >= q.aht_seconds:
                raise ValueError(
                    f"queue {q.name}: aht_seconds includes wrap-up, so it must exceed wrapup_seconds"
                )
        _positive("rona_timeout_seconds", self.rona_timeout_seconds)
        if self.rona_recovery_seconds is not None:
            _non_negative("rona_recovery_seconds", self.rona_recovery_seconds)
        _non_negative("short_abandon_seconds", self.short_abandon_seconds)
        skills = {q.skill_name for q in self.queues}
        for queue in self.queues:
            if not any(a.skills is None or queue.skill_name in a.skills for a in self.agents):
                raise ValueError(f"queue {queue.name}: no agent has skill {queue.skill_name!r}")
        for agent in self.agents:
            if agent.skills is not None and not skills.intersection(agent.skills):
                raise ValueError(f"agent {agent.name}: none of its skills matches a queue")
        for queue in self.queues:
            # Patient callers offered only to agents who never answer would ring-no-answer
            # forever and the run would never end.
            if queue.patience_seconds is None and not any(
                (a.skills is None or queue.skill_name in a.skills)
                and a.answer_probability > 0
                and a.answer_delay_seconds < self.rona_timeout_seconds
                for a in self.agents
            ):
                raise ValueError(f"queue {queue.name}: no agent with its skill ever answers a call")


def single_queue_config(
    *,
    agents: int,
    calls_per_hour: float,
    aht_seconds: float,
    seed: int,
    calls: int | None = None,
    hours: float | None = None,
    aht_distribution: HandleDistribution = "exponential",
    aht_cv: float = 1.0,
    patience_seconds: float | None = None,
    sl_threshold_seconds: float = 20.0,
    warmup_fraction: float = 0.1,
    rate_profile: tuple[float, ...] = (),
) -> SimulationConfig:
    """The load-mode model (λ, h, N): one queue and ``agents`` identical ideal agents.

    With the defaults this is exactly M/M/N, and M/M/N+M with ``patience_seconds``.
    """
    if agents < 1:
        raise ValueError("agents must be at least 1")
    width = len(str(agents))
    return SimulationConfig(
        queues=(
            QueueConfig(
                name="Q1",
                calls_per_hour=calls_per_hour,
                rate_profile=rate_profile,
                aht_seconds=aht_seconds,
                aht_distribution=aht_distribution,
                aht_cv=aht_cv,
                patience_seconds=patience_seconds,
            ),
        ),
        agents=tuple(AgentConfig(name=f"A{i:0{width}d}") for i in range(1, agents + 1)),
        seed=seed,
        calls=calls,
        hours=hours,
        sl_threshold_seconds=sl_threshold_seconds,
        warmup_fraction=warmup_fraction,
    )


def _positive(name: str, value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _non_negative(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
