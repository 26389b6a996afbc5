"""In-memory bus: publish → handler throughput of ``MemoryBus`` against a bare ``asyncio.Queue`` loop.

The baseline is the floor the bus is built on: one queue, one worker task awaiting the same trivial handler.
What the bus adds on top is subject routing (cached per subject), the per-subscription error isolation and
its counters, so the ratio shows what that bookkeeping costs per event.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import time
from collections.abc import Callable, Coroutine
from typing import Any

from benchmarks.registry import Result, RunOptions, benchmark, median, meets, ratio
from core.bus import Envelope, MemoryBus, make_envelope

SUBJECT = "hub.bench.event"
GOAL_EVENTS_PER_S = 100_000


async def _handler(_env: Envelope) -> None:
    """The trivial handler both sides await: no work, so only delivery is measured."""
    return None


def _envelopes(n: int) -> list[Envelope]:
    # Built before timing; distinct envelopes (own ids) like real traffic, sharing one small payload.
    at = dt.datetime.now(dt.UTC)
    data = {"n": 1}
    return [make_envelope(SUBJECT, data, source="bench", actor="system", occurred_at=at) for _ in range(n)]


async def _through_bus(envelopes: list[Envelope]) -> float:
    bus = MemoryBus()
    await bus.start()
    sub = await bus.subscribe(SUBJECT, _handler)
    try:
        started = time.perf_counter()
        for env in envelopes:
            await bus.publish(env)
        await bus.drain(timeout=120)
        elapsed = time.perf_counter() - started
    finally:
        await bus.close()
    if sub.delivered != len(envelopes):
        raise RuntimeError(f"bus delivered {sub.delivered} of {len(envelopes)}")
    return elapsed


async def _through_queue(envelopes: list[Envelope]) -> float:
    queue: asyncio.Queue[Envelope] = asyncio.Queue()
    delivered = 0

    async def worker() -> None:
        nonlocal delivered
        while True:
            env = await queue.get()
            await _handler(env)
            delivered += 1
            queue.task_done()

    task = asyncio.get_running_loop().create_task(worker())
    try:
        started = time.perf_counter()
        for env in envelopes:
            queue.put_nowait(env)
        async with asyncio.timeout(120):
            await queue.join()
        elapsed = time.perf_counter() - started
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    if delivered != len(envelopes):
        raise RuntimeError(f"queue delivered {delivered} of {len(envelopes)}")
    return elapsed


def _timed(fn: Callable[[list[Envelope]], Coroutine[Any, Any, float]], envelopes: list[Envelope]) -> float:
    # A fresh loop per trial and no leftover garbage, so neither side inherits the other's state.
    gc.collect()
    return asyncio.run(fn(envelopes))


@benchmark("bus", order=20)
def bus_throughput(opts: RunOptions) -> Result:
    """MemoryBus publish→handler events/s vs a raw asyncio.Queue loop with the same handler."""
    n = 50_000 if opts.quick else 200_000
    trials = 1 if opts.quick else 3
    opts.progress(f"building {n:,} envelopes")
    envelopes = _envelopes(n)
    bus_times: list[float] = []
    queue_times: list[float] = []
    for i in range(trials):
        # Alternate which side goes first so neither always runs on a warmer (or more fragmented) heap.
        order = [("queue", _through_queue), ("bus", _through_bus)]
        if i % 2:
            order.reverse()
        for label, fn in order:
            elapsed = _timed(fn, envelopes)
            (bus_times if label == "bus" else queue_times).append(elapsed)
            opts.progress(f"trial {i + 1}/{trials} {label}: {n / elapsed:,.0f} events/s")
    bus_rate = n / median(bus_times)
    queue_rate = n / median(queue_times)
    return Result(
        name="bus MemoryBus publish→handler",
        baseline_label="raw asyncio.Queue",
        value=bus_rate,
        baseline_value=queue_rate,
        unit="events/s",
        goal=">= 100k events/s",
        ratio=ratio(bus_rate, queue_rate),
        notes=f"{n:,} pre-built envelopes, publish all then drain; median of {trials}",
        met=meets(bus_rate, ">=", GOAL_EVENTS_PER_S),
        details={"events": n, "bus_seconds": bus_times, "queue_seconds": queue_times},
    )
