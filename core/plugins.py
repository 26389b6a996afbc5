"""The plugin manager: discovery, validation, dependency order, registration, start-up and isolation.

pluggy finds and registers plugins; this module owns everything pluggy does not: its own entry-point loop
(one broken import is recorded, never fatal), manifest and config validation, the topological start order,
per-plugin status with the last error and start-up time, and calling each plugin's hooks one at a time so
whatever a plugin returns or raises is attributed to it.
"""

from __future__ import annotations

import asyncio
import enum
import graphlib
import importlib.metadata
import inspect
import logging
import re
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pluggy

from core.contract import (
    PLUGIN_ID_PATTERN,
    CheckSpec,
    EventHandler,
    EventType,
    JobSpec,
    PageSpec,
    PluginContext,
    PluginManifest,
    ServiceDirectory,
    ServiceOffer,
    hookspecs,
)

log = logging.getLogger("ccbhub.plugins")

ENTRY_POINT_GROUP = "ccbhub.plugins"


class PluginStatus(enum.StrEnum):
    DISABLED = "disabled"
    FAILED_IMPORT = "failed_import"
    CONFIG_INVALID = "config_invalid"
    BLOCKED = "blocked"
    ACTIVE = "active"
    DEGRADED = "degraded"
    FAILED = "failed"


# Statuses in which a plugin's routes, handlers and checks run.
RUNNING = frozenset({PluginStatus.ACTIVE, PluginStatus.DEGRADED})
# Consecutive handler failures after which a plugin is shown as degraded.
DEGRADE_AFTER = 3


class PluginStartupError(RuntimeError):
    """A critical plugin could not start; the hub refuses to run without it."""


@dataclass(eq=False)
class PluginRecord:
    """Everything the hub knows about one plugin."""

    name: str  # entry-point name, or the manifest id once known
    obj: Any = None
    source: str = "entrypoint"
    dist: str | None = None
    manifest: PluginManifest | None = None
    status: PluginStatus = PluginStatus.ACTIVE
    last_error: str | None = None
    startup_ms: float | None = None
    config: Any = None
    ctx: PluginContext | None = None
    routes: list[Any] = field(default_factory=list)
    route_paths: list[str] = field(default_factory=list)
    pages: list[PageSpec] = field(default_factory=list)
    event_types: list[EventType] = field(default_factory=list)
    handlers: list[EventHandler] = field(default_factory=list)
    checks: list[CheckSpec] = field(default_factory=list)
    jobs: list[JobSpec] = field(default_factory=list)
    services: list[ServiceOffer] = field(default_factory=list)
    handler_failures: int = 0
    consecutive_failures: int = 0
    lifespan: AbstractAsyncContextManager[Any] | None = None

    @property
    def id(self) -> str:
        return self.manifest.id if self.manifest else self.name

    @property
    def running(self) -> bool:
        return self.status in RUNNING

    def mark(self, status: PluginStatus, error: str | BaseException | None = None) -> None:
        self.status = status
        if isinstance(error, BaseException):
            error = f"{type(error).__name__}: {error}"
        if error is not None:
            self.last_error = error
            log.warning("plugin %s is %s: %s", self.id, status.value, error)

    def record_failure(self, error: BaseException, where: str) -> None:
        """A handler or check raised: keep serving, but show it and degrade after repeated failures."""
        self.handler_failures += 1
        self.consecutive_failures += 1
        self.last_error = f"{where}: {type(error).__name__}: {error}"
        log.error(
            "plugin %s failed in %s: %s", self.id, where, "".join(traceback.format_exception(error))[-2000:]
        )
        if self.status is PluginStatus.ACTIVE and self.consecutive_failures >= DEGRADE_AFTER:
            self.status = PluginStatus.DEGRADED

    def record_success(self) -> None:
        self.consecutive_failures = 0


class CorePartContext(PluginContext):
    """The context of one of the core's own parts (telephony, contacts): a plugin's, plus the hub.

    The parts are the hub itself, not guests: the contact part gathers every plugin's contact hints and
    hooks the screen pop onto telephony through it. Plugins never get this; they have their ctx only.
    """

    hub: Any

    def __init__(self, *, hub: Any, **fields: Any) -> None:
        super().__init__(**fields)
        self.hub = hub


ContextFactory = Callable[[PluginRecord], PluginContext]


