"""The hub's telephony state (agents, extensions, calls, queues) as a core part on the plugin contract.

It is registered like the core's other parts and mounted at :data:`ROUTE_PREFIX` with the paths its
handlers declare.  Its only state is in the database, so any number of hub processes can serve it; each
one also runs the timer sweep (RONA and wrap-up expiry) unless ``tick_seconds`` is 0.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from core.contract import CheckSpec, EventType, PluginContext, PluginManifest, hookimpl
from core.telephony import api, checks, events
from core.telephony.service import TelephonyConfig, TelephonyService

PART_ID = "telephony"
ROUTE_PREFIX = "/api/phone"
_SERVICE_KEY = "telephony_service"


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id=PART_ID,
        title="Telephony state",
        version="0.1.0",
        description=(
            "Finesse-style agents, extensions, states and calls: sign-in, reason codes, wrap-up, "
            "longest-available-agent routing, RONA, consult and transfers."
        ),
        sections_hint=("call-center", "customer-service-center"),
        config_type=TelephonyConfig,
        critical=False,
    )


def service_of(ctx: PluginContext) -> TelephonyService:
    """The part's service, created once per hub from its context (it holds config, not state)."""
    service = ctx.extras.get(_SERVICE_KEY)
    if service is None:
        service = TelephonyService(db=ctx.db, events=ctx.events, clock=ctx.clock, config=ctx.config)
        ctx.extras[_SERVICE_KEY] = service
    assert isinstance(service, TelephonyService)
    return service


def telephony_service(hub: Any) -> TelephonyService | None:
    """The running telephony service of ``hub``, for other core parts (e.g. the contact layer sets
    ``on_inbound`` on it for the screen pop); None when the part is not running."""
    rec = hub.plugins.records.get(PART_ID)
    if rec is None or not rec.running or rec.ctx is None:
        return None
    return service_of(rec.ctx)


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    return api.routes(service_of(ctx), ctx.bus)


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return list(events.EVENT_TYPES)


@hookimpl
def hub_register_checks(ctx: PluginContext) -> Sequence[CheckSpec]:
    return checks.checks(ctx.config)


@hookimpl
def hub_lifespan(ctx: PluginContext) -> AbstractAsyncContextManager[None]:
    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        service = service_of(ctx)
        await service.sync_devices()
        task: asyncio.Task[None] | None = None
        if ctx.config.tick_seconds > 0:
            task = asyncio.create_task(service.run_timers(ctx.config.tick_seconds), name="telephony-timers")
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return lifespan()
