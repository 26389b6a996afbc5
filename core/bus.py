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
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import msgspec

T = TypeVar("T")

log = logging.getLogger("ccbhub.bus")


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """Every event on the bus: who, what, when, and the typed payload in ``data``."""

    id: str
    subject: str
    occurred_at: dt.datetime
    source: str
    actor: str
    correlation_id: str | None = None
    data: dict[str, Any] = {}

    def payload(self, type_: type[T]) -> T:
        """Decode ``data`` into the payload Struct registered for the subject."""
        return msgspec.convert(self.data, type_)


def make_envelope(
    subject: str,
    payload: msgspec.Struct | dict[str, Any],
    *,
    source: str,
    actor: str,
    occurred_at: dt.datetime,
    correlation_id: str | None = None,
) -> Envelope:
    data = payload if isinstance(payload, dict) else msgspec.to_builtins(payload)
    return Envelope(
        id=str(uuid.uuid4()),
        subject=subject,
        occurred_at=occurred_at,
        source=source,
        actor=actor,
        correlation_id=correlation_id,
        data=data,
    )


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Envelope)


def encode_envelope(env: Envelope) -> bytes:
    return _encoder.encode(env)


def decode_envelope(raw: bytes | str) -> Envelope:
    return _decoder.decode(raw)


def validate_subject(subject: str, *, pattern: bool = False) -> None:
    """Raise ValueError unless ``subject`` is a well-formed subject (or, with ``pattern``, a pattern)."""
    tokens = subject.split(".")
    if not subject or any(t == "" for t in tokens):
        raise ValueError(f"invalid subject {subject!r}: empty token")
    for i, token in enumerate(tokens):
        if token in {"*", ">"}:
            if not pattern:
                raise ValueError(f"invalid subject {subject!r}: wildcards are only allowed in patterns")
            if token == ">" and i != len(tokens) - 1:
                raise ValueError(f"invalid pattern {subject!r}: '>' must be the last token")
        elif any(c in token for c in " \t*>"):
            raise ValueError(f"invalid subject {subject!r}: bad token {token!r}")


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS matching: ``*`` is one token, a final ``>`` is one or more tokens."""
    p = pattern.split(".")
    s = subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(p) == len(s)


Handler = Callable[[Envelope], Awaitable[Any]]


class Subscription(Protocol):
    pattern: str
    durable: str | None

    async def unsubscribe(self) -> None: ...


class Bus(Protocol):
    """Publish/subscribe/request with NATS subject semantics."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, envelope: Envelope) -> None: ...

    async def publish_many(self, envelopes: list[Envelope]) -> None: ...

    async def subscribe(
        self, pattern: str, handler: Handler, *, durable: str | None = None, max_in_flight: int = 64
    ) -> Subscription: ...

    async def request(self, subject: str, data: dict[str, Any], *, timeout: float = 5.0) -> Any: ...

    async def healthy(self) -> bool: ...

    async def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]: ...

    async def drain(self, timeout: float = 5.0) -> None: ...


class BusUnavailable(RuntimeError):
    """The bus cannot take the message now; the outbox keeps it and the relay retries."""


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

    async def run(self) -> None:
        queue = self.queue
        while True:
            env = await queue.get()
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
                queue.task_done()

    async def unsubscribe(self) -> None:
        self.bus._remove(self)
        if self.task is not None:
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
