"""End to end in Chromium: a CSR's page shows the outage banner live once a lead declares an outage.

Two browser contexts (two people): the CSR signs in and keeps the outage board open; the lead signs in and
declares an outage with the form; the CSR's banner fills from the server-sent-event stream without a reload.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright, expect

import plugins.outage as outage
from core.contract.testing import CHROMIUM_ARGS, prepare_hub, serve_hub, sign_in

pytestmark = pytest.mark.browser

SECRET = "e2e-secret"
SECTION = "call-center"


async def _seed(database_url: str) -> None:
    """A lead and a CSR of the call center, with the plugin enabled there, written through the hub itself."""
    await prepare_hub(
        database_url,
        SECRET,
        plugins=[outage],
        staff={"lena.lead": ("lead", [SECTION]), "cara.csr": ("csr", [SECTION])},
        enable={"outage": [SECTION]},
    )


@pytest.fixture
async def seeded(hub_database_url: str) -> str:
    await _seed(hub_database_url)
    return hub_database_url


@pytest.fixture
def outage_live_hub(seeded: str, tmp_path: Path) -> Iterator[str]:
    env = {"HUB_DATABASE_URL": seeded, "HUB_SECRET_KEY": SECRET}
    with serve_hub(env, tmp_path) as base:
        yield base


async def open_outages(page: Any, base: str, name: str) -> None:
    await sign_in(page, base, "/ui/outage/", name)
    await expect(page.locator("h1")).to_have_text("Outages")


async def test_a_csr_page_shows_the_banner_when_a_lead_declares(
    outage_live_hub: str, chromium_path: str
) -> None:
    base = outage_live_hub
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        try:
            csr = await (await browser.new_context()).new_page()
            lead = await (await browser.new_context()).new_page()
            for page in (csr, lead):
                page.set_default_timeout(15_000)
            await open_outages(csr, base, "cara.csr")
            await expect(csr.locator("#declare")).to_have_count(0)  # CSRs read, leads declare
            await expect(csr.locator("#outage-banner")).to_be_empty()
            await open_outages(lead, base, "lena.lead")
            form = lead.locator("#declare")
            await form.locator("select[name=utility]").select_option("water")
            await form.locator("input[name=cause]").fill("Main break on Sunset Blvd")
            await form.locator("input[name=zips]").fill("90026")
            fields: dict[str, str | float | bool] = {
                "_csrf_token": await form.locator("input[name=_csrf_token]").get_attribute("value") or "",
                "idempotency_key": await form.locator("input[name=idempotency_key]").get_attribute("value")
                or "",
                "utility": "water",
                "cause": "Main break on Sunset Blvd",
                "zips": "90026",
            }
            started = time.monotonic()
            await form.locator("button[type=submit]").click()
            await expect(lead.locator("#outages")).to_contain_text("Main break on Sunset Blvd")
            banner = csr.locator("#outage-banner")
            await expect(banner).to_contain_text("Water outage", timeout=5_000)
            await expect(banner).to_contain_text("Main break on Sunset Blvd")
            assert time.monotonic() - started < 3.0, "the banner took longer than the lead's own page reload"
            # The same form submitted again (a double click, a resend) declares nothing new.
            again = await lead.request.post(base + "/ui/outage/declare", form=fields)
            assert again.ok, await again.text()
            await lead.reload()
            await expect(lead.locator("#outages tbody tr")).to_have_count(1)
        finally:
            await browser.close()
