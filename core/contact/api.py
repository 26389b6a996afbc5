"""HTTP API of the contact layer (mounted at ``/api``): contacts, verification, wrap-up, and the
verified-contact guard every route on customer data uses — the hub's own and any plugin's.

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
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import (
    HTTPException,
    NotFoundException,
    PermissionDeniedException,
    ServiceUnavailableException,
    ValidationException,
)
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_423_LOCKED,
)

from core.ccb import port as p
from core.ccb.errors import IllegalTransition, Invalid, NotFound
from core.ccb.identity import IdentityMethod
from core.contact.service import (
    CONTACT_ROLES,
    AccessDenied,
    Channel,
    ContactAccess,
    ContactService,
    ContactView,
    Locked,
    NoteKind,
    VerifyOutcome,
    service_for,
)
from core.security import current_staff, hub_of

__all__ = [
    "CONTACT_HEADER",
    "ERROR_HANDLERS",
    "REASON_HEADER",
    "ContactAccess",
    "idempotency_key",
    "require_verified",
    "require_verified_premise",
    "routes",
    "strict_body",
]

T = TypeVar("T")

CONTACT_HEADER = "x-contact-id"
REASON_HEADER = "x-access-reason"
IDEMPOTENCY_HEADER = "idempotency-key"
WORKERS = {"roles": list(CONTACT_ROLES)}
# rules §4.2: clearing a knowledge-factor lock is a lead's decision once the customer is identified.
LOCK_CLEARERS = {"roles": ["lead", "supervisor"]}
AccountId = Annotated[str, msgspec.Meta(pattern=r"^\d{10}$")]


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


# Attached to every handler of the layer: domain errors become their status without a try in each one.
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
    """The JSON body decoded strictly into ``type_``; a type or field error is a 422 naming the field."""
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
    return f"{value}{suffix}"


def _service(request: Request[Any, Any, Any]) -> ContactService:
    found = service_for(hub_of(request))
    if found is None:
        raise ServiceUnavailableException("the contact layer is not running")
    return found


def _contact_header(request: Request[Any, Any, Any]) -> str | None:
    value = request.headers.get(CONTACT_HEADER)
    return value.strip() if value and value.strip() else None


async def require_verified(
    request: Request[Any, Any, Any],
    account_id: str,
    *,
    purpose: str = "customer data",
    topic: str = "account",
    change: bool = False,
    contact_id: str | None = None,
) -> ContactAccess:
    """The verified-contact guard for a route on an account's data (ARCHITECTURE §6).

    Passes when ``X-Contact-Id`` names the caller's open contact verified for ``account_id``, or when a
    lead, supervisor or the CRO gives ``X-Access-Reason``; otherwise raises 403 saying what is missing.
    Every pass is audited (with ``purpose`` and the contact or reason); a read is logged on the contact
    under ``topic`` (its wrap-up note is drafted from that log), a ``change`` is logged by the workflow
    once done. Call it after checking that the account exists, so an unknown id is a 404. A page form,
    which cannot send headers, passes the contact it carries as ``contact_id``.
    """
    try:
        return await _service(request).authorize(
            current_staff(request),
            contact_id=_contact_header(request) or contact_id,
            reason=request.headers.get(REASON_HEADER),
            purpose=purpose,
            account_id=account_id,
            topic=topic,
            change=change,
        )
    except AccessDenied as exc:
        raise PermissionDeniedException(str(exc)) from None
    except NotFound as exc:
        raise NotFoundException(str(exc)) from None


async def require_verified_premise(
    request: Request[Any, Any, Any],
    premise_id: str,
    *,
    purpose: str,
    verified: bool = True,
    topic: str = "premise",
    change: bool = False,
) -> ContactAccess:
    """The guard for a premise: a contact verified for an account with service there (or a reason).

    ``verified=False`` needs only an open contact of the caller (a trouble report is tier 0 of
    rules §4.2: reporting a danger never waits for verification).
    """
    try:
        return await _service(request).authorize(
            current_staff(request),
            contact_id=_contact_header(request),
            reason=request.headers.get(REASON_HEADER),
            purpose=purpose,
            premise_id=premise_id,
            verified=verified,
            topic=topic,
            change=change,
        )
    except AccessDenied as exc:
        raise PermissionDeniedException(str(exc)) from None
    except NotFound as exc:
        raise NotFoundException(str(exc)) from None


# ---------------------------------------------------------------------------------------------------
# Requests


class Body(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of the layer's request bodies: strict, unknown fields refused."""


class OpenContactRequest(Body, frozen=True):
    channel: Channel
    ani: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    account_id: AccountId | None = None


