"""End to end in Chromium: a lead works the escalation queue — a decision without a reason is refused, one
escalation is approved and one denied, each with its reason — and the Customer Relations Office resolves an
escalation mailed in by management.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright, expect

import plugins.escalations as escalations
from core.contract.testing import CHROMIUM_ARGS, prepared_hub, serve_hub, sign_in
from plugins.escalations.models import Escalation

pytestmark = pytest.mark.browser

SECRET = "e2e-secret"
CALLS, CRO_SECTION = "call-center", "customer-relations"
LEAD, CRO = "lee.lead", "cruz.cro"


def waiting(queue: str, kind: str, summary: str, now: dt.datetime, **extra: Any) -> Escalation:
    return Escalation(
        kind=kind,
        urgency="high",
        queue=queue,
        status="open",
        source="cro_intake" if queue == "cro" else "contact",
        account_id=None,
        summary=summary,
        requested_by="mail:gm@example.org" if queue == "cro" else "staff:ann",
        raised_at=now,
        due_at=now + dt.timedelta(minutes=30),
        **extra,
    )


async def _seed(database_url: str) -> None:
    """A lead and a CRO, the plugin enabled for both sections, two lead escalations and one for the CRO."""
    async with prepared_hub(
        database_url,
        SECRET,
        plugins=[escalations],
        staff={LEAD: ("lead", [CALLS]), CRO: ("cro", [CRO_SECTION])},
        enable={"escalations": [CALLS, CRO_SECTION]},
    ) as hub:
        now = hub.clock.now()
        async with hub.db.session() as session:
            session.add_all(
                [
                    waiting("lead", "same_day_service", "Medical equipment at home, service today", now),
                    waiting("lead", "deposit_waiver", "Waive the deposit for a new start", now),
                    waiting(
                        "cro",
                        "cro_request",
                        "Customer wrote to the general manager",
                        now,
                        requester_email="gm@example.org",
                    ),
                ]
            )


@pytest.fixture
async def seeded(hub_database_url: str) -> str:
    await _seed(hub_database_url)
    return hub_database_url


@pytest.fixture
def served(seeded: str, tmp_path: Path) -> Iterator[str]:
    """The seeded hub served by granian (``core.asgi:app``, every installed plugin)."""
    env = {"HUB_DATABASE_URL": seeded, "HUB_SECRET_KEY": SECRET}
    with serve_hub(env, tmp_path) as base:
        yield base


async def signed_in_page(browser: Any, base: str, path: str, name: str) -> Any:
    page = await (await browser.new_context()).new_page()
    page.set_default_timeout(15_000)
    await sign_in(page, base, path, name)
    return page


async def test_a_lead_decides_with_reasons_and_the_cro_resolves(served: str, chromium_path: str) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        try:
            lead = await signed_in_page(browser, served, "/ui/escalations/", LEAD)
            await expect(lead.locator("h1")).to_have_text("Lead and supervisor escalations")
            rows = lead.locator("#escalations tbody tr[data-escalation]")
            await expect(rows).to_have_count(2)
            service = rows.filter(has_text="Medical equipment")
            # The browser asks for a reason first; without the browser's check the hub refuses, naming it.
            await service.locator("input[name=reason]").evaluate("el => el.removeAttribute('required')")
            await service.locator("button.approve").click()
            await expect(lead.locator("#error")).to_contain_text("reason: give a reason")
            service = lead.locator("#escalations tbody tr[data-escalation]").filter(
                has_text="Medical equipment"
            )
            await service.locator("input[name=reason]").fill("Life-support equipment: same day")
            await service.locator("button.approve").click()
            waiver = lead.locator("#escalations tbody tr[data-escalation]").filter(
                has_text="Waive the deposit"
            )
            await waiver.locator("input[name=reason]").fill("Two late payments this year")
            await waiver.locator("button.deny").click()
            await expect(lead.locator("#escalations tbody")).to_contain_text("Nothing waiting.")
            decided = lead.locator("#decided tbody tr[data-escalation]")
            await expect(decided.filter(has_text="Medical equipment").locator(".status")).to_have_text(
                "approved"
            )
            await expect(decided.filter(has_text="Waive the deposit").locator(".status")).to_have_text(
                "denied"
            )
            await expect(decided.filter(has_text="Waive the deposit")).to_contain_text("Two late payments")
            await expect(decided.filter(has_text="Medical equipment")).to_contain_text("staff:lee.lead")

            cro = await signed_in_page(browser, served, "/ui/escalations/cro", CRO)
            await expect(cro.locator("h1")).to_have_text("Customer Relations Office escalations")
            mailed = cro.locator("#escalations tbody tr[data-escalation]")
            await expect(mailed).to_have_count(1)
            await mailed.locator("input[name=reason]").fill("Called the customer; bill corrected.")
            await mailed.locator("form.resolve button").click()
            await expect(cro.locator("#escalations tbody")).to_contain_text("Nothing waiting.")
            await expect(cro.locator("#decided .status").first).to_have_text("resolved")
        finally:
            await browser.close()
