"""Agency lookup: the transfer directory of City departments, agencies and utilities, and the disclosure desk.

CSRs search the directory by what the caller needs ("gas leak" → SoCalGas) and telephony offers its entries
as single-step and warm transfer targets. CROs record requests for customer information from outside
agencies, decide them from the table of docs/rules.md §5.4, get a second person's approval for bulk or
interval
data, release only the allowed fields, and log every step in an append-only, hash-chained log (issue 7 §5).
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
from plugins.agency_lookup import api, checks, events, pages
from plugins.agency_lookup.rules import AgencyConfig

PLUGIN_ID = "agency_lookup"


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID,
        title="Agency lookup",
        version="1.0.0",
        description="Transfer directory searchable by need, and the outside-agency disclosure desk.",
        sections_hint=("call-center", "customer-service-center", "cro"),
        config_type=AgencyConfig,
    )


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    return [api.DirectoryController, api.DisclosureController]


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    return [
        PageSpec(handler=pages.DirectoryPage, nav_title="Agency directory"),
        PageSpec(handler=pages.DisclosureDesk, nav_title="Disclosure desk"),
    ]


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return [EventType(subject=s, payload=p, description=d) for s, p, d in events.EVENT_TYPES]


@hookimpl
def hub_register_checks(ctx: PluginContext) -> Sequence[CheckSpec]:
    return [
        CheckSpec(
            name="disclosures_supported",
            run=checks.make_supported_check(ctx),
            kind=CheckKind.COMPLIANCE,
            severity=Severity.CRITICAL,
            description="No disclosure was released without a legal basis, its approval and a log entry.",
        ),
        CheckSpec(
            name="monthly_report",
            run=checks.make_report_check(ctx),
            kind=CheckKind.COMPLIANCE,
            severity=Severity.INFO,
            description=(
                "This month's disclosure requests counted by legal basis and agency (docs/rules.md §5.5)."
            ),
        ),
    ]
