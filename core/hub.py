"""The hub: one object that wires settings, storage, bus, outbox, audit, staff, sections and plugins.

Construction is synchronous and starts nothing (so ``ccbhub plugins list`` and the app factory can build
one cheaply); :meth:`Hub.start` connects, subscribes and enters plugin lifespans; :meth:`Hub.stop` undoes
it in reverse.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import inspect as sa_inspect

from core.audit import AuditLog
from core.bus import Bus, Envelope, bus_from_url
from core.ccb.port import CcbPort
from core.checks import CheckOutcome, run_checks
from core.clock import Clock, SystemClock
from core.connectors import MailConnector, MailDelivery, load_connector
from core.contract import CheckContext, PluginContext
from core.contract.streams import Streams
from core.db import Database
from core.jobs import JobRunner
from core.mail import Mailer
from core.outbox import EventCatalogue, EventWriter, OutboxRelay
from core.plugins import CorePartContext, PluginManager, PluginRecord, PluginStatus
from core.retry import DATABASE_BUSY, database_busy
from core.sections import Enablement, ensure_sections, seed_from_config
from core.settings import DEFAULT_SECTIONS, Settings, SettingsError
from core.staff import StaffService

log = logging.getLogger("ccbhub")

T = TypeVar("T")

# The core's own parts, loaded by name like any plugin (datasette's DEFAULT_PLUGINS): the hub itself
# imports none of them, so a feature part never becomes a dependency of the hub's wiring.
CORE_PARTS = ("core.builtin", "core.telephony.plugin", "core.contact.plugin")
# The id core.builtin's manifest declares: the source of the core's own events and mail.
CORE_ID = "core"
# Builds the CCB port (the embedded mock, or a remote CCB's connector behind the offline journal).
CCB_FACTORY = "core.builtin:build_ccb"


def _resolve(reference: str) -> Any:
    module, _, attr = reference.partition(":")
    return getattr(importlib.import_module(module), attr)


def _connect(setting: str, kind: str, url: str, /, **options: Any) -> object:
    """A plugin's ``ctx.connect``: the installed ``kind`` connector for ``url``, built with ``options``.

    A URL no connector serves, or one the connector refuses, is a SettingsError naming the plugin's settings.
    """
    try:
        connector: object = load_connector(kind, url, setting=setting, **options)
    except SettingsError:
        raise
    except ValueError as exc:
        raise SettingsError(setting, str(exc)) from exc
    return connector


class DatabaseNotReady(RuntimeError):
    """The schema is missing or behind: ``ccbhub db upgrade`` has not been run."""


class Hub:
    """Everything one hub process holds."""

    def __init__(
        self,
        settings: Settings,
        *,
        extra_plugins: Iterable[Any] = (),
        entry_points: bool = True,
        clock: Clock | None = None,
        bus: Bus | None = None,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.db = Database(settings.database_url)
        self.bus: Bus = bus or bus_from_url(settings.bus_url)
        self.catalogue = EventCatalogue()
        self.streams = Streams()
        self.relay = OutboxRelay(self.db, self.bus)
        # With HUB_SMTP_URL a sender delivers the mail outbox; without it mail stays readable in the outbox.
        self.mail_sender: MailDelivery | None = None
        if settings.smtp_url is not None:
            mail: MailConnector = load_connector("mail", settings.smtp_url, setting="HUB_SMTP_URL")
            self.mail_sender = mail.sender(self.db, self.clock)
        self.audit = AuditLog.from_settings(settings, self.clock)
        self.staff = StaffService(self.db, self.audit, self.clock)
        self.enablement = Enablement()
        # The CCB port plugins see as ctx.ccb.
        self.ccb: CcbPort = _resolve(CCB_FACTORY)(
            settings, self.db, self.clock, self._core_events(), self.audit
        )
        self.last_checks: list[CheckOutcome] = []
        self.started = False
        self.plugins = PluginManager()
        self.plugins.discover(
            builtin=[importlib.import_module(name) for name in CORE_PARTS],
            extra=extra_plugins,
            entry_points=entry_points and not settings.no_plugins,
            disabled=settings.disabled_plugins,
        )
        if CORE_ID not in self.plugins.records:
            raise RuntimeError(f"no core part declares the id {CORE_ID!r} (parts: {', '.join(CORE_PARTS)})")
        self.plugins.configure(settings.plugins)
        self.plugins.resolve_order()
        self.plugins.collect(self._make_ctx)
        self._register_event_types()
        self.events = self._core_events()
        self.mail = Mailer(self.clock, CORE_ID, kick=self._kick_mail)
        # Every running plugin's and core part's periodic jobs, run by one hub process at a time.
        self.jobs = JobRunner(self.db, self.plugins)

    def _kick_mail(self) -> None:
        if self.mail_sender is not None:
            self.mail_sender.kick()

    def _core_events(self) -> EventWriter:
        return EventWriter(self.catalogue, self.clock, CORE_ID, self.relay.kick)

    def _make_ctx(self, rec: PluginRecord) -> PluginContext:
        fields: dict[str, Any] = dict(
            plugin_id=rec.id,
            config=rec.config,
            db=self.db,
            bus=self.bus,
            events=EventWriter(self.catalogue, self.clock, rec.id, self.relay.kick),
            audit=self.audit,
            mail=Mailer(self.clock, rec.id, kick=self._kick_mail),
            ccb=self.ccb,
            clock=self.clock,
            streams=self.streams,
            sections=lambda: frozenset(self.enablement.sections_for(rec.id)),
            log=logging.getLogger(f"ccbhub.plugin.{rec.id}"),
            connect=partial(_connect, f"plugins.{rec.id}"),
        )
        if rec.source == "core":
            return CorePartContext(hub=self, **fields)
        return PluginContext(**fields)

    def _register_event_types(self) -> None:
        for rec in self.plugins.running():
            try:
                for et in rec.event_types:
                    self.catalogue.register(et.subject, et.payload, rec.id, et.description)
            except Exception as exc:
                self.catalogue.unregister_source(rec.id)
                rec.mark(PluginStatus.FAILED, exc)
                self.plugins.block_dependents(rec.id)

    # -- life --------------------------------------------------------------------------------------------
    async def start(self, *, run_jobs: bool = True) -> None:
        """Connect, subscribe and start the plugins and the job runner.

        ``run_jobs=False`` is for a short-lived hub (``ccbhub check``) that must not run periodic jobs.
        """
        await self._check_schema()
        await self.streams.__aenter__()
        await self.bus.start()
        wanted = {slug: cfg.title for slug, cfg in self.settings.sections.items()}
        await self._while_busy(self._ensure_sections, wanted)
        await self._while_busy(self.enablement.load, self.db)
        # Every process must reload its own cache, so these are per-process (non-durable) subscriptions.
        await self.bus.subscribe("hub.plugins.enablement_changed", self._on_enablement)
        await self.bus.subscribe("hub.sections.added", self._on_enablement)
        for rec in self.plugins.running():
            for spec in rec.handlers:
                await self.bus.subscribe(
                    spec.pattern,
                    self.plugins.isolated_handler(rec, spec, self.settings.plugin_timeout_s),
                    durable=f"{rec.id}.{spec.durable}",
                    max_in_flight=spec.max_in_flight,
                )
        await self.relay.start()
        if self.mail_sender is not None:
            await self.mail_sender.start()
        await self.plugins.start(self.settings.plugin_timeout_s)
        if run_jobs:
            await self.jobs.start()
        self.started = True

    async def _ensure_sections(self, wanted: dict[str, str]) -> None:
        async with self.db.session() as session:
            await ensure_sections(session, wanted)
        async with self.db.session() as session:
            await seed_from_config(
                session, {slug: cfg.plugins for slug, cfg in self.settings.sections.items()}, actor="config"
            )

    async def _while_busy(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Start-up work on a SQLite file another process is writing (a migration, a hub starting) waits
        for the lock, bounded by the retry policy, instead of failing the start."""
        return await DATABASE_BUSY.call(database_busy, fn, *args)

    async def stop(self) -> None:
        await self.jobs.stop()
        await self.plugins.stop()
        if self.mail_sender is not None:
            await self.mail_sender.stop()
        await self.relay.stop()
        await self.checkpoint_audit()
        await self.bus.close()
        close = getattr(self.ccb, "aclose", None)
        if close is not None:
            await close()
        await self.db.dispose()
        await self.streams.__aexit__(None, None, None)
        self.started = False

    async def checkpoint_audit(self) -> None:
        """Sign the audit head on the way out when this process added records since its last checkpoint,
        so they are covered before the next every-N or timer checkpoint."""
        try:
            await self.audit.checkpoint(self.db, own_records=True)
        except Exception as exc:  # stopping must go on (e.g. the database is already gone)
            log.warning("no audit checkpoint at stop: %s: %s", type(exc).__name__, exc)

    async def run_ccb_batches(self) -> None:
        """Run the CCB's daily batches now (the core's ``ccb_batches`` job); nothing when CCB is remote."""
        if self.jobs.find(CORE_ID, "ccb_batches") is not None:
            await self.jobs.run_now(CORE_ID, "ccb_batches")

    async def _on_enablement(self, _env: Envelope) -> None:
        await self.enablement.load(self.db)

    async def _check_schema(self) -> None:
        def tables(conn: Any) -> set[str]:
            return set(sa_inspect(conn).get_table_names())

        async def inspect() -> set[str]:
            async with self.db.engine.connect() as conn:
                return await conn.run_sync(tables)

        try:
            present = await self._while_busy(inspect)
        except Exception as exc:
            raise DatabaseNotReady(f"cannot open the database ({type(exc).__name__}: {exc})") from exc
        if "hub_section" not in present or "alembic_version" not in present:
            raise DatabaseNotReady("the database is not migrated: run `ccbhub db upgrade`")

    # -- checks --------------------------------------------------------------------------------------------
    def check_context(self) -> CheckContext:
        return CheckContext(db=self.db, bus=self.bus, clock=self.clock, settings=self.settings)

    def select_plugins(self, *, section: str | None = None, plugin: str | None = None) -> list[PluginRecord]:
        running = self.plugins.running()
        if plugin is not None:
            return [r for r in running if r.id == plugin]
        if section is not None:
            return [r for r in running if r.source == "core" or section in self.enablement.sections_for(r.id)]
        return running

    async def run_checks(
        self, *, section: str | None = None, plugin: str | None = None
    ) -> list[CheckOutcome]:
        outcomes = await run_checks(
            self.select_plugins(section=section, plugin=plugin),
            self.check_context(),
            self.settings.check_timeout_s,
        )
        if section is None and plugin is None:
            self.last_checks = outcomes
        return outcomes

    def default_sections(self) -> dict[str, str]:
        return dict(DEFAULT_SECTIONS)
