"""Files holding customer data or credentials are owner-only (0600) from their first byte: the SQLite
database and its -wal/-shm files, the demo credentials and customers files; `make run` never prints the
credentials, only where they are."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from core.cli import main
from core.db import Database
from core.files import write_private
from core.migrate import upgrade

ROOT = Path(__file__).resolve().parents[3]


def mode(path: Path) -> str:
    return oct(path.stat().st_mode & 0o777)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """The usual umask: without the hub's care every file here would be world-readable (0644)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


async def _write_through(url: str) -> None:
    db = Database(url)
    try:
        async with db.session() as session:
            await session.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
            await session.execute(text("INSERT INTO probe VALUES (1)"))
    finally:
        await db.dispose()


def test_a_new_database_and_its_wal_and_shm_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "var" / "hub.db"
    db = Database(f"sqlite+aiosqlite:///{path}")

    async def write_and_look() -> dict[str, str]:
        try:
            async with db.session() as session:
                await session.execute(text("CREATE TABLE probe (x INTEGER)"))
                await session.execute(text("INSERT INTO probe VALUES (1)"))
            # While a connection is open the WAL and the shared-memory index exist.
            async with db.read() as session:
                await session.execute(text("SELECT x FROM probe"))
                return {p.name: mode(p) for p in path.parent.iterdir()}
        finally:
            await db.dispose()

    modes = asyncio.run(write_and_look())
    assert {"hub.db", "hub.db-wal", "hub.db-shm"} <= set(modes), modes
    assert set(modes.values()) == {"0o600"}, modes


def test_ccbhub_db_upgrade_creates_the_database_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    assert mode(path) == "0o600"


def test_an_existing_world_readable_database_is_narrowed_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    asyncio.run(_write_through(f"sqlite+aiosqlite:///{path}"))
    path.chmod(0o644)
    wal = path.with_name("old.db-wal")
    wal.write_bytes(b"")
    wal.chmod(0o644)
    asyncio.run(_write_through(f"sqlite+aiosqlite:///{path}"))
    assert mode(path) == "0o600"
    assert not wal.exists() or mode(wal) == "0o600"


def test_write_private_never_leaves_the_file_readable(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "secret.txt"
    write_private(target, "first and longer\n")
    assert mode(target) == "0o600"
    target.chmod(0o644)
    write_private(target, "second\n")
    assert (mode(target), target.read_text()) == ("0o600", "second\n")


def test_demo_seed_writes_credentials_and_customers_owner_only(
    hub_database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("HUB_CONFIG", "HUB_DISABLED_PLUGINS", "HUB_NO_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HUB_DATABASE_URL", hub_database_url)
    monkeypatch.setenv("HUB_SECRET_KEY", "private-files-secret")
    result = CliRunner().invoke(main, ["demo", "seed", "--customers", "3"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    creds, customers = tmp_path / "var" / "demo-credentials.txt", tmp_path / "var" / "demo-customers.jsonl"
    assert (mode(creds), mode(customers)) == ("0o600", "0o600")
    password = creds.read_text().splitlines()[1].split()[1]
    assert password not in result.output  # the command says where they are, not what they are
    database = Path(hub_database_url.removeprefix("sqlite+aiosqlite:///"))
    assert mode(database) == "0o600"


def test_make_run_says_where_the_credentials_are_without_printing_them() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "the Makefile has a run target"
    lines = recipe.group(1).splitlines()
    assert any("echo" in line and "var/demo-credentials.txt" in line for line in lines)
    readers = re.compile(r"\b(sed|cat|awk|head|tail|less|more|grep|cut|column)\b.*demo-credentials")
    assert not [line for line in lines if readers.search(line)], "make run prints the credentials"
