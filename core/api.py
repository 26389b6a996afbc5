"""The core's JSON API: health, plugins and sections, checks, the event catalogue, staff, audit and jobs."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException, ServiceUnavailableException, ValidationException
from litestar.params import FromPath, JSONBody, QueryParameter, SkipValidation
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy import text

from core.audit import verify_chain
from core.bus import BusUnavailable
from core.ccb.offline_api import OFFLINE_ROUTES
from core.checks import CheckOutcome
from core.contract.scope import NONE, QUEUE
from core.contract.web import CurrentStaff, Role
from core.hub import Hub
from core.jobs import RunnerInfo
from core.mail import MailView, list_outbox, outbox_for
from core.plugins import PluginRecord
from core.sections import UnknownSection, add_section, set_enabled
from core.security import hub_of
from core.settings import PLUGIN_ID, SECTION_SLUG
from core.staff import StaffError

ADMIN = {"roles": ["admin"]}
STAFF = {"access": "staff"}
PUBLIC = {"access": "public"}


class PluginInfo(msgspec.Struct, kw_only=True):
    id: str
    title: str
    version: str
    status: str
    source: str
    critical: bool
    depends_on: list[str]
    sections: list[str]
    routes: list[str]
    pages: list[str]
    event_subjects: list[str]
    subscriptions: list[str]
    checks: list[str]
    last_error: str | None
    startup_ms: float | None
    handler_failures: int


def plugin_info(hub: Hub, rec: PluginRecord, *, errors: bool) -> PluginInfo:
    """What the hub knows about one plugin; ``last_error`` (exception text) only when ``errors``.

    An error's text can hold internals (paths, SQL, values from a request), so only admins (and the
    operator's own CLI) see it; everyone else sees the status and the failure count.
    """
    m = rec.manifest
    return PluginInfo(
        id=rec.id,
        title=m.title if m else rec.name,
        version=m.version if m else "",
        status=rec.status.value,
        source=rec.source,
        critical=bool(m and m.critical),
        depends_on=list(m.depends_on) if m else [],
        sections=sorted(hub.enablement.sections_for(rec.id)),
        routes=rec.route_paths,
        pages=[p for p in rec.route_paths if p.startswith("/ui/")],
        event_subjects=[e.subject for e in rec.event_types],
        subscriptions=[h.pattern for h in rec.handlers],
        checks=[c.name for c in rec.checks],
        last_error=rec.last_error if errors else None,
        startup_ms=rec.startup_ms,
        handler_failures=rec.handler_failures,
    )


def all_plugin_info(hub: Hub, *, errors: bool) -> list[PluginInfo]:
    return [plugin_info(hub, hub.plugins.records[pid], errors=errors) for pid in hub.plugins.order]


def provide_hub(request: Request[Any, Any, Any]) -> Hub:
    """Dependency ``hub`` for the core's own controllers (plugins never get it: they have ``ctx``)."""
    return hub_of(request)


HubDep = NamedDependency[SkipValidation[Hub]]
CORE_DEPENDENCIES = {"hub": Provide(provide_hub, sync_to_thread=False)}


class HealthController(Controller):
    """Probes for a load balancer or an orchestrator; public."""

    path = "/health"
    opt = PUBLIC
    tags = ["health"]

    @get("/live", sync_to_thread=False, customer_data=NONE)
    def live(self) -> dict[str, str]:
        """The process is up and serving."""
        return {"status": "ok"}

    @get("/ready", dependencies=CORE_DEPENDENCIES, customer_data=NONE)
    async def ready(self, hub: HubDep) -> Response[dict[str, Any]]:
        """Ready when the database and the bus answer and every critical plugin runs; 503 names the part."""
        parts: dict[str, str] = {}
        try:
            async with hub.db.session() as session:
                await session.execute(text("SELECT 1"))
            parts["database"] = "ok"
        except Exception as exc:
            parts["database"] = f"down: {type(exc).__name__}"
        parts["bus"] = "ok" if await hub.bus.healthy() else "down"
        for rec in hub.plugins.records.values():
            if rec.manifest and rec.manifest.critical and not rec.running:
                parts[f"plugin:{rec.id}"] = rec.status.value
        failing = [k for k, v in parts.items() if v != "ok"]
        body: dict[str, Any] = {"status": "ready" if not failing else "not ready", "parts": parts}
        if failing:
            body["failing"] = failing
        return Response(body, status_code=HTTP_503_SERVICE_UNAVAILABLE if failing else HTTP_200_OK)


def _record(hub: Hub, plugin_id: str) -> PluginRecord:
    rec = hub.plugins.records.get(plugin_id)
    if rec is None:
        raise NotFoundException(f"no plugin {plugin_id!r}")
    return rec


