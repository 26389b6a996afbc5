"""Web shell pages: login/logout, the dashboard (sections, plugins, checks) and the admin's enable/disable."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from core.api import CORE_DEPENDENCIES, MAIL_OUTBOX, HubDep, all_plugin_info, change_enablement
from core.clock import local
from core.contract.scope import NONE
from core.contract.web import CurrentStaff, render
from core.mail import list_outbox, outbox_for
from core.security import SESSION_COOKIE, hub_of
from core.staff import SESSION_LIFETIME, Role, Staff

PUBLIC = {"access": "public"}
STAFF = {"access": "staff"}
ADMIN = {"roles": ["admin"]}


def nav_entries(request: Request[Any, Any, Any], staff: Staff) -> list[dict[str, str]]:
    """Plugin pages the caller may open: the plugin is running and enabled for one of their sections."""
    hub = hub_of(request)
    entries: list[dict[str, str]] = []
    for rec in hub.plugins.running():
        core = rec.source == "core"
        # Core parts' pages are always on; a plugin's only for staff of sections where it is enabled.
        if not rec.pages or (not core and not hub.enablement.allows(rec.id, staff.sections)):
            continue
        for page in rec.pages:
            path, roles = page.nav_target()
            if page.nav_title and (roles is None or staff.role.value in roles):
                href = path if core else f"/ui/{rec.id}{path.rstrip('/') or ''}"
                entries.append({"title": page.nav_title, "href": href})
    return entries


def error_page(request: Request[Any, Any, Any], status_code: int, detail: str) -> Response[Any]:
    """An HTML error page; rendered here because errors raised in middleware (e.g. CSRF) have no route."""
    template = request.app.template_engine.get_template("error.html")  # type: ignore[union-attr]
    staff = request.scope.get("user")
    html = template.render(
        code=status_code,
        detail=detail,
        staff=staff if isinstance(staff, Staff) else None,
        nav=[],
        csrf_input="",
    )
    return Response(html, status_code=status_code, media_type="text/html")


def _safe_next(target: str | None) -> str:
    """Only same-site paths under /ui are followed after login (no open redirect)."""
    if not target:
        return "/ui/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ui"):
        return "/ui/"
    return parts.path


class LoginForm(msgspec.Struct):
    name: str = ""
    password: str = ""
    next: str = "/ui/"


class LoginPages(Controller):
    """Signing in: public, mounted without the access guard (signing out is a shell page)."""

    path = "/ui"
    include_in_schema = False
    dependencies = CORE_DEPENDENCIES

    @get("/login", opt=PUBLIC, customer_data=NONE)
    async def login_page(
        self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None
    ) -> Template:
        return render(request, "login.html", next=_safe_next(next), error=None, name="")

    @post("/login", opt=PUBLIC, customer_data=NONE)
    async def login_submit(
        self, request: Request[Any, Any, Any], hub: HubDep, data: URLEncodedBody[LoginForm]
    ) -> Response[Any]:
        result = await hub.staff.login(data.name.strip(), data.password)
        if not result.ok or result.session_token is None:
            if result.locked_until is not None:
                until = local(result.locked_until).strftime("%H:%M %Z")
                error = f"Too many failed attempts: this account is locked until {until}."
            else:
                error = "Wrong name or password."
            return render(
                request,
                "login.html",
                status_code=401,
                next=_safe_next(data.next),
                error=error,
                name=data.name,
            )
        response: Response[Any] = Redirect(_safe_next(data.next))
        response.set_cookie(
            SESSION_COOKIE,
            result.session_token,
            httponly=True,
            samesite="strict",
            max_age=int(SESSION_LIFETIME.total_seconds()),
            path="/",
            # Secure is added over HTTPS (or behind a trusted proxy) by core.http_headers, for every cookie.
        )
        return response


class EnableForm(msgspec.Struct):
    enabled: str = ""


class ShellPages(Controller):
    """The dashboard (sections, plugins, checks), the admin's enable/disable and the mail outbox."""

    path = "/ui"
    include_in_schema = False
    dependencies = CORE_DEPENDENCIES

    @get("/", opt=STAFF, customer_data=NONE)
    async def dashboard(self, request: Request[Any, Any, Any], hub: HubDep, staff: CurrentStaff) -> Template:
        if not hub.last_checks:
            await hub.run_checks()
        is_admin = staff.role is Role.ADMIN
        infos = all_plugin_info(hub, errors=is_admin)
        plugins = [p for p in infos if p.source != "core"]
        return render(
            request,
            "dashboard.html",
            plugins=plugins,
            core_parts=[p for p in infos if p.source == "core"],
            sections=sorted(hub.enablement.sections.items()),
            checks=hub.last_checks,
            checks_failed=sum(not c.passed for c in hub.last_checks),
            is_admin=is_admin,
            now=dt.datetime.now(dt.UTC),
        )

    @post("/plugins/{plugin_id:str}/sections/{section:str}", opt=ADMIN, customer_data=NONE)
    async def enable_form(
        self,
        hub: HubDep,
        staff: CurrentStaff,
        plugin_id: FromPath[str],
        section: FromPath[str],
        data: URLEncodedBody[EnableForm],
    ) -> Response[Any]:
        if plugin_id not in hub.plugins.records:
            raise NotFoundException(f"no plugin {plugin_id!r}")
        await change_enablement(hub, plugin_id, section, data.enabled == "1", staff.actor)
        return Redirect("/ui/#plugins")

    @post("/logout", opt=STAFF, customer_data=NONE)
    async def logout(self, request: Request[Any, Any, Any], hub: HubDep) -> Response[Any]:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await hub.staff.logout(token)
        response: Response[Any] = Redirect("/ui/login")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @post("/checks/run", opt=STAFF, customer_data=NONE)
    async def run_checks_now(self, hub: HubDep) -> Response[Any]:
        await hub.run_checks()
        return Redirect("/ui/#checks")

    @get(
        "/outbox",
        opt={"roles": ["admin", "supervisor", "lead", "security"]},
        customer_data=MAIL_OUTBOX,
    )
    async def outbox_page(
        self, request: Request[Any, Any, Any], hub: HubDep, staff: CurrentStaff
    ) -> Template:
        async with hub.db.session() as session:
            mails = await list_outbox(session, limit=200)
            mails = await outbox_for(session, hub.audit, staff.role.value, staff.actor, mails)
        return render(request, "outbox.html", mails=mails, smtp=hub.settings.smtp_url is not None)


@get("/", opt=PUBLIC, include_in_schema=False, customer_data=NONE)
async def root() -> Redirect:
    return Redirect("/ui/")


PUBLIC_PAGES = [LoginPages, root]
ROUTES = [ShellPages]
