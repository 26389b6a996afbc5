"""Browser-test fixtures: a real hub served by granian, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
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
E2E_PASSWORD = "e2e-password-123"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("no Chromium on this machine: install Debian's chromium to run browser tests")
    return CHROMIUM


def _hub_env(env_extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without its ``HUB_*`` variables, with ``PYTHONPATH`` and ``env_extra``."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("HUB_")},
        "PYTHONPATH": str(ROOT),
        **env_extra,
    }


@contextmanager
def serve_hub(
    env_extra: Mapping[str, str],
    log_dir: Path,
    target: str = "core.asgi:app",
    start_timeout: float = 60.0,
) -> Iterator[str]:
    """Serve ``target`` with granian on a free port until ``/health/ready`` answers 200; yield the base URL.

    The environment is this process's without its ``HUB_*`` variables, plus ``PYTHONPATH`` and
    ``env_extra``; granian's output goes to ``log_dir / "granian.log"``.
    """
    port = _free_port()
    granian = str(Path(sys.executable).parent / "granian")
    args = [granian, "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port), target]
    log_path = log_dir / "granian.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(args, env=_hub_env(env_extra), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
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


async def sign_in(page: Any, base: str, path: str, name: str, password: str = E2E_PASSWORD) -> None:
    """Open ``base + path`` (the login page, or a page that sends there) and submit the login form."""
    await page.goto(base + path)
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")


@pytest.fixture
def live_hub(hub_database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A hub on a free port, with an admin and a security user whose password is E2E_PASSWORD."""
    hub_vars = {"HUB_DATABASE_URL": hub_database_url, "HUB_SECRET_KEY": "e2e-secret"}
    ccbhub = Path(sys.executable).parent / "ccbhub"
    for name, role, section in (("admin", "admin", "lead"), ("sec.officer", "security", "security")):
        subprocess.run(
            [ccbhub, "users", "add", name, "--role", role, "--section", section, "--password-stdin"],
            input=E2E_PASSWORD + "\n",
            text=True,
            env=_hub_env(hub_vars),
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )
    with serve_hub(hub_vars, tmp_path, target="tests.e2e.example_app:app") as base:
        yield {"base": base, "password": E2E_PASSWORD}


@pytest.fixture
async def browser_page(chromium_path: str) -> AsyncIterator[Any]:
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
