"""Cash handling at the Customer Service Center window: drawers, cash payments, counterfeit notes, drop box.

A CSR opens a drawer (a CCB tender control) with the counted float, takes cash payments with the
counterfeit checks done per note in view of the customer, and closes the drawer balanced to the cent; a
variance goes to the lead. A suspected counterfeit is seized, not credited, recorded with the SSF 1604
fields and handed to the supervisor, who records the Secret Service submission. Leads collect the payment
drop box and CSRs post its slips. Card tenders are taken on terminals the PCI terminal inspection (an
optional companion) vouches for. Two compliance checks watch drawers left open and unreported notes.
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
from plugins.cash_handling import api, checks, events, pages, pages_backoffice
from plugins.cash_handling.rules import CashConfig

PLUGIN_ID = "cash_handling"
PAGE_ROLES = tuple(api.VIEW["roles"])


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID,
        title="Cash handling",
        version="0.1.0",
        description="Cash drawers, window payments with counterfeit checks, seized notes, the drop box.",
        sections_hint=("customer-service-center",),
        # Card tenders ask the terminal inventory; without it cards are refused and cash is still taken.
        after_depends_on=("pci_inspection",),
        config_type=CashConfig,
    )


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    return [api.CashController]


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    return [
        PageSpec(handler=pages.WindowPages, nav_title="Cash window", nav_path="/", nav_roles=PAGE_ROLES),
        PageSpec(handler=pages.DrawerPages, nav_title="Drawers", nav_path="/drawers", nav_roles=PAGE_ROLES),
        PageSpec(
            handler=pages_backoffice.SeizedPages,
            nav_title="Seized notes",
            nav_path="/seized",
            nav_roles=PAGE_ROLES,
        ),
        PageSpec(
            handler=pages_backoffice.DropboxPages,
            nav_title="Drop box",
            nav_path="/dropbox",
            nav_roles=PAGE_ROLES,
        ),
    ]


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return [EventType(subject=s, payload=p, description=d) for s, p, d in events.EVENT_TYPES]


@hookimpl
def hub_register_checks(ctx: PluginContext) -> Sequence[CheckSpec]:
    return [
        CheckSpec(
            name="drawers_closed",
            run=checks.make_drawers_check(ctx),
            kind=CheckKind.COMPLIANCE,
            severity=Severity.CRITICAL,
            description="No cash drawer is left open past end of business.",
        ),
        CheckSpec(
            name="counterfeit_submitted",
            run=checks.make_counterfeit_check(ctx),
            kind=CheckKind.COMPLIANCE,
            severity=Severity.WARNING,
            description="Every seized note has a Secret Service submission within N business days (config).",
        ),
    ]
