"""Events the outage plugin publishes, the live fan-out to CSR screens, and its trouble-ticket handler.

Payloads name the outage, its utility, cause, area codes and estimate; premise lists travel only as a count
(the bus fans out to every subscriber, which needs no more — ARCHITECTURE §4).

Live delivery: each hub process subscribes to ``hub.outage.>`` without a durable name, so every process
gets every event (a durable consumer would share them out instead) and pushes it to the server-sent-event
streams it holds open through a :class:`Broadcaster`. A subscriber that stops reading loses its oldest
messages; it never slows the others down.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import msgspec
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.bus import Envelope
from core.ccb.errors import CcbError
from core.ccb.port import CancelFieldActivity
from core.contract import PluginContext
from plugins.outage.models import Outage, OutageSuggestion, OutageTicket, active_outages, open_suggestion
from plugins.outage.service import (
    OutageConfig,
    PremiseLocation,
    SuggestionStatus,
    TicketAction,
    area_contains,
    area_of_key,
    banner_line,
    burst_key,
    in_window,
    is_burst,
)

DECLARED = "hub.outage.declared"
UPDATED = "hub.outage.updated"
RESTORED = "hub.outage.restored"
SUGGESTED = "hub.outage.suggested"
TROUBLE_TICKET_CREATED = "hub.ccb.trouble_ticket.created"
ACTOR = "system:outage"


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


# -- live fan-out ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Notice:
    """One message for every open stream: the event as JSON and the banner as it now reads (HTML)."""

    event: str  # declared | updated | restored | suggested
    data: str
    banner: str
    published_at: float  # loop time, for latency measurements


@dataclass(eq=False)
class Subscriber:
    queue: asyncio.Queue[Notice]
    dropped: int = 0


@dataclass
class Broadcaster:
    """Fan-out to the streams one process holds open; ``publish`` never waits for a subscriber."""

    queue_size: int = 64
    subscribers: set[Subscriber] = field(default_factory=set)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscriber]:
        sub = Subscriber(asyncio.Queue(self.queue_size))
        self.subscribers.add(sub)
        try:
            yield sub
        finally:
            self.subscribers.discard(sub)

    def publish(self, notice: Notice) -> None:
        for sub in tuple(self.subscribers):
            if sub.queue.full():
                # Drop the oldest: a stale banner is worth less than the newest one.
                sub.queue.get_nowait()
                sub.dropped += 1
            sub.queue.put_nowait(notice)


def broadcaster_for(ctx: PluginContext) -> Broadcaster:
    """The one broadcaster of this plugin instance (the routes and the lifespan share its context)."""
    found = ctx.extras.get("outage.broadcaster")
    if not isinstance(found, Broadcaster):
        config: OutageConfig = ctx.config
        found = Broadcaster(queue_size=config.stream_queue_size)
        ctx.extras["outage.broadcaster"] = found
    return found


def banner_html(outages: list[Outage]) -> str:
    """The #banner fragment: one line per active outage, escaped; empty when there is none."""
    if not outages:
        return ""
    lines = Markup("").join(
        Markup('<li data-outage="{}">{}</li>').format(o.id, banner_line(o.facts())) for o in outages
    )
    return str(
        Markup(
            '<div class="outage-banner" role="status" aria-live="polite"><strong>{}</strong><ul>{}</ul></div>'
        ).format("Known outages", lines)
    )


def make_fanout_handler(ctx: PluginContext) -> Callable[[Envelope], Awaitable[None]]:
    """Turn each ``hub.outage.*`` event into a :class:`Notice` for every open stream of this process."""
    loop_time = asyncio.get_running_loop().time

    async def fan_out(env: Envelope) -> None:
        async with ctx.db.session() as session:
            banner = banner_html(await active_outages(session))
        data = msgspec.json.encode({"subject": env.subject, "id": env.id, **env.data}).decode()
        notice = Notice(
            event=env.subject.rsplit(".", 1)[-1], data=data, banner=banner, published_at=loop_time()
        )
        broadcaster_for(ctx).publish(notice)

    return fan_out


# -- trouble tickets -------------------------------------------------------------------------------------
async def _location(ctx: PluginContext, premise_id: str) -> PremiseLocation:
    try:
        premise = await ctx.ccb.get_premise(premise_id)
    except CcbError:
        # An unknown premise still gets its ticket recorded; it just matches no area.
        return PremiseLocation(premise_id=premise_id, zip=None, service_area_code=None)
    return PremiseLocation(
        premise_id=premise_id, zip=premise.address.zip, service_area_code=premise.service_area_code
    )


