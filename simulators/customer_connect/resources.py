"""The Connect REST resources the simulated site serves: incidents, their threads, and contacts.

Paths and shapes follow docs/ccb-domain.md §3 and the REST API for Accessing Data documentation:
``GET/POST …/incidents``, ``GET/PATCH/DELETE …/incidents/{id}``, ``…/incidents/{id}/threads``,
``GET/POST …/contacts`` and ``GET …/contacts/{id}``. Collections answer ``{"items": [...], "hasMore": …,
"links": […]}`` with one ``{id, lookupName, createdTime, updatedTime, links}`` row per item, as the real
collection GET does; a client reads each item it needs by id. ``q`` takes a ROQL where clause
(:mod:`.tabular`), which is also how an incident is found by its reference number
(``q=referenceNumber='240305-000012'``; ``lookupName`` is the reference number too). ``limit``/``offset``
page a collection; the documented default page size is 1,000 ("Manage Collections").

References to other objects are written as ``{"id": …}`` or ``{"lookupName": …}`` (a contact's lookupName
is "First Last"; an ambiguous or unknown name is a 400). An incident body may carry ``primaryContact``,
``statusWithType``, ``channel``, ``category``, ``product``, ``severity``, ``queue``, ``disposition``,
``language``, ``assignedTo`` (``account``, ``staffGroup``), ``customFields.c.account_number`` and
``threads``; everything is stored and read back. Threads are also writable as the sub-resource and can be
sent inside a POST or PATCH of the incident, as the real API accepts. PATCH answers 200 with an empty body;
clients that cannot send PATCH POST with ``X-HTTP-Method-Override: PATCH`` (or ``DELETE``).

An unknown field, a bad value or a reference to nothing is 400 with OSC-CREST-00006; a body that is not
JSON is OSC-CREST-00011, an empty POST OSC-CREST-00010 (the documented error table, :mod:`.errors`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, delete, get, patch, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, QueryParameter

from simulators.customer_connect import model
from simulators.customer_connect.errors import ConnectProblem, bad_query, bad_write
from simulators.customer_connect.roql import QueryError, parse_where
from simulators.customer_connect.store import (
    ContactRow,
    IncidentRow,
    IncidentStore,
    NewThread,
    NotFound,
    ThreadRow,
)
from simulators.customer_connect.tables import REF_COLUMNS
from simulators.customer_connect.tabular import connect_time

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "ROUTE_HANDLERS", "api_base", "json_response", "store_of"]

DEFAULT_LIMIT = 1_000  # documented default page size of a collection ("Manage Collections")
MAX_LIMIT = 20_000  # the most rows the site returns in one request


# -- request bodies --
class NamedRef(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    id: int | None = None
    lookup_name: str | None = None


class StatusWithTypeIn(msgspec.Struct, forbid_unknown_fields=True):
    status: NamedRef


class AssignedToIn(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    account: NamedRef | None = None
    staff_group: NamedRef | None = None


class ThreadIn(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    entry_type: NamedRef
    text: str
    channel: NamedRef | None = None
    content_type: NamedRef | None = None
    contact: NamedRef | None = None
    account: NamedRef | None = None


class CustomFieldsIn(msgspec.Struct, forbid_unknown_fields=True):
    c: dict[str, str | None] = {}


class IncidentIn(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    """A POST (``subject`` required) or PATCH (everything optional) of an incident."""

    subject: str | None = None
    primary_contact: NamedRef | None = None
    status_with_type: StatusWithTypeIn | None = None
    channel: NamedRef | None = None
    category: NamedRef | None = None
    product: NamedRef | None = None
    severity: NamedRef | None = None
    queue: NamedRef | None = None
    disposition: NamedRef | None = None
    language: NamedRef | None = None
    assigned_to: AssignedToIn | None = None
    custom_fields: CustomFieldsIn | None = None
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


# -- helpers --
def store_of(request: Request[Any, Any, Any]) -> IncidentStore:
    store: IncidentStore = request.app.state.store
    return store


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(content, status_code=status, headers=headers, media_type="application/json")


def api_base(request: Request[Any, Any, Any]) -> str:
    """``https://site/services/rest/connect/{version}`` of this request, for links."""
    version = request.path_params.get("version", model.LATEST)
    return f"{str(request.base_url).rstrip('/')}{model.API_ROOT}/{version}"


