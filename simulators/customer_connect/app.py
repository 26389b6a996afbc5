"""The simulated Connect REST API (v1.4) for incidents, threads and contacts, as a Litestar app.

Paths and shapes follow ccb-domain.md §3: ``GET/POST /services/rest/connect/v1.4/incidents``,
``GET/PATCH/DELETE …/incidents/{id}``. Collections answer ``{"items": [...], "hasMore": …, "links": […]}``
with one ``{id, lookupName, createdTime, updatedTime, links}`` row per incident, as the real collection
GET does; a client reads each incident it needs by id. ``q`` takes a ROQL where clause
(:mod:`.roql`), which is also how an incident is found by its reference number
(``q=referenceNumber='240305-000012'``; ``lookupName`` is the reference number too).

Threads are readable and writable as the sub-resource ``…/incidents/{id}/threads`` and can also be sent
inside a POST or PATCH of the incident, as the real API accepts. PATCH answers 200 with an empty body;
clients that cannot send PATCH may POST with ``X-HTTP-Method-Override: PATCH`` (or ``DELETE``).

Every route needs HTTP Basic credentials of the one configured API user (401 otherwise). Errors are JSON
problem documents (``type``, ``title``, ``status``, ``detail``, ``instance``, ``o:errorCode``); a
malformed body, an unknown field, a bad ``q`` or an unknown status or entry type is a 400.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request, Response, Router, delete, get, patch, post
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, QueryParameter

from simulators.customer_connect import model
from simulators.customer_connect.contact_us import generate_contact_us, ingest_contact_us
from simulators.customer_connect.roql import QueryError, parse_where
from simulators.customer_connect.store import (
    ContactRow,
    IncidentRow,
    IncidentStore,
    InvalidRequest,
    NewThread,
    NotFound,
    ThreadRow,
)

__all__ = ["SimulatorConfig", "create_app"]

MAX_LIMIT = 20_000  # the real API's ceiling on rows per collection page


@dataclass(slots=True)
class SimulatorConfig:
    database: Path
    user: str
    password: str
    generate: int = 0
    seed: int = 0
    clock: Any = field(default=None)  # a () -> aware datetime; None = system clock


# -- request bodies --
class NamedRef(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    id: int | None = None
    lookup_name: str | None = None


class StatusWithTypeIn(msgspec.Struct, forbid_unknown_fields=True):
    status: NamedRef


class ThreadIn(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    entry_type: NamedRef
    text: str
    channel: NamedRef | None = None
    content_type: NamedRef | None = None
    contact: NamedRef | None = None


class CustomFieldsIn(msgspec.Struct, forbid_unknown_fields=True):
    c: dict[str, str | None] = {}


class IncidentIn(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    subject: str
    primary_contact: NamedRef | None = None
    status_with_type: StatusWithTypeIn | None = None
    channel: NamedRef | None = None
    category: NamedRef | None = None
    custom_fields: CustomFieldsIn | None = None
    threads: list[ThreadIn] = []


class IncidentPatchIn(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    subject: str | None = None
    status_with_type: StatusWithTypeIn | None = None
    threads: list[ThreadIn] = []


class PersonName(msgspec.Struct, forbid_unknown_fields=True):
    first: str
    last: str = ""


class EmailIn(msgspec.Struct, rename="camel"):
    address: str


class PhoneIn(msgspec.Struct, rename="camel"):
    number: str


class ContactIn(msgspec.Struct, forbid_unknown_fields=True):
    name: PersonName
    emails: list[EmailIn] = []
    phones: list[PhoneIn] = []


# -- errors --
class ConnectProblem(HTTPException):
    """An error answered as a Connect-style problem document."""

    def __init__(self, status: int, detail: str, code: str) -> None:
        super().__init__(status_code=status, detail=detail)
        self.code = code


def bad_request(detail: str) -> ConnectProblem:
    return ConnectProblem(400, detail, "OSC-CREST-00004")


def _problem(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, HTTPException):
        status, detail = exc.status_code, exc.detail
        code = getattr(exc, "code", f"OSC-CREST-{status:05d}")
        headers = dict(exc.headers or {})
    else:  # pragma: no cover - a bug in the simulator, still answered in the API's own format
        status, detail, code, headers = 500, "internal error", "OSC-CREST-00500", {}
    titles = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed"}
    body = {
        "type": f"https://www.rfc-editor.org/rfc/rfc9110#status.{status}",
        "title": titles.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "o:errorCode": code,
    }
    return Response(body, status_code=status, headers=headers, media_type="application/problem+json")


def _store_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, NotFound):
        return _problem(request, ConnectProblem(404, str(exc), "OSC-CREST-00003"))
    return _problem(request, bad_request(str(exc)))


# -- auth --
def basic_auth_guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    """The real site takes an account's credentials as HTTP Basic; this one knows a single API user."""
    config: SimulatorConfig = connection.app.state.config
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    ok = False
    if scheme.lower() == "basic" and token:
        try:
            user, _, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, password = "", ""
        # Compare both parts every time so a wrong user and a wrong password take the same path.
        user_ok = secrets.compare_digest(user.encode(), config.user.encode())
        password_ok = secrets.compare_digest(password.encode(), config.password.encode())
        ok = user_ok and password_ok
    if not ok:
        raise NotAuthorizedException(
            detail="valid credentials are required", headers={"WWW-Authenticate": 'Basic realm="Connect"'}
        )


