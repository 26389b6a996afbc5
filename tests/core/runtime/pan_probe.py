"""A test plugin that writes what a careless plugin would: free text straight into an event payload, under
an ``Idempotency-Key`` checked by the core. The card-number tests drive it to show the core's own guards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import msgspec
from litestar import post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from core.contract import EventType, PluginContext, PluginManifest, hookimpl
from core.contract.idempotency import IdempotencyKey, run_once
from core.contract.scope import NONE

PLUGIN_ID = "pan_probe"
WROTE = "hub.pan_probe.wrote"


class Wrote(msgspec.Struct, frozen=True, kw_only=True):
    """A note as the caller typed it; ``ref`` is short, so a masked 13-digit card no longer fits."""

    note: str
    lines: list[str] = []
    ref: Annotated[str, msgspec.Meta(max_length=13)] = ""


class NoteIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    note: str
    lines: list[str] = []
    ref: Annotated[str, msgspec.Meta(max_length=13)] = ""


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(id=PLUGIN_ID, title="PAN probe", version="1.0.0", sections_hint=("call-center",))


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return [EventType(subject=WROTE, payload=Wrote, description="A note, unredacted by its sender.")]


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    @post("/notes", opt={"roles": ["csr", "lead"]}, status_code=201, customer_data=NONE)
    async def write_note(
        data: JSONBody[NoteIn], idempotency: NamedDependency[IdempotencyKey | None]
    ) -> dict[str, Any]:
        async def write(session: AsyncSession) -> tuple[int, dict[str, Any]]:
            env = ctx.events.emit(
                session, WROTE, Wrote(note=data.note, lines=data.lines, ref=data.ref), actor="probe"
            )
            return 201, {"event_id": env.id}

        replay = await run_once(ctx.db.session, "pan_probe.note", idempotency, write, now=ctx.clock.now)
        return dict(msgspec.json.decode(replay.body))

    return [write_note]
