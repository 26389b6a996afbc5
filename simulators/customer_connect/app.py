"""The simulated Oracle B2C Service site's Connect REST API as a Litestar app.

Everything lives under ``/services/rest/connect/{version}`` for the versions v1.2, v1.3, v1.4 and
``latest`` (:data:`model.VERSIONS`); :mod:`.auth` checks the version, the credentials (HTTP Basic or an
agent session) and the v1.4 application-context header on every request. Besides the resources of
:mod:`.resources` (incidents, threads, contacts) the site answers:

- ``GET …/queryResults/?query=`` — semicolon-separated ROQL tabular queries, one result item per query
  (:mod:`.tabular`; documented under "Run ROQL Tabular Queries").
- ``GET …/metadata-catalog`` and ``…/metadata-catalog/{resource}`` — the resources and, per resource, its
  fields with whether each can be written on create or update, and the query parameters its collection
  takes, as the documentation's "Access Metadata" describes.
- ``OPTIONS`` on every path, answering 200 with an ``Allow`` header that lists each method the path
  serves (Litestar's automatic OPTIONS lists only some of them).
- ``GET /services/rest/connect/exceptions[/{code}]`` — the documented error codes (:mod:`.errors`).

Errors are exception bodies with documented ``OSC-CREST-#####`` codes (:mod:`.errors`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from litestar import Litestar, Request, Response, Router, get, route
from litestar.enums import HttpMethod
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, QueryParameter

from simulators.customer_connect import model
from simulators.customer_connect.auth import connect_guard
from simulators.customer_connect.contact_us import generate_contact_us, ingest_contact_us
from simulators.customer_connect.errors import (
    ConnectProblem,
    bad_query,
    bad_write,
    exceptions_router,
    not_found,
    problem_response,
)
from simulators.customer_connect.resources import ROUTE_HANDLERS, api_base, json_response, store_of
from simulators.customer_connect.roql import QueryError, parse_queries
from simulators.customer_connect.store import IncidentStore, InvalidRequest, NotFound

__all__ = ["SimulatorConfig", "create_app"]


@dataclass(slots=True)
class SimulatorConfig:
    """How the simulated site runs.

    ``session_token``: accepted as ``Authorization: Session <token>`` besides the API user's Basic
    credentials (None: session authentication is refused). ``require_app_context``: refuse v1.4 and
    ``latest`` requests without ``OSvC-CREST-Application-Context``, as the documentation says a site does.
    """

    database: Path
    user: str
    password: str
    generate: int = 0
    seed: int = 0
    clock: Any = field(default=None)  # a () -> aware datetime; None = system clock
    session_token: str | None = None
    require_app_context: bool = True


# -- queryResults --
@get("/queryResults")
async def query_results(
    request: Request[Any, Any, Any], roql: Annotated[str | None, QueryParameter(name="query")] = None
) -> Response[Any]:
    if roql is None or not roql.strip():
        raise bad_query("queryResults needs a query parameter holding ROQL statements")
    try:
        items = await store_of(request).run_queries(parse_queries(roql))
    except QueryError as exc:
        raise bad_query(str(exc)) from None
    return json_response({"items": items, "links": [{"rel": "self", "href": str(request.url)}]})


# -- metadata-catalog --
# name, type, writable on create, writable on update, required on create
_Attr = tuple[str, str, bool, bool, bool]
_NAMED = "NamedID"
_METADATA: dict[str, tuple[str, list[_Attr], list[str]]] = {
    "incidents": (
        "Incident",
        [
            ("id", "Integer", False, False, False),
            ("lookupName", "String", False, False, False),
            ("referenceNumber", "String", False, False, False),
            ("subject", "String", True, True, True),
            ("createdTime", "DateTime", False, False, False),
            ("updatedTime", "DateTime", False, False, False),
            ("closedTime", "DateTime", False, False, False),
            ("primaryContact", "Contact", True, True, False),
            ("statusWithType", "StatusWithType", True, True, False),
            ("channel", _NAMED, True, True, False),
            ("category", _NAMED, True, True, False),
            ("product", _NAMED, True, True, False),
            ("severity", _NAMED, True, True, False),
            ("queue", _NAMED, True, True, False),
            ("disposition", _NAMED, True, True, False),
            ("language", _NAMED, True, True, False),
            ("assignedTo", "GroupAccount", True, True, False),
            ("customFields", "IncidentCustomFields", True, True, False),
            ("threads", "ThreadArray", True, True, False),
        ],
        ["q", "limit", "offset", "orderBy"],
    ),
    "contacts": (
        "Contact",
        [
            ("id", "Integer", False, False, False),
            ("lookupName", "String", False, False, False),
            ("name", "PersonName", True, False, True),
            ("emails", "EmailArray", True, False, False),
            ("phones", "PhoneArray", True, False, False),
        ],
        ["limit", "offset"],
    ),
}


def _catalog_links(request: Request[Any, Any, Any], resource: str) -> list[dict[str, str]]:
    href = f"{api_base(request)}/metadata-catalog/{resource}"
    return [
        {"rel": "alternate", "href": href, "mediaType": "application/schema+json"},
        {"rel": "canonical", "href": href, "mediaType": "application/json"},
        {"rel": "describes", "href": f"{api_base(request)}/{resource}"},
    ]


@get("/metadata-catalog")
async def list_metadata(request: Request[Any, Any, Any]) -> Response[Any]:
    items = [{"name": name, "links": _catalog_links(request, name)} for name in _METADATA]
    return json_response({"items": items, "links": [{"rel": "self", "href": str(request.url)}]})


@get("/metadata-catalog/{resource:str}")
async def read_metadata(request: Request[Any, Any, Any], resource: FromPath[str]) -> Response[Any]:
    if resource not in _METADATA:
        raise ConnectProblem(404, f"the metadata catalog has no resource {resource!r}", "OSC-CREST-00013")
    type_name, attributes, parameters = _METADATA[resource]
    return json_response(
        {
            "name": resource,
            "type": type_name,
            "attributes": [
                {
                    "name": name,
                    "type": kind,
                    "isReadOnlyForCreate": not create,
                    "isReadOnlyForUpdate": not update,
                    "isRequiredForCreate": required,
                }
                for name, kind, create, update, required in attributes
            ],
            "queryParameters": parameters,
            "links": _catalog_links(request, resource),
        }
    )


# -- OPTIONS --
def _options_handlers(handlers: tuple[HTTPRouteHandler, ...]) -> list[HTTPRouteHandler]:
    """One OPTIONS handler per path whose ``Allow`` lists every method registered on that path."""
    methods: dict[str, set[str]] = defaultdict(set)
    for handler in handlers:
        for path in handler.paths:
            methods[path] |= {str(m) for m in handler.http_methods}
    return [
        route(path, http_method=[HttpMethod.OPTIONS], name=f"options {path}")(
            _allow(", ".join(sorted(allowed | {"OPTIONS"})))
        )
        for path, allowed in methods.items()
    ]


def _allow(allow: str) -> Any:
    async def options() -> Response[Any]:
        return Response(b"", status_code=200, headers={"Allow": allow})

    return options


# -- errors from the store --
def _store_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, NotFound):
        return problem_response(request, not_found(str(exc), deleting=request.method == "DELETE"))
    return problem_response(request, bad_write(str(exc)))


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

    handlers = (*ROUTE_HANDLERS, query_results, list_metadata, read_metadata)
    api = Router(
        path=model.API_ROOT + "/{version:str}",
        guards=[connect_guard],
        # The OPTIONS handlers go first: Litestar adds its own (listing only the methods registered so far)
        # to a path that has none yet when its first handler is registered.
        route_handlers=[*_options_handlers(handlers), *handlers],
    )
    app = Litestar(
        route_handlers=[api, exceptions_router()],
        on_startup=[startup],
        on_shutdown=[shutdown],
        exception_handlers={
            HTTPException: problem_response,
            NotFound: _store_error,
            InvalidRequest: _store_error,
        },
        openapi_config=None,
    )
    app.state.config = config
    app.state.store = store
    return app
