"""End to end in Chromium: the CRO works the SOS queue page — accepts a waiting referral (it gets an SOS
number) and sends it to the Department of Aging, after which the queue is empty."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright, expect

import plugins.sos as sos
from core.ccb.seed import identity_key, seed_customers
from core.contract.testing import CHROMIUM_ARGS, prepared_hub, serve_hub, sign_in
from plugins.sos.models import Referral

pytestmark = pytest.mark.browser

SECRET = "e2e-secret"
SECTION = "customer-relations"


async def _seed(database_url: str) -> None:
    """A CRO with the plugin enabled for the office, one customer, and one referral waiting."""
    async with prepared_hub(
        database_url, SECRET, plugins=[sos], staff={"rita.cro": ("cro", [SECTION])}, enable={"sos": [SECTION]}
    ) as hub:
        (customer,) = await seed_customers(hub.db, 1, 5, identity_key(SECRET))
        async with hub.db.session() as session:
            session.add(
                Referral(
                    status="filed",
                    account_id=customer.account_id,
                    contact_id=None,
                    access_reason="reported by a meter reader",
                    reasons=["well_being_check"],
                    contact_name="Walter Kim",
                    contact_phone="213-555-0199",
                    filed_at=hub.clock.now(),
                    filed_by="staff:e2e",
                )
            )


@pytest.fixture
async def seeded(hub_database_url: str) -> str:
    await _seed(hub_database_url)
    return hub_database_url


@pytest.fixture
def sos_live_hub(seeded: str, tmp_path: Path) -> Iterator[str]:
    env = {"HUB_DATABASE_URL": seeded, "HUB_SECRET_KEY": SECRET}
    with serve_hub(env, tmp_path) as base:
        yield base


async def test_the_cro_accepts_and_sends_a_referral_from_the_queue(
    sos_live_hub: str, chromium_path: str
) -> None:
    base = sos_live_hub
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        try:
            page: Any = await (await browser.new_context()).new_page()
            page.set_default_timeout(15_000)
            await sign_in(page, base, "/ui/sos/", "rita.cro")
            await expect(page.locator("h1")).to_have_text("SOS referrals")
            row = page.locator("#referrals tbody tr[data-referral]")
            await expect(row).to_have_count(1)
            await expect(row).to_contain_text("Walter Kim")
            await row.locator("form.accept button").click()
            await expect(row.locator(".sos-number")).to_contain_text("SOS-")
            await row.locator("form.send button").click()
            await expect(page.locator("#referrals tbody")).to_contain_text("No referral is waiting")
        finally:
            await browser.close()