# -- representation --
def _time(when: dt.datetime | None) -> str | None:
    if when is None:
        return None
    utc = when.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _named(item: model.Named | None) -> dict[str, Any] | None:
    return None if item is None else {"id": item.id, "lookupName": item.lookup_name}


def _base(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/") + model.API_PREFIX


def _contact_ref(request: Request[Any, Any, Any], contact: ContactRow | None) -> dict[str, Any] | None:
    if contact is None:
        return None
    href = f"{_base(request)}/contacts/{contact.id}"
    return {"id": contact.id, "lookupName": contact.lookup_name, "links": [{"rel": "self", "href": href}]}


def incident_summary(request: Request[Any, Any, Any], row: IncidentRow) -> dict[str, Any]:
    href = f"{_base(request)}/incidents/{row.id}"
    return {
        "id": row.id,
        "lookupName": row.reference_number,
        "createdTime": _time(row.created_time),
        "updatedTime": _time(row.updated_time),
        "links": [{"rel": "canonical", "href": href}],
    }


def incident_document(request: Request[Any, Any, Any], row: IncidentRow) -> dict[str, Any]:
    href = f"{_base(request)}/incidents/{row.id}"
    status, status_type = model.STATUSES[row.status_id]
    return {
        "id": row.id,
        "lookupName": row.reference_number,
        "referenceNumber": row.reference_number,
        "subject": row.subject,
        "createdTime": _time(row.created_time),
        "updatedTime": _time(row.updated_time),
        "closedTime": _time(row.closed_time),
        "statusWithType": {"status": _named(status), "statusType": _named(status_type)},
        "primaryContact": _contact_ref(request, row.primary_contact),
        "channel": _named(model.CHANNELS.get(row.channel_id)),
        "category": _named(model.CATEGORIES_BY_ID.get(row.category_id or 0)),
        "customFields": {"c": {"account_number": row.account_number}},
        "threads": {"links": [{"rel": "full", "href": f"{href}/threads"}]},
        "links": [
            {"rel": "self", "href": href},
            {"rel": "canonical", "href": href},
            {"rel": "describedby", "href": f"{_base(request)}/metadata-catalog/incidents"},
        ],
    }


def thread_document(request: Request[Any, Any, Any], row: ThreadRow) -> dict[str, Any]:
    href = f"{_base(request)}/incidents/{row.incident_id}/threads/{row.id}"
    return {
        "id": row.id,
        "entryType": _named(model.ENTRY_TYPES[row.entry_type_id]),
        "channel": _named(model.CHANNELS.get(row.channel_id)),
        "contentType": {"lookupName": row.content_type},
        "createdTime": _time(row.created_time),
        "displayOrder": row.display_order,
        "text": row.text,
        "account": None if row.account_name is None else {"lookupName": row.account_name},
        "contact": None if row.contact_id is None else {"id": row.contact_id},
        "links": [{"rel": "self", "href": href}],
    }


# -- input resolution --
async def _decode(request: Request[Any, Any, Any], kind: type[Any]) -> Any:
    body = await request.body()
    try:
        return msgspec.json.decode(body, type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise bad_request(f"invalid request body: {exc}") from None


def _status_id(ref: StatusWithTypeIn) -> int:
    if ref.status.id is not None:
        if ref.status.id not in model.STATUSES:
            raise bad_request(f"unknown status id {ref.status.id}")
        return ref.status.id
    if ref.status.lookup_name:
        found = model.status_by_name(ref.status.lookup_name)
        if found is None:
            raise bad_request(f"unknown status {ref.status.lookup_name!r}")
        return found.id
    raise bad_request("statusWithType.status needs an id or a lookupName")


def _entry_type_id(ref: NamedRef) -> int:
    if ref.id is not None:
        if ref.id not in model.ENTRY_TYPES:
            raise bad_request(f"unknown thread entry type id {ref.id}")
        return ref.id
    found = model.entry_type_by_name(ref.lookup_name or "")
    if found is None:
        raise bad_request(f"unknown thread entry type {ref.lookup_name!r}")
    return found.id


def _channel_id(ref: NamedRef | None) -> int | None:
    if ref is None:
        return None
    if ref.id is not None and ref.id in model.CHANNELS:
        return ref.id
    name = (ref.lookup_name or "").lower()
    found = next((c for c in model.CHANNELS.values() if c.lookup_name.lower() == name), None)
    if found is None:
        raise bad_request(f"unknown channel {ref.id or ref.lookup_name!r}")
    return found.id


def _new_threads(
    request: Request[Any, Any, Any], threads: list[ThreadIn], contact: ContactRow | None
) -> list[NewThread]:
    out = []
    for t in threads:
        entry = _entry_type_id(t.entry_type)
        if not t.text.strip():
            raise bad_request("a thread needs text")
        staff = entry in model.STAFF_ENTRY_TYPES
        contact_id = t.contact.id if t.contact and t.contact.id is not None else None
        if not staff and contact_id is None and contact is not None:
            contact_id = contact.id
        content_type = t.content_type.lookup_name if t.content_type and t.content_type.lookup_name else None
        out.append(
            NewThread(
                entry_type_id=entry,
                text=t.text,
                channel_id=_channel_id(t.channel),
                account_name=request.app.state.config.user if staff else None,
                contact_id=contact_id,
                content_type=content_type or "text/plain",
            )
        )
    return out


def _store(request: Request[Any, Any, Any]) -> IncidentStore:
    store: IncidentStore = request.app.state.store
    return store


def _json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(content, status_code=status, headers=headers, media_type="application/json")


# -- incidents --
@get("/incidents")
async def list_incidents(
    request: Request[Any, Any, Any],
    q: Annotated[str | None, QueryParameter(name="q")] = None,
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=MAX_LIMIT)] = MAX_LIMIT,
    offset: Annotated[int, QueryParameter(name="offset", ge=0)] = 0,
    order_by: Annotated[str | None, QueryParameter(name="orderBy")] = None,
) -> Response[Any]:
    try:
        where = parse_where(q) if q is not None else None
        key, _, direction = (order_by or "id").partition(":")
        if direction.lower() not in {"", "asc", "desc"}:
            raise QueryError(f"orderBy direction must be asc or desc, not {direction!r}")
        rows, has_more = await _store(request).query(
            where, order_by=key, descending=direction.lower() == "desc", limit=limit, offset=offset
        )
    except QueryError as exc:
        raise bad_request(str(exc)) from None
    return _json(
        {
            "items": [incident_summary(request, r) for r in rows],
            "hasMore": has_more,
            "links": [{"rel": "self", "href": str(request.url)}],
        }
    )


