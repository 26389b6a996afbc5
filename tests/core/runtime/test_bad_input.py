"""Bad input never becomes a 500: every integer path parameter of every route, integer query parameters,
JSON nested too deep — and none of it marks a plugin degraded or shows exception text to non-admins."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from litestar.routes import HTTPRoute

from core.bad_input import INT_MAX, INT_MIN, MAX_JSON_DEPTH, json_depth

PASSWORD = "bad-input-password-1"
SECTION = "call-center"
HUGE = 2**64


@pytest.fixture
def hub_entry_points() -> bool:
    return True  # every installed plugin, so the enumeration covers every route that exists


Client = Callable[[str], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def signed_in(hub_app: Any, hub: Any, staff_token: Any, enable_plugin: Any) -> AsyncIterator[Client]:
    """``await signed_in(role)`` → a client holding that role's bearer token and signed-in session."""
    for rec in hub.plugins.records.values():
        if rec.source != "core" and rec.running:
            await enable_plugin(rec.id, SECTION)
    clients: list[httpx.AsyncClient] = []

    async def make(role: str) -> httpx.AsyncClient:
        name = f"{role}.probe{len(clients)}"
        token = await staff_token(role, SECTION, name=name, password=PASSWORD)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=hub_app),
            base_url="http://hub.test",
            headers={"Authorization": f"Bearer {token}"},
        )
        clients.append(client)
        page = await client.get("/ui/login")
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert csrf, "the login form carries no CSRF token"
        r = await client.post("/ui/login", data={"name": name, "password": PASSWORD, "_csrf_token": csrf[1]})
        assert r.status_code in (302, 303), r.text
        client.headers["x-csrf-token"] = client.cookies["hub_csrf"]
        return client

    try:
        yield make
    finally:
        for client in clients:
            await client.aclose()


