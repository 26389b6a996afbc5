"""Use cases of the example plugin: post a ping (one transaction: the event and its audit record)."""

from __future__ import annotations

from core.contract import PluginContext
from core.contract.redact import redact
from core.contract.staff import Staff
from tests.example_plugin import events
from tests.example_plugin.events import board_of
from tests.example_plugin.schemas import PingRequest, PingView


async def post_ping(ctx: PluginContext, staff: Staff, ping: PingRequest) -> str:
    """Announce a ping on the bus (through the outbox) and audit it; the board learns it from the event."""
    async with ctx.db.session() as session:
        env = ctx.events.emit(
            session,
            events.PINGED,
            events.Pinged(author=staff.name, message=redact(ping.message), urgent=ping.urgent),
            actor=staff.actor,
        )
        await ctx.audit.append(session, actor=staff.actor, action="example.ping", target=env.id)
    return env.id


def pings(ctx: PluginContext) -> list[PingView]:
    return [
        PingView(event_id=p.event_id, author=p.author, message=p.message, urgent=p.urgent)
        for p in board_of(ctx).pings
    ]
