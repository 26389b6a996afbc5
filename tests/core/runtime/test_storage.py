"""Storage on both SQLite and PostgreSQL: migrations, the outbox transaction, the audit chain."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import delete, select, text, update

import core.ccb.models
import core.models  # noqa: F401
from core.audit import AuditKey, AuditLog, verify_chain
from core.bus import Envelope, MemoryBus
from core.clock import ManualClock
from core.db import Base, Database
from core.migrate import upgrade
from core.models import AuditRecord, OutboxEvent, Section
from core.outbox import EventCatalogue, EventWriter, OutboxRelay
from core.settings import DEFAULT_SECTIONS

AUDIT_KEY = AuditKey(b"test-audit-key")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def migrated_db(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'storage.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        yield db
    finally:
        await db.dispose()


async def test_migrations_build_exactly_the_models(migrated_db: Database) -> None:
    def core_object(obj: Any, name: str | None, type_: str, *_: Any) -> bool:
        # The core's migrations own hub_/ccb_/tel_ tables; a plugin's tables (imported by other tests into
        # the same metadata) are checked against the plugin's own migration branch by its tests.
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
        return (table or "").startswith(("hub_", "ccb_", "tel_"))

    def diff(conn: Any) -> list[Any]:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": core_object})
        return list(compare_metadata(ctx, Base.metadata))

    async with migrated_db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_default_sections_exist_after_migration(migrated_db: Database) -> None:
    async with migrated_db.session() as session:
        slugs = set((await session.execute(select(Section.slug))).scalars())
    assert slugs == set(DEFAULT_SECTIONS)


async def test_migration_is_idempotent(migrated_db: Database) -> None:
    await asyncio.to_thread(upgrade, migrated_db.url)
    async with migrated_db.session() as session:
        assert len((await session.execute(select(Section))).scalars().all()) == len(DEFAULT_SECTIONS)


class Noted(msgspec.Struct, frozen=True):
    note: str


def _writer(clock: ManualClock, kicks: list[int]) -> EventWriter:
    catalogue = EventCatalogue()
    catalogue.register("hub.test.note.added", Noted, "core")
    return EventWriter(catalogue, clock, "core", lambda: kicks.append(1))


async def test_outbox_row_commits_with_the_change_and_vanishes_with_a_rollback(migrated_db: Database) -> None:
    clock = ManualClock(dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC))
    kicks: list[int] = []
    events = _writer(clock, kicks)
    async with migrated_db.session() as session:
        session.add(Section(slug="kept", title="Kept"))
        events.emit(session, "hub.test.note.added", Noted("kept"), actor="test")
    with pytest.raises(RuntimeError):
        async with migrated_db.session() as session:
            session.add(Section(slug="lost", title="Lost"))
            events.emit(session, "hub.test.note.added", Noted("lost"), actor="test")
            raise RuntimeError("the change fails after the event was written")
    async with migrated_db.session() as session:
        rows = (await session.execute(select(OutboxEvent))).scalars().all()
        assert await session.get(Section, "lost") is None
    assert [msgspec.json.decode(r.envelope)["data"]["note"] for r in rows] == ["kept"]
    assert kicks == [1]  # the relay is woken only by the commit


async def test_relay_publishes_in_order_once_and_retries_while_bus_is_down(migrated_db: Database) -> None:
    clock = ManualClock(dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC))
    events = _writer(clock, [])
    bus = MemoryBus()
    got: list[str] = []

    async def handler(env: Envelope) -> None:
        got.append(env.data["note"])

    await bus.subscribe("hub.test.>", handler)
    relay = OutboxRelay(migrated_db, bus, batch_size=3)
    async with migrated_db.session() as session:
        for i in range(7):
            events.emit(session, "hub.test.note.added", Noted(f"n{i}"), actor="test")
    await bus.close()  # the bus is down: nothing is lost, attempts are counted
    with pytest.raises(Exception, match="closed"):
        await relay.run_once()
    async with migrated_db.session() as session:
        attempts = (await session.execute(select(OutboxEvent.attempts))).scalars().all()
    assert sorted(attempts) == [0, 0, 0, 0, 1, 1, 1]
    await bus.start()
    await bus.subscribe("hub.test.>", handler)
    while await relay.run_once():
        pass
    await bus.drain()
    assert got == [f"n{i}" for i in range(7)]
    assert await relay.backlog() == 0
    await bus.close()


async def test_audit_chain_verifies_and_detects_edit_delete_and_truncation(migrated_db: Database) -> None:
    clock = ManualClock(dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC))
    audit = AuditLog(clock, AUDIT_KEY)
    for i in range(6):
        async with migrated_db.session() as session:
            await audit.append(
                session, actor="staff:lead1", action="test.act", target=f"t{i}", detail={"i": i}
            )
        clock.advance(dt.timedelta(seconds=1))
    async with migrated_db.session() as session:
        ok = await verify_chain(session, AUDIT_KEY)
    assert ok.ok and ok.records == 6

    async with migrated_db.session() as session:
        await session.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(target="tampered"))
    async with migrated_db.session() as session:
        edited = await verify_chain(session, AUDIT_KEY)
    assert not edited.ok
    assert any("record 2" in p and "edited" in p for p in edited.problems)
    async with migrated_db.session() as session:
        await session.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(target="t1"))
        await session.execute(delete(AuditRecord).where(AuditRecord.seq == 4))
    async with migrated_db.session() as session:
        deleted = await verify_chain(session, AUDIT_KEY)
    assert any("missing" in p for p in deleted.problems)
    assert any("record 5" in p and "link" in p for p in deleted.problems)


async def test_audit_detects_deleting_the_newest_records(migrated_db: Database) -> None:
    audit = AuditLog(ManualClock(dt.datetime(2026, 11, 2, tzinfo=dt.UTC)), AUDIT_KEY)
    for i in range(3):
        async with migrated_db.session() as session:
            await audit.append(session, actor="a", action="x", target=str(i))
    async with migrated_db.session() as session:
        await session.execute(delete(AuditRecord).where(AuditRecord.seq == 3))
    async with migrated_db.session() as session:
        result = await verify_chain(session, AUDIT_KEY)
    assert not result.ok and any("newest" in p for p in result.problems)


async def test_concurrent_audit_appends_keep_one_chain(migrated_db: Database) -> None:
    audit = AuditLog(ManualClock(dt.datetime(2026, 11, 2, tzinfo=dt.UTC)), AUDIT_KEY)

    async def append(i: int) -> None:
        async with migrated_db.session() as session:
            await audit.append(session, actor="a", action="x", target=str(i))

    await asyncio.gather(*(append(i) for i in range(20)))
    async with migrated_db.session() as session:
        result = await verify_chain(session, AUDIT_KEY)
        seqs = (await session.execute(select(AuditRecord.seq).order_by(AuditRecord.seq))).scalars().all()
    assert result.ok, result.problems
    assert seqs == list(range(1, 21))


async def test_audit_masks_card_numbers_in_details(migrated_db: Database) -> None:
    audit = AuditLog(ManualClock(dt.datetime(2026, 11, 2, tzinfo=dt.UTC)), AUDIT_KEY)
    async with migrated_db.session() as session:
        await audit.append(
            session, actor="a", action="x", target="t", detail={"note": "paid 4111 1111 1111 1111"}
        )
    async with migrated_db.session() as session:
        raw = (await session.execute(text("SELECT detail FROM hub_audit_log"))).scalar_one()
    assert "4111 1111" not in str(raw)
    assert "****1111" in str(raw)


async def test_times_come_back_timezone_aware_utc(migrated_db: Database) -> None:
    when = dt.datetime(2026, 7, 4, 12, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
    async with migrated_db.session() as session:
        session.add(Section(slug="tz-test", title="TZ", created_at=when))
    async with migrated_db.session() as session:
        back = (await session.get(Section, "tz-test")).created_at  # type: ignore[union-attr]
    assert back == when
    assert back.utcoffset() == dt.timedelta(0)


async def test_a_read_session_neither_waits_for_a_writer_nor_keeps_a_write(migrated_db: Database) -> None:
    before = len(DEFAULT_SECTIONS)
    async with migrated_db.session() as writer:
        writer.add(Section(slug="night-desk", title="Night desk"))
        await writer.flush()  # the writer holds its lock (BEGIN IMMEDIATE on SQLite) until it commits
        # A reader gets the last committed snapshot at once; a second writer would wait here instead.
        async with asyncio.timeout(5), migrated_db.read() as reader:
            assert len((await reader.scalars(select(Section))).all()) == before
    async with migrated_db.read() as reader:
        assert len((await reader.scalars(select(Section))).all()) == before + 1
        reader.add(Section(slug="mistake", title="Written through a read session"))
        await reader.flush()
    async with migrated_db.read() as reader:
        assert await reader.get(Section, "mistake") is None  # rolled back, never kept