class PluginManager:
    """Loads plugins and drives them through their life."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self.order: list[str] = []
        # protocol -> (offering plugin id, implementation); filled in dependency order by collect().
        self.offers: dict[type, tuple[str, object]] = {}

    # -- discovery --------------------------------------------------------------------------------------
    def discover(
        self,
        *,
        builtin: Iterable[Any] = (),
        extra: Iterable[Any] = (),
        entry_points: bool = True,
        disabled: Iterable[str] = (),
    ) -> None:
        """Import and register plugins. ``builtin`` are the core's own parts (always loaded)."""
        candidates: list[PluginRecord] = [
            PluginRecord(name=_obj_name(o), obj=o, source="core") for o in builtin
        ]
        if entry_points:
            candidates.extend(self._load_entry_points())
        candidates.extend(PluginRecord(name=_obj_name(o), obj=o, source="extra") for o in extra)
        disabled_ids = {d.strip() for d in disabled if d.strip()}
        for rec in candidates:
            if rec.status is PluginStatus.FAILED_IMPORT:
                self._add(rec)
                continue
            try:
                self._register(rec)
            except Exception as exc:
                rec.mark(PluginStatus.FAILED, exc)
                if self.pm.is_registered(rec.obj):
                    self.pm.unregister(rec.obj)
                self._add(rec)
                continue
            if rec.id in disabled_ids and rec.source != "core":
                rec.mark(PluginStatus.DISABLED, "disabled by HUB_DISABLED_PLUGINS")
                self.pm.unregister(rec.obj)
            self._add(rec)

    def _add(self, rec: PluginRecord) -> None:
        if rec.id in self.records and self.records[rec.id] is not rec:
            rec.mark(PluginStatus.FAILED, f"another plugin already uses the id {rec.id!r}")
            rec.name = f"{rec.id}#{len(self.records)}"
            if rec.obj is not None and self.pm.is_registered(rec.obj):
                self.pm.unregister(rec.obj)
        self.records[rec.id] = rec

    def _load_entry_points(self) -> list[PluginRecord]:
        found: list[PluginRecord] = []
        for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist else None
            rec = PluginRecord(name=ep.name, source="entrypoint", dist=dist)
            try:
                rec.obj = ep.load()
            except Exception as exc:
                # One broken plugin must not stop the hub (pluggy's own loader raises on the first one).
                rec.mark(PluginStatus.FAILED_IMPORT, exc)
            found.append(rec)
        return found

    def _register(self, rec: PluginRecord) -> None:
        for name in dir(rec.obj):
            impl_opts = self.pm.parse_hookimpl_opts(rec.obj, name)
            if impl_opts and any(impl_opts.get(k) for k in ("tryfirst", "trylast", "wrapper", "hookwrapper")):
                raise ValueError(f"hook {name} uses tryfirst/trylast/wrapper; order comes from depends_on")
        self.pm.register(rec.obj, name=rec.name)
        self.pm.check_pending()
        manifest = self.call_one(rec, "hub_manifest")
        if not isinstance(manifest, PluginManifest):
            raise TypeError("hub_manifest must return a PluginManifest")
        if not re.fullmatch(PLUGIN_ID_PATTERN, manifest.id):
            raise ValueError(f"plugin id {manifest.id!r} must match {PLUGIN_ID_PATTERN}")
        if manifest.config_type is not None and not (
            isinstance(manifest.config_type, type) and issubclass(manifest.config_type, msgspec.Struct)
        ):
            raise TypeError("manifest.config_type must be a msgspec Struct type")
        rec.manifest = manifest

    # -- hook calls -------------------------------------------------------------------------------------
    def has_hook(self, rec: PluginRecord, hook: str) -> bool:
        return any(impl.plugin is rec.obj for impl in getattr(self.pm.hook, hook).get_hookimpls())

    def call_one(self, rec: PluginRecord, hook: str, **kwargs: Any) -> Any:
        """Call one plugin's implementation of ``hook`` (None when it does not implement it)."""
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            if impl.plugin is rec.obj:
                return impl.function(**{name: kwargs[name] for name in impl.argnames})
        return None

    def running(self) -> list[PluginRecord]:
        return [self.records[i] for i in self.order if self.records[i].running]

    # -- configuration and order -------------------------------------------------------------------------
    def configure(self, raw_configs: dict[str, dict[str, Any]]) -> None:
        """Validate each plugin's config table against its strict Struct; a bad one is config_invalid."""
        unknown = set(raw_configs) - set(self.records)
        for name in sorted(unknown):
            log.warning("config has a [plugins.%s] table but no such plugin is installed", name)
        for rec in self.records.values():
            if rec.status is not PluginStatus.ACTIVE or rec.manifest is None:
                continue
            cfg_type = rec.manifest.config_type
            raw = raw_configs.get(rec.id, {})
            if cfg_type is None:
                if raw:
                    rec.mark(PluginStatus.CONFIG_INVALID, f"plugins.{rec.id}: this plugin takes no config")
                continue
            try:
                rec.config = msgspec.convert(raw, cfg_type)
            except msgspec.ValidationError as exc:
                rec.mark(PluginStatus.CONFIG_INVALID, f"plugins.{rec.id}: {exc}")

    def resolve_order(self) -> None:
        """Topological order over depends_on; cycles and missing or failed dependencies block dependents."""
        while True:
            active = {i: r for i, r in self.records.items() if r.status is PluginStatus.ACTIVE}
            changed = False
            for rec in active.values():
                for dep in rec.manifest.depends_on if rec.manifest else ():
                    dep_rec = self.records.get(dep)
                    if dep_rec is None:
                        rec.mark(PluginStatus.BLOCKED, f"depends on {dep}, which is not installed")
                        changed = True
                        break
                    if dep_rec.status is not PluginStatus.ACTIVE:
                        rec.mark(PluginStatus.BLOCKED, f"depends on {dep}, which is {dep_rec.status.value}")
                        changed = True
                        break
            if changed:
                continue
            sorter = graphlib.TopologicalSorter(
                {
                    i: set(r.manifest.depends_on if r.manifest else ())
                    # A soft dependency orders the start when it is there, and is ignored when it is not.
                    | {d for d in (r.manifest.after_depends_on if r.manifest else ()) if d in active}
                    for i, r in active.items()
                }
            )
            try:
                order = list(sorter.static_order())
            except graphlib.CycleError as exc:
                cycle = list(dict.fromkeys(exc.args[1]))
                for node in cycle:
                    self.records[node].mark(
                        PluginStatus.BLOCKED, "dependency cycle: " + " -> ".join(exc.args[1])
                    )
                continue
            # Core parts first (stable, so still topological: the core never depends on a plugin), so their
            # offers are in place before any plugin registers.
            self.order = sorted(order, key=lambda i: self.records[i].source != "core")
            # Keep every record reachable in listings: non-active ones go last, in name order.
            self.order += sorted(i for i in self.records if i not in self.order)
            return

    def block_dependents(self, failed: str) -> None:
        for rec in self.records.values():
            if rec.status is PluginStatus.ACTIVE and rec.manifest and failed in rec.manifest.depends_on:
                rec.mark(
                    PluginStatus.BLOCKED, f"depends on {failed}, which is {self.records[failed].status.value}"
                )
                self.block_dependents(rec.id)

    # -- registration ------------------------------------------------------------------------------------
    def collect(self, make_ctx: ContextFactory) -> None:
        """Call the registration hooks of every active plugin, in dependency order (core parts first)."""
        # The core's parts are the hub itself: every plugin reaches their offers without naming them.
        core_parts = frozenset(r.id for r in self.records.values() if r.source == "core")
        for pid in list(self.order):
            rec = self.records[pid]
            if rec.status is not PluginStatus.ACTIVE:
                continue
            rec.ctx = make_ctx(rec)
            manifest = rec.manifest
            rec.ctx.services = ServiceDirectory(
                self.offers,
                manifest.depends_on if manifest else (),
                manifest.after_depends_on if manifest else (),
                core=core_parts,
                running=self._provider_running,
            )
            try:
                rec.routes = list(self.call_one(rec, "hub_register_routes", ctx=rec.ctx) or [])
                rec.pages = list(self.call_one(rec, "hub_register_pages", ctx=rec.ctx) or [])
                rec.event_types = list(self.call_one(rec, "hub_register_event_types", ctx=rec.ctx) or [])
                rec.handlers = list(self.call_one(rec, "hub_register_event_handlers", ctx=rec.ctx) or [])
                rec.checks = list(self.call_one(rec, "hub_register_checks", ctx=rec.ctx) or [])
                rec.jobs = list(self.call_one(rec, "hub_register_jobs", ctx=rec.ctx) or [])
                rec.services = list(self.call_one(rec, "hub_provide_services", ctx=rec.ctx) or [])
                _validate_descriptors(rec)
                for offer in rec.services:
                    if offer.protocol in self.offers:
                        owner = self.offers[offer.protocol][0]
                        raise ValueError(f"{offer.protocol.__name__} is already offered by {owner}")
                for offer in rec.services:
                    self.offers[offer.protocol] = (rec.id, offer.implementation)
            except Exception as exc:
                rec.routes, rec.pages, rec.event_types, rec.handlers, rec.checks = [], [], [], [], []
                rec.jobs, rec.services = [], []
                rec.mark(PluginStatus.FAILED, exc)
                if rec.manifest and rec.manifest.critical:
                    raise PluginStartupError(f"critical plugin {pid} failed to register: {exc}") from exc
                self.block_dependents(pid)

    def _provider_running(self, pid: str) -> bool:
        rec = self.records.get(pid)
        return rec is not None and rec.running

    async def start(self, timeout_s: float) -> None:
        """Enter each running plugin's lifespan in order, each bounded by ``timeout_s``."""
        for pid in self.order:
            rec = self.records[pid]
            if rec.status is not PluginStatus.ACTIVE or rec.ctx is None:
                continue
            started = time.perf_counter()
            try:
                cm = self.call_one(rec, "hub_lifespan", ctx=rec.ctx)
                if cm is not None:
                    async with asyncio.timeout(timeout_s):
                        await cm.__aenter__()
                    rec.lifespan = cm
            except Exception as exc:
                if isinstance(exc, TimeoutError):
                    exc = TimeoutError(f"start-up took longer than {timeout_s:g}s")
                rec.mark(PluginStatus.FAILED, exc)
                if rec.manifest and rec.manifest.critical:
                    raise PluginStartupError(f"critical plugin {pid} failed to start: {exc}") from exc
                self.block_dependents(pid)
            finally:
                rec.startup_ms = round((time.perf_counter() - started) * 1000, 2)

    async def stop(self) -> None:
        for pid in reversed(self.order):
            rec = self.records[pid]
            if rec.lifespan is not None:
                try:
                    async with asyncio.timeout(10):
                        await rec.lifespan.__aexit__(None, None, None)
                except Exception as exc:
                    log.warning("plugin %s failed to stop cleanly: %s", pid, exc)
                rec.lifespan = None

    # -- isolation of running work ------------------------------------------------------------------------
    def isolated_handler(self, rec: PluginRecord, spec: EventHandler, timeout_s: float) -> Callable[..., Any]:
        """Wrap a plugin's handler: dedupe on event id, timeout, catch and attribute what it raises."""
        seen: OrderedDict[str, None] = OrderedDict()

        async def run(env: Any) -> None:
            if env.id in seen or not rec.running:
                return
            try:
                async with asyncio.timeout(timeout_s):
                    await spec.handler(env)
            except Exception as exc:
                rec.record_failure(exc, f"handler {spec.durable} on {env.subject}")
                return
            rec.record_success()
            seen[env.id] = None
            if len(seen) > 10_000:
                seen.popitem(last=False)

        return run


