"""Outage broadcast: p99 delivery latency to 1,000 live subscribers, against a bare asyncio fan-out.

Our side is the plugin's own :class:`~plugins.outage.events.Broadcaster` with 1,000 subscribers, each
encoding every message as a server-sent event frame the way the stream route does. The baseline is the floor
underneath: a plain list of ``asyncio.Queue`` objects filled in a loop, each drained by a task that does
nothing but note the time. Latency runs from ``publish`` to the moment a subscriber holds the encoded frame.
In-process only: the socket writes of real connections are not in either figure.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine
from typing import Any

from litestar.response import ServerSentEventMessage

from benchmarks.registry import Result, RunOptions, benchmark, meets, percentile, ratio
from plugins.outage.events import Broadcaster, Notice

GOAL_P99_MS = 250.0
DATA = '{"subject":"hub.outage.declared","outage_id":1,"utility":"electric","cause":"Transformer failure"}'
BANNER = (
    '<div class="outage-banner" role="status"><ul><li>Electric outage #1 in service area MET</li></ul></div>'
)


async def _through_broadcaster(subscribers: int, messages: int, gap_s: float) -> list[float]:
    loop = asyncio.get_running_loop()
    hub = Broadcaster(queue_size=64)
    latencies: list[float] = []
    ready = asyncio.Event()
    joined = 0

    async def stream() -> None:
        nonlocal joined
        async with hub.subscribe() as sub:
            joined += 1
            if joined == subscribers:
                ready.set()
            for _ in range(messages):
                notice = await sub.queue.get()
                ServerSentEventMessage(event=notice.event, data=notice.banner).encode()
                latencies.append(loop.time() - notice.published_at)

    tasks = [loop.create_task(stream()) for _ in range(subscribers)]
    await ready.wait()
    for _ in range(messages):
        hub.publish(Notice(event="declared", data=DATA, banner=BANNER, published_at=loop.time()))
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
    ours = _run(_through_broadcaster, subscribers, messages)
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
