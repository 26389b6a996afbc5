"""A closed-loop HTTP/1.1 keep-alive load generator, run in its own process.

Closed loop: each of ``connections`` keep-alive connections sends the next request only when the previous
response is complete, so throughput and latency are both meaningful. The client is an ``asyncio.Protocol``
(callbacks, no coroutine or client object per request) sending one pre-built request, because in Python the
generator's own per-request cost is easily larger than the server's; it runs in a child process so it never
competes for the server's GIL, only for CPU.

When the ``wrk`` tool is installed it is preferred (lower overhead still); :func:`make_driver` picks.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import multiprocessing
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol

HOST = "127.0.0.1"
_HEADER_END = b"\r\n\r\n"
_CONTENT_LENGTH = b"\r\ncontent-length:"


class ResponseError(ValueError):
    """The bytes are not a response this generator can frame (e.g. chunked, or no Content-Length)."""


def parse_response(buf: bytes | bytearray, start: int = 0) -> tuple[int, int, int] | None:
    """Frame the first HTTP/1.1 response in ``buf[start:]``.

    Returns ``(status, body_start, end)`` as offsets into ``buf`` once the whole response (headers and
    ``Content-Length`` body) is present, or None while more bytes are needed. Chunked bodies and bodies
    delimited by connection close are rejected: the servers measured here always send a length.
    """
    head_end = buf.find(_HEADER_END, start)
    if head_end < 0:
        return None
    if buf[start : start + 5] != b"HTTP/":
        raise ResponseError("response does not start with HTTP/")
    try:
        status = int(buf[start + 9 : start + 12])
    except ValueError:
        raise ResponseError("malformed status line") from None
    # Fast path: servers here send lower-case names, so no copy is made for the common case.
    pos = buf.find(_CONTENT_LENGTH, start, head_end + 2)
    if pos < 0:
        head = bytes(buf[start:head_end]).lower()
        rel = head.find(_CONTENT_LENGTH)
        if rel < 0:
            if status in (204, 304) or 100 <= status < 200:
                return status, head_end + 4, head_end + 4
            if b"\r\ntransfer-encoding:" in head:
                raise ResponseError("chunked responses are not supported")
            raise ResponseError("response without Content-Length")
        pos = start + rel
    value_start = pos + len(_CONTENT_LENGTH)
    value_end = buf.find(b"\r\n", value_start, head_end + 2)
    if value_end < 0:
        value_end = head_end
    try:
        length = int(buf[value_start:value_end])
    except ValueError:
        raise ResponseError("malformed Content-Length") from None
    body_start = head_end + 4
    end = body_start + length
    if len(buf) < end:
        return None
    return status, body_start, end


def build_request(port: int, path: str) -> bytes:
    """The one request every connection sends, built once."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Agent: ccbhub-bench\r\nAccept: */*\r\n\r\n"
    ).encode("ascii")


@dataclass(slots=True)
class LoadStats:
    """What one measured window produced. Latencies are in seconds, one per counted response."""

    requests: int
    seconds: float
    non_200: int = 0
    errors: int = 0
    latencies: array.array[float] = field(default_factory=lambda: array.array("d"))
    p50_s: float | None = None
    p99_s: float | None = None
    # The generator's own CPU use over the window, as a share of one core: near 1.0 means the generator,
    # not the server, set the pace and the figures understate the server.
    client_cpu: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class LoadJob:
    port: int
    path: str
    connections: int
    settle_s: float
    duration_s: float


# -- the Python generator (child process) ---------------------------------------------------------------


class _Window:
    """Shared by all connections of one run: when counting starts and stops, and what was counted."""

    __slots__ = ("count", "end", "errors", "latencies", "non_200", "start", "stopping")

    def __init__(self) -> None:
        self.start = float("inf")
        self.end = float("inf")
        self.stopping = False
        self.count = 0
        self.non_200 = 0
        self.errors = 0
        self.latencies: array.array[float] = array.array("d")


class _Client(asyncio.Protocol):
    """One keep-alive connection: send, frame the response, count it if inside the window, send again."""

    def __init__(self, request: bytes, window: _Window) -> None:
        self.request = request
        self.window = window
        self.buf = bytearray()
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.sent_at = time.perf_counter()
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        try:
            parsed = parse_response(buf)
        except ResponseError:
            self.window.errors += 1
            self._close()
            return
        if parsed is None:
            return
        status, _, end = parsed
        del buf[:end]
        now = time.perf_counter()
        w = self.window
        if w.start <= now < w.end:
            w.count += 1
            w.latencies.append(now - self.sent_at)
            if status != 200:
                w.non_200 += 1
        if w.stopping or now >= w.end:
            self._close()
            return
        self.sent_at = now
        assert self.transport is not None
        self.transport.write(self.request)

    def _close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.window.stopping and time.perf_counter() < self.window.end:
            self.window.errors += 1
        if not self.closed.done():
            self.closed.set_result(None)


