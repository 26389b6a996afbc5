"""End to end in Chromium: a supervisor at the claims desk files a claim with a receipt from a verified
contact, grants part of it, and sees the credit and the account's new balance.

The hub is seeded in-process (the supervisor, the claims and correspondence plugins enabled for the
customer service center, a seeded customer, and the supervisor's phone contact verified for that
customer), then served by granian from ``core.asgi`` and driven by Playwright.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from playwright.async_api import expect

import plugins.claims as claims
import plugins.correspondence as correspondence
from core.app import create_app
from core.ccb.seed import identity_key, seed_customers
from core.contact.pages import dollars
from core.contract.testing import BROWSER_PASSWORD as E2E_PASSWORD
from core.contract.testing import serve_hub, sign_in
from core.hub import Hub
from core.sections import set_enabled
from core.settings import Settings

pytestmark = pytest.mark.browser


SECRET = "e2e-secret"
SUPERVISOR = "sam.supervisor"
SECTION = "customer-service-center"
RECEIPT = b"%PDF-1.4\n% plumber's receipt\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


async def _seed(database_url: str) -> dict[str, Any]:
    """The supervisor, both plugins enabled, one customer, and the supervisor's contact verified for it."""
    settings = msgspec.convert({"database_url": database_url, "secret_key": SECRET}, Settings)
    hub = Hub(settings, extra_plugins=[correspondence, claims], entry_points=False)
    await hub.start()
    try:
        async with hub.db.session() as session:
            _user, token = await hub.staff.add_user(
                session,
                name=SUPERVISOR,
                role="supervisor",
                sections=[SECTION],
                password=E2E_PASSWORD,
                actor="e2e",
            )
            for plugin_id in ("correspondence", "claims"):
                await set_enabled(
                    session,
                    hub.events,
                    hub.audit,
                    plugin_id=plugin_id,
                    section=SECTION,
                    enabled=True,
                    actor="e2e",
                )
        (customer,) = await seed_customers(hub.db, 1, 17, identity_key(SECRET))
        auth = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=create_app(hub, manage_hub=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            opened = await client.post("/api/contacts", json={"channel": "phone"}, headers=auth)
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
        balance = (await hub.ccb.get_balance(customer.account_id)).balance_cents
        return {"account": customer.account_id, "contact": contact_id, "balance": balance}
    finally:
        await hub.stop()


@pytest.fixture
async def seeded(hub_database_url: str) -> dict[str, Any]:
    return await _seed(hub_database_url)


@pytest.fixture
def claims_live_hub(
    hub_database_url: str, seeded: dict[str, Any], tmp_path: Path
) -> Iterator[dict[str, Any]]:
    env = {"HUB_DATABASE_URL": hub_database_url, "HUB_SECRET_KEY": SECRET}
    with serve_hub(env, tmp_path) as base:
        yield {"base": base, **seeded}


async def test_a_supervisor_files_a_claim_grants_part_of_it_and_sees_the_credit(
    claims_live_hub: dict[str, Any], browser_page: Any
) -> None:
    page, hub = browser_page, claims_live_hub
    await sign_in(page, hub["base"], "/ui/claims/", SUPERVISOR)
    await expect(page.locator("h1")).to_have_text("Claims")
    await expect(page.locator("#claims tbody")).to_contain_text("No claim is waiting for a decision.")

    intake = page.locator("#intake-form")
    await intake.locator("input[name=contact_id]").fill(hub["contact"])
    await intake.locator("input[name=account_id]").fill(hub["account"])
    await intake.locator("input[name=claimant_name]").fill("Rosa Diaz")
    await intake.locator("input[name=claimant_email]").fill("rosa.diaz@example.com")
    await intake.locator("select[name=incident]").select_option("water_main_break")
    await intake.locator("select[name=loss]").select_option("water_lost")
    await intake.locator("textarea[name=description]").fill(
        "The main broke in the street; water ran for two days."
    )
    await intake.locator("input[name=claimed]").fill("125.00")
    await intake.locator("input[name=documents]").set_input_files(
        files=[{"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": RECEIPT}]
    )
    await intake.locator("button[type=submit]").click()
    await expect(page.locator("#notice")).to_contain_text(f"filed for account {hub['account']}: covered.")
    row = page.locator("#claims tbody tr[data-claim]")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Rosa Diaz")
    await expect(row.locator(".claimed")).to_have_text("$125.00")
    detail = page.locator("#claims tbody tr[data-claim-detail]")
    await expect(detail.locator(".documents a")).to_have_text("receipt.pdf")

    # A grant above the claim is refused on the page, naming the field; nothing is credited.
    await detail.locator(".grant-box summary").click()
    await detail.locator("form.grant input[name=amount]").fill("130.00")
    await detail.locator("form.grant input[name=reason]").fill("Crew report confirms the main break.")
    await detail.locator("form.grant button[type=submit]").click()
    await expect(page.locator("#error")).to_contain_text("amount_cents: is above the 12500 cents claimed")

    detail = page.locator("#claims tbody tr[data-claim-detail]")
    await detail.locator("form.grant input[name=amount]").fill("90.00")
    await detail.locator("form.grant button[type=submit]").click()
    notice = page.locator("#notice")
    await expect(notice).to_contain_text("granted: $90.00 credited to service agreement")
    await expect(notice).to_contain_text(f"balance now {dollars(hub['balance'] - 9_000)}")
    await expect(page.locator("#claims tbody")).to_contain_text("No claim is waiting for a decision.")
    decided = page.locator("#decided-claims tbody tr[data-claim]")
    await expect(decided).to_have_count(1)
    await expect(decided.locator(".status")).to_contain_text("granted")
    await expect(decided.locator(".granted")).to_have_text("$90.00")
