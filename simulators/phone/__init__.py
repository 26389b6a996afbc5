"""Discrete-event phone-system simulator: Finesse-style agents, skill queues, RONA, abandonment.

Typical use::

    from simulators.phone import simulate, single_queue_config

    result = simulate(single_queue_config(agents=14, calls_per_hour=200, aht_seconds=180,
                                          seed=7, calls=100_000))
    print(result.summary.asa_seconds, result.seed)

The ``phone`` click command lives in ``simulators.phone.cli``.
"""

from simulators.phone.config import (
    AGENT_STATES,
    RONA_REASON_CODE_CCE,
    AgentConfig,
    QueueConfig,
    ReasonCode,
    ScheduledBreak,
    SimulationConfig,
    single_queue_config,
)
from simulators.phone.engine import simulate
from simulators.phone.results import CallRecord, IntervalStats, SimulationResult, Summary, service_levels
from simulators.phone.streams import derive_seed, handle_time_sampler, lognormal_parameters, stream

__all__ = [
    "AGENT_STATES",
    "RONA_REASON_CODE_CCE",
    "AgentConfig",
    "CallRecord",
    "IntervalStats",
    "QueueConfig",
    "ReasonCode",
    "ScheduledBreak",
    "SimulationConfig",
    "SimulationResult",
    "Summary",
    "derive_seed",
    "handle_time_sampler",
    "lognormal_parameters",
    "service_levels",
    "simulate",
    "single_queue_config",
    "stream",
]
