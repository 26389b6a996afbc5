"""Browser-test fixtures: a real hub served by granian, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
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


@pytest.fixture
def live_hub(hub_database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A hub on a free port, with an admin and a security user whose password is E2E_PASSWORD."""
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HUB_")},
        "HUB_DATABASE_URL": hub_database_url,
        "HUB_SECRET_KEY": "e2e-secret",
        "PYTHONPATH": str(ROOT),
    }
    bin_dir = Path(sys.executable).parent
    for name, role, section in (("admin", "admin", "lead"), ("sec.officer", "security", "security")):
        subprocess.run(
            [
                bin_dir / "ccbhub",
                "users",
                "add",
                name,
                "--role",
                role,
                "--section",
                section,
                "--password-stdin",
            ],
            input=E2E_PASSWORD + "\n",
            text=True,
            env=env,
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )
    log = (tmp_path / "granian.log").open("w")
    proc = subprocess.Popen(
        [
            bin_dir / "granian",
            "--interface",
            "asgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "tests.e2e.example_app:app",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the hub did not start:\n" + (tmp_path / "granian.log").read_text())
            time.sleep(0.2)
        yield {"base": base, "password": E2E_PASSWORD}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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
