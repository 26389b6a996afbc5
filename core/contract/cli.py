"""What a plugin's ``ccbhub`` subcommand (``hub_register_cli``) may use of the hub without a web server.

A command that reads or writes the plugin's tables opens the hub's database with :func:`hub_database`::

    async def _rows(year: int, month: int) -> list[Row]:
        async with hub_database() as db, db.session() as session:
            return await rows_between(session, ...)

It uses the settings the ``ccbhub`` group has loaded (``--config``), else ``HUB_*`` and hub.toml, so a
command works the same under ``ccbhub`` and alone (tests, scripts).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from core.db import Database
    from core.settings import Settings

__all__ = ["hub_database", "hub_settings"]


def hub_settings() -> Settings:
    """The hub's settings for the running command; a bad configuration is a usage error naming the key."""
    # Imported here: the contract may not load the runtime's settings at import time (see pyproject's
    # contract-is-the-bottom), and only a command that runs asks for them.
    from core.settings import SettingsError, load_settings

    current = click.get_current_context(silent=True)
    # Under ``ccbhub`` the group has already read --config (and says what is wrong with it itself).
    found: Settings | None = getattr(current.find_root().obj, "settings", None) if current else None
    if found is not None:
        return found
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


@asynccontextmanager
async def hub_database() -> AsyncIterator[Database]:
    """The hub's database for the length of a command: opened from the settings, disposed on the way out."""
    from core.db import Database

    db = Database(hub_settings().database_url)
    try:
        yield db
    finally:
        await db.dispose()
