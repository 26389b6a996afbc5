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

from collections.abc import Sequence
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
from plugins.escalations import checks, events
from plugins.escalations.api import EscalationsApi
from plugins.escalations.pages import CroPages, EscalationPages
from plugins.escalations.rules import EscalationConfig

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
    return [EscalationsApi]


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    return [
        PageSpec(handler=EscalationPages, nav_title="Escalations", nav_path="/"),
        PageSpec(handler=CroPages, nav_title="CRO queue", nav_path="/cro"),
    ]


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
    return events.live_push(ctx)
