"""The outage-over-sockets baseline: a bare Litestar app that fans one POST out to every open SSE stream.

Same framework, same server and the same message shape as the hub's ``GET /api/outage/stream``: a stream
opens with a ``snapshot`` event, then gets one ``declared`` event per ``POST /publish``. What is left out is
everything the hub does between a lead's declaration and the frame: the guard and token lookup, validation,
the database write with its audit record and outbox row, the relay and the bus. Served as
``benchmarks.sse_app:app``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from litestar import Litestar, Request, get, post
from litestar.response import ServerSentEvent, ServerSentEventMessage

_streams: set[asyncio.Queue[str]] = set()


async def _messages(queue: asyncio.Queue[str]) -> AsyncIterator[ServerSentEventMessage]:
    try:
        yield ServerSentEventMessage(event="snapshot", data="[]", retry=3000)
        while True:
            yield ServerSentEventMessage(event="declared", data=await queue.get())
    finally:
        _streams.discard(queue)


@get("/stream")
async def stream() -> ServerSentEvent:
    queue: asyncio.Queue[str] = asyncio.Queue(maxsize=64)
    _streams.add(queue)
    return ServerSentEvent(_messages(queue))


@post("/publish", status_code=201)
async def publish(request: Request) -> dict[str, int]:
    data = (await request.body()).decode()
    for queue in list(_streams):
        if not queue.full():  # the hub's streams also never let a slow reader hold up the rest
            queue.put_nowait(data)
    return {"subscribers": len(_streams)}


@get("/health/live", sync_to_thread=False)
def live() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar(route_handlers=[stream, publish, live], debug=False)
