"""Break scheduling around peaks: rest and meal periods placed inside their legal windows (issue 8 §1).

A lead builds a day's schedule for the CSRs on shift from the interval forecast (given by hand, the phone
simulator's daily arrival profile, or the same weekday's recorded calls over the last weeks): each break sits
in its legal window (docs/rules.md §3, California Order 4 by default or a bargaining unit's MOU set, §3.5)
where it
costs the least service level (Erlang C), intervals that cannot be covered are reported, and any schedule is
validated against V1-V8 of §3.6 with its premium-pay exposure. A break that starts sets the agent NOT_READY
with the break's reason code, and a check flags breaks overdue.
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
from plugins.breaks import api, checks, events, pages
from plugins.breaks.rules import BreaksConfig

PLUGIN_ID = "breaks"


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID,
        title="Break scheduling",
        version="1.0.0",
        description="Rest and meal breaks in their legal windows, staggered around forecast peaks.",
        sections_hint=("call-center", "customer-service-center", "lead"),
        depends_on=(),
        config_type=BreaksConfig,
    )


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    return [api.BreaksController]


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    return [PageSpec(handler=pages.BreaksPages, nav_title="Breaks", nav_path="/")]


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return [EventType(subject=s, payload=p, description=d) for s, p, d in events.EVENT_TYPES]


@hookimpl
def hub_register_checks(ctx: PluginContext) -> Sequence[CheckSpec]:
    return [
        CheckSpec(
            name="breaks_overdue",
            run=checks.make_overdue_check(ctx),
            kind=CheckKind.COMPLIANCE,
            severity=Severity.WARNING,
            description="No break of the published schedule is overdue by more than the configured minutes.",
        )
    ]
