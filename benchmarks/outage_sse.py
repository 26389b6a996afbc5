"""Outage broadcast over real sockets: 1,000 SSE connections to a granian-served hub, p99 delivery latency.

The in-process ``outage`` row measures the fan-out alone. This one measures what a CSR's browser sees: a lead
``POST``s a declaration to ``/api/outage/outages`` and the clock runs until each of 1,000 open
``GET /api/outage/stream`` connections has received the ``declared`` frame — the guard, validation, the
database write with its audit record and outbox row, the relay, the bus, the hub's streams, the SSE encoding
and the socket writes are all inside the figure. The baseline is ``benchmarks.sse_app`` on the same server
software: one ``POST /publish`` fanned out to 1,000 streams with nothing in between.

Both sides are driven by the same client: one asyncio loop in this process holding every connection, so
the client's own cost is in both figures alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.loadgen import HOST
from benchmarks.procs import GranianServer, child_env, scratch_dir
from benchmarks.registry import Result, RunOptions, benchmark, meets, percentile, ratio

GOAL_P99_MS = 250.0
SUBSCRIBERS = 1000
SECTION = "customer-service-center"
MARKER = b"event: declared"
READY = b"event: snapshot"


@dataclass(slots=True)
class _Subscriber(asyncio.Protocol):
    """One SSE connection: notes when its first frame (the snapshot) and each declaration arrive."""

    request: bytes
    ready: asyncio.Future[None]
    expected: int
    complete: asyncio.Future[None]
    arrivals: list[float] = field(default_factory=list)
    tail: bytes = b""
    transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = asyncio.get_running_loop().time()
        # Keep a few bytes of the previous read so a marker split across two reads is still counted once.
        window = self.tail + data
        found = window.count(MARKER) - self.tail.count(MARKER)
        self.arrivals.extend([now] * found)
        if not self.ready.done() and READY in window:
            self.ready.set_result(None)
        if len(self.arrivals) >= self.expected and not self.complete.done():
            self.complete.set_result(None)
        self.tail = window[-(len(MARKER) - 1) :]

    def connection_lost(self, exc: Exception | None) -> None:
        for waiting in (self.ready, self.complete):
            if not waiting.done():
                waiting.set_exception(ConnectionError(f"stream closed early: {exc}"))


async def _post(port: int, path: str, headers: dict[str, str], body: bytes) -> int:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n{head}\r\n".encode()
            + body
        )
        await writer.drain()
        status_line = await reader.readline()
        return int(status_line.split()[1])
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def _drive(
    port: int,
    stream_path: str,
    stream_headers: dict[str, str],
    post_path: str,
    post_headers: dict[str, str],
    bodies: list[bytes],
    gap_s: float,
) -> list[list[float]]:
    """Open every stream, then post each body ``gap_s`` apart; per body, each stream's latency."""
    loop = asyncio.get_running_loop()
    head = "".join(f"{k}: {v}\r\n" for k, v in stream_headers.items())
    request = (
        f"GET {stream_path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: text/event-stream\r\n{head}\r\n"
    ).encode()
    subs: list[_Subscriber] = []
    # Connect in batches: a thousand SYNs at once overflow the listen backlog and cost retransmit seconds.
    for start in range(0, SUBSCRIBERS, 100):
        batch = [
            _Subscriber(request, loop.create_future(), len(bodies), loop.create_future())
            for _ in range(start, min(start + 100, SUBSCRIBERS))
        ]
        for sub in batch:
            await loop.create_connection(lambda s=sub: s, HOST, port)  # type: ignore[misc]
        await asyncio.wait_for(asyncio.gather(*(s.ready for s in batch)), timeout=30)
        subs.extend(batch)
    try:
        sent: list[float] = []
        for body in bodies:
            sent.append(loop.time())
            status = await _post(port, post_path, post_headers, body)
            if status not in (200, 201):
                raise RuntimeError(f"POST {post_path} answered {status}")
            await asyncio.sleep(gap_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(s.complete for s in subs)), timeout=10)
        missing = sum(max(0, len(bodies) - len(s.arrivals)) for s in subs)
        if missing:
            raise RuntimeError(f"{missing} declarations never reached their stream")
        return [[s.arrivals[i] - sent[i] for s in subs] for i in range(len(bodies))]
    finally:
        for s in subs:
            if s.transport is not None:
                s.transport.close()