async def _ticket_utility(ctx: PluginContext, field_activity_id: str, premise_id: str) -> str | None:
    """Electric or water when the ticket is on a service point; None (matches either) otherwise."""
    try:
        fa = await ctx.ccb.get_field_activity(field_activity_id)
        if fa.sp_id is None:
            return None
        premise = await ctx.ccb.get_premise(premise_id)
    except CcbError:
        return None
    return next((sp.service for sp in premise.service_points if sp.sp_id == fa.sp_id), None)


def make_trouble_ticket_handler(ctx: PluginContext) -> Callable[[Envelope], Awaitable[None]]:
    """Link a ticket inside an active outage (no duplicate dispatch) or count it toward a burst."""
    config: OutageConfig = ctx.config

    async def on_trouble_ticket(env: Envelope) -> None:
        ref = env.payload(FieldActivityRef)
        if ref.fa_type != "TROUBLE":
            return
        async with ctx.db.session() as session:
            seen = await session.scalar(
                select(OutageTicket.id).where(OutageTicket.field_activity_id == ref.field_activity_id)
            )
        if seen is not None:
            return  # a redelivery (at-least-once): already handled
        where = await _location(ctx, ref.premise_id)
        utility = await _ticket_utility(ctx, ref.field_activity_id, ref.premise_id)
        async with ctx.db.session() as session:
            hits = [
                o
                for o in await active_outages(session)
                if area_contains(o.facts().area, where) and (utility is None or o.utility == utility)
            ]
        now = ctx.clock.now()
        if hits:
            outage = hits[0]
            action, remarks = TicketAction.LINKED, None
            if config.cancel_duplicate_field_activity:
                try:
                    # Idempotent on the key, so a redelivery after a crash here cancels nothing twice.
                    await ctx.ccb.cancel_field_activity(
                        CancelFieldActivity(
                            field_activity_id=ref.field_activity_id,
                            reason=f"Known {outage.utility} outage #{outage.id}: {outage.cause}",
                        ),
                        actor=ACTOR,
                        idempotency_key=f"outage:cancel:{ref.field_activity_id}",
                    )
                except CcbError as exc:
                    action, remarks = TicketAction.LINKED_NOT_CANCELED, str(exc)[:500]
            async with ctx.db.session() as session:
                session.add(
                    OutageTicket(
                        field_activity_id=ref.field_activity_id,
                        premise_id=ref.premise_id,
                        burst_key=burst_key(where),
                        received_at=now,
                        action=action,
                        outage_id=outage.id,
                        remarks=remarks,
                    )
                )
            return
        key = burst_key(where)
        async with ctx.db.session() as session:
            session.add(
                OutageTicket(
                    field_activity_id=ref.field_activity_id,
                    premise_id=ref.premise_id,
                    burst_key=key,
                    received_at=now,
                    action=TicketAction.DISPATCHED,
                )
            )
            if key is not None:
                await _consider_burst(ctx, session, key, now)

    return on_trouble_ticket


async def _consider_burst(ctx: PluginContext, session: AsyncSession, key: str, now: dt.datetime) -> None:
    """Raise a suggested outage when this area's unlinked tickets within the window reach the threshold."""
    config: OutageConfig = ctx.config
    window = dt.timedelta(minutes=config.burst_window_minutes)
    await session.flush()
    rows = await session.scalars(
        select(OutageTicket.received_at).where(
            OutageTicket.burst_key == key,
            OutageTicket.action == TicketAction.DISPATCHED,
            OutageTicket.received_at > now - window,
        )
    )
    times = in_window(list(rows), now, window)
    pending = await open_suggestion(session, key)
    if pending is not None:
        pending.ticket_count = max(pending.ticket_count, len(times))
        pending.last_at = now
        return
    if not is_burst(times, now, window=window, threshold=config.burst_threshold, open_suggestion=False):
        return
    suggestion = OutageSuggestion(
        burst_key=key,
        status=SuggestionStatus.OPEN,
        ticket_count=len(times),
        first_at=times[0],
        last_at=times[-1],
        raised_at=now,
    )
    session.add(suggestion)
    await session.flush()
    area = area_of_key(key)
    ctx.events.emit(
        session,
        SUGGESTED,
        OutageSuggested(
            suggestion_id=suggestion.id,
            service_areas=sorted(area.service_areas),
            zips=sorted(area.zips),
            ticket_count=len(times),
            window_minutes=config.burst_window_minutes,
            first_at=times[0],
            last_at=times[-1],
        ),
        actor=ACTOR,
    )
