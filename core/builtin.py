"""The core's own parts, registered through the same plugin contract as every section plugin.

Dogfooding the contract (as pytest and datasette do) means the catalogue, the check runner and the
dashboard need no special case for the core: its events and checks are listed like any plugin's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text

from core.audit import AuditLog
from core.ccb.events import CCB_EVENT_TYPES
from core.ccb.local import LocalCcb
from core.ccb.offline import OFFLINE_EVENT_TYPES, OfflineCcb, offline_check
from core.ccb.port import CcbPort
from core.ccb.seed import identity_key
from core.clock import Clock, local
from core.connectors import MailConnector, load_connector
from core.contract import (
    CheckContext,
    CheckKind,
    CheckResult,
    CheckSpec,
    EventType,
    JobSpec,
    PluginContext,
    PluginManifest,
    Severity,
    hookimpl,
)
from core.db import Database
from core.models import OutboxEvent
from core.outbox import EventWriter
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


async def check_mail(ctx: CheckContext) -> CheckResult:
    url = getattr(ctx.settings, "smtp_url", None)
    if not url:
        return CheckResult(passed=True, message="no HUB_SMTP_URL: mail stays in the outbox")
    connector: MailConnector = load_connector("mail", url, setting="HUB_SMTP_URL")
    return await connector.check(ctx)


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
        CheckSpec(
            name="smtp",
            run=check_mail,
            kind=CheckKind.HEALTH,
            timeout_s=5.0,
            severity=Severity.WARNING,
            description="The mail server in HUB_SMTP_URL accepts a connection (TLS and AUTH as configured) "
            "and NOOP.",
        ),
        # Reports offline mode and the form backlog when a remote CCB is configured; passes for the mock.
        offline_check(ctx.ccb if isinstance(ctx.ccb, OfflineCcb) else None),
    ]


# -- the CCB port and its periodic work ---------------------------------------------------------------------


def build_ccb(settings: Any, db: Database, clock: Clock, events: EventWriter, audit: AuditLog) -> CcbPort:
    """The CCB port plugins see as ctx.ccb: the embedded mock, or a remote CCB (its connector, found by
    ``HUB_CCB_URL``'s scheme) behind the offline journal that records writes as forms while CCB is
    unreachable (task 17)."""
    if settings.ccb_url == "local":
        return LocalCcb(db, clock, identity_key(settings.secret_key), events=events, audit=audit)
    remote = load_connector("ccb", settings.ccb_url, setting="HUB_CCB_URL")
    return OfflineCcb(remote, db, clock, events)


def ccb_jobs(ccb: CcbPort, clock: Clock) -> list[JobSpec]:
    """The CCB's periodic work: the mock's daily batches, or the offline journal's replay."""
    if isinstance(ccb, LocalCcb):
        local_ccb = ccb

        async def daily_batches() -> None:
            today = local(clock.now()).date()
            await local_ccb.activate_due(today)
            await local_ccb.finalize_due(today)
            await local_ccb.monitor_pay_plans(today)

        return [
            JobSpec(
                name="ccb_batches",
                run=daily_batches,
                # Hourly, each batch idempotent: a new day (utility zone) is picked up within the hour.
                every_s=3600.0,
                timeout_s=900.0,
                run_at_start=True,
                description="Today's CCB batches (utility zone): due SA starts and stops, pay-plan monitor "
                "(§1.5, §1.10).",
            )
        ]
    if isinstance(ccb, OfflineCcb):
        offline_ccb = ccb

        async def replay_forms() -> None:
            # Cheap when CCB is up and nothing is pending: one query finds no form to send.
            await offline_ccb.replay()

        return [
            JobSpec(
                name="ccb_offline_replay",
                run=replay_forms,
                every_s=15.0,
                timeout_s=600.0,
                run_at_start=False,
                description="Replays the offline forms recorded while CCB was unreachable, in order.",
            )
        ]
    return []


def audit_checkpoint_jobs(ctx: PluginContext) -> list[JobSpec]:
    """Signs the audit head on a timer, so a quiet hub's last records are covered by a checkpoint too."""
    audit, db = ctx.audit, ctx.db
    if audit is None:  # a bare context (the plugin manager's own tests) has no audit log
        return []

    async def checkpoint() -> None:
        await audit.checkpoint(db)

    job = JobSpec(
        name="audit_checkpoint",
        run=checkpoint,
        every_s=audit.interval_s,
        timeout_s=60.0,
        run_at_start=False,
        description="Signs the audit log's head into the checkpoint file (HUB_AUDIT_CHECKPOINT_FILE), "
        "which proves later that no newest records were deleted.",
    )
    return [job]


@hookimpl
def hub_register_jobs(ctx: PluginContext) -> Sequence[JobSpec]:
    return [*ccb_jobs(ctx.ccb, ctx.clock), *audit_checkpoint_jobs(ctx)]
