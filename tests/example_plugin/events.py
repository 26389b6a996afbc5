"""Events of the example plugin and its handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec

from core.bus import Envelope
from core.contract import PluginContext
from tests.example_plugin.service import Board, Ping

PINGED = "hub.example.pinged"


class Pinged(msgspec.Struct, frozen=True, kw_only=True):
    author: str
    message: str
    urgent: bool = False


def board_of(ctx: PluginContext) -> Board:
    board = ctx.extras.get("board")
    if board is None:
        board = ctx.extras["board"] = Board()
    assert isinstance(board, Board)
    return board


def make_board_handler(ctx: PluginContext) -> Callable[[Envelope], Awaitable[None]]:
    async def on_pinged(env: Envelope) -> None:
        ping = env.payload(Pinged)  # a malformed payload raises here; the core isolates it
        if ping.message == "boom":
            raise RuntimeError("the example handler was asked to fail")
        board_of(ctx).add(Ping(env.id, ping.author, ping.message, ping.urgent, env.occurred_at))

    return on_pinged