async def _prepare_hub(url: str, secret: str) -> tuple[str, str]:
    """A lead and a CSR with API tokens, and the outage plugin enabled for their section."""
    import msgspec

    from core.hub import Hub
    from core.sections import set_enabled
    from core.settings import Settings

    hub = Hub(msgspec.convert({"database_url": url, "secret_key": secret}, Settings))
    await hub.start()
    try:
        async with hub.db.session() as session:
            _, lead = await hub.staff.add_user(
                session,
                name="bench.lead",
                role="lead",
                sections=[SECTION],
                password=None,
                actor="system:bench",
            )
            _, csr = await hub.staff.add_user(
                session, name="bench.csr", role="csr", sections=[SECTION], password=None, actor="system:bench"
            )
            await set_enabled(
                session,
                hub.events,
                hub.audit,
                plugin_id="outage",
                section=SECTION,
                enabled=True,
                actor="system:bench",
            )
        return lead, csr
    finally:
        await hub.stop()


def _declaration(i: int) -> bytes:
    return json.dumps(
        {"utility": "electric", "cause": f"Bench transformer {i}", "service_areas": ["MET"]}
    ).encode()


@benchmark("outage-sse", order=61)
def outage_sse(opts: RunOptions) -> Result:
    """Outage declaration to 1,000 SSE connections over real sockets: p99 vs a bare Litestar fan-out."""
    from core.migrate import upgrade

    messages = 5 if opts.quick else 20
    gap_s = 0.25
    with scratch_dir("outage-sse") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'hub.db'}"
        secret = secrets.token_urlsafe(32)
        opts.progress("migrating a temporary SQLite database; a lead, a CSR, the plugin enabled")
        upgrade(url)
        lead, csr = asyncio.run(_prepare_hub(url, secret))
        bodies = [_declaration(i) for i in range(messages)]

        opts.progress(f"baseline: {SUBSCRIBERS:,} streams from a bare Litestar app, {messages} posts")
        with GranianServer("benchmarks.sse_app:app", env=child_env(), cwd=tmp, label="sse-bare") as bare:
            base = asyncio.run(_drive(bare.port, "/stream", {}, "/publish", {}, bodies, gap_s))

        opts.progress(f"hub: {SUBSCRIBERS:,} streams on /api/outage/stream, {messages} declarations")
        env = child_env({"HUB_DATABASE_URL": url, "HUB_SECRET_KEY": secret})
        with GranianServer("core.asgi:app", env=env, cwd=tmp, label="sse-hub") as hub:
            ours = asyncio.run(
                _drive(
                    hub.port,
                    "/api/outage/stream",
                    {"Authorization": f"Bearer {csr}"},
                    "/api/outage/outages",
                    {"Authorization": f"Bearer {lead}"},
                    bodies,
                    gap_s,
                )
            )
    # Per declaration, the slowest 1% of its 1,000 deliveries: shows whether one slow declaration (say the
    # first, on a cold process) or all of them make the overall p99.
    per_message = [round(percentile(m, 99) * 1000, 1) for m in ours]
    ours_ms = percentile([x for m in ours for x in m], 99) * 1000
    base_ms = percentile([x for m in base for x in m], 99) * 1000
    flat = [x for m in ours for x in m]
    return Result(
        name="outage declaration p99 to 1,000 SSE sockets",
        baseline_label="bare Litestar SSE fan-out",
        value=ours_ms,
        baseline_value=base_ms,
        unit="ms",
        goal="p99 <= 250 ms",
        ratio=ratio(ours_ms, base_ms),
        notes=(
            f"{messages} declarations {gap_s * 1000:.0f} ms apart; from the lead's POST to each frame on"
            " its socket; granian, 1 worker, SQLite; client is one asyncio loop on the same machine"
        ),
        met=meets(ours_ms, "<=", GOAL_P99_MS),
        details={
            "subscribers": SUBSCRIBERS,
            "messages": messages,
            "p50_ms": percentile(flat, 50) * 1000,
            "baseline_p50_ms": percentile([x for m in base for x in m], 50) * 1000,
            "per_declaration_p99_ms": per_message,
        },
    )
