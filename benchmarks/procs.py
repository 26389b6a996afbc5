"""Process and environment plumbing shared by benchmarks: temp databases, child env, granian servers.

Everything here cleans up after itself (context managers with ``finally``), binds and connects to
127.0.0.1 only, and waits with a deadline, so a broken server costs a bounded amount of time.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from benchmarks.loadgen import HOST, parse_response

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A port the kernel just considered free on 127.0.0.1 (tiny race with other processes; fine here)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment minus HUB_*/GRANIAN_* settings, so a developer's shell can't skew a run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "GRANIAN_"))}
    # The bare app lives in this package, which is not installed: make it importable from any cwd.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"ccbhub-bench-{prefix}-") as tmp:
        yield Path(tmp)


def migrated_sqlite(folder: Path) -> dict[str, str]:
    """Create and migrate a SQLite database in ``folder``; return the HUB_* variables a hub process needs."""
    from core.migrate import upgrade

    url = f"sqlite+aiosqlite:///{folder / 'hub.db'}"
    upgrade(url)
    return {"HUB_DATABASE_URL": url, "HUB_SECRET_KEY": secrets.token_urlsafe(32)}


def http_get(port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """One blocking GET with ``Connection: close``; returns (status, body). For checks, not for load."""
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode()
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(request)
        buf = bytearray()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            parsed = parse_response(buf)
            if parsed is not None:
                status, body_start, end = parsed
                return status, bytes(buf[body_start:end])
    raise ConnectionError(f"no complete response from {HOST}:{port}{path}")


class GranianServer:
    """``granian --interface asgi --workers 1`` serving ``target`` on a free 127.0.0.1 port.

    Started in its own session so that the worker processes granian forks can be stopped as one process
    group (by the leader's id) should the graceful stop time out.
    """

    def __init__(
        self, target: str, *, env: Mapping[str, str], cwd: Path, label: str, ready_path: str = "/health/live"
    ) -> None:
        self.target = target
        self.ready_path = ready_path
        self.env = dict(env)
        self.cwd = cwd
        self.label = label
        self.port = free_port()
        self.log_path = cwd / f"{label}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> GranianServer:
        cmd = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--workers",
            "1",
            "--host",
            HOST,
            "--port",
            str(self.port),
            self.target,
        ]
        # A file, not a pipe: nobody reads the pipe while the server runs, and a full one would stall it.
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            self.wait_ready(self.ready_path)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, path: str = "/health/live", timeout: float = 60.0) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.label} server exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError):
                status, _ = http_get(self.port, path, timeout=1.0)
                if status == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"{self.label} server not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, grace: float = 10.0) -> None:
        proc = self.proc
        if proc is None:
            return
        self.proc = None
        try:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(grace)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        finally:
            # Workers outlive a killed granian main process; the group id is the leader's pid.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)


def run_timed(
    cmd: list[str], *, env: Mapping[str, str], cwd: Path, timeout: float = 60.0
) -> tuple[float, int, str]:
    """Run ``cmd`` to completion; return (wall seconds, exit code, stdout). Stderr is kept for errors only."""
    started = time.perf_counter()
    done = subprocess.run(cmd, env=dict(env), cwd=cwd, capture_output=True, timeout=timeout, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        tail = done.stderr.decode(errors="replace")[-800:]
        raise RuntimeError(f"{' '.join(cmd[-3:])} exited with {done.returncode}: {tail}")
    return elapsed, done.returncode, done.stdout.decode(errors="replace")
