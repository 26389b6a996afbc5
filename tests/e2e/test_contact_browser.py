"""End to end in Chromium: a CSR opens a phone contact, verifies the caller and sees the account summary.

The CSR and a seeded customer are written in-process first; the hub is then served by granian from
:func:`make_app` and driven by Playwright.
"""

from __future__ import annotations

import os
import re
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

from core.ccb.seed import SeedAccount, identity_key, seed_customers
from core.contact.pages import dollars
from core.hub import Hub
from core.settings import Settings
from tests.e2e.conftest import E2E_PASSWORD, ROOT, _free_port

pytestmark = pytest.mark.browser

SECRET = "e2e-secret"
CSR = "carla.csr"


async def _seed(database_url: str) -> tuple[SeedAccount, int]:
    """A CSR with a password and one customer; returns the customer and its balance in cents."""
    settings = msgspec.convert({"database_url": database_url, "secret_key": SECRET}, Settings)
    hub = Hub(settings, entry_points=False)
    await hub.start()
    try:
        async with hub.db.session() as session:
            await hub.staff.add_user(
                session, name=CSR, role="csr", sections=["call-center"], password=E2E_PASSWORD, actor="e2e"
            )
        customer = (await seed_customers(hub.db, 1, 21, identity_key(SECRET)))[0]
        balance = (await hub.ccb.get_account_summary(customer.account_id)).balance_cents
        return customer, balance
    finally:
        await hub.stop()


@pytest.fixture
async def seeded(hub_database_url: str) -> tuple[SeedAccount, int]:
    return await _seed(hub_database_url)


@pytest.fixture
def contact_hub(
    hub_database_url: str, seeded: tuple[SeedAccount, int], tmp_path: Path
) -> Iterator[dict[str, Any]]:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HUB_")},
        "HUB_DATABASE_URL": hub_database_url,
        "HUB_SECRET_KEY": SECRET,
        "PYTHONPATH": str(ROOT),
    }
    log = (tmp_path / "granian.log").open("w")
    granian = Path(sys.executable).parent / "granian"
    args = [str(granian), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port), "core.asgi:app"]
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
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
        yield {"base": base, "customer": seeded[0], "balance": seeded[1]}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


async def test_csr_opens_verifies_and_sees_the_summary(
    contact_hub: dict[str, Any], browser_page: Any
) -> None:
    page, base = browser_page, contact_hub["base"]
    customer: SeedAccount = contact_hub["customer"]
    await page.goto(base + "/ui/contact/")
    await page.fill("input[name=name]", CSR)  # sent to the login page first, then back here
    await page.fill("input[name=password]", E2E_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r".*/ui/contact/?$"))

    await page.select_option("#open-contact select[name=channel]", "phone")
    await page.fill("#open-contact input[name=ani]", customer.phone)
    await page.click("#open-contact button[type=submit]")
    await page.wait_for_url(re.compile(r".*/ui/contact/[^/]+$"))
    await expect(page.locator("#verify select[name=account_id]")).to_have_value(customer.account_id)

    await page.select_option("#verify select[name=method]", "access_code")
    await page.fill("#verify input[name=value]", customer.access_code)
    await page.click("#verify button[type=submit]")
    await expect(page.locator("#message")).to_have_text("Verified.")
    await expect(page.locator("#balance")).to_have_text(dollars(contact_hub["balance"]))
    await expect(page.locator("#summary")).to_have_attribute("data-account", customer.account_id)
    await expect(page.locator("#wrap-up")).to_be_visible()
