"""The core's own parts, registered through the same plugin contract as every section plugin.

Dogfooding the contract (as pytest and datasette do) means the catalogue, the check runner and the
dashboard need no special case for the core: its events and checks are listed like any plugin's.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, text

from connectors.smtp import SMTP_CHECK
from core.ccb.events import CCB_EVENT_TYPES
from core.ccb.offline import OFFLINE_EVENT_TYPES, OfflineCcb, offline_check
from core.contract import (
    CheckContext,
    CheckKind,
    CheckResult,
    CheckSpec,
    EventType,
    PluginContext,
    PluginManifest,
    Severity,
    hookimpl,
)
from core.models import OutboxEvent
from core.sections import EnablementChanged, SectionAdded

CORE_ID = "core"


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id=CORE_ID,
        title="Hub core",
        version="0.1.0",
        description="Storage, bus, sections, staff, audit and the checks every deployment needs.",
        critical=True,
    )


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return [
        EventType(
            subject="hub.plugins.enablement_changed",
            payload=EnablementChanged,
            description="A plugin was enabled or disabled for a section; each hub process reloads its cache.",
        ),
        EventType(subject="hub.sections.added", payload=SectionAdded, description="A section was added."),
        *CCB_EVENT_TYPES,
        *OFFLINE_EVENT_TYPES,
    ]


async def check_database(ctx: CheckContext) -> CheckResult:
    async with ctx.db.session() as session:
        await session.execute(text("SELECT 1"))
    return CheckResult(passed=True, message=f"{ctx.db.dialect} answers")


async def check_bus(ctx: CheckContext) -> CheckResult:
    ok = await ctx.bus.healthy()
    return CheckResult(passed=ok, message="bus connected" if ok else "bus unavailable")


async def check_outbox(ctx: CheckContext) -> CheckResult:
    limit = ctx.settings.outbox_backlog_limit
    async with ctx.db.session() as session:
        backlog = int(
            await session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
            )
            or 0
        )
        oldest = await session.scalar(
            select(func.min(OutboxEvent.created_at)).where(OutboxEvent.published_at.is_(None))
        )
    age = (ctx.clock.now() - oldest).total_seconds() if oldest is not None else 0.0
    return CheckResult(
        passed=backlog <= limit,
        message=f"{backlog} event(s) waiting to be published" + (f", oldest {age:.0f}s" if backlog else ""),
        details={"backlog": backlog, "limit": limit, "oldest_age_s": round(age, 1)},
    )


@hookimpl
def hub_register_checks(ctx: PluginContext) -> Sequence[CheckSpec]:
    return [
        CheckSpec(
            name="database",
            run=check_database,
            kind=CheckKind.HEALTH,
            severity=Severity.CRITICAL,
            description="The database answers a query.",
        ),
        CheckSpec(
            name="bus",
            run=check_bus,
            kind=CheckKind.HEALTH,
            severity=Severity.CRITICAL,
            description="The message bus is connected.",
        ),
        CheckSpec(
            name="outbox_backlog",
            run=check_outbox,
            kind=CheckKind.HEALTH,
            severity=Severity.WARNING,
            description="Events are being published (backlog under HUB_OUTBOX_BACKLOG_LIMIT).",
        ),
        # Passes with "mail stays in the outbox" when no HUB_SMTP_URL is set; otherwise connects and NOOPs.
        SMTP_CHECK,
        # Reports offline mode and the form backlog when a remote CCB is configured; passes for the mock.
        offline_check(ctx.ccb if isinstance(ctx.ccb, OfflineCcb) else None),
    ]
