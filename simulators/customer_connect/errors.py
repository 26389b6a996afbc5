"""Connect REST errors: the documented ``OSC-CREST-#####`` codes and the exception body every error carries.

The documentation (REST API for Accessing Data, "Error Exceptions") gives the body's fields: ``type`` (a
link to the exception under ``/services/rest/connect/exceptions/{code}``), ``title`` (the summary of the
code), ``status`` (the HTTP status), ``detail`` (the specific message), ``instance`` (the request's URI)
and ``o:errorCode``. Its example answers a POST of an incident naming a missing contact with 400 and
OSC-CREST-00006 ("An attempt to write a resource failed"). The codes and titles below are the documented
table ("Error Codes"); which code the simulator picks for which failure is listed in :func:`code_for`.

``GET /services/rest/connect/exceptions`` lists the codes and ``…/exceptions/{code}`` describes one, as
the documentation's "Retrieving the List of Exceptions" describes.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from simulators.customer_connect import model

__all__ = [
    "CODES",
    "ConnectProblem",
    "bad_query",
    "bad_write",
    "exceptions_router",
    "not_found",
    "problem_response",
]

# The documented table ("Error Codes"), code → description; the description is the exception's title.
CODES: dict[str, str] = {
    "OSC-CREST-00000": "For future use. No exception is associated with this error code.",
    "OSC-CREST-00001": "An unrecognized exception code was used.",
    "OSC-CREST-00002": "An unsupported HTTP method was used.",
    "OSC-CREST-00003": "An unsupported version of Connect REST API was used.",
    "OSC-CREST-00004": "An internal error associated with loading the requested version of Connect REST API "
    "occurred.",
    "OSC-CREST-00005": "An attempt to read a resource that cannot be read was made.",
    "OSC-CREST-00006": "An attempt to write a resource failed.",
    "OSC-CREST-00007": "An invalid query parameter was used.",
    "OSC-CREST-00008": "An internal error occurred during the processing of the request.",
    "OSC-CREST-00009": "A problem occurred when attempting to delete a resource.",
    "OSC-CREST-00010": "No POST data was found in the request.",
    "OSC-CREST-00011": "Bad JavaScript Object Notation (JSON) syntax was found in the request.",
    "OSC-CREST-00012": "A problem occurred when attempting to create a resource.",
    "OSC-CREST-00013": "The resource identified in the URI was not recognized.",
    "OSC-CREST-00014": "You're not authorized to use this site.",
    "OSC-CREST-00015": "The Connect REST API isn't enabled.",
    "OSC-CREST-00016": "The Connect REST API was accessed in a nonsupported manner.",
    "OSC-CREST-00017": "An unsupported language was requested.",
    "OSC-CREST-00018": "An attempt to read metadata of a primary object through a relationship was made.",
}

# Errors raised by Litestar itself (routing, parameter validation) carry no code; they get the one the
# table gives their situation.
_DEFAULT_CODES = {
    401: "OSC-CREST-00014",
    404: "OSC-CREST-00013",
    405: "OSC-CREST-00002",
    500: "OSC-CREST-00008",
}


class ConnectProblem(HTTPException):
    """An error answered as a Connect exception body with the given documented code."""

    def __init__(self, status: int, detail: str, code: str, *, headers: dict[str, str] | None = None) -> None:
        if code not in CODES:
            raise ValueError(f"undocumented error code {code}")
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.code = code


def bad_write(detail: str) -> ConnectProblem:
    """400 for a body that cannot be written: unknown field, bad value, reference to nothing (00006)."""
    return ConnectProblem(400, detail, "OSC-CREST-00006")


def bad_query(detail: str) -> ConnectProblem:
    """400 for an invalid query parameter: ``q``, ``query``, ``limit``, ``offset``, ``orderBy`` (00007)."""
    return ConnectProblem(400, detail, "OSC-CREST-00007")


def not_found(detail: str, *, deleting: bool = False) -> ConnectProblem:
    """404 for a resource id that names nothing: a read (00005) or a delete (00009)."""
    return ConnectProblem(404, detail, "OSC-CREST-00009" if deleting else "OSC-CREST-00005")


def code_for(request: Request[Any, Any, Any], exc: HTTPException) -> str:
    """The documented code of an error: its own, else the table's for the status and method."""
    code = getattr(exc, "code", None)
    if isinstance(code, str):
        return code
    if exc.status_code == 400:
        # Litestar rejects query parameters (limit=0, offset=-1) before a handler runs; on a write it is
        # the body that failed.
        return "OSC-CREST-00007" if request.method in {"GET", "DELETE", "OPTIONS"} else "OSC-CREST-00006"
    return _DEFAULT_CODES.get(exc.status_code, "OSC-CREST-00008")


def _site(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/")


def problem_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The exception body for any error (Litestar's own included)."""
    if isinstance(exc, HTTPException):
        status, detail, headers = exc.status_code, str(exc.detail), dict(exc.headers or {})
        code = code_for(request, exc)
    else:  # pragma: no cover - a bug in the simulator, still answered in the API's own format
        status, detail, headers, code = 500, "internal error", {}, "OSC-CREST-00008"
    body = {
        "type": f"{_site(request)}{model.API_ROOT}/exceptions/{code}",
        "title": CODES[code],
        "status": status,
        "detail": detail,
        "instance": str(request.url),
        "o:errorCode": code,
    }
    return Response(body, status_code=status, headers=headers, media_type="application/problem+json")


def _exception_doc(request: Request[Any, Any, Any], code: str) -> dict[str, Any]:
    href = f"{_site(request)}{model.API_ROOT}/exceptions/{code}"
    return {"code": code, "title": CODES[code], "links": [{"rel": "canonical", "href": href}]}


@get("/exceptions")
async def list_exceptions(request: Request[Any, Any, Any]) -> Response[Any]:
    base = f"{_site(request)}{model.API_ROOT}/exceptions"
    items = [{"rel": "canonical", "href": f"{base}/{code}"} for code in CODES]
    return Response({"items": items}, media_type="application/json")


@get("/exceptions/{code:str}")
async def read_exception(request: Request[Any, Any, Any], code: FromPath[str]) -> Response[Any]:
    if code not in CODES:
        raise ConnectProblem(404, f"no exception {code}", "OSC-CREST-00001")
    return Response(_exception_doc(request, code), media_type="application/json")


def exceptions_router() -> Router:
    """The version-less ``/services/rest/connect/exceptions`` resource (no credentials needed to read it)."""
    return Router(path=model.API_ROOT, route_handlers=[list_exceptions, read_exception])
