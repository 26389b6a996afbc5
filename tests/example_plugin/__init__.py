"""An example plugin that implements every hook; the README's "writing a plugin" section walks through it.

It is a small "ping board": staff post a ping (``POST /api/example/pings``), the ping is announced on the
bus as ``hub.example.pinged`` from the outbox, the plugin's own handler keeps the latest pings for its page,
and a compliance check fails while an unanswered "urgent" ping is older than the configured limit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import click

from core.contract import (
    CheckKind,
    CheckSpec,
    ContactHint,
    EventHandler,
    EventType,
    JobSpec,
    PageSpec,
    PluginContext,
    PluginManifest,
    ServiceOffer,
    hookimpl,
)
from tests.example_plugin import api, checks, events, pages
from tests.example_plugin.public import PingBoardReader
from tests.example_plugin.rules import ExampleConfig

PLUGIN_ID = "example"


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID,
        title="Example ping board",
        version="1.0.0",
        description="Shows every hook of the plugin contract.",
        sections_hint=("call-center",),
        config_type=ExampleConfig,
    )


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    return [api.ExampleController]


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    return [PageSpec(handler=pages.BoardPages, nav_title="Ping board")]


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return [
        EventType(
            subject=events.PINGED, payload=events.Pinged, description="A member of staff posted a ping."
        )
    ]


@hookimpl
def hub_register_event_handlers(ctx: PluginContext) -> Sequence[EventHandler]:
    return [EventHandler(pattern="hub.example.>", handler=events.make_board_handler(ctx), durable="board")]


@hookimpl
def hub_register_checks(ctx: PluginContext) -> Sequence[CheckSpec]:
    return [
        CheckSpec(
            name="urgent_pings_answered",
            run=checks.make_urgent_check(ctx),
            kind=CheckKind.COMPLIANCE,
            description="No urgent ping waits longer than the configured limit.",
        )
    ]


@hookimpl
def hub_contact_hints(ctx: PluginContext, contact: Any) -> Sequence[ContactHint]:
    board = events.board_of(ctx)
    if board.urgent_open():
        return [ContactHint(kind="example.urgent", text="An urgent ping is waiting on the ping board.")]
    return []


@hookimpl
def hub_lifespan(ctx: PluginContext) -> AbstractAsyncContextManager[None]:
    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        board = events.board_of(ctx)
        task = asyncio.create_task(board.heartbeat(ctx.config.heartbeat_s))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return lifespan()


@hookimpl
def hub_register_cli(group: click.Group) -> None:
    @group.command("example-greeting")
    @click.option("--name", default="world")
    def greeting(name: str) -> None:
        """Print the example plugin's greeting."""
        click.echo(f"{ExampleConfig().greeting}, {name}!")


@hookimpl
def hub_register_jobs(ctx: PluginContext) -> Sequence[JobSpec]:
    board = events.board_of(ctx)

    async def count_open() -> None:
        board.last_open_count = len(board.urgent_open())

    return [JobSpec(name="count_open", run=count_open, every_s=60.0, description="Counts open urgent pings.")]


@hookimpl
def hub_provide_services(ctx: PluginContext) -> Sequence[ServiceOffer]:
    return [ServiceOffer(protocol=PingBoardReader, implementation=events.board_of(ctx))]
