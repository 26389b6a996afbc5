"""Client for Oracle B2C Service ("Customer Connect", Service Cloud, RightNow) incidents over Connect REST.

Talks to ``{base_url}/services/rest/connect/v1.4`` (docs/ccb-domain.md §3) with HTTP Basic credentials of an
integration account. Incidents are listed with a ROQL ``q`` filter, read one by one by id (the collection
only carries ids and reference numbers), and found by reference number (``YYMMDD-NNNNNN``) through
``q=referenceNumber='…'``. Replies and notes are added as threads (the ``threads`` sub-resource); status
changes are a PATCH of ``statusWithType``.

Statuses and entry types are matched by name, not by id: the reference verifies the names (status types
Unresolved / Waiting / Solved; entry types Private Note, Staff Response, Customer Entry …) but not the ids
a given site uses (§7).

Failures are raised as :class:`CustomerConnectError` subclasses: :class:`AuthenticationFailed` (401/403),
:class:`IncidentNotFound` (404), :class:`InvalidRequest` (400/409/422), :class:`ServiceUnavailable`
(5xx, 429, timeouts, refused connections, after retries where allowed). Only GETs are retried, with
exponential backoff: repeating a POST could add the same reply twice, and a PATCH is cheap to redo by the
caller who knows whether it is safe.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Sequence
from typing import Any, Self
from urllib.parse import unquote, urlsplit

import httpx
import msgspec

# The resources and errors are the contract's (core.contract.customer_connect): plugins catch and read
# the very classes this client raises and decodes.
from core.contract.customer_connect import (
    AuthenticationFailed,
    Contact,
    CustomerConnectError,
    EntryType,
    Incident,
    IncidentNotFound,
    InvalidRequest,
    NamedId,
    ServiceUnavailable,
    StatusType,
    Thread,
)
from core.retry import NETWORK

__all__ = [
    "API_PREFIX",
    "AuthenticationFailed",
    "Contact",
    "CustomerConnectClient",
    "CustomerConnectError",
    "EntryType",
    "Incident",
    "IncidentNotFound",
    "InvalidRequest",
    "NamedId",
    "ServiceUnavailable",
    "StatusType",
    "Thread",
]

API_PREFIX = "/services/rest/connect/v1.4"
REFERENCE_RE = re.compile(r"^\d{6}-\d{6}$")

# Names on the wire for the entry types a staff-side integration writes (§3).
_ENTRY_TYPE_NAMES: dict[str, str] = {
    "staff_response": "Staff Response",
    "private_note": "Private Note",
    "customer_proxy": "Customer Proxy",
}


class _Row(msgspec.Struct, rename="camel"):
    id: int
    lookup_name: str | None = None


class _Page(msgspec.Struct, rename="camel"):
    items: list[_Row]
    has_more: bool = False


class _ThreadPage(msgspec.Struct, rename="camel"):
    items: list[Thread]


def _roql_time(when: dt.datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("updated_since must be timezone-aware")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class CustomerConnectClient:
    """Async Connect REST client; use as ``async with CustomerConnectClient(...) as cc:``.

    ``timeout`` bounds each request (connect, read, write, pool); ``retries`` is how many times a GET is
    repeated after a timeout, a connection error, a 5xx or a 429, waiting ``backoff * 2**attempt`` seconds
    (plus up to half a ``backoff`` of jitter) under the hub's retry policy (:mod:`core.retry`).
    ``transport`` replaces the network (tests pass an ASGI transport). ``app_context`` is sent as the
    ``OSvC-CREST-Application-Context`` header that Connect REST expects to name the calling integration.
    """

    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        *,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.2,
        concurrency: int = 8,
        transport: httpx.AsyncBaseTransport | None = None,
        app_context: str = "ccbhub",
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if retries < 0:
            raise ValueError("retries must not be negative")
        self.retries = retries
        self.backoff = backoff
        self._semaphore = asyncio.Semaphore(max(1, concurrency))
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + API_PREFIX,
            auth=httpx.BasicAuth(user, password),
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"Accept": "application/json", "OSvC-CREST-Application-Context": app_context},
        )

    @classmethod
    def from_url(
        cls, url: str, *, user: str | None = None, password: str | None = None, **kwargs: Any
    ) -> CustomerConnectClient:
        """The ``crm.http``/``crm.https`` connector: ``https://user:password@site.example.com[/path]``.

        ``user`` and ``password``, when given, win over the URL's (a plugin's config keeps them apart).
        """
        parts = urlsplit(url)
        if (
            parts.scheme not in {"http", "https"}
            or not parts.hostname
            or (user is None and not parts.username)
        ):
            raise ValueError("expected http(s)://user:password@host[:port] for Customer Connect")
        base = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"
        return cls(
            base,
            user if user is not None else unquote(parts.username or ""),
            password if password is not None else unquote(parts.password or ""),
            **kwargs,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- transport --
    async def _request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> httpx.Response:
        # Only a GET is repeated (see the module docstring); the waits follow the hub's retry policy.
        policy = NETWORK.replace(
            attempts=1 + (self.retries if method == "GET" else 0),
            wait_initial_s=self.backoff,
            wait_max_s=max(self.backoff * 2**self.retries, self.backoff),
            jitter_s=self.backoff / 2,
        )
        return await policy.call(
            ServiceUnavailable, self._request_once, method, path, params=params, json=json
        )

    async def _request_once(
        self, method: str, path: str, *, params: dict[str, Any] | None, json: Any
    ) -> httpx.Response:
        try:
            async with self._semaphore:
                response = await self._http.request(method, path, params=params, json=json)
        except httpx.TimeoutException as exc:
            raise ServiceUnavailable(f"{method} {path} timed out: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"{method} {path} failed: {exc!r}") from exc
        if response.status_code >= 400:
            # 5xx and 429 come back as ServiceUnavailable, the one error worth another try.
            raise self._error(method, path, response)
        return response

    @staticmethod
    def _error(method: str, path: str, response: httpx.Response) -> CustomerConnectError:
        detail, code = response.text[:300], None
        try:
            body = response.json()
            if isinstance(body, dict):
                detail = str(body.get("detail") or body.get("title") or detail)
                code = body.get("o:errorCode")
        except ValueError:
            pass
        status = response.status_code
        message = f"{method} {path}: {status} {detail}"
        kind: type[CustomerConnectError]
        if status in (401, 403):
            kind = AuthenticationFailed
        elif status == 404:
            kind = IncidentNotFound
        elif status in (400, 409, 422):
            kind = InvalidRequest
        elif status >= 500 or status == 429:
            kind = ServiceUnavailable
        else:
            kind = CustomerConnectError
        return kind(message, status=status, code=code)

    @staticmethod
    def _decode(response: httpx.Response, kind: type[Any]) -> Any:
        try:
            return msgspec.json.decode(response.content, type=kind)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise CustomerConnectError(f"unexpected response from {response.request.url}: {exc}") from None

    # -- reads --
    async def _find_ids(self, where: str | None, limit: int) -> list[int]:
        ids: list[int] = []
        offset = 0
        while len(ids) < limit:
            params: dict[str, Any] = {"limit": min(limit - len(ids), 1000), "offset": offset}
            if where:
                params["q"] = where
            page: _Page = self._decode(await self._request("GET", "/incidents", params=params), _Page)
            ids += [row.id for row in page.items]
            offset += len(page.items)
            if not page.has_more or not page.items:
                break
        return ids[:limit]

    async def _read(self, incident_id: int) -> Incident:
        incident: Incident = self._decode(await self._request("GET", f"/incidents/{incident_id}"), Incident)
        return incident

    async def list_incidents(
        self,
        *,
        status_type: StatusType | None = None,
        updated_since: dt.datetime | None = None,
        limit: int = 100,
    ) -> list[Incident]:
        """Incidents by status type and/or last update (exclusive), oldest id first, at most ``limit``.

        The collection carries only ids, so each incident is then read by id (``concurrency`` at a time).
        Threads are not fetched (``Incident.threads`` is None); use :meth:`get_incident` or
        :meth:`list_threads` for them.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        clauses = []
        if status_type is not None:
            if status_type not in ("unresolved", "waiting", "solved"):
                raise ValueError(f"unknown status type {status_type!r}")
            clauses.append(f"statusWithType.statusType.lookupName = {_quote(status_type.capitalize())}")
        if updated_since is not None:
            clauses.append(f"updatedTime > {_quote(_roql_time(updated_since))}")
        ids = await self._find_ids(" and ".join(clauses) or None, limit)
        return list(await asyncio.gather(*(self._read(i) for i in ids)))

    async def find_id(self, reference_number: str) -> int:
        """The numeric id of the incident with this ``YYMMDD-NNNNNN`` reference number."""
        if not REFERENCE_RE.match(reference_number):
            raise ValueError(f"not a reference number (YYMMDD-NNNNNN): {reference_number!r}")
        ids = await self._find_ids(f"referenceNumber = {_quote(reference_number)}", 1)
        if not ids:
            raise IncidentNotFound(f"no incident has reference number {reference_number}", status=404)
        return ids[0]

    async def get_incident(self, key: int | str, *, threads: bool = True) -> Incident:
        """An incident by numeric id or by reference number, with its threads unless ``threads=False``."""
        if isinstance(key, str):
            incident_id = int(key) if key.isdigit() else await self.find_id(key)
        else:
            incident_id = key
        incident = await self._read(incident_id)
        if threads:
            incident = msgspec.structs.replace(incident, threads=await self.list_threads(incident_id))
        return incident

    async def list_threads(self, incident_id: int) -> list[Thread]:
        page: _ThreadPage = self._decode(
            await self._request("GET", f"/incidents/{incident_id}/threads"), _ThreadPage
        )
        return page.items

    # -- writes (never retried) --
    async def add_thread(self, incident_id: int, entry_type: EntryType, text: str) -> Thread:
        """Add a staff response, a private note or a customer-proxy entry; returns the stored thread.

        The site moves an Unresolved incident to Waiting when a staff response is added; call
        :meth:`set_status` afterwards to mark it Solved instead.
        """
        if entry_type not in _ENTRY_TYPE_NAMES:
            raise ValueError(f"entry_type must be one of {sorted(_ENTRY_TYPE_NAMES)}")
        if not text.strip():
            raise ValueError("text must not be empty")
        body = {"entryType": {"lookupName": _ENTRY_TYPE_NAMES[entry_type]}, "text": text}
        response = await self._request("POST", f"/incidents/{incident_id}/threads", json=body)
        thread: Thread = self._decode(response, Thread)
        return thread

    async def set_status(self, incident_id: int, status: str) -> Incident:
        """Set the status by name (``Unresolved``, ``Updated``, ``Waiting``, ``Solved`` or a site's own)."""
        if not status.strip():
            raise ValueError("status must not be empty")
        body = {"statusWithType": {"status": {"lookupName": status}}}
        await self._request("PATCH", f"/incidents/{incident_id}", json=body)
        return await self._read(incident_id)

    async def create_incident(
        self, subject: str, text: str, *, contact_id: int | None = None, channel: str = "Email"
    ) -> Incident:
        """Open an incident with a first customer entry (used by tests and for phone/web intake)."""
        body: dict[str, Any] = {
            "subject": subject,
            "channel": {"lookupName": channel},
            "threads": [{"entryType": {"lookupName": "Customer Entry"}, "text": text}],
        }
        if contact_id is not None:
            body["primaryContact"] = {"id": contact_id}
        incident: Incident = self._decode(await self._request("POST", "/incidents", json=body), Incident)
        return incident

    async def get_incidents(self, keys: Sequence[int | str]) -> list[Incident]:
        """Several incidents (ids or reference numbers) concurrently, without threads."""
        return list(await asyncio.gather(*(self.get_incident(k, threads=False) for k in keys)))
