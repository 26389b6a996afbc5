"""The transactional outbox: events are rows written with the change they describe, published by a relay.

A change and its event commit or roll back together, so no event describes a change that did not happen and
no change goes unannounced when the bus is down. The relay publishes pending rows in order (at-least-once:
a crash between publish and mark republishes, and consumers dedupe on the event id; a JetStream bus also
dedupes on the message id). On PostgreSQL rows are claimed with ``FOR UPDATE SKIP LOCKED`` so several hub
processes can relay side by side without publishing the same row twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.bus import Bus, Envelope, decode_envelope, encode_envelope, make_envelope, validate_subject
from core.clock import Clock
from core.db import Database, utcnow
from core.models import OutboxEvent
from core.redact import contains_pan, redact_pans
from core.retry import RECONNECT

log = logging.getLogger("ccbhub.outbox")


@dataclass(frozen=True)
class CatalogueEntry:
    subject: str
    payload: type[msgspec.Struct]
    source: str
    description: str


class EventCatalogue:
    """Every event type any part of the hub may publish, with its payload Struct and owner."""

    def __init__(self) -> None:
        self._entries: dict[str, CatalogueEntry] = {}

    def register(
        self, subject: str, payload: type[msgspec.Struct], source: str, description: str = ""
    ) -> None:
        validate_subject(subject)
        if not subject.startswith("hub."):
            raise ValueError(f"event subject {subject!r} must start with 'hub.'")
        existing = self._entries.get(subject)
        if existing is not None and existing.source != source:
            raise ValueError(f"event subject {subject!r} is already registered by {existing.source}")
        self._entries[subject] = CatalogueEntry(subject, payload, source, description)

    def unregister_source(self, source: str) -> None:
        self._entries = {k: v for k, v in self._entries.items() if v.source != source}

    def get(self, subject: str) -> CatalogueEntry | None:
        return self._entries.get(subject)

    def entries(self) -> list[CatalogueEntry]:
        return sorted(self._entries.values(), key=lambda e: e.subject)

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "subject": e.subject,
                "source": e.source,
                "description": e.description,
                "payload_schema": msgspec.json.schema(e.payload),
            }
            for e in self.entries()
        ]


class EventWriter:
    """Writes events into the outbox inside the caller's transaction; bound to one source (plugin or core)."""

    def __init__(
        self, catalogue: EventCatalogue, clock: Clock, source: str, kick: Callable[[], None]
    ) -> None:
        self._catalogue = catalogue
        self._clock = clock
        self._source = source
        self._kick = kick

    def emit(
        self,
        session: AsyncSession,
        subject: str,
        payload: msgspec.Struct,
        *,
        actor: str,
        correlation_id: str | None = None,
    ) -> Envelope:
        entry = self._catalogue.get(subject)
        if entry is None:
            raise ValueError(f"event subject {subject!r} is not registered in the catalogue")
        if entry.source != self._source:
            raise ValueError(f"{self._source} may not publish {subject!r} (owned by {entry.source})")
        if not isinstance(payload, entry.payload):
            raise TypeError(f"{subject} carries {entry.payload.__name__}, not {type(payload).__name__}")
        env = make_envelope(
            subject,
            payload,
            source=self._source,
            actor=actor,
            occurred_at=self._clock.now(),
            correlation_id=correlation_id,
        )
        env = self._without_card_numbers(env, entry)
        session.add(
            OutboxEvent(
                event_id=env.id,
                subject=subject,
                envelope=encode_envelope(env).decode(),
                created_at=env.occurred_at,
            )
        )
        # Wake the relay only once the change is durable; a rollback leaves nothing to publish.
        event.listen(session.sync_session, "after_commit", lambda _s: self._kick(), once=True)
        return env

    def _without_card_numbers(self, env: Envelope, entry: CatalogueEntry) -> Envelope:
        """The envelope with every card number in its payload masked (ARCHITECTURE §4: payloads never
        carry card numbers); a warning names the fields, never their values.

        Masking keeps the change and its event flowing (the sender usually passed free text it did not
        redact); a payload that no longer fits its Struct once masked is refused with ValueError instead.
        """
        fields: list[str] = []
        _pan_fields(env.data, "", fields)
        if not fields:
            return env
        data = _masked(env.data)
        log.warning("%s: card number masked in event %s (%s)", self._source, env.subject, ", ".join(fields))
        try:
            msgspec.convert(data, entry.payload)
        except msgspec.ValidationError as exc:
            raise ValueError(
                f"{env.subject} payload carries a card number in {', '.join(fields)} and does not fit "
                f"{entry.payload.__name__} once masked: {exc}"
            ) from None
        return msgspec.structs.replace(env, data=data)


