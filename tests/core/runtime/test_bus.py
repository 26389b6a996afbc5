"""The in-memory bus: NATS subject semantics, isolation of handlers, request/reply."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from core.bus import (
    BusUnavailable,
    Envelope,
    MemoryBus,
    decode_envelope,
    encode_envelope,
    make_envelope,
    subject_matches,
    validate_subject,
)


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("hub.ccb.service.started", "hub.ccb.service.started", True),
        ("hub.ccb.*.started", "hub.ccb.service.started", True),
        ("hub.ccb.*", "hub.ccb.service.started", False),
        ("hub.ccb.>", "hub.ccb.service.started", True),
        ("hub.ccb.>", "hub.ccb", False),
        ("hub.>", "hub.x", True),
        (">", "hub.x.y", True),
        ("*.*", "hub.x", True),
        ("*.*", "hub.x.y", False),
        ("hub.phone.agent.*", "hub.phone.dialog.created", False),
        ("hub.ccb.service.started", "hub.ccb.service", False),
    ],
)
def test_subject_matching(pattern: str, subject: str, expected: bool) -> None:
    assert subject_matches(pattern, subject) is expected


@pytest.mark.parametrize("bad", ["", "hub..x", "hub.>.x", "hub.a b"])
def test_bad_patterns_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        validate_subject(bad, pattern=True)


def test_wildcards_are_refused_in_subjects() -> None:
    with pytest.raises(ValueError):
        validate_subject("hub.*.x")


def _env(subject: str, n: int = 0) -> Envelope:
    return make_envelope(
        subject, {"n": n}, source="test", actor="system", occurred_at=dt.datetime.now(dt.UTC)
    )


def test_envelope_round_trips_through_json() -> None:
    env = _env("hub.test.thing.happened", 7)
    again = decode_envelope(encode_envelope(env))
    assert again == env
    assert again.occurred_at.tzinfo is not None


async def test_delivery_follows_wildcards_and_order() -> None:
    bus = MemoryBus()
    got: dict[str, list[int]] = {"all": [], "one": [], "other": []}

    async def collect(key: str, env: Envelope) -> None:
        got[key].append(env.data["n"])

    await bus.subscribe("hub.>", lambda e: collect("all", e))
    await bus.subscribe("hub.a.*", lambda e: collect("one", e))
    await bus.subscribe("hub.b.*", lambda e: collect("other", e))
    for i in range(5):
        await bus.publish(_env("hub.a.x", i))
    await bus.drain()
    assert got == {"all": [0, 1, 2, 3, 4], "one": [0, 1, 2, 3, 4], "other": []}
    await bus.close()


async def test_a_raising_handler_does_not_stop_its_subscription_or_others() -> None:
    bus = MemoryBus()
    seen: list[int] = []
    healthy: list[int] = []

    async def flaky(env: Envelope) -> None:
        if env.data["n"] % 2 == 0:
            raise RuntimeError("boom")
        seen.append(env.data["n"])

    async def steady(env: Envelope) -> None:
        healthy.append(env.data["n"])

    sub = await bus.subscribe("hub.t.>", flaky)
    await bus.subscribe("hub.t.>", steady)
    for i in range(6):
        await bus.publish(_env("hub.t.x", i))
    await bus.drain()
    assert seen == [1, 3, 5]
    assert healthy == list(range(6))
    assert sub.failed == 3
    await bus.close()


async def test_publishing_does_not_wait_for_slow_handlers() -> None:
    bus = MemoryBus()
    release = asyncio.Event()

    async def slow(env: Envelope) -> None:
        await release.wait()

    await bus.subscribe("hub.slow.x", slow)
    async with asyncio.timeout(1):
        for i in range(100):
            await bus.publish(_env("hub.slow.x", i))
    release.set()
    await bus.drain()
    await bus.close()


async def test_request_reply_and_missing_responder() -> None:
    bus = MemoryBus()

    async def answer(env: Envelope) -> dict[str, int]:
        return {"doubled": env.data["n"] * 2}

    bus.respond("hub.math.*", answer)
    assert await bus.request("hub.math.double", {"n": 21}) == {"doubled": 42}
    with pytest.raises(LookupError):
        await bus.request("hub.nobody.home", {})


async def test_closed_bus_refuses_publish_and_reports_unhealthy() -> None:
    bus = MemoryBus()
    await bus.close()
    assert await bus.healthy() is False
    with pytest.raises(BusUnavailable):
        await bus.publish(_env("hub.a.b"))


async def test_unsubscribe_stops_delivery() -> None:
    bus = MemoryBus()
    got: list[int] = []

    async def h(env: Envelope) -> None:
        got.append(env.data["n"])

    sub = await bus.subscribe("hub.u.x", h)
    await bus.publish(_env("hub.u.x", 1))
    await bus.drain()
    await sub.unsubscribe()
    await bus.publish(_env("hub.u.x", 2))
    await bus.drain()
    assert got == [1]
