"""The served OpenAPI document made truthful, from what each handler declares (one place for every route).

Litestar documents a route's path, query and JSON-body parameters and its success answer. What the hub adds
around a handler it cannot see, so this module completes every operation after Litestar built it:

* bodies read another way: a handler that reads ``request.form()`` documents its multipart fields in its
  summary (``"... (multipart: file, kind=reference|evidence, label)"``): ``file`` is the binary part, the
  others text, ``name=a|b`` a choice;
* error answers, derived from the handler's signature and ``opt``, with the one error body the app sends
  (``{"status_code", "detail", "extra"}``): 401 without a token and 403 for a wrong role, section or
  contact (both only behind the access guard); 404 when a path or query parameter or a body field names
  a record, or the handler looks a contact up; 400 malformed JSON when it takes a JSON body; 422 when it
  takes a body or any parameter; 413 when it takes a body; 409 on writes (a state or idempotency
  conflict); 503 when its plugin, core part or the contact layer may be down;
* a retry's answer: a create that may be retried (an idempotency key, or a handler choosing its own
  status) answers 200 with the first record besides its 201;
* headers read by a dependency: ``X-Contact-Id`` and ``X-Access-Reason`` on handlers that take the
  ``guard`` dependency or call the contact layer's guards, ``Idempotency-Key`` on handlers that take
  ``idempotency`` or read the key through the contact layer's helper.

``make_truthful(app)`` switches the app's OpenAPI plugin to this completion; the document is still built
lazily, once, on the first request for it.
"""

from __future__ import annotations

import inspect
import mimetypes
import re
from collections.abc import Callable
from typing import Any, get_args, get_origin

from litestar import Litestar, Response
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)
from litestar.response import ServerSentEvent
from litestar.routes import HTTPRoute

from core.contract.contact import CONTACT_HEADER, REASON_HEADER
from core.contract.idempotency import HEADER as IDEMPOTENCY_HEADER
from core.security import PUBLIC_PREFIXES

__all__ = ["ERROR_SCHEMA", "make_truthful"]

ERROR_SCHEMA = "HubError"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REASONS = {
    400: "Malformed JSON, or an empty body where one is required",
    401: "No valid bearer token or session",
    403: "Not allowed: the caller's role, section or verified contact does not permit it",
    404: "Not found",
    409: "Conflict with the current state (or an idempotency key used for another request)",
    413: "The body is larger than this route accepts",
    422: "A field, parameter or header is invalid; `extra` names it",
    503: "A part this route needs (its plugin, the contact layer or the CCB) is not available",
}
# The contact layer's helpers that read the headers themselves (core.contact.guard, .web, .workflow_api):
# a handler calls one when the name resolves, in its own globals, to a function of the contact layer.
_CONTACT_READERS = ("require_verified", "require_verified_premise", "account_guard", "sa_guard")
_KEY_READERS = ("idempotency_key",)
_MULTIPART = re.compile(r"\(multipart: ([^)]*)\)")


def make_truthful(app: Litestar) -> None:
    """Have ``app`` serve the completed document (see the module docstring)."""
    plugin = app.plugins.get(OpenAPIPlugin)
    # The plugin's slots stay as they are; only its build step gains the completion below.
    plugin.__class__ = _TruthfulOpenAPIPlugin


class _TruthfulOpenAPIPlugin(OpenAPIPlugin):
    __slots__ = ()

    def _build_openapi(self) -> OpenAPI:
        openapi = super()._build_openapi()
        complete(openapi, list(self.included_routes.values()))
        return openapi


def complete(openapi: OpenAPI, routes: list[HTTPRoute]) -> None:
    """Add the bodies, error answers and headers each included handler implies (module docstring)."""
    components = openapi.components if isinstance(openapi.components, Components) else Components()
    openapi.components = components
    components.schemas = {**(components.schemas or {}), ERROR_SCHEMA: _error_schema()}
    for route in routes:
        item = (openapi.paths or {}).get(route.path_format or "/")
        if item is None:
            continue
        for method, (handler, _model) in route.route_handler_map.items():
            operation = getattr(item, method.lower(), None)
            if isinstance(operation, Operation) and handler.resolve_include_in_schema():
                _complete_operation(operation, handler, method, route.path_format or "/")


def _complete_operation(operation: Operation, handler: HTTPRouteHandler, method: str, path: str) -> None:
    fn: Callable[..., Any] = inspect.unwrap(handler.fn)
    params = set(handler.parsed_fn_signature.parameters)
    opt = handler.opt
    if operation.request_body is None:
        multipart = _multipart_body(handler, fn)
        if multipart is not None:
            operation.request_body = multipart
    parameters = list(operation.parameters or [])
    if "guard" in params or _calls(fn, _CONTACT_READERS):
        _add_header(parameters, CONTACT_HEADER, "The caller's contact, verified for the account concerned")
        _add_header(parameters, REASON_HEADER, "Why the record is opened (kept in the access log)")
    if "idempotency" in params or _calls(fn, _KEY_READERS):
        _add_header(
            parameters,
            IDEMPOTENCY_HEADER,
            "A key the client chooses; a retried write with the same key and body replays the first answer",
            max_length=80,
        )
    operation.parameters = parameters or None

    guarded = opt.get("access") != "public" and not path.startswith(PUBLIC_PREFIXES)
    statuses: set[int] = set()
    body = operation.request_body is not None
    kinds = {p.param_in for p in parameters if isinstance(p, Parameter)}
    if guarded:
        statuses |= {401, 403}
    if body or kinds & {"path", "query"} or _calls(fn, _CONTACT_READERS) or "guard" in params:
        statuses.add(404)  # a parameter or a body field names a record (or a plugin) that may not exist
    if body:
        statuses.add(413)  # every route bounds its body (Litestar's default, or the route's own limit)
    if body and _json_body(operation):
        statuses.add(400)
    if body or kinds & {"path", "query", "header"}:
        statuses.add(422)  # handlers check a path value's form too (a reference number, an account id)
    if method in WRITES:
        statuses.add(409)
    if guarded and (opt.get("plugin") or opt.get("core_part") or "guard" in params):
        statuses.add(503)
    responses = dict(operation.responses or {})
    _success_media(responses, handler, path)
    _replay_answer(responses, handler, params, fn)
    for status in sorted(statuses):
        key = str(status)
        if key not in responses:
            responses[key] = OpenAPIResponse(
                description=REASONS[status],
                content={
                    "application/json": OpenAPIMediaType(
                        schema=Reference(ref=f"#/components/schemas/{ERROR_SCHEMA}")
                    )
                },
            )
    operation.responses = responses


