"""The kit's idempotency: a retried write answers as the first one did, once, across racing requests."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import msgspec
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.contract.idempotency import IdempotencyKey, IdempotencyRecord, check_key, run_once
from core.contract.inputs import InputError
from core.models import Section


class Created(msgspec.Struct, frozen=True):
    slug: str
    title: str


def key(value: str = "retry-key-0001", body: str = "body-a") -> IdempotencyKey:
    return IdempotencyKey(value=value, fingerprint=body.ljust(64, "0"))


def now() -> dt.datetime:
    return dt.datetime(2026, 12, 6, 18, 0, tzinfo=dt.UTC)


def add_section(slug: str, calls: list[str]) -> Any:
    async def write(session: Any) -> tuple[int, Created]:
        calls.append(slug)
        session.add(Section(slug=slug, title=slug.title()))
        return 201, Created(slug=slug, title=slug.title())

    return write


async def sections(hub: Any, slug: str) -> int:
    async with hub.db.read() as session:
        return int(await session.scalar(select(func.count()).where(Section.slug == slug)) or 0)


async def test_the_same_key_and_body_replays_the_first_answer(hub: Any) -> None:
    calls: list[str] = []
    first = await run_once(hub.db.session, "test.sections", key(), add_section("billing", calls), now=now)
    again = await run_once(hub.db.session, "test.sections", key(), add_section("billing", calls), now=now)
    assert first.replayed is False and again.replayed is True
    assert (again.status_code, again.decode(Created)) == (201, Created("billing", "Billing"))
    assert calls == ["billing"] and await sections(hub, "billing") == 1


async def test_the_same_key_with_another_body_is_refused_naming_the_header(hub: Any) -> None:
    calls: list[str] = []
    await run_once(hub.db.session, "test.sections", key(), add_section("billing", calls), now=now)
    with pytest.raises(InputError) as caught:
        await run_once(
            hub.db.session, "test.sections", key(body="body-b"), add_section("other", calls), now=now
        )
    assert caught.value.field == "Idempotency-Key" and caught.value.status_code == 422
    assert calls == ["billing"] and await sections(hub, "other") == 0


async def test_scopes_keep_one_client_key_apart(hub: Any) -> None:
    calls: list[str] = []
    await run_once(hub.db.session, "test.a", key(), add_section("alpha", calls), now=now)
    await run_once(hub.db.session, "test.b", key(), add_section("beta", calls), now=now)
    assert calls == ["alpha", "beta"]


async def test_racing_retries_write_once_and_answer_alike(hub: Any) -> None:
    calls: list[str] = []
    answers = await asyncio.gather(
        *(run_once(hub.db.session, "test.race", key(), add_section("race", calls), now=now) for _ in range(4))
    )
    assert await sections(hub, "race") == 1
    assert {a.decode(Created) for a in answers} == {Created("race", "Race")}
    assert sum(not a.replayed for a in answers) == 1
    async with hub.db.read() as session:
        stored = await session.scalar(select(func.count()).select_from(IdempotencyRecord))
    assert stored == 1


async def test_a_failed_write_stores_nothing_so_a_retry_runs_it(hub: Any) -> None:
    async def broken(session: Any) -> tuple[int, Created]:
        session.add(Section(slug="half", title="Half"))
        raise RuntimeError("the CCB refused")

    with pytest.raises(RuntimeError):
        await run_once(hub.db.session, "test.fail", key(), broken, now=now)
    assert await sections(hub, "half") == 0
    calls: list[str] = []
    answer = await run_once(hub.db.session, "test.fail", key(), add_section("half", calls), now=now)
    assert answer.replayed is False and calls == ["half"]


async def test_a_clash_of_the_write_itself_is_not_mistaken_for_a_replay(hub: Any) -> None:
    calls: list[str] = []
    await run_once(hub.db.session, "test.dup", None, add_section("dup", calls), now=now)
    with pytest.raises(IntegrityError):
        await run_once(hub.db.session, "test.dup", key(), add_section("dup", calls), now=now)


@pytest.mark.parametrize("value", ["short", "has space inside", "x" * 121, "semi;colon-key"])
def test_a_malformed_key_is_refused(value: str) -> None:
    with pytest.raises(InputError) as caught:
        check_key(value)
    assert caught.value.field == "Idempotency-Key"
