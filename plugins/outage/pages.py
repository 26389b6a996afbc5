"""The outage board under /ui/outage: the banner, its live stream, and the lead's forms.

``GET /ui/outage/stream`` (session cookie, so a browser's EventSource can open it) sends the rendered
banner first and again after every outage event; ``?limit=N`` ends it after N updates. Each form calls the
operation its JSON route calls and shows the board again with the same message and status when refused.
"""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, ServerSentEvent

from core.contract.inputs import InputError, decode_form
from core.contract.scope import NONE
from core.contract.staff import Staff
from core.contract.web import STAFF, Controller, Ctx, CurrentStaff, form_body, render
from plugins.outage.api import LEAD, SERVICE, Limit, Service, stream_limit
from plugins.outage.events import BANNER_CHANNEL
from plugins.outage.rules import Utility, banner_html, etr_text
from plugins.outage.schemas import ConfirmForm, DeclareForm, EtrForm, RestoreIn, suggestion_view
from plugins.outage.service import OutageService

BOARD = "/ui/outage/"


async def board(
    request: Request[Any, Any, Any],
    staff: Staff,
    service: OutageService,
    *,
    status_code: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> Response[Any]:
    active = await service.active()
    return render(
        request,
        "outage/board.html",
        status_code=status_code,
        outages=active,
        suggestions=[suggestion_view(s) for s in await service.open_suggestions()],
        banner=banner_html([o.facts() for o in active]),
        can_declare=staff.role.value in LEAD["roles"],
        error=error,
        values=values or {},
        # A fresh key per rendered form: submitting it twice declares one outage.
        form_key=f"form:{secrets.token_urlsafe(18)}",
        etr_text=etr_text,
        utilities=[u.value for u in Utility],
    )


class OutagePages(Controller):
    """The board every CSR sees (with the banner) and the forms a lead works it with."""

    path = "/"
    # Every page is for staff (a handler's ``roles`` narrow it); the nav entry reads this too.
    opt = STAFF
    dependencies = SERVICE

    @get("/", opt=STAFF, customer_data=NONE)
    async def board_page(
        self, request: Request[Any, Any, Any], staff: CurrentStaff, service: Service
    ) -> Response[Any]:
        return await board(request, staff, service)

    @get("/banner", opt=STAFF, customer_data=NONE)
    async def banner_fragment(self, service: Service) -> Response[str]:
        return Response(await service.banner(), media_type="text/html")

    @get("/stream", opt=STAFF, customer_data=NONE)
    async def banner_stream(self, ctx: Ctx, service: Service, limit: Limit = None) -> ServerSentEvent:
        return ServerSentEvent(
            ctx.streams.sse(
                BANNER_CHANNEL,
                first=service.banner_messages,
                limit=stream_limit(limit),
                keepalive_s=service.config.stream_keepalive_s,
            )
        )

    @post("/declare", opt=LEAD, customer_data=NONE)
    async def declare_form(
        self, request: Request[Any, Any, Any], staff: CurrentStaff, service: Service
    ) -> Response[Any]:
        form = decode_form(await request.form(), DeclareForm)
        try:
            await service.declare(staff, form.declaration())
        except InputError as exc:
            return await board(
                request, staff, service, status_code=exc.status_code, error=str(exc), values=form.values()
            )
        return Redirect(BOARD, status_code=303)

    @post("/{outage_id:int}/etr", opt=LEAD, dependencies={"form": form_body(EtrForm)}, customer_data=NONE)
    async def etr_form(
        self,
        request: Request[Any, Any, Any],
        staff: CurrentStaff,
        service: Service,
        outage_id: FromPath[int],
        form: NamedDependency[EtrForm],
    ) -> Response[Any]:
        try:
            await service.update(staff, outage_id, form.update())
        except InputError as exc:
            return await board(request, staff, service, status_code=exc.status_code, error=str(exc))
        return Redirect(BOARD, status_code=303)

    @post("/{outage_id:int}/restore", opt=LEAD, customer_data=NONE)
    async def restore_form(
        self, request: Request[Any, Any, Any], staff: CurrentStaff, service: Service, outage_id: FromPath[int]
    ) -> Response[Any]:
        try:
            await service.restore(staff, outage_id, RestoreIn())
        except InputError as exc:
            return await board(request, staff, service, status_code=exc.status_code, error=str(exc))
        return Redirect(BOARD, status_code=303)

    @post(
        "/suggestions/{suggestion_id:int}/confirm",
        opt=LEAD,
        dependencies={"form": form_body(ConfirmForm)},
        customer_data=NONE,
    )
    async def confirm_form(
        self,
        request: Request[Any, Any, Any],
        staff: CurrentStaff,
        service: Service,
        suggestion_id: FromPath[int],
        form: NamedDependency[ConfirmForm],
    ) -> Response[Any]:
        try:
            await service.confirm(staff, suggestion_id, form.confirmation())
        except InputError as exc:
            return await board(request, staff, service, status_code=exc.status_code, error=str(exc))
        return Redirect(BOARD, status_code=303)

    @post("/suggestions/{suggestion_id:int}/dismiss", opt=LEAD, customer_data=NONE)
    async def dismiss_form(
        self,
        request: Request[Any, Any, Any],
        staff: CurrentStaff,
        service: Service,
        suggestion_id: FromPath[int],
    ) -> Response[Any]:
        try:
            await service.dismiss(staff, suggestion_id)
        except InputError as exc:
            return await board(request, staff, service, status_code=exc.status_code, error=str(exc))
        return Redirect(BOARD, status_code=303)
