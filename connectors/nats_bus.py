"""The NATS/JetStream bus: the ``Bus`` protocol of core.bus over nats-py, selected by ``HUB_BUS_URL=nats://``.

Layout on the server:

* stream ``HUB`` keeps every ``hub.>`` event (file storage, age-limited). Each event is published with the
  ``Nats-Msg-Id`` header set to the envelope id, so a republish by the outbox relay after a crash or a lost
  ack is dropped by the server inside the duplicate window; handlers still dedupe on the id, because a
  consumer may see a message twice when its ack was lost.
* one durable pull consumer per ``subscribe(..., durable=name)`` (explicit ack, filter subject = pattern).
  Several hub processes using the same durable share its messages, so each event is handled once per
  durable across the deployment. A subscription without a durable gets an ephemeral consumer.
* request/reply uses core NATS (no stream) on ``hubrpc.<subject>``, answered by a queue group.
* stream ``HUB_DLQ`` keeps dead letters on ``hubdlq.<consumer>`` subjects: messages whose handler failed on
  every allowed delivery, and messages that cannot be decoded at all. Because they live on the server,
  every process (and ``GET /api/events/dead-letters``) sees the same list.

Redelivery is counted by the server (``num_delivered``) but enforced here: the consumer itself allows
unlimited deliveries so the server never drops a message silently; after ``max_deliver`` failed attempts the
bus writes the dead letter first and only then terminates the message. If writing the dead letter fails the
message is nak'ed again, so nothing is lost while the server is unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import re
from typing import Any

import msgspec
import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from core.bus import (
    BusUnavailable,
    Envelope,
    Handler,
    decode_envelope,
    encode_envelope,
    make_envelope,
    validate_subject,
)
from core.retry import RECONNECT

log = logging.getLogger("ccbhub.bus.nats")

DLQ_PREFIX = "hubdlq"
# Requests travel on core NATS under their own prefix: a ``hub.`` subject would be captured by the event
# stream, which would answer every request with a publish acknowledgement instead of the responder's reply.
RPC_PREFIX = "hubrpc"
# Header carrying a responder's failure back to the requester (the reply body is then empty).
ERROR_HEADER = "Hub-Error"
_CONSUMER_NAME = re.compile(r"[^A-Za-z0-9_-]")
# Keep dead-letter records readable: the raw payload is only there to let a person see what arrived.
_MAX_DLQ_PAYLOAD = 16_384


def consumer_name(durable: str) -> str:
    """A JetStream consumer name for a hub durable name (dots and wildcards are not allowed there)."""
    clean = _CONSUMER_NAME.sub("_", durable)
    if clean == durable:
        return clean
    # Two durables could sanitize to the same name ("a.b" and "a_b"); a short digest keeps them apart.
    return f"{clean}_{hashlib.sha1(durable.encode()).hexdigest()[:8]}"


class NatsSubscription:
    """One handler bound to one pull consumer, with at most ``max_in_flight`` messages being handled."""

    def __init__(
        self,
        bus: NatsBus,
        pattern: str,
        handler: Handler,
        durable: str | None,
        consumer: str,
        max_in_flight: int,
        psub: JetStreamContext.PullSubscription,
    ) -> None:
        self.bus = bus
        self.pattern = pattern
        self.handler = handler
        self.durable = durable
        self.consumer = consumer
        self.max_in_flight = max_in_flight
        self._psub = psub
        # nats-py hands messages over one at a time; the semaphore lets up to N handlers run concurrently
        # while never fetching more than there are free slots (the rest wait on the server, not in memory).
        self._slots = asyncio.Semaphore(max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self.delivered = 0
        self.failed = 0
        self.dead = 0

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def start(self) -> None:
        self._loop_task = asyncio.get_running_loop().create_task(
            self._fetch_loop(), name=f"nats-sub:{self.consumer}"
        )

    async def _take_slots(self) -> int:
        await self._slots.acquire()
        taken = 1
        # Grab whatever else is free without waiting, so one fetch can fill every idle slot.
        while taken < self.max_in_flight and not self._slots.locked():
            await self._slots.acquire()
            taken += 1
        return taken

    async def _fetch_loop(self) -> None:
        # The waits after failed pulls follow the hub's retry curve, from fetch_wait up to 5 s.
        wait = self.bus.fetch_wait
        backoff = RECONNECT.replace(wait_initial_s=wait, wait_max_s=max(5.0, wait))
        failures = 0
        while True:
            taken = await self._take_slots()
            try:
                msgs = await self._psub.fetch(taken, timeout=self.bus.fetch_wait)
            except asyncio.CancelledError:
                for _ in range(taken):
                    self._slots.release()
                raise
            except (TimeoutError, nats.errors.TimeoutError):
                msgs = []
            except Exception as exc:
                # Disconnected, server restarting, JetStream not ready yet: wait and pull again; the
                # consumer is durable on the server, so nothing is lost meanwhile.
                for _ in range(taken):
                    self._slots.release()
                failures += 1
                delay = backoff.delay(failures)
                log.debug("fetch on %s failed (%s); retrying in %.1fs", self.consumer, exc, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            for _ in range(taken - len(msgs)):
                self._slots.release()
            for msg in msgs:
                task = asyncio.get_running_loop().create_task(self._handle(msg))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _handle(self, msg: Msg) -> None:
        try:
            await self._process(msg)
        except Exception:
            # Only acks/naks can fail here (connection lost); the server redelivers after ack_wait.
            log.warning("could not settle a message on %s", self.consumer, exc_info=True)
        finally:
            self._slots.release()

    async def _process(self, msg: Msg) -> None:
        deliveries = msg.metadata.num_delivered or 1
        try:
            env = decode_envelope(msg.data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            # A poisoned message can never succeed: park it at once rather than retrying.
            await self._dead_letter(msg, None, deliveries, f"undecodable message: {exc}")
            return
        try:
            await self.handler(env)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failed += 1
            error = f"{type(exc).__name__}: {exc}"
            log.warning("handler %s failed on %s (delivery %d): %s", self.consumer, env.id, deliveries, error)
            if deliveries >= self.bus.max_deliver:
                await self._dead_letter(msg, env, deliveries, error)
            else:
                await msg.nak(delay=self.bus.retry_delay(deliveries))
            return
        self.delivered += 1
        await msg.ack()

    async def _dead_letter(self, msg: Msg, env: Envelope | None, deliveries: int, error: str) -> None:
        try:
            await self.bus._write_dead_letter(self, msg, env, deliveries, error)
        except Exception as exc:
            # Keep the message on the consumer until its dead letter is safely stored.
            log.warning("could not store a dead letter for %s (%s); will retry", self.consumer, exc)
            await msg.nak(delay=self.bus.retry_delay(deliveries))
            return
        self.dead += 1
        await msg.term()

    async def stop(self, timeout: float = 5.0) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        if self._tasks:
            # Let running handlers finish (their acks go out); unfinished ones are redelivered later.
            _done, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()
        with contextlib.suppress(Exception):
            await self._psub.unsubscribe()

    async def unsubscribe(self) -> None:
        """Stop handling here; a durable consumer stays on the server and resumes when resubscribed."""
        await self.stop()
        self.bus._forget(self)


class NatsBus:
    """The ``Bus`` protocol over NATS core (request/reply) and JetStream (events, dead letters)."""

    def __init__(
        self,
        url: str,
        *,
        stream: str = "HUB",
        dlq_stream: str = "HUB_DLQ",
        max_deliver: int = 5,
        retry_base: float = 1.0,
        retry_max: float = 60.0,
        ack_wait: float = 30.0,
        duplicate_window: float = 120.0,
        max_age: float = 7 * 24 * 3600.0,
        publish_timeout: float = 5.0,
        max_publish_in_flight: int = 2000,
        fetch_wait: float = 0.5,
        reconnect_time_wait: float = 0.5,
        name: str = "ccbhub",
    ) -> None:
        self.url = url
        self.stream = stream
        self.dlq_stream = dlq_stream
        self.max_deliver = max_deliver
        self.retry_base = retry_base
        self.retry_max = retry_max
        # The server waits this long before redelivering a failed message (a nak with a delay).
        self._redelivery = RECONNECT.replace(wait_initial_s=retry_base, wait_max_s=retry_max, jitter_s=0.0)
        self.ack_wait = ack_wait
        self.duplicate_window = duplicate_window
        self.max_age = max_age
        self.publish_timeout = publish_timeout
        self.max_publish_in_flight = max_publish_in_flight
        self.fetch_wait = fetch_wait
        self.reconnect_time_wait = reconnect_time_wait
        self.name = name
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._subs: list[NatsSubscription] = []
        self._responders: list[tuple[str, Handler]] = []
        self._responder_subs: list[Any] = []
        self._setup: list[asyncio.Task[None]] = []
        self._reply_slots = asyncio.Semaphore(64)
        self.published = 0
        self._closing = False

    # -- connection --------------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            return
        try:
            self._nc = await nats.connect(
                servers=[self.url],
                name=self.name,
                allow_reconnect=True,
                # Never give up: the outbox holds events and the consumers are durable, so the hub rides
                # out a server restart of any length.
                max_reconnect_attempts=-1,
                reconnect_time_wait=self.reconnect_time_wait,
                connect_timeout=2,
                error_cb=self._on_error,
                disconnected_cb=self._on_disconnected,
                reconnected_cb=self._on_reconnected,
            )
        except Exception as exc:
            raise BusUnavailable(f"cannot connect to {self.url}: {exc}") from exc
        self._js = self._nc.jetstream(
            timeout=self.publish_timeout, publish_async_max_pending=self.max_publish_in_flight
        )
        await self._ensure_streams()
        for pattern, handler in self._responders:
            await self._subscribe_responder(pattern, handler)

    async def _ensure_streams(self) -> None:
        js = self._require_js()
        configs = [
            StreamConfig(
                name=self.stream,
                subjects=["hub.>"],
                storage=StorageType.FILE,
                retention=RetentionPolicy.LIMITS,
                discard=DiscardPolicy.OLD,
                max_age=self.max_age,
                duplicate_window=self.duplicate_window,
            ),
            StreamConfig(
                name=self.dlq_stream,
                subjects=[f"{DLQ_PREFIX}.>"],
                storage=StorageType.FILE,
                retention=RetentionPolicy.LIMITS,
                discard=DiscardPolicy.OLD,
                max_msgs=100_000,
                max_age=30 * 24 * 3600.0,
                duplicate_window=self.duplicate_window,
            ),
        ]
        for config in configs:
            try:
                await js.stream_info(config.name or "")
            except nats.js.errors.NotFoundError:
                await js.add_stream(config)
            else:
                # Apply changed limits from a newer hub version to an existing stream.
                await js.update_stream(config)

    async def _on_error(self, exc: Exception) -> None:
        log.debug("nats: %s", exc)

    async def _on_disconnected(self) -> None:
        if self._closing:
            return
        log.warning("nats: disconnected from %s; reconnecting", self.url)

    async def _on_reconnected(self) -> None:
        log.warning("nats: reconnected to %s", self.url)

    def _require_js(self) -> JetStreamContext:
        if self._js is None:
            raise BusUnavailable("the NATS bus is not started")
        return self._js

    def _connected_js(self) -> JetStreamContext:
        js = self._require_js()
        # Fail fast while reconnecting instead of buffering into the client and timing out later.
        if self._nc is None or not self._nc.is_connected:
            raise BusUnavailable(f"not connected to {self.url}")
        return js

    async def healthy(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def close(self) -> None:
        if self._nc is None:
            return
        if self._nc.is_connected:
            with contextlib.suppress(Exception):
                await self.drain(timeout=2.0)
        for sub in list(self._subs):
            await sub.stop()
        self._subs.clear()
        for task in self._setup:
            task.cancel()
        self._setup.clear()
        self._responder_subs.clear()
        self._closing = True
        with contextlib.suppress(Exception):
            await self._nc.close()
        self._closing = False
        self._nc = None
        self._js = None

    # -- publishing ----------------------------------------------------------------------------------------
    @staticmethod
    def _headers(env: Envelope) -> dict[str, str]:
        return {"Nats-Msg-Id": env.id}

    async def publish(self, envelope: Envelope) -> None:
        js = self._connected_js()
        try:
            await js.publish(
                envelope.subject,
                encode_envelope(envelope),
                timeout=self.publish_timeout,
                stream=self.stream,
                headers=self._headers(envelope),
            )
        except Exception as exc:
            raise BusUnavailable(f"publish of {envelope.id} failed: {type(exc).__name__}: {exc}") from exc
        self.published += 1

    async def publish_many(self, envelopes: list[Envelope]) -> None:
        """Publish with up to ``max_publish_in_flight`` unacknowledged messages; all-or-raise.

        Raising after a partial success is safe: the relay republishes the whole batch and the stream drops
        the ids it already holds.
        """
        if not envelopes:
            return
        js = self._connected_js()
        futures: list[asyncio.Future[Any]] = []
        loop = asyncio.get_running_loop()
        try:
            # One deadline pushed forward after every send: it fires only when no slot frees up for
            # publish_timeout (server gone). A per-call wait_stall would wrap every message in a task.
            async with asyncio.timeout(self.publish_timeout) as stall:
                for env in envelopes:
                    futures.append(
                        await js.publish_async(env.subject, encode_envelope(env), headers=self._headers(env))
                    )
                    stall.reschedule(loop.time() + self.publish_timeout)
            # One wait for the context's "all acknowledged" signal instead of a callback per future.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.publish_timeout):
                    await js.publish_async_completed()
            pending = [fut for fut in futures if not fut.done()]
        except Exception as exc:
            for fut in futures:
                fut.cancel()
            raise BusUnavailable(f"publish failed: {type(exc).__name__}: {exc}") from exc
        if pending:
            for fut in pending:
                fut.cancel()
            raise BusUnavailable(f"{len(pending)} of {len(envelopes)} publishes were not acknowledged")
        for fut in futures:
            error = fut.exception()
            if error is not None:
                raise BusUnavailable(f"publish failed: {type(error).__name__}: {error}") from error
        self.published += len(envelopes)

    # -- consuming -----------------------------------------------------------------------------------------
    def retry_delay(self, deliveries: int) -> float:
        """Redelivery delay after the ``deliveries``-th failure: the hub's retry curve, capped, no jitter."""
        return self._redelivery.delay(max(deliveries, 1))

    async def subscribe(
        self, pattern: str, handler: Handler, *, durable: str | None = None, max_in_flight: int = 64
    ) -> NatsSubscription:
        validate_subject(pattern, pattern=True)
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        js = self._connected_js()
        config = ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            # Like the memory bus, a new subscription sees events published from now on; an existing
            # durable resumes where it left off.
            deliver_policy=DeliverPolicy.NEW,
            filter_subject=pattern,
            ack_wait=self.ack_wait,
            # Unlimited on the server: the bus enforces max_deliver itself so the last failure becomes a
            # dead letter instead of a message the server silently stops delivering.
            max_deliver=-1,
            # The server-side bound matches ours, so one process cannot hoard a shared durable's backlog.
            max_ack_pending=max(max_in_flight * 2, 1),
        )
        if durable is not None:
            name = consumer_name(durable)
            config.durable_name = name
        else:
            name = f"eph_{consumer_name(pattern)}_{id(handler):x}_{len(self._subs)}"
            # An ephemeral consumer disappears on the server once nobody has pulled for a while.
            config.inactive_threshold = 60.0
        config.name = name
        try:
            await js.add_consumer(self.stream, config=config)
            psub = await js.pull_subscribe_bind(consumer=name, stream=self.stream)
        except Exception as exc:
            raise BusUnavailable(f"cannot subscribe {pattern} as {name}: {exc}") from exc
        sub = NatsSubscription(self, pattern, handler, durable, name, max_in_flight, psub)
        sub.start()
        self._subs.append(sub)
        return sub

    def _forget(self, sub: NatsSubscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    async def _write_dead_letter(
        self, sub: NatsSubscription, msg: Msg, env: Envelope | None, deliveries: int, error: str
    ) -> None:
        js = self._connected_js()
        meta = msg.metadata
        record = {
            "subject": msg.subject,
            "durable": sub.durable or sub.consumer,
            "consumer": sub.consumer,
            "event_id": env.id if env is not None else (msg.headers or {}).get("Nats-Msg-Id"),
            "deliveries": deliveries,
            "last_error": error[:2000],
            "at": dt.datetime.now(dt.UTC).isoformat(),
            "stream_seq": meta.sequence.stream if meta.sequence else None,
            "payload": msg.data[:_MAX_DLQ_PAYLOAD].decode("utf-8", errors="replace"),
        }
        await js.publish(
            f"{DLQ_PREFIX}.{sub.consumer}",
            json.dumps(record).encode(),
            timeout=self.publish_timeout,
            stream=self.dlq_stream,
            # A crash between storing the dead letter and terminating the message stores it only once.
            headers={"Nats-Msg-Id": f"{sub.consumer}:{record['stream_seq']}"},
        )

    async def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` dead letters of every process, newest first."""
        js = self._connected_js()
        try:
            info = await js.stream_info(self.dlq_stream)
        except Exception as exc:
            raise BusUnavailable(f"cannot read dead letters: {exc}") from exc
        first, last = info.state.first_seq, info.state.last_seq
        out: list[dict[str, Any]] = []
        seq = last
        while seq >= first and seq > 0 and len(out) < limit:
            try:
                raw = await js.get_msg(self.dlq_stream, seq)
            except nats.js.errors.NotFoundError:
                seq -= 1
                continue
            if raw.data:
                out.append(json.loads(raw.data))
            seq -= 1
        return out

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait until every subscription's consumer has nothing pending, unacknowledged or running here."""
        js = self._connected_js()
        async with asyncio.timeout(timeout):
            for task in list(self._setup):
                await task
            while True:
                busy = False
                for sub in list(self._subs):
                    if sub.in_flight:
                        busy = True
                        break
                    info = await js.consumer_info(self.stream, sub.consumer)
                    if info.num_pending or info.num_ack_pending:
                        busy = True
                        break
                if not busy:
                    return
                await asyncio.sleep(0.02)

    # -- request/reply ---------------------------------------------------------------------------------------
    def respond(self, pattern: str, handler: Handler) -> None:
        """Register a request/reply responder; processes share requests through one queue group."""
        validate_subject(pattern, pattern=True)
        self._responders.append((pattern, handler))
        if self._nc is not None and self._nc.is_connected:
            # Kept synchronous like the memory bus; request() and drain() wait for the subscription.
            task = asyncio.get_running_loop().create_task(self._subscribe_responder(pattern, handler))
            self._setup.append(task)

    async def _subscribe_responder(self, pattern: str, handler: Handler) -> None:
        nc = self._nc
        if nc is None:
            return
        reply_slots = self._reply_slots

        async def answer(msg: Msg) -> None:
            try:
                env = decode_envelope(msg.data)
                result = await handler(env)
                await msg.respond(msgspec.json.encode(result))
            except Exception as exc:
                with contextlib.suppress(Exception):
                    await nc.publish(msg.reply, b"", headers={ERROR_HEADER: f"{type(exc).__name__}: {exc}"})
            finally:
                reply_slots.release()

        async def on_request(msg: Msg) -> None:
            # Callbacks run one after another; hand each request to a task so a slow one does not hold the
            # rest, and wait for a slot so a flood cannot start unbounded work.
            await reply_slots.acquire()
            asyncio.get_running_loop().create_task(answer(msg))

        self._responder_subs.append(
            await nc.subscribe(f"{RPC_PREFIX}.{pattern}", queue="hub-responders", cb=on_request)
        )
        await nc.flush()

    async def request(self, subject: str, data: dict[str, Any], *, timeout: float = 5.0) -> Any:
        if self._setup:
            await asyncio.gather(*self._setup)
            self._setup.clear()
        nc = self._nc
        if nc is None or not nc.is_connected:
            raise BusUnavailable(f"not connected to {self.url}")
        env = make_envelope(
            subject, data, source="request", actor="system", occurred_at=dt.datetime.now(dt.UTC)
        )
        try:
            msg = await nc.request(f"{RPC_PREFIX}.{subject}", encode_envelope(env), timeout=timeout)
        except nats.errors.NoRespondersError:
            raise LookupError(f"no responder for {subject}") from None
        except nats.errors.TimeoutError:
            raise TimeoutError(f"no reply to {subject} within {timeout}s") from None
        if msg.headers and ERROR_HEADER in msg.headers:
            raise RuntimeError(f"responder for {subject} failed: {msg.headers[ERROR_HEADER]}")
        return msgspec.json.decode(msg.data) if msg.data else None
