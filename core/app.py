"""The Litestar application factory: core routes, the web shell, and the running plugins' routes and pages."""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from litestar import Litestar, Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    SerializationException,
    ValidationException,
)
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.template.config import TemplateConfig

from core import api
from core.bad_input import json_depth_middleware
from core.ccb.offline_api import OFFLINE_EXCEPTION_HANDLERS
from core.contract.contact import ContactGuardFactory, provide_guard
from core.contract.idempotency import provide_idempotency
from core.contract.inputs import InputError
from core.contract.web import Provide, constant, provide_staff
from core.http_headers import parse_networks, security_headers
from core.hub import Hub
from core.openapi import make_truthful
from core.security import SESSION_COOKIE, CustomerDataMiddleware, access_guard, check_declarations
from core.web import pages

log = logging.getLogger("ccbhub.app")
WEB = Path(__file__).parent / "web"
GUARDS = [access_guard]


def _plugin_template_dirs(hub: Hub) -> dict[str, FileSystemLoader]:
    loaders: dict[str, FileSystemLoader] = {}
    for rec in hub.plugins.running():
        module_file = getattr(rec.obj, "__file__", None)
        if module_file:
            folder = Path(module_file).parent / "templates"
            if folder.is_dir():
                loaders[rec.id] = FileSystemLoader(folder)
    return loaders


def _template_engine(hub: Hub) -> JinjaTemplateEngine:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(WEB / "templates"), PrefixLoader(_plugin_template_dirs(hub))]),
        autoescape=select_autoescape(["html"]),
        enable_async=False,
    )
    env.globals["hub_title"] = "ccbhub"
    env.globals["htmx"] = (WEB / "static" / "vendor" / "htmx.min.js").is_file()
    return JinjaTemplateEngine.from_environment(env)


def _plugin_routers(hub: Hub) -> list[Router]:
    routers: list[Router] = []
    for rec in hub.plugins.running():
        if rec.source == "core":
            # The core's own parts (telephony, CCB, contacts) use the plugin contract too, but their routes
            # keep the paths they declare under their module's ROUTE_PREFIX and are not gated by section.
            if rec.routes:
                prefix = getattr(rec.obj, "ROUTE_PREFIX", "/")
                routers.append(
                    Router(
                        path=prefix,
                        route_handlers=rec.routes,
                        opt={"core_part": rec.id},
                        guards=GUARDS,
                        dependencies={"ctx": constant(rec.ctx)},
                    )
                )
            if rec.pages:
                # Core parts' pages declare their full /ui/<part> paths, like the core's own pages.
                routers.append(
                    Router(
                        path="/",
                        route_handlers=[p.handler for p in rec.pages],
                        opt={"core_part": rec.id, "page": True},
                        include_in_schema=False,
                        guards=GUARDS,
                        dependencies={"ctx": constant(rec.ctx)},
                    )
                )
            continue
        if rec.routes:
            routers.append(
                Router(
                    path=f"/api/{rec.id}",
                    route_handlers=rec.routes,
                    opt={"plugin": rec.id},
                    tags=[rec.id],
                    guards=GUARDS,
                    dependencies={"ctx": constant(rec.ctx)},
                )
            )
        if rec.pages:
            routers.append(
                Router(
                    path=f"/ui/{rec.id}",
                    route_handlers=[p.handler for p in rec.pages],
                    opt={"plugin": rec.id, "page": True},
                    include_in_schema=False,
                    guards=GUARDS,
                    dependencies={"ctx": constant(rec.ctx)},
                )
            )
    return routers


CSRF_FAILED = "CSRF token verification failed"