def _named(item: model.Named | None) -> dict[str, Any] | None:
    return None if item is None else {"id": item.id, "lookupName": item.lookup_name}


def _page_links(request: Request[Any, Any, Any], limit: int, offset: int, has_more: bool) -> list[Any]:
    links: list[dict[str, str]] = [{"rel": "self", "href": str(request.url)}]
    if has_more:
        # The next page is the same request with the offset moved on by one page.
        params = {**dict(request.query_params), "limit": str(limit), "offset": str(offset + limit)}
        links.append({"rel": "next", "href": str(request.url.with_replacements(query=urlencode(params)))})
    return links


async def _decode(request: Request[Any, Any, Any], kind: type[Any]) -> Any:
    body = await request.body()
    if not body.strip():
        raise ConnectProblem(400, "the request has no body", "OSC-CREST-00010")
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:
        raise bad_write(f"invalid request body: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ConnectProblem(400, f"the body is not JSON: {exc}", "OSC-CREST-00011") from None


# -- representation --
def _contact_ref(request: Request[Any, Any, Any], contact: ContactRow | None) -> dict[str, Any] | None:
    if contact is None:
        return None
    href = f"{api_base(request)}/contacts/{contact.id}"
    return {"id": contact.id, "lookupName": contact.lookup_name, "links": [{"rel": "self", "href": href}]}


def _ref(field: str, ref_id: int | None) -> dict[str, Any] | None:
    return _named(model.NAMED_LISTS[field].get(ref_id)) if ref_id is not None else None


def incident_summary(request: Request[Any, Any, Any], row: IncidentRow) -> dict[str, Any]:
    href = f"{api_base(request)}/incidents/{row.id}"
    return {
        "id": row.id,
        "lookupName": row.reference_number,
        "createdTime": connect_time(row.created_time),
        "updatedTime": connect_time(row.updated_time),
        "links": [{"rel": "canonical", "href": href}],
    }


def incident_document(request: Request[Any, Any, Any], row: IncidentRow) -> dict[str, Any]:
    href = f"{api_base(request)}/incidents/{row.id}"
    status, status_type = model.STATUSES[row.status_id]
    return {
        "id": row.id,
        "lookupName": row.reference_number,
        "referenceNumber": row.reference_number,
        "subject": row.subject,
        "createdTime": connect_time(row.created_time),
        "updatedTime": connect_time(row.updated_time),
        "closedTime": connect_time(row.closed_time),
        "statusWithType": {"status": _named(status), "statusType": _named(status_type)},
        "primaryContact": _contact_ref(request, row.primary_contact),
        "channel": _named(model.CHANNELS.get(row.channel_id)),
        "category": _named(model.CATEGORIES_BY_ID.get(row.category_id or 0)),
        "product": _ref("product", row.refs.get("product")),
        "severity": _ref("severity", row.refs.get("severity")),
        "queue": _ref("queue", row.refs.get("queue")),
        "disposition": _ref("disposition", row.refs.get("disposition")),
        "language": _ref("language", row.refs.get("language")),
        "assignedTo": {
            "account": _ref("assignedTo.account", row.refs.get("assignedTo.account")),
            "staffGroup": _ref("assignedTo.staffGroup", row.refs.get("assignedTo.staffGroup")),
        },
        "customFields": {"c": {"account_number": row.account_number}},
        "threads": {"links": [{"rel": "full", "href": f"{href}/threads"}]},
        "links": [
            {"rel": "self", "href": href},
            {"rel": "canonical", "href": href},
            {"rel": "describedby", "href": f"{api_base(request)}/metadata-catalog/incidents"},
        ],
    }


def thread_document(request: Request[Any, Any, Any], row: ThreadRow) -> dict[str, Any]:
    href = f"{api_base(request)}/incidents/{row.incident_id}/threads/{row.id}"
    return {
        "id": row.id,
        "entryType": _named(model.ENTRY_TYPES[row.entry_type_id]),
        "channel": _named(model.CHANNELS.get(row.channel_id)),
        "contentType": {"lookupName": row.content_type},
        "createdTime": connect_time(row.created_time),
        "displayOrder": row.display_order,
        "text": row.text,
        "account": None if row.account_name is None else {"lookupName": row.account_name},
        "contact": None if row.contact_id is None else {"id": row.contact_id},
        "links": [{"rel": "self", "href": href}],
    }


def contact_document(request: Request[Any, Any, Any], row: ContactRow) -> dict[str, Any]:
    href = f"{api_base(request)}/contacts/{row.id}"
    return {
        "id": row.id,
        "lookupName": row.lookup_name,
        "name": {"first": row.first_name, "last": row.last_name},
        "emails": [] if row.email is None else [{"address": row.email, "addressType": {"id": 0}}],
        "phones": [] if row.phone is None else [{"number": row.phone}],
        "links": [
            {"rel": "self", "href": href},
            {"rel": "canonical", "href": href},
            {"rel": "describedby", "href": f"{api_base(request)}/metadata-catalog/contacts"},
        ],
    }


# -- input resolution --
def _describe(ref: NamedRef) -> str:
    return f"id {ref.id}" if ref.id is not None else repr(ref.lookup_name)


def _resolve(field: str, ref: NamedRef | None) -> int | None:
    """The id a named reference (``{"id"}`` or ``{"lookupName"}``) points to in the site's list."""
    if ref is None:
        return None
    if ref.id is None and not ref.lookup_name:
        raise bad_write(f"{field} needs an id or a lookupName")
    found = model.resolve_named(field, ref.id, ref.lookup_name)
    if found is None:
        raise bad_write(f"{field}: no such entry ({_describe(ref)})")
    return found.id


def _status_id(ref: StatusWithTypeIn) -> int:
    if ref.status.id is not None:
        if ref.status.id not in model.STATUSES:
            raise bad_write(f"unknown status id {ref.status.id}")
        return ref.status.id
    if ref.status.lookup_name:
        found = model.status_by_name(ref.status.lookup_name)
        if found is None:
            raise bad_write(f"unknown status {ref.status.lookup_name!r}")
        return found.id
    raise bad_write("statusWithType.status needs an id or a lookupName")


def _entry_type_id(ref: NamedRef) -> int:
    if ref.id is not None:
        if ref.id not in model.ENTRY_TYPES:
            raise bad_write(f"unknown thread entry type id {ref.id}")
        return ref.id
    found = model.entry_type_by_name(ref.lookup_name or "")
    if found is None:
        raise bad_write(f"unknown thread entry type {ref.lookup_name!r}")
    return found.id


async def _contact(store: IncidentStore, ref: NamedRef | None, field: str) -> ContactRow | None:
    """A contact reference by id or by lookupName ("First Last"); exactly one contact must match."""
    if ref is None:
        return None
    if ref.id is not None:
        try:
            return await store.get_contact(ref.id)
        except NotFound:
            raise bad_write(f"{field}: no such contact with id {ref.id}") from None
    if not ref.lookup_name:
        raise bad_write(f"{field} needs an id or a lookupName")
    found = await store.find_contacts(ref.lookup_name)
    if len(found) != 1:
        problem = "no contact" if not found else f"{len(found)} contacts"
        raise bad_write(f"{field}: {problem} with lookupName {ref.lookup_name!r}")
    return found[0]


def _new_threads(
    request: Request[Any, Any, Any], threads: Sequence[ThreadIn], contact: ContactRow | None
) -> list[NewThread]:
    out = []
    for t in threads:
        entry = _entry_type_id(t.entry_type)
        if not t.text.strip():
            raise bad_write("a thread needs text")
        staff = entry in model.STAFF_ENTRY_TYPES
        contact_id = t.contact.id if t.contact and t.contact.id is not None else None
        if not staff and contact_id is None and contact is not None:
            contact_id = contact.id
        account_id = _resolve("assignedTo.account", t.account)
        account = model.ACCOUNTS[account_id].lookup_name if account_id else request.app.state.config.user
        content_type = t.content_type.lookup_name if t.content_type and t.content_type.lookup_name else None
        out.append(
            NewThread(
                entry_type_id=entry,
                text=t.text,
                channel_id=_resolve("channel", t.channel),
                account_name=account if staff else None,
                contact_id=contact_id,
                content_type=content_type or "text/plain",
            )
        )
    return out


def _refs(body: IncidentIn) -> dict[str, int | None]:
    given: dict[str, NamedRef | None] = {
        "product": body.product,
        "severity": body.severity,
        "queue": body.queue,
        "disposition": body.disposition,
        "language": body.language,
        "assignedTo.account": body.assigned_to.account if body.assigned_to else None,
        "assignedTo.staffGroup": body.assigned_to.staff_group if body.assigned_to else None,
    }
    assert set(given) == set(REF_COLUMNS)
    return {field: _resolve(field, ref) for field, ref in given.items() if ref is not None}


def _account_number(body: IncidentIn) -> str | None:
    if body.custom_fields is None:
        return None
    unknown = set(body.custom_fields.c) - {"account_number"}
    if unknown:
        raise bad_write(f"customFields.c has no field {sorted(unknown)[0]!r}")
    return body.custom_fields.c.get("account_number") or None


# -- incidents --
@get("/incidents")
async def list_incidents(
    request: Request[Any, Any, Any],
    q: Annotated[str | None, QueryParameter(name="q")] = None,
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, QueryParameter(name="offset", ge=0)] = 0,
    order_by: Annotated[str | None, QueryParameter(name="orderBy")] = None,
) -> Response[Any]:
    try:
        where = parse_where(q) if q is not None else None
        key, _, direction = (order_by or "id").partition(":")
        if direction.lower() not in {"", "asc", "desc"}:
            raise QueryError(f"orderBy direction must be asc or desc, not {direction!r}")
        rows, has_more = await store_of(request).query(
            where, order_by=key, descending=direction.lower() == "desc", limit=limit, offset=offset
        )
    except QueryError as exc:
        raise bad_query(str(exc)) from None
    return json_response(
        {
            "items": [incident_summary(request, r) for r in rows],
            "hasMore": has_more,
            "links": _page_links(request, limit, offset, has_more),
        }
    )


