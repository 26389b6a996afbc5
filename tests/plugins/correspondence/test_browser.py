"""End to end in Chromium: a CSR picks a letter template, gives the account and the letter's details,
generates the letter and downloads its Word document; an unknown account comes back naming the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from docx import Document
from playwright.async_api import async_playwright, expect

import plugins.correspondence as correspondence
from core.ccb.seed import identity_key, seed_customers
from core.contract.contact import ContactDesk
from core.contract.testing import BROWSER_PASSWORD as E2E_PASSWORD
from core.contract.testing import CHROMIUM_ARGS, serve_hub, sign_in
from core.hub import Hub
from core.sections import set_enabled
from core.settings import Settings

pytestmark = pytest.mark.browser


SECRET = "e2e-secret"
SECTION = "customer-service-center"
CSR = "cora.csr"


async def _seed(database_url: str) -> str:
    """A CSR, the plugin enabled for the counter, and one customer; returns the customer's account id."""
    settings = msgspec.convert({"database_url": database_url, "secret_key": SECRET}, Settings)
    hub = Hub(settings, extra_plugins=[correspondence], entry_points=False)
    await hub.start()
    try:
        (customer,) = await seed_customers(hub.db, 1, 5, identity_key(SECRET))
        async with hub.db.session() as session:
            _user, token = await hub.staff.add_user(
                session, name=CSR, role="csr", sections=[SECTION], password=E2E_PASSWORD, actor="e2e"
            )
            await set_enabled(
                session,
                hub.events,
                hub.audit,
                plugin_id="correspondence",
                section=SECTION,
                enabled=True,
                actor="e2e",
            )
        # The CSR is on a call with the customer, verified (issue 13: a letter needs the verified contact).
        staff = await hub.staff.resolve_token(str(token))
        desk = hub.plugins.offers[ContactDesk][1]
        contact = await desk.open_contact(channel="phone", actor=f"staff:{CSR}", owner=CSR)
        result = await desk.verify(
            staff, contact.contact_id, customer.account_id, "access_code", customer.access_code
        )
        assert result.verified
        return customer.account_id
    finally:
        await hub.stop()


@pytest.fixture
async def account(hub_database_url: str) -> str:
    return await _seed(hub_database_url)


@pytest.fixture
def served(account: str, hub_database_url: str, tmp_path: Path) -> Iterator[str]:
    """The seeded hub served by granian (``core.asgi:app``, every installed plugin)."""
    env = {"HUB_DATABASE_URL": hub_database_url, "HUB_SECRET_KEY": SECRET}
    with serve_hub(env, tmp_path) as base:
        yield base


async def test_a_csr_generates_a_letter_and_downloads_the_docx(
    served: str, account: str, chromium_path: str, tmp_path: Path
) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        try:
            page: Any = await (await browser.new_context(accept_downloads=True)).new_page()
            page.set_default_timeout(15_000)
            await sign_in(page, served, "/ui/correspondence/", CSR)
            await expect(page.locator("h1")).to_have_text("Letters")

            letter = page.locator('details[data-template="returned_mail_follow_up"]')
            await letter.locator("summary").click()
            # An account that passes the form's pattern but that the CCB does not know: named, 404.
            await letter.locator("input[name=account_id]").fill("9999999999")
            await letter.locator("input[name='field.returned_item_date']").fill("2026-02-14")
            await letter.locator("button[type=submit]").click()
            await expect(page.locator("#error")).to_contain_text("account_id: no account 9999999999")
            # The form comes back open with what was typed.
            letter = page.locator('details[data-template="returned_mail_follow_up"]')
            await expect(letter.locator("input[name='field.returned_item_date']")).to_have_value("2026-02-14")
            await letter.locator("input[name=account_id]").fill(account)
            await letter.locator("button[type=submit]").click()

            await expect(page.locator("#created")).to_contain_text(
                f"Returned mail follow-up, generated for account {account}"
            )
            row = page.locator("#letters tbody tr[data-letter]")
            await expect(row).to_have_count(1)
            await expect(row.locator(".status")).to_contain_text("queued")
            async with page.expect_download() as info:
                await page.locator("#download").click()
            download = await info.value
            assert download.suggested_filename.endswith("-returned_mail_follow_up.docx")
            saved = tmp_path / download.suggested_filename
            await download.save_as(saved)
            text = "\n".join(p.text for p in Document(str(saved)).paragraphs)
            assert "Mail we sent on February 14, 2026" in text and f"Account {account}" in text
        finally:
            await browser.close()