def int_path_routes(app: Any) -> list[tuple[str, str, list[str], list[str]]]:
    """(method, path, int parameter names, roles) for every route with an integer path parameter."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        ints = [p.name for p in route.path_parameters.values() if p.type is int]
        if not ints:
            continue
        for method, (handler, _model) in route.route_handler_map.items():
            if method in ("OPTIONS", "HEAD"):
                continue
            found.append((str(method), route.path, ints, list(handler.opt.get("roles") or [])))
    return found


def fill(path: str, value: int) -> str:
    path = re.sub(r"\{[a-z_]+:int\}", str(value), path)
    return re.sub(r"\{[a-z_]+:[a-z]+\}", "x", path)


async def test_every_int_path_parameter_is_bounded(signed_in: Client, hub_app: Any, hub: Any) -> None:
    routes = int_path_routes(hub_app)
    assert len(routes) >= 24, "the enumeration found fewer integer routes than the hub has"
    roles = {"csr", "admin"} | {roles[0] for *_rest, roles in routes if roles}
    clients = {role: await signed_in(role) for role in sorted(roles)}
    failures: list[str] = []
    reached = 0
    for method, path, _ints, route_roles in routes:
        callers = {"csr", "admin", *route_roles[:1]}
        for role in sorted(callers):
            for value in (HUGE, -HUGE, INT_MAX + 1, -1, 0):
                url = fill(path, value)
                kwargs: dict[str, Any] = {}
                if method in ("POST", "PUT", "PATCH"):
                    kwargs["json"] = {}
                r = await clients[role].request(method, url, **kwargs)
                if r.status_code >= 500:
                    failures.append(f"{role} {method} {url} → {r.status_code} {r.text[:200]}")
                elif not (INT_MIN <= value <= INT_MAX) and r.status_code not in (401, 403, 404):
                    failures.append(f"{role} {method} {url} → {r.status_code}, expected 404")
                elif r.status_code == 404 and value == HUGE:
                    reached += 1
    assert not failures, "\n".join(failures)
    assert reached >= len(routes), "most routes were refused before the bound was checked"
    assert {
        rec.id: rec.status.value for rec in hub.plugins.records.values() if rec.status.value != "active"
    } == {}


def int_query_operations(app: Any) -> list[tuple[str, str, str]]:
    """(method, path, name) for every operation in the OpenAPI schema with an integer query parameter."""
    found = []
    for path, item in (app.openapi_schema.paths or {}).items():
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method, None)
            for param in (operation.parameters or []) if operation else []:
                schema = param.schema
                types = [schema.type, *(getattr(s, "type", None) for s in (schema.one_of or []))]
                if param.param_in == "query" and "integer" in repr(types).lower():
                    found.append((method.upper(), path, param.name))
    return found


async def test_every_int_query_parameter_is_bounded(signed_in: Client, hub_app: Any) -> None:
    operations = int_query_operations(hub_app)
    assert operations, "the hub has integer query parameters (audit, telephony dialogs)"
    admin = await signed_in("admin")
    named = 0
    for method, path, name in operations:
        url = re.sub(r"\{[a-z_]+\}", "1", path)
        r = await admin.request(method, url, params={name: str(HUGE)})
        assert r.status_code < 500, f"{method} {url}?{name}= → {r.status_code} {r.text[:200]}"
        if r.status_code in (400, 422):
            assert r.json()["detail"].startswith(f"{name}:"), r.text
            named += 1
    assert named, "no integer query parameter was reached"


async def test_audit_limit_beyond_64_bits_is_422_naming_it(signed_in: Client) -> None:
    admin = await signed_in("admin")
    routes = [r for r in int_query_operations(admin._transport.app) if r[2] == "limit"]  # type: ignore[attr-defined]
    method, path, _ = routes[0]
    r = await admin.request(method, re.sub(r"\{[a-z_]+\}", "1", path), params={"limit": str(2**63)})
    assert r.status_code in (400, 422)
    body = r.json()
    assert body["extra"][0]["key"] == "limit"
    assert "whole number" in body["detail"]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def test_json_nested_too_deep_is_400_before_decoding(signed_in: Client, hub: Any) -> None:
    admin = await signed_in("admin")
    headers = {"content-type": "application/json"}
    r = await admin.post("/api/sections", content=nested(1000), headers=headers)
    assert r.status_code == 400
    assert r.json()["detail"] == f"body: nested deeper than {MAX_JSON_DEPTH}"
    assert r.json()["extra"][0]["key"] == "body"
    # Exactly the limit passes the check (and fails later as a body of the wrong shape, not a 500).
    r = await admin.post("/api/sections", content=nested(MAX_JSON_DEPTH), headers=headers)
    assert r.status_code in (400, 422) and "nested" not in r.json()["detail"]
    # Brackets inside a string do not nest.
    body = '{"slug": "deep-name", "title": "' + "[" * 500 + '"}'
    r = await admin.post("/api/sections", content=body, headers=headers)
    assert r.status_code in (201, 422) and "nested" not in r.text
    # A vendor JSON type is checked too.
    r = await admin.post(
        "/api/sections", content=nested(999), headers={"content-type": "application/vnd.x+json"}
    )
    assert r.status_code == 400 and "nested deeper" in r.text


async def test_client_bad_input_never_degrades_a_plugin(signed_in: Client, hub: Any, hub_app: Any) -> None:
    admin = await signed_in("admin")
    plugin_routes = [
        (m, p) for m, p, _i, _r in int_path_routes(hub_app) if p.startswith("/api/") and m == "GET"
    ]
    plugin_routes = [r for r in plugin_routes if r[1].split("/")[2] in hub.plugins.records]
    assert plugin_routes
    method, path = plugin_routes[0]
    for _ in range(10):
        assert (await admin.request(method, fill(path, HUGE))).status_code == 404
        r = await admin.post(
            path.rsplit("/", 1)[0], content=nested(1000), headers={"content-type": "application/json"}
        )
        assert r.status_code < 500
    statuses = {rec.id: rec.status.value for rec in hub.plugins.records.values()}
    assert set(statuses.values()) == {"active"}, statuses
    assert all(rec.handler_failures == 0 for rec in hub.plugins.records.values())


async def test_last_error_is_shown_to_admins_only(signed_in: Client, hub: Any) -> None:
    rec = next(r for r in hub.plugins.records.values() if r.source != "core")
    rec.record_failure(RuntimeError("secret internals at /srv/hub"), "route GET /api/x")
    csr, admin = await signed_in("csr"), await signed_in("admin")
    as_csr = {p["id"]: p for p in (await csr.get("/api/plugins")).json()}
    as_admin = {p["id"]: p for p in (await admin.get("/api/plugins")).json()}
    assert as_csr[rec.id]["last_error"] is None
    assert "secret internals" in as_admin[rec.id]["last_error"]
    assert "secret internals" not in (await csr.get("/ui/")).text
    assert "secret internals" in (await admin.get("/ui/")).text


def test_json_depth_counts_only_structure() -> None:
    assert json_depth(b"{}") == 1
    assert json_depth(b'{"a": [1, {"b": []}]}') == 4
    assert json_depth(b'["[[[[", "\\"[[[["]') == 1
    assert json_depth(b"12") == 0
    assert json_depth(nested(200).encode()) == 200
