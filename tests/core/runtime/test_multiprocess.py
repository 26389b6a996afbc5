"""Two hub processes sharing one PostgreSQL and one NATS server (issue 5 §6), started for real.

A change made through one process is read through the other; an event published by one reaches the other's
server-sent-event stream; both relay the shared outbox without a publish escaping JetStream's dedupe.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.contract.testing import NatsServerProcess, free_port
from core.migrate import upgrade

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent


def _ccbhub(env: dict[str, str], cwd: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(BIN / "ccbhub"), *args],
        env=env,
        cwd=cwd,
        input=stdin,
        text=True,
        capture_output=True,
        check=True,
    )
    return done.stdout


@pytest.fixture(scope="module")
def shared_database(postgres_server_url: str) -> Iterator[str]:
    """One PostgreSQL database for the module: the two processes are started once for all its tests."""
    import uuid

    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    from core.contract.testing import _run_sync

    base = make_url(postgres_server_url)
    name = f"hubmp_{uuid.uuid4().hex[:10]}"
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    _run_sync(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        _run_sync(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def two_hubs(
    shared_database: str, nats_server: NatsServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    postgres_url = shared_database
    tmp_path = tmp_path_factory.mktemp("two-hubs")
    upgrade(postgres_url)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HUB_")},
        "HUB_DATABASE_URL": postgres_url,
        "HUB_BUS_URL": nats_server.url,
        "HUB_SECRET_KEY": "two-process-secret",
        "PYTHONPATH": str(ROOT),
    }
    tokens = {}
    for name, role, sections in (
        ("root", "admin", ["lead", "security"]),
        ("csr", "csr", ["call-center"]),
    ):
        args = ["users", "add", name, "--role", role, "--json"]
        for section in sections:
            args += ["--section", section]
        tokens[name] = {"Authorization": f"Bearer {json.loads(_ccbhub(env, tmp_path, *args))['token']}"}
    procs: list[subprocess.Popen[bytes]] = []
    bases = []
    try:
        for label in ("a", "b"):
            port = free_port()
            log = (tmp_path / f"hub-{label}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [str(BIN / "ccbhub"), "serve", "--port", str(port)],
                    env=env,
                    cwd=tmp_path,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            bases.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        for base, proc, label in zip(bases, procs, "ab", strict=True):
            while True:
                try:
                    if httpx.get(base + "/health/ready", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"hub {label} did not start:\n" + (tmp_path / f"hub-{label}.log").read_text()
                    )
                time.sleep(0.2)
        yield {"a": bases[0], "b": bases[1], "tokens": tokens, "nats": nats_server.url}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


async def _eventually(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.1)


async def test_a_change_through_one_process_is_seen_by_the_other(two_hubs: dict[str, Any]) -> None:
    root = two_hubs["tokens"]["root"]
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(
            f"{two_hubs['a']}/api/sections", json={"slug": "night-desk", "title": "Night"}, headers=root
        )
        assert r.status_code == 201

        async def b_lists_it() -> bool:
            sections = (await http.get(f"{two_hubs['b']}/api/sections", headers=root)).json()
            return "night-desk" in {s["slug"] for s in sections}

        # b answers from its own cache, reloaded on hub.plugins.enablement_changed over NATS: a read made
        # the instant a's reply arrives can beat that event on a loaded machine.
        assert await _eventually(b_lists_it)

        r = await http.post(
            f"{two_hubs['a']}/api/plugins/pci_inspection/sections/security",
            json={"enabled": True},
            headers=root,
        )
        assert r.status_code == 200

        async def b_sees_it() -> bool:
            plugins = {
                p["id"]: p for p in (await http.get(f"{two_hubs['b']}/api/plugins", headers=root)).json()
            }
            return "security" in plugins["pci_inspection"]["sections"]

        # Process b learns of the change from hub.plugins.enablement_changed over NATS, not from a restart.
        assert await _eventually(b_sees_it)
        assert (
            await http.get(f"{two_hubs['b']}/api/pci_inspection/checklist", headers=root)
        ).status_code == 200


async def test_an_event_from_one_process_reaches_the_other_process_stream(two_hubs: dict[str, Any]) -> None:
    csr = two_hubs["tokens"]["csr"]
    received: list[dict[str, Any]] = []

    async def listen() -> None:
        async with (
            httpx.AsyncClient(timeout=15) as http,
            http.stream("GET", f"{two_hubs['b']}/api/phone/events?limit=1", headers=csr) as stream,
        ):
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    received.append(json.loads(line[5:]))
                    return

    listener = asyncio.create_task(listen())
    await asyncio.sleep(1.0)  # let process b subscribe before a publishes
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(
            f"{two_hubs['a']}/api/phone/agents/csr/sign-in", json={"extension": "1005"}, headers=csr
        )
        assert r.status_code == 202
    await asyncio.wait_for(listener, timeout=15)
    assert received, "process b's stream received nothing"
    assert "csr" in json.dumps(received[0])


async def test_both_relays_publish_each_event_once(two_hubs: dict[str, Any]) -> None:
    import nats

    root = two_hubs["tokens"]["root"]
    nc = await nats.connect(two_hubs["nats"])
    js = nc.jetstream()

    async def stream_count() -> int:
        info = await js.stream_info("HUB", subjects_filter="hub.plugins.enablement_changed")
        return int((info.state.subjects or {}).get("hub.plugins.enablement_changed", 0))

    before = await stream_count()
    async with httpx.AsyncClient(timeout=10) as http:
        for i in range(20):
            base = two_hubs["a"] if i % 2 == 0 else two_hubs["b"]
            r = await http.post(
                f"{base}/api/plugins/outage/sections/call-center", json={"enabled": i % 2 == 0}, headers=root
            )
            assert r.status_code == 200
    try:
        # Twenty changes, twenty more events in the stream: two relays never made a duplicate that escaped
        # dedupe (the count starts where the module's earlier tests left it).
        await _eventually(lambda: _equals(stream_count, before + 20))
        assert await stream_count() == before + 20
    finally:
        await nc.close()


async def _equals(fetch: Any, expected: int) -> bool:
    return bool(await fetch() == expected)
