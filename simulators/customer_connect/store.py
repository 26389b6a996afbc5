"""The simulator's durable incident store: its own SQLite file, tables prefixed ``cc_``.

This database belongs to the simulated Oracle site, not to the hub; it is created with
``metadata.create_all`` when the simulator starts, so a restart keeps every incident, thread and the
per-day reference counters.

Reference numbers (docs/ccb-domain.md §3): ``YYMMDD-NNNNNN`` where the date is the creation date in the site's
zone and the six digits count the incidents created that day, site-wide. The counter lives in its own
table (``cc_reference_counters``) and is bumped in the same transaction that inserts the incident, so two
incidents never share a number. A deleted incident leaves a gap, as the reference says a real site can.

Status rules the simulator applies when threads are added (§3 glossary): a staff response to an
incident of type Unresolved moves it to *Waiting* (staff replied, the customer's move); a customer entry
on a Waiting or Solved incident moves it to *Updated* (type Unresolved). Private notes change nothing.
A status of type Solved stamps ``closedTime``; leaving it clears the stamp.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, func, insert, inspect, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from simulators.customer_connect import model
from simulators.customer_connect.roql import Expr, QueryError, SelectQuery
from simulators.customer_connect.tables import (
    REF_COLUMNS,
    cc_contacts,
    cc_incidents,
    cc_reference_counters,
    cc_status_types,
    cc_statuses,
    cc_threads,
    metadata,
)
from simulators.customer_connect.tabular import INCIDENTS, compile_where, run_query

__all__ = [
    "ContactRow",
    "IncidentRow",
    "IncidentStore",
    "InvalidRequest",
    "NewThread",
    "NotFound",
    "StoreError",
    "ThreadRow",
    "metadata",
]


class StoreError(Exception):
    """Base of the store's refusals."""


class NotFound(StoreError):
    pass


class InvalidRequest(StoreError):
    pass


@dataclass(frozen=True, slots=True)
class ContactRow:
    id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None

    @property
    def lookup_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True, slots=True)
