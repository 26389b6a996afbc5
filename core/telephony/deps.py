"""The telephony part's service, found from its plugin context or a request (the Controllers' ``Provide``)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ServiceUnavailableException

from core.bus import Bus
from core.contract import PluginContext
from core.telephony.service import TelephonyService

PART_ID = "telephony"


def service_of(ctx: PluginContext) -> TelephonyService:
    """The part's service: its runtime data, created once per hub from its context (config, not state)."""
    if ctx.runtime is None:
        ctx.runtime = TelephonyService(db=ctx.db, events=ctx.events, clock=ctx.clock, config=ctx.config)
    service: TelephonyService = ctx.runtime
    return service


def telephony_service(hub: Any) -> TelephonyService | None:
    """The running telephony service of ``hub``, for other core parts (e.g. the contact layer sets
    ``on_inbound`` on it for the screen pop); None when the part is not running."""
    rec = hub.plugins.records.get(PART_ID)
    if rec is None or not rec.running or rec.ctx is None:
        return None
    return service_of(rec.ctx)


def _context(request: Request[Any, Any, Any]) -> PluginContext:
    # The guard already answered 503 for a part that is not running; this covers a stop mid-request.
    rec = request.app.state["hub"].plugins.records.get(PART_ID)
    if rec is None or not rec.running or rec.ctx is None:
        raise ServiceUnavailableException(f"{PART_ID} is not running")
    ctx: PluginContext = rec.ctx
    return ctx


async def provide_service(request: Request[Any, Any, Any]) -> TelephonyService:
    return service_of(_context(request))


async def provide_bus(request: Request[Any, Any, Any]) -> Bus:
    return _context(request).bus