@get("/incidents/{incident_id:int}")
async def read_incident(request: Request[Any, Any, Any], incident_id: FromPath[int]) -> Response[Any]:
    return _json(incident_document(request, await _store(request).get_incident(incident_id)))


@post("/incidents")
async def create_incident(request: Request[Any, Any, Any]) -> Response[Any]:
    body: IncidentIn = await _decode(request, IncidentIn)
    if not body.subject.strip():
        raise bad_request("subject must not be empty")
    store = _store(request)
    contact = None
    if body.primary_contact is not None:
        if body.primary_contact.id is None:
            raise bad_request("primaryContact needs an id")
        try:
            contact = await store.get_contact(body.primary_contact.id)
        except NotFound:
            raise bad_request(f"contact {body.primary_contact.id} does not exist") from None
    category_id = None
    if body.category is not None:
        if body.category.id not in model.CATEGORIES_BY_ID:
            raise bad_request(f"unknown category {body.category.id}")
        category_id = body.category.id
    account = (body.custom_fields.c.get("account_number") if body.custom_fields else None) or None
    row = await store.create_incident(
        body.subject[:240],
        contact_id=contact.id if contact else None,
        channel_id=_channel_id(body.channel) or model.API_CHANNEL.id,
        category_id=category_id,
        account_number=account,
        status_id=_status_id(body.status_with_type) if body.status_with_type else model.UNRESOLVED.id,
        threads=_new_threads(request, body.threads, contact),
    )
    location = f"{_base(request)}/incidents/{row.id}"
    return _json(incident_document(request, row), 201, {"Location": location})


async def _patch(request: Request[Any, Any, Any], incident_id: int) -> Response[Any]:
    body: IncidentPatchIn = await _decode(request, IncidentPatchIn)
    if body.subject is not None and not body.subject.strip():
        raise bad_request("subject must not be empty")
    store = _store(request)
    current = await store.get_incident(incident_id)
    await store.update_incident(
        incident_id,
        subject=body.subject[:240] if body.subject else None,
        status_id=_status_id(body.status_with_type) if body.status_with_type else None,
        threads=_new_threads(request, body.threads, current.primary_contact),
    )
    # The real API answers a successful update with 200 and no body.
    return Response(b"", status_code=200)


