"""ROQL over the simulator's tables: the fields each object exposes, where clauses, and tabular queries.

One catalog per queryable object (``incidents``, ``contacts``) maps a ROQL field name such as
``statusWithType.statusType.lookupName`` or ``primaryContact.id`` to a SQL expression. Fields that hold a
reference to one of the site's named lists (statuses, channels, categories, products …) are stored as an
id; a comparison on their ``id`` or ``lookupName`` is evaluated against the list in Python and becomes an
``IN`` on the id column, so ``product.lookupName = 'Billing'`` and ``product.id = 3`` select the same rows.

The same catalog serves the ``q=`` filter of collection GETs (:func:`compile_where`) and the
``queryResults`` resource (:func:`run_query`). Tabular results follow the documentation ("Run ROQL Tabular
Queries"): per statement one item with ``tableName``, ``count``, ``columnNames`` and ``rows``, every value
a string (``null`` when the field is empty); at most 20,000 rows per statement, the documented ceiling for
the operational database. Column names are returned as written in the query [~].
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, func, or_, select, true
from sqlalchemy.engine import Connection
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.elements import ColumnElement

from simulators.customer_connect import model
from simulators.customer_connect.roql import COUNT_ALL, BoolOp, Comparison, Expr, QueryError, SelectQuery
from simulators.customer_connect.tables import REF_COLUMNS, cc_contacts, cc_incidents

__all__ = [
    "CONTACTS",
    "INCIDENTS",
    "MAX_QUERY_ROWS",
    "Field",
    "ObjectCatalog",
    "compile_where",
    "connect_time",
    "object_catalog",
    "parse_time_literal",
    "run_query",
]

MAX_QUERY_ROWS = 20_000  # documented: a tabular query returns at most 20,000 rows from the operational DB


@dataclass(frozen=True, slots=True)
class Field:
    """A ROQL field. With ``names``, ``sql`` holds an id shown as the entry's ``id`` or ``lookupName``."""

    name: str
    sql: Any
    kind: str  # "int" | "str" | "time"
    names: Mapping[int, model.Named] | None = None
    show_name: bool = False


@dataclass(frozen=True, slots=True)
class ObjectCatalog:
    table_name: str
    source: FromClause
    key: Any
    fields: dict[str, Field]  # lower-cased name → field
    star: tuple[str, ...]  # what ``SELECT *`` expands to

    def field(self, name: str) -> Field:
        found = self.fields.get(name.lower())
        if found is None:
            raise QueryError(f"{self.table_name} has no field {name!r}")
        return found


def _named_fields(prefix: str, column: Any, names: Mapping[int, model.Named]) -> list[Field]:
    return [
        Field(f"{prefix}.id", column, "int", names),
        Field(f"{prefix}.lookupName", column, "str", names, show_name=True),
    ]


_STATUS_OF = {sid: status for sid, (status, _) in model.STATUSES.items()}
_STATUS_TYPE_OF = {sid: stype for sid, (_, stype) in model.STATUSES.items()}
_contact_name = func.trim(cc_contacts.c.first_name + " " + cc_contacts.c.last_name)


def _catalog(table_name: str, source: FromClause, key: Any, fields: list[Field], star: int) -> ObjectCatalog:
    return ObjectCatalog(
        table_name, source, key, {f.name.lower(): f for f in fields}, tuple(f.name for f in fields[:star])
    )


INCIDENTS = _catalog(
    "incidents",
    cc_incidents.outerjoin(cc_contacts, cc_incidents.c.primary_contact_id == cc_contacts.c.id),
    cc_incidents.c.id,
    [
        Field("id", cc_incidents.c.id, "int"),
        Field("lookupName", cc_incidents.c.reference_number, "str"),
        Field("referenceNumber", cc_incidents.c.reference_number, "str"),
        Field("subject", cc_incidents.c.subject, "str"),
        Field("createdTime", cc_incidents.c.created_time, "time"),
        Field("updatedTime", cc_incidents.c.updated_time, "time"),
        Field("closedTime", cc_incidents.c.closed_time, "time"),
        Field("primaryContact.id", cc_incidents.c.primary_contact_id, "int"),
        Field("primaryContact.lookupName", _contact_name, "str"),
        *_named_fields("statusWithType.status", cc_incidents.c.status_id, _STATUS_OF),
        *_named_fields("statusWithType.statusType", cc_incidents.c.status_id, _STATUS_TYPE_OF),
        *_named_fields("channel", cc_incidents.c.channel_id, model.CHANNELS),
        *_named_fields("category", cc_incidents.c.category_id, model.CATEGORIES_BY_ID),
        *(
            f
            for field, column in REF_COLUMNS.items()
            for f in _named_fields(field, cc_incidents.c[column], model.NAMED_LISTS[field])
        ),
        Field("customFields.c.account_number", cc_incidents.c.account_number, "str"),
    ],
    star=7,
)

CONTACTS = _catalog(
    "contacts",
    cc_contacts,
    cc_contacts.c.id,
    [
        Field("id", cc_contacts.c.id, "int"),
        Field("lookupName", _contact_name, "str"),
        Field("name.first", cc_contacts.c.first_name, "str"),
        Field("name.last", cc_contacts.c.last_name, "str"),
        Field("emails.address", cc_contacts.c.email, "str"),
        Field("phones.number", cc_contacts.c.phone, "str"),
        Field("createdTime", cc_contacts.c.created_time, "time"),
    ],
    star=7,
)

