"""End to end in Chromium: a CSR records counter requests with one click each and sees them counted in the
daily view; a lead sees everyone's counts and downloads the month's Excel workbook from the page.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.async_api import async_playwright, expect

import plugins.metrics as metrics
from core.contract.testing import CHROMIUM_ARGS, prepare_hub, serve_hub, sign_in

pytestmark = pytest.mark.browser
# The browser fixtures live with the e2e suite; bound here, they are this module's fixtures too.

SECRET = "e2e-secret"
COUNTER = "customer-service-center"
CSR, LEAD = "cleo.csr", "lena.lead"


async def _seed(database_url: str) -> None:
    """A counter CSR and a lead, with the metrics plugin enabled for the counter and the leads."""
    await prepare_hub(
        database_url,
        SECRET,
        plugins=[metrics],
        staff={CSR: ("csr", [COUNTER]), LEAD: ("lead", ["lead", COUNTER])},
        enable={"metrics": [COUNTER, "lead"]},
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


async def signed_in_page(browser: Any, base: str, name: str) -> Any:
    page = await (await browser.new_context(accept_downloads=True)).new_page()
    page.set_default_timeout(15_000)
    await sign_in(page, base, "/ui/metrics/", name)
    await expect(page.locator("h1")).to_contain_text("Metrics for ")
    return page


async def count_shown(page: Any, kind: str, expected: str) -> None:
    """The tally follows the event through the bus: reload until the daily view shows it (or time out)."""
    cell = page.locator(f'td[data-kind="{kind}"]')
    deadline = time.monotonic() + 10
    while True:
        if await cell.count() and (await cell.first.inner_text()).strip() == expected:
            return
        if time.monotonic() > deadline:
            await expect(cell.first).to_have_text(expected)
        await page.wait_for_timeout(200)
        await page.reload()


async def test_a_csr_counts_requests_in_one_click_and_a_lead_downloads_the_month(
    served: str, chromium_path: str, tmp_path: Path
) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        try:
            csr = await signed_in_page(browser, served, CSR)
            await expect(csr.locator("#nothing")).to_be_visible()
            await expect(csr.locator("#monthly")).to_have_count(0)  # the workbook is the leads'
            await csr.get_by_role("button", name="Bill copy").click()
            await expect(csr.locator("#recorded")).to_contain_text("Counter: bill copy")
            await csr.get_by_role("button", name="Bill copy").click()
            await csr.get_by_role("button", name="Assistance form").click()
            await count_shown(csr, "counter.bill_copy", "2")
            await count_shown(csr, "counter.assistance_form", "1")

            lead = await signed_in_page(browser, served, LEAD)
            await count_shown(lead, "counter.bill_copy", "2")
            await expect(lead.locator(f'tr[data-staff="{CSR}"]')).to_be_visible()
            async with lead.expect_download() as info:
                await lead.locator("form#monthly-report button").click()
            download = await info.value
            assert download.suggested_filename.startswith(
                "metrics-"
            ) and download.suggested_filename.endswith(".xlsx")
            saved = tmp_path / download.suggested_filename
            await download.save_as(saved)
            workbook = load_workbook(saved)
            sheet = workbook[COUNTER]
            header = [c.value for c in sheet[1]]
            assert "Counter: bill copy" in header and "Counter: assistance form" in header
            staff_rows = [[c.value for c in row] for row in sheet.iter_rows() if row[0].value == CSR]
            assert staff_rows and staff_rows[0][header.index("Counter: bill copy")] == 2
        finally:
            await browser.close()
