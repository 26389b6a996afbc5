"""Closed-loop load with request headers, for routes behind the bearer guard and the contact check.

The shared generator (``benchmarks.loadgen``) sends a fixed header-less GET; the account summary needs
``Authorization`` and ``X-Contact-Id``. This reuses its connection protocol and counting window as they are
and only builds a different request, in the same kind of spawned child process, so both generators cost
the same per request and figures stay comparable with the other HTTP benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection

from benchmarks.loadgen import HOST, LoadJob, LoadStats, _Client, _Window


def build_request(port: int, path: str, headers: Mapping[str, str]) -> bytes:
    """One GET with the given extra headers, built once and sent over and over."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}:{port}", "User-Agent: ccbhub-bench", "Accept: */*"]
    for name, value in headers.items():
        if "\r" in name or "\n" in name or "\r" in value or "\n" in value:
            raise ValueError(f"header {name!r} contains a line break")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


@dataclass(frozen=True, slots=True)
class HeaderJob:
    job: LoadJob
    headers: tuple[tuple[str, str], ...]


async def _drive(hjob: HeaderJob) -> LoadStats:
    job = hjob.job
    loop = asyncio.get_running_loop()
    window = _Window()
    request = build_request(job.port, job.path, dict(hjob.headers))
    clients: list[_Client] = []
    for _ in range(job.connections):
        _, client = await loop.create_connection(lambda: _Client(request, window), HOST, job.port)
        clients.append(client)
    window.start = time.perf_counter() + job.settle_s
    window.end = window.start + job.duration_s
    await asyncio.sleep(job.settle_s)
    cpu_started = time.process_time()
    await asyncio.sleep(max(0.0, window.end - time.perf_counter()))
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
    while True:
        hjob = conn.recv()
        if hjob is None:
            return
        try:
            conn.send(("ok", asyncio.run(_drive(hjob))))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class HeaderDriver:
    """Runs header-carrying jobs in one long-lived spawned child; bounded waits, like the shared driver."""

    name = "built-in asyncio load generator with auth headers (separate process)"

    def __init__(self, headers: Mapping[str, str]) -> None:
        self.headers = tuple(headers.items())
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe()
        self._proc = ctx.Process(target=_child, args=(child_conn,), name="ccbhub-bench-ccb-load", daemon=True)
        self._proc.start()
        child_conn.close()

    def run(self, job: LoadJob) -> LoadStats:
        self._conn.send(HeaderJob(job, self.headers))
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
