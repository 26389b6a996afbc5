"""Guards: who may call what. Deny by default.

Every route handler declares its policy in ``opt``:

* ``opt={"access": "public"}`` — anyone (health probes, the login page, static files);
* ``opt={"access": "staff"}`` — any authenticated staff member;
* ``opt={"roles": ["lead", "supervisor"]}`` — staff with one of these roles.

A handler with no policy answers 403: forgetting to declare one can never open a route. On top of that a
plugin's handlers (``opt["plugin"]``) answer only while the plugin is running (503 otherwise) and only to
staff of a section where the plugin is enabled (403 otherwise). An integer path parameter beyond the
32-bit row ids names no record: 404 before the handler runs.

Every handler also declares what customer data it answers with (``opt["customer_data"]``, a
``core.contract.scope.Scope``). A handler without one answers 403 too, and :func:`check_declarations`
refuses to build an app that has one. For ``account(path=…)``/``account(body=…)`` the guard runs the
verified-contact check before the handler; for every account or premise declaration
:class:`CustomerDataMiddleware` refuses a successful answer (500, nothing of it sent) when the handler never
asked the verified-contact guard during the request.

The API (``/api``) authenticates with ``Authorization: Bearer <token>``; the web UI (``/ui``) with the
session cookie set at login.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from litestar.connection import ASGIConnection
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ServiceUnavailableException,
)
from litestar.handlers.base import BaseRouteHandler

from core.bad_input import check_int_params
from core.contract.scope import NONE, OPT_KEY, Scope, guard_was_asked, mark_checked
from core.contract.staff import Role, Staff
from core.contract.web import current_staff

__all__ = [
    "CustomerDataMiddleware",
    "access_guard",
    "authenticate",
    "check_declarations",
    "current_staff",
    "declared_scope",
    "hub_of",
]

if TYPE_CHECKING:
    from core.hub import Hub

log = logging.getLogger("ccbhub.security")
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
    """The app-wide guard; see the module docstring for the policy it enforces.

    Once the caller may call the route, its integer parameters are bounded (``core.bad_input``), so an
    id no row can have is a 404 here rather than an overflow in the database driver.
    """
    await _authorize(connection, handler)
    check_int_params(connection, handler)


async def _authorize(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
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
    declared = declared_scope(handler, connection.scope["path"])
    if declared is None:
        raise PermissionDeniedException("this route declares no customer-data scope")
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
    if declared.checked_by_core:
        await _check_account(connection, declared)


def declared_scope(handler: BaseRouteHandler, path: str = "") -> Scope | None:
    """The handler's customer-data declaration; public routes (health, login, static, schema) are NONE."""
    found = handler.opt.get(OPT_KEY)
    if isinstance(found, Scope):
        return found
    if handler.opt.get("access") == "public" or path.startswith(PUBLIC_PREFIXES):
        return NONE
    return None


async def _check_account(connection: ASGIConnection[Any, Any, Any, Any], declared: Scope) -> None:
    """The verified-contact check for an account named in the path or the body, before the handler runs.

    Only a decision (the handler's own call to the guard audits the pass and logs it on the contact); a
    page form's ``contact_id``/``reason`` query parameters count as the headers do.
    """
    from litestar import Request

    # Imported here: the contact part imports this module for ``current_staff`` and ``hub_of``.
    from core.contact.guard import require_verified

    account_id: Any = None
    query = connection.query_params
    contact_id: Any = query.get("contact_id") or None
    if declared.path is not None:
        account_id = connection.path_params.get(declared.path)
    elif declared.body is not None and isinstance(connection, Request):
        try:
            body = await connection.json()
        except Exception:  # a body that is not JSON: the handler's decoder answers 400
            return
        if isinstance(body, dict):
            account_id = body.get(declared.body)
            # A JSON body may name the contact it is made in, as the header does (the header wins).
            contact_id = contact_id or (
                body.get("contact_id") if isinstance(body.get("contact_id"), str) else None
            )
    if not isinstance(account_id, str) or not account_id:
        return  # absent: the handler's input check answers (and the middleware still needs its guard call)
    named_contact = contact_id is not None or bool(connection.headers.get("x-contact-id"))
    try:
        await require_verified(
            connection,  # type: ignore[arg-type]
            account_id,
            contact_id=contact_id or None,
            reason=query.get("reason") or None,
            record=False,
        )
        mark_checked(connection.scope)
    except PermissionDeniedException:
        if declared.body is not None and named_contact:
            # The body names a contact the guard refused: the handler checks its input first (a bad id is
            # a 422 naming the field), then asks the guard, which refuses again; it cannot answer without.
            return
        # An unknown (or malformed) account stays a 404, as when the handler looks before asking.
        from core.ccb.errors import Invalid, NotFound

        try:
            await hub_of(connection).ccb.get_account_summary(account_id)
        except (NotFound, Invalid):
            if declared.body is not None:
                return  # the handler's own decoding names the field (422) or the account (404)
            raise NotFoundException(f"no account {account_id}") from None
        raise


def check_declarations(routes: list[tuple[str, BaseRouteHandler]]) -> None:
    """Refuse to start with a route handler that declares no customer-data scope (names them all).

    ``routes`` pairs each handler with its full path; Litestar's own OPTIONS answers hold no data.
    """
    missing: list[str] = []
    for path, handler in routes:
        if set(getattr(handler, "http_methods", ())) == {"OPTIONS"}:
            continue
        if declared_scope(handler, path) is None:
            fn = getattr(handler, "fn", None)
            missing.append(f"{path} ({getattr(fn, '__qualname__', handler)})")
    if missing:
        raise RuntimeError(
            "route handlers without opt['customer_data'] (core.contract.scope): " + "; ".join(missing)
        )


class CustomerDataMiddleware:
    """Refuses a success from an account- or premise-scoped handler that never asked the guard.

    It watches the response's start: a 2xx/3xx answer of such a handler without a guard pass in the request
    is replaced by a 500 before anything of it is sent. For ``account(path=…)``/``account(body=…)`` the
    core's own check before the handler counts (an idempotent replay answers without asking again).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        handler = scope.get("route_handler") if scope.get("type") == "http" else None
        declared = handler.opt.get(OPT_KEY) if handler is not None else None
        if not isinstance(declared, Scope) or not declared.needs_guard:
            await self.app(scope, receive, send)
            return
        refused = False

        async def checked_send(message: Any) -> None:
            nonlocal refused
            if message["type"] == "http.response.start":
                passed = guard_was_asked(scope) or (
                    declared.checked_by_core and guard_was_asked(scope, checked=True)
                )
                if message["status"] < 400 and not passed:
                    refused = True
                    fn = getattr(handler, "fn", None)
                    log.error(
                        "%s %s: declared %s but never asked the verified-contact guard; answer refused",
                        scope.get("method"),
                        scope.get("path"),
                        declared,
                        extra={"handler": getattr(fn, "__qualname__", "?")},
                    )
                    body = b'{"status_code":500,"detail":"customer data without the verified-contact guard"}'
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 500,
                            "headers": [
                                (b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": body, "more_body": False})
                    return
            if refused:
                return
            await send(message)

        await self.app(scope, receive, checked_send)
