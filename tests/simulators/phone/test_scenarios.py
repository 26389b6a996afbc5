"""Scripted phone-simulator scenarios: LAA routing, RONA, wrap-up, breaks, priorities, abandons.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import io
import json
from typing import Any

from simulators.phone import (
    AgentConfig,
    QueueConfig,
    ReasonCode,
    ScheduledBreak,
    SimulationConfig,
    SimulationResult,
    simulate,
)


def run_logged(config: SimulationConfig) -> tuple[SimulationResult, list[dict[str, Any]]]:
    buffer = io.StringIO()
    result = simulate(config, buffer)
    return result, [json.loads(line) for line in buffer.getvalue().splitlines()]


def scripted_queue(arrivals: tuple[float, ...], talk: float, **kwargs: Any) -> QueueConfig:
    """A queue with fixed arrival instants and a constant talk time."""
    return QueueConfig(arrival_times=arrivals, aht_seconds=talk, aht_distribution="constant", **kwargs)


def offers(events: list[dict[str, Any]]) -> list[tuple[float, int, str]]:
    return [(e["t"], e["call"], e["agent"]) for e in events if e["event"] == "call_offered"]


def transitions(events: list[dict[str, Any]], agent: str) -> list[tuple[float, str, str, int | None]]:
    return [
        (e["t"], e["from"], e["to"], e["reason_code"])
        for e in events
        if e["event"] == "agent_state" and e["agent"] == agent
    ]


def test_longest_available_agent_gets_the_call() -> None:
    # A1 answers after 3 s of ringing, so the agents free up in the order A2 (12), A3 (13),
    # A1 (14). Later calls must follow that READY order, not the login or round-robin order.
    config = SimulationConfig(
        queues=(scripted_queue((1.0, 2.0, 3.0, 20.0, 21.0, 22.0), talk=10.0),),
        agents=(AgentConfig("A1", answer_delay_seconds=3.0), AgentConfig("A2"), AgentConfig("A3")),
        seed=1,
        calls=6,
        warmup_fraction=0.0,
    )
    _, events = run_logged(config)
    assert [agent for _, _, agent in offers(events)] == ["A1", "A2", "A3", "A2", "A3", "A1"]


def test_waiting_calls_are_served_in_arrival_order() -> None:
    config = SimulationConfig(
        queues=(scripted_queue((0.0, 1.0, 2.0, 3.0), talk=5.0),),
        agents=(AgentConfig("A1"),),
        seed=1,
        calls=4,
        warmup_fraction=0.0,
    )
    result, events = run_logged(config)
    assert [call for _, call, _ in offers(events)] == [0, 1, 2, 3]
    assert [c.answer for c in result.calls] == [0.0, 5.0, 10.0, 15.0]
    assert [c.wait for c in result.calls] == [0.0, 4.0, 8.0, 12.0]
    assert [c.queued for c in result.calls] == [False, True, True, True]


def test_rona_fires_at_its_timer_and_requeues_at_the_front() -> None:
    config = SimulationConfig(
        queues=(scripted_queue((0.5, 1.0, 2.0), talk=100.0),),
        agents=(AgentConfig("A1", answer_probability=0.0), AgentConfig("A2")),
        seed=1,
        calls=3,
        warmup_fraction=0.0,
        rona_timeout_seconds=10.0,
        rona_recovery_seconds=1000.0,
    )
    result, events = run_logged(config)
    ronas = [e for e in events if e["event"] == "call_rona"]
    assert ronas == [{"t": 10.5, "event": "call_rona", "call": 0, "agent": "A1"}]
    # §2.2: RONA makes the agent NOT_READY with the CCE system code 32767 at exactly the timer.
    assert (10.5, "RESERVED", "NOT_READY", 32767) in transitions(events, "A1")
    requeue = [e for e in events if e["event"] == "call_queued" and e["call"] == 0]
    assert requeue == [{"t": 10.5, "event": "call_queued", "call": 0, "queue": "Q1", "front": True}]
    # Call 2 waited since t=2, but the RONA'd call 0 is the next one offered from the queue.
    assert offers(events) == [(0.5, 0, "A1"), (1.0, 1, "A2"), (101.0, 0, "A2"), (201.0, 2, "A2")]
    call0 = result.calls[0]
    assert call0.rona_count == 1 and call0.agent == "A2" and call0.wait == 100.5
    assert result.summary.rona_count == 1


def test_rona_agent_recovers_after_the_recovery_time() -> None:
    config = SimulationConfig(
        queues=(scripted_queue((0.0, 100.0), talk=10.0),),
        agents=(AgentConfig("A1", answer_probability=0.0), AgentConfig("A2")),
        seed=1,
        calls=2,
        warmup_fraction=0.0,
        rona_timeout_seconds=8.0,
        rona_recovery_seconds=30.0,
    )
    _, events = run_logged(config)
    a1 = transitions(events, "A1")
    assert (8.0, "RESERVED", "NOT_READY", 32767) in a1
    assert (38.0, "NOT_READY", "READY", None) in a1
    # The RONA'd call went straight to the READY agent A2.
    assert offers(events)[:2] == [(0.0, 0, "A1"), (8.0, 0, "A2")]


def test_wrap_up_ends_exactly_at_its_timer() -> None:
    config = SimulationConfig(
        queues=(scripted_queue((1.0,), talk=40.0),),  # aht 40 s = 10 s talk + 30 s wrap-up
        agents=(AgentConfig("A1"),),
        seed=1,
        calls=1,
        warmup_fraction=0.0,
        wrapup_seconds=30.0,
    )
    result, events = run_logged(config)
    a1 = transitions(events, "A1")
    assert (11.0, "TALKING", "WORK_READY", None) in a1
    assert (41.0, "WORK_READY", "READY", None) in a1
    assert result.calls[0].end == 11.0


def test_break_requested_during_a_call_becomes_the_pending_state() -> None:
    lunch = ReasonCode(2, "Lunch")
    config = SimulationConfig(
        queues=(scripted_queue((1.0,), talk=40.0),),
        agents=(AgentConfig("A1", breaks=(ScheduledBreak(5.0, 60.0, lunch),)),),
        seed=1,
        calls=1,
        warmup_fraction=0.0,
        wrapup_seconds=30.0,
    )
    _, events = run_logged(config)
    # §1.4: asked NOT_READY mid-call → WORK; wrap-up timer → NOT_READY; the break runs 60 s.
    assert transitions(events, "A1")[2:6] == [
        (1.0, "READY", "RESERVED", None),
        (1.0, "RESERVED", "TALKING", None),
        (11.0, "TALKING", "WORK", None),
        (41.0, "WORK", "NOT_READY", 2),
    ]
    # The run has drained at 41 s, so the agent signs out from its break (CCE: only from NOT_READY).
    assert transitions(events, "A1")[-1] == (41.0, "NOT_READY", "LOGOUT", None)


def test_break_while_ready_starts_at_once_and_delays_calls() -> None:
    config = SimulationConfig(
        queues=(scripted_queue((12.0,), talk=5.0),),
        agents=(AgentConfig("A1", breaks=(ScheduledBreak(10.0, 15.0),)),),
        seed=1,
        calls=1,
        warmup_fraction=0.0,
    )
    result, events = run_logged(config)
    a1 = transitions(events, "A1")
    assert (10.0, "READY", "NOT_READY", 1) in a1
    assert (25.0, "NOT_READY", "READY", None) in a1
    assert result.calls[0].answer == 25.0


def test_caller_abandoning_while_ringing_frees_the_agent() -> None:
    config = SimulationConfig(
        queues=(QueueConfig(arrival_times=(1.0,), aht_seconds=60.0, patience_seconds=10.0),),
        agents=(AgentConfig("A1", answer_probability=0.0),),
        seed=3,
        calls=1,
        warmup_fraction=0.0,
        rona_timeout_seconds=1e9,
    )
    result, events = run_logged(config)
    call = result.calls[0]
    assert call.abandoned and call.answer is None and call.end is not None
    assert call.end == 1.0 + call.patience_seconds
    # §1.4 RESERVED → READY: the caller hung up while the phone rang.
    assert (call.end, "RESERVED", "READY", None) in transitions(events, "A1")
    assert result.summary.calls_abandoned == 1


def test_higher_priority_queue_is_served_first() -> None:
    config = SimulationConfig(
        queues=(
            scripted_queue((1.0, 2.0), talk=10.0, name="LOW", priority=5),
            scripted_queue((5.0,), talk=10.0, name="HIGH", priority=1),
        ),
        agents=(AgentConfig("A1"),),
        seed=1,
        calls=3,
        warmup_fraction=0.0,
    )
    result, _ = run_logged(config)
    answered = sorted((c.answer, c.queue, c.arrival) for c in result.calls if c.answer is not None)
    assert answered == [(1.0, "LOW", 1.0), (11.0, "HIGH", 5.0), (21.0, "LOW", 2.0)]


def test_skills_restrict_which_agents_take_a_queue() -> None:
    config = SimulationConfig(
        queues=(
            scripted_queue((1.0, 2.0, 3.0), talk=50.0, name="WATER"),
            scripted_queue((1.5, 2.5), talk=50.0, name="POWER"),
        ),
        agents=(
            AgentConfig("W1", skills=("WATER",)),
            AgentConfig("P1", skills=("POWER",)),
            AgentConfig("B1", skills=("WATER", "POWER")),
        ),
        seed=1,
        calls=5,
        warmup_fraction=0.0,
    )
    result, _ = run_logged(config)
    for call in result.calls:
        assert call.agent is not None
        if call.queue == "WATER":
            assert call.agent in {"W1", "B1"}
        else:
            assert call.agent in {"P1", "B1"}


def test_a_run_whose_only_agent_stays_not_ready_stops_and_reports_unfinished_calls() -> None:
    config = SimulationConfig(
        queues=(QueueConfig(calls_per_hour=120.0, aht_seconds=60.0),),
        agents=(AgentConfig("A1", answer_probability=0.5),),
        seed=11,
        calls=40,
        warmup_fraction=0.0,
        rona_recovery_seconds=None,
    )
    result = simulate(config)
    unfinished = [c for c in result.calls if c.wait is None]
    assert result.summary.calls_unfinished == len(unfinished) > 0
    assert all(c.answer is None and c.end is None and not c.abandoned for c in unfinished)
    assert result.summary.rona_count == 1
