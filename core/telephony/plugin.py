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

from core.contract import CheckSpec, EventType, PluginContext, PluginManifest, ServiceOffer, hookimpl
from core.contract.phone import PhoneDesk
from core.telephony import api, checks, events
from core.telephony.deps import PART_ID, service_of, telephony_service
from core.telephony.desk import TelephonyDesk
from core.telephony.service import TelephonyConfig

ROUTE_PREFIX = "/api/phone"

__all__ = ["PART_ID", "ROUTE_PREFIX", "service_of", "telephony_service"]


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


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    return list(api.CONTROLLERS)


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return list(events.EVENT_TYPES)


@hookimpl
def hub_provide_services(ctx: PluginContext) -> Sequence[ServiceOffer]:
    # Every plugin reaches a core part's offers without naming it in depends_on (core.plugins).
    return [ServiceOffer(protocol=PhoneDesk, implementation=TelephonyDesk(ctx))]


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
        stop = asyncio.Event()
        if ctx.config.tick_seconds > 0:
            task = asyncio.create_task(
                service.run_timers(ctx.config.tick_seconds, stop), name="telephony-timers"
            )
        try:
            yield
        finally:
            if task is not None:
                stop.set()  # the running tick finishes its transaction; cancelled only if it hangs
                try:
                    async with asyncio.timeout(5):
                        await asyncio.shield(task)
                except TimeoutError:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    return lifespan()
