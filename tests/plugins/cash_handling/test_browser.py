"""End to end in Chromium: a CSR opens a drawer, takes a cash payment at the window and sees the receipt;
and a CSR seizes a suspected counterfeit note through the window page's counterfeit step.

The hub is seeded in-process (the CSR, the plugin enabled for the customer service center, a seeded
customer, the ``cash_`` tables until the plugin's migration runs from the entry point), then served by
granian and driven by Playwright.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from playwright.async_api import expect

import plugins.cash_handling as cash
from core.app import create_app
from core.ccb.seed import identity_key, seed_customers
from core.contract.testing import BROWSER_PASSWORD as E2E_PASSWORD
from core.contract.testing import serve_hub, sign_in
from core.hub import Hub
from core.sections import set_enabled
from core.settings import Settings

pytestmark = pytest.mark.browser


SECRET = "e2e-secret"
CSR = "carla.csr"
SECTION = "customer-service-center"


async def _seed(database_url: str) -> tuple[str, str]:
    """A CSR, the plugin enabled, one customer, and the CSR's counter contact verified for that customer."""
    settings = msgspec.convert({"database_url": database_url, "secret_key": SECRET}, Settings)
    hub = Hub(settings, extra_plugins=[cash], entry_points=False)
    await hub.start()
    try:
        async with hub.db.session() as session:
            _user, token = await hub.staff.add_user(
                session, name=CSR, role="csr", sections=[SECTION], password=E2E_PASSWORD, actor="e2e"
            )
            await set_enabled(
                session,
                hub.events,
                hub.audit,
                plugin_id="cash_handling",
                section=SECTION,
                enabled=True,
                actor="e2e",
            )
        seeded = (await seed_customers(hub.db, 1, 11, identity_key(SECRET)))[0]
        auth = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=create_app(hub, manage_hub=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            opened = await client.post(
                "/api/contacts", json={"channel": "counter", "account_id": seeded.account_id}, headers=auth
            )
            contact_id = opened.json()["contact_id"]
            verified = await client.post(
                f"/api/contacts/{contact_id}/verify",
                json={"account_id": seeded.account_id, "method": "access_code", "value": seeded.access_code},
                headers=auth,
            )
            assert verified.status_code == 200, verified.text
        return seeded.account_id, contact_id
    finally:
        await hub.stop()


@pytest.fixture
async def account(hub_database_url: str) -> tuple[str, str]:
    return await _seed(hub_database_url)


@pytest.fixture
def cash_live_hub(
    hub_database_url: str, account: tuple[str, str], tmp_path: Path
) -> Iterator[dict[str, Any]]:
    env = {"HUB_DATABASE_URL": hub_database_url, "HUB_SECRET_KEY": SECRET}
    with serve_hub(env, tmp_path) as base:
        yield {"base": base, "account": account[0], "contact": account[1]}


async def test_csr_takes_a_cash_payment_and_sees_the_receipt(
    cash_live_hub: dict[str, Any], browser_page: Any
) -> None:
    page, base = browser_page, cash_live_hub["base"]
    await sign_in(page, base, "/ui/cash_handling/", CSR)
    await page.wait_for_url(re.compile(r".*/ui/cash_handling/?$"))
    assert await page.locator("#open-drawer").count() == 1, await page.content()
    await page.fill("input[name=float_2000]", "5")
    await page.fill("input[name=float_100]", "20")
    await page.click("#open-drawer button[type=submit]")
    await expect(page.locator("#take-payment")).to_be_visible()
    await page.fill("input[name=account_id]", cash_live_hub["account"])
    await page.fill("input[name=contact_id]", cash_live_hub["contact"])
    await page.fill("input[name=amount]", "53.21")
    row = page.locator('tr[data-note="2000"]')
    await row.locator("input[name=count_2000]").fill("3")
    await row.locator("select[name=pen_2000]").select_option("pass")
    for box in ("feel_2000", "watermark_2000", "shift_2000"):
        await row.locator(f"input[name={box}]").check()
    await page.fill("input[name=change]", "6.79")
    await page.click("#take-payment button[type=submit]")
    await page.wait_for_url(re.compile(r".*/ui/cash_handling/receipts/\d+$"))
    await expect(page.locator("#receipt-no")).to_have_text(re.compile(r"^CR\d{6}-\d{6}$"))
    await expect(page.locator("#amount")).to_have_text("$53.21")
    await expect(page.locator("#change")).to_have_text("$6.79")


async def _sign_in_and_open_drawer(page: Any, base: str) -> None:
    await sign_in(page, base, "/ui/cash_handling/", CSR)
    await page.wait_for_url(re.compile(r".*/ui/cash_handling/?$"))
    await page.fill("input[name=float_2000]", "5")
    await page.click("#open-drawer button[type=submit]")
    await expect(page.locator("#take-payment")).to_be_visible()


async def test_csr_seizes_a_suspected_counterfeit_through_the_window_page(
    cash_live_hub: dict[str, Any], browser_page: Any
) -> None:
    """docs/rules.md §2.3-2.4: the page shows the script, captures SSF 1604, keeps the note, prints the
    copy."""
    page, base = browser_page, cash_live_hub["base"]
    await _sign_in_and_open_drawer(page, base)
    await page.fill("input[name=account_id]", cash_live_hub["account"])
    await page.fill("input[name=contact_id]", cash_live_hub["contact"])
    await page.fill("input[name=amount]", "20.00")
    row = page.locator('tr[data-note="2000"]')
    await row.locator("input[name=count_2000]").fill("1")
    for box in ("feel_2000", "watermark_2000", "shift_2000"):
        await row.locator(f"input[name={box}]").check()
    # The second $20 glows blue under UV: set aside as a suspect, its other features ticked as seen.
    suspect = page.locator('tr[data-suspect="0"]')
    await suspect.locator("select[name=suspect_0_denomination]").select_option("2000")
    await suspect.locator("select[name=suspect_0_uv]").select_option("blue")
    for box in ("suspect_0_feel", "suspect_0_watermark", "suspect_0_shift"):
        await suspect.locator(f"input[name={box}]").check()
    await page.fill("input[name=change]", "20.00")
    await page.click("#take-payment button[type=submit]")

    # Step 2: the counterfeit step, on the same form.
    await expect(page.locator("#counterfeit")).to_be_visible()
    await expect(page.locator("#customer-script")).to_contain_text("Secret Service")
    await expect(page.locator("#suspects")).to_contain_text("UV thread blue, expected green")
    await expect(page.locator("#change-due")).to_have_text("$0.00")
    await page.fill("input[name=ssf_s0_serial_number]", "MB12345678A")
    await page.fill("input[name=ssf_s0_series]", "2017A")
    await page.fill("input[name=ssf_s0_check_letter_quadrant]", "C4")
    await page.fill("input[name=passer_height]", "about 5'10\"")
    await page.fill("input[name=passer_other_description]", "grey hoodie")
    await page.fill("input[name=change]", "0.00")
    await page.click("#take-payment button[type=submit]")

    await page.wait_for_url(re.compile(r".*/ui/cash_handling/receipts/\d+$"))
    await expect(page.locator("#amount")).to_have_text("$20.00")
    await expect(page.locator("#seized")).to_have_text("$20.00")
    await expect(page.locator("#seized-script")).to_be_visible()
    await page.click("a.customer-copy")
    await page.wait_for_url(re.compile(r".*/ui/cash_handling/seized/\d+/copy$"))
    await expect(page.locator("#customer-copy")).to_contain_text("MB12345678A")
    await expect(page.locator("#customer-copy")).not_to_contain_text("grey hoodie")
    await page.click("text=Back to the record")
    await expect(page.locator("#block-passer")).to_contain_text("grey hoodie")
    await expect(page.locator("#holder")).to_have_text(CSR)
    # The CSR hands the note to the supervisor through the custody form.
    await page.fill("#custody-form input[name=to_holder]", "sue.super")
    await page.click("#custody-form button[type=submit]")
    await expect(page.locator("#holder")).to_have_text("sue.super")
    await expect(page.locator("#custody")).to_contain_text("handed_over")