def _obj_name(obj: Any) -> str:
    return getattr(obj, "__name__", None) or type(obj).__name__


def _validate_descriptors(rec: PluginRecord) -> None:
    from core.bus import validate_subject

    for et in rec.event_types:
        if not isinstance(et, EventType):
            raise TypeError("hub_register_event_types must return EventType descriptors")
    for h in rec.handlers:
        if not isinstance(h, EventHandler):
            raise TypeError("hub_register_event_handlers must return EventHandler descriptors")
        validate_subject(h.pattern, pattern=True)
        if not inspect.iscoroutinefunction(h.handler) and not callable(h.handler):
            raise TypeError(f"handler for {h.pattern} is not callable")
    for c in rec.checks:
        if not isinstance(c, CheckSpec):
            raise TypeError("hub_register_checks must return CheckSpec descriptors")
    for p in rec.pages:
        if not isinstance(p, PageSpec):
            raise TypeError("hub_register_pages must return PageSpec descriptors")
    for j in rec.jobs:
        if not isinstance(j, JobSpec):
            raise TypeError("hub_register_jobs must return JobSpec descriptors")
        if j.every_s <= 0:
            raise ValueError(f"job {j.name}: every_s must be positive")
    for o in rec.services:
        if not isinstance(o, ServiceOffer):
            raise TypeError("hub_provide_services must return ServiceOffer descriptors")
        checkable = getattr(o.protocol, "_is_runtime_protocol", False)
        if checkable and not isinstance(o.implementation, o.protocol):
            raise TypeError(f"{type(o.implementation).__name__} does not satisfy {o.protocol.__name__}")


def names(records: Sequence[PluginRecord]) -> list[str]:
    return [r.id for r in records]
