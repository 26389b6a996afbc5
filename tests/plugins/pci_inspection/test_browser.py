"""End to end on a phone-sized Chromium: a security officer runs the checklist on two terminals, one fails.

The hub is seeded in-process (a security officer, the plugin enabled for the security section, a risk
analysis and two deployed terminals), then served by granian from ``core.asgi`` and driven by
Playwright with a touch screen, as security staff use it at the windows.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from playwright.async_api import expect

import plugins.pci_inspection as pci
from core.app import create_app
from core.contract.testing import BROWSER_PASSWORD as E2E_PASSWORD
from core.contract.testing import CHROMIUM_ARGS, serve_hub
from core.hub import Hub
from core.sections import set_enabled
from core.settings import Settings

pytestmark = pytest.mark.browser

SECRET = "e2e-secret"
OFFICER = "sec.officer"
# The smallest JPEG header the upload check accepts: a photo "as found" of the failed card slot.
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200


async def _seed(database_url: str) -> dict[str, int]:
    """Officer, enablement, a risk analysis and two deployed terminals, written through the hub itself."""
    settings = msgspec.convert({"database_url": database_url, "secret_key": SECRET}, Settings)
    hub = Hub(settings, extra_plugins=[pci], entry_points=False)
    await hub.start()
    try:
        async with hub.db.session() as session:
            _user, token = await hub.staff.add_user(
                session,
                name=OFFICER,
                role="security",
                sections=["security"],
                password=E2E_PASSWORD,
                actor="e2e",
            )
            await set_enabled(
                session,
                hub.events,
                hub.audit,
                plugin_id="pci_inspection",
                section="security",
                enabled=True,
                actor="e2e",
            )
        await hub.enablement.load(hub.db)
        headers = {"Authorization": f"Bearer {token}"}
        app: Any = create_app(hub, manage_hub=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://seed") as client:
            r = await client.post(
                "/api/pci_inspection/risk-analyses",
                headers=headers,
                json={
                    "title": "Attended lobby windows",
                    "scope": "Cash-window terminals in the main lobby",
                    "assets": "Card data read at the windows",
                    "threats": "Overlays, skimmers, swapped terminals",
                    "factors": "Attended, public lobby",
                    "frequency_days": 1,
                    "justification": "Heavy public traffic; start-of-shift check",
                },
            )
            analysis = r.json()["id"]
            ids = {}
            for serial, window in (("E2E-GOOD-1", "Window 1"), ("E2E-BAD-2", "Window 2")):
                r = await client.post(
                    "/api/pci_inspection/devices",
                    headers=headers,
                    json={
                        "make": "Verifone",
                        "model": "P400",
                        "serial_number": serial,
                        "site": "MAIN",
                        "window": window,
                        "status": "deployed",
                        "seal_ids": [f"S-{serial}"],
                        "risk_analysis_id": analysis,
                    },
                )
                assert r.status_code == 201, r.text
                ids[serial] = r.json()["id"]
        return ids
    finally:
        await hub.stop()


@pytest.fixture
async def pci_devices(hub_database_url: str) -> dict[str, int]:
    return await _seed(hub_database_url)


@pytest.fixture
def pci_live_hub(
    hub_database_url: str, pci_devices: dict[str, int], tmp_path: Path
) -> Iterator[dict[str, Any]]:
    """The seeded hub served by granian on a free port (as the shell's own browser tests do)."""
    env = {"HUB_DATABASE_URL": hub_database_url, "HUB_SECRET_KEY": SECRET}
    with serve_hub(env, tmp_path) as base:
        yield {"base": base, "devices": pci_devices}


@pytest.fixture
async def phone(chromium_path: str) -> AsyncIterator[Any]:
    """A phone-sized touch screen (the checklist is done standing at the window)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        context = await browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2
        )
        page = await context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            await context.close()
            await browser.close()


async def complete_checklist(page: Any, serial: str, *, fail: dict[int, str] | None = None) -> None:
    """Tap one answer per item; a failed item gets its note and a photo; then record the inspection."""
    fail = fail or {}
    card = page.locator(f'details[data-device="{serial}"]')
    for n in range(1, 15):
        item = card.locator(f'li[data-item="{n}"]')
        await item.locator("label.pci-tap.fail" if n in fail else "label.pci-tap.pass").tap()
        if n in fail:
            await item.locator(f'textarea[name="note_{n}"]').fill(fail[n])
            await item.locator(f'input[name="photo_{n}"]').set_input_files(
                files=[{"name": "as-found.jpg", "mimeType": "image/jpeg", "buffer": PHOTO}]
            )
    await card.locator("button.pci-submit").tap()
    await expect(page.locator("#recorded")).to_contain_text(serial)


async def test_officer_inspects_two_terminals_one_fails_and_the_dashboard_shows_it(
    pci_live_hub: dict[str, Any], phone: Any, tmp_path: Path
) -> None:
    page, base = phone, pci_live_hub["base"]
    await page.goto(base + "/ui/")
    assert "/ui/login" in page.url
    await page.fill("input[name=name]", OFFICER)
    await page.fill("input[name=password]", E2E_PASSWORD)
    await page.tap("button[type=submit]")
    await page.wait_for_url(re.compile(r".*/ui/?$"))

    await page.tap("nav.nav >> text=Terminal checklist")
    await page.wait_for_url(re.compile(r".*/ui/pci_inspection/?$"))
    assert await page.locator("details.pci-device").count() == 2
    assert await page.locator('details[data-device="E2E-BAD-2"] .badge').inner_text() == "overdue"
    # Usable on a phone: nothing wider than the screen.
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    await complete_checklist(page, "E2E-GOOD-1")
    assert "recorded: pass" in await page.locator("#recorded").inner_text()
    assert await page.locator('details[data-device="E2E-GOOD-1"] .badge').inner_text() == "inspected"

    # A fail without its note and photo is refused, naming what is missing, and nothing is recorded.
    bad = page.locator('details[data-device="E2E-BAD-2"]')
    for n in range(1, 15):
        await bad.locator(f'li[data-item="{n}"] label.pci-tap.{"fail" if n == 6 else "pass"}').tap()
    await bad.locator("button.pci-submit").tap()
    await expect(bad.locator("ul.error")).to_contain_text("item 6 (Card slot) failed: say what you saw")
    await expect(bad.locator("ul.error")).to_contain_text("a photo as found is required")
    await bad.screenshot(path=str(tmp_path / "checklist-refused.png"))

    await complete_checklist(page, "E2E-BAD-2", fail={6: "Extra bezel over the card slot, glue at the edge"})
    banner = await page.locator("#recorded").inner_text()
    assert "E2E-BAD-2 is OUT OF SERVICE" in banner and "Do not" in banner
    assert await page.locator("details.pci-device").count() == 1  # only the good one is still in service
    assert "no incident record yet" in await page.locator("#not-in-service").inner_text()
    await page.screenshot(path=str(tmp_path / "checklist-after-fail.png"), full_page=True)

    await page.tap("nav.nav >> text=Dashboard")
    await expect(page.locator("h1").first).to_have_text("Dashboard")
    await page.tap("text=Run checks now")
    # The checks ran at sign-in, when both terminals were overdue; now the inspected one passes.
    inspected = page.locator('tr[data-check="pci_inspection.terminals_inspected"]')
    await expect(inspected.locator(".badge")).to_have_text("pass")
    incident = page.locator('tr[data-check="pci_inspection.out_of_service_has_incident"]')
    assert await incident.locator(".badge").inner_text() == "fail"
    assert "E2E-BAD-2 (MAIN Window 2)" in await incident.inner_text()
    await page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    await page.goto(base + f"/ui/pci_inspection/devices/{pci_live_hub['devices']['E2E-BAD-2']}")
    assert await page.locator("#status").inner_text() == "Out of service"
    assert "Extra bezel" in await page.locator("#inspections").inner_text()
