"""The message bus: the event envelope, the ``Bus`` protocol and the in-memory implementation.

Subjects follow NATS semantics (ARCHITECTURE §4): tokens separated by dots, ``*`` matches exactly one token
and ``>`` (last token only) matches one or more. The in-memory bus gives every subscription its own queue
and worker, so a slow or raising handler delays or loses nothing for the others, and publishing never waits
for a handler. A NATS/JetStream connector (the ``bus.nats`` entry point) satisfies the same protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, TypeVar

from core.contract.bus import (
    Bus,
    BusUnavailable,
    Envelope,
    Handler,
    Subscription,
    decode_envelope,
    encode_envelope,
    make_envelope,
    subject_matches,
    validate_subject,
)

T = TypeVar("T")

log = logging.getLogger("ccbhub.bus")


__all__ = [
    "Bus",
    "BusUnavailable",
    "Envelope",
    "MemoryBus",
    "Subscription",
    "bus_from_url",
    "decode_envelope",
    "encode_envelope",
    "make_envelope",
    "subject_matches",
    "validate_subject",
]


# How long (in 10 ms steps) an unsubscribing handler may take to finish the event in hand.
UNSUBSCRIBE_GRACE_STEPS = 300


@dataclass(eq=False)
class _MemorySubscription:
    bus: MemoryBus
    pattern: str
    handler: Handler
    durable: str | None
    queue: asyncio.Queue[Envelope] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    delivered: int = 0
    failed: int = 0
    busy: bool = False

    async def run(self) -> None:
        queue = self.queue
        while True:
            env = await queue.get()
            self.busy = True
            try:
                await self.handler(env)
                self.delivered += 1
            except asyncio.CancelledError:
                raise
            except Exception:
                # One raising handler must never stop its subscription (litestar#2809's lesson).
                self.failed += 1
                log.exception("handler for %s failed on event %s (%s)", self.pattern, env.id, env.subject)
            finally:
                self.busy = False
                queue.task_done()

    async def unsubscribe(self) -> None:
        self.bus._remove(self)
        if self.task is not None:
            # A handler in the middle of an event finishes it first (cancelled inside a database transaction
            # it could leave its connection holding SQLite's write lock); it is cancelled only if it hangs.
            for _ in range(UNSUBSCRIBE_GRACE_STEPS):
                if not self.busy:
                    break
                await asyncio.sleep(0.01)
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


class MemoryBus:
    """The embedded bus: in-process, NATS subject semantics, one queue and worker per subscription."""

    def __init__(self) -> None:
        self._subs: list[_MemorySubscription] = []
        self._routes: dict[str, tuple[_MemorySubscription, ...]] = {}
        self._responders: list[tuple[str, Handler]] = []
        self._closed = False
        self.published = 0

    async def start(self) -> None:
        self._closed = False

    async def close(self) -> None:
        self._closed = True
        for sub in list(self._subs):
            await sub.unsubscribe()

    async def healthy(self) -> bool:
        return not self._closed

    def _route(self, subject: str) -> tuple[_MemorySubscription, ...]:
        subs = self._routes.get(subject)
        if subs is None:
            subs = tuple(s for s in self._subs if subject_matches(s.pattern, subject))
            self._routes[subject] = subs
        return subs

    async def publish(self, envelope: Envelope) -> None:
        if self._closed:
            raise BusUnavailable("memory bus is closed")
        self.published += 1
        for sub in self._route(envelope.subject):
            sub.queue.put_nowait(envelope)

    async def publish_many(self, envelopes: list[Envelope]) -> None:
        for env in envelopes:
            await self.publish(env)

    async def subscribe(
        self, pattern: str, handler: Handler, *, durable: str | None = None, max_in_flight: int = 64
    ) -> _MemorySubscription:
        validate_subject(pattern, pattern=True)
        sub = _MemorySubscription(self, pattern, handler, durable)
        sub.task = asyncio.get_running_loop().create_task(sub.run(), name=f"bus-sub:{pattern}")
        self._subs.append(sub)
        self._routes.clear()
        return sub

    def _remove(self, sub: _MemorySubscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
            self._routes.clear()

    def respond(self, pattern: str, handler: Handler) -> None:
        """Register a request/reply responder (the first matching responder answers)."""
        validate_subject(pattern, pattern=True)
        self._responders.append((pattern, handler))

    async def request(self, subject: str, data: dict[str, Any], *, timeout: float = 5.0) -> Any:
        for pattern, handler in self._responders:
            if subject_matches(pattern, subject):
                env = make_envelope(
                    subject, data, source="request", actor="system", occurred_at=dt.datetime.now(dt.UTC)
                )
                async with asyncio.timeout(timeout):
                    return await handler(env)
        raise LookupError(f"no responder for {subject}")

    async def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        """The memory bus never retries (a failing handler is logged and skipped), so it has none."""
        return []

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait until every subscription has handled what was published so far (tests, shutdown)."""
        async with asyncio.timeout(timeout):
            for sub in list(self._subs):
                await sub.queue.join()


def bus_from_url(url: str) -> Bus:
    """The bus for ``HUB_BUS_URL``: ``memory://`` here; any other scheme from its installed connector."""
    if url.startswith("memory://"):
        return MemoryBus()
    from core.connectors import load_connector

    bus: Bus = load_connector("bus", url, setting="HUB_BUS_URL")
    return bus
