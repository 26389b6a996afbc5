"""Storage: the async SQLAlchemy engine, session factory and the declarative base every table derives from."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from core.contract.db import NAMING_CONVENTION, Base, UTCDateTime
from core.files import ensure_private

__all__ = ["NAMING_CONVENTION", "Base", "Database", "UTCDateTime", "create_engine", "utcnow"]

# Execution option marking a read-only session's connection (see Database.read).
READ_ONLY = "hub_read_only"


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The driver's own transaction handling is switched off so that "begin" below decides.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # BEGIN IMMEDIATE takes the write lock up front: two writers queue on busy_timeout instead of one
        # failing with SQLITE_BUSY_SNAPSHOT half-way (the audit chain reads its tail, then appends).
        # A read-only session (Database.read) takes no lock: WAL readers see a snapshot and never block
        # writers or each other, so a page of reads no longer waits behind every other request's writes.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create the async engine for a ``HUB_DATABASE_URL``; SQLite gets WAL and serialized writers."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            path = Path(parsed.database)
            path.parent.mkdir(parents=True, exist_ok=True)
            # Owner-only before SQLite first opens it: SQLite gives the -wal and -shm files it creates the
            # database file's mode, so customer data never sits in a file others can read.
            ensure_private(path)
            for suffix in ("-wal", "-shm"):
                ensure_private(path.with_name(path.name + suffix), create=False)
        engine = create_async_engine(url, **kwargs)
        _sqlite_pragmas(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


class Database:
    """The engine plus a session factory; one per hub process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._readers = async_sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on any error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only: one consistent snapshot, no write lock taken on SQLite.

        Writing through it is a programming error; on SQLite the write would have to upgrade the lock
        and could fail with "database is locked" under load instead of queueing like ``session()``.
        Nothing is committed: closing the session hands the connection back to the pool, which rolls
        its transaction back, so nothing written by mistake is kept. Closing (unlike an explicit
        rollback) leaves the loaded objects' attributes readable after the block.
        """
        async with self._readers() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
