"""Per-call records, per-interval statistics and the run summary of a phone simulation.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "CallRecord",
    "IntervalStats",
    "SimulationResult",
    "Summary",
    "TimeSnapshot",
    "service_levels",
]


class CallRecord:
    """One offered call. Times are simulated seconds from the start of the run.

    ``wait`` is the time from arrival until the call was answered or abandoned (queue time plus
    any ring time); ``end`` is when the caller hung up (answered calls) or abandoned. A call that
    was never answered nor abandoned (the run stalled) has ``answer``, ``end`` and ``wait``
    ``None``. ``talk_seconds`` and ``patience_seconds`` are the caller's drawn attributes
    (talk excludes a separate wrap-up; patience is ``inf`` for patient callers). ``queued`` is
    true if the call ever waited in a queue (on arrival, or after a ring-no-answer).
    """

    __slots__ = (
        "_holder",
        "_qi",
        "_state",
        "abandoned",
        "agent",
        "answer",
        "arrival",
        "call_id",
        "end",
        "patience_seconds",
        "queue",
        "queued",
        "rona_count",
        "talk_seconds",
        "wait",
    )

    def __init__(
        self, call_id: int, queue: str, qi: int, arrival: float, talk_seconds: float, patience_seconds: float
    ) -> None:
        self.call_id = call_id
        self.queue = queue
        self.arrival = arrival
        self.talk_seconds = talk_seconds
        self.patience_seconds = patience_seconds
        self.answer: float | None = None
        self.end: float | None = None
        self.wait: float | None = None
        self.abandoned = False
        self.agent: str | None = None
        self.queued = False
        self.rona_count = 0
        # Engine bookkeeping: lifecycle state, queue index and the agent currently holding it.
        self._state = 0
        self._qi = qi
        self._holder: Any = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view of the record."""
        return {
            "call_id": self.call_id,
            "queue": self.queue,
            "arrival": self.arrival,
            "answer": self.answer,
            "end": self.end,
            "wait": self.wait,
            "abandoned": self.abandoned,
            "agent": self.agent,
            "queued": self.queued,
            "rona_count": self.rona_count,
            "talk_seconds": self.talk_seconds,
            "patience_seconds": None if math.isinf(self.patience_seconds) else self.patience_seconds,
        }

    def __repr__(self) -> str:
        return f"CallRecord({self.to_dict()!r})"


@dataclass(frozen=True, slots=True)
class TimeSnapshot:
    """Cumulative time integrals up to ``time``: agent-seconds busy / idle (READY) / Not Ready
    (incl. logged out) and the integral of the number of calls waiting in queue."""

    time: float
    busy: float
    idle: float
    not_ready: float
    queue_area: float


def service_levels(sl_calls: int, sl_aband: int, sl_offered: int) -> tuple[float, float, float]:
    """The three service-level formulas of §2.3 from raw counts.

    Returns (abandons ignored, abandons negative, abandons positive):
    SLCalls/(SLOffered − SLAband), SLCalls/SLOffered, (SLCalls + SLAband)/SLOffered.
    NaN where a denominator is zero.
    """
    ignored_base = sl_offered - sl_aband
    return (
        sl_calls / ignored_base if ignored_base > 0 else math.nan,
        sl_calls / sl_offered if sl_offered > 0 else math.nan,
        (sl_calls + sl_aband) / sl_offered if sl_offered > 0 else math.nan,
    )


@dataclass(frozen=True, slots=True)
class IntervalStats:
    """Statistics of one reporting interval (calls are counted in the interval they arrived).

    Service level follows §2.3: a call's SL event is its answer, its abandonment or its
    crossing of the threshold, whichever comes first; abandons within the short-call timer
    count nowhere. ``service_level`` is the "abandons negative" figure; the other two formulas
    are given as well. Occupancy is busy ÷ (busy + READY) agent time in the interval.
    """

    index: int
    start_seconds: float
    end_seconds: float
    offered: int
    answered: int
    abandoned: int
    asa_seconds: float
    sl_calls: int
    sl_aband: int
    sl_offered: int
    service_level: float
    service_level_abandons_ignored: float
    service_level_abandons_positive: float
    occupancy: float
    mean_queue_length: float


@dataclass(frozen=True, slots=True)
class Summary:
    """Run summary over the calls after warm-up (see ``SimulationConfig`` for the window).

    * ``p_wait``: fraction of offered calls that had to queue (no READY agent on arrival, or
      put back in the queue by a ring-no-answer).
    * ``asa_seconds``: mean wait of answered calls; ``mean_wait_seconds``: mean wait of all
      answered and abandoned calls (abandoners count their time in queue) — E[W] of §2.5.
    * ``service_level``: §2.3 "abandons negative" (answered within T ÷ SL-offered), the figure
      ``erlang_a_metrics`` calls ``service_level``; the other two formulas are alongside.
    * ``occupancy``: busy ÷ (busy + READY) agent time; busy = RESERVED, TALKING, WORK, WORK_READY.
    * ``mean_queue_length``: time average of the number of calls waiting in queue.
    """

    seed: int
    calls_offered: int
    calls_answered: int
    calls_abandoned: int
    calls_short_abandoned: int
    calls_unfinished: int
    calls_warmup_dropped: int
    rona_count: int
    p_wait: float
    p_abandon: float
    asa_seconds: float
    mean_wait_seconds: float
    sl_threshold_seconds: float
    sl_calls: int
    sl_aband: int
    sl_offered: int
    service_level: float
    service_level_abandons_ignored: float
    service_level_abandons_positive: float
    occupancy: float
    mean_queue_length: float
    offered_per_hour: float
    window_start_seconds: float
    window_end_seconds: float
    simulated_seconds: float
    events_processed: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; NaN (a figure with no calls behind it) becomes ``None``."""
        return {key: _json_number(value) for key, value in asdict(self).items()}


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """Everything a run produced. ``seed`` is the root seed that reproduces it."""

    seed: int
    summary: Summary
    intervals: tuple[IntervalStats, ...]
    calls: list[CallRecord]

    def to_dict(self, *, include_calls: bool = False, include_intervals: bool = True) -> dict[str, Any]:
        """JSON-ready dict of the summary, optionally with intervals and call records."""
        out: dict[str, Any] = {"seed": self.seed, "summary": self.summary.to_dict()}
        if include_intervals:
            out["intervals"] = [
                {key: _json_number(value) for key, value in asdict(iv).items()} for iv in self.intervals
            ]
        if include_calls:
            out["calls"] = [call.to_dict() for call in self.calls]
        return out

    def to_json(self, *, include_calls: bool = False, include_intervals: bool = True) -> str:
        """``to_dict`` serialised as one JSON object."""
        return json.dumps(
            self.to_dict(include_calls=include_calls, include_intervals=include_intervals), allow_nan=False
        )


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
