"""The NATS/JetStream bus against a real nats-server: delivery, dedupe, dead letters, crash recovery.

One server per module (JetStream on, file store in a temporary directory, a free loopback port). Tests use
their own subject prefixes and durable names, so they share the server without seeing each other's events.
The crash test SIGKILLs the server while the outbox relay is publishing and restarts it on the same port and
store directory, as an operator's supervisor would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import nats
import pytest
from sqlalchemy import func, select

from connectors.nats_bus import NatsBus, consumer_name
from core.bus import BusUnavailable, Envelope, make_envelope
from core.clock import SystemClock
from core.contract.testing import NatsServerProcess
from core.db import Database
from core.models import OutboxEvent
from core.outbox import EventCatalogue, EventWriter, OutboxRelay
from tests import example_plugin


@pytest.fixture
async def nbus(nats_server: NatsServerProcess) -> AsyncIterator[NatsBus]:
    # Short retry delays so retry/dead-letter paths finish in well under a second.
    bus = NatsBus(nats_server.url, max_deliver=3, retry_base=0.05, retry_max=0.2, reconnect_time_wait=0.1)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()


def _env(subject: str, **data: Any) -> Envelope:
    return make_envelope(subject, data, source="test", actor="system", occurred_at=dt.datetime.now(dt.UTC))


async def _eventually(predicate: Any, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        # Polling on purpose: the conditions live in other processes (the server) or in the outbox table.
        while True:
            if await predicate():
                return
            await asyncio.sleep(0.05)


async def test_publish_reaches_matching_handlers(nbus: NatsBus) -> None:
    created: list[str] = []
    everything: list[str] = []

    async def on_created(env: Envelope) -> None:
        created.append(env.subject)

    async def on_any(env: Envelope) -> None:
        everything.append(env.subject)

    await nbus.subscribe("hub.t1.*.created", on_created, durable="t1.created")
    await nbus.subscribe("hub.t1.>", on_any, durable="t1.any", max_in_flight=4)
    await nbus.publish(_env("hub.t1.a.created"))
    await nbus.publish_many([_env("hub.t1.b.deleted"), _env("hub.t1.a.b.created"), _env("hub.t1.c.created")])
    await nbus.drain()
    assert sorted(created) == ["hub.t1.a.created", "hub.t1.c.created"]
    assert sorted(everything) == sorted(
        ["hub.t1.a.created", "hub.t1.b.deleted", "hub.t1.a.b.created", "hub.t1.c.created"]
    )
    assert await nbus.healthy()


async def test_a_republished_event_is_handled_once(nbus: NatsBus) -> None:
    seen: list[str] = []

    async def handler(env: Envelope) -> None:
        seen.append(env.id)

    await nbus.subscribe("hub.t2.>", handler, durable="t2")
    first, second = _env("hub.t2.x", n=1), _env("hub.t2.x", n=2)
    await nbus.publish(first)
    await nbus.publish(first)  # the relay crashed after publishing, before marking the row
    await nbus.publish_many([first, second, second])
    await nbus.drain()
    assert sorted(seen) == sorted([first.id, second.id])


async def test_a_failing_handler_is_retried_then_dead_lettered(nbus: NatsBus) -> None:
    attempts: Counter[str] = Counter()
    handled: list[int] = []

    async def handler(env: Envelope) -> None:
        attempts[env.id] += 1
        if env.data.get("poison"):
            raise ValueError("cannot handle this one")
        handled.append(env.data["n"])

    sub = await nbus.subscribe("hub.t3.>", handler, durable="t3.flaky", max_in_flight=2)
    bad = _env("hub.t3.x", poison=True)
    await nbus.publish(bad)
    await nbus.publish_many([_env("hub.t3.x", n=i) for i in range(5)])
    await nbus.drain()
    # The subscription went on delivering while the bad event was being retried, and after it too.
    await nbus.publish(_env("hub.t3.y", n=99))
    await nbus.drain()
    assert sorted(handled) == [0, 1, 2, 3, 4, 99]
    assert attempts[bad.id] == 3
    assert sub.dead == 1
    letters = [d for d in await nbus.dead_letters(50) if d["durable"] == "t3.flaky"]
    assert len(letters) == 1
    letter = letters[0]
    assert letter["event_id"] == bad.id and letter["subject"] == "hub.t3.x"
    assert letter["deliveries"] == 3 and "cannot handle this one" in letter["last_error"]
    assert letter["consumer"] == consumer_name("t3.flaky")


async def test_a_poisoned_message_goes_straight_to_dead_letters(
    nbus: NatsBus, nats_server: NatsServerProcess
) -> None:
    seen: list[int] = []

    async def handler(env: Envelope) -> None:
        seen.append(env.data["n"])

    await nbus.subscribe("hub.t4.>", handler, durable="t4")
    raw = await nats.connect(nats_server.url)
    try:
        await raw.jetstream().publish("hub.t4.bad", b"{not an envelope", headers={"Nats-Msg-Id": "poison-1"})
    finally:
        await raw.close()
    await nbus.publish(_env("hub.t4.good", n=1))
    await nbus.drain()
    assert seen == [1]
    letters = [d for d in await nbus.dead_letters(50) if d["durable"] == "t4"]
    assert len(letters) == 1
    assert letters[0]["deliveries"] == 1 and "undecodable" in letters[0]["last_error"]
    assert letters[0]["event_id"] == "poison-1" and letters[0]["payload"] == "{not an envelope"


async def test_request_reply(nbus: NatsBus) -> None:
    async def echo(env: Envelope) -> dict[str, Any]:
        if env.data.get("fail"):
            raise RuntimeError("nope")
        return {"echo": env.data["x"], "subject": env.subject}

    nbus.respond("hub.t5.echo.*", echo)
    assert await nbus.request("hub.t5.echo.a", {"x": 7}) == {"echo": 7, "subject": "hub.t5.echo.a"}
    with pytest.raises(RuntimeError, match="nope"):
        await nbus.request("hub.t5.echo.a", {"fail": True})
    with pytest.raises(LookupError):
        await nbus.request("hub.t5.nobody", {}, timeout=1.0)


class Tick(msgspec.Struct, frozen=True):
    n: int


async def test_every_event_arrives_once_across_a_server_crash(
    nats_server: NatsServerProcess, hub_database_url: str
) -> None:
    """SIGKILL the server while the relay publishes; after a restart every event is handled (dedupe by id)."""
    total, per_tx = 2000, 50
    # A short ack_wait: deliveries whose acks died with the server come back within the test.
    bus = NatsBus(
        nats_server.url, retry_base=0.05, reconnect_time_wait=0.1, publish_timeout=1.0, ack_wait=2.0
    )
    await bus.start()
    db = Database(hub_database_url)
    catalogue = EventCatalogue()
    catalogue.register("hub.t7.tick", Tick, "core")
    relay = OutboxRelay(db, bus, batch_size=200, poll_interval=0.05)
    writer = EventWriter(catalogue, SystemClock(), "core", relay.kick)
    deliveries: Counter[str] = Counter()

    async def handler(env: Envelope) -> None:
        deliveries[env.id] += 1

    await bus.subscribe("hub.t7.>", handler, durable="t7.counter", max_in_flight=32)
    await relay.start()
    written: list[str] = []
    try:
        for tx in range(total // per_tx):
            async with db.session() as session:
                for i in range(per_tx):
                    written.append(
                        writer.emit(session, "hub.t7.tick", Tick(tx * per_tx + i), actor="test").id
                    )
            if tx == 10:
                nats_server.kill()
                await _eventually(lambda: _not(bus.healthy()), timeout=5)
                with pytest.raises(BusUnavailable):
                    await bus.publish(_env("hub.t7.tick", n=-1))
            if tx == 20:
                nats_server.start()
                await _eventually(bus.healthy, timeout=10)
            await asyncio.sleep(0.02)

        async def all_handled() -> bool:
            relay.kick()
            return await relay.backlog() == 0 and len(deliveries) >= total

        await _eventually(all_handled, timeout=30)
        await bus.drain(timeout=10)
        async with db.session() as session:
            retried = await session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.attempts > 0)
            )
    finally:
        await relay.stop()
        await bus.close()
        await db.dispose()
    assert len(written) == total
    assert retried, "the outage should have kept rows in the outbox for a retry"
    assert set(deliveries) == set(written), f"missing {len(set(written) - set(deliveries))} events"
    # Stream-level dedupe: the relay republished the batch in flight at the crash, yet the stream holds
    # each event once (a few redeliveries can remain when an ack was lost with the server).
    raw = await nats.connect(nats_server.url)
    try:
        info = await raw.jetstream().consumer_info("HUB", consumer_name("t7.counter"))
        assert info.delivered.stream_seq - info.ack_floor.stream_seq == 0
        stream = await raw.jetstream().stream_info("HUB", subjects_filter="hub.t7.>")
        assert (stream.state.subjects or {}).get("hub.t7.tick") == total
    finally:
        await raw.close()
    assert sum(deliveries.values()) - total <= 200  # at most one relay batch delivered twice


async def _not(check: Any) -> bool:
    return not await check


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [example_plugin]


@pytest.fixture
def hub_config(nats_server: NatsServerProcess) -> dict[str, Any]:
    return {"bus_url": nats_server.url}


async def test_plugin_events_flow_through_nats(
    hub: Any, hub_client: Any, staff_token: Any, enable_plugin: Any, drain: Any
) -> None:
    assert isinstance(hub.bus, NatsBus)
    await enable_plugin("example", "call-center")
    csr = await staff_token("csr", "call-center")
    auth = {"Authorization": f"Bearer {csr}"}
    r = await hub_client.post("/api/example/pings", headers=auth, json={"message": "over nats"})
    assert r.status_code == 202
    await drain(10.0)
    pings = (await hub_client.get("/api/example/pings", headers=auth)).json()
    assert [p["event_id"] for p in pings] == [r.json()["event_id"]]
    assert pings[0]["message"] == "over nats"
    assert (await hub_client.get("/health/ready")).status_code == 200
