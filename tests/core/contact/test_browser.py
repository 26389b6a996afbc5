"""End to end in Chromium: a CSR opens a phone contact, verifies the caller and sees the account summary.

The CSR and a seeded customer are written in-process first; the hub is then served by granian from
:func:`make_app` and driven by Playwright.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from playwright.async_api import expect

from core.ccb.seed import SeedAccount, identity_key, seed_customers
from core.contact.pages import dollars
from core.contract.testing import BROWSER_PASSWORD as E2E_PASSWORD
from core.contract.testing import serve_hub, sign_in
from core.hub import Hub
from core.settings import Settings

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
    env = {"HUB_DATABASE_URL": hub_database_url, "HUB_SECRET_KEY": SECRET}
    with serve_hub(env, tmp_path) as base:
        yield {"base": base, "customer": seeded[0], "balance": seeded[1]}


async def test_csr_opens_verifies_and_sees_the_summary(
    contact_hub: dict[str, Any], browser_page: Any
) -> None:
    page, base = browser_page, contact_hub["base"]
    customer: SeedAccount = contact_hub["customer"]
    await sign_in(page, base, "/ui/contact/", CSR)  # sent to the login page first, then back here
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