class EnableRequest(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool


async def change_enablement(hub: Hub, plugin_id: str, section: str, enabled: bool, actor: str) -> PluginInfo:
    rec = _record(hub, plugin_id)
    if rec.source == "core":
        raise ValidationException("plugin_id: the core is always enabled", extra=[{"key": "plugin_id"}])
    try:
        async with hub.db.session() as session:
            changed = await set_enabled(
                session,
                hub.events,
                hub.audit,
                plugin_id=plugin_id,
                section=section,
                enabled=enabled,
                actor=actor,
            )
    except UnknownSection:
        raise NotFoundException(f"no section {section!r}") from None
    if changed:
        await hub.enablement.load(hub.db)
    return plugin_info(hub, rec, errors=True)  # only admins change enablement


class PluginsController(Controller):
    """The installed plugins, their config schemas, and enabling them per section."""

    path = "/api/plugins"
    tags = ["plugins"]
    dependencies = CORE_DEPENDENCIES

    @get("/", opt=STAFF, customer_data=NONE)
    async def list_plugins(self, hub: HubDep, staff: CurrentStaff) -> list[PluginInfo]:
        """Every plugin the hub knows, with its status, sections, routes, events and checks.

        ``last_error`` is shown to admins only (null for everyone else).
        """
        return all_plugin_info(hub, errors=staff.role is Role.ADMIN)

    @get("/{plugin_id:str}/config-schema", opt=STAFF, customer_data=NONE)
    async def config_schema(self, hub: HubDep, plugin_id: FromPath[str]) -> dict[str, Any]:
        """The JSON schema of the plugin's config table (``[plugins.<id>]`` in hub.toml)."""
        rec = _record(hub, plugin_id)
        cfg = rec.manifest.config_type if rec.manifest else None
        if cfg is None:
            return {"type": "object", "properties": {}, "additionalProperties": False}
        schema: dict[str, Any] = msgspec.json.schema(cfg)
        return schema

    @post("/{plugin_id:str}/sections/{section:str}", opt=ADMIN, status_code=HTTP_200_OK, customer_data=NONE)
    async def enable_plugin(
        self,
        hub: HubDep,
        staff: CurrentStaff,
        plugin_id: FromPath[str],
        section: FromPath[str],
        data: JSONBody[EnableRequest],
    ) -> PluginInfo:
        """Enable or disable a plugin for a section (admin). Takes effect at once, in every hub process."""
        return await change_enablement(hub, plugin_id, section, data.enabled, staff.actor)


class SectionRequest(msgspec.Struct, forbid_unknown_fields=True):
    slug: Annotated[str, msgspec.Meta(pattern=SECTION_SLUG)]
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]


class SectionsController(Controller):
    """The organisation's sections and the plugins enabled for each."""

    path = "/api/sections"
    tags = ["sections"]
    dependencies = CORE_DEPENDENCIES

    @get("/", opt=STAFF, customer_data=NONE)
    async def list_sections(self, hub: HubDep) -> list[dict[str, Any]]:
        return [
            {
                "slug": slug,
                "title": title,
                "plugins": sorted(
                    r.id for r in hub.plugins.running() if slug in hub.enablement.sections_for(r.id)
                ),
            }
            for slug, title in sorted(hub.enablement.sections.items())
        ]

    @post("/", opt=ADMIN, status_code=HTTP_201_CREATED, customer_data=NONE)
    async def create_section(
        self, hub: HubDep, staff: CurrentStaff, data: JSONBody[SectionRequest]
    ) -> dict[str, str]:
        async with hub.db.session() as session:
            created = await add_section(session, hub.events, hub.audit, data.slug, data.title, staff.actor)
        if not created:
            raise ValidationException(f"slug: section {data.slug!r} already exists", extra=[{"key": "slug"}])
        await hub.enablement.load(hub.db)
        return {"slug": data.slug, "title": data.title}


