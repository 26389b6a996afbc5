"""Solar: program facts and answers, net-metered bill explanations, and the voicemail callback queue.

The Solar team answers questions on the Solar Incentive Program, net energy metering and Charge Up L.A.!
from configured facts (docs/ccb-domain.md §4.1); explains a net-metered customer's bill in plain words from
the
CCB's own billing of the net-metered service agreement (kWh delivered and received, net kWh by tier with
the tier prices, the kWh credit carried in and forward), read through the CCB port; and works a queue of
voicemails left by callers, each returned within one business day with its outcome recorded (issue 7 §4;
task 29).
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
from plugins.solar import checks, events
from plugins.solar.api import SolarApi
from plugins.solar.pages import SolarPages
from plugins.solar.rules import SolarConfig

PLUGIN_ID = "solar"


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID,
        title="Solar",
        version="1.0.0",
        description="Solar and EV program facts, net-metered bill explanations and the voicemail callbacks.",
        sections_hint=("solar",),
        config_type=SolarConfig,
    )


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    return [SolarApi]


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    return [PageSpec(handler=SolarPages, nav_title="Solar", nav_path="/")]


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return [EventType(subject=s, payload=p, description=d) for s, p, d in events.EVENT_TYPES]


@hookimpl
def hub_register_checks(ctx: PluginContext) -> Sequence[CheckSpec]:
    return [
        CheckSpec(
            name="voicemails_returned",
            run=checks.make_voicemail_check(ctx),
            kind=CheckKind.HEALTH,
            severity=Severity.WARNING,
            description="Every voicemail left for the Solar team is returned within one business day.",
        )
    ]
