"""The security headers every answer carries, and when a request counts as HTTPS (one app-wide hook).

:func:`security_headers` is a Litestar ``before_send`` hook, so it sees every response the app sends —
a handler's, an exception handler's, a 404 of the router, a static file — without any handler taking part:

* ``Content-Security-Policy`` (:data:`CSP`): scripts, styles and images only from the hub itself (pages
  hold no inline script, event handler or ``style`` attribute), never framed, forms post only to the hub.
  The API explorer under ``/schema`` is Litestar's page, which loads Swagger UI from its CDN and starts
  it with an inline script; it gets :data:`CSP_API_EXPLORER` (it shows the schema, never customer data);
* ``X-Frame-Options: DENY``, ``Referrer-Policy: same-origin``, ``X-Content-Type-Options: nosniff``;
* ``Cache-Control: no-store`` on everything under ``/ui`` and ``/api`` (pages and answers that may hold
  customer data are never kept by a browser or a proxy);
* over HTTPS, ``Strict-Transport-Security`` and the ``Secure`` flag on every cookie the hub sets (the
  session and the CSRF cookie).

A request is HTTPS when the server says so (``scope["scheme"]``) or when a trusted reverse proxy says so:
``X-Forwarded-Proto: https`` counts only from a peer listed in ``HUB_TRUSTED_PROXIES`` (addresses or
networks), since anyone else could send the header.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from litestar.types import Message, Scope

__all__ = ["CSP", "CSP_API_EXPLORER", "HSTS", "Network", "is_https", "parse_networks", "security_headers"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
_EXPLORER_CDN = "https://cdn.jsdelivr.net"
CSP_API_EXPLORER = (
    f"default-src 'self'; script-src 'self' 'unsafe-inline' {_EXPLORER_CDN}; "
    f"style-src 'self' 'unsafe-inline' {_EXPLORER_CDN}; img-src 'self' data: {_EXPLORER_CDN}; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
HSTS = "max-age=31536000"

_ALWAYS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"x-content-type-options", b"nosniff"),
)
_PRIVATE_PREFIXES = ("/ui", "/api")


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``10.0.0.5``, ``10.0.0.0/8``, ``::1`` → networks; raises ValueError naming a bad entry."""
    networks: list[Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return tuple(networks)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def is_https(scope: Scope, trusted: tuple[Network, ...]) -> bool:
    """Whether the browser reached the hub over HTTPS (directly, or through a trusted proxy)."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    if not trusted:
        return False
    client = scope.get("client")
    if not client:
        return False
    try:
        peer = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    if not any(peer in network for network in trusted):
        return False
    forwarded = _header(scope, b"x-forwarded-proto")
    # A chain of proxies appends; the first value is what the browser used.
    return forwarded is not None and forwarded.split(b",", 1)[0].strip().lower() == b"https"


def _secure_cookie(value: bytes) -> bytes:
    attributes = [part.strip().lower() for part in value.split(b";")[1:]]
    return value if b"secure" in attributes else value + b"; Secure"


def security_headers(trusted: tuple[Network, ...]) -> Callable[[Message, Scope], Awaitable[None]]:
    """The ``before_send`` hook adding the headers above to every response start."""

    async def hook(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        path: str = scope.get("path", "")
        headers: list[tuple[bytes, bytes]] = []
        present: set[bytes] = set()
        private = path.startswith(_PRIVATE_PREFIXES)
        https = is_https(scope, trusted)
        for key, value in message.get("headers", ()):
            name = bytes(key).lower()
            if private and name == b"cache-control" and b"no-store" not in bytes(value).lower():
                continue  # replaced by no-store below (a handler's own "private, no-store" stays)
            if https and name == b"set-cookie":
                value = _secure_cookie(bytes(value))
            present.add(name)
            headers.append((bytes(key), bytes(value)))
        if b"content-security-policy" not in present:
            policy = CSP_API_EXPLORER if path.startswith("/schema") else CSP
            headers.append((b"content-security-policy", policy.encode()))
        headers.extend(item for item in _ALWAYS if item[0] not in present)
        if private and b"cache-control" not in present:
            headers.append((b"cache-control", b"no-store"))
        if https and b"strict-transport-security" not in present:
            headers.append((b"strict-transport-security", HSTS.encode()))
        message_any: Any = message
        message_any["headers"] = headers

    return hook
