"""E-team: "Contact Us" requests from Oracle Customer Connect, investigated and answered by the e-team.

Unresolved incidents are pulled from Customer Connect into the e-team queue (on request, and as a job every
``pull_interval_s`` while Customer Connect is configured). A member investigates, opening a contact on
the account verified from the request's details or by a call-back, and answers by e-mail (a staff
response thread, which moves the incident to Waiting) or records a phone answer (a private note). When
action was taken on the account, a CCB customer contact containing the reference number (YYMMDD-NNNNNN)
is added. A check reports requests unanswered for more than N business hours (issue 7 §3; task 28).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.contract import (
    CheckKind,
    CheckSpec,
    EventType,
    JobSpec,
    PageSpec,
    PluginContext,
    PluginManifest,
    Severity,
    hookimpl,
)
from plugins.eteam import api, checks, events, pages, service
from plugins.eteam.rules import EteamConfig

PLUGIN_ID = "eteam"


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID,
        title="E-team",
        version="1.0.0",
        description="Contact Us requests from Customer Connect: queue, answers, CCB notes, response check.",
        sections_hint=("e-team",),
        config_type=EteamConfig,
    )


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    service.install_runtime(ctx)
    return [api.EteamController]


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    return [PageSpec(handler=pages.EteamPages, nav_title="E-team", nav_path="/")]


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return [EventType(subject=s, payload=p, description=d) for s, p, d in events.EVENT_TYPES]


@hookimpl
def hub_register_checks(ctx: PluginContext) -> Sequence[CheckSpec]:
    return [
        CheckSpec(
            name="unanswered",
            run=checks.make_unanswered_check(ctx),
            kind=CheckKind.HEALTH,
            severity=Severity.WARNING,
            description="No Contact Us request waits unanswered longer than the configured business hours.",
        )
    ]


@hookimpl
def hub_register_jobs(ctx: PluginContext) -> Sequence[JobSpec]:
    job = service.pull_job(ctx)
    return [job] if job is not None else []
