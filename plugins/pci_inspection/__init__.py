"""PCI terminal inspection: the card-terminal inventory, the daily checklist, risk analysis and its checks.

Security staff inspect each deployed point-of-interaction device against the 14-item checklist on their
phone (PCI DSS v4.0.1 9.5.1.2); a failed item takes the terminal out of service at once, tells security and
the supervisor, and the cash/card pages refuse it (``rules.usable``). The inventory (9.5.1.1) and
the targeted risk analysis that sets each terminal's inspection frequency (9.5.1.2.1) are kept here too,
and three compliance checks tell the morning shift what is overdue. Cash windows ask whether a card may be
taken on a terminal through ``public.CardTerminals``, offered here.
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
    ServiceOffer,
    Severity,
    hookimpl,
)
from plugins.pci_inspection import checks, events
from plugins.pci_inspection.api import VIEW, PciApi
from plugins.pci_inspection.pages import ChecklistPages, InventoryPages, RiskPages
from plugins.pci_inspection.public import CardTerminals
from plugins.pci_inspection.rules import PciConfig
from plugins.pci_inspection.service_terminals import InventoryTerminals

PLUGIN_ID = "pci_inspection"


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID,
        title="PCI terminal inspection",
        version="1.0.0",
        description="Card-terminal inventory, daily tamper checklist, risk analysis and compliance checks.",
        sections_hint=("security", "customer-service-center"),
        config_type=PciConfig,
    )


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    return [PciApi]


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    roles = tuple(VIEW["roles"])
    return [
        PageSpec(handler=ChecklistPages, nav_title="Terminal checklist", nav_path="/", nav_roles=roles),
        PageSpec(
            handler=InventoryPages, nav_title="Terminal inventory", nav_path="/devices", nav_roles=roles
        ),
        PageSpec(handler=RiskPages, nav_title="Terminal risk analysis", nav_path="/risk", nav_roles=roles),
    ]


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return [EventType(subject=s, payload=p, description=d) for s, p, d in events.EVENT_TYPES]


@hookimpl
def hub_register_checks(ctx: PluginContext) -> Sequence[CheckSpec]:
    return [
        CheckSpec(
            name="terminals_inspected",
            run=checks.make_inspections_check(ctx),
            kind=CheckKind.COMPLIANCE,
            severity=Severity.CRITICAL,
            description="Every deployed card terminal has a passing inspection within its frequency.",
        ),
        CheckSpec(
            name="out_of_service_has_incident",
            run=checks.make_incidents_check(ctx),
            kind=CheckKind.COMPLIANCE,
            severity=Severity.CRITICAL,
            description="Every card terminal out of service has an incident record.",
        ),
        CheckSpec(
            name="risk_analysis_current",
            run=checks.make_risk_analysis_check(ctx),
            kind=CheckKind.COMPLIANCE,
            severity=Severity.WARNING,
            description="The targeted risk analyses in use were reviewed within 12 months.",
        ),
    ]


@hookimpl
def hub_provide_services(ctx: PluginContext) -> Sequence[ServiceOffer]:
    return [ServiceOffer(protocol=CardTerminals, implementation=InventoryTerminals(ctx))]