class VerifyRequest(Body, frozen=True):
    account_id: AccountId
    method: IdentityMethod
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class WrapUpRequest(Body, frozen=True):
    note_kind: NoteKind
    note: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    premise_id: Annotated[str, msgspec.Meta(pattern=r"^\d{10}$")] | None = None
    account_id: AccountId | None = None


class ClearLockRequest(Body, frozen=True):
    reason: Annotated[str, msgspec.Meta(max_length=200)]


class LockCleared(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    verification_locked: bool


# ---------------------------------------------------------------------------------------------------
# Routes


def routes(service: ContactService) -> list[Any]:
    """The contact routes, relative to the part's ``ROUTE_PREFIX`` (``/api``)."""

    @post(
        "/contacts",
        opt=WORKERS,
        status_code=HTTP_201_CREATED,
        tags=["contacts"],
        exception_handlers=ERROR_HANDLERS,
    )
    async def open_contact(
        request: Request[Any, Any, Any], data: JSONBody[OpenContactRequest]
    ) -> ContactView:
        """Open a contact (call, counter visit, email); ``candidates`` are the accounts with that phone."""
        body = await strict_body(request, OpenContactRequest)
        staff = current_staff(request)
        return await service.open_contact(
            channel=body.channel,
            actor=staff.actor,
            owner=staff.name,
            ani=body.ani,
            account_id=body.account_id,
        )

    @get("/contacts", opt=WORKERS, tags=["contacts"], exception_handlers=ERROR_HANDLERS)
    async def list_contacts(
        request: Request[Any, Any, Any],
        dialog_id: Annotated[str | None, QueryParameter(name="dialog_id", max_length=36)] = None,
    ) -> list[ContactView]:
        """The contact of a call (``?dialog_id=``, for the screen pop), or the caller's open contacts."""
        if dialog_id is not None:
            return await service.find_by_dialog(dialog_id)
        return await service.my_contacts(current_staff(request))

    @get("/contacts/{contact_id:str}", opt=WORKERS, tags=["contacts"], exception_handlers=ERROR_HANDLERS)
    async def get_contact(request: Request[Any, Any, Any], contact_id: FromPath[str]) -> ContactView:
        """The contact with its action log and the running plugins' hints for the CSR's screen."""
        return await service.get_contact(current_staff(request), contact_id)

    @post(
        "/contacts/{contact_id:str}/verify",
        opt=WORKERS,
        status_code=HTTP_200_OK,
        tags=["contacts"],
        exception_handlers=ERROR_HANDLERS,
    )
    async def verify(
        request: Request[Any, Any, Any], contact_id: FromPath[str], data: JSONBody[VerifyRequest]
    ) -> Response[VerifyOutcome]:
        """Check the access code or the last four SSN digits the customer states: 200 pass, 401 fail.

        Three failures lock the contact and five for an account within 24 hours lock the account
        (423 from then on). The value is never stored, logged or returned.
        """
        body = await strict_body(request, VerifyRequest)
        outcome = await service.verify(
            current_staff(request), contact_id, body.account_id, body.method, body.value
        )
        return Response(outcome, status_code=HTTP_200_OK if outcome.verified else HTTP_401_UNAUTHORIZED)

    @post(
        "/contacts/{contact_id:str}/wrap-up",
        opt=WORKERS,
        status_code=HTTP_200_OK,
        tags=["contacts"],
        exception_handlers=ERROR_HANDLERS,
    )
    async def wrap_up(
        request: Request[Any, Any, Any], contact_id: FromPath[str], data: JSONBody[WrapUpRequest]
    ) -> ContactView:
        """Close the contact; the note (or one drafted from its actions) goes to CCB (customer or premise)."""
        body = await strict_body(request, WrapUpRequest)
        return await service.wrap_up(
            current_staff(request),
            contact_id,
            note_kind=body.note_kind,
            note=body.note,
            premise_id=body.premise_id,
            account_id=body.account_id,
        )

    @post(
        "/ccb/accounts/{account_id:str}/verification-lock/clear",
        opt=LOCK_CLEARERS,
        status_code=HTTP_200_OK,
        tags=["contacts"],
        exception_handlers=ERROR_HANDLERS,
    )
    async def clear_lock(
        request: Request[Any, Any, Any], account_id: FromPath[str], data: JSONBody[ClearLockRequest]
    ) -> LockCleared:
        """Clear an account's verification lock (lead); ``reason`` (how the customer was identified) is
        required and audited."""
        body = await strict_body(request, ClearLockRequest)
        summary: p.AccountSummary = await service.clear_verification_lock(
            current_staff(request), account_id, body.reason
        )
        return LockCleared(account_id=summary.account_id, verification_locked=summary.verification_locked)

    return [open_contact, list_contacts, get_contact, verify, wrap_up, clear_lock]
