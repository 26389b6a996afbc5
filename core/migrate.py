"""Alembic, driven from code: the core's migrations plus every installed plugin's ``migrations/`` folder.

Each plugin with tables ships its own migration branch (``branch_labels=("<plugin-id>",)``, depending on
the core's first revision), so ``upgrade heads`` brings the core and every plugin up to date together.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine as create_sync_engine

from core.plugins import ENTRY_POINT_GROUP

HERE = Path(__file__).parent


def plugin_migration_dirs() -> list[Path]:
    """The ``migrations/versions`` folder of each installed plugin that has one."""
    dirs: list[Path] = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        spec = importlib.util.find_spec(ep.value.split(":")[0])
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            versions = Path(location) / "migrations" / "versions"
            if versions.is_dir():
                dirs.append(versions)
    return dirs


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    locations = [HERE / "migrations" / "versions", *plugin_migration_dirs()]
    cfg.set_main_option("version_locations", " ".join(str(p) for p in locations))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["database_url"] = url
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the schema up to date (synchronous: run it before the event loop, or in a thread)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def _sync_url(url: str) -> str:
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg") if "+psycopg" in url else url


def pending(url: str) -> list[str]:
    """Revisions not yet applied (empty when the schema is at every head)."""
    script = ScriptDirectory.from_config(alembic_config(url))
    heads = set(script.get_heads())
    import asyncio

    from core.db import create_engine

    async def current() -> set[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_heads()))
        finally:
            await engine.dispose()

    applied = asyncio.run(current())
    return sorted(heads - applied)


__all__ = ["alembic_config", "create_sync_engine", "downgrade", "pending", "plugin_migration_dirs", "upgrade"]
