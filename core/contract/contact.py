"""The verified-contact guard as a dependency: customer data only inside a verified contact (ARCHITECTURE §6).

A handler that touches one account's data takes ``guard: ContactGuard`` and calls
``await guard.account(account_id, purpose=...)`` after it has checked that the account exists (so an unknown
id stays a 404). The guard passes when the request's ``X-Contact-Id`` names the caller's open contact
verified for that account — or when a lead, supervisor or the CRO gives ``X-Access-Reason`` — and every
pass is audited. It is implemented once, by the core's contact part, and offered to the app through
``hub_provide_services`` as a :class:`ContactGuardFactory`.

The part also offers :class:`ContactDesk` — contacts as a plugin works them itself (the e-team opens and
verifies its own, Serving Our Seniors checks the one a referral names) — reached with
:func:`contact_desk` (None while the contact part is not running). Its answers are typed by
the attributes plugins read (:class:`ContactSummary`, :class:`VerifyResult`); its refusals are
:class:`AccessDenied` and :class:`Locked`, the very classes the part raises.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import ServiceUnavailableException

from core.contract.ccb import IdentityMethod
from core.contract.staff import Role, Staff

if TYPE_CHECKING:
    from core.contract.descriptors import PluginContext

__all__ = [
    "CONTACT_HEADER",
    "CONTACT_ROLES",
    "REASON_HEADER",
    "REASON_ROLES",
    "AccessDenied",
    "ContactAccess",
    "ContactDesk",
    "ContactGuard",
    "ContactGuardFactory",
    "ContactSummary",
    "Guard",
    "Locked",
    "VerifyResult",
    "contact_desk",
    "provide_guard",
]

CONTACT_HEADER = "X-Contact-Id"
REASON_HEADER = "X-Access-Reason"
# Who may reach customer data without a verified contact, by giving a reason (audited).
REASON_ROLES = frozenset({Role.LEAD, Role.SUPERVISOR, Role.CRO})
# Staff who work customer contacts (IT, security and admins do not): ``opt={"roles": list(CONTACT_ROLES)}``.
CONTACT_ROLES = ("csr", "lead", "supervisor", "cro", "eteam", "solar")


class AccessDenied(Exception):
    """The caller may not reach this customer data or contact (HTTP 403)."""


class Locked(Exception):
    """Verification is locked: for this contact, or for the account (HTTP 423)."""

    def __init__(self, message: str, *, scope: Literal["contact", "account"], attempts_left: int) -> None:
        super().__init__(message)
        self.scope = scope
        self.attempts_left = attempts_left


class ContactAccess(Protocol):
    """Why a request may reach an account's (or premise's) data: a verified contact, or a recorded reason."""

    @property
    def staff_name(self) -> str: ...

    @property
    def actor(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def account_id(self) -> str | None: ...

    @property
    def premise_id(self) -> str | None: ...

    @property
    def contact_id(self) -> str | None: ...

    @property
    def reason(self) -> str | None: ...


@runtime_checkable  # handlers take it as a typed parameter, which Litestar checks with isinstance
class ContactGuard(Protocol):
    """The guard bound to one request."""

    async def account(
        self,
        account_id: str,
        *,
        purpose: str = "customer data",
        topic: str = "account",
        change: bool = False,
        contact_id: str | None = None,
        reason: str | None = None,
    ) -> ContactAccess:
        """Pass for ``account_id`` or raise 403 saying what is missing (404 for an unknown account).

        ``contact_id`` and ``reason`` are what a page form carries (it cannot send headers); the
        request's ``X-Contact-Id`` and ``X-Access-Reason`` win over them. A ``change`` is not logged on
        the contact by the pass: call :meth:`note_change` once the change has succeeded.
        """
        ...

    async def premise(
        self,
        premise_id: str,
        *,
        purpose: str,
        verified: bool = True,
        topic: str = "premise",
        change: bool = False,
    ) -> ContactAccess:
        """Pass for a premise: a contact verified for an account with service there (or a reason)."""
        ...

    async def note_change(self, access: ContactAccess, topic: str, text: str) -> None:
        """Log a change made for the customer on the pass's contact (its wrap-up note is drafted from the
        log); nothing when the pass came from a reason rather than a contact."""
        ...


@runtime_checkable
class ContactGuardFactory(Protocol):
    """What the contact part offers: a guard for a request."""

    def __call__(self, request: Request[Any, Any, Any]) -> ContactGuard: ...


class ContactSummary(Protocol):
    """A contact as a plugin reads it (the contact part answers with its full view)."""

    @property
    def contact_id(self) -> str: ...

    @property
    def channel(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def owner(self) -> str | None: ...

    @property
    def opened_at(self) -> dt.datetime: ...

    @property
    def account_id(self) -> str | None: ...

    @property
    def verified_accounts(self) -> Sequence[str]: ...

    @property
    def locked(self) -> bool: ...


class VerifyResult(Protocol):
    """One identity check: pass or fail only (docs/rules.md §4.2: never which factor or what is on file)."""

    @property
    def verified(self) -> bool: ...

    @property
    def attempts_left(self) -> int: ...

    @property
    def locked(self) -> Literal["contact", "account"] | None: ...


@runtime_checkable
class ContactDesk(Protocol):
    """Contacts as a plugin works them itself; offered by the contact part.

    Refusals: :class:`AccessDenied` (not the caller's contact, or no access), :class:`Locked`,
    and the CCB port's ``NotFound``/``Invalid``/``IllegalTransition`` (``core.contract.ccb``).
    """

    async def my_contacts(self, staff: Staff) -> Sequence[ContactSummary]:
        """The caller's open contacts (and those waiting for wrap-up), newest first."""
        ...

    async def get_contact(self, staff: Staff, contact_id: str) -> ContactSummary:
        """One contact, if the caller may see it (its owner or a supervising role)."""
        ...

    async def open_contact(
        self,
        *,
        channel: str,
        actor: str,
        owner: str | None,
        ani: str | None = None,
        account_id: str | None = None,
        dialog_id: str | None = None,
    ) -> ContactSummary:
        """Open a contact (call, counter visit, email) owned by ``owner``."""
        ...

    async def verify(
        self, staff: Staff, contact_id: str, account_id: str, method: IdentityMethod, value: str
    ) -> VerifyResult:
        """Check one identity factor for ``account_id`` inside the contact."""
        ...

    async def wrap_up(
        self,
        staff: Staff,
        contact_id: str,
        *,
        note_kind: Literal["customer", "premise"],
        note: str | None,
        premise_id: str | None = None,
        account_id: str | None = None,
    ) -> ContactSummary:
        """Close the contact; its note (or one drafted from its log) goes to CCB."""
        ...

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
    ) -> ContactAccess:
        """The guard's decision for a contact the request does not name (e.g. one just verified):
        audited and logged on the contact like every pass; raises :class:`AccessDenied`."""
        ...


def contact_desk(ctx: PluginContext) -> ContactDesk | None:
    """The contact part's desk as ``ctx`` sees it, or None while the part is not running."""
    # A Protocol is what the directory is keyed by; mypy wants a concrete class for ``type[T]``.
    return ctx.services.get(ContactDesk)


async def provide_guard(request: Request[Any, Any, Any]) -> ContactGuard:
    """Dependency ``guard``: the verified-contact guard for this request."""
    factory: ContactGuardFactory | None = request.app.state.get("contact_guard")
    if factory is None:
        raise ServiceUnavailableException("the contact layer is not running")
    return factory(request)


# The handler parameter type: ``guard: Guard``.
Guard = NamedDependency[ContactGuard]