def _success_media(responses: dict[str, Any], handler: HTTPRouteHandler, path: str) -> None:
    """Non-JSON success answers: a stream of server-sent events, or bytes of the type the path names.

    Litestar documents ``Response[bytes]`` and ``ServerSentEvent`` as JSON; the hub sends an event stream,
    a file named by the path's suffix (``.csv``, ``.xlsx``), or stored bytes of their own type (``*/*``).
    """
    annotation = handler.parsed_fn_signature.return_type.annotation
    if inspect.isclass(annotation) and issubclass(annotation, ServerSentEvent):
        media = {"text/event-stream": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))}
    elif get_origin(annotation) is Response and get_args(annotation)[:1] in ((bytes,), (str,)):
        guessed = mimetypes.guess_type(path)[0] or "*/*"
        media = {guessed: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format="binary"))}  # type: ignore[arg-type]
    else:
        return
    for key, answer in responses.items():
        if key.startswith("2") and isinstance(answer, OpenAPIResponse) and answer.content:
            answer.content = media


def _replay_answer(
    responses: dict[str, Any], handler: HTTPRouteHandler, params: set[str], fn: Callable[..., Any]
) -> None:
    """A create that may be retried answers a retry 200 with the record first made, not 201 again.

    That is so for a handler taking an idempotency key, and for one that picks its status itself (it
    returns a ``Response``: a retried ``call_id``, an idempotency key in the body).
    """
    created = responses.get("201")
    if not isinstance(created, OpenAPIResponse) or "200" in responses:
        return
    annotation = handler.parsed_fn_signature.return_type.annotation
    if "idempotency" in params or _calls(fn, _KEY_READERS) or get_origin(annotation) is Response:
        responses["200"] = OpenAPIResponse(
            description="The same request again (a retry): the record it first made", content=created.content
        )


def _error_schema() -> Schema:
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["status_code", "detail"],
        properties={
            "status_code": Schema(type=OpenAPIType.INTEGER),
            "detail": Schema(type=OpenAPIType.STRING),
            "extra": Schema(
                one_of=[
                    Schema(type=OpenAPIType.ARRAY, items=Schema()),
                    Schema(type=OpenAPIType.OBJECT),
                    Schema(type=OpenAPIType.NULL),
                ]
            ),
            "plugin": Schema(type=OpenAPIType.STRING),
        },
        description="The hub's error answer: the status, what is wrong, and (for input) the fields named",
    )


def _calls(fn: Callable[..., Any], names: tuple[str, ...]) -> bool:
    """Whether ``fn`` calls one of the contact layer's helpers ``names`` (resolved in its own globals)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    scope = getattr(fn, "__globals__", {})
    return any(
        name in code.co_names and getattr(scope.get(name), "__module__", "").startswith("core.contact.")
        for name in names
    )


def _add_header(parameters: list[Any], name: str, description: str, *, max_length: int | None = None) -> None:
    if any(isinstance(p, Parameter) and p.name.lower() == name.lower() for p in parameters):
        return
    schema = Schema(type=OpenAPIType.STRING, min_length=1, max_length=max_length)
    parameters.append(
        Parameter(name=name, param_in="header", required=False, schema=schema, description=description)
    )


def _json_body(operation: Operation) -> bool:
    body = operation.request_body
    return isinstance(body, RequestBody) and "application/json" in (body.content or {})


def _multipart_body(handler: HTTPRouteHandler, fn: Callable[..., Any]) -> RequestBody | None:
    """The multipart fields a form-reading handler names in its summary, ``file`` as the binary part."""
    code = getattr(fn, "__code__", None)
    if code is None or "form" not in code.co_names:
        return None
    found = _MULTIPART.search(handler.summary or "")
    if found is None:
        return None
    properties: dict[str, Schema | Reference] = {}
    required: list[str] = []
    for field in (f.strip() for f in found.group(1).split(",")):
        name, _, choices = field.partition("=")
        if name == "file":
            properties[name] = Schema(type=OpenAPIType.STRING, format="binary")  # type: ignore[arg-type]
            required.append(name)
        elif choices:
            properties[name] = Schema(type=OpenAPIType.STRING, enum=choices.split("|"))
        else:
            properties[name] = Schema(type=OpenAPIType.STRING, max_length=200)
    schema = Schema(type=OpenAPIType.OBJECT, properties=properties, required=required)
    return RequestBody(content={"multipart/form-data": OpenAPIMediaType(schema=schema)}, required=True)
