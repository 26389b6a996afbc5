"""Serving Our Seniors (SOS): CSRs refer isolated or struggling seniors to the City's Department of Aging.

A CSR flags a contact (the customer is a senior; they mention they cannot pay or are isolated) and the hub
hints "may be eligible for SOS" and "refer to HEAP / EZ-SAVE / Lifeline". The CSR files a referral with the
customer's consent; the Customer Relations Office checks it against the program's services, gives it an SOS
number, adds contacts, e-mails it to the Department of Aging and notes it on the CCB account, and routes any
need outside the program (a suspected leak, a repair) to the section that serves it (issue 7 §1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.contract import (
    CheckKind,
    CheckSpec,
    ContactHint,
    EventType,
    PageSpec,
    PluginContext,
    PluginManifest,
    Severity,
    hookimpl,
)
from plugins.sos import checks, events
from plugins.sos.api import VIEWERS, SosApi
from plugins.sos.pages import SosFormPages, SosQueuePages
from plugins.sos.rules import SosConfig
from plugins.sos.service import contact_hints

PLUGIN_ID = "sos"


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID,
        title="Serving Our Seniors",
        version="1.0.0",
        description="SOS referrals from contacts to the Department of Aging, worked by the CRO, and hints.",
        sections_hint=("call-center", "customer-service-center", "customer-relations", "lead"),
        config_type=SosConfig,
    )


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    return [SosApi]


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    return [
        PageSpec(
            handler=SosQueuePages, nav_title="SOS referrals", nav_path="/", nav_roles=tuple(VIEWERS["roles"])
        ),
        PageSpec(handler=SosFormPages, nav_title="SOS referral form", nav_path="/new"),
    ]


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return [EventType(subject=s, payload=p, description=d) for s, p, d in events.EVENT_TYPES]


@hookimpl
def hub_register_checks(ctx: PluginContext) -> Sequence[CheckSpec]:
    return [
        CheckSpec(
            name="referrals_waiting",
            run=checks.make_waiting_check(ctx),
            kind=CheckKind.HEALTH,
            severity=Severity.WARNING,
            description="No SOS referral waits for the CRO longer than the configured business days.",
        )
    ]


@hookimpl
async def hub_contact_hints(ctx: PluginContext, contact: Any) -> Sequence[ContactHint]:
    return await contact_hints(ctx, contact)
