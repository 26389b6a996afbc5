"""The simulated CCB server on its own: its command's option checks, and serving it for real.

The server is started with granian in a subprocess on a free 127.0.0.1 port and read through the hub's
HTTP connector; the connector's retries and breaker against it are tested in tests/core/ccb/test_remote.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from connectors.ccb_http import HttpCcb
from core.ccb.errors import CcbUnavailable
from core.ccb.local import LocalCcb
from core.clock import ManualClock
from core.db import Database
from simulators.ccb_server.cli import ccb_command

ROOT = Path(__file__).resolve().parents[3]


def test_bad_simulator_options_exit_2() -> None:
    runner = CliRunner()
    assert runner.invoke(ccb_command, ["--error-rate", "2"]).exit_code == 2
    assert runner.invoke(ccb_command, ["--port", "0"]).exit_code == 2
    assert runner.invoke(ccb_command, ["--database", "mysql://x/y"]).exit_code == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_simulator_served_by_granian_in_a_subprocess(
    tmp_path: Path, hub_migrated_template: Path
) -> None:
    port = _free_port()
    url = f"sqlite+aiosqlite:///{tmp_path / 'sim.db'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "from simulators.ccb_server.cli import ccb_command; ccb_command()"
    proc = await asyncio.create_subprocess_exec(
        *[sys.executable, "-c", code, "--port", str(port), "--database", url, "--seed-customers", "2"],
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    http = HttpCcb(f"http://127.0.0.1:{port}", timeout=2.0, retries=0)
    try:
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient() as client:
            while True:
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/_health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.returncode is None, "the simulator exited"
                assert time.monotonic() < deadline, "the simulator did not come up"
                await asyncio.sleep(0.2)
        demo = (tmp_path / "var" / "ccb-sim-customers.jsonl").read_text().splitlines()
        assert len(demo) == 2
        account_id = json.loads(demo[0])["account_id"]
        db = Database(url)
        try:
            local = LocalCcb(db, ManualClock(dt.datetime.now(dt.UTC)), b"x" * 32)
            assert await http.get_account_summary(account_id) == await local.get_account_summary(account_id)
        finally:
            await db.dispose()
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
    with pytest.raises(CcbUnavailable):
        await http.get_balance(account_id)  # the process is gone: connection refused
    await http.aclose()
