"""End to end in Chromium: a CSR signs in, searches the agency directory by need and finds the number."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from playwright.async_api import async_playwright, expect

import plugins.agency_lookup as agency_lookup
from core.contract.testing import BROWSER_PASSWORD as E2E_PASSWORD
from core.contract.testing import CHROMIUM_ARGS, serve_hub, sign_in
from core.hub import Hub
from core.sections import set_enabled
from core.settings import Settings

pytestmark = pytest.mark.browser


SECRET = "e2e-secret"
SECTION = "call-center"


async def _seed(database_url: str) -> None:
    """A CSR, and the plugin enabled for them."""
    settings = msgspec.convert({"database_url": database_url, "secret_key": SECRET}, Settings)
    hub = Hub(settings, extra_plugins=[agency_lookup], entry_points=False)
    await hub.start()
    try:
        async with hub.db.session() as session:
            await hub.staff.add_user(
                session, name="cara.csr", role="csr", sections=[SECTION], password=E2E_PASSWORD, actor="e2e"
            )
            await set_enabled(
                session,
                hub.events,
                hub.audit,
                plugin_id="agency_lookup",
                section=SECTION,
                enabled=True,
                actor="e2e",
            )
    finally:
        await hub.stop()


@pytest.fixture
def agency_live_hub(hub_database_url: str, tmp_path: Path) -> Iterator[str]:
    import asyncio

    asyncio.run(_seed(hub_database_url))
    env = {"HUB_DATABASE_URL": hub_database_url, "HUB_SECRET_KEY": SECRET}
    with serve_hub(env, tmp_path) as base:
        yield base


async def test_a_csr_finds_socalgas_for_a_gas_leak(agency_live_hub: str, chromium_path: str) -> None:
    base = agency_live_hub
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        try:
            page = await (await browser.new_context()).new_page()
            page.set_default_timeout(15_000)
            await sign_in(page, base, "/ui/agency_lookup/", "cara.csr")
            await expect(page.locator("h1")).to_have_text("Agency directory")
            await page.fill("#search input[name=q]", "gas leak")
            await page.click("#search button[type=submit]")
            first = page.locator("#results tbody tr").first
            await expect(first).to_contain_text("SoCalGas")
            await expect(first).to_contain_text("1-800-427-2200")
            # The desk is for CROs: the shell's nav lists it (it does not filter by role), the page refuses.
            desk = await page.request.get(base + "/ui/agency_lookup/disclosures")
            assert desk.status == 403
        finally:
            await browser.close()
