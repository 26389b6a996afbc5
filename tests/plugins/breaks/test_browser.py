"""End to end in Chromium: a lead generates the day's break draft from the phone simulator's forecast, sees
the intervals it cannot staff, moves a meal past its legal window (a V4 violation blocks publishing), moves
it back and publishes. A forecast from history with nothing recorded is refused on the page, naming the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright, expect

import plugins.breaks as breaks
from core.contract.testing import CHROMIUM_ARGS, prepare_hub, serve_hub, sign_in

pytestmark = pytest.mark.browser
# The browser fixtures live with the e2e suite; bound here, they are this module's fixtures too.

SECRET = "e2e-secret"
SECTION = "call-center"
LEAD = "lou.lead"
DAY = "2026-02-23"


async def _seed(database_url: str) -> None:
    """A lead of the call center, with the breaks plugin enabled there."""
    await prepare_hub(
        database_url,
        SECRET,
        plugins=[breaks],
        staff={LEAD: ("lead", [SECTION])},
        enable={"breaks": [SECTION]},
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


async def test_a_lead_generates_fixes_and_publishes_the_days_breaks(served: str, chromium_path: str) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        try:
            page: Any = await (await browser.new_context(viewport={"width": 1300, "height": 900})).new_page()
            page.set_default_timeout(15_000)
            await sign_in(page, served, f"/ui/breaks/?day={DAY}", LEAD)
            await expect(page.locator("h1")).to_contain_text("Breaks — ")
            # The day is picked on the page (sign-in returns to the path without its query).
            await page.fill("form#pick-day input[name=day]", DAY)
            await page.click("form#pick-day button")
            await expect(page.locator("h1")).to_have_text(f"Breaks — {DAY}")
            await expect(page.locator("#no-schedule")).to_be_visible()

            generate = page.locator("form#generate")
            await generate.locator("textarea[name=shifts]").fill(
                "ana 08:00-16:30\nben 08:00-16:30\ncy 08:30-17:00\ndi 08:30-17:00"
            )
            # Nothing recorded on earlier Mondays: the page says so, names the field, keeps the shifts.
            await generate.locator("input[name=source][value=history]").check()
            await generate.locator("button[type=submit]").click()
            await expect(page.locator("#error")).to_contain_text("forecast.source: no calls recorded")
            await expect(page.locator("form#generate textarea[name=shifts]")).to_have_value(
                "ana 08:00-16:30\nben 08:00-16:30\ncy 08:30-17:00\ndi 08:30-17:00"
            )
            await page.locator("form#generate input[name=source][value=simulator]").check()
            await page.locator("form#generate button[type=submit]").click()

            await expect(page.locator("#status")).to_have_text("draft")
            await expect(page.locator("#forecast")).to_contain_text("phone simulator's daily profile")
            await expect(page.locator("#grid tr[data-agent]")).to_have_count(4)
            await expect(page.locator("#calls td").first).to_have_text("90")
            # Four CSRs against the simulator's morning: short everywhere, for want of people, not breaks.
            await expect(page.locator("#shortfalls li").first).to_contain_text("too few on shift")
            await expect(page.locator("#violations")).to_contain_text("None.")

            # Push ana's meal past the end of her fifth hour: V4, and publishing is refused.
            meal = page.locator("#breaks tr[data-agent=ana][data-kind=meal]")
            planned = await meal.locator("td.start").inner_text()
            await meal.locator("input[name=start]").fill("13:45")
            await meal.locator("button").click()
            await expect(page.locator('#violations li[data-rule="V4"]')).to_contain_text("ana")
            await page.locator("form#publish button").click()
            await expect(page.locator("#error")).to_contain_text("violations: ")
            await expect(page.locator("#status")).to_have_text("draft")

            meal = page.locator("#breaks tr[data-agent=ana][data-kind=meal]")
            await meal.locator("input[name=start]").fill(planned)
            await meal.locator("button").click()
            await expect(page.locator("#violations")).to_contain_text("None.")
            await page.locator("form#publish button").click()
            await expect(page.locator("#status")).to_have_text("published")
            await expect(page.locator("form#publish")).to_have_count(0)
        finally:
            await browser.close()
