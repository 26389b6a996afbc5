"""Outage broadcast: p99 delivery latency to 1,000 live subscribers, against a bare asyncio fan-out.

Our side is the hub's :class:`~core.contract.streams.Streams` (what the outage plugin publishes its banner
to) with 1,000 subscribers on the banner channel, each reading through the stream route's ``sse`` generator,
which encodes every message as a server-sent event frame. The baseline is the floor
underneath: a plain list of ``asyncio.Queue`` objects filled in a loop, each drained by a task that does
nothing but note the time. Latency runs from ``publish`` to the moment a subscriber holds the encoded frame.
In-process only: the socket writes of real connections are not in either figure.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine
from typing import Any

from benchmarks.registry import Result, RunOptions, benchmark, meets, percentile, ratio
from core.contract.streams import Message, Streams
from plugins.outage.events import BANNER_CHANNEL

GOAL_P99_MS = 250.0
BANNER = (
    '<div class="outage-banner" role="status"><ul><li>Electric outage #1 in service area MET</li></ul></div>'
)


async def _through_streams(subscribers: int, messages: int, gap_s: float) -> list[float]:
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    # Publish times by message number: each subscriber's k-th message is the k-th published (the backlog
    # holds more than ``messages``, so none is dropped).
    published: list[float] = []
    ready = asyncio.Event()
    joined = 0

    async def opening() -> list[Message]:
        # Called once the stream's subscription is open: publishing starts when every stream has one.
        nonlocal joined
        joined += 1
        if joined == subscribers:
            ready.set()
        return []

    async def stream(streams: Streams) -> None:
        received = 0
        async for frame in streams.sse(BANNER_CHANNEL, first=opening, limit=messages, keepalive_s=60):
            frame.encode()
            latencies.append(loop.time() - published[received])
            received += 1

    async with Streams(backlog=64) as streams:
        tasks = [loop.create_task(stream(streams)) for _ in range(subscribers)]
        await ready.wait()
        for _ in range(messages):
            published.append(loop.time())
            streams.publish(BANNER_CHANNEL, "banner", BANNER)
            await asyncio.sleep(gap_s)
        await asyncio.gather(*tasks)
    return latencies


async def _through_queues(subscribers: int, messages: int, gap_s: float) -> list[float]:
    loop = asyncio.get_running_loop()
    queues: list[asyncio.Queue[float]] = [asyncio.Queue() for _ in range(subscribers)]
    latencies: list[float] = []

    async def reader(queue: asyncio.Queue[float]) -> None:
        for _ in range(messages):
            sent = await queue.get()
            latencies.append(loop.time() - sent)

    tasks = [loop.create_task(reader(q)) for q in queues]
    await asyncio.sleep(0)  # let every reader reach its first get()
    for _ in range(messages):
        now = loop.time()
        for queue in queues:
            queue.put_nowait(now)
        await asyncio.sleep(gap_s)
    await asyncio.gather(*tasks)
    return latencies


def _run(fn: Callable[[int, int, float], Coroutine[Any, Any, list[float]]], n: int, k: int) -> list[float]:
    gc.collect()
    return asyncio.run(fn(n, k, 0.02))


@benchmark("outage", order=60)
def outage_fanout(opts: RunOptions) -> Result:
    """Outage broadcast to 1,000 SSE subscribers: p99 delivery latency vs a bare asyncio fan-out."""
    subscribers = 1000
    messages = 10 if opts.quick else 50
    opts.progress(f"{messages} messages to {subscribers:,} subscribers, baseline first")
    base = _run(_through_queues, subscribers, messages)
    ours = _run(_through_streams, subscribers, messages)
    if len(ours) != subscribers * messages or len(base) != subscribers * messages:
        raise RuntimeError("a subscriber missed a message")
    ours_ms = percentile(ours, 99) * 1000
    base_ms = percentile(base, 99) * 1000
    return Result(
        name="outage broadcast p99 to 1,000 SSE subscribers",
        baseline_label="bare asyncio queue fan-out",
        value=ours_ms,
        baseline_value=base_ms,
        unit="ms",
        goal="p99 <= 250 ms",
        ratio=ratio(ours_ms, base_ms),
        notes=f"{messages} messages 20 ms apart, in-process, SSE frames encoded; no sockets",
        met=meets(ours_ms, "<=", GOAL_P99_MS),
        details={"subscribers": subscribers, "messages": messages, "p50_ms": percentile(ours, 50) * 1000},
    )