def _on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    on_ui = request.scope["path"].startswith("/ui")
    if on_ui and isinstance(exc, NotAuthorizedException):
        return Redirect("/ui/login?" + urlencode({"next": request.scope["path"]}))
    anonymous = not request.cookies.get(SESSION_COOKIE) and request.scope["path"] != "/ui/login"
    if on_ui and exc.detail == CSRF_FAILED and anonymous:
        # One CSRF policy for every form (Litestar's middleware, before any guard): a form posted by someone
        # not signed in goes to the login page like any other anonymous request; nothing was read or written.
        # The login form itself keeps the refusal (a forged login would sign the victim in as the attacker).
        return Redirect("/ui/login?" + urlencode({"next": request.scope["path"]}))
    if request.scope["path"].startswith("/ui") and isinstance(exc, PermissionDeniedException):
        return pages.error_page(request, exc.status_code, exc.detail)
    if isinstance(exc.__cause__, SerializationException) and exc.status_code == 400:
        # Litestar could not parse the body at all: say so the same way the kit always has.
        detail = f"body: malformed JSON ({exc.detail})"
        exc = ClientException(status_code=400, detail=detail, extra=[{"key": "body", "message": detail}])
    body: dict[str, Any] = {"status_code": exc.status_code, "detail": exc.detail}
    if exc.extra:
        body["extra"] = (
            [_name_field(item) for item in exc.extra] if isinstance(exc.extra, list) else exc.extra
        )
    return Response(body, status_code=exc.status_code, headers=exc.headers)


_UNKNOWN_FIELD = re.compile(r"(?:unknown|missing required) field `([^`]+)`")
_AT_PATH = re.compile(r" - at `\$\.([^`]+)`")


def _name_field(item: Any) -> Any:
    """msgspec names a missing or unknown field in its message; put the field's full path in ``key``.

    Only Litestar's own validation items (they carry ``source``) are rewritten; the project's are final.
    """
    if not isinstance(item, dict) or "source" not in item:
        return item
    message = str(item.get("message", ""))
    key = item.get("key")
    if key in (None, "data", ""):
        key = None  # Litestar's name for the whole body
    found = _UNKNOWN_FIELD.search(message)
    if found:
        return {**item, "key": f"{key}.{found.group(1)}" if key else found.group(1)}
    at = _AT_PATH.search(message)
    if at and key is None:
        return {**item, "key": at.group(1)}
    return {**item, "key": key} if key is not None or "key" in item else item


def _on_input_error(request: Request[Any, Any, Any], exc: InputError) -> Response[Any]:
    """A handler's own rule check failed: the 4xx naming the field (a page shows it as an error page)."""
    return _on_http_error(request, exc.http())


def _on_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Litestar could not decode ``data``: malformed or empty → 400, a misfit → 422 naming the field path.

    This keeps the contract the hand-written decoders had (``core.contract.inputs``), for every handler
    that declares its body the Litestar way.
    """
    items = exc.extra if isinstance(exc.extra, list) else []
    body_items = [i for i in items if isinstance(i, dict) and i.get("source") == "body"]
    if not body_items:
        return _on_http_error(request, exc)
    first = _name_field(body_items[0])
    message = str(first.get("message", ""))
    if message == "'data'":  # Litestar's way of saying the body was empty
        return _on_http_error(
            request, ClientException(status_code=400, detail="body: a JSON object is required")
        )
    key = str(first.get("key") or "body")  # a body of the wrong shape as a whole
    detail = f"{key}: {message}"
    # A route may keep the status its own protocol documents for bad input (the phone API follows
    # Finesse, which answers 400 "Invalid Input"): it says so with opt={"bad_input_status": 400}.
    status = 422
    if "route_handler" in request.scope:
        status = int(request.route_handler.opt.get("bad_input_status", 422))
    return _on_http_error(
        request,
        ClientException(status_code=status, detail=detail, extra=[{"key": key, "message": detail}]),
    )


def _on_crash(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Last line of defence: log with the plugin's id, count it against the plugin, never leak a traceback."""
    hub: Hub = request.app.state["hub"]
    plugin_id = request.route_handler.opt.get("plugin") if "route_handler" in request.scope else None
    if plugin_id and plugin_id in hub.plugins.records:
        hub.plugins.records[plugin_id].record_failure(exc, f"route {request.method} {request.scope['path']}")
    else:
        log.exception("unhandled error on %s %s", request.method, request.scope["path"], exc_info=exc)
    body = {"status_code": 500, "detail": "internal error; it has been logged"}
    if plugin_id:
        body["plugin"] = plugin_id
    return Response(body, status_code=HTTP_500_INTERNAL_SERVER_ERROR)


