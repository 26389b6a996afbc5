"""Every answer carries the security headers; HSTS and Secure cookies only over HTTPS, where a forwarded
``X-Forwarded-Proto`` counts only from a trusted proxy (HUB_TRUSTED_PROXIES)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import httpx
import pytest

from core.http_headers import CSP, HSTS, is_https, parse_networks, security_headers
from core.settings import SettingsError, load_settings
from tests import example_plugin

PASSWORD = "headers-password-1"
PROXY = "10.1.2.3"


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [example_plugin]


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {"trusted_proxies": ["10.1.0.0/16", "::1"]}


Connect = Callable[..., Any]


@pytest.fixture
def connect(hub_app: Any) -> Connect:
    """``async with connect(peer, scheme, **headers) as client``: requests reach the hub from ``peer``
    over ``scheme``; when a proxy says https the browser itself spoke https (so it sends Secure cookies)."""

    @asynccontextmanager
    async def open_client(
        peer: str = "127.0.0.1", scheme: str = "http", **headers: str
    ) -> AsyncIterator[Any]:
        async def served(scope: Any, receive: Any, send: Any) -> None:
            await hub_app({**scope, "scheme": scheme}, receive, send)

        browser = "https" if "https" in (scheme, headers.get("x-forwarded-proto", "")[:5]) else "http"
        transport = httpx.ASGITransport(app=served, client=(peer, 40000))
        async with httpx.AsyncClient(
            transport=transport, base_url=f"{browser}://hub.test", headers=headers
        ) as client:
            yield client

    return open_client


def check_common(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]


async def test_every_kind_of_answer_carries_the_headers(connect: Connect, staff_token: Any) -> None:
    token = await staff_token("csr", "call-center")
    async with connect(authorization=f"Bearer {token}") as client:
        answers = {
            "api": await client.get("/api/plugins"),
            "api error": await client.get("/api/plugins/nope/config-schema"),
            "no such route": await client.get("/api/no/such/route"),
            "page redirect": await client.get("/ui/"),
            "login page": await client.get("/ui/login"),
            "static": await client.get("/static/hub.css"),
            "health": await client.get("/health/live"),
        }
    for what, response in answers.items():
        assert response.status_code < 500, what
        check_common(response)
        assert "strict-transport-security" not in response.headers, what  # plain HTTP
    for what in ("api", "api error", "no such route", "page redirect", "login page"):
        assert answers[what].headers.get_list("cache-control") == ["no-store"], what
    assert answers["static"].headers.get("cache-control") != "no-store"  # the stylesheet may be cached
    # The API explorer loads Swagger UI from its CDN; only that page gets a policy that allows it.
    async with connect() as client:
        explorer = await client.get("/schema/swagger")
    assert "cdn.jsdelivr.net" in explorer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in explorer.headers["content-security-policy"]


async def sign_in(client: Any, staff_token: Any, name: str) -> httpx.Response:
    await staff_token("csr", "call-center", name=name, password=PASSWORD)
    page = await client.get("/ui/login")
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert csrf
    return await client.post("/ui/login", data={"name": name, "password": PASSWORD, "_csrf_token": csrf[1]})


def set_cookies(response: httpx.Response) -> dict[str, str]:
    return {value.split("=", 1)[0]: value for value in response.headers.get_list("set-cookie")}


@pytest.mark.parametrize(
    ("peer", "scheme", "forwarded", "secure"),
    [
        ("127.0.0.1", "http", None, False),  # plain HTTP
        ("127.0.0.1", "https", None, True),  # the server itself terminates TLS
        (PROXY, "http", "https", True),  # a trusted proxy terminated TLS
        ("::1", "http", "https, http", True),  # the first proxy in the chain saw https
        (PROXY, "http", "http", False),  # a trusted proxy, plain HTTP
        ("192.0.2.7", "http", "https", False),  # anyone else's header is not believed
    ],
)
async def test_hsts_and_secure_cookies_only_over_https(
    connect: Connect, staff_token: Any, peer: str, scheme: str, forwarded: str | None, secure: bool
) -> None:
    headers = {"x-forwarded-proto": forwarded} if forwarded else {}
    async with connect(peer, scheme, **headers) as client:
        login_page = await client.get("/ui/login")
        signed_in = await sign_in(
            client, staff_token, f"csr.{peer.replace(':', '').replace('.', '')}{scheme}"
        )
    assert signed_in.status_code in (302, 303)
    cookies = {**set_cookies(login_page), **set_cookies(signed_in)}
    assert {"hub_csrf", "hub_session"} <= set(cookies)
    for name, value in cookies.items():
        attributes = [a.strip().lower() for a in value.split(";")[1:]]
        assert ("secure" in attributes) is secure, (name, value)
        assert attributes.count("secure") <= 1
    assert "httponly" in cookies["hub_session"].lower()
    for response in (login_page, signed_in):
        assert response.headers.get("strict-transport-security") == (HSTS if secure else None)


def test_is_https_believes_only_trusted_peers() -> None:
    trusted = parse_networks(["10.0.0.0/8"])
    forwarded = [(b"x-forwarded-proto", b"https")]
    scope: Callable[..., Any] = dict
    assert is_https(scope(scheme="http", client=("10.9.9.9", 1), headers=forwarded), trusted)
    assert not is_https(scope(scheme="http", client=("11.0.0.1", 1), headers=forwarded), trusted)
    assert not is_https(scope(scheme="http", client=("10.9.9.9", 1), headers=forwarded), ())
    assert not is_https(scope(scheme="http", client=None, headers=forwarded), trusted)
    assert is_https(scope(scheme="https", client=None, headers=[]), ())


def test_trusted_proxies_setting(tmp_path: Any) -> None:
    toml = tmp_path / "hub.toml"
    toml.write_text("")
    env = {"HUB_TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/24,::1"}
    assert load_settings(env, toml).trusted_proxies == ["10.0.0.1", "192.168.0.0/24", "::1"]
    assert load_settings({}, toml).trusted_proxies == []
    with pytest.raises(SettingsError) as err:
        load_settings({"HUB_TRUSTED_PROXIES": "10.0.0.1,not-an-address"}, toml)
    assert err.value.key == "HUB_TRUSTED_PROXIES"
    assert "not-an-address" in str(err.value)
    toml.write_text('trusted_proxies = ["10.0.0.0/8"]\n')
    assert load_settings({}, toml).trusted_proxies == ["10.0.0.0/8"]
    toml.write_text('trusted_proxy = ["10.0.0.0/8"]\n')
    with pytest.raises(SettingsError):  # the strict unknown-key rule still holds
        load_settings({}, toml)


async def test_a_private_answer_is_never_cacheable_whatever_the_handler_said() -> None:
    hook = security_headers(())

    async def cache_control(path: str, given: bytes | None) -> list[bytes]:
        headers = [(b"content-type", b"text/html")] + ([(b"cache-control", given)] if given else [])
        message: Any = {"type": "http.response.start", "status": 200, "headers": headers}
        await hook(message, cast(Any, {"type": "http", "path": path, "headers": []}))
        return [value for key, value in message["headers"] if key == b"cache-control"]

    assert await cache_control("/api/x", b"public, max-age=600") == [b"no-store"]
    assert await cache_control("/ui/x/stream", b"no-cache") == [b"no-store"]
    assert await cache_control("/api/x", b"private, no-store") == [b"private, no-store"]
    assert await cache_control("/ui/", None) == [b"no-store"]
    assert await cache_control("/static/hub.css", b"max-age=60") == [b"max-age=60"]
