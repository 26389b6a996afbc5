"""The verified-contact guard as a dependency: customer data only inside a verified contact (ARCHITECTURE §6).

A handler that touches one account's data takes ``guard: ContactGuard`` and calls
``await guard.account(account_id, purpose=...)`` after it has checked that the account exists (so an unknown
id stays a 404). The guard passes when the request's ``X-Contact-Id`` names the caller's open contact
verified for that account — or when a lead, supervisor or the CRO gives ``X-Access-Reason`` — and every
pass is audited. It is implemented once, by the core's contact part, and offered to the app through
``hub_provide_services`` as a :class:`ContactGuardFactory`.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import ServiceUnavailableException

__all__ = [
    "CONTACT_HEADER",
    "REASON_HEADER",
    "ContactAccess",
    "ContactGuard",
    "ContactGuardFactory",
    "Guard",
    "provide_guard",
]

CONTACT_HEADER = "X-Contact-Id"
REASON_HEADER = "X-Access-Reason"


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
    ) -> ContactAccess:
        """Pass for ``account_id`` or raise 403 saying what is missing (404 for an unknown account)."""
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


@runtime_checkable
class ContactGuardFactory(Protocol):
    """What the contact part offers: a guard for a request."""

    def __call__(self, request: Request[Any, Any, Any]) -> ContactGuard: ...


async def provide_guard(request: Request[Any, Any, Any]) -> ContactGuard:
    """Dependency ``guard``: the verified-contact guard for this request."""
    factory: ContactGuardFactory | None = request.app.state.get("contact_guard")
    if factory is None:
        raise ServiceUnavailableException("the contact layer is not running")
    return factory(request)


# The handler parameter type: ``guard: Guard``.
Guard = NamedDependency[ContactGuard]
