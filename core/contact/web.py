"""HTTP plumbing shared by the contact layer's controllers: strict request bodies, the idempotency key,
the domain errors as status codes, and the contact service as a Litestar dependency.

Status codes: 400 for a body that is not JSON; 422 for JSON that breaks the request's schema (a money
field sent as a float or a string, a missing or unknown field) or a domain rule, naming the field in
``extra[].key``; 403 without a verified contact; 404 for an unknown id; 409 for an action the object's
current status forbids (the status is named); 423 while verification is locked.

Request bodies are decoded strictly with msgspec: Litestar's own decoding coerces ``"100"`` and
``100.0`` into an int, which for money would silently accept what the client got wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, MutableMapping
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException, ServiceUnavailableException, ValidationException
from litestar.status_codes import (
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_423_LOCKED,
)

from core.ccb.errors import IllegalTransition, Invalid, NotFound
from core.contact.guard import CONTACT_ROLES, AccessDenied
from core.contact.service import ContactService, service_for
from core.contact.verification import Locked
from core.redact import contains_pan
from core.security import hub_of

__all__ = [
    "ERROR_HANDLERS",
    "IDEMPOTENCY_HEADER",
    "SERVICE",
    "WORKERS",
    "Body",
    "Service",
    "contact_service",
    "idempotency_key",
    "strict_body",
    "unprocessable",
]

T = TypeVar("T")

IDEMPOTENCY_HEADER = "idempotency-key"
# The access policy of the layer's routes (the hub's access guard reads it from each handler's opt).
WORKERS = {"roles": list(CONTACT_ROLES)}


class Body(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of the layer's request bodies: strict, unknown fields refused."""


# ---------------------------------------------------------------------------------------------------
# Errors


def _error(status: int, detail: str, extra: Any = None) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"status_code": status, "detail": detail}
    if extra is not None:
        body["extra"] = extra
    return Response(body, status_code=status)


_FIELD_IN_MESSAGE = re.compile(r"(?:unknown|missing required) field `([^`]+)`|at `\$\.([^`\[]+)")


def _field_of(message: str) -> str | None:
    found = _FIELD_IN_MESSAGE.search(message)
    return (found.group(1) or found.group(2)) if found else None


def unprocessable(field: str | None, message: str) -> HTTPException:
    """A 422 naming the field, in the shape the hub's other errors have."""
    detail = f"{field}: {message}" if field else message
    return HTTPException(
        detail=detail, status_code=HTTP_422_UNPROCESSABLE_ENTITY, extra=[{"key": field, "message": message}]
    )


def _on_validation(_request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    # Litestar's lenient decoding failed first (e.g. a missing field): same answer as the strict one.
    items = exc.extra if isinstance(exc.extra, list) else []
    extra = []
    for item in items:
        if isinstance(item, dict):
            message = str(item.get("message", ""))
            key = item.get("key")
            extra.append({"key": _field_of(message) or key, "message": message})
    return _error(HTTP_422_UNPROCESSABLE_ENTITY, exc.detail, extra or None)


def _on_not_found(_request: Request[Any, Any, Any], exc: NotFound) -> Response[Any]:
    return _error(HTTP_404_NOT_FOUND, str(exc), {"kind": exc.kind, "id": exc.id})


def _on_illegal(_request: Request[Any, Any, Any], exc: IllegalTransition) -> Response[Any]:
    return _error(
        HTTP_409_CONFLICT,
        str(exc),
        {"current_status": exc.current_status, "status_label": exc.status_label, "action": exc.action},
    )


def _on_invalid(_request: Request[Any, Any, Any], exc: Invalid) -> Response[Any]:
    return _error(HTTP_422_UNPROCESSABLE_ENTITY, str(exc), [{"key": exc.field, "message": exc.message}])


def _on_denied(_request: Request[Any, Any, Any], exc: AccessDenied) -> Response[Any]:
    return _error(HTTP_403_FORBIDDEN, str(exc))


def _on_locked(_request: Request[Any, Any, Any], exc: Locked) -> Response[Any]:
    return Response(
        {
            "status_code": HTTP_423_LOCKED,
            "detail": str(exc),
            "verified": False,
            "attempts_left": exc.attempts_left,
            "locked": exc.scope,
        },
        status_code=HTTP_423_LOCKED,
    )


# Set on the layer's controllers: domain errors become their status without a try in each handler.
ERROR_HANDLERS: MutableMapping[
    int | type[Exception], Callable[[Request[Any, Any, Any], Any], Response[Any]]
] = {
    ValidationException: _on_validation,
    NotFound: _on_not_found,
    IllegalTransition: _on_illegal,
    Invalid: _on_invalid,
    AccessDenied: _on_denied,
    Locked: _on_locked,
}


# ---------------------------------------------------------------------------------------------------
# Request helpers


async def strict_body(request: Request[Any, Any, Any], type_: type[T]) -> T:
    """The JSON body decoded strictly into ``type_``; a type or field error is a 422 naming the field.

    An empty body is ``{}``, so a request whose fields all have defaults needs none.
    """
    raw = await request.body()
    try:
        return msgspec.json.decode(raw or b"{}", type=type_)
    except msgspec.ValidationError as exc:
        message = str(exc)
        raise unprocessable(_field_of(message), message) from None
    except msgspec.DecodeError:
        raise ValidationException("the body is not valid JSON") from None


def idempotency_key(request: Request[Any, Any, Any], suffix: str = "") -> str | None:
    """The optional ``Idempotency-Key`` header, passed to the CCB port so a retried write replays."""
    value = request.headers.get(IDEMPOTENCY_HEADER)
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > 80 or not value.isprintable():
        raise unprocessable(IDEMPOTENCY_HEADER, "must be 1 to 80 printable characters")
    if contains_pan(value):  # the CCB port stores the key: never a card number in clear (docs/rules.md §1.5)
        raise unprocessable(IDEMPOTENCY_HEADER, "must not contain a card number")
    return f"{value}{suffix}"


def contact_service(request: Request[Any, Any, Any]) -> ContactService:
    """The running contact service of the request's hub; 503 while the contact layer is not running."""
    found = service_for(hub_of(request))
    if found is None:
        raise ServiceUnavailableException("the contact layer is not running")
    return found


# The controllers' ``service`` parameter: ``dependencies = SERVICE`` on the controller, ``service: Service``
# on its handlers.
SERVICE = {"service": Provide(contact_service, sync_to_thread=False)}
Service = NamedDependency[ContactService]
