"""End to end in Chromium: an e-team member pulls Contact Us requests from Customer Connect and answers one
by e-mail, which becomes a staff response in Customer Connect and moves the incident to Waiting.

Two real servers: the Customer Connect simulator (``python -m simulators.customer_connect``, seeded with
generated Contact Us mail) and the hub, both served by granian; the hub reaches the simulator through
``[plugins.eteam]`` in a ``hub.toml``. The member and the enablement are seeded in-process first.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from playwright.async_api import expect

import plugins.eteam as eteam
from connectors.customer_connect import CustomerConnectClient
from core.contract.testing import BROWSER_PASSWORD as E2E_PASSWORD
from core.contract.testing import free_port as _free_port
from core.contract.testing import serve_hub, sign_in
from core.hub import Hub
from core.sections import set_enabled
from core.settings import Settings

pytestmark = pytest.mark.browser
# The browser fixtures live with the e2e suite; bound here, they are this module's fixtures too.

ROOT = Path(__file__).resolve().parents[3]
SECRET = "e2e-secret"
MEMBER = "erin.eteam"
SECTION = "e-team"
CC_USER, CC_PASSWORD = "hub-e2e", "sim-e2e-password"
CC_CONTEXT = {"OSvC-CREST-Application-Context": "tests"}  # Connect REST v1.4 wants the caller named
CC_API = "/services/rest/connect/v1.4"
REQUESTS = 4


def _wait_until(ready: Any, proc: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if ready():
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start:\n" + log.read_text(errors="replace"))
        time.sleep(0.2)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # The simulator runs in its own session, so its granian workers go down with it.
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture
def customer_connect(tmp_path: Path) -> Iterator[str]:
    """The simulator on a free port, with ``REQUESTS`` generated Contact Us requests waiting."""
    port = _free_port()
    log = tmp_path / "customer-connect.log"
    cmd = [sys.executable, "-m", "simulators.customer_connect", "--port", str(port)]
    cmd += ["--database", str(tmp_path / "cc.sqlite"), "--generate", str(REQUESTS), "--seed", "7"]
    cmd += ["--user", CC_USER, "--password", CC_PASSWORD]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until(
            lambda: (
                httpx.get(
                    base + CC_API + "/incidents", auth=(CC_USER, CC_PASSWORD), headers=CC_CONTEXT, timeout=1
                ).status_code
                == 200
            ),
            proc,
            log,
            "the Customer Connect simulator",
        )
        yield base
    finally:
        _stop(proc)


async def _seed(database_url: str) -> None:
    """The e-team member (with a password for the login page) and the plugin enabled for the e-team."""
    settings = msgspec.convert({"database_url": database_url, "secret_key": SECRET}, Settings)
    hub = Hub(settings, extra_plugins=[eteam], entry_points=False)
    await hub.start()
    try:
        async with hub.db.session() as session:
            await hub.staff.add_user(
                session, name=MEMBER, role="eteam", sections=[SECTION], password=E2E_PASSWORD, actor="e2e"
            )
            await set_enabled(
                session, hub.events, hub.audit, plugin_id="eteam", section=SECTION, enabled=True, actor="e2e"
            )
    finally:
        await hub.stop()


@pytest.fixture
async def seeded(hub_database_url: str) -> str:
    await _seed(hub_database_url)
    return hub_database_url


@pytest.fixture
def eteam_live_hub(seeded: str, customer_connect: str, tmp_path: Path) -> Iterator[str]:
    config = tmp_path / "hub.toml"
    # Pulls run on request only, so the queue the test sees is the one it pulled.
    config.write_text(
        "[plugins.eteam]\n"
        f'base_url = "{customer_connect}"\nuser = "{CC_USER}"\npassword = "{CC_PASSWORD}"\n'
        "pull_interval_s = 0\n"
    )
    env = {"HUB_DATABASE_URL": seeded, "HUB_SECRET_KEY": SECRET, "HUB_CONFIG": str(config)}
    with serve_hub(env, tmp_path) as base:
        yield base


async def test_an_eteam_member_pulls_the_requests_and_answers_one_by_email(
    eteam_live_hub: str, customer_connect: str, browser_page: Any
) -> None:
    page = browser_page
    await sign_in(page, eteam_live_hub, "/ui/eteam/", MEMBER)
    await expect(page.locator("h1")).to_have_text("E-team: Contact Us requests")
    await expect(page.locator("#eteam-incidents tbody")).to_contain_text("Nothing waiting.")

    await page.click("#pull button[type=submit]")
    await expect(page.locator("#notice")).to_have_text(
        f"Pulled from Customer Connect: {REQUESTS} new, 0 updated."
    )
    rows = page.locator("#eteam-incidents tbody tr[data-reference]")
    await expect(rows).to_have_count(REQUESTS)
    ref = await rows.first.get_attribute("data-reference")
    assert ref is not None and re.fullmatch(r"\d{6}-\d{6}", ref)

    detail = page.locator(f'tr[data-reference-detail="{ref}"]')
    await expect(detail.locator("pre.customer-text")).not_to_be_empty()
    reply = "Thank you for writing. Your bill was estimated; a meter read is scheduled for Thursday."
    await detail.locator(".email-box summary").click()
    # An empty reply is refused by the browser before it is sent; a blank one by the hub, naming the field.
    await detail.locator("form.respond-email textarea[name=text]").fill("   ")
    await detail.locator("form.respond-email button[type=submit]").click()
    await expect(page.locator("#error")).to_contain_text("text:")
    detail = page.locator(f'tr[data-reference-detail="{ref}"]')
    await expect(detail.locator(".email-box")).to_have_attribute("open", "")  # reopened where it failed
    await detail.locator("form.respond-email textarea[name=text]").fill(reply)
    await detail.locator("form.respond-email button[type=submit]").click()

    await expect(page.locator("#notice")).to_have_text(f"Answered {ref}.")
    await expect(page.locator(f'#eteam-incidents tr[data-reference="{ref}"]')).to_have_count(0)
    await expect(rows).to_have_count(REQUESTS - 1)
    answered = page.locator(f"#answered-{ref}")
    await expect(answered.locator(".status")).to_have_text("waiting")
    await expect(answered.locator(".responses")).to_contain_text(f"email by staff:{MEMBER}")

    async with CustomerConnectClient(customer_connect, CC_USER, CC_PASSWORD, timeout=5) as cc:
        incident = await cc.get_incident(ref)
    assert incident.status_type == "waiting"
    replies = [t.text for t in incident.threads or [] if t.entry_type.lookup_name == "Staff Response"]
    assert replies == [reply]
