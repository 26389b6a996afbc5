"""The verified-contact guard on customer data (ARCHITECTURE §6): who may reach an account's or a
premise's data, and the request check every route on such data calls — the hub's own and any plugin's.

A contact verified for the account opens its data; without one a lead, a supervisor or the Customer
Relations Office may give a reason, which is audited. Every pass is audited and logged on the contact,
so the wrap-up note can be drafted from what was done.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import NotFoundException, PermissionDeniedException, ServiceUnavailableException
from sqlalchemy import select

from core.ccb.errors import NotFound
from core.contact.common import ACTIVE, ServiceBase, View, clean_reason, running_service
from core.contact.models import Contact, ContactVerification
from core.contract import contact as port
from core.contract.contact import CONTACT_ROLES, REASON_ROLES, AccessDenied
from core.contract.scope import mark_guard_asked
from core.security import current_staff, hub_of
from core.staff import Staff

__all__ = [
    "CONTACT_HEADER",
    "CONTACT_ROLES",
    "REASON_HEADER",
    "REASON_ROLES",
    "AccessDenied",
    "ContactAccess",
    "Guard",
    "require_verified",
    "require_verified_premise",
]

CONTACT_HEADER = "x-contact-id"
REASON_HEADER = "x-access-reason"
# REASON_ROLES, CONTACT_ROLES and AccessDenied are the contract's (core.contract.contact): plugins name
# them there, and the guard must raise the very class they catch.


class ContactAccess(View, frozen=True):
    """Why a request may reach an account's (or premise's) data: a verified contact, or a lead's reason."""

    staff_name: str
    actor: str
    role: str
    account_id: str | None
    premise_id: str | None
    contact_id: str | None
    reason: str | None


class Guard(ServiceBase):
    """The guard's decision, its audit record and its entry in the contact's action log."""

    async def authorize(
        self,
        staff: Staff,
        *,
        contact_id: str | None,
        reason: str | None,
        purpose: str,
        account_id: str | None = None,
        premise_id: str | None = None,
        verified: bool = True,
        topic: str = "account",
        change: bool = False,
        record: bool = True,
    ) -> ContactAccess:
        """Decide whether ``staff`` may reach an account's (or a premise's) data, audit it, and log it.

        With a contact: it must be open, the caller's, not locked, and verified for the account (for a
        premise: for an account with service there). ``verified=False`` asks only for an open contact
        of the caller (tier 0 of docs/rules.md §4.2: a trouble report needs no verification). Without one, a
        lead,
        supervisor or the CRO may give a reason. A read is logged on the contact under ``topic`` at once;
        a ``change`` is logged by the workflow once it has succeeded (``note_change``). ``record=False``
        only decides (the core's check before a handler whose own call then records the pass).
        """
        why = clean_reason(reason)
        denial: AccessDenied | None = None
        access: ContactAccess | None = None
        if contact_id is not None:
            try:
                access = await self._contact_access(
                    staff, contact_id, account_id, premise_id, verified=verified
                )
            except AccessDenied as exc:
                denial = exc
        if access is None:
            if why is not None and staff.role in REASON_ROLES:
                access = ContactAccess(
                    staff_name=staff.name,
                    actor=staff.actor,
                    role=staff.role.value,
                    account_id=account_id,
                    premise_id=premise_id,
                    contact_id=None,
                    reason=why,
                )
            elif denial is not None:
                raise denial
            elif why is not None:
                raise AccessDenied("only a lead, a supervisor or the CRO may give X-Access-Reason")
            else:
                what = f"account {account_id}" if account_id else f"premise {premise_id}"
                raise AccessDenied(
                    f"{what}: customer data needs X-Contact-Id naming your open contact verified for it "
                    "(a lead, supervisor or the CRO may give X-Access-Reason instead)"
                )
        if not record:
            return access
        target = f"account:{access.account_id}" if access.account_id else f"premise:{premise_id}"
        async with self.db.session() as s:
            await self.audit.append(
                s,
                actor=staff.actor,
                action="contact.customer_data",
                target=target,
                detail={
                    "purpose": purpose,
                    "contact": access.contact_id,
                    "reason": access.reason,
                    "premise": premise_id,
                    "change": change,
                },
            )
            if access.contact_id is not None and not change:
                self._add_action(
                    s, access.contact_id, staff.actor, f"read.{topic}", purpose, access.account_id
                )
        return access

    async def _contact_access(
        self,
        staff: Staff,
        contact_id: str,
        account_id: str | None,
        premise_id: str | None,
        *,
        verified: bool,
    ) -> ContactAccess:
        async with self.db.session() as s:
            row = await s.get(Contact, contact_id)
            if row is None:
                raise AccessDenied(f"X-Contact-Id {contact_id} names no contact")
            if row.status not in ACTIVE:
                raise AccessDenied(f"contact {contact_id} is closed")
            if row.owner != staff.name:
                raise AccessDenied(f"contact {contact_id} is not yours")
            if row.locked:
                raise AccessDenied(f"contact {contact_id} is locked after failed verification attempts")
            accounts = list(
                (
                    await s.scalars(
                        select(ContactVerification.account_id)
                        .where(ContactVerification.contact_id == contact_id)
                        .order_by(ContactVerification.verified_at)
                    )
                ).all()
            )
        chosen: str | None = None
        if account_id is not None:
            if account_id not in accounts:
                raise AccessDenied(
                    f"contact {contact_id} is not verified for account {account_id}: "
                    "verify the customer first"
                )
            chosen = account_id
        elif premise_id is not None:
            for candidate in accounts:
                summary = await self.ccb.get_account_summary(candidate)
                if any(prem.premise_id == premise_id for prem in summary.premises):
                    chosen = candidate
                    break
            if chosen is None and verified:
                raise AccessDenied(
                    f"contact {contact_id} is not verified for an account with service at premise "
                    f"{premise_id}"
                )
        return ContactAccess(
            staff_name=staff.name,
            actor=staff.actor,
            role=staff.role.value,
            account_id=chosen,
            premise_id=premise_id,
            contact_id=contact_id,
            reason=None,
        )

    async def note_change(self, access: port.ContactAccess, topic: str, summary: str) -> None:
        """Log a change made for the customer on the contact (the wrap-up note is drafted from it)."""
        if access.contact_id is None:
            return
        async with self.db.session() as s:
            self._add_action(
                s, access.contact_id, access.actor, f"change.{topic}", summary, access.account_id
            )