def _pan_fields(value: Any, path: str, found: list[str]) -> None:
    """Append to ``found`` the path of every string in ``value`` (builtins) that holds a card number."""
    if isinstance(value, str):
        if contains_pan(value):
            found.append(path or "$")
    elif isinstance(value, dict):
        for k, v in value.items():
            if not _identifier(k):
                _pan_fields(v, f"{path}.{k}" if path else str(k), found)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _pan_fields(v, f"{path}[{i}]", found)


def _identifier(key: Any) -> bool:
    """An identifier field (``id``, ``…_id``, ``…_ids``): the hub's own keys, never a card number."""
    return isinstance(key, str) and (key == "id" or key.endswith(("_id", "_ids")))


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return redact_pans(value)
    if isinstance(value, dict):
        return {k: v if _identifier(k) else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


class OutboxRelay:
    """Publishes pending outbox rows in order, with backoff while the bus is unavailable."""

    def __init__(self, db: Database, bus: Bus, *, batch_size: int = 500, poll_interval: float = 1.0) -> None:
        self._db = db
        self._bus = bus
        self._batch = batch_size
        self._poll = poll_interval
        # The first retry waits one poll interval, doubling up to 30 s while the bus stays down.
        self._backoff = RECONNECT.replace(wait_initial_s=poll_interval, wait_max_s=max(30.0, poll_interval))
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.last_error: str | None = None
        self.published = 0
        self._stopping = False

    def kick(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Let the running batch finish its transaction, then end the loop (cancelled only if it hangs).

        Cancelling mid-batch could leave a connection with an open write transaction checked out past the
        engine's disposal, holding SQLite's lock against the next process to open the file.
        """
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            try:
                async with asyncio.timeout(5):
                    await asyncio.shield(self._task)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
            self._stopping = False

    async def _run(self) -> None:
        # A long-lived consumer, not a job: it reacts to kicks at once, polls for other processes' rows,
        # and after a failure waits the retry policy's growing delay (or a kick) before trying again.
        failures = 0
        while not self._stopping:
            delay = self._poll
            try:
                while await self.run_once() > 0:
                    pass
                failures = 0
                self.last_error = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                delay = self._backoff.delay(failures)
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("outbox relay: %s; retrying in %.1fs", self.last_error, delay)
            if self._stopping:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()

    async def run_once(self) -> int:
        """Publish one batch of pending events; returns how many were published."""
        async with self._db.session() as session:
            rows = (
                await session.execute(
                    select(OutboxEvent.seq, OutboxEvent.envelope)
                    .where(OutboxEvent.published_at.is_(None))
                    .order_by(OutboxEvent.seq)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            seqs = [r.seq for r in rows]
            envelopes = [decode_envelope(r.envelope) for r in rows]
            try:
                await self._bus.publish_many(envelopes)
                failure: Exception | None = None
            except Exception as exc:
                failure = exc
            if failure is None:
                await session.execute(
                    update(OutboxEvent).where(OutboxEvent.seq.in_(seqs)).values(published_at=utcnow())
                )
            else:
                await session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.seq.in_(seqs))
                    .values(attempts=OutboxEvent.attempts + 1, last_error=str(failure)[:500])
                )
        if failure is not None:
            raise failure
        self.published += len(rows)
        return len(rows)

    async def backlog(self) -> int:
        async with self._db.session() as session:
            count = await session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
            )
            return int(count or 0)
