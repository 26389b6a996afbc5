"""Guards: who may call what. Deny by default.

Every route handler declares its policy in ``opt``:

* ``opt={"access": "public"}`` — anyone (health probes, the login page, static files);
* ``opt={"access": "staff"}`` — any authenticated staff member;
* ``opt={"roles": ["lead", "supervisor"]}`` — staff with one of these roles.

A handler with no policy answers 403: forgetting to declare one can never open a route. On top of that a
plugin's handlers (``opt["plugin"]``) answer only while the plugin is running (503 otherwise) and only to
staff of a section where the plugin is enabled (403 otherwise). An integer path parameter beyond the
32-bit row ids names no record: 404 before the handler runs.

The API (``/api``) authenticates with ``Authorization: Bearer <token>``; the web UI (``/ui``) with the
session cookie set at login.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.connection import ASGIConnection
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ServiceUnavailableException,
)
from litestar.handlers.base import BaseRouteHandler

from core.contract.staff import Role, Staff
from core.contract.web import current_staff

__all__ = ["access_guard", "authenticate", "current_staff", "hub_of"]

if TYPE_CHECKING:
    from core.hub import Hub

SESSION_COOKIE = "hub_session"
PUBLIC_PREFIXES = ("/schema", "/static")


def hub_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Hub:
    hub: Hub = connection.app.state["hub"]
    return hub


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Staff | None:
    """Resolve the caller from a bearer token (API) or the session cookie (web UI)."""
    hub = hub_of(connection)
    path = connection.scope["path"]
    if path.startswith("/ui"):
        cookie = connection.cookies.get(SESSION_COOKIE)
        return await hub.staff.resolve_session(cookie) if cookie else None
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return await hub.staff.resolve_token(token.strip())


async def access_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The app-wide guard; see the module docstring for the policy it enforces."""
    opt = handler.opt
    access = opt.get("access")
    if access == "public" or connection.scope["path"].startswith(PUBLIC_PREFIXES):
        return
    staff = await authenticate(connection)
    if staff is None:
        raise NotAuthorizedException("authentication required")
    connection.scope["user"] = staff
    roles = opt.get("roles")
    if roles is not None:
        if staff.role not in {Role(r) for r in roles}:
            raise PermissionDeniedException(f"this needs one of the roles: {', '.join(sorted(roles))}")
    elif access != "staff":
        raise PermissionDeniedException("this route declares no access policy")
    part = opt.get("core_part")
    if part:
        rec = hub_of(connection).plugins.records.get(part)
        if rec is None or not rec.running:
            raise ServiceUnavailableException(f"{part} is {rec.status.value if rec else 'missing'}")
    plugin_id = opt.get("plugin")
    if plugin_id:
        hub = hub_of(connection)
        rec = hub.plugins.records.get(plugin_id)
        if rec is None or not rec.running:
            status = rec.status.value if rec else "missing"
            raise ServiceUnavailableException(f"plugin {plugin_id} is {status}")
        if not hub.enablement.allows(plugin_id, staff.sections):
            raise PermissionDeniedException(f"plugin {plugin_id} is not enabled for any of your sections")
    _check_row_ids(connection)


# Integer path parameters name rows, whose ids are 32-bit on every backend: a larger number names nothing
# (and would overflow the database driver, a 500), so it is a 404 before any handler runs.
MAX_ROW_ID = 2**31 - 1


def _check_row_ids(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    for name, value in connection.path_params.items():
        if isinstance(value, int) and not -MAX_ROW_ID <= value <= MAX_ROW_ID:
            raise NotFoundException(f"{name}: no record has the id {value}")