class StaffRequest(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    role: str
    sections: list[str] = []
    password: str | None = None


class StaffController(Controller):
    """Who is calling, and adding staff (admin)."""

    path = "/api"
    tags = ["staff"]
    dependencies = CORE_DEPENDENCIES

    @get("/me", opt=STAFF, customer_data=NONE)
    async def me(self, staff: CurrentStaff) -> dict[str, Any]:
        return {"name": staff.name, "role": staff.role.value, "sections": sorted(staff.sections)}

    @post("/staff", opt=ADMIN, status_code=HTTP_201_CREATED, customer_data=NONE)
    async def create_staff(
        self, hub: HubDep, staff: CurrentStaff, data: JSONBody[StaffRequest]
    ) -> dict[str, Any]:
        """Create a staff user (admin); the API token is in this response only."""
        try:
            async with hub.db.session() as session:
                user, token = await hub.staff.add_user(
                    session,
                    name=data.name,
                    role=data.role,
                    sections=data.sections,
                    password=data.password,
                    actor=staff.actor,
                )
        except StaffError as exc:
            raise ValidationException(str(exc), extra=[{"key": exc.field, "message": exc.message}]) from None
        return {"name": user.name, "role": user.role, "sections": user.section_slugs, "token": token}


MAIL_READERS = {"roles": ["admin", "supervisor", "lead", "security"]}
# Queued mail is receipts and letters to customers: its recipients and bodies to admins only.
MAIL_OUTBOX = QUEUE(roles=("admin",))
MAIL_STATUS = r"^(queued|sent|failed)$"
JOB_READERS = {"roles": ["admin", "lead", "supervisor"]}


class OperationsController(Controller):
    """What operators look at: checks, the event catalogue and dead letters, the mail outbox, jobs, audit."""

    path = "/api"
    dependencies = CORE_DEPENDENCIES

    @get("/checks", opt=STAFF, tags=["checks"], customer_data=NONE)
    async def list_checks(
        self,
        hub: HubDep,
        section: Annotated[str | None, QueryParameter(name="section", pattern=SECTION_SLUG)] = None,
        plugin: Annotated[str | None, QueryParameter(name="plugin", pattern=PLUGIN_ID)] = None,
    ) -> dict[str, Any]:
        """Run the checks now (optionally of one section's or one plugin's) and report each outcome."""
        if section is not None and section not in hub.enablement.sections:
            raise NotFoundException(f"no section {section!r}")
        if plugin is not None:
            _record(hub, plugin)
        outcomes: list[CheckOutcome] = await hub.run_checks(section=section, plugin=plugin)
        return {
            "passed": all(o.passed for o in outcomes),
            "failed": sum(not o.passed for o in outcomes),
            "checks": outcomes,
        }

    @get("/events/catalogue", opt=STAFF, tags=["events"], customer_data=NONE)
    async def event_catalogue(self, hub: HubDep) -> list[dict[str, Any]]:
        """Every event type registered by the core and the plugins, with its payload's JSON schema."""
        return hub.catalogue.describe()

    @get("/events/dead-letters", opt=ADMIN, tags=["events"], customer_data=NONE)
    async def dead_letters(
        self, hub: HubDep, limit: Annotated[int, QueryParameter(name="limit", ge=1, le=500)] = 100
    ) -> list[dict[str, Any]]:
        """Events a handler gave up on (after the allowed deliveries) or could not decode, newest first.

        Admin only: the records carry the event payload.
        """
        try:
            return await hub.bus.dead_letters(limit)
        except BusUnavailable as exc:
            raise ServiceUnavailableException(f"bus unavailable: {exc}") from exc

    @get("/mail/outbox", opt=MAIL_READERS, tags=["mail"], customer_data=MAIL_OUTBOX)
    async def mail_outbox(
        self,
        hub: HubDep,
        staff: CurrentStaff,
        status: Annotated[
            str | None, QueryParameter(name="status", pattern=r"^(queued|sent|failed)$")
        ] = None,
        limit: Annotated[int, QueryParameter(name="limit", ge=1, le=500)] = 100,
    ) -> list[MailView]:
        """Mail the hub has queued, newest first (with no SMTP configured it stays here)."""
        async with hub.db.session() as session:
            mails = await list_outbox(session, status=status, limit=limit)
            return await outbox_for(session, hub.audit, staff.role.value, staff.actor, mails)

    @get("/jobs", opt=JOB_READERS, tags=["jobs"], customer_data=NONE)
    async def list_jobs(self, hub: HubDep) -> RunnerInfo:
        """Every periodic job with its schedule and last run (start, duration, outcome, error), and which
        hub process runs the jobs now."""
        return await hub.jobs.describe()

    @get("/audit/verify", opt=ADMIN, tags=["audit"], customer_data=NONE)
    async def audit_verify(self, hub: HubDep) -> dict[str, Any]:
        async with hub.db.read() as session:
            result = await verify_chain(session, hub.audit.key, hub.audit.checkpoints)
        return {
            "ok": result.ok,
            "records": result.records,
            "problems": result.problems,
            "warnings": result.warnings,
            "checkpoints": result.checkpoints,
        }


PUBLIC_ROUTES = [HealthController]
ROUTES = [
    PluginsController,
    SectionsController,
    StaffController,
    OperationsController,
    *OFFLINE_ROUTES,
]
