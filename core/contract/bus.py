"""The bus as plugins see it: the event envelope, subjects with NATS wildcards, and the ``Bus`` protocol.

``ctx.bus`` is a :class:`Bus` (in memory, or NATS with JetStream); a handler receives an :class:`Envelope`
and reads its typed payload with ``env.payload(MyStruct)``. Subjects read ``hub.<area>.<thing>.<verb>``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import msgspec

T = TypeVar("T")

__all__ = [
    "Bus",
    "BusUnavailable",
    "Envelope",
    "Handler",
    "Subscription",
    "decode_envelope",
    "encode_envelope",
    "make_envelope",
    "subject_matches",
    "validate_subject",
]


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
