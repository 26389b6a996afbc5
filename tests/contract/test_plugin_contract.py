"""The contract every plugin must pass: each installed plugin (ccbhub.plugins entry points) and the example.

Add nothing here for a new plugin: installing it through the entry points is enough to be tested.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.metadata
import re
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from core.bus import make_envelope
from core.contract import CheckKind, CheckResult, CheckSpec, CheckStatus, PluginManifest
from core.plugins import ENTRY_POINT_GROUP, PluginStatus

# The example package under examples/ is a plugin of its own: held to the contract as if installed.
EXAMPLE_PACKAGE = Path(__file__).resolve().parents[2] / "examples" / "balance_desk"
if str(EXAMPLE_PACKAGE) not in sys.path:
    sys.path.append(str(EXAMPLE_PACKAGE))
PLUGIN_MODULES = sorted(
    {ep.value.split(":")[0] for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    | {"tests.example_plugin", "balance_desk"}
)


@pytest.fixture(params=PLUGIN_MODULES)
def plugin_module(request: pytest.FixtureRequest) -> Any:
    return importlib.import_module(request.param)


def _with_dependencies(module: Any) -> list[Any]:
    """The plugin and, first, every installed plugin it declares in ``depends_on`` (transitively)."""
    by_id = {
        ep.name: ep.value.split(":")[0] for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    }
    ordered: list[Any] = []

    def visit(mod: Any) -> None:
        for dep in mod.hub_manifest().depends_on:
            if dep in by_id:
                visit(importlib.import_module(by_id[dep]))
        if mod not in ordered:
            ordered.append(mod)

    visit(module)
    return ordered


@pytest.fixture
def hub_plugins(plugin_module: Any) -> list[Any]:
    return _with_dependencies(plugin_module)


@pytest.fixture
def record(hub: Any, plugin_module: Any) -> Any:
    found = [r for r in hub.plugins.records.values() if r.obj is plugin_module]
    assert len(found) == 1, "the plugin did not load"
    rec = found[0]
    assert rec.status is PluginStatus.ACTIVE, f"{rec.id} is {rec.status}: {rec.last_error}"
    return rec


def test_manifest_is_valid(record: Any) -> None:
    m = record.manifest
    assert isinstance(m, PluginManifest)
    assert re.fullmatch(r"^[a-z][a-z0-9_]{1,39}$", m.id)
    assert m.title and m.version and m.version[0].isdigit()
    assert not m.critical, "section plugins must not be critical"


def test_config_schema_is_exportable_and_defaults_work(record: Any) -> None:
    cfg_type = record.manifest.config_type
    if cfg_type is None:
        return
    schema = msgspec.json.schema(cfg_type)
    assert schema
    assert isinstance(msgspec.convert({}, cfg_type), cfg_type), "the plugin must work with no config"
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"certainly_not_a_field": 1}, cfg_type)


async def test_every_route_is_guarded(hub_client: Any, hub: Any, record: Any, staff_token: Any) -> None:
    """No route answers without a token; with a token but no enabled section, every route is refused."""
    paths = record.route_paths
    outsider = await staff_token("admin", "lead")
    for route in hub_client._transport.app.routes:  # type: ignore[attr-defined]
        if route.path not in paths:
            continue
        for method in sorted(route.methods - {"OPTIONS", "HEAD"}):
            url = re.sub(r"\{[^}]+\}", "1234567890", route.path)
            anon = await hub_client.request(method, url)
            assert anon.status_code in (302, 303, 401), (
                f"{method} {url} answered {anon.status_code} anonymously"
            )
            if url.startswith("/ui"):
                continue  # pages use the session cookie; test_pages_render covers staff outside the sections
            other = await hub_client.request(method, url, headers={"Authorization": f"Bearer {outsider}"})
            assert other.status_code == 403, (
                f"{method} {url} answered {other.status_code} outside its sections"
            )


async def test_pages_render(
    hub_client: Any, hub: Any, record: Any, staff_token: Any, enable_plugin: Any
) -> None:
    """Each page with a nav entry renders for staff of a section where the plugin is enabled."""
    import re as _re

    if not record.pages:
        return
    # Sign in with a role every nav page admits (admin when a page names no roles).
    nav_roles = [set(spec.nav_target()[1] or ()) for spec in record.pages if spec.nav_title is not None]
    common = set.intersection(*nav_roles) if nav_roles and all(nav_roles) else set()
    role = "admin" if not common or "admin" in common else sorted(common)[0]
    await staff_token(role, "lead", name="page.viewer", password="page-viewer-password")
    page = await hub_client.get("/ui/login")
    token = _re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token
    await hub_client.post(
        "/ui/login",
        data={"name": "page.viewer", "password": "page-viewer-password", "_csrf_token": token.group(1)},
    )
    nav_pages = [spec for spec in record.pages if spec.nav_title is not None]
    for spec in nav_pages:
        path = f"/ui/{record.id}{spec.nav_target()[0]}".rstrip("/")
        assert (await hub_client.get(path)).status_code == 403, f"{path} opened outside the plugin's sections"
    await enable_plugin(record.id, "lead")
    for spec in record.pages:
        if spec.nav_title is None:
            continue
        path = f"/ui/{record.id}{spec.nav_target()[0]}".rstrip("/") or "/"
        r = await hub_client.get(path)
        assert r.status_code == 200, f"{path} answered {r.status_code}"
        assert "<html" in r.text and spec.nav_title in (await hub_client.get("/ui/")).text


async def test_checks_time_out_cleanly(hub: Any, record: Any) -> None:
    """Each check returns a CheckResult in time, and a hung check is cut off and reported, not raised."""
    from core.checks import run_check

    ctx = hub.check_context()
    for spec in record.checks:
        assert isinstance(spec, CheckSpec) and spec.kind in (CheckKind.HEALTH, CheckKind.COMPLIANCE)
        outcome = await run_check(record, spec, ctx, default_timeout=hub.settings.check_timeout_s)
        assert outcome.status in (CheckStatus.PASS, CheckStatus.FAIL), f"{spec.name}: {outcome.message}"

        async def hang(_ctx: Any, _run: Any = spec.run) -> CheckResult:
            await asyncio.sleep(30)
            return await _run(_ctx)

        hung = CheckSpec(name=spec.name, run=hang, kind=spec.kind, timeout_s=0.05)
        cut = await asyncio.wait_for(run_check(record, hung, ctx, default_timeout=1), timeout=2)
        assert cut.status is CheckStatus.ERROR and not cut.passed


async def test_handlers_survive_a_raise(hub: Any, record: Any, drain: Any) -> None:
    """A malformed event makes handlers raise; they are isolated and the subscription keeps going."""
    for spec in record.handlers:
        subject = spec.pattern.replace(">", "contract.probe").replace("*", "probe")
        garbage = make_envelope(
            subject,
            {"unexpected": ["shape"]},
            source="contract",
            actor="test",
            occurred_at=dt.datetime.now(dt.UTC),
        )
        await hub.bus.publish(garbage)
        await hub.bus.publish(garbage)  # a redelivery
        await drain()
    assert record.status in (PluginStatus.ACTIVE, PluginStatus.DEGRADED)
    ready = await hub.run_checks(plugin="core")
    assert all(o.passed for o in ready), "the hub stopped being healthy after a handler raised"


async def test_event_types_have_hub_subjects_and_struct_payloads(record: Any) -> None:
    for et in record.event_types:
        assert et.subject.startswith("hub."), et.subject
        assert issubclass(et.payload, msgspec.Struct)
        msgspec.json.schema(et.payload)


async def test_migration_branch_builds_exactly_the_models(hub: Any, plugin_module: Any) -> None:
    """A plugin with tables lists them in ``models.TABLES``; its Alembic branch must build exactly those."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from core.db import Base

    try:
        models = importlib.import_module(plugin_module.__name__ + ".models")
    except ModuleNotFoundError:
        return  # a plugin without tables has no models room (tests/contract/test_plugin_rooms.py)
    tables = {t.name for t in getattr(models, "TABLES", [])}
    if not tables:
        return

    def own(obj: Any, name: str | None, type_: str, *_: Any) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
        return table in tables

    def diff(conn: Any) -> list[Any]:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": own})
        return list(compare_metadata(ctx, Base.metadata))

    async with hub.db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
