"""The plugin manager: discovery, validation, order, status, isolation (ARCHITECTURE §3)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import types
from collections.abc import AsyncIterator
from typing import Any, Protocol

import msgspec
import pluggy
import pytest

from core import builtin
from core.contract import (
    CheckContext,
    CheckResult,
    CheckSpec,
    EventHandler,
    PluginContext,
    PluginManifest,
    ServiceDirectory,
    ServiceOffer,
    hookimpl,
)
from core.plugins import PluginManager, PluginStartupError, PluginStatus


class StrictConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    limit: int = 3


def make_plugin(
    pid: str,
    *,
    depends_on: tuple[str, ...] = (),
    config_type: type[msgspec.Struct] | None = None,
    critical: bool = False,
    routes_raise: bool = False,
    lifespan: str | None = None,
    offers: tuple[ServiceOffer, ...] = (),
    after_depends_on: tuple[str, ...] = (),
) -> types.SimpleNamespace:
    """Build a plugin object in memory: the manager treats any object with hookimpls as a plugin."""

    class Plugin:
        __name__ = pid

        @hookimpl
        def hub_manifest(self) -> PluginManifest:
            return PluginManifest(
                id=pid,
                title=pid.title(),
                version="1.0",
                depends_on=depends_on,
                after_depends_on=after_depends_on,
                config_type=config_type,
                critical=critical,
            )

        @hookimpl
        def hub_register_routes(self, ctx: PluginContext) -> list[Any]:
            if routes_raise:
                raise RuntimeError("cannot build routes")
            return []

        @hookimpl
        def hub_provide_services(self, ctx: PluginContext) -> list[ServiceOffer]:
            return list(offers)

        @hookimpl
        def hub_lifespan(self, ctx: PluginContext) -> Any:
            if lifespan is None:
                return None

            @contextlib.asynccontextmanager
            async def run() -> AsyncIterator[None]:
                if lifespan == "raise":
                    raise RuntimeError("startup failed")
                if lifespan == "hang":
                    await asyncio.sleep(60)
                yield

            return run()

    return Plugin()  # type: ignore[return-value]


def fake_ctx(rec: Any) -> PluginContext:
    return PluginContext(
        plugin_id=rec.id,
        config=rec.config,
        db=None,
        bus=None,
        events=None,
        audit=None,
        mail=None,
        ccb=None,
        clock=None,  # type: ignore[arg-type]
        streams=None,  # type: ignore[arg-type]
        log=None,  # type: ignore[arg-type]
    )


def load(
    *plugins: Any,
    configs: dict[str, Any] | None = None,
    disabled: tuple[str, ...] = (),
    core: tuple[Any, ...] = (),
) -> PluginManager:
    pm = PluginManager()
    pm.discover(builtin=[builtin, *core], extra=plugins, entry_points=False, disabled=disabled)
    pm.configure(configs or {})
    pm.resolve_order()
    pm.collect(fake_ctx)
    return pm


def status(pm: PluginManager, pid: str) -> PluginStatus:
    return pm.records[pid].status


def test_dependencies_start_first() -> None:
    pm = load(make_plugin("cash", depends_on=("ledger",)), make_plugin("ledger"), make_plugin("audit_view"))
    assert pm.order.index("ledger") < pm.order.index("cash")
    assert all(status(pm, p) is PluginStatus.ACTIVE for p in ("cash", "ledger", "audit_view"))


class Desk(Protocol):
    def ring(self) -> str: ...


class FrontDesk:
    def ring(self) -> str:
        return "ringing"


def services_of(pm: PluginManager, pid: str) -> ServiceDirectory:
    ctx = pm.records[pid].ctx
    assert ctx is not None
    return ctx.services


def test_core_parts_register_before_every_plugin() -> None:
    # A plugin with no dependency is ready before a core part that waits for another; core goes first anyway.
    pm = load(
        make_plugin("free"),
        make_plugin("needs", depends_on=("free",)),
        core=(make_plugin("desk_core", depends_on=("phone_core",)), make_plugin("phone_core")),
    )
    running = [p for p in pm.order if status(pm, p) is PluginStatus.ACTIVE]
    assert set(running[:3]) == {"core", "phone_core", "desk_core"}
    assert running.index("phone_core") < running.index("desk_core")
    assert running.index("free") < running.index("needs")


def test_a_core_parts_offer_reaches_every_plugin_without_naming_it() -> None:
    desk = FrontDesk()
    pm = load(
        make_plugin("breaksish"),
        make_plugin("other", depends_on=("breaksish",)),
        core=(make_plugin("phone_core", offers=(ServiceOffer(protocol=Desk, implementation=desk),)),),
    )
    assert services_of(pm, "breaksish").require(Desk) is desk
    assert services_of(pm, "other").get(Desk) is desk


def test_a_plugins_offer_still_needs_a_declared_dependency() -> None:
    desk = FrontDesk()
    pm = load(
        make_plugin("provider", offers=(ServiceOffer(protocol=Desk, implementation=desk),)),
        make_plugin("named", depends_on=("provider",)),
        make_plugin("soft", after_depends_on=("provider",)),
        make_plugin("stranger"),
    )
    assert services_of(pm, "named").require(Desk) is desk
    assert services_of(pm, "soft").get(Desk) is desk
    with pytest.raises(LookupError, match="depends_on"):
        services_of(pm, "stranger").get(Desk)


async def test_an_offer_whose_provider_failed_to_start_is_absent() -> None:
    pm = load(
        make_plugin("plugin_user"),
        core=(
            make_plugin(
                "phone_core",
                lifespan="raise",
                offers=(ServiceOffer(protocol=Desk, implementation=FrontDesk()),),
            ),
        ),
    )
    assert isinstance(services_of(pm, "plugin_user").get(Desk), FrontDesk)
    await pm.start(timeout_s=1)
    assert status(pm, "phone_core") is PluginStatus.FAILED
    assert services_of(pm, "plugin_user").get(Desk) is None
    with pytest.raises(LookupError, match="no running plugin"):
        services_of(pm, "plugin_user").require(Desk)
    await pm.stop()


def test_missing_dependency_blocks_dependents_transitively() -> None:
    pm = load(
        make_plugin("aa", depends_on=("ghost",)), make_plugin("bb", depends_on=("aa",)), make_plugin("cc")
    )
    assert status(pm, "aa") is PluginStatus.BLOCKED
    assert "ghost" in (pm.records["aa"].last_error or "")
    assert status(pm, "bb") is PluginStatus.BLOCKED
    assert status(pm, "cc") is PluginStatus.ACTIVE


def test_cycle_blocks_every_member() -> None:
    pm = load(make_plugin("xx", depends_on=("yy",)), make_plugin("yy", depends_on=("xx",)), make_plugin("zz"))
    assert status(pm, "xx") is PluginStatus.BLOCKED
    assert status(pm, "yy") is PluginStatus.BLOCKED
    assert "cycle" in (pm.records["xx"].last_error or "")
    assert status(pm, "zz") is PluginStatus.ACTIVE


def test_disabled_dependency_blocks_dependents() -> None:
    pm = load(make_plugin("base"), make_plugin("top", depends_on=("base",)), disabled=("base",))
    assert status(pm, "base") is PluginStatus.DISABLED
    assert status(pm, "top") is PluginStatus.BLOCKED


def test_bad_config_is_config_invalid_with_path() -> None:
    pm = load(make_plugin("cfg", config_type=StrictConfig), configs={"cfg": {"limit": "three"}})
    assert status(pm, "cfg") is PluginStatus.CONFIG_INVALID
    assert "plugins.cfg" in (pm.records["cfg"].last_error or "")
    assert "limit" in (pm.records["cfg"].last_error or "")


def test_unknown_config_key_is_config_invalid() -> None:
    pm = load(make_plugin("cfg", config_type=StrictConfig), configs={"cfg": {"limmit": 1}})
    assert status(pm, "cfg") is PluginStatus.CONFIG_INVALID


def test_valid_config_is_converted() -> None:
    pm = load(make_plugin("cfg", config_type=StrictConfig), configs={"cfg": {"limit": 9}})
    assert pm.records["cfg"].config == StrictConfig(limit=9)


def test_registration_error_fails_only_that_plugin_and_blocks_dependents() -> None:
    pm = load(
        make_plugin("bad", routes_raise=True), make_plugin("user", depends_on=("bad",)), make_plugin("ok")
    )
    assert status(pm, "bad") is PluginStatus.FAILED
    assert status(pm, "user") is PluginStatus.BLOCKED
    assert status(pm, "ok") is PluginStatus.ACTIVE


def test_critical_registration_error_stops_startup() -> None:
    with pytest.raises(PluginStartupError):
        load(make_plugin("vital", routes_raise=True, critical=True))


def test_duplicate_ids_fail_the_second() -> None:
    pm = PluginManager()
    pm.discover(extra=[make_plugin("twin"), make_plugin("twin")], entry_points=False)
    statuses = sorted(r.status.value for r in pm.records.values())
    assert statuses == ["active", "failed"]


def test_bad_manifest_id_fails() -> None:
    pm = load(make_plugin("Bad-Id"))
    failed = [r for r in pm.records.values() if r.status is PluginStatus.FAILED]
    assert failed and "must match" in (failed[0].last_error or "")


def test_tryfirst_is_refused() -> None:
    class Pushy:
        @hookimpl
        def hub_manifest(self) -> PluginManifest:
            return PluginManifest(id="pushy", title="Pushy", version="1")

        @hookimpl(tryfirst=True)
        def hub_register_routes(self, ctx: PluginContext) -> list[Any]:
            return []

    pm = load(Pushy())
    rec = next(r for r in pm.records.values() if r.name == "Pushy")
    assert rec.status is PluginStatus.FAILED
    assert "order comes from depends_on" in (rec.last_error or "")


def test_failed_import_from_entry_points_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    good = importlib.metadata.EntryPoint(name="example", value="tests.example_plugin", group="ccbhub.plugins")
    broken = importlib.metadata.EntryPoint(
        name="broken", value="tests.no_such_plugin_module", group="ccbhub.plugins"
    )
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [broken, good])
    pm = PluginManager()
    pm.discover(builtin=[builtin], entry_points=True)
    assert pm.records["broken"].status is PluginStatus.FAILED_IMPORT
    assert "No module named" in (pm.records["broken"].last_error or "")
    assert pm.records["example"].status is PluginStatus.ACTIVE


async def test_startup_raise_marks_failed_and_others_start() -> None:
    pm = load(
        make_plugin("boom", lifespan="raise"),
        make_plugin("after", depends_on=("boom",)),
        make_plugin("fine", lifespan="ok"),
    )
    await pm.start(timeout_s=1)
    assert status(pm, "boom") is PluginStatus.FAILED
    assert status(pm, "after") is PluginStatus.BLOCKED
    assert status(pm, "fine") is PluginStatus.ACTIVE
    assert pm.records["fine"].startup_ms is not None
    await pm.stop()


async def test_startup_timeout_marks_failed() -> None:
    pm = load(make_plugin("slow", lifespan="hang"))
    await pm.start(timeout_s=0.05)
    assert status(pm, "slow") is PluginStatus.FAILED
    assert "longer than" in (pm.records["slow"].last_error or "")


async def test_critical_startup_failure_raises() -> None:
    pm = load(make_plugin("vital", lifespan="raise", critical=True))
    with pytest.raises(PluginStartupError):
        await pm.start(timeout_s=1)


async def test_isolated_handler_dedupes_catches_and_degrades() -> None:
    from core.bus import make_envelope

    pm = load(make_plugin("hh"))
    rec = pm.records["hh"]
    calls: list[str] = []

    async def handler(env: Any) -> None:
        calls.append(env.id)
        if env.data.get("fail"):
            raise ValueError("bad payload")

    wrapped = pm.isolated_handler(
        rec, EventHandler(pattern="hub.>", handler=handler, durable="d"), timeout_s=1
    )
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    ok = make_envelope("hub.a.b", {}, source="t", actor="t", occurred_at=now)
    await wrapped(ok)
    await wrapped(ok)  # redelivery of the same event id is dropped
    assert calls == [ok.id]
    for _ in range(3):
        await wrapped(make_envelope("hub.a.b", {"fail": True}, source="t", actor="t", occurred_at=now))
    assert rec.status is PluginStatus.DEGRADED
    assert rec.handler_failures == 3
    assert "bad payload" in (rec.last_error or "")


async def test_check_runner_fails_closed() -> None:
    from core.checks import run_check
    from core.clock import SystemClock
    from core.contract import CheckKind, CheckStatus

    pm = load(make_plugin("checker"))
    rec = pm.records["checker"]
    ctx = CheckContext(db=None, bus=None, clock=SystemClock(), settings=None)  # type: ignore[arg-type]

    async def passes(_: CheckContext) -> CheckResult:
        return CheckResult(passed=True, message="fine")

    async def fails(_: CheckContext) -> CheckResult:
        return CheckResult(passed=False, message="not fine")

    async def crashes(_: CheckContext) -> CheckResult:
        raise RuntimeError("kaput")

    async def hangs(_: CheckContext) -> CheckResult:
        await asyncio.sleep(10)
        raise AssertionError("unreachable")

    async def lies(_: CheckContext) -> Any:
        return True  # not a CheckResult: never counts as a pass

    results = {}
    for fn in (passes, fails, crashes, hangs, lies):
        spec = CheckSpec(name=fn.__name__, run=fn, kind=CheckKind.COMPLIANCE, timeout_s=0.05)
        results[fn.__name__] = await run_check(rec, spec, ctx, default_timeout=1)
    assert results["passes"].status is CheckStatus.PASS
    assert results["fails"].status is CheckStatus.FAIL
    assert results["crashes"].status is CheckStatus.ERROR and "kaput" in results["crashes"].message
    assert results["hangs"].status is CheckStatus.ERROR and "timed out" in results["hangs"].message
    assert results["lies"].status is CheckStatus.ERROR
    assert [r.passed for r in results.values()] == [True, False, False, False, False]


def test_hookspecs_match_the_documented_contract() -> None:
    """Every hook is documented, and the example plugin implements each with the spec's signature."""
    import inspect

    from core.contract import hookspecs
    from tests import example_plugin

    specs = {n: f for n, f in vars(hookspecs).items() if n.startswith("hub_") and callable(f)}
    assert set(specs) == {
        "hub_manifest",
        "hub_register_routes",
        "hub_register_pages",
        "hub_register_event_types",
        "hub_register_event_handlers",
        "hub_register_checks",
        "hub_contact_hints",
        "hub_lifespan",
        "hub_register_cli",
        "hub_provide_services",
        "hub_register_jobs",
    }
    for name, spec in specs.items():
        assert (spec.__doc__ or "").strip(), f"{name} is undocumented"
        impl = getattr(example_plugin, name)
        assert list(inspect.signature(impl).parameters) == list(inspect.signature(spec).parameters), name
    assert isinstance(pluggy.HookimplMarker("ccbhub"), pluggy.HookimplMarker)
