"""The web shell over HTTP: login with CSRF, lockout, the dashboard, and the admin's enable toggle."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from tests import example_plugin

PASSWORD = "correct horse battery"


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [example_plugin]


def csrf_of(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "the form carries no CSRF token"
    return found.group(1)


async def login(client: Any, name: str, password: str = PASSWORD) -> Any:
    page = await client.get("/ui/login")
    return await client.post(
        "/ui/login",
        data={"name": name, "password": password, "next": "/ui/", "_csrf_token": csrf_of(page.text)},
    )


async def test_unauthenticated_pages_redirect_to_login(hub_client: Any) -> None:
    r = await hub_client.get("/ui/")
    assert r.status_code in (302, 303)
    assert r.headers["location"] in ("/ui/login?next=%2Fui%2F", "/ui/login?next=%2Fui")


async def test_login_without_csrf_token_is_refused(hub_client: Any, staff_token: Any) -> None:
    await staff_token("csr", "call-center", name="ana", password=PASSWORD)
    r = await hub_client.post("/ui/login", data={"name": "ana", "password": PASSWORD})
    assert r.status_code == 403


async def test_login_shows_dashboard_with_plugins_and_checks(hub_client: Any, staff_token: Any) -> None:
    await staff_token("csr", "call-center", name="ana", password=PASSWORD)
    r = await login(hub_client, "ana")
    assert r.status_code in (302, 303) and r.headers["location"] == "/ui/"
    page = await hub_client.get("/ui/")
    assert page.status_code == 200
    assert 'data-plugin="example"' in page.text
    assert 'data-check="core.database"' in page.text
    assert "Enable plugins per section" not in page.text  # only admins get the toggles


async def test_wrong_password_and_lockout_after_ten_failures(
    hub_client: Any, staff_token: Any, hub_clock: Any
) -> None:
    await staff_token("lead", "lead", name="lee", password=PASSWORD)
    for _ in range(9):
        r = await login(hub_client, "lee", "wrong password!")
        assert r.status_code == 401 and "Wrong name or password" in r.text
    r = await login(hub_client, "lee", "wrong password!")
    assert r.status_code == 401 and "locked until" in r.text
    r = await login(hub_client, "lee")  # the right password is refused while locked
    assert r.status_code == 401 and "locked until" in r.text
    hub_clock.advance(dt.timedelta(minutes=31))
    r = await login(hub_client, "lee")
    assert r.status_code in (302, 303)


async def test_unknown_user_gets_the_same_answer(hub_client: Any) -> None:
    r = await login(hub_client, "nobody", "whatever-password")
    assert r.status_code == 401 and "Wrong name or password" in r.text


async def test_admin_enables_a_plugin_from_the_dashboard(hub_client: Any, staff_token: Any, hub: Any) -> None:
    await staff_token("admin", "lead", name="root.admin", password=PASSWORD)
    await login(hub_client, "root.admin")
    page = await hub_client.get("/ui/")
    assert 'data-toggle="example@call-center"' in page.text
    r = await hub_client.post(
        "/ui/plugins/example/sections/call-center", data={"enabled": "1", "_csrf_token": csrf_of(page.text)}
    )
    assert r.status_code in (302, 303)
    assert hub.enablement.sections_for("example") == frozenset({"call-center"})
    page = await hub_client.get("/ui/")
    assert re.search(r'class="toggle on"\s+name="toggle"\s+data-toggle="example@call-center"', page.text)


async def test_csr_cannot_post_the_admin_toggle(hub_client: Any, staff_token: Any, hub: Any) -> None:
    await staff_token("csr", "call-center", name="ana", password=PASSWORD)
    await login(hub_client, "ana")
    page = await hub_client.get("/ui/")
    r = await hub_client.post(
        "/ui/plugins/example/sections/call-center", data={"enabled": "1", "_csrf_token": csrf_of(page.text)}
    )
    assert r.status_code == 403
    assert hub.enablement.sections_for("example") == frozenset()


async def test_plugin_page_in_nav_only_when_enabled(
    hub_client: Any, staff_token: Any, enable_plugin: Any
) -> None:
    await staff_token("csr", "call-center", name="ana", password=PASSWORD)
    await login(hub_client, "ana")
    assert "Ping board" not in (await hub_client.get("/ui/")).text
    assert (await hub_client.get("/ui/example/")).status_code == 403
    await enable_plugin("example", "call-center")
    assert 'href="/ui/example"' in (await hub_client.get("/ui/")).text
    board = await hub_client.get("/ui/example/")
    assert board.status_code == 200 and "No pings yet" in board.text


async def test_logout_ends_the_session(hub_client: Any, staff_token: Any) -> None:
    await staff_token("csr", "call-center", name="ana", password=PASSWORD)
    await login(hub_client, "ana")
    page = await hub_client.get("/ui/")
    r = await hub_client.post("/ui/logout", data={"_csrf_token": csrf_of(page.text)})
    assert r.status_code in (302, 303)
    assert (await hub_client.get("/ui/")).status_code in (302, 303)


async def test_login_redirect_target_stays_on_site(hub_client: Any, staff_token: Any) -> None:
    await staff_token("csr", "call-center", name="ana", password=PASSWORD)
    page = await hub_client.get("/ui/login")
    r = await hub_client.post(
        "/ui/login",
        data={
            "name": "ana",
            "password": PASSWORD,
            "next": "https://evil.example/",
            "_csrf_token": csrf_of(page.text),
        },
    )
    assert r.headers["location"] == "/ui/"