async def _drive(job: LoadJob) -> LoadStats:
    loop = asyncio.get_running_loop()
    window = _Window()
    request = build_request(job.port, job.path)
    clients: list[_Client] = []
    for _ in range(job.connections):
        _, client = await loop.create_connection(lambda: _Client(request, window), HOST, job.port)
        clients.append(client)
    # Count only after every connection is open and the settle period has passed.
    window.start = time.perf_counter() + job.settle_s
    window.end = window.start + job.duration_s
    await asyncio.sleep(job.settle_s)
    cpu_started = time.process_time()
    await asyncio.sleep(window.end - time.perf_counter())
    client_cpu = (time.process_time() - cpu_started) / job.duration_s
    window.stopping = True
    for c in clients:
        c._close()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(5):
            await asyncio.gather(*(c.closed for c in clients))
    return LoadStats(
        requests=window.count,
        seconds=job.duration_s,
        non_200=window.non_200,
        errors=window.errors,
        latencies=window.latencies,
        client_cpu=client_cpu,
    )


def _child(conn: Connection) -> None:
    """The load process: run each job it is sent until it receives None."""
    while True:
        job = conn.recv()
        if job is None:
            return
        try:
            conn.send(("ok", asyncio.run(_drive(job))))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class Driver(Protocol):
    name: str

    def run(self, job: LoadJob) -> LoadStats: ...

    def close(self) -> None: ...


class PythonDriver:
    """Runs jobs in one long-lived child process (spawned, so it inherits no server state or threads)."""

    name = "built-in asyncio load generator (separate process)"

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe()
        self._proc = ctx.Process(target=_child, args=(child_conn,), name="ccbhub-bench-load", daemon=True)
        self._proc.start()
        child_conn.close()

    def run(self, job: LoadJob) -> LoadStats:
        self._conn.send(job)
        # Bounded: a wedged server must not hang the whole run.
        if not self._conn.poll(job.settle_s + job.duration_s + 30):
            self.close()
            raise TimeoutError("the load generator did not report back")
        try:
            kind, payload = self._conn.recv()
        except (EOFError, OSError) as exc:
            self.close()
            raise RuntimeError(f"the load generator process died ({type(exc).__name__})") from None
        if kind != "ok":
            raise RuntimeError(f"load generator failed: {payload}")
        stats: LoadStats = payload
        return stats

    def close(self) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self._conn.send(None)
        self._proc.join(5)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)
        self._conn.close()


# -- wrk, when installed -----------------------------------------------------------------------------------

_WRK_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}
_WRK_LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_WRK_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", re.MULTILINE)
_WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s*(\d+)")
_WRK_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def parse_wrk(output: str) -> LoadStats:
    """Read totals and the 50 %/99 % latencies from ``wrk --latency`` output."""
    total = _WRK_TOTAL.search(output)
    if total is None:
        raise ValueError("no request total in wrk output")
    stats = LoadStats(
        requests=int(total.group(1)), seconds=float(total.group(2)) * _WRK_UNITS[total.group(3)]
    )
    for m in _WRK_LATENCY.finditer(output):
        value = float(m.group(2)) * _WRK_UNITS[m.group(3)]
        if m.group(1) == "50":
            stats.p50_s = value
        else:
            stats.p99_s = value
    if (m2 := _WRK_NON2XX.search(output)) is not None:
        stats.non_200 = int(m2.group(1))
    if (m3 := _WRK_ERRORS.search(output)) is not None:
        stats.errors = sum(int(g) for g in m3.groups())
    return stats


class WrkDriver:
    """Drives ``wrk`` with one thread (the server needs the other cores more than the generator does)."""

    name = "wrk (found on PATH), 1 thread"

    def __init__(self, executable: str) -> None:
        self.executable = executable

    def run(self, job: LoadJob) -> LoadStats:
        url = f"http://{HOST}:{job.port}{job.path}"
        if job.settle_s > 0:
            # wrk has no warm-up window: a short unmeasured run plays that part.
            self._wrk(url, job.connections, job.settle_s)
        return parse_wrk(self._wrk(url, job.connections, job.duration_s))

    def _wrk(self, url: str, connections: int, seconds: float) -> str:
        cmd = [self.executable, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", url]
        done = subprocess.run(cmd, capture_output=True, timeout=seconds + 30, check=True)
        return done.stdout.decode(errors="replace")

    def close(self) -> None:
        return None


def make_driver(*, prefer_builtin: bool = False) -> Driver:
    exe = None if prefer_builtin else shutil.which("wrk")
    if exe is not None:
        return WrkDriver(exe)
    return PythonDriver()


def describe_job(job: LoadJob) -> dict[str, Any]:
    return {"connections": job.connections, "settle_s": job.settle_s, "duration_s": job.duration_s}
