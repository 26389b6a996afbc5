"""Configuration of the phone simulator: queues, agents, behaviours and run length.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.telephony.traffic import HandleDistribution, QueueTraffic
from core.telephony.traffic import non_negative as _non_negative
from core.telephony.traffic import positive as _positive

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

# The queue traffic model lives in the core (the breaks forecast reads it too); the simulator keeps its name.
QueueConfig = QueueTraffic


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
