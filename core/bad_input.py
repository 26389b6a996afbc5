"""Bad input never becomes a server error: integer parameters and JSON nesting are bounded in one place.

Two kinds of request used to reach a handler and fail there with a 500 (and count against the plugin):

* an integer path or query parameter beyond a 64-bit column's range (``/claims/18446744073709551616``)
  overflowed the database driver. :func:`check_int_params` runs in the access guard, after the caller is
  authenticated, on every guarded route: such a path parameter is a 404 (no row can have that id), such
  a query parameter a 422 naming the parameter (or the route's own ``bad_input_status``);
* a JSON body nested a thousand levels deep exhausted the recursion limit while it was decoded.
  :func:`json_depth_middleware` reads a JSON body before any decoding and answers 400
  ``body: nested deeper than 64``; a body with fewer brackets than that is passed without a scan.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.constants import RESERVED_KWARGS
from litestar.exceptions import ClientException, NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import ParameterKwarg, ParamType
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.typing import FieldDefinition

__all__ = ["INT_MAX", "INT_MIN", "MAX_JSON_DEPTH", "check_int_params", "json_depth", "json_depth_middleware"]

# A signed 64-bit column (BIGINT on PostgreSQL, INTEGER on SQLite) holds exactly these.
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
MAX_JSON_DEPTH = 64

_INTEGER = re.compile(r"\s*[+-]?\d+\s*")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A JSON string (brackets inside it do not nest) or one bracket.
_JSON_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _in_range(value: int) -> bool:
    return INT_MIN <= value <= INT_MAX


def _mentions_int(annotation: Any) -> bool:
    """True for ``int``, ``int | None``, ``list[int]``, ``Annotated[int, …]`` and the like (never bool)."""
    if annotation is int:
        return True
    return any(_mentions_int(arg) for arg in typing.get_args(annotation) if not isinstance(arg, str | bytes))


def _int_query_params(fields: Iterable[tuple[str, FieldDefinition]], skip: set[str]) -> set[str]:
    names: set[str] = set()
    for name, field in fields:
        if name in skip or name in RESERVED_KWARGS or field.is_di_field:
            continue
        kwarg = field.kwarg_definition
        if kwarg is not None and not isinstance(kwarg, ParameterKwarg):
            continue  # a body or a dependency
        if isinstance(kwarg, ParameterKwarg) and kwarg.param_type is not ParamType.QUERY:
            continue  # a header, cookie or path parameter
        if _mentions_int(field.annotation):
            alias = (kwarg.name or kwarg.query) if isinstance(kwarg, ParameterKwarg) else None
            names.add(alias or name)
    return names


# Where the app keeps, per handler, the query parameters it decodes as integers.
_CACHE = "bad_input_query_ints"


def _query_ints(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler, path_params: Iterable[str]
) -> frozenset[str]:
    """The query parameters the handler or its dependencies decode as integers (worked out once)."""
    cache: dict[int, frozenset[str]] = connection.app.state.setdefault(_CACHE, {})
    known = cache.get(id(handler))
    if known is not None:
        return known
    dependencies = handler.resolve_dependencies()
    skip = {*path_params, *dependencies}
    names = _int_query_params(handler.parsed_fn_signature.parameters.items(), skip)
    names |= _int_query_params(handler.resolve_layered_parameters().items(), skip)
    for provide in dependencies.values():
        signature = getattr(provide, "parsed_fn_signature", None)
        if signature is not None:
            names |= _int_query_params(signature.parameters.items(), skip)
    known = cache[id(handler)] = frozenset(names)
    return known


def check_int_params(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """404 for an integer path parameter no row can have; 422 for such a query parameter, naming it."""
    path_params: dict[str, Any] = connection.scope.get("path_params") or {}
    for value in path_params.values():
        if type(value) is int and not _in_range(value):
            raise NotFoundException("no such record")
    if not connection.scope.get("query_string"):
        return
    query = connection.query_params
    for name in _query_ints(connection, handler, path_params):
        for raw in query.getall(name, []):
            if _INTEGER.fullmatch(raw) and not _in_range(int(raw)):
                detail = f"{name}: must be a whole number from {INT_MIN} to {INT_MAX}"
                status = int(handler.opt.get("bad_input_status", 422))
                raise ClientException(
                    status_code=status, detail=detail, extra=[{"key": name, "message": detail}]
                )


def json_depth(body: bytes) -> int:
    """How deeply the arrays and objects of a JSON text nest (brackets inside strings do not count)."""
    depth = deepest = 0
    for token in _JSON_TOKEN.finditer(body):
        char = token.group()
        if char in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif char in (b"]", b"}"):
            depth -= 1
    return deepest


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


def json_depth_middleware(app: ASGIApp) -> ASGIApp:
    """Refuse a JSON body nested deeper than :data:`MAX_JSON_DEPTH` before anything decodes it.

    The body is read through Litestar's own ``Request.body()`` (which keeps the route's body-size limit
    and caches the bytes in the scope), so the handler's decoding reads the same bytes again for free.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") in _BODY_METHODS and _is_json(scope):
            body = await Request[Any, Any, Any](scope, receive, send).body()
            if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and json_depth(body) > MAX_JSON_DEPTH:
                detail = f"body: nested deeper than {MAX_JSON_DEPTH}"
                raise ClientException(
                    status_code=400, detail=detail, extra=[{"key": "body", "message": detail}]
                )
        await app(scope, receive, send)

    return middleware
