"""End to end in Chromium: a CSR picks a letter template, gives the account and the letter's details,
generates the letter and downloads its Word document; an unknown account comes back naming the field.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from docx import Document
from playwright.async_api import async_playwright, expect

import plugins.correspondence as correspondence
from core.ccb.seed import identity_key, seed_customers
from core.hub import Hub
from core.sections import set_enabled
from core.settings import Settings
from tests.e2e.conftest import CHROMIUM_ARGS, E2E_PASSWORD, ROOT, _free_port

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
            await hub.staff.add_user(
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
        return customer.account_id
    finally:
        await hub.stop()


@pytest.fixture
async def account(hub_database_url: str) -> str:
    return await _seed(hub_database_url)


@pytest.fixture
def served(account: str, hub_database_url: str, tmp_path: Path) -> Iterator[str]:
    """The seeded hub served by granian (``core.asgi:app``, every installed plugin)."""
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HUB_")},
        "HUB_DATABASE_URL": hub_database_url,
        "HUB_SECRET_KEY": SECRET,
        "PYTHONPATH": str(ROOT),
    }
    granian = str(Path(sys.executable).parent / "granian")
    args = [granian, "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port), "core.asgi:app"]
    with (tmp_path / "granian.log").open("w") as log:
        proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            # A busy machine (parallel test runs on two cores) can take well over 30 s to start a worker.
            deadline, last = time.monotonic() + 60, "no answer"
            while True:
                try:
                    ready = httpx.get(base + "/health/ready", timeout=1)
                    if ready.status_code == 200:
                        break
                    last = f"{ready.status_code} {ready.text[:500]}"
                except httpx.HTTPError as exc:
                    last = repr(exc)
                if proc.poll() is not None or time.monotonic() > deadline:
                    log_text = (tmp_path / "granian.log").read_text()
                    raise RuntimeError(f"the hub did not start (ready: {last}):\n{log_text}")
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


async def test_a_csr_generates_a_letter_and_downloads_the_docx(
    served: str, account: str, chromium_path: str, tmp_path: Path
) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        try:
            page: Any = await (await browser.new_context(accept_downloads=True)).new_page()
            page.set_default_timeout(15_000)
            await page.goto(f"{served}/ui/correspondence/")
            await page.fill("input[name=name]", CSR)
            await page.fill("input[name=password]", E2E_PASSWORD)
            await page.click("button[type=submit]")
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
