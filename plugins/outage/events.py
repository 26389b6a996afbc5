"""Events the outage plugin publishes, the live push to CSR screens, and its trouble-ticket handler.

Payloads name the outage, its utility, cause, area codes and estimate; premise lists travel only as a count
(the bus fans out to every subscriber, which needs no more — ARCHITECTURE §4).

Live delivery: each hub process subscribes to ``hub.outage.>`` without a durable name, so every process
gets every event (a durable consumer would share them out instead) and publishes it to the hub's streams:
the event as JSON on :data:`EVENTS_CHANNEL` and the banner as it now reads on :data:`BANNER_CHANNEL`. A
subscriber that stops reading loses its oldest messages; it never slows the others down.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import msgspec

from core.contract import PluginContext
from plugins.outage import queries
from plugins.outage.models import Outage
from plugins.outage.rules import banner_html

if TYPE_CHECKING:
    # Annotations only: the bus's envelope type is not in the contract yet.
    from core.contract.bus import Envelope
    from plugins.outage.service import OutageService

DECLARED = "hub.outage.declared"
UPDATED = "hub.outage.updated"
RESTORED = "hub.outage.restored"
SUGGESTED = "hub.outage.suggested"
TROUBLE_TICKET_CREATED = "hub.ccb.trouble_ticket.created"
# The hub's stream channels: outage events as JSON (the API stream) and the rendered banner (the pages).
EVENTS_CHANNEL = "outage.events"
BANNER_CHANNEL = "outage.banner"


class OutageChanged(msgspec.Struct, frozen=True, kw_only=True):
    """The payload of declared, updated and restored: the outage as it is after the change."""

    outage_id: int
    revision: int
    utility: str
    status: str
    cause: str
    service_areas: list[str]
    zips: list[str]
    premise_count: int
    estimated_restoration: dt.datetime | None
    changed_at: dt.datetime
    changed_by: str
    message: str | None = None


class OutageSuggested(msgspec.Struct, frozen=True, kw_only=True):
    """A burst of trouble tickets from one area: a lead should confirm (declare) or dismiss it."""

    suggestion_id: int
    service_areas: list[str]
    zips: list[str]
    ticket_count: int
    window_minutes: int
    first_at: dt.datetime
    last_at: dt.datetime


class FieldActivityRef(msgspec.Struct, frozen=True, kw_only=True):
    """The CCB's trouble-ticket payload, as far as this plugin reads it (unknown fields are ignored)."""

    field_activity_id: str
    fa_type: str
    premise_id: str
    case_id: str | None = None


EVENT_TYPES: list[tuple[str, type[msgspec.Struct], str]] = [
    (DECLARED, OutageChanged, "An outage was declared; CSRs see it live."),
    (UPDATED, OutageChanged, "An active outage changed (cause, area, estimated restoration, message)."),
    (RESTORED, OutageChanged, "An outage was restored."),
    (SUGGESTED, OutageSuggested, "A burst of trouble tickets from one area suggests an outage to confirm."),
]


def changed_payload(o: Outage, actor: str, at: dt.datetime) -> OutageChanged:
    return OutageChanged(
        outage_id=o.id,
        revision=o.revision,
        utility=o.utility,
        status=o.status,
        cause=o.cause,
        service_areas=sorted(o.service_areas),
        zips=sorted(o.zips),
        premise_count=len(o.premise_ids),
        estimated_restoration=o.estimated_restoration,
        changed_at=at,
        changed_by=actor,
        message=o.message,
    )


# -- live push -------------------------------------------------------------------------------------------
def make_fanout_handler(ctx: PluginContext) -> Callable[[Envelope], Awaitable[None]]:
    """Publish each ``hub.outage.*`` event, and the banner as it now reads, to this process's streams."""

    async def fan_out(env: Envelope) -> None:
        async with ctx.db.session() as session:
            banner = banner_html([o.facts() for o in await queries.active_outages(session)])
        data = msgspec.json.encode({"subject": env.subject, "id": env.id, **env.data}).decode()
        ctx.streams.publish(EVENTS_CHANNEL, env.subject.rsplit(".", 1)[-1], data)
        ctx.streams.publish(BANNER_CHANNEL, "banner", banner)

    return fan_out


@contextlib.asynccontextmanager
async def live_push(ctx: PluginContext) -> AsyncIterator[None]:
    """The plugin's lifespan: the fan-out subscription, held while the hub runs."""
    # No durable name: every hub process receives every outage event for the streams it holds open.
    sub = await ctx.bus.subscribe("hub.outage.>", make_fanout_handler(ctx))
    try:
        yield
    finally:
        await sub.unsubscribe()


# -- trouble tickets -------------------------------------------------------------------------------------
def make_trouble_ticket_handler(service: OutageService) -> Callable[[Envelope], Awaitable[None]]:
    """Link a ticket inside an active outage (no duplicate dispatch) or count it toward a burst."""

    async def on_trouble_ticket(env: Envelope) -> None:
        await service.trouble_ticket(env.payload(FieldActivityRef))

    return on_trouble_ticket
