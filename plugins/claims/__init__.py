"""Claims: bill credits for breaks, leaks and outages the utility caused (issue 7 §2; tasks 32, 33).

A CSR takes a claim from a verified contact (or the CRO or a supervisor with an access reason): the
claimant, the account, the incident, the loss and the amount claimed, with receipts and photos uploaded
as documents. The loss is reviewed against the coverage rules in config and the reason recorded. The CRO
or a supervisor then asks the customer for more information (a mail; the SLA clock pauses), grants a
credit (a CCB adjustment on the right service agreement, never above the amount claimed), denies it (a
decision letter with the reason, through the correspondence plugin), or reports it to security as
suspected fraud (an incident report). A check lists claims open beyond the SLA in business days.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from plugins.claims import api, checks, events, pages
from plugins.claims.rules import ClaimsConfig

PLUGIN_ID = "claims"


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID,
        title="Claims",
        version="1.0.0",
        description="Bill credits for utility-caused breaks and leaks: intake, coverage review, decisions.",
        sections_hint=("call-center", "customer-service-center", "cro"),
        # A decision is not complete without its letter: claims runs only where correspondence runs, and
        # reaches it through plugins.correspondence.public.LetterService.
        depends_on=("correspondence",),
        config_type=ClaimsConfig,
    )


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    return [api.ClaimsController]


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    return [PageSpec(handler=pages.ClaimsDesk, nav_title="Claims")]


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return [EventType(subject=s, payload=p, description=d) for s, p, d in events.EVENT_TYPES]


@hookimpl
def hub_register_checks(ctx: PluginContext) -> Sequence[CheckSpec]:
    return [
        CheckSpec(
            name="claims_overdue",
            run=checks.make_sla_check(ctx),
            kind=CheckKind.HEALTH,
            severity=Severity.WARNING,
            description="No claim is open beyond its SLA in business days (paused while waiting).",
        ),
    ]
