"""Serving Our Seniors pages under /ui/sos: the CSR's referral form and the CRO's queue.

Each form calls the operation its JSON route calls and shows the page again with the same message and
status when refused.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from core.contract import PluginContext
from core.contract.contact import Guard, provide_guard
from core.contract.idempotency import request_key
from core.contract.inputs import InputError, decode_form
from core.contract.scope import CONTACT, account
from core.contract.scope import QUEUE as QUEUE_SCOPE
from core.contract.staff import Staff
from core.contract.web import STAFF, Controller, Ctx, CurrentStaff, form_body, render
from plugins.sos.api import CRO, FILERS, VIEWERS
from plugins.sos.rules import LOCAL_TZ, Reason, RouteTarget
from plugins.sos.schemas import ExtraContactForm, FileForm, ReferralView, RouteForm, shown
from plugins.sos.service import (
    accept,
    add_contact,
    file_checked,
    referral_views,
    route,
    send,
    view_of,
)

QUEUE = "/ui/sos/"


async def queue(
    request: Request[Any, Any, Any],
    ctx: PluginContext,
    staff: Staff,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response[Any]:
    guard = await provide_guard(request)
    contact_id = request.query_params.get("contact_id") or None
    referrals = [
        await shown(ctx, guard, staff, r, contact_id, page=True) for r in await referral_views(ctx, None)
    ]
    return render(
        request,
        "sos/queue.html",
        status_code=status_code,
        referrals=referrals,
        can_work=staff.role.value in CRO["roles"],
        error=error,
        targets=[t.value for t in RouteTarget],
        needs=[r.value for r in Reason],
        tz=LOCAL_TZ,
    )


def form_page(
    request: Request[Any, Any, Any],
    *,
    status_code: int = 200,
    error: str | None = None,
    values: dict[str, Any] | None = None,
    filed: ReferralView | None = None,
) -> Response[Any]:
    return render(
        request,
        "sos/new.html",
        status_code=status_code,
        error=error,
        values=values or {},
        filed=filed,
        reasons=[r.value for r in Reason],
        # A fresh key per rendered form: submitting it twice files one referral.
        form_key=f"form:{secrets.token_urlsafe(18)}",
    )


class SosQueuePages(Controller):
    """The CRO's queue: accept, send, add a contact, route a need elsewhere."""

    path = "/"
    # Every page is for staff (a handler's ``roles`` narrow it); the nav entry reads this too.
    opt = STAFF

    @get("/", opt=VIEWERS, customer_data=QUEUE_SCOPE(roles=("cro",)))
    async def queue_page(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff
    ) -> Response[Any]:
        return await queue(request, ctx, staff)

    @post("/{referral_id:int}/accept", opt=CRO, customer_data=QUEUE_SCOPE(roles=("cro",)))
    async def accept_form(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff, referral_id: FromPath[int]
    ) -> Response[Any]:
        try:
            await accept(ctx, staff, referral_id)
        except InputError as exc:
            return await queue(request, ctx, staff, status_code=exc.status_code, error=str(exc))
        return Redirect(QUEUE, status_code=303)

    @post("/{referral_id:int}/send", opt=CRO, customer_data=QUEUE_SCOPE(roles=("cro",)))
    async def send_form(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff, referral_id: FromPath[int]
    ) -> Response[Any]:
        try:
            await send(ctx, staff, referral_id)
        except InputError as exc:
            return await queue(request, ctx, staff, status_code=exc.status_code, error=str(exc))
        return Redirect(QUEUE, status_code=303)

    @post(
        "/{referral_id:int}/contacts",
        opt=CRO,
        dependencies={"form": form_body(ExtraContactForm)},
        customer_data=QUEUE_SCOPE(roles=("cro",)),
    )
    async def contact_form(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: CurrentStaff,
        referral_id: FromPath[int],
        form: NamedDependency[ExtraContactForm],
    ) -> Response[Any]:
        try:
            await add_contact(ctx, staff, referral_id, form.contact())
        except InputError as exc:
            return await queue(request, ctx, staff, status_code=exc.status_code, error=str(exc))
        return Redirect(QUEUE, status_code=303)

    @post(
        "/{referral_id:int}/route",
        opt=CRO,
        dependencies={"form": form_body(RouteForm)},
        customer_data=QUEUE_SCOPE(roles=("cro",)),
    )
    async def route_form(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: CurrentStaff,
        referral_id: FromPath[int],
        form: NamedDependency[RouteForm],
    ) -> Response[Any]:
        try:
            await route(ctx, staff, referral_id, form.routing())
        except InputError as exc:
            return await queue(request, ctx, staff, status_code=exc.status_code, error=str(exc))
        return Redirect(QUEUE, status_code=303)


class SosFormPages(Controller):
    """The CSR's referral form, filed from the contact it names."""

    path = "/"
    opt = STAFF

    @get("/new", opt=STAFF, customer_data=CONTACT)
    async def new_page(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: CurrentStaff,
        guard: Guard,
        contact_id: Annotated[str | None, QueryParameter()] = None,
        account_id: Annotated[str | None, QueryParameter()] = None,
        filed: Annotated[int | None, QueryParameter()] = None,
    ) -> Response[Any]:
        done: ReferralView | None = None
        if filed is not None:
            try:
                done = await shown(ctx, guard, staff, await view_of(ctx, filed), contact_id, page=True)
            except InputError:
                done = None
        values = {"contact_id": contact_id or "", "account_id": account_id or ""}
        return form_page(request, values=values, filed=done)

    @post("/new", opt=FILERS, customer_data=account(record="form"))
    async def new_form(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff, guard: Guard
    ) -> Response[Any]:
        form = decode_form(await request.form(), FileForm)
        values = form.values()
        try:
            data = form.filing()
            data.idempotency_key = request_key(data.idempotency_key, None)
            referral, _ = await file_checked(ctx, staff, guard, data, data.contact_id)
        except InputError as exc:
            return form_page(request, status_code=exc.status_code, error=str(exc), values=values)
        except (PermissionDeniedException, NotFoundException) as exc:
            return form_page(request, status_code=exc.status_code, error=exc.detail, values=values)
        return Redirect(f"/ui/sos/new?filed={referral.id}", status_code=303)
