"""End to end in Chromium: a Solar team member opens the Solar page, reads the program facts and explains a
net-metered customer's bill from the CCB mock.

The hub is seeded in-process (the Solar team member, the plugin enabled for the solar section, a customer
with rooftop solar: a net meter, an E-NEM service agreement and a year of net bills, and the team member's
callback contact verified for that customer), then served by granian and driven by Playwright.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from playwright.async_api import expect

import plugins.solar as solar
from core.app import create_app
from core.ccb.port import NetMeteringPeriod
from core.ccb.rates import format_cents, format_price
from core.ccb.seed import identity_key, seed_customers
from core.contract.testing import BROWSER_PASSWORD as E2E_PASSWORD
from core.contract.testing import serve_hub, sign_in
from core.hub import Hub
from core.sections import set_enabled
from core.settings import Settings
from plugins.solar.rules import kwh_text

pytestmark = pytest.mark.browser

SECRET = "e2e-secret"
MEMBER = "sol.team"
SECTION = "solar"


async def _seed(database_url: str) -> dict[str, Any]:
    """The team member, the plugin enabled, a solar customer and a callback contact verified for it."""
    settings = msgspec.convert({"database_url": database_url, "secret_key": SECRET}, Settings)
    hub = Hub(settings, extra_plugins=[solar], entry_points=False)
    await hub.start()
    try:
        async with hub.db.session() as session:
            _user, token = await hub.staff.add_user(
                session, name=MEMBER, role="solar", sections=[SECTION], password=E2E_PASSWORD, actor="e2e"
            )
            await set_enabled(
                session, hub.events, hub.audit, plugin_id="solar", section=SECTION, enabled=True, actor="e2e"
            )
        (customer,) = await seed_customers(hub.db, 1, 31, identity_key(SECRET), net_metered_share=1.0)
        nem = await hub.ccb.get_net_metering(customer.account_id)
        assert nem is not None and nem.periods
        auth = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=create_app(hub, manage_hub=False))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            opened = await client.post(
                "/api/contacts", json={"channel": "phone", "account_id": customer.account_id}, headers=auth
            )
            contact_id = opened.json()["contact_id"]
            verified = await client.post(
                f"/api/contacts/{contact_id}/verify",
                json={
                    "account_id": customer.account_id,
                    "method": "access_code",
                    "value": customer.access_code,
                },
                headers=auth,
            )
            assert verified.status_code == 200, verified.text
        # An earlier bill whose net kWh went through the priced tiers (the winter ones do).
        tiered = next(x for x in nem.periods[1:] if Decimal(x.billed_kwh) > 0)
        return {
            "account": customer.account_id,
            "contact": contact_id,
            "latest": nem.periods[0],
            "tiered": tiered,
        }
    finally:
        await hub.stop()


@pytest.fixture
async def seeded(hub_database_url: str) -> dict[str, Any]:
    return await _seed(hub_database_url)


@pytest.fixture
def solar_live_hub(hub_database_url: str, seeded: dict[str, Any], tmp_path: Path) -> Iterator[dict[str, Any]]:
    env = {"HUB_DATABASE_URL": hub_database_url, "HUB_SECRET_KEY": SECRET}
    with serve_hub(env, tmp_path) as base:
        yield {"base": base, **seeded}


async def test_the_solar_team_explains_a_net_metered_bill(
    solar_live_hub: dict[str, Any], browser_page: Any
) -> None:
    page, base = browser_page, solar_live_hub["base"]
    latest: NetMeteringPeriod = solar_live_hub["latest"]
    await sign_in(page, base, "/ui/solar/", MEMBER)
    await page.wait_for_url(re.compile(r".*/ui/solar/?$"))
    await expect(page.locator("h1")).to_have_text("Solar team")

    # The program facts the team answers from (docs/ccb-domain.md §4.1).
    await expect(page.locator("#program-solar_incentive")).to_contain_text("31 Dec 2018")
    await expect(page.locator("#program-net_metering")).to_contain_text("1-866-484-0433")
    await expect(page.locator("#program-charge_up_la")).to_contain_text("up to $1,000")

    # The customer's latest bill, as the CCB billed it, in plain words.
    await page.fill("#explain input[name=account_id]", solar_live_hub["account"])
    await page.fill("#explain input[name=contact_id]", solar_live_hub["contact"])
    await page.click("#explain button[type=submit]")
    explanation = page.locator("#explanation")
    await expect(explanation).to_have_attribute("data-bill", latest.bill_id)
    await expect(page.locator("#delivered")).to_have_text(kwh_text(latest.delivered_kwh))
    await expect(page.locator("#received")).to_have_text(kwh_text(latest.received_kwh))
    await expect(page.locator("#net")).to_have_text(kwh_text(latest.net_kwh))
    await expect(page.locator("#credit-in")).to_have_text(kwh_text(latest.credit_in_kwh))
    await expect(page.locator("#credit-out")).to_have_text(kwh_text(latest.credit_out_kwh))
    await expect(page.locator("#total")).to_have_text(format_cents(latest.amount_cents))
    lines = page.locator("#explanation-lines")
    await expect(lines).to_contain_text("Energy delivered to you by the utility")
    await expect(lines).to_contain_text("Energy your solar system sent to the grid (received)")
    await expect(lines).to_contain_text("Net kWh charged through the tiers")
    await expect(lines).to_contain_text("carried forward to your next bill")

    # An earlier bill, from the links under the explanation: net kWh by tier with the tier prices.
    tiered: NetMeteringPeriod = solar_live_hub["tiered"]
    await page.click(f"#explanation a:text-is('{tiered.period_start.isoformat()}')")
    await expect(explanation).to_have_attribute("data-bill", tiered.bill_id)
    await expect(page.locator("#billed")).to_have_text(kwh_text(tiered.billed_kwh))
    for t in tiered.tier_lines:
        kwh = kwh_text(t.kwh)
        price = format_price(Decimal(t.unit_price), "kWh")
        await expect(lines).to_contain_text(f"Tier {t.tier} ({t.season} season")
        await expect(lines).to_contain_text(f"{kwh} at {price} = {format_cents(t.amount_cents)}")

    # An account that is not there is named in the error, on the same page.
    await page.fill("#explain input[name=account_id]", "0000000000")
    await page.click("#explain button[type=submit]")
    await expect(page.locator("#error")).to_contain_text("no account 0000000000")