# ---------------------------------------------------------------------------------------------------
# The guard as a request check


def _guard(request: Request[Any, Any, Any]) -> Guard:
    found = running_service(hub_of(request))
    if not isinstance(found, Guard):
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
    reason: str | None = None,
    record: bool = True,
) -> ContactAccess:
    """The verified-contact guard for a route on an account's data (ARCHITECTURE §6).

    Passes when ``X-Contact-Id`` names the caller's open contact verified for ``account_id``, or when a
    lead, supervisor or the CRO gives ``X-Access-Reason``; otherwise raises 403 saying what is missing.
    Every pass is audited (with ``purpose`` and the contact or reason); a read is logged on the contact
    under ``topic`` (its wrap-up note is drafted from that log), a ``change`` is logged by the workflow
    once done. Call it after checking that the account exists, so an unknown id is a 404. A page form,
    which cannot send headers, passes the contact and the reason it carries as ``contact_id`` and
    ``reason``; the headers win over them. A recorded pass marks the request (``core.contract.scope``),
    so the core can tell that a handler declared on an account's data did ask; ``record=False`` only decides.
    """
    try:
        access = await _guard(request).authorize(
            current_staff(request),
            contact_id=_contact_header(request) or contact_id,
            reason=request.headers.get(REASON_HEADER) or reason,
            purpose=purpose,
            account_id=account_id,
            topic=topic,
            change=change,
            record=record,
        )
    except AccessDenied as exc:
        raise PermissionDeniedException(str(exc)) from None
    except NotFound as exc:
        raise NotFoundException(str(exc)) from None
    if record:
        mark_guard_asked(request.scope, account_id)
    return access


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
    docs/rules.md §4.2: reporting a danger never waits for verification).
    """
    try:
        access = await _guard(request).authorize(
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
    mark_guard_asked(request.scope, None, premise_id)
    return access