class IncidentRow:
    id: int
    reference_number: str
    subject: str
    status_id: int
    primary_contact: ContactRow | None
    channel_id: int
    category_id: int | None
    account_number: str | None
    created_time: dt.datetime
    updated_time: dt.datetime
    closed_time: dt.datetime | None
    # Field in tables.REF_COLUMNS (product, severity, assignedTo.account …) → the referenced id or None.
    refs: Mapping[str, int | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ThreadRow:
    id: int
    incident_id: int
    entry_type_id: int
    channel_id: int
    contact_id: int | None
    account_name: str | None
    text: str
    content_type: str
    display_order: int
    created_time: dt.datetime


@dataclass(frozen=True, slots=True)
class NewThread:
    """A thread to add: staff-authored entries carry ``account_name``, customer ones ``contact_id``."""

    entry_type_id: int
    text: str
    channel_id: int | None = None
    account_name: str | None = None
    contact_id: int | None = None
    content_type: str = "text/plain"


def _naive_utc(when: dt.datetime) -> dt.datetime:
    if when.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return when.astimezone(dt.UTC).replace(tzinfo=None)


def _aware(when: dt.datetime | None) -> dt.datetime | None:
    return None if when is None else when.replace(tzinfo=dt.UTC)


def _system_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _ref_values(refs: Mapping[str, int | None] | None) -> dict[str, int | None]:
    unknown = set(refs or {}) - set(REF_COLUMNS)
    if unknown:
        raise InvalidRequest(f"incidents have no reference field {sorted(unknown)[0]!r}")
    return {REF_COLUMNS[name]: value for name, value in (refs or {}).items()}


# The collection's orderBy keys (a real site orders its collections by a few indexed fields only).
_ORDERABLE = {"id", "createdtime", "updatedtime", "lookupname", "referencenumber"}


def _add_missing_columns(conn: Any) -> None:
    """Bring a database made by an older simulator up to the current tables (new columns are nullable)."""
    inspector = inspect(conn)
    for table in metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


class IncidentStore:
    """Async access to the simulator's SQLite database; one write at a time (single-process simulator)."""

    def __init__(self, database: str | Path, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.database = Path(database)
        self.clock = clock or _system_now
        self._engine: AsyncEngine | None = None
        # SQLite allows one writer; serialising writes here avoids "database is locked" retries.
        self._write_lock = asyncio.Lock()

    # -- lifecycle --
    async def start(self) -> None:
        if self._engine is not None:
            return
        engine = create_async_engine(f"sqlite+aiosqlite:///{self.database}")

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.run_sync(_add_missing_columns)
            for t in model.STATUS_TYPES.values():
                await conn.execute(
                    sqlite_insert(cc_status_types)
                    .values(id=t.id, lookup_name=t.lookup_name)
                    .on_conflict_do_nothing()
                )
            for status, stype in model.STATUSES.values():
                await conn.execute(
                    sqlite_insert(cc_statuses)
                    .values(id=status.id, lookup_name=status.lookup_name, status_type_id=stype.id)
                    .on_conflict_do_nothing()
                )
        self._engine = engine

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("IncidentStore.start() was not called")
        return self._engine

    def now(self) -> dt.datetime:
        return self.clock().astimezone(dt.UTC)

    # -- contacts --
    async def create_contact(
        self, first_name: str, last_name: str, email: str | None = None, phone: str | None = None
    ) -> ContactRow:
        async with self._write_lock, self.engine.begin() as conn:
            return await self._find_or_create_contact(conn, first_name, last_name, email, phone)

    async def get_contact(self, contact_id: int) -> ContactRow:
        async with self.engine.connect() as conn:
            contact = await self._contact(conn, contact_id)
        if contact is None:
            raise NotFound(f"contact {contact_id} does not exist")
        return contact

    async def find_contacts(self, lookup_name: str) -> list[ContactRow]:
        """Contacts whose lookupName ("First Last") is ``lookup_name``, ignoring case, lowest id first."""
        name = func.lower(INCIDENTS.field("primaryContact.lookupName").sql)
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(cc_contacts).where(name == lookup_name.strip().lower()).order_by(cc_contacts.c.id)
            )
            return [ContactRow(r.id, r.first_name, r.last_name, r.email, r.phone) for r in rows]

    async def contacts_page(self, *, limit: int, offset: int) -> tuple[list[ContactRow], bool]:
        """One page of contacts in id order, and whether more follow."""
        stmt = select(cc_contacts).order_by(cc_contacts.c.id).limit(limit + 1).offset(offset)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        contacts = [ContactRow(r.id, r.first_name, r.last_name, r.email, r.phone) for r in rows[:limit]]
        return contacts, len(rows) > limit

    async def run_queries(self, queries: Sequence[SelectQuery]) -> list[dict[str, Any]]:
        """The ``queryResults`` items of ROQL tabular statements, read in one snapshot."""
        async with self.engine.connect() as conn:
            return [await conn.run_sync(run_query, q) for q in queries]

    async def _contact(self, conn: AsyncConnection, contact_id: int | None) -> ContactRow | None:
        if contact_id is None:
            return None
        row = (await conn.execute(select(cc_contacts).where(cc_contacts.c.id == contact_id))).first()
        if row is None:
            return None
        return ContactRow(row.id, row.first_name, row.last_name, row.email, row.phone)

    async def _find_or_create_contact(
        self, conn: AsyncConnection, first: str, last: str, email: str | None, phone: str | None
    ) -> ContactRow:
        if email:
            row = (
                await conn.execute(
                    select(cc_contacts).where(func.lower(cc_contacts.c.email) == email.lower())
                )
            ).first()
            if row is not None:
                return ContactRow(row.id, row.first_name, row.last_name, row.email, row.phone)
        new_id = (
            await conn.execute(
                insert(cc_contacts)
                .values(
                    first_name=first,
                    last_name=last,
                    email=email,
                    phone=phone,
                    created_time=_naive_utc(self.now()),
                )
                .returning(cc_contacts.c.id)
            )
        ).scalar_one()
        return ContactRow(new_id, first, last, email, phone)

    # -- incidents --
    async def _next_reference(self, conn: AsyncConnection, created: dt.datetime) -> tuple[str, int]:
        day = model.reference_day(created)
        await conn.execute(
            sqlite_insert(cc_reference_counters).values(day=day, last=0).on_conflict_do_nothing()
        )
        seq = (
            await conn.execute(
                update(cc_reference_counters)
                .where(cc_reference_counters.c.day == day)
                .values(last=cc_reference_counters.c.last + 1)
                .returning(cc_reference_counters.c.last)
            )
        ).scalar_one()
        if seq > model.MAX_DAILY_SEQUENCE:
            raise InvalidRequest(f"the site has used every reference number for {day}")
        return day, seq

    async def create_incident(
        self,
        subject: str,
        *,
        contact_id: int | None = None,
        channel_id: int = model.API_CHANNEL.id,
        category_id: int | None = None,
        account_number: str | None = None,
        status_id: int = model.UNRESOLVED.id,
        threads: Sequence[NewThread] = (),
        created: dt.datetime | None = None,
        source_message_id: str | None = None,
        refs: Mapping[str, int | None] | None = None,
    ) -> IncidentRow:
        self._check_status(status_id)
        created_at = (created or self.now()).astimezone(dt.UTC)
        async with self._write_lock, self.engine.begin() as conn:
            if contact_id is not None and await self._contact(conn, contact_id) is None:
                raise InvalidRequest(f"contact {contact_id} does not exist")
            day, seq = await self._next_reference(conn, created_at)
            stamp = _naive_utc(created_at)
            incident_id = (
                await conn.execute(
                    insert(cc_incidents)
                    .values(
                        reference_number=model.format_reference(day, seq),
                        ref_day=day,
                        ref_seq=seq,
                        subject=subject,
                        status_id=status_id,
                        primary_contact_id=contact_id,
                        channel_id=channel_id,
                        category_id=category_id,
                        account_number=account_number,
                        source_message_id=source_message_id,
                        created_time=stamp,
                        updated_time=stamp,
                        closed_time=stamp if self._is_solved(status_id) else None,
                        **_ref_values(refs),
                    )
                    .returning(cc_incidents.c.id)
                )
            ).scalar_one()
            for thread in threads:
                await self._insert_thread(conn, incident_id, thread, created_at, channel_id)
            return await self._incident(conn, incident_id)

    async def get_incident(self, incident_id: int) -> IncidentRow:
        async with self.engine.connect() as conn:
            return await self._incident(conn, incident_id)

    async def find_by_reference(self, reference: str) -> IncidentRow:
        async with self.engine.connect() as conn:
            found = (
                await conn.execute(
                    select(cc_incidents.c.id).where(cc_incidents.c.reference_number == reference)
                )
            ).scalar_one_or_none()
            if found is None:
                raise NotFound(f"no incident has reference number {reference}")
            return await self._incident(conn, found)

    async def _incident(self, conn: AsyncConnection, incident_id: int) -> IncidentRow:
        row = (await conn.execute(select(cc_incidents).where(cc_incidents.c.id == incident_id))).first()
        if row is None:
            raise NotFound(f"incident {incident_id} does not exist")
        created, updated = _aware(row.created_time), _aware(row.updated_time)
        assert created is not None and updated is not None
        return IncidentRow(
            id=row.id,
            reference_number=row.reference_number,
            subject=row.subject,
            status_id=row.status_id,
            primary_contact=await self._contact(conn, row.primary_contact_id),
            channel_id=row.channel_id,
            category_id=row.category_id,
            account_number=row.account_number,
            created_time=created,
            updated_time=updated,
            closed_time=_aware(row.closed_time),
            refs={name: getattr(row, column) for name, column in REF_COLUMNS.items()},
        )

    async def query(
        self,
        where: Expr | None = None,
        *,
        order_by: str = "id",
        descending: bool = False,
        limit: int = 1000,
        offset: int = 0,
    ) -> tuple[list[IncidentRow], bool]:
        """Incidents matching ``where``, one page, and whether more follow."""
        key = order_by.lower()
        if key not in _ORDERABLE:
            raise QueryError(f"cannot order by {order_by!r}")
        column = INCIDENTS.field(key).sql
        stmt = (
            select(cc_incidents.c.id)
            .select_from(INCIDENTS.source)
            .order_by(
                column.desc() if descending else column.asc(),
                cc_incidents.c.id.desc() if descending else cc_incidents.c.id.asc(),
            )
        )
        if where is not None:
            stmt = stmt.where(compile_where(where))
        stmt = stmt.limit(limit + 1).offset(offset)
        async with self.engine.connect() as conn:
            ids = list((await conn.execute(stmt)).scalars())
            rows = [await self._incident(conn, i) for i in ids[:limit]]
        return rows, len(ids) > limit

    async def update_incident(
        self,
        incident_id: int,
        *,
        subject: str | None = None,
        status_id: int | None = None,
        threads: Sequence[NewThread] = (),
        refs: Mapping[str, int | None] | None = None,
        contact_id: int | None = None,
        category_id: int | None = None,
        channel_id: int | None = None,
        account_number: str | None = None,
    ) -> IncidentRow:
        """Apply a PATCH: new subject, explicit status, threads (with their automatic status moves), and
        new references (``refs`` as in :data:`tables.REF_COLUMNS`, contact, category, channel, account)."""
        values: dict[str, Any] = _ref_values(refs)
        for column, value in (
            ("primary_contact_id", contact_id),
            ("category_id", category_id),
            ("channel_id", channel_id),
            ("account_number", account_number),
        ):
            if value is not None:
                values[column] = value
        row, _ = await self._update(
            incident_id, subject=subject, status_id=status_id, threads=threads, values=values
        )
        return row

    async def _update(
        self,
        incident_id: int,
        *,
        subject: str | None = None,
        status_id: int | None = None,
        threads: Sequence[NewThread] = (),
        values: Mapping[str, Any] | None = None,
    ) -> tuple[IncidentRow, list[int]]:
        if status_id is not None:
            self._check_status(status_id)
        now = self.now()
        changes = dict(values or {})
        async with self._write_lock, self.engine.begin() as conn:
            current = await self._incident(conn, incident_id)
            contact_id = changes.get("primary_contact_id")
            if contact_id is not None and await self._contact(conn, contact_id) is None:
                raise InvalidRequest(f"contact {contact_id} does not exist")
            new_status = current.status_id
            thread_ids = []
            for thread in threads:
                thread_ids.append(
                    await self._insert_thread(conn, incident_id, thread, now, current.channel_id)
                )
                new_status = self._status_after_thread(new_status, thread.entry_type_id)
            # An explicit status in the same request wins over the automatic move.
            if status_id is not None:
                new_status = status_id
            new_values = {**changes, "updated_time": _naive_utc(now), "status_id": new_status}
            if subject is not None:
                new_values["subject"] = subject
            if new_status != current.status_id:
                solved = self._is_solved(new_status)
                if solved and not self._is_solved(current.status_id):
                    new_values["closed_time"] = _naive_utc(now)
                elif not solved:
                    new_values["closed_time"] = None
            await conn.execute(
                update(cc_incidents).where(cc_incidents.c.id == incident_id).values(**new_values)
            )
            return await self._incident(conn, incident_id), thread_ids

    async def add_thread(self, incident_id: int, thread: NewThread) -> ThreadRow:
        """Add one thread (the ``threads`` sub-resource POST); status moves as in :meth:`update_incident`."""
        _, (thread_id,) = await self._update(incident_id, threads=[thread])
        return next(t for t in await self.list_threads(incident_id) if t.id == thread_id)

    async def delete_incident(self, incident_id: int) -> None:
        async with self._write_lock, self.engine.begin() as conn:
            result = await conn.execute(delete(cc_incidents).where(cc_incidents.c.id == incident_id))
            if result.rowcount == 0:
                raise NotFound(f"incident {incident_id} does not exist")

    # -- threads --
    async def list_threads(self, incident_id: int) -> list[ThreadRow]:
        async with self.engine.connect() as conn:
            await self._incident(conn, incident_id)  # 404 for a missing incident, not an empty list
            rows = await conn.execute(
                select(cc_threads)
                .where(cc_threads.c.incident_id == incident_id)
                .order_by(cc_threads.c.display_order)
            )
            return [
                ThreadRow(
                    id=r.id,
                    incident_id=r.incident_id,
                    entry_type_id=r.entry_type_id,
                    channel_id=r.channel_id,
                    contact_id=r.contact_id,
                    account_name=r.account_name,
                    text=r.text,
                    content_type=r.content_type,
                    display_order=r.display_order,
                    created_time=r.created_time.replace(tzinfo=dt.UTC),
                )
                for r in rows
            ]

    async def _insert_thread(
        self,
        conn: AsyncConnection,
        incident_id: int,
        thread: NewThread,
        when: dt.datetime,
        default_channel: int,
    ) -> int:
        if thread.entry_type_id not in model.ENTRY_TYPES:
            raise InvalidRequest(f"unknown thread entry type {thread.entry_type_id}")
        if not thread.text.strip():
            raise InvalidRequest("a thread needs text")
        if thread.contact_id is not None and await self._contact(conn, thread.contact_id) is None:
            raise InvalidRequest(f"contact {thread.contact_id} does not exist")
        order = (
            await conn.execute(
                select(func.coalesce(func.max(cc_threads.c.display_order), 0)).where(
                    cc_threads.c.incident_id == incident_id
                )
            )
        ).scalar_one()
        result = await conn.execute(
            insert(cc_threads)
            .values(
                incident_id=incident_id,
                entry_type_id=thread.entry_type_id,
                channel_id=thread.channel_id or default_channel,
                contact_id=thread.contact_id,
                account_name=thread.account_name,
                text=thread.text,
                content_type=thread.content_type,
                display_order=order + 1,
                created_time=_naive_utc(when),
            )
            .returning(cc_threads.c.id)
        )
        return int(result.scalar_one())

    # -- status rules --
    @staticmethod
    def _check_status(status_id: int) -> None:
        if status_id not in model.STATUSES:
            raise InvalidRequest(f"unknown status {status_id}")

    @staticmethod
    def _is_solved(status_id: int) -> bool:
        return model.STATUSES[status_id][1] == model.SOLVED_TYPE

    @staticmethod
    def _status_after_thread(status_id: int, entry_type_id: int) -> int:
        status_type = model.STATUSES[status_id][1]
        if entry_type_id == model.STAFF_RESPONSE.id and status_type == model.UNRESOLVED_TYPE:
            return model.WAITING.id
        if entry_type_id in model.CUSTOMER_ENTRY_TYPES and status_type != model.UNRESOLVED_TYPE:
            return model.UPDATED.id
        return status_id

    # -- seeding --
    async def count_incidents(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(cc_incidents))).scalar_one())

    async def has_message(self, message_id: str) -> bool:
        async with self.engine.connect() as conn:
            stmt = select(cc_incidents.c.id).where(cc_incidents.c.source_message_id == message_id)
            return (await conn.execute(stmt)).first() is not None