def _check_customer_data(app: Litestar) -> None:
    """Every route handler declares its customer-data scope (``core.contract.scope``), or no app."""
    check_declarations([(r.path, h) for r in app.routes for h in getattr(r, "route_handlers", ())])


def create_app(hub: Hub, *, manage_hub: bool = True, freeze_gc: bool = False) -> Litestar:
    """Build the ASGI app around ``hub``; with ``manage_hub`` the app's lifespan starts and stops it.

    ``freeze_gc`` is for the served process only (``core.asgi``), never for tests that build many apps.
    """

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if manage_hub:
            await hub.start()
        if freeze_gc:
            # Everything built so far (modules, the app, plugins, engine) lives as long as the process;
            # out of the collector's sight, a full collection no longer walks it. Measured by make bench
            # (outage-sse): the slowest declaration's p99 fell from ~330 ms to ~180 ms.
            gc.freeze()
        try:
            yield
        finally:
            if manage_hub:
                await hub.stop()

    plugin_routers = _plugin_routers(hub)
    core_handlers: list[Any] = [*api.ROUTES, *pages.ROUTES]
    exception_handlers: dict[Any, Any] = {
        **OFFLINE_EXCEPTION_HANDLERS,  # CCB offline: 202 {"offline_form": N} for writes, 503 for the outage
        InputError: _on_input_error,
        ValidationException: _on_validation,
        HTTPException: _on_http_error,
        Exception: _on_crash,
    }
    public: list[Any] = [*api.PUBLIC_ROUTES, *pages.PUBLIC_PAGES]
    guarded = core_handlers
    app = Litestar(
        route_handlers=[
            *public,
            create_static_files_router(
                path="/static", directories=[WEB / "static"], opt={"access": "public"}
            ),
            # Everything else sits behind the guard. The guard is attached per router rather than app-wide
            # because Litestar copies the handler for every guard call: health probes and the login page
            # would pay for a guard that lets them through anyway (measured in `make bench`).
            Router(path="/", route_handlers=guarded, guards=GUARDS),
            *plugin_routers,
        ],
        lifespan=[lifespan],
        # Every response, whoever answers it (a handler, an error handler, the router, static files),
        # carries the security headers; see core.http_headers.
        before_send=[security_headers(parse_networks(hub.settings.trusted_proxies))],
        # A JSON body nested too deep is refused before anything decodes it (core.bad_input); an account
        # handler's success that never asked the verified-contact guard is refused (core.security).
        middleware=[json_depth_middleware, CustomerDataMiddleware],
        template_config=TemplateConfig(engine=_template_engine(hub)),
        csrf_config=CSRFConfig(
            secret=hub.settings.secret_key,
            cookie_name="hub_csrf",
            header_name="x-csrf-token",
            exclude=["/api", "/health", "/schema"],
            cookie_samesite="strict",
        ),
        openapi_config=OpenAPIConfig(
            title="ccbhub", version="0.1.0", path="/schema", render_plugins=[SwaggerRenderPlugin()]
        ),
        exception_handlers=exception_handlers,
        # The web kit's dependencies, by parameter name, on every route (core.contract.web).
        dependencies={
            "staff": Provide(provide_staff),
            "idempotency": Provide(provide_idempotency),
            "guard": Provide(provide_guard),
        },
        state=State(
            {
                "hub": hub,
                "nav": pages.nav_entries,
                "contact_guard": hub.plugins.offers.get(ContactGuardFactory, (None, None))[1],
            }
        ),
        debug=False,
    )
    _check_customer_data(app)
    make_truthful(app)  # bodies, error answers and headers the handlers imply (core.openapi)
    for router in plugin_routers:
        pid = router.opt.get("plugin") or router.opt["core_part"]
        hub.plugins.records[pid].route_paths.extend(sorted({route.path for route in router.routes}))
    return app
