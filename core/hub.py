"""The hub: one object that wires settings, storage, bus, outbox, audit, staff, sections and plugins.

Construction is synchronous and starts nothing (so ``ccbhub plugins list`` and the app factory can build
one cheaply); :meth:`Hub.start` connects, subscribes and enters plugin lifespans; :meth:`Hub.stop` undoes
it in reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import inspect as sa_inspect

from core import builtin
from core.audit import AuditLog
from core.bus import Bus, Envelope, bus_from_url
from core.ccb.local import LocalCcb
from core.ccb.port import CcbPort
from core.ccb.seed import identity_key
from core.checks import CheckOutcome, run_checks
from core.clock import Clock, SystemClock, local
from core.contact import plugin as contact_part
from core.contract import CheckContext, PluginContext
from core.contract.streams import Streams
from core.db import Database
from core.mail import Mailer
from core.outbox import EventCatalogue, EventWriter, OutboxRelay
from core.plugins import PluginManager, PluginRecord, PluginStatus
from core.sections import Enablement, ensure_sections, seed_from_config
from core.settings import DEFAULT_SECTIONS, Settings
from core.staff import StaffService
from core.telephony import plugin as telephony_part

log = logging.getLogger("ccbhub")


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
        self.mail_sender: Any = None
        if settings.smtp_url is not None:
            from connectors.smtp import MailSender, SmtpConfig

            self.mail_sender = MailSender(self.db, SmtpConfig.from_url(settings.smtp_url), self.clock)
        self.audit = AuditLog(self.clock)
        self.staff = StaffService(self.db, self.audit, self.clock)
        self.enablement = Enablement()
        # The CCB port plugins see as ctx.ccb: the embedded mock, or a remote CCB over HTTP behind the
        # offline journal that records writes as forms while CCB is unreachable (task 17).
        self.ccb: CcbPort
        if settings.ccb_url == "local":
            self.ccb = LocalCcb(
                self.db,
                self.clock,
                identity_key(settings.secret_key),
                events=self._core_events(),
                audit=self.audit,
            )
        else:
            from connectors.ccb_http import HttpCcb
            from core.ccb.offline import OfflineCcb

            self.ccb = OfflineCcb(HttpCcb(settings.ccb_url), self.db, self.clock, self._core_events())
        self.last_checks: list[CheckOutcome] = []
        self.started = False
        self.plugins = PluginManager()
        self.plugins.discover(
            builtin=[builtin, telephony_part, contact_part],
            extra=extra_plugins,
            entry_points=entry_points and not settings.no_plugins,
            disabled=settings.disabled_plugins,
        )
        self.plugins.configure(settings.plugins)
        self.plugins.resolve_order()
        self.plugins.collect(self._make_ctx)
        self._register_event_types()
        self.events = self._core_events()
        self.mail = Mailer(self.clock, builtin.CORE_ID, kick=self._kick_mail)

    def _kick_mail(self) -> None:
        if self.mail_sender is not None:
            self.mail_sender.kick()

    def _core_events(self) -> EventWriter:
        return EventWriter(self.catalogue, self.clock, builtin.CORE_ID, self.relay.kick)

    def _make_ctx(self, rec: PluginRecord) -> PluginContext:
        return PluginContext(
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
            extras={"hub": self} if rec.source == "core" else {},
        )

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
    async def start(self) -> None:
        await self._check_schema()
        await self.streams.__aenter__()
        await self.bus.start()
        async with self.db.session() as session:
            wanted = {slug: cfg.title for slug, cfg in self.settings.sections.items()}
            await ensure_sections(session, wanted)
        async with self.db.session() as session:
            await seed_from_config(
                session, {slug: cfg.plugins for slug, cfg in self.settings.sections.items()}, actor="config"
            )
        await self.enablement.load(self.db)
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
        self._tasks = [asyncio.get_running_loop().create_task(self._ccb_batches(), name="ccb-batches")]
        self.started = True

    async def stop(self) -> None:
        for task in getattr(self, "_tasks", []):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.plugins.stop()
        if self.mail_sender is not None:
            await self.mail_sender.stop()
        await self.relay.stop()
        await self.bus.close()
        close = getattr(self.ccb, "aclose", None)
        if close is not None:
            await close()
        await self.db.dispose()
        await self.streams.__aexit__(None, None, None)
        self.started = False

    async def run_ccb_batches(self) -> None:
        """Today's CCB batches (utility zone): due SA starts and stops, pay-plan monitor (§1.5, §1.10)."""
        if isinstance(self.ccb, LocalCcb):
            today = local(self.clock.now()).date()
            await self.ccb.activate_due(today)
            await self.ccb.finalize_due(today)
            await self.ccb.monitor_pay_plans(today)

    async def _ccb_batches(self) -> None:
        """Run the batches now and hourly (each is idempotent); replay offline forms while CCB is remote."""
        from core.ccb.offline import OfflineCcb

        if isinstance(self.ccb, OfflineCcb):
            await self.ccb.watch()
            return
        while True:
            try:
                await self.run_ccb_batches()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("CCB batch run failed; retrying in an hour")
            await asyncio.sleep(3600)

    async def _on_enablement(self, _env: Envelope) -> None:
        await self.enablement.load(self.db)

    async def _check_schema(self) -> None:
        def tables(conn: Any) -> set[str]:
            return set(sa_inspect(conn).get_table_names())

        try:
            async with self.db.engine.connect() as conn:
                present = await conn.run_sync(tables)
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
