"""Outage broadcast: declare, update and restore electric and water outages, and tell every CSR at once.

Leads declare an outage for service areas, ZIP codes or premises; CSRs get it live (a server-sent-event
stream and a banner), contacts from the area get a hint with the script for the caller, trouble tickets from
inside an active outage are linked to it instead of sending a second crew, and a burst of tickets from one
area raises a suggested outage for a lead to confirm (issue 6 §3).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from core.contract import (
    CheckKind,
    CheckSpec,
    ContactHint,
    EventHandler,
    EventType,
    PageSpec,
    PluginContext,
    PluginManifest,
    Severity,
    hookimpl,
)
from plugins.outage import checks, events
from plugins.outage.api import OutageApi
from plugins.outage.pages import OutagePages
from plugins.outage.rules import OutageConfig
from plugins.outage.service import OutageService

PLUGIN_ID = "outage"


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID,
        title="Outage broadcast",
        version="1.0.0",
        description="Declared outages pushed live to CSRs, contact hints, trouble-ticket linking and bursts.",
        sections_hint=("call-center", "customer-service-center", "lead"),
        config_type=OutageConfig,
    )


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    return [OutageApi]


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    return [PageSpec(handler=OutagePages, nav_title="Outages", nav_path="/")]


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return [EventType(subject=s, payload=p, description=d) for s, p, d in events.EVENT_TYPES]


@hookimpl
def hub_register_event_handlers(ctx: PluginContext) -> Sequence[EventHandler]:
    return [
        EventHandler(
            pattern=events.TROUBLE_TICKET_CREATED,
            handler=events.make_trouble_ticket_handler(OutageService(ctx)),
            durable="trouble_tickets",
            # One at a time: the burst window counts what earlier tickets wrote.
            max_in_flight=1,
        )
    ]


@hookimpl
def hub_register_checks(ctx: PluginContext) -> Sequence[CheckSpec]:
    return [
        CheckSpec(
            name="etr_present",
            run=checks.make_etr_check(ctx),
            kind=CheckKind.HEALTH,
            severity=Severity.WARNING,
            description="Every active outage has an estimated restoration within the configured minutes.",
        ),
        CheckSpec(
            name="suggestions_decided",
            run=checks.make_suggestions_check(ctx),
            kind=CheckKind.HEALTH,
            severity=Severity.WARNING,
            description="No suggested outage waits for a lead longer than the burst window.",
        ),
    ]


@hookimpl
async def hub_contact_hints(ctx: PluginContext, contact: Any) -> Sequence[ContactHint]:
    return await OutageService(ctx).contact_hints(contact)


@hookimpl
def hub_lifespan(ctx: PluginContext) -> AbstractAsyncContextManager[None] | None:
    return events.live_push(ctx)
