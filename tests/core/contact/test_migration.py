"""The contact layer's migration builds exactly the tables its models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import core.contact.models  # noqa: F401  (puts the contact_ tables on Base.metadata)
from core.db import Base, Database
from core.migrate import upgrade


def _contact_only(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table":
        return bool(name and name.startswith("contact_"))
    table = getattr(obj, "table", None)
    return table is None or table.name.startswith("contact_")


def _diffs(conn: Any) -> tuple[list[Any], set[str]]:
    context = MigrationContext.configure(
        conn, opts={"include_object": _contact_only, "compare_type": True, "target_metadata": Base.metadata}
    )
    tables = {t for t in inspect(conn).get_table_names() if t.startswith("contact_")}
    return compare_metadata(context, Base.metadata), tables


async def test_migration_matches_models_on_sqlite(hub_database_url: str) -> None:
    db = Database(hub_database_url)
    try:
        async with db.engine.connect() as conn:
            diffs, tables = await conn.run_sync(_diffs)
    finally:
        await db.dispose()
    assert tables == {t.name for t in Base.metadata.sorted_tables if t.name.startswith("contact_")}
    assert tables == {"contact_contact", "contact_verification", "contact_action", "contact_returned_mail"}
    assert diffs == []


@pytest.mark.postgres
async def test_migration_matches_models_on_postgresql(postgres_url: str) -> None:
    await asyncio.to_thread(upgrade, postgres_url)
    await test_migration_matches_models_on_sqlite(postgres_url)
