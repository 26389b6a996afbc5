"""In Chromium, every main page of every installed plugin runs under the Content-Security-Policy without
a single violation: no inline script, handler or style is left in a page (core/http_headers.py)."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from core.contract.testing import serve_hub, sign_in
from core.hub import Hub
from core.sections import set_enabled
from core.settings import Settings

pytestmark = pytest.mark.browser

SECRET = "csp-browser-secret"
SECTION = "call-center"
PASSWORD = "csp-browser-password-1"


async def _seed(database_url: str) -> list[str]:
    """An admin and a CSR of the call center, with every installed plugin enabled there."""
    settings = msgspec.convert({"database_url": database_url, "secret_key": SECRET}, Settings)
    hub = Hub(settings)
    await hub.start()
    try:
        async with hub.db.session() as session:
            for name, role in (("ada.admin", "admin"), ("cara.csr", "csr")):
                await hub.staff.add_user(
                    session, name=name, role=role, sections=[SECTION], password=PASSWORD, actor="test"
                )
            ids = [ep.name for ep in importlib.metadata.entry_points(group="ccbhub.plugins")]
            for plugin_id in ids:
                await set_enabled(
                    session,
                    hub.events,
                    hub.audit,
                    plugin_id=plugin_id,
                    section=SECTION,
                    enabled=True,
                    actor="t",
                )
        return ids
    finally:
        await hub.stop()


@pytest.fixture
async def seeded(hub_database_url: str) -> str:
    assert len(await _seed(hub_database_url)) >= 10
    return hub_database_url


@pytest.fixture
def live(seeded: str, tmp_path: Path) -> Iterator[str]:
    with serve_hub({"HUB_DATABASE_URL": seeded, "HUB_SECRET_KEY": SECRET}, tmp_path) as base:
        yield base


async def test_no_page_violates_the_content_security_policy(live: str, browser_page: Any) -> None:
    page, base = browser_page, live
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: (
            violations.append(f"{page.url}: {msg.text}") if "Content Security Policy" in msg.text else None
        ),
    )
    page.on("pageerror", lambda exc: violations.append(f"{page.url}: script error {exc}"))

    response = await page.goto(base + "/ui/login")
    assert response is not None
    assert "script-src 'self'" in (await response.all_headers())["content-security-policy"]
    seen = 0
    for name in ("cara.csr", "ada.admin"):
        await page.context.clear_cookies()
        await sign_in(page, base, "/ui/login", name, PASSWORD)
        await page.wait_for_url(f"{base}/ui/")
        links = await page.eval_on_selector_all("header nav a", "els => els.map(e => e.getAttribute('href'))")
        assert len(links) >= 10, links  # the dashboard and the plugins' pages
        for href in dict.fromkeys(links):
            response = await page.goto(base + href)
            assert response is not None and response.status < 400, f"{href} → {response and response.status}"
            assert (await response.all_headers()).get("cache-control") == "no-store"
            await page.wait_for_load_state("load")
            seen += 1
    await page.wait_for_timeout(300)  # a late violation report (an SSE-filled banner) still arrives
    assert not violations, "\n".join(violations)
    assert seen >= 20


async def test_the_print_button_and_the_auto_submitting_select_work_without_inline_code(
    live: str, browser_page: Any
) -> None:
    page, base = browser_page, live
    await sign_in(page, base, "/ui/login", "ada.admin", PASSWORD)
    await page.wait_for_url(f"{base}/ui/")
    await page.set_content(
        "<form action='/ui/' method='get'><select name='site' data-autosubmit>"
        "<option value='a'>A</option><option value='b'>B</option></select></form>"
        "<button type='button' data-print>Print</button>"
    )
    await page.add_script_tag(url=base + "/static/hub.js")
    await page.evaluate("window.print = () => { window.printed = true; }")
    await page.click("button[data-print]")
    assert await page.evaluate("window.printed") is True
    async with page.expect_navigation():
        await page.select_option("select[data-autosubmit]", "b")
    assert page.url.endswith("site=b")
