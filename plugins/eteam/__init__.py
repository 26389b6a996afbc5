"""E-team: "Contact Us" requests from Oracle Customer Connect, investigated and answered by the e-team.

Unresolved incidents are pulled from Customer Connect into the e-team queue (on request, and every
``pull_interval_s`` while Customer Connect is configured). A member investigates, opening a contact on
the account verified from the request's details or by a call-back, and answers by e-mail (a staff
response thread, which moves the incident to Waiting) or records a phone answer (a private note). When
action was taken on the account, a CCB customer contact containing the reference number (YYMMDD-NNNNNN)
is added. A check reports requests unanswered for more than N business hours (issue 7 §3; task 28).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
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
from plugins.eteam import api, checks, events
from plugins.eteam.service import EteamConfig

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
    return api.routes(ctx)


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    return api.pages(ctx)


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
def hub_lifespan(ctx: PluginContext) -> AbstractAsyncContextManager[None] | None:
    config: EteamConfig = ctx.config
    if config.base_url is None or config.pull_interval_s <= 0:
        return None
    return _pull_loop(ctx, config.pull_interval_s)


@contextlib.asynccontextmanager
async def _pull_loop(ctx: PluginContext, interval_s: float) -> AsyncIterator[None]:
    async def loop() -> None:
        while True:
            # Wait first: start-up stays fast and a site that is down does not delay the hub.
            await asyncio.sleep(interval_s)
            try:
                result = await api.pull(ctx)
                ctx.log.info("eteam: pulled %d new, %d updated", result.new, result.updated)
            except asyncio.CancelledError:
                raise
            except Exception:  # one failed pull must not end the loop; the next one retries
                ctx.log.exception("eteam: pull from Customer Connect failed")

    task = asyncio.create_task(loop(), name="eteam-pull")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