_OBJECTS = {"incidents": INCIDENTS, "incident": INCIDENTS, "contacts": CONTACTS, "contact": CONTACTS}


def object_catalog(name: str) -> ObjectCatalog:
    found = _OBJECTS.get(name.lower())
    if found is None:
        raise QueryError(f"unknown object {name!r}; this site answers ROQL on incidents and contacts")
    return found


# -- values --
def parse_time_literal(text: str) -> dt.datetime:
    """A Connect time literal (``2024-03-01T08:00:00Z``, optional fraction); a missing zone means UTC."""
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(f"not a time: {text!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def connect_time(when: dt.datetime | None) -> str | None:
    """Connect's time format: UTC, milliseconds, ``Z`` (naive values are the store's UTC)."""
    if when is None:
        return None
    utc = when.astimezone(dt.UTC) if when.tzinfo else when
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _like(pattern: str) -> re.Pattern[str]:
    # SQL LIKE: % any run, _ one character; SQLite compares ASCII case-insensitively, and so does this.
    parts = ("." * (ch == "_") or ".*" * (ch == "%") or re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _named_condition(f: Field, expr: Comparison) -> ColumnElement[bool]:
    assert f.names is not None
    value = expr.value
    if f.show_name:
        wanted = str(value).lower()
        if expr.op == "like":
            pattern = _like(str(value))
            ids = {k for k, n in f.names.items() if pattern.fullmatch(n.lookup_name)}
        elif expr.op in {"=", "!="}:
            ids = {k for k, n in f.names.items() if n.lookup_name.lower() == wanted}
        else:
            raise QueryError(f"{f.name} supports =, != and like")
    else:
        if not isinstance(value, int) or expr.op == "like":
            raise QueryError(f"{f.name} compares with a number")
        op = _OPS["=" if expr.op == "!=" else expr.op]
        ids = {k for k, n in f.names.items() if op(n.id, value)}
    if expr.op == "!=":
        return f.sql.not_in(ids) if ids else true()
    return f.sql.in_(ids) if ids else false()


def _condition(catalog: ObjectCatalog, expr: Comparison) -> ColumnElement[bool]:
    f = catalog.field(expr.field)
    if expr.op in {"is null", "is not null"}:
        condition: ColumnElement[bool] = f.sql.is_(None) if expr.op == "is null" else f.sql.is_not(None)
        return condition
    if f.names is not None:
        return _named_condition(f, expr)
    value: Any = expr.value
    if f.kind == "time":
        if not isinstance(value, str) or expr.op == "like":
            raise QueryError(f"{f.name} compares with a quoted time such as '2024-03-01T00:00:00Z'")
        value = parse_time_literal(value).astimezone(dt.UTC).replace(tzinfo=None)
    elif f.kind == "int":
        if not isinstance(value, int) or expr.op == "like":
            raise QueryError(f"{f.name} compares with a number")
    elif isinstance(value, int):
        value = str(value)
    if expr.op == "like":
        return f.sql.like(value)  # type: ignore[no-any-return]
    return _OPS[expr.op](f.sql, value)  # type: ignore[no-any-return]


def compile_where(expr: Expr, catalog: ObjectCatalog = INCIDENTS) -> ColumnElement[bool]:
    """Translate a parsed where clause into a SQLAlchemy condition on the catalog's ``source``."""
    if isinstance(expr, BoolOp):
        parts = [compile_where(item, catalog) for item in expr.items]
        return and_(*parts) if expr.op == "and" else or_(*parts)
    return _condition(catalog, expr)


def _show(f: Field, raw: Any) -> str | None:
    if raw is None:
        return None
    if f.names is not None:
        entry = f.names.get(int(raw))
        if entry is None:
            return None
        return entry.lookup_name if f.show_name else str(entry.id)
    if f.kind == "time":
        return connect_time(raw)
    return str(raw)


def run_query(conn: Connection, query: SelectQuery) -> dict[str, Any]:
    """One statement of a ``queryResults`` request, as its result item (runs on a sync connection)."""
    catalog = object_catalog(query.table)
    names = [c for column in query.columns for c in (catalog.star if column == "*" else (column,))]
    counting = COUNT_ALL in names
    if counting and len(names) > 1:
        raise QueryError("COUNT(*) cannot be combined with other columns")
    fields = [] if counting else [catalog.field(n) for n in names]
    selected = [func.count()] if counting else [f.sql for f in fields]
    stmt = select(*selected).select_from(catalog.source)
    if query.where is not None:
        stmt = stmt.where(compile_where(query.where, catalog))
    for name, descending in query.order_by:
        f = catalog.field(name)
        if f.show_name:
            raise QueryError(f"cannot order by {f.name}; order by its id instead")
        stmt = stmt.order_by(f.sql.desc() if descending else f.sql.asc())
    if not counting:
        stmt = stmt.order_by(catalog.key)  # a stable order when the query gives none or ties
        limit = MAX_QUERY_ROWS if query.limit is None else min(query.limit, MAX_QUERY_ROWS)
        stmt = stmt.limit(limit).offset(query.offset)
    rows = conn.execute(stmt).all()
    shown: list[list[str | None]]
    if counting:
        shown = [[str(rows[0][0])]]
    else:
        shown = [[_show(f, value) for f, value in zip(fields, row, strict=True)] for row in rows]
    return {"tableName": catalog.table_name, "count": len(shown), "columnNames": names, "rows": shown}
