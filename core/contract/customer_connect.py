"""Customer Connect (Oracle B2C Service incidents) as plugins see it: its resources, its errors, the port.

The connector (``connectors.customer_connect``, published as ``crm.http``/``crm.https``) implements
:class:`CustomerConnect` and raises these errors; a plugin never imports it. A plugin whose config names a
site gets a client with :func:`customer_connect`::

    async with customer_connect(ctx, config.base_url, user=config.user, password=config.password) as cc:
        incidents = await cc.list_incidents(status_type="unresolved")

Options go to the connector as they are (``timeout``, ``retries``, ``transport`` — tests pass an ASGI
transport to reach a simulator in process).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import msgspec

if TYPE_CHECKING:
    from core.contract.descriptors import PluginContext

__all__ = [
    "AuthenticationFailed",
    "Contact",
    "CustomFields",
    "CustomerConnect",
    "CustomerConnectError",
    "EntryType",
    "Incident",
    "IncidentNotFound",
    "InvalidRequest",
    "NamedId",
    "ServiceUnavailable",
    "StatusType",
    "StatusWithType",
    "Thread",
    "customer_connect",
]

StatusType = Literal["unresolved", "waiting", "solved"]
EntryType = Literal["staff_response", "private_note", "customer_proxy"]


class CustomerConnectError(Exception):
    """Any failure talking to the Connect REST API."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class AuthenticationFailed(CustomerConnectError):
    """The site refused the credentials (401) or the account's permissions (403)."""


class IncidentNotFound(CustomerConnectError):
    """No incident with that id or reference number."""


class InvalidRequest(CustomerConnectError):
    """The site rejected the request's content (bad status name, empty text, malformed query…)."""


class ServiceUnavailable(CustomerConnectError):
    """The site did not answer usefully: timeout, refused connection, 5xx or rate limiting."""


# -- typed resources --
class NamedId(msgspec.Struct, frozen=True, rename="camel"):
    id: int | None = None
    lookup_name: str | None = None


class StatusWithType(msgspec.Struct, frozen=True, rename="camel"):
    status: NamedId
    status_type: NamedId


class Contact(msgspec.Struct, frozen=True, rename="camel"):
    id: int
    lookup_name: str | None = None


class CustomFields(msgspec.Struct, frozen=True):
    c: dict[str, Any] = {}


class Thread(msgspec.Struct, frozen=True, rename="camel"):
    id: int
    entry_type: NamedId
    text: str
    created_time: dt.datetime
    display_order: int = 0
    channel: NamedId | None = None
    account: NamedId | None = None
    contact: NamedId | None = None

    @property
    def is_private(self) -> bool:
        return (self.entry_type.lookup_name or "").lower() in {"private note", "note"}


class Incident(msgspec.Struct, frozen=True, rename="camel"):
    id: int
    lookup_name: str
    subject: str
    status_with_type: StatusWithType
    created_time: dt.datetime
    updated_time: dt.datetime
    closed_time: dt.datetime | None = None
    primary_contact: Contact | None = None
    channel: NamedId | None = None
    category: NamedId | None = None
    custom_fields: CustomFields | None = None
    # Filled by get_incident (a second request); None when not fetched.
    threads: list[Thread] | None = msgspec.field(default=None, name="_threads")

    @property
    def reference_number(self) -> str:
        return self.lookup_name

    @property
    def status(self) -> str:
        return self.status_with_type.status.lookup_name or ""

    @property
    def status_type(self) -> str:
        return (self.status_with_type.status_type.lookup_name or "").lower()


@runtime_checkable  # customer_connect() checks what the connector built against it
class CustomerConnect(Protocol):
    """A Connect REST client, used as ``async with``: incidents and their threads."""

    async def __aenter__(self) -> CustomerConnect: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def aclose(self) -> None: ...

    async def list_incidents(
        self,
        *,
        status_type: StatusType | None = None,
        updated_since: dt.datetime | None = None,
        limit: int = 100,
    ) -> list[Incident]:
        """Incidents by status type and/or last update, oldest id first, without their threads."""
        ...

    async def get_incident(self, key: int | str, *, threads: bool = True) -> Incident:
        """An incident by numeric id or by reference number (``YYMMDD-NNNNNN``)."""
        ...

    async def list_threads(self, incident_id: int) -> list[Thread]:
        """An incident's threads."""
        ...

    async def add_thread(self, incident_id: int, entry_type: EntryType, text: str) -> Thread:
        """Add a staff response, a private note or a customer-proxy entry; returns the stored thread."""
        ...


def customer_connect(ctx: PluginContext, base_url: str, **options: Any) -> CustomerConnect:
    """A client for the Customer Connect site at ``base_url`` (the ``crm`` connector for its scheme).

    ``options`` go to the connector (``user``, ``password``, ``timeout``, ``retries``, ``transport`` …).
    Raises ``ValueError`` naming the plugin's settings when no connector serves the URL or it is malformed.
    """
    client = ctx.connect("crm", base_url, **options)
    if not isinstance(client, CustomerConnect):
        raise TypeError(
            f"the crm connector for {base_url.split(':', 1)[0]}:// is not a Customer Connect client"
        )
    return client
