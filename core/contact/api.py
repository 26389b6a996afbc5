"""HTTP API of the contact layer (mounted at ``/api``): contacts, verification, wrap-up and the lead's
clearing of an account's verification lock.

Status codes are those of :mod:`core.contact.web`. These bodies hold only strings and choices, so
Litestar's own decoding of ``data`` gives the same answers as the strict decoding the workflow API needs
for money (a number is never taken for a string, and unknown fields are refused by the Structs). The
names plugins imported from here (the guard and its headers) stay importable from this module.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_401_UNAUTHORIZED

from core.ccb import port as p
from core.ccb.identity import IdentityMethod
from core.contact.common import Channel, NoteKind
from core.contact.contacts import ContactView
from core.contact.guard import (
    CONTACT_HEADER,
    REASON_HEADER,
    ContactAccess,
    require_verified,
    require_verified_premise,
)
from core.contact.verification import VerifyOutcome
from core.contact.web import (
    ERROR_HANDLERS,
    SERVICE,
    WORKERS,
    Body,
    Service,
    idempotency_key,
    strict_body,
)
from core.contract.scope import CONTACT, NONE
from core.security import current_staff

__all__ = [
    "CONTACT_HEADER",
    "ERROR_HANDLERS",
    "REASON_HEADER",
    "ContactAccess",
    "ContactController",
    "VerificationLockController",
    "idempotency_key",
    "require_verified",
    "require_verified_premise",
    "strict_body",
]

# docs/rules.md §4.2: clearing a knowledge-factor lock is a lead's decision once the customer is identified.
LOCK_CLEARERS = {"roles": ["lead", "supervisor"]}
AccountId = Annotated[str, msgspec.Meta(pattern=r"^\d{10}$")]


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


class ContactController(Controller):
    """Contacts: open, list (or find by call), show, verify the customer, wrap up."""

    path = "/contacts"
    opt = WORKERS
    tags = ["contacts"]
    exception_handlers = ERROR_HANDLERS
    dependencies = SERVICE

    @post("/", status_code=HTTP_201_CREATED, customer_data=CONTACT)
    async def open_contact(
        self, request: Request[Any, Any, Any], service: Service, data: JSONBody[OpenContactRequest]
    ) -> ContactView:
        """Open a contact (call, counter visit, email); ``candidates`` are the accounts with that phone."""
        staff = current_staff(request)
        return await service.open_contact(
            channel=data.channel,
            actor=staff.actor,
            owner=staff.name,
            ani=data.ani,
            account_id=data.account_id,
        )

    @get("/", customer_data=CONTACT)
    async def list_contacts(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        dialog_id: Annotated[str | None, QueryParameter(name="dialog_id", max_length=36)] = None,
    ) -> list[ContactView]:
        """The contact of a call (``?dialog_id=``, for the screen pop), or the caller's open contacts."""
        if dialog_id is not None:
            return await service.find_by_dialog(dialog_id)
        return await service.my_contacts(current_staff(request))

    @get("/{contact_id:str}", customer_data=CONTACT)
    async def get_contact(
        self, request: Request[Any, Any, Any], service: Service, contact_id: FromPath[str]
    ) -> ContactView:
        """The contact with its action log and the running plugins' hints for the CSR's screen."""
        return await service.get_contact(current_staff(request), contact_id)

    @post("/{contact_id:str}/verify", status_code=HTTP_200_OK, customer_data=CONTACT)
    async def verify(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        contact_id: FromPath[str],
        data: JSONBody[VerifyRequest],
    ) -> Response[VerifyOutcome]:
        """Check the access code or the last four SSN digits the customer states: 200 pass, 401 fail.

        Three failures lock the contact and five for an account within 24 hours lock the account
        (423 from then on). The value is never stored, logged or returned.
        """
        outcome = await service.verify(
            current_staff(request), contact_id, data.account_id, data.method, data.value
        )
        return Response(outcome, status_code=HTTP_200_OK if outcome.verified else HTTP_401_UNAUTHORIZED)

    @post("/{contact_id:str}/wrap-up", status_code=HTTP_200_OK, customer_data=CONTACT)
    async def wrap_up(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        contact_id: FromPath[str],
        data: JSONBody[WrapUpRequest],
    ) -> ContactView:
        """Close the contact; the note (or one drafted from its actions) goes to CCB (customer or premise)."""
        return await service.wrap_up(
            current_staff(request),
            contact_id,
            note_kind=data.note_kind,
            note=data.note,
            premise_id=data.premise_id,
            account_id=data.account_id,
        )


class VerificationLockController(Controller):
    """An account's verification lock, cleared by a lead once the customer is identified another way."""

    path = "/ccb/accounts"
    opt = LOCK_CLEARERS
    tags = ["contacts"]
    exception_handlers = ERROR_HANDLERS
    dependencies = SERVICE

    @post("/{account_id:str}/verification-lock/clear", status_code=HTTP_200_OK, customer_data=NONE)
    async def clear_lock(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        account_id: FromPath[str],
        data: JSONBody[ClearLockRequest],
    ) -> LockCleared:
        """Clear an account's verification lock (lead); ``reason`` (how the customer was identified) is
        required and audited."""
        summary: p.AccountSummary = await service.clear_verification_lock(
            current_staff(request), account_id, data.reason
        )
        return LockCleared(account_id=summary.account_id, verification_locked=summary.verification_locked)
