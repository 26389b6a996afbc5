"""Server-sent event streams, once for the whole hub: Litestar's Channels with a backlog per subscriber.

A plugin that pushes live updates to pages (the outage banner, the escalations board, the phone bar)
publishes to a named channel with ``ctx.streams.publish(channel, event, data)`` — typically from a bus
handler, so every hub process's subscribers get it (ARCHITECTURE §8: browser push fans out through the
bus) — and serves ``ServerSentEvent(ctx.streams.sse(channel, ...))`` from a route.

A slow browser never holds up the publisher or the other subscribers: each subscriber has a bounded
backlog, and when it is full the oldest message is dropped (a stale banner is worth less than the newest).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.response import ServerSentEventMessage

__all__ = ["Message", "Streams"]

DEFAULT_BACKLOG = 64
DEFAULT_KEEPALIVE_S = 15.0


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """One message on a channel: an SSE ``event`` name and its ``data`` text."""

    event: str
    data: str


class Streams:
    """The hub's channels (one per process); the app mounts :attr:`plugin`."""

    def __init__(self, backlog: int = DEFAULT_BACKLOG) -> None:
        self.plugin = ChannelsPlugin(
            backend=MemoryChannelsBackend(),
            arbitrary_channels_allowed=True,
            subscriber_max_backlog=backlog,
            subscriber_backlog_strategy="dropleft",
        )
        self._started = False
        self._decode = msgspec.json.Decoder(Message).decode

    async def __aenter__(self) -> Streams:
        await self.plugin.__aenter__()
        self._started = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._started = False
        await self.plugin.__aexit__(*exc)  # type: ignore[arg-type]

    @property
    def started(self) -> bool:
        return self._started

    def publish(self, channel: str, event: str, data: str) -> None:
        """Queue ``event`` for every subscriber of ``channel``; never waits (dropped before start-up)."""
        if self._started:
            self.plugin.publish(msgspec.json.encode(Message(event=event, data=data)), channels=[channel])

    async def sse(
        self,
        channel: str,
        *,
        first: Callable[[], Awaitable[list[Message]]] | None = None,
        limit: int | None = None,
        keepalive_s: float = DEFAULT_KEEPALIVE_S,
        retry_ms: int = 3000,
    ) -> AsyncIterator[ServerSentEventMessage]:
        """Messages of ``channel`` as server-sent events, after ``first()`` (the current state).

        The subscription starts before ``first`` is read, so nothing published in between is missed.
        ``limit`` ends the stream after that many messages (tests, benchmarks); a comment line is sent
        every ``keepalive_s`` so proxies keep the connection open.
        """
        async with self.plugin.start_subscription([channel]) as subscriber:
            sent = 0
            for message in await first() if first is not None else []:
                yield ServerSentEventMessage(event=message.event, data=message.data, retry=retry_ms)
                sent += 1
            events = subscriber.iter_events()
            # One pending read at a time, never cancelled by a keep-alive tick (cancelling it would close
            # the subscriber's iterator).
            pending: asyncio.Future[bytes] | None = None
            try:
                while limit is None or sent < limit:
                    if pending is None:
                        pending = asyncio.ensure_future(anext(events))
                    done, _ = await asyncio.wait({pending}, timeout=keepalive_s)
                    if not done:
                        yield ServerSentEventMessage(comment="keep-alive")
                        continue
                    try:
                        raw = pending.result()
                    except StopAsyncIteration:
                        return
                    pending = None
                    message = self._decode(raw)
                    yield ServerSentEventMessage(event=message.event, data=message.data)
                    sent += 1
            finally:
                if pending is not None:
                    pending.cancel()
                    with contextlib.suppress(BaseException):
                        await pending

    def subscribers(self, channel: str) -> int:
        """How many streams of this process listen on ``channel`` (checks and metrics)."""
        found: Any = self.plugin._channels.get(channel)
        return len(found) if found else 0
