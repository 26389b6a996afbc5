"""The CCB migration builds exactly the tables the models describe, on SQLite and on PostgreSQL, and
data stored before meters had several registers keeps working (each becomes register 1)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

import core.ccb.models  # noqa: F401  (puts the ccb_ tables on Base.metadata)
from core.db import Base, Database
from core.migrate import downgrade, upgrade


def _ccb_only(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # Other parts of the hub own their tables and migrations; this test is about the ccb_ ones.
    if type_ == "table":
        return bool(name and name.startswith("ccb_"))
    table = getattr(obj, "table", None)
    return table is None or table.name.startswith("ccb_")


def _schema_diffs(conn: Any) -> tuple[list[Any], set[str]]:
    context = MigrationContext.configure(
        conn, opts={"include_object": _ccb_only, "compare_type": True, "target_metadata": Base.metadata}
    )
    tables = {t for t in inspect(conn).get_table_names() if t.startswith("ccb_")}
    return compare_metadata(context, Base.metadata), tables


async def _check(url: str) -> None:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            diffs, tables = await conn.run_sync(_schema_diffs)
    finally:
        await db.dispose()
    expected = {t.name for t in Base.metadata.sorted_tables if t.name.startswith("ccb_")}
    assert tables == expected
    assert diffs == []


async def test_migration_matches_models_on_sqlite(hub_database_url: str) -> None:
    await _check(hub_database_url)


@pytest.mark.postgres
async def test_migration_matches_models_on_postgresql(postgres_url: str) -> None:
    await asyncio.to_thread(upgrade, postgres_url)
    await _check(postgres_url)


async def _insert_pre_register_meter(url: str) -> None:
    """A meter and a read as revision 0002_ccb stored them: one register, no register column."""
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO ccb_meter (id, badge_number, meter_type, service, unit, register_digits, "
                    "created_at) VALUES ('1111111111', 'E1111111111', 'digital', 'electric', 'KWH', 5, :at)"
                ),
                {"at": dt.datetime(2025, 1, 1)},
            )
            await conn.execute(
                text(
                    "INSERT INTO ccb_meter_read (id, meter_id, read_at, reading, read_type, use_on_bill, "
                    "source, created_by, created_at) VALUES ('222222222222', '1111111111', :at, 4321, '60', "
                    ":yes, 'field', 'test', :at)"
                ),
                {"at": dt.datetime(2025, 1, 1), "yes": True},
            )
    finally:
        await db.dispose()


async def _registers_and_reads(url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            registers = (
                await conn.execute(text("SELECT meter_id, seq, flow, unit, digits FROM ccb_register"))
            ).all()
            reads = (await conn.execute(text("SELECT id, register_seq, reading FROM ccb_meter_read"))).all()
        return [tuple(r) for r in registers], [tuple(r) for r in reads]
    finally:
        await db.dispose()


async def _check_existing_meters_get_register_one(url: str) -> None:
    await asyncio.to_thread(upgrade, url, "0002_ccb")
    await _insert_pre_register_meter(url)
    await asyncio.to_thread(upgrade, url)
    registers, reads = await _registers_and_reads(url)
    assert registers == [("1111111111", 1, "delivered", "KWH", 5)]
    assert reads == [("222222222222", 1, 4321)]
    # And back: the revision's downgrade leaves the 0002 shape with the read intact.
    await asyncio.to_thread(downgrade, url, "0002_ccb")
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("ccb_meter_read")}
            )
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            kept = (await conn.execute(text("SELECT reading FROM ccb_meter_read"))).scalars().all()
    finally:
        await db.dispose()
    assert "register_seq" not in columns and "ccb_register" not in tables and kept == [4321]


async def test_existing_meters_and_reads_become_register_one_on_sqlite(tmp_path: Path) -> None:
    await _check_existing_meters_get_register_one(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")


@pytest.mark.postgres
async def test_existing_meters_and_reads_become_register_one_on_postgresql(postgres_url: str) -> None:
    await _check_existing_meters_get_register_one(postgres_url)
