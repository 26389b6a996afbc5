"""The event the metrics plugin publishes, and the one handler that tallies everything else.

The handler subscribes to ``hub.>`` (durable ``tally``) so subjects of plugins not yet written count as soon
as :data:`plugins.metrics.rules.RULES` names them. Unmapped subjects cost one pattern lookup and no database
work. Delivery is at-least-once, so each tally is written together with its dedupe key in one transaction:
a redelivery, a second hub process or a replay after a crash finds the key and adds nothing.

``hub.metrics.counter_request.recorded`` carries the kind, the section the CSR chose and the CSR's name — no
customer data: a counter request that leaves no other trace is only a tick.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.contract import PluginContext
from plugins.metrics.models import MetricsContact, MetricsSeen
from plugins.metrics.queries import bump
from plugins.metrics.rules import MetricsConfig, Tally, classify, local_day, section_for

if TYPE_CHECKING:
    # The bus envelope type; the contract does not expose it yet (only annotations use it).
    from core.contract.bus import Envelope

COUNTER_REQUEST_RECORDED = "hub.metrics.counter_request.recorded"
CONTACT_OPENED = "hub.contact.opened"
CONTACT_WRAPPED_UP = "hub.contact.wrapped_up"
PATTERN = "hub.>"
# A lost race on a new tally row or key is retried; more than this means something else is wrong.
ATTEMPTS = 3


class CounterRequestRecorded(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    section: str
    staff: str
    at: dt.datetime


EVENT_TYPES: list[tuple[str, type[msgspec.Struct], str]] = [
    (
        COUNTER_REQUEST_RECORDED,
        CounterRequestRecorded,
        "A CSR recorded a counter request that leaves no other trace (one click by kind).",
    ),
]


async def _apply(
    session: AsyncSession, tally: Tally, day: dt.date, env: Envelope, config: MetricsConfig, now: dt.datetime
) -> None:
    section = section_for(tally.kind, tally.section, config)
    seen = await session.get(MetricsSeen, tally.key, with_for_update=True)
    if seen is not None:
        if seen.priority >= tally.priority:
            return  # already counted, as precisely as this event could
        # The same work, described more precisely (a window payment after the CCB's): re-file the count.
        await bump(session, seen.day, seen.section, seen.staff, seen.kind, -1)
        seen.day, seen.section, seen.staff, seen.kind = day, section, tally.staff, tally.kind
        seen.priority, seen.event_id, seen.seen_at = tally.priority, env.id, now
    else:
        session.add(
            MetricsSeen(
                key=tally.key,
                day=day,
                section=section,
                staff=tally.staff,
                kind=tally.kind,
                priority=tally.priority,
                event_id=env.id,
                seen_at=now,
            )
        )
        await session.flush()  # a concurrent twin fails here, on the key, before touching the count
    await bump(session, day, section, tally.staff, tally.kind, 1)


def make_tally_handler(ctx: PluginContext) -> Callable[[Envelope], Awaitable[None]]:
    """Count one event: remember contact channels, then add its tallies exactly once."""
    config: MetricsConfig = ctx.config

    async def tally(env: Envelope) -> None:
        if env.subject == CONTACT_OPENED:
            contact_id, channel = env.data.get("contact_id"), env.data.get("channel")
            if isinstance(contact_id, str) and isinstance(channel, str) and contact_id and channel:
                async with ctx.db.session() as session:
                    if await session.get(MetricsContact, contact_id) is None:
                        session.add(
                            MetricsContact(
                                contact_id=contact_id, channel=channel[:32], opened_at=env.occurred_at
                            )
                        )
            return
        data = env.data
        if env.subject == CONTACT_WRAPPED_UP and isinstance(data.get("contact_id"), str):
            async with ctx.db.session() as session:
                known = await session.get(MetricsContact, data["contact_id"])
            data = {**data, "channel": known.channel if known else None}
        tallies = classify(env.subject, env.actor, data, env.id)
        if not tallies:
            return
        day = local_day(env.occurred_at)
        for attempt in range(ATTEMPTS):
            try:
                async with ctx.db.session() as session:
                    for t in tallies:
                        await _apply(session, t, day, env, config, ctx.clock.now())
                return
            except IntegrityError:
                # Another handler wrote the same new key or tally row first: the retry sees it.
                if attempt == ATTEMPTS - 1:
                    raise

    return tally