@get("/incidents/{incident_id:int}")
async def read_incident(request: Request[Any, Any, Any], incident_id: FromPath[int]) -> Response[Any]:
    return json_response(incident_document(request, await store_of(request).get_incident(incident_id)))


@post("/incidents")
async def create_incident(request: Request[Any, Any, Any]) -> Response[Any]:
    body: IncidentIn = await _decode(request, IncidentIn)
    if body.subject is None or not body.subject.strip():
        raise bad_write("subject is required and must not be empty")
    store = store_of(request)
    contact = await _contact(store, body.primary_contact, "primaryContact")
    row = await store.create_incident(
        body.subject[:240],
        contact_id=contact.id if contact else None,
        channel_id=_resolve("channel", body.channel) or model.API_CHANNEL.id,
        category_id=_resolve("category", body.category),
        account_number=_account_number(body),
        status_id=_status_id(body.status_with_type) if body.status_with_type else model.UNRESOLVED.id,
        threads=_new_threads(request, body.threads, contact),
        refs=_refs(body),
    )
    location = f"{api_base(request)}/incidents/{row.id}"
    return json_response(incident_document(request, row), 201, {"Location": location})


async def _patch(request: Request[Any, Any, Any], incident_id: int) -> Response[Any]:
    body: IncidentIn = await _decode(request, IncidentIn)
    if body.subject is not None and not body.subject.strip():
        raise bad_write("subject must not be empty")
    store = store_of(request)
    current = await store.get_incident(incident_id)
    contact = await _contact(store, body.primary_contact, "primaryContact")
    await store.update_incident(
        incident_id,
        subject=body.subject[:240] if body.subject else None,
        status_id=_status_id(body.status_with_type) if body.status_with_type else None,
        threads=_new_threads(request, body.threads, contact or current.primary_contact),
        refs=_refs(body),
        contact_id=contact.id if contact else None,
        category_id=_resolve("category", body.category),
        channel_id=_resolve("channel", body.channel),
        account_number=_account_number(body),
    )
    # The real API answers a successful update with 200 and no body.
    return Response(b"", status_code=200)


