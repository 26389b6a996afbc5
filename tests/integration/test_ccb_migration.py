"""The CCB migration builds exactly the tables the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import core.ccb.models  # noqa: F401  (puts the ccb_ tables on Base.metadata)
from core.db import Base, Database
from core.migrate import upgrade


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
