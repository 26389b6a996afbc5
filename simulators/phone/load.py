"""A load run against the hub: Poisson callers and simulated agents, paced by a virtual or a scaled clock.

The run posts callers to one queue of the hub's telephony API and plays the agents' part through a
:class:`~simulators.phone.driver.PhoneDriver`:

* callers arrive as a Poisson process and each one's handle time and patience are drawn from the offline
  engine's named streams (``arrivals/Q1``, ``handle/Q1``, ``patience/Q1`` under the root seed), so a seed
  gives the same callers here as in ``ccbhub simulate phone --seed`` without ``--live``;
* when the hub offers a call to one of the run's agents (the call's agent leg is ALERTING), that agent
  answers after ``ring_seconds``, talks for the caller's handle time, hangs up, and ends wrap-up (WORK or
  WORK_READY) after ``wrap_up_seconds`` — unless the hub's own wrap-up timer ends it first;
* a caller whose patience runs out before an answer hangs up (abandons);
* an agent the hub makes NOT_READY for ring-no-answer (CCE code 32767, docs/telephony.md §2.2) goes
  READY again after ``rona_recovery_seconds``, as the offline engine's agents do;
* a call the run did not post but which the hub offers to one of its agents (left over from an earlier
  run, or posted by someone else) is answered too, so it does not bounce between agents; it is counted
  apart, as ``other_calls``.

What the agents react to are events (the driver's listeners), and the run ends when arrivals have stopped,
every call is over and no agent is busy.  If after the last arrival nothing happens for ``stall_seconds``
while work is left, the run stops as ``stalled``.  Every ``heartbeat_seconds`` the run re-reads the agents
(and, when it has been quiet, its open calls), so an event that went missing cannot leave an agent waiting
for ever.

Time is a :class:`Timeline`: :class:`VirtualTimeline` moves the hub's ManualClock and applies its timers
(tests; nothing sleeps), :class:`WallTimeline` is real time scaled by a speed factor (live mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import heapq
import itertools
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, Protocol

from core.bus import Envelope
from core.telephony.events import AGENT_ERROR, AGENT_STATE_CHANGED, DIALOG_ENDED
from simulators.phone.config import (
    RONA_REASON_CODE_CCE,
    HandleDistribution,
    SimulationConfig,
    single_queue_config,
)
from simulators.phone.driver import (
    BUSY_STATES,
    ON_CALL_STATES,
    WRAP_UP_STATES,
    NoCall,
    PhoneApiError,
    PhoneDriver,
    PhoneDriverError,
    Snapshot,
    is_dialog_event,
)
from simulators.phone.streams import arrival_times, handle_time_sampler, stream

__all__ = [
    "LiveCall",
    "LoadProfile",
    "LoadRun",
    "NoExtension",
    "RunSummary",
    "Timeline",
    "VirtualTimeline",
    "WallTimeline",
    "caller_number",
    "prepare_agents",
]

Outcome = Literal["running", "completed", "interrupted", "stalled", "failed"]
Action = Callable[[], Awaitable[None]]


# --------------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------------


class Timeline(Protocol):
    """Simulated seconds since :meth:`start`, and a way to wait for a simulated instant."""

    def start(self) -> None: ...

    def now(self) -> float: ...

    async def wait_until(self, t: float, wake: asyncio.Event) -> None:
        """Return at simulated time ``t``, or earlier once ``wake`` is set (then clear it)."""
        ...

    async def settle(self) -> None:
        """Let the consequences of the last action arrive before the next one (a no-op in real time)."""
        ...


class WallTimeline:
    """Real time scaled up: ``speed`` simulated seconds pass per wall-clock second."""

    def __init__(self, speed: float) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError("speed must be a positive number")
        self.speed = speed
        self._origin = time.monotonic()

    def start(self) -> None:
        self._origin = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._origin) * self.speed

    async def wait_until(self, t: float, wake: asyncio.Event) -> None:
        delay = (t - self.now()) / self.speed
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await wake.wait()
        wake.clear()

    async def settle(self) -> None:
        return None


class SettableClock(Protocol):
    def now(self) -> dt.datetime: ...

    def set(self, when: dt.datetime) -> None: ...


class VirtualTimeline:
    """The hub's ManualClock as the simulated clock, for tests.

    Waiting never sleeps: it sets the clock to the target instant, runs the telephony service's ``tick``
    for it (ring-no-answer and wrap-up timers fall due exactly as they would in real time) and then
    ``settle`` (the test's drain), so every event of that instant has been delivered before the run acts.
    Simulated time is kept as a float beside the clock, whose microsecond steps could otherwise leave it
    a hair short of the target.
    """

    def __init__(
        self,
        clock: SettableClock,
        tick: Callable[[dt.datetime], Awaitable[object]],
        settle: Callable[[], Awaitable[None]],
    ) -> None:
        self.clock = clock
        self._tick = tick
        self._settle = settle
        self._origin = clock.now()
        self._t = 0.0

    def start(self) -> None:
        self._origin = self.clock.now()
        self._t = 0.0

    def now(self) -> float:
        return self._t

    async def wait_until(self, t: float, wake: asyncio.Event) -> None:
        if t > self._t:
            self._t = t
            target = self._origin + dt.timedelta(seconds=t)
            if target > self.clock.now():  # never move the clock back if a test moved it on
                self.clock.set(target)
            await self._tick(self.clock.now())
            await self._settle()
        wake.clear()

    async def settle(self) -> None:
        await self._settle()


# --------------------------------------------------------------------------------------------------
# What to run and what came out
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadProfile:
    """The traffic and agent behaviour of a load run; times are simulated seconds.

    ``aht_seconds`` is the whole handle time as in the offline engine: the talk part has mean
    ``aht_seconds − wrap_up_seconds``.  Exactly one of ``calls`` and ``hours`` bounds the arrivals.
    """

    calls_per_hour: float
    aht_seconds: float
    seed: int
    calls: int | None = None
    hours: float | None = None
    queue: str = "Billing"
    aht_distribution: HandleDistribution = "exponential"
    aht_cv: float = 1.0
    patience_seconds: float | None = None
    ring_seconds: float = 2.0
    wrap_up_seconds: float = 0.0
    rona_recovery_seconds: float = 60.0
    sl_threshold_seconds: float = 20.0

    def model(self) -> SimulationConfig:
        """The offline engine's configuration for the same traffic (its validation applies here too)."""
        config = single_queue_config(
            agents=1,
            calls_per_hour=self.calls_per_hour,
            aht_seconds=self.aht_seconds,
            seed=self.seed,
            calls=self.calls,
            hours=self.hours,
            aht_distribution=self.aht_distribution,
            aht_cv=self.aht_cv,
            patience_seconds=self.patience_seconds,
            sl_threshold_seconds=self.sl_threshold_seconds,
        )
        return replace(config, wrapup_seconds=self.wrap_up_seconds)

    def validate(self) -> None:
        """Raise ValueError for numbers no run can use."""
        self.model()
        for name in ("ring_seconds", "rona_recovery_seconds"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if not self.queue:
            raise ValueError("queue must not be empty")


def caller_number(index: int) -> str:
    """The k-th caller's number: fictional 555-01xx numbers only (docs/telephony.md §4)."""
    return f"213555{100 + index % 100:04d}"


@dataclass(slots=True, eq=False)
class LiveCall:
    """One call of the run, in simulated seconds.  ``index`` is -1 for a call the run did not post."""

    index: int
    ani: str
    arrived: float
    talk_seconds: float
    patience_seconds: float
    dialog_id: str = ""
    offer_key: tuple[str, str] | None = None
    ringing_agent: str | None = None
    answer_sent: bool = False
    answer_sent_at: float | None = None
    answered_at: float | None = None
    agent: str | None = None
    hung_up: bool = False
    abandoned_at: float | None = None
    done: bool = False

    @property
    def wait(self) -> float | None:
        return None if self.answered_at is None else self.answered_at - self.arrived


@dataclass(frozen=True, slots=True)
class RunSummary:
    """The figures of one load run.

    Waits run from posting a call to answering it (the ring time included), in simulated seconds; in live
    mode they include the event stream's latency multiplied by the speed.  ``service_level`` is answered
    within the threshold over answered plus abandoned calls (the "abandons negative" formula, telephony
    reference §2.3).
    """

    outcome: Outcome
    seed: int
    queue: str
    agents: tuple[str, ...]
    simulated_seconds: float
    calls_offered: int
    calls_answered: int
    calls_abandoned: int
    calls_unfinished: int
    other_calls: int
    asa_seconds: float | None
    max_wait_seconds: float | None
    service_level: float | None
    sl_threshold_seconds: float
    ronas: int
    errors: int
    calls_by_agent: dict[str, int] = field(default_factory=dict)
    last_error: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["agents"] = list(self.agents)
        return data


# --------------------------------------------------------------------------------------------------
# Getting agents ready
# --------------------------------------------------------------------------------------------------


class NoExtension(PhoneDriverError):
    """No extension left that the hub accepts for signing an agent in."""


async def prepare_agents(
    driver: PhoneDriver,
    agents: Sequence[str],
    extensions: Iterable[str],
    *,
    should_stop: Callable[[], bool] | None = None,
    touched: Callable[[str], None] | None = None,
) -> None:
    """Sign each agent in (unless it already is) on a free extension, clear any leftover call, make it READY.

    Extensions already in use by an agent the token can see are skipped; one the hub refuses (busy with
    someone else, offline) is passed over for the next.  ``touched`` hears of every agent as soon as the
    run has changed it, so a caller can sign those out again if something goes wrong later.
    """
    listed = await driver.list_agents()
    taken = {str(a["extension"]) for a in listed if a.get("extension") and a.get("state") != "LOGOUT"}
    free = [e for e in extensions if e not in taken]
    for agent in agents:
        if should_stop is not None and should_stop():
            return
        snapshot = await driver.agent(agent)
        if snapshot["state"] == "LOGOUT":
            tried: list[str] = []
            while snapshot["state"] == "LOGOUT" and free:
                extension = free.pop(0)
                tried.append(extension)
                snapshot = await driver.sign_in(agent, extension)
            if snapshot["state"] == "LOGOUT":
                detail = f"tried {', '.join(tried)}" if tried else "none left"
                raise NoExtension(f"no usable extension to sign {agent} in on ({detail})")
        if touched is not None:
            touched(agent)
        if snapshot["state"] in ("RESERVED", *ON_CALL_STATES):
            await driver.clear_calls(agent)  # left over from an earlier run
            snapshot = await driver.agent(agent)
        if snapshot["state"] in ("NOT_READY", *WRAP_UP_STATES):
            await driver.ready(agent)
            snapshot = await driver.agent(agent)
        # RESERVED is fine too: the hub may offer a waiting call the moment the agent is READY.
        if snapshot["state"] not in ("READY", "RESERVED"):
            raise PhoneDriverError(f"agent {agent} is {snapshot['state']} and could not be made READY")


# --------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------


def _reason_code(snapshot: Snapshot) -> int | None:
    block = snapshot.get("ReasonCode")
    code = block.get("code") if isinstance(block, dict) else None
    return code if isinstance(code, int) else None


class LoadRun:
    """One load run: a schedule of caller and agent actions, fed by the hub's events.

    Actions run one after another from a heap ordered by simulated time (ties in the order they were
    scheduled), so a run on a :class:`VirtualTimeline` is reproducible.  Events may arrive at any moment
    (live mode reads them from another task); they only update the run's view and schedule actions.
    """

    def __init__(
        self,
        driver: PhoneDriver,
        profile: LoadProfile,
        timeline: Timeline,
        agents: Sequence[str],
        *,
        stall_seconds: float | None = None,
        heartbeat_seconds: float = 30.0,
    ) -> None:
        config = profile.model()
        queue = config.queues[0]
        self.driver = driver
        self.profile = profile
        self.timeline = timeline
        self.agents: tuple[str, ...] = tuple(dict.fromkeys(agents))
        self._agent_set = frozenset(self.agents)
        seed = profile.seed
        self._arrivals = arrival_times(queue, stream(seed, f"arrivals/{queue.name}"))
        self._talk = handle_time_sampler(
            queue.aht_distribution,
            queue.aht_seconds - config.wrapup_seconds,
            queue.aht_cv,
            stream(seed, f"handle/{queue.name}"),
        )
        self._patience_rng = stream(seed, f"patience/{queue.name}")
        self.calls: list[LiveCall] = []
        self.others: list[LiveCall] = []
        self._by_dialog: dict[str, LiveCall] = {}
        self._heap: list[tuple[float, int, Action]] = []
        self._seq = itertools.count()
        self.wake = asyncio.Event()
        self._stopping = False
        self._arrivals_done = False
        self._posting = False
        self._unclaimed: dict[str, tuple[Snapshot, bool]] = {}
        self._extension_agent: dict[str, str] = {}
        self._seen_state: dict[str, tuple[str, str]] = {}
        self._wrap_episode: Counter[str] = Counter()
        self._progress_at = 0.0
        self.stall_seconds = (
            stall_seconds if stall_seconds is not None else max(10.0 * profile.aht_seconds, 3600.0)
        )
        self.heartbeat_seconds = heartbeat_seconds
        self.ronas = 0
        self.errors = 0
        self.last_error = ""
        self.outcome: Outcome = "running"

    # -- control --------------------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """Stop after the action in progress (Ctrl-C); :meth:`run` then returns as ``interrupted``."""
        self._stopping = True
        self.wake.set()

    async def run(self) -> RunSummary:
        self.driver.listeners.append(self._on_event)
        try:
            self.timeline.start()
            for agent in self.agents:
                extension = self.driver.extension_of(agent)
                if extension:
                    self._extension_agent[extension] = agent
            self._at(0.0, self._heartbeat)  # catches up with what happened before the run listened
            self._schedule_next_arrival()
            await self._loop()
        finally:
            self.driver.listeners.remove(self._on_event)
        return self.summary()

    async def wind_down(self, *, sign_out: bool) -> None:
        """Callers still waiting or ringing hang up, so nothing this run posted stays queued in the hub;
        with ``sign_out`` every agent also ends its call and signs out."""
        self._stopping = True
        for call in self.calls:
            if not call.done and call.answered_at is None and call.dialog_id:
                with contextlib.suppress(PhoneApiError, NoCall):
                    await self.driver.caller_hangs_up(call.dialog_id, call.ani)
        if sign_out:
            for agent in self.agents:
                with contextlib.suppress(PhoneApiError, NoCall):
                    await self.driver.sign_out(agent)

    async def _loop(self) -> None:
        while True:
            if self._stopping:
                self.outcome = "interrupted"
                return
            if self._arrivals_done:
                if self._finished():
                    self.outcome = "completed"
                    return
                if self.timeline.now() - self._progress_at > self.stall_seconds:
                    self.outcome = "stalled"
                    return
            await self.timeline.wait_until(self._heap[0][0], self.wake)
            if self._stopping or self._heap[0][0] > self.timeline.now():
                continue
            _, _, action = heapq.heappop(self._heap)
            try:
                await action()
            except PhoneApiError as exc:
                self._note_error(str(exc))
                if exc.status in (401, 403):
                    self.outcome = "failed"  # the token may no longer act: going on would only fail again
                    return
            except NoCall as exc:
                self._note_error(str(exc))
            await self.timeline.settle()

    def _finished(self) -> bool:
        if any(not c.done for c in self.calls) or any(not c.done for c in self.others):
            return False
        return not any(self.driver.state_of(a) in BUSY_STATES for a in self.agents)

    def _at(self, t: float, action: Action) -> None:
        heapq.heappush(self._heap, (t, next(self._seq), action))
        self.wake.set()

    def _after(self, delay: float, action: Action) -> None:
        self._at(self.timeline.now() + delay, action)

    def _progress(self) -> None:
        self._progress_at = self.timeline.now()

    def _note_error(self, message: str) -> None:
        self.errors += 1
        self.last_error = message

    # -- callers --------------------------------------------------------------------------------------------
    def _schedule_next_arrival(self) -> None:
        if self._stopping or self._arrivals_done:
            return
        index = len(self.calls)
        if self.profile.calls is not None and index >= self.profile.calls:
            self._arrivals_done = True
            return
        t = next(self._arrivals)
        if self.profile.hours is not None and t >= self.profile.hours * 3600.0:
            self._arrivals_done = True
            return
        self._at(t, functools.partial(self._arrive, index))

    async def _arrive(self, index: int) -> None:
        # Draw in arrival order, as the offline engine does, so the k-th caller is the same in both.
        patience = self.profile.patience_seconds
        drawn = math.inf if patience is None else self._patience_rng.expovariate(1.0 / patience)
        call = LiveCall(index, caller_number(index), self.timeline.now(), self._talk(), drawn)
        self.calls.append(call)
        self._progress()
        try:
            # The offer can be on the event stream before the POST answers with the dialog id: events of
            # unknown dialogs wait in _unclaimed until then.
            self._posting = True
            try:
                call.dialog_id = await self.driver.call(call.ani, self.profile.queue)
            finally:
                self._posting = False
        except PhoneDriverError:
            call.done = True  # never reached the hub; counted as an error by the loop
            self._schedule_next_arrival()
            self._claim_pending()
            raise
        self._by_dialog[call.dialog_id] = call
        self._claim_pending()
        if math.isfinite(drawn):
            self._after(drawn, functools.partial(self._abandon, call))
        self._schedule_next_arrival()

    def _claim_pending(self) -> None:
        pending, self._unclaimed = self._unclaimed, {}
        for snapshot, ended in pending.values():
            self._on_dialog(snapshot, ended)

    async def _abandon(self, call: LiveCall) -> None:
        if self._stopping or call.done or call.answered_at is not None or call.answer_sent:
            return
        try:
            await self.driver.caller_hangs_up(call.dialog_id, call.ani)
        except PhoneApiError as exc:
            if exc.status == 409:
                return  # answered or over a moment ago
            raise
        call.abandoned_at = self.timeline.now()
        call.done = True
        self._progress()

    # -- agents ---------------------------------------------------------------------------------------------
    async def _answer(self, call: LiveCall, offer: tuple[str, str]) -> None:
        agent = call.ringing_agent
        if self._stopping or call.done or call.offer_key != offer or call.answered_at is not None:
            return
        if agent is None:
            return
        call.answer_sent, call.answer_sent_at = True, self.timeline.now()
        await self.driver.answer(agent, call.dialog_id)

    async def _hang_up(self, call: LiveCall) -> None:
        if self._stopping or call.hung_up or call.agent is None:
            return
        call.hung_up = True
        await self.driver.hang_up(call.agent, call.dialog_id)

    async def _end_wrap_up(self, agent: str, episode: int) -> None:
        if self._stopping or self._wrap_episode[agent] != episode:
            return
        if self.driver.state_of(agent) in WRAP_UP_STATES:  # the hub's own timer may have ended it
            await self.driver.ready(agent)

    async def _recover(self, agent: str, entered: tuple[str, str]) -> None:
        if not self._stopping and self._seen_state.get(agent) == entered:
            await self.driver.ready(agent)

    async def _heartbeat(self) -> None:
        """Every ``heartbeat_seconds``: re-read the agents, in case an event went missing.

        An agent ringing or talking with no call of the run to show for it has its calls read too (at the
        start, a waiting call may have been offered while the agents were being made READY).  After a
        quiet spell the run's open calls are read as well.  Repeats until the run ends.
        """
        self._after(self.heartbeat_seconds, self._heartbeat)
        await self.driver.refresh_agents()
        known = {c.ringing_agent for c in self._by_dialog.values() if not c.done}
        known |= {c.agent for c in self._by_dialog.values() if not c.done}
        for agent in self.agents:
            snapshot = self.driver.agents.get(agent)
            if snapshot is None:
                continue
            self._on_agent(snapshot)
            if snapshot.get("state") in ("RESERVED", *ON_CALL_STATES) and agent not in known:
                for dialog in await self.driver.agent_dialogs(agent):
                    self._on_dialog(dialog, ended=False)
        if self.timeline.now() - self._progress_at < self.heartbeat_seconds:
            return
        for call in [c for c in (*self.calls, *self.others) if not c.done and c.dialog_id][:50]:
            try:
                snapshot = await self.driver.dialog(call.dialog_id)
            except PhoneApiError as exc:
                if exc.status != 404:
                    raise
                call.done = True
                continue
            self._on_dialog(snapshot, ended=False)

    # -- events ---------------------------------------------------------------------------------------------
    def _on_event(self, env: Envelope) -> None:
        if env.subject == AGENT_STATE_CHANGED:
            self._on_agent(env.data)
        elif env.subject == AGENT_ERROR:
            if env.data.get("agentId") in self._agent_set:
                self._note_error(f"{env.data.get('agentId')}: {env.data.get('errorMessage', '')}")
        elif is_dialog_event(env):
            dialog = env.data.get("dialog")
            if isinstance(dialog, dict):
                self._on_dialog(dialog, env.subject == DIALOG_ENDED)
        self.wake.set()

    def _on_agent(self, snapshot: Snapshot) -> None:
        agent = snapshot.get("loginId")
        if not isinstance(agent, str) or agent not in self._agent_set:
            return
        entered = (str(snapshot.get("state")), str(snapshot.get("stateChangeTime")))
        if self._seen_state.get(agent) == entered:
            return  # a duplicate, or a re-read of what an event already said
        self._seen_state[agent] = entered
        self._progress()
        extension = snapshot.get("extension")
        if extension:
            self._extension_agent[str(extension)] = agent
        state = entered[0]
        if state in WRAP_UP_STATES:
            self._wrap_episode[agent] += 1
            episode = self._wrap_episode[agent]
            self._after(self.profile.wrap_up_seconds, functools.partial(self._end_wrap_up, agent, episode))
        elif state == "NOT_READY" and _reason_code(snapshot) == RONA_REASON_CODE_CCE:
            self.ronas += 1
            self._after(self.profile.rona_recovery_seconds, functools.partial(self._recover, agent, entered))

    def _on_dialog(self, dialog: Snapshot, ended: bool) -> None:
        dialog_id = str(dialog.get("id", ""))
        call = self._by_dialog.get(dialog_id)
        if call is None:
            if self._posting:
                self._unclaimed[dialog_id] = (dialog, ended)
                return
            call = self._adopt(dialog)
            if call is None:
                return
        if call.done:
            return
        now = self.timeline.now()
        legs: list[Snapshot] = list(dialog.get("participants") or [])
        for leg in legs:
            if leg.get("mediaAddressType") != "AGENT_DEVICE":
                continue
            agent = self._extension_agent.get(str(leg.get("mediaAddress")))
            if agent is None:
                continue
            state = leg.get("state")
            if state == "ALERTING" and call.answered_at is None:
                offer = (str(leg.get("mediaAddress")), str(leg.get("startTime")))
                if offer != call.offer_key:  # a new offer (the first, or after a ring-no-answer)
                    call.offer_key, call.ringing_agent, call.answer_sent = offer, agent, False
                    self._progress()
                    self._after(self.profile.ring_seconds, functools.partial(self._answer, call, offer))
            elif state in ("ACTIVE", "HELD") and call.answered_at is None:
                # The hub answered when it accepted the request (it commits before its 202); the event
                # only reports it, later by the stream's latency.
                answered = (
                    call.answer_sent_at if call.answer_sent and call.answer_sent_at is not None else now
                )
                call.answered_at, call.agent, call.ringing_agent = answered, agent, None
                self._progress()
                self._after(call.talk_seconds, functools.partial(self._hang_up, call))
            elif state in ("WRAP_UP", "DROPPED") and call.answered_at is not None and agent == call.agent:
                call.done = True
                self._progress()
            elif state == "DROPPED" and call.answered_at is None and agent == call.ringing_agent:
                call.ringing_agent = None  # rang out (ring-no-answer): waiting in the queue again
        if not call.done and (ended or (legs and all(leg.get("state") == "DROPPED" for leg in legs))):
            call.done = True
            if call.answered_at is None:
                call.abandoned_at = now  # the caller went before anyone answered
            self._progress()

    def _adopt(self, dialog: Snapshot) -> LiveCall | None:
        """Take on a call the run did not post once it rings at one of the run's agents."""
        if self._stopping:
            return None
        legs: list[Snapshot] = list(dialog.get("participants") or [])
        if not any(
            leg.get("mediaAddressType") == "AGENT_DEVICE"
            and leg.get("state") == "ALERTING"
            and str(leg.get("mediaAddress")) in self._extension_agent
            for leg in legs
        ):
            return None
        customers = [str(leg["mediaAddress"]) for leg in legs if leg.get("mediaAddressType") == "CUSTOMER"]
        call = LiveCall(
            -1,
            customers[0] if customers else str(dialog.get("fromAddress", "")),
            self.timeline.now(),
            self.profile.aht_seconds
            - self.profile.wrap_up_seconds,  # no stream draw: keeps the seed's callers
            math.inf,
            dialog_id=str(dialog.get("id", "")),
        )
        self.others.append(call)
        self._by_dialog[call.dialog_id] = call
        return call

    # -- figures --------------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Counts for a live display: calls by fate and the run's agents by state."""
        calls = self.calls
        answered = sum(1 for c in calls if c.answered_at is not None)
        abandoned = sum(1 for c in calls if c.abandoned_at is not None)
        ringing = sum(1 for c in calls if not c.done and c.answered_at is None and c.ringing_agent)
        waiting = sum(1 for c in calls if not c.done and c.answered_at is None and not c.ringing_agent)
        return {
            "simulated_seconds": self.timeline.now(),
            "offered": len(calls),
            "answered": answered,
            "abandoned": abandoned,
            "waiting": waiting,
            "ringing": ringing,
            "other_calls": len(self.others),
            "agents": Counter(self.driver.state_of(a) for a in self.agents),
            "ronas": self.ronas,
            "errors": self.errors,
            "last_error": self.last_error,
        }

    def summary(self) -> RunSummary:
        calls = [c for c in self.calls if c.dialog_id]
        waits = [c.wait for c in calls if c.wait is not None]
        abandoned = sum(1 for c in calls if c.abandoned_at is not None)
        threshold = self.profile.sl_threshold_seconds
        events = len(waits) + abandoned
        by_agent = Counter(c.agent for c in calls if c.agent is not None and c.answered_at is not None)
        return RunSummary(
            outcome=self.outcome,
            seed=self.profile.seed,
            queue=self.profile.queue,
            agents=self.agents,
            simulated_seconds=self.timeline.now(),
            calls_offered=len(calls),
            calls_answered=len(waits),
            calls_abandoned=abandoned,
            calls_unfinished=sum(1 for c in calls if not c.done),
            other_calls=len(self.others),
            asa_seconds=sum(waits) / len(waits) if waits else None,
            max_wait_seconds=max(waits) if waits else None,
            service_level=sum(1 for w in waits if w <= threshold) / events if events else None,
            sl_threshold_seconds=threshold,
            ronas=self.ronas,
            errors=self.errors,
            calls_by_agent={a: by_agent.get(a, 0) for a in self.agents},
            last_error=self.last_error,
        )
