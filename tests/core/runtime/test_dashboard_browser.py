"""End to end in headless Chromium: sign in, see plugins and checks, enable a plugin, open its page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.contract.testing import sign_in

pytestmark = pytest.mark.browser


async def sign_in_to_dashboard(page: Any, base: str, name: str, password: str) -> None:
    await page.goto(base + "/ui/")
    assert "/ui/login" in page.url  # unauthenticated visitors are sent to the login page
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r".*/ui/?$"))


async def test_admin_enables_a_plugin_and_opens_its_page(
    live_hub: dict[str, Any], browser_page: Any, tmp_path: Any
) -> None:
    page, base = browser_page, live_hub["base"]
    await sign_in_to_dashboard(page, base, "admin", live_hub["password"])
    assert await page.locator("h1").first.inner_text() == "Dashboard"
    assert await page.locator('tr[data-plugin="example"] .badge').inner_text() == "active"
    assert await page.locator('tr[data-check="core.database"] .badge').inner_text() == "pass"
    assert await page.locator("nav.nav >> text=Ping board").count() == 0

    await page.click('button[data-toggle="example@lead"]')
    # With htmx the row is swapped in place; without it the form posts and the page reloads: both end here.
    await page.locator('button.toggle.on[data-toggle="example@lead"]').wait_for()
    await page.reload()
    assert await page.locator('tr[data-plugin="example"] td').nth(3).inner_text() == "lead"

    await page.click("nav.nav >> text=Ping board")
    await page.wait_for_url(re.compile(r".*/ui/example/?$"))
    assert await page.locator("h1").inner_text() == "Ping board"
    await page.screenshot(path=str(tmp_path / "ping-board.png"))


async def test_wrong_password_is_refused_and_security_user_sees_checks(
    live_hub: dict[str, Any], browser_page: Any
) -> None:
    page, base = browser_page, live_hub["base"]
    await sign_in(page, base, "/ui/login", "sec.officer", "not the password")
    assert "Wrong name or password" in await page.locator(".error").inner_text()
    await sign_in_to_dashboard(page, base, "sec.officer", live_hub["password"])
    before = await page.locator('tr[data-check="core.database"] td.muted').inner_text()
    await page.wait_for_timeout(1100)  # the checked-at column has one-second resolution
    await page.click("text=Run checks now")
    await page.wait_for_function(
        "b => document.querySelector('tr[data-check=\"core.database\"] td.muted').innerText !== b", arg=before
    )
    rows = page.locator("#checks tbody tr")
    assert await rows.count() >= 4  # the core's three checks and the example's compliance check
    assert "Enable plugins per section" not in await page.content()