@patch("/incidents/{incident_id:int}")
async def update_incident(request: Request[Any, Any, Any], incident_id: FromPath[int]) -> Response[Any]:
    return await _patch(request, incident_id)


@delete("/incidents/{incident_id:int}", status_code=200)
async def delete_incident(request: Request[Any, Any, Any], incident_id: FromPath[int]) -> Response[Any]:
    await _store(request).delete_incident(incident_id)
    return Response(b"", status_code=200)


@post("/incidents/{incident_id:int}")
async def override_incident(request: Request[Any, Any, Any], incident_id: FromPath[int]) -> Response[Any]:
    """POST with ``X-HTTP-Method-Override`` stands in for PATCH or DELETE (for clients without them)."""
    method = request.headers.get("x-http-method-override", "").upper()
    if method == "PATCH":
        return await _patch(request, incident_id)
    if method == "DELETE":
        await _store(request).delete_incident(incident_id)
        return Response(b"", status_code=200)
    raise ConnectProblem(
        405, "POST on an incident needs X-HTTP-Method-Override: PATCH or DELETE", "OSC-CREST-00405"
    )


# -- threads --
@get("/incidents/{incident_id:int}/threads")
async def list_threads(request: Request[Any, Any, Any], incident_id: FromPath[int]) -> Response[Any]:
    threads = await _store(request).list_threads(incident_id)
    return _json(
        {
            "items": [thread_document(request, t) for t in threads],
            "hasMore": False,
            "links": [{"rel": "self", "href": str(request.url)}],
        }
    )


@get("/incidents/{incident_id:int}/threads/{thread_id:int}")
async def read_thread(
    request: Request[Any, Any, Any], incident_id: FromPath[int], thread_id: FromPath[int]
) -> Response[Any]:
    for thread in await _store(request).list_threads(incident_id):
        if thread.id == thread_id:
            return _json(thread_document(request, thread))
    raise NotFound(f"incident {incident_id} has no thread {thread_id}")


@post("/incidents/{incident_id:int}/threads")
async def add_thread(request: Request[Any, Any, Any], incident_id: FromPath[int]) -> Response[Any]:
    body: ThreadIn = await _decode(request, ThreadIn)
    store = _store(request)
    current = await store.get_incident(incident_id)
    (new,) = _new_threads(request, [body], current.primary_contact)
    row = await store.add_thread(incident_id, new)
    return _json(
        thread_document(request, row), 201, {"Location": thread_document(request, row)["links"][0]["href"]}
    )


# -- contacts --
def contact_document(request: Request[Any, Any, Any], row: ContactRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "lookupName": row.lookup_name,
        "name": {"first": row.first_name, "last": row.last_name},
        "emails": [] if row.email is None else [{"address": row.email, "addressType": {"id": 0}}],
        "phones": [] if row.phone is None else [{"number": row.phone}],
        "links": [{"rel": "self", "href": f"{_base(request)}/contacts/{row.id}"}],
    }


@post("/contacts")
async def create_contact(request: Request[Any, Any, Any]) -> Response[Any]:
    body: ContactIn = await _decode(request, ContactIn)
    if not body.name.first.strip():
        raise bad_request("name.first must not be empty")
    row = await _store(request).create_contact(
        body.name.first,
        body.name.last,
        body.emails[0].address if body.emails else None,
        body.phones[0].number if body.phones else None,
    )
    return _json(contact_document(request, row), 201)


@get("/contacts/{contact_id:int}")
async def read_contact(request: Request[Any, Any, Any], contact_id: FromPath[int]) -> Response[Any]:
    return _json(contact_document(request, await _store(request).get_contact(contact_id)))


def create_app(config: SimulatorConfig, *, store: IncidentStore | None = None) -> Litestar:
    """The simulator app; it opens (and creates) its database on startup and seeds ``config.generate``."""
    store = store or IncidentStore(config.database, clock=config.clock)

    async def startup(app: Litestar) -> None:
        await store.start()
        if config.generate:
            # Seeding is idempotent: messages already stored (same Message-ID) are skipped on restart.
            await ingest_contact_us(store, generate_contact_us(config.generate, config.seed, end=store.now()))

    async def shutdown(app: Litestar) -> None:
        await store.close()

    api = Router(
        path=model.API_PREFIX,
        guards=[basic_auth_guard],
        route_handlers=[
            list_incidents,
            read_incident,
            create_incident,
            update_incident,
            delete_incident,
            override_incident,
            list_threads,
            read_thread,
            add_thread,
            create_contact,
            read_contact,
        ],
    )
    app = Litestar(
        route_handlers=[api],
        on_startup=[startup],
        on_shutdown=[shutdown],
        exception_handlers={
            HTTPException: _problem,
            NotFound: _store_error,
            InvalidRequest: _store_error,
        },
        openapi_config=None,
    )
    app.state.config = config
    app.state.store = store
    return app
