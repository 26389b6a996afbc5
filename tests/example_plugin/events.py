"""Events of the example plugin and its handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec

from core.contract import PluginContext
from core.contract.bus import Envelope
from tests.example_plugin.rules import Board, Ping

PINGED = "hub.example.pinged"


class Pinged(msgspec.Struct, frozen=True, kw_only=True):
    author: str
    message: str
    urgent: bool = False


def board_of(ctx: PluginContext) -> Board:
    """The plugin's runtime data: the board this module's handler keeps (made on first use)."""
    if ctx.runtime is None:
        ctx.runtime = Board()
    board: Board = ctx.runtime
    return board


def make_board_handler(ctx: PluginContext) -> Callable[[Envelope], Awaitable[None]]:
    async def on_pinged(env: Envelope) -> None:
        ping = env.payload(Pinged)  # a malformed payload raises here; the core isolates it
        if ping.message == "boom":
            raise RuntimeError("the example handler was asked to fail")
        board_of(ctx).add(Ping(env.id, ping.author, ping.message, ping.urgent, env.occurred_at))

    return on_pinged
