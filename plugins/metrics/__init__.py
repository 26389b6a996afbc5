"""Customer service metrics: counts derived from the hub's events, the daily view and the monthly workbook.

Payments processed, counter requests by kind, claims and mail processed, calls handled and contacts by
channel are tallied from bus events by one handler (never typed in by hand); a CSR records a counter request
that leaves no other trace with one click, which emits an event counted the same way. Leads get the month as
an Excel workbook over the API or with ``ccbhub metrics export`` (issue 8 §2).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from core.contract import (
    CheckKind,
    CheckSpec,
    EventHandler,
    EventType,
    PageSpec,
    PluginContext,
    PluginManifest,
    Severity,
    hookimpl,
)
from plugins.metrics import api, checks, cli, events, pages
from plugins.metrics.rules import MetricsConfig

PLUGIN_ID = "metrics"


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID,
        title="Metrics",
        version="1.0.0",
        description="Counts from bus events, per CSR and section per day, and the monthly Excel report.",
        sections_hint=("call-center", "customer-service-center", "customer-relations", "lead"),
        config_type=MetricsConfig,
    )


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    return [api.MetricsController]


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    return [PageSpec(handler=pages.MetricsPages, nav_title="Metrics", nav_path="/")]


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return [EventType(subject=s, payload=p, description=d) for s, p, d in events.EVENT_TYPES]


@hookimpl
def hub_register_event_handlers(ctx: PluginContext) -> Sequence[EventHandler]:
    return [EventHandler(pattern=events.PATTERN, handler=events.make_tally_handler(ctx), durable="tally")]


@hookimpl
def hub_register_checks(ctx: PluginContext) -> Sequence[CheckSpec]:
    return [
        CheckSpec(
            name="tally_consistent",
            run=checks.make_consistency_check(ctx),
            kind=CheckKind.HEALTH,
            severity=Severity.WARNING,
            description="The tallies add up to the number of events counted (nothing lost or doubled).",
        )
    ]


@hookimpl
def hub_register_cli(group: click.Group) -> None:
    cli.register(group)
