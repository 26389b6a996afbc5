"""Idempotency keys, once for the whole hub: a retried write answers as the first one did.

Clients (the CSR's desk, a cash terminal, the phone system) send ``Idempotency-Key`` on a write they may
have to repeat after a lost answer. The rule everywhere (ARCHITECTURE §7, issue 12):

* the same key with the same body replays the first answer (its status and JSON) and changes nothing;
* the same key with another body is refused: 422 naming ``Idempotency-Key``;
* a key holding a card number is refused the same way, without repeating it (the key is stored, and a
  PAN is never stored in clear: docs/rules.md §1.5);
* the first answer is stored in the same transaction as the write it answers, so a crash between the two
  cannot leave a write without its answer (or an answer without its write).

A handler takes ``idempotency: IdempotencyKey | None`` (the core provides it on every route: the header
checked for shape, with a fingerprint of the request body) and a service runs the write through
:func:`run_once`. A key is scoped (``"cash_handling.payment"``), so one client key can be used on two
different kinds of write without clashing. Where a JSON body also carries its own key field
(``idempotency_key``, kept for the clients that send it there), :func:`request_key` merges the two.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.di import NamedDependency
from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.contract.db import Base, UTCDateTime
from core.contract.inputs import InputError
from core.redact import contains_pan

__all__ = [
    "HEADER",
    "Idempotency",
    "IdempotencyKey",
    "IdempotencyRecord",
    "Replay",
    "check_key",
    "provide_idempotency",
    "request_key",
    "run_once",
]

HEADER = "Idempotency-Key"
# Letters, digits and a few separators; long enough for a UUID or a Message-ID, short enough to index.
KEY = re.compile(r"^[A-Za-z0-9._:@<>+-]{8,120}$")
KEY_HINT = "must be 8-120 letters, digits or ._:@<>+-"

T = TypeVar("T")


class IdempotencyKey(msgspec.Struct, frozen=True, kw_only=True):
    """A checked key and the fingerprint of the request it came with (method, path and body)."""

    value: str
    fingerprint: str

    def scoped(self, suffix: str) -> str:
        """A derived key for a second write of the same request (e.g. the CCB call and the receipt)."""
        return f"{self.value}:{suffix}"


def check_key(value: str, field: str = HEADER) -> str:
    """The key stripped and checked; a bad one (or one holding a card number) is a 422 naming ``field``."""
    value = value.strip()
    if not KEY.fullmatch(value):
        raise InputError(field, KEY_HINT)
    # The key is stored (with the answer, and by some parts beside their rows): a card number in it
    # would be a PAN kept in clear. The message never repeats the key.
    if contains_pan(value):
        raise InputError(field, "must not contain a card number")
    return value


def request_key(
    body_key: str | None, header: IdempotencyKey | None, field: str = "idempotency_key"
) -> str | None:
    """The write's key: the body's ``field`` (checked, 422 naming it) or the ``Idempotency-Key`` header.

    Both may be given only if they are the same; two different keys are a 422 naming the body's field.
    """
    checked = check_key(body_key, field) if body_key is not None else None
    if header is None:
        return checked
    if checked not in (None, header.value):
        raise InputError(field, f"differs from the {HEADER} header")
    return header.value


async def provide_idempotency(request: Request[Any, Any, Any]) -> IdempotencyKey | None:
    """Dependency ``idempotency``: the request's ``Idempotency-Key``, or None when it sent none."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    value = check_key(raw)
    body = await request.body()
    digest = hashlib.sha256(f"{request.method} {request.scope['path']}\n".encode() + body).hexdigest()
    return IdempotencyKey(value=value, fingerprint=digest)


# The handler parameter type: ``idempotency: Idempotency``.
Idempotency = NamedDependency[IdempotencyKey | None]


class IdempotencyRecord(Base):
    """The first answer to a keyed write: replayed to a retry with the same key and body."""

    __tablename__ = "hub_idempotency"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_hub_idempotency_scope_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(120))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Replay(msgspec.Struct, frozen=True, kw_only=True):
    """What :func:`run_once` answers: the answer's status, its JSON, and whether it is a replay."""

    status_code: int
    body: bytes
    replayed: bool

    def decode(self, type_: type[T]) -> T:
        return msgspec.json.decode(self.body, type=type_)


async def _stored(session: AsyncSession, scope: str, key: IdempotencyKey) -> Replay | None:
    row = await session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key.value)
    )
    if row is None:
        return None
    if row.fingerprint != key.fingerprint:
        raise InputError(HEADER, "was already used for a different request")
    return Replay(status_code=row.status_code, body=row.body, replayed=True)


async def run_once(
    session_factory: Callable[[], Any],
    scope: str,
    key: IdempotencyKey | None,
    write: Callable[[AsyncSession], Awaitable[tuple[int, Any]]],
    *,
    now: Callable[[], dt.datetime],
) -> Replay:
    """Run ``write`` in one transaction and remember its answer under ``key``; replay it on a retry.

    ``session_factory`` is ``ctx.db.session`` (an async context manager committing on success);
    ``write(session)`` does the work in that session and returns ``(status_code, answer)`` where the
    answer is any msgspec-encodable value. Two racing requests with the same key: one commits, the other
    hits the unique constraint, rolls back everything it wrote, and replays the winner's answer.
    """
    if key is not None:
        async with session_factory() as session:
            found = await _stored(session, scope, key)
        if found is not None:
            return found
    try:
        async with session_factory() as session:
            status_code, answer = await write(session)
            body = msgspec.json.encode(answer)
            if key is not None:
                session.add(
                    IdempotencyRecord(
                        scope=scope,
                        key=key.value,
                        fingerprint=key.fingerprint,
                        status_code=status_code,
                        body=body,
                        created_at=now(),
                    )
                )
                await session.flush()
    except IntegrityError:
        if key is None:
            raise
        async with session_factory() as session:
            found = await _stored(session, scope, key)
        if found is None:
            raise
        return found
    return Replay(status_code=status_code, body=body, replayed=False)
