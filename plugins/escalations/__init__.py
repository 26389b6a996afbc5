"""Escalations: CSRs ask leads and supervisors for help from a contact; management writes to the CRO.

A CSR raises an escalation from a verified contact (special payment plan, same-day service, deposit
waiver, alternate identification, bill correction, ...); it is routed to the lead, supervisor or CRO
queue by kind, with an SLA deadline by urgency. A lead, supervisor or the CRO who is not the requester
approves or denies it with a reason, and the CSR hears about it live. Escalations e-mailed to the
Customer Relations Office come in through the intake route and, once resolved, the requester is mailed.
A special payment plan beyond the standard terms is created only from an approved escalation, and mail
to other sections about an account is queued and recorded as a CCB customer contact (issue 8 §4; tasks
9, 11, 27, 34, 35).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from core.contract import (
    CheckKind,
    CheckSpec,
    EventType,
    PageSpec,
    PluginContext,
    PluginManifest,
    Severity,
    hookimpl,
)
from plugins.escalations import api, checks, events
from plugins.escalations.service import EscalationConfig

PLUGIN_ID = "escalations"


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID,
        title="Escalations",
        version="1.0.0",
        description="Lead, supervisor and CRO escalations with approvals, SLA checks and section mail.",
        sections_hint=("call-center", "customer-service-center", "lead", "cro"),
        config_type=EscalationConfig,
    )


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    return api.routes(ctx)


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    return api.pages(ctx)


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return [EventType(subject=s, payload=p, description=d) for s, p, d in events.EVENT_TYPES]


@hookimpl
def hub_register_checks(ctx: PluginContext) -> Sequence[CheckSpec]:
    return [
        CheckSpec(
            name="cro_overdue",
            run=checks.make_cro_check(ctx),
            kind=CheckKind.HEALTH,
            severity=Severity.WARNING,
            description="No CRO escalation is open past its SLA deadline.",
        ),
        CheckSpec(
            name="queue_overdue",
            run=checks.make_queue_check(ctx),
            kind=CheckKind.HEALTH,
            severity=Severity.WARNING,
            description="No lead or supervisor escalation is open past its SLA deadline.",
        ),
    ]


@hookimpl
def hub_lifespan(ctx: PluginContext) -> AbstractAsyncContextManager[None] | None:
    return _live_fanout(ctx)


@contextlib.asynccontextmanager
async def _live_fanout(ctx: PluginContext) -> AsyncIterator[None]:
    events.broadcaster_for(ctx)  # made here so the streams and the fan-out share it from the start
    # No durable name: every hub process receives every escalation event for the streams it holds open.
    sub = await ctx.bus.subscribe("hub.escalation.>", events.make_fanout_handler(ctx))
    try:
        yield
    finally:
        await sub.unsubscribe()
