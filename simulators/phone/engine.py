"""Discrete-event call-centre simulator on a virtual clock (no sleeping, no wall-clock time).

The model follows the telephony reference:

* agents in Finesse states (§1.3) changing only along the CCE transition table (§1.4), log in
  at time 0 (LOGOUT → NOT_READY → READY) and log out when the run has drained;
* queues with skills and priorities; a call goes to the *longest available agent* — the
  eligible READY agent with the oldest READY state-change time (§2.1); an agent is offered a
  call only while READY; waiting calls are served longest-waiting first within a priority;
* ring-no-answer: an offer not answered within the RONA timer makes the agent NOT_READY with
  the system reason code (32767 on CCE) and puts the call back at the *front* of its queue
  (§2.2);
* optional fixed wrap-up: TALKING → WORK_READY (or WORK if the agent asked for NOT_READY during
  the call) → READY / NOT_READY when the timer expires (§1.4, §1.6);
* callers with exponential patience abandon while queued or ringing;
* opt-in agent behaviour: scheduled breaks, Not Ready spells with reason codes, slow or
  missed answers.

With the defaults (exponential handle times, no wrap-up, immediate answers, no breaks,
stationary arrivals) the system is exactly M/M/N, or M/M/N+M with patience, so it can be
checked against Erlang C / Erlang A (§6).

Events live in a heap of plain tuples ``(time, seq, kind, subject, token)``; ``seq`` is a
running counter, so simultaneous events run in the order they were scheduled and every run is
reproducible. Timers are never removed from the heap: each agent carries a ``token`` bumped
on every state change, and a timer whose token no longer matches is ignored when it pops.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict
from heapq import heappop, heappush
from random import Random
from typing import IO, Any

from simulators.phone.config import (
    LOGOUT,
    NOT_READY,
    READY,
    RESERVED,
    TALKING,
    WORK,
    WORK_READY,
    AgentConfig,
    ReasonCode,
    ScheduledBreak,
    SimulationConfig,
)
from simulators.phone.results import (
    CallRecord,
    IntervalStats,
    SimulationResult,
    Summary,
    TimeSnapshot,
    service_levels,
)
from simulators.phone.streams import arrival_times, handle_time_sampler, stream

__all__ = ["simulate"]

# Event kinds.
_ARRIVAL = 0
_CALL_END = 1
_ABANDON = 2
_ANSWER = 3
_RONA = 4
_WRAP_END = 5
_SPELL_END = 6  # end of a Not Ready spell (break, RONA recovery, personal time)
_BREAK_DUE = 7
_TICK = 8  # reporting-interval boundary
_WARMUP_END = 9  # hours mode only
_HORIZON = 10  # hours mode only: arrivals stop

# Call lifecycle.
_WAITING = 0
_RINGING = 1
_CONNECTED = 2
_DONE = 3
_GONE = 4  # abandoned

# Time-accounting buckets for agent states.
_ACC_BUSY = 0
_ACC_IDLE = 1
_ACC_NOT_READY = 2
_ACC_OF_STATE = {
    RESERVED: _ACC_BUSY,
    TALKING: _ACC_BUSY,
    WORK: _ACC_BUSY,
    WORK_READY: _ACC_BUSY,
    READY: _ACC_IDLE,
    NOT_READY: _ACC_NOT_READY,
    LOGOUT: _ACC_NOT_READY,
}

_FORMAT_VERSION = 1


class _Agent:
    """Mutable per-agent state inside one run."""

    __slots__ = (
        "acc_mark",
        "call",
        "cfg",
        "changed",
        "idx",
        "name",
        "nr_requests",
        "queues",
        "reason",
        "rng",
        "state",
        "token",
    )

    def __init__(self, idx: int, cfg: AgentConfig, queues: tuple[int, ...], rng: Random) -> None:
        self.idx = idx
        self.cfg = cfg
        self.name = cfg.name
        self.queues = queues
        self.rng = rng
        self.state = LOGOUT
        self.reason: int | None = None
        self.changed = 0.0  # stateChangeTime: LAA orders READY agents by it
        self.acc_mark = 0.0  # time up to which this agent's state time has been accounted
        self.token = 0
        self.call: CallRecord | None = None
        # Not Ready requests waiting to be applied, in order: (reason, spell length).
        self.nr_requests: deque[tuple[ReasonCode, float]] = deque()


class _Simulation:
    """One run; ``run()`` may be called once."""

    def __init__(self, config: SimulationConfig, event_log: IO[str] | None) -> None:
        self.cfg = config
        self.log = event_log
        self.now = 0.0
        self.heap: list[tuple[float, int, int, Any, int]] = []
        self.seq = 0
        seed = config.seed

        self.queue_names = [q.name for q in config.queues]
        self.queue_priority = [q.priority for q in config.queues]
        self.waiting: list[deque[CallRecord]] = [deque() for _ in config.queues]
        # Per queue: heap of (ready since, sequence, token, agent) for READY agents with the skill.
        self.available: list[list[tuple[float, int, int, _Agent]]] = [[] for _ in config.queues]
        self.ready_seq = 0
        self.arrivals: list[Iterator[float]] = [
            arrival_times(q, stream(seed, f"arrivals/{q.name}")) for q in config.queues
        ]
        wrap = config.wrapup_seconds
        self.talk_samplers = [
            handle_time_sampler(
                q.aht_distribution, q.aht_seconds - wrap, q.aht_cv, stream(seed, f"handle/{q.name}")
            )
            for q in config.queues
        ]
        self.patience_rate = [
            None if q.patience_seconds is None else 1.0 / q.patience_seconds for q in config.queues
        ]
        self.patience_rngs = [stream(seed, f"patience/{q.name}") for q in config.queues]

        self.agents: list[_Agent] = []
        for idx, agent_cfg in enumerate(config.agents):
            served = tuple(
                qi
                for qi, q in enumerate(config.queues)
                if agent_cfg.skills is None or q.skill_name in agent_cfg.skills
            )
            self.agents.append(_Agent(idx, agent_cfg, served, stream(seed, f"agent/{agent_cfg.name}")))

        self.calls: list[CallRecord] = []
        self.calls_left = config.calls  # None in hours mode
        self.open_queues = len(config.queues)
        self.arrivals_done = False
        self.active_calls = 0
        self.wrapping = 0
        self.rona_count = 0
        self.events = 0

        # Time integrals (agent-seconds per bucket, queue-length integral).
        self.acc = [0.0, 0.0, 0.0]
        self.n_waiting = 0
        self.q_area = 0.0
        self.q_mark = 0.0
        self.snapshots: list[TimeSnapshot] = []
        self.window_start: TimeSnapshot | None = None
        self.window_end: TimeSnapshot | None = None
        self.first_counted = 0
        self.warmup_calls = (
            math.floor(config.warmup_fraction * config.calls) if config.calls is not None else None
        )

    # -- scheduling and logging ----------------------------------------------------------------

    def _at(self, time: float, kind: int, subject: Any = None, token: int = 0) -> None:
        self.seq += 1
        heappush(self.heap, (time, self.seq, kind, subject, token))

    def _emit(self, record: dict[str, Any]) -> None:
        assert self.log is not None
        self.log.write(json.dumps(record, separators=(",", ":")) + "\n")

    # -- time accounting -----------------------------------------------------------------------

    def _touch_queue(self) -> None:
        now = self.now
        self.q_area += self.n_waiting * (now - self.q_mark)
        self.q_mark = now

    def _snapshot(self) -> TimeSnapshot:
        now = self.now
        acc = self.acc
        for ag in self.agents:
            acc[_ACC_OF_STATE[ag.state]] += now - ag.acc_mark
            ag.acc_mark = now
        self._touch_queue()
        return TimeSnapshot(now, acc[0], acc[1], acc[2], self.q_area)

    # -- agent state ---------------------------------------------------------------------------

    def _set_state(
        self, ag: _Agent, new: str, reason: int | None = None, call: CallRecord | None = None
    ) -> None:
        now = self.now
        self.acc[_ACC_OF_STATE[ag.state]] += now - ag.acc_mark
        ag.acc_mark = now
        if self.log is not None:
            self._emit(
                {
                    "t": now,
                    "event": "agent_state",
                    "agent": ag.name,
                    "from": ag.state,
                    "to": new,
                    "reason_code": reason,
                    "call": None if call is None else call.call_id,
                }
            )
        ag.state = new
        ag.reason = reason
        ag.changed = now
        ag.token += 1

    def _make_available(self, ag: _Agent) -> None:
        """The agent has finished with calls: apply a pending Not Ready, else READY and route."""
        if ag.nr_requests:
            self._start_spell(ag)
            return
        self._set_state(ag, READY)
        self._serve_waiting_or_idle(ag)

    def _start_spell(self, ag: _Agent) -> None:
        reason, length = ag.nr_requests.popleft()
        self._set_state(ag, NOT_READY, reason.code)
        self._at(self.now + length, _SPELL_END, ag, ag.token)

    def _serve_waiting_or_idle(self, ag: _Agent) -> None:
        """A READY agent takes the best waiting call among its queues or joins their idle lists."""
        best: CallRecord | None = None
        best_key: tuple[int, float, int] | None = None
        for qi in ag.queues:
            dq = self.waiting[qi]
            while dq and dq[0]._state != _WAITING:
                dq.popleft()  # abandoned callers are dropped lazily
            if dq:
                head = dq[0]
                key = (self.queue_priority[qi], head.arrival, head.call_id)
                if best_key is None or key < best_key:
                    best, best_key = head, key
        if best is not None:
            self.waiting[best._qi].popleft()
            self._touch_queue()
            self.n_waiting -= 1
            self._offer(ag, best)
            return
        self.ready_seq += 1
        entry = (ag.changed, self.ready_seq, ag.token, ag)
        for qi in ag.queues:
            heappush(self.available[qi], entry)

    def _longest_available(self, qi: int) -> _Agent | None:
        heap = self.available[qi]
        while heap:
            _, _, token, ag = heappop(heap)
            if ag.token == token:  # unchanged since it went READY
                return ag
        return None

    # -- call flow -----------------------------------------------------------------------------

    def _offer(self, ag: _Agent, call: CallRecord) -> None:
        call._state = _RINGING
        call._holder = ag
        if self.log is not None:
            self._emit({"t": self.now, "event": "call_offered", "call": call.call_id, "agent": ag.name})
        self._set_state(ag, RESERVED, None, call)
        ag.call = call
        cfg = ag.cfg
        p = cfg.answer_probability
        answers = p >= 1.0 or (p > 0.0 and ag.rng.random() < p)
        if answers and cfg.answer_delay_seconds < self.cfg.rona_timeout_seconds:
            if cfg.answer_delay_seconds == 0.0:
                self._answer(ag, call)
            else:
                self._at(self.now + cfg.answer_delay_seconds, _ANSWER, ag, ag.token)
        else:
            # §2.2: RONA fires exactly at the timer.
            self._at(self.now + self.cfg.rona_timeout_seconds, _RONA, ag, ag.token)

    def _answer(self, ag: _Agent, call: CallRecord) -> None:
        now = self.now
        call._state = _CONNECTED
        call.answer = now
        call.wait = now - call.arrival
        call.agent = ag.name
        if self.log is not None:
            self._emit(
                {
                    "t": now,
                    "event": "call_answered",
                    "call": call.call_id,
                    "agent": ag.name,
                    "wait": call.wait,
                }
            )
        self._set_state(ag, TALKING, None, call)
        cfg = ag.cfg
        if cfg.not_ready_probability > 0.0 and ag.rng.random() < cfg.not_ready_probability:
            # A Not Ready request made during the call becomes the pending state (§1.4).
            length = ag.rng.expovariate(1.0 / cfg.not_ready_mean_seconds)
            ag.nr_requests.append((cfg.not_ready_reason, length))
        self._at(now + call.talk_seconds, _CALL_END, ag, ag.token)

    def _enqueue(self, call: CallRecord, *, front: bool) -> None:
        self._touch_queue()
        self.n_waiting += 1
        call._state = _WAITING
        call._holder = None
        call.queued = True
        if front:
            self.waiting[call._qi].appendleft(call)
        else:
            self.waiting[call._qi].append(call)
        if self.log is not None:
            self._emit(
                {
                    "t": self.now,
                    "event": "call_queued",
                    "call": call.call_id,
                    "queue": call.queue,
                    "front": front,
                }
            )

    def _on_arrival(self, qi: int) -> None:
        now = self.now
        if self.arrivals_done:
            return  # calls mode: another queue produced the last call already
        call_id = len(self.calls)
        if call_id == self.warmup_calls:
            self.window_start = self._snapshot()
            self.first_counted = call_id
        rate = self.patience_rate[qi]
        # Draw the caller's attributes now, in arrival order, whatever happens to the call.
        patience = math.inf if rate is None else self.patience_rngs[qi].expovariate(rate)
        call = CallRecord(call_id, self.queue_names[qi], qi, now, self.talk_samplers[qi](), patience)
        self.calls.append(call)
        self.active_calls += 1
        if self.log is not None:
            self._emit({"t": now, "event": "call_arrival", "call": call_id, "queue": call.queue})

        ag = self._longest_available(qi)
        if ag is not None:
            self._offer(ag, call)
        else:
            self._enqueue(call, front=False)
        if rate is not None and call._state != _CONNECTED:
            self._at(now + patience, _ABANDON, call)

        # Schedule this queue's next arrival, or close the arrivals.
        if self.calls_left is not None:
            self.calls_left -= 1
            if self.calls_left == 0:
                self._close_arrivals()
                return
        next_time = next(self.arrivals[qi], None)
        hours = self.cfg.hours
        if next_time is None or (hours is not None and next_time >= hours * 3600.0):
            self.open_queues -= 1
            if self.open_queues == 0 and hours is None:
                self._close_arrivals()
        else:
            self._at(next_time, _ARRIVAL, qi)

    def _close_arrivals(self) -> None:
        self.arrivals_done = True
        self.window_end = self._snapshot()
        if self.window_start is None:  # fewer calls than the warm-up: empty window
            self.window_start = self.window_end
            self.first_counted = len(self.calls)

    def _on_abandon(self, call: CallRecord) -> None:
        state = call._state
        if state != _WAITING and state != _RINGING:
            return  # answered in time
        now = self.now
        if state == _WAITING:
            self._touch_queue()
            self.n_waiting -= 1  # its queue entry is skipped lazily
        call._state = _GONE
        call.abandoned = True
        call.end = now
        call.wait = now - call.arrival
        self.active_calls -= 1
        if self.log is not None:
            self._emit({"t": now, "event": "call_abandoned", "call": call.call_id, "wait": call.wait})
        if state == _RINGING:
            # §1.4 RESERVED → READY: the caller hung up while the agent's phone was ringing.
            ag: _Agent = call._holder
            call._holder = None
            ag.call = None
            self._set_state(ag, READY)
            self._make_available_after_ring(ag)

    def _make_available_after_ring(self, ag: _Agent) -> None:
        if ag.nr_requests:
            self._start_spell(ag)  # READY → NOT_READY, the agent's pending request
        else:
            self._serve_waiting_or_idle(ag)

    def _on_rona(self, ag: _Agent) -> None:
        call = ag.call
        assert call is not None
        now = self.now
        self.rona_count += 1
        call.rona_count += 1
        ag.call = None
        if self.log is not None:
            self._emit({"t": now, "event": "call_rona", "call": call.call_id, "agent": ag.name})
        self._set_state(ag, NOT_READY, self.cfg.rona_reason_code, call)
        recovery = self.cfg.rona_recovery_seconds
        if recovery is not None:
            self._at(now + recovery, _SPELL_END, ag, ag.token)
        # §2.2: re-queue at the front, so it is the next call offered from its queue.
        other = self._longest_available(call._qi)
        if other is not None:
            call._state = _WAITING
            self._offer(other, call)
        else:
            self._enqueue(call, front=True)

    def _on_call_end(self, ag: _Agent) -> None:
        call = ag.call
        assert call is not None
        now = self.now
        call._state = _DONE
        call.end = now
        call._holder = None
        ag.call = None
        self.active_calls -= 1
        if self.log is not None:
            self._emit({"t": now, "event": "call_ended", "call": call.call_id, "agent": ag.name})
        wrap = self.cfg.wrapup_seconds
        if wrap > 0.0:
            # §1.4: WORK if the agent asked for NOT_READY during the call, else WORK_READY.
            self._set_state(ag, WORK if ag.nr_requests else WORK_READY, None, call)
            self.wrapping += 1
            self._at(now + wrap, _WRAP_END, ag, ag.token)
        else:
            self._make_available(ag)

    def _on_wrap_end(self, ag: _Agent) -> None:
        self.wrapping -= 1
        self._make_available(ag)

    def _on_spell_end(self, ag: _Agent) -> None:
        if ag.nr_requests:
            self._start_spell(ag)  # NOT_READY → NOT_READY: change of reason code
        else:
            self._set_state(ag, READY)
            self._serve_waiting_or_idle(ag)

    def _on_break_due(self, ag: _Agent, brk: ScheduledBreak) -> None:
        ag.nr_requests.append((brk.reason, brk.duration_seconds))
        if ag.state == READY:
            self._start_spell(ag)
        # Otherwise it waits: after the call / wrap-up, or after the current Not Ready spell.

    # -- main loop -----------------------------------------------------------------------------

    def run(self) -> SimulationResult:
        cfg = self.cfg
        if self.log is not None:
            self._emit({"event": "run", "format": _FORMAT_VERSION, "seed": cfg.seed, "config": asdict(cfg)})

        self.snapshots.append(self._snapshot())
        for ag in self.agents:
            # Sign-in: LOGOUT → (LOGIN) → NOT_READY, then the agent makes itself READY (§1.2).
            self._set_state(ag, NOT_READY)
            self._set_state(ag, READY)
            self._serve_waiting_or_idle(ag)
            for brk in ag.cfg.breaks:
                self._at(brk.start_seconds, _BREAK_DUE, (ag, brk))
        for qi, arrivals in enumerate(self.arrivals):
            first = next(arrivals, None)
            if first is None or (cfg.hours is not None and first >= cfg.hours * 3600.0):
                self.open_queues -= 1
            else:
                self._at(first, _ARRIVAL, qi)
        if cfg.hours is not None:
            horizon = cfg.hours * 3600.0
            self._at(cfg.warmup_fraction * horizon, _WARMUP_END)
            self._at(horizon, _HORIZON)
        elif self.open_queues == 0:
            self._close_arrivals()
        interval = cfg.interval_seconds
        self._at(interval, _TICK, 1)

        heap = self.heap
        while heap:
            time, _, kind, subject, token = heappop(heap)
            self.now = time
            self.events += 1
            if kind == _ARRIVAL:
                self._on_arrival(subject)
            elif kind == _CALL_END:
                self._on_call_end(subject)
            elif kind == _ABANDON:
                self._on_abandon(subject)
            elif kind == _TICK:
                self.snapshots.append(self._snapshot())
                if self.arrivals_done and not heap:
                    break  # calls still wait but nothing can ever serve them (calls_unfinished)
                self._at((subject + 1) * interval, _TICK, subject + 1)
                continue
            elif kind <= _SPELL_END and subject.token != token:
                continue  # agent timer overtaken by a state change
            elif kind == _ANSWER:
                self._answer(subject, subject.call)
            elif kind == _RONA:
                self._on_rona(subject)
            elif kind == _WRAP_END:
                self._on_wrap_end(subject)
            elif kind == _SPELL_END:
                self._on_spell_end(subject)
            elif kind == _BREAK_DUE:
                self._on_break_due(*subject)
            elif kind == _WARMUP_END:
                self.window_start = self._snapshot()
                self.first_counted = len(self.calls)
            elif kind == _HORIZON:
                self.arrivals_done = True
                self.window_end = self._snapshot()
            if self.arrivals_done and self.active_calls == 0 and self.wrapping == 0:
                break

        end = self.now
        if self.window_end is None:
            self.window_end = self._snapshot()
        if self.window_start is None:
            self.window_start = self.window_end
        if self.snapshots[-1].time < end:
            self.snapshots.append(self._snapshot())
        # Shift end: READY → NOT_READY (agent request with a code) → LOGOUT (CCE: only from NOT_READY).
        for ag in self.agents:
            if ag.state != NOT_READY:
                self._set_state(ag, NOT_READY, cfg.end_of_shift_reason.code)
            self._set_state(ag, LOGOUT)
        if self.log is not None:
            self._emit({"t": end, "event": "run_end", "calls": len(self.calls), "events": self.events})
        return self._result(end)

    # -- results -------------------------------------------------------------------------------

    def _result(self, end: float) -> SimulationResult:
        cfg = self.cfg
        threshold = cfg.sl_threshold_seconds
        short = cfg.short_abandon_seconds
        counted = self.calls[self.first_counted :]
        answered = abandoned = short_abandoned = unfinished = queued = 0
        sl_calls = sl_aband = 0
        answered_wait: list[float] = []
        all_wait: list[float] = []
        for call in counted:
            if call.queued:
                queued += 1
            wait = call.wait
            if wait is None:
                unfinished += 1
            elif call.abandoned:
                abandoned += 1
                all_wait.append(wait)
                if wait < short:
                    short_abandoned += 1
                elif wait <= threshold:
                    sl_aband += 1
            else:
                answered += 1
                answered_wait.append(wait)
                all_wait.append(wait)
                if wait <= threshold:
                    sl_calls += 1
        offered = len(counted)
        sl_offered = offered - short_abandoned
        sl_ignored, sl_negative, sl_positive = service_levels(sl_calls, sl_aband, sl_offered)
        start, stop = self.window_start, self.window_end
        assert start is not None and stop is not None
        span = stop.time - start.time
        busy = stop.busy - start.busy
        idle = stop.idle - start.idle
        summary = Summary(
            seed=cfg.seed,
            calls_offered=offered,
            calls_answered=answered,
            calls_abandoned=abandoned,
            calls_short_abandoned=short_abandoned,
            calls_unfinished=unfinished,
            calls_warmup_dropped=self.first_counted,
            rona_count=self.rona_count,
            p_wait=queued / offered if offered else math.nan,
            p_abandon=abandoned / offered if offered else math.nan,
            asa_seconds=math.fsum(answered_wait) / answered if answered else math.nan,
            mean_wait_seconds=math.fsum(all_wait) / len(all_wait) if all_wait else math.nan,
            sl_threshold_seconds=threshold,
            sl_calls=sl_calls,
            sl_aband=sl_aband,
            sl_offered=sl_offered,
            service_level=sl_negative,
            service_level_abandons_ignored=sl_ignored,
            service_level_abandons_positive=sl_positive,
            occupancy=busy / (busy + idle) if busy + idle > 0 else math.nan,
            mean_queue_length=(stop.queue_area - start.queue_area) / span if span > 0 else math.nan,
            offered_per_hour=offered * 3600.0 / span if span > 0 else math.nan,
            window_start_seconds=start.time,
            window_end_seconds=stop.time,
            simulated_seconds=end,
            events_processed=self.events,
        )
        return SimulationResult(seed=cfg.seed, summary=summary, intervals=self._intervals(), calls=self.calls)

    def _intervals(self) -> tuple[IntervalStats, ...]:
        cfg = self.cfg
        interval = cfg.interval_seconds
        threshold = cfg.sl_threshold_seconds
        short = cfg.short_abandon_seconds
        snaps = self.snapshots
        count = len(snaps) - 1
        if count < 1:
            return ()
        offered = [0] * count
        answered = [0] * count
        abandoned = [0] * count
        short_ab = [0] * count
        sl_calls = [0] * count
        sl_aband = [0] * count
        wait_sum = [0.0] * count
        for call in self.calls:
            k = min(int(call.arrival // interval), count - 1)
            offered[k] += 1
            wait = call.wait
            if wait is None:
                continue
            if call.abandoned:
                abandoned[k] += 1
                if wait < short:
                    short_ab[k] += 1
                elif wait <= threshold:
                    sl_aband[k] += 1
            else:
                answered[k] += 1
                wait_sum[k] += wait
                if wait <= threshold:
                    sl_calls[k] += 1
        out = []
        for k in range(count):
            a, b = snaps[k], snaps[k + 1]
            busy, idle, span = b.busy - a.busy, b.idle - a.idle, b.time - a.time
            sl_off = offered[k] - short_ab[k]
            ignored, negative, positive = service_levels(sl_calls[k], sl_aband[k], sl_off)
            out.append(
                IntervalStats(
                    index=k,
                    start_seconds=a.time,
                    end_seconds=b.time,
                    offered=offered[k],
                    answered=answered[k],
                    abandoned=abandoned[k],
                    asa_seconds=wait_sum[k] / answered[k] if answered[k] else math.nan,
                    sl_calls=sl_calls[k],
                    sl_aband=sl_aband[k],
                    sl_offered=sl_off,
                    service_level=negative,
                    service_level_abandons_ignored=ignored,
                    service_level_abandons_positive=positive,
                    occupancy=busy / (busy + idle) if busy + idle > 0 else math.nan,
                    mean_queue_length=(b.queue_area - a.queue_area) / span if span > 0 else math.nan,
                )
            )
        return tuple(out)


def simulate(config: SimulationConfig, event_log: IO[str] | None = None) -> SimulationResult:
    """Run one simulation. With ``event_log`` every state change and call event is written to it
    as one JSON object per line (first line: the run header with seed and config)."""
    return _Simulation(config, event_log).run()