@patch("/incidents/{incident_id:int}")
async def update_incident(request: Request[Any, Any, Any], incident_id: FromPath[int]) -> Response[Any]:
    return await _patch(request, incident_id)


@delete("/incidents/{incident_id:int}", status_code=200)
async def delete_incident(request: Request[Any, Any, Any], incident_id: FromPath[int]) -> Response[Any]:
    await store_of(request).delete_incident(incident_id)
    return Response(b"", status_code=200)


@post("/incidents/{incident_id:int}")
async def override_incident(request: Request[Any, Any, Any], incident_id: FromPath[int]) -> Response[Any]:
    """POST with ``X-HTTP-Method-Override`` stands in for PATCH or DELETE (for clients without them)."""
    method = request.headers.get("x-http-method-override", "").upper()
    if method == "PATCH":
        return await _patch(request, incident_id)
    if method == "DELETE":
        await store_of(request).delete_incident(incident_id)
        return Response(b"", status_code=200)
    raise ConnectProblem(
        405, "POST on an incident needs X-HTTP-Method-Override: PATCH or DELETE", "OSC-CREST-00002"
    )


# -- threads --
@get("/incidents/{incident_id:int}/threads")
async def list_threads(request: Request[Any, Any, Any], incident_id: FromPath[int]) -> Response[Any]:
    threads = await store_of(request).list_threads(incident_id)
    return json_response(
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
    for thread in await store_of(request).list_threads(incident_id):
        if thread.id == thread_id:
            return json_response(thread_document(request, thread))
    raise ConnectProblem(404, f"incident {incident_id} has no thread {thread_id}", "OSC-CREST-00005")


@post("/incidents/{incident_id:int}/threads")
async def add_thread(request: Request[Any, Any, Any], incident_id: FromPath[int]) -> Response[Any]:
    body: ThreadIn = await _decode(request, ThreadIn)
    store = store_of(request)
    current = await store.get_incident(incident_id)
    (new,) = _new_threads(request, [body], current.primary_contact)
    row = await store.add_thread(incident_id, new)
    document = thread_document(request, row)
    return json_response(document, 201, {"Location": document["links"][0]["href"]})


# -- contacts --
@get("/contacts")
async def list_contacts(
    request: Request[Any, Any, Any],
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, QueryParameter(name="offset", ge=0)] = 0,
) -> Response[Any]:
    rows, has_more = await store_of(request).contacts_page(limit=limit, offset=offset)
    items = [
        {
            "id": r.id,
            "lookupName": r.lookup_name,
            "links": [{"rel": "canonical", "href": f"{api_base(request)}/contacts/{r.id}"}],
        }
        for r in rows
    ]
    return json_response(
        {"items": items, "hasMore": has_more, "links": _page_links(request, limit, offset, has_more)}
    )


@post("/contacts")
async def create_contact(request: Request[Any, Any, Any]) -> Response[Any]:
    body: ContactIn = await _decode(request, ContactIn)
    if not body.name.first.strip():
        raise bad_write("name.first must not be empty")
    row = await store_of(request).create_contact(
        body.name.first,
        body.name.last,
        body.emails[0].address if body.emails else None,
        body.phones[0].number if body.phones else None,
    )
    location = f"{api_base(request)}/contacts/{row.id}"
    return json_response(contact_document(request, row), 201, {"Location": location})


@get("/contacts/{contact_id:int}")
async def read_contact(request: Request[Any, Any, Any], contact_id: FromPath[int]) -> Response[Any]:
    return json_response(contact_document(request, await store_of(request).get_contact(contact_id)))


ROUTE_HANDLERS: tuple[HTTPRouteHandler, ...] = (
    list_incidents,
    read_incident,
    create_incident,
    update_incident,
    delete_incident,
    override_incident,
    list_threads,
    read_thread,
    add_thread,
    list_contacts,
    create_contact,
    read_contact,
)
