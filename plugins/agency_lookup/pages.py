"""Pages of the agency lookup under /ui/agency_lookup: the directory search and the disclosure desk.

The desk's forms post back to the desk; an error re-renders it with the message naming the field and the
status the JSON API would answer. CSRF is the app's middleware (each form carries ``csrf_input``).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from core.contract import PluginContext
from core.contract.inputs import InputError, convert, decode_form
from core.contract.scope import NONE, QUEUE
from core.contract.staff import Staff
from core.contract.web import Ctx, CurrentStaff, render
from plugins.agency_lookup import service
from plugins.agency_lookup.api import CRO, MAX_QUERY, STAFF
from plugins.agency_lookup.models import Disclosure
from plugins.agency_lookup.rules import AgencyConfig, Basis, Element, RequesterKind, search
from plugins.agency_lookup.schemas import DisclosureForm, DisclosureIn

DESK = "/ui/agency_lookup/disclosures"


class DirectoryPage(Controller):
    """What does the caller need? The directory, best matches first."""

    path = "/"
    opt = STAFF

    @get("/", opt=STAFF, customer_data=NONE)
    async def directory_page(
        self, request: Request[Any, Any, Any], ctx: Ctx, q: FromQuery[str | None] = None
    ) -> Response[Any]:
        config: AgencyConfig = ctx.config
        query = (q or "")[:MAX_QUERY]
        hits = search(config.directory, query, config.max_results if query.strip() else len(config.directory))
        return render(request, "agency_lookup/directory.html", q=query, hits=hits)


async def desk(
    request: Request[Any, Any, Any],
    ctx: PluginContext,
    staff: Staff,
    *,
    status_code: int = 200,
    error: str | None = None,
    released: tuple[Disclosure, list[dict[str, Any]]] | None = None,
) -> Response[Any]:
    """The disclosure desk: recent requests with their next step, the request form, what was just released."""
    return render(
        request,
        "agency_lookup/desk.html",
        status_code=status_code,
        error=error,
        disclosures=await service.list_disclosures(ctx, limit=50),
        released=released,
        me=staff.actor,
        requester_kinds=[k.value for k in RequesterKind],
        bases=[b.value for b in Basis],
        elements=[e.value for e in Element],
    )


class DisclosureDesk(Controller):
    """Record and decide a request, approve it as the second person, release what the decision allows."""

    path = "/disclosures"
    opt = CRO

    @get("/", opt=CRO, customer_data=QUEUE(roles=("cro", "supervisor")))
    async def desk_page(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff
    ) -> Response[Any]:
        return await desk(request, ctx, staff)

    @post("/", opt=CRO, customer_data=QUEUE(roles=("cro", "supervisor")))
    async def request_form(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff
    ) -> Response[Any]:
        try:
            form = decode_form(await request.form(), DisclosureForm)
            data = convert(form.to_request(), DisclosureIn)
            await service.request_disclosure(ctx, staff, data)
        except InputError as exc:
            return await desk(request, ctx, staff, status_code=exc.status_code, error=str(exc))
        return Redirect(DESK, status_code=303)

    @post("/{disclosure_id:int}/approve", opt=CRO, customer_data=QUEUE(roles=("cro", "supervisor")))
    async def approve_form(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff, disclosure_id: FromPath[int]
    ) -> Response[Any]:
        try:
            await service.approve(ctx, staff, disclosure_id)
        except InputError as exc:
            return await desk(request, ctx, staff, status_code=exc.status_code, error=str(exc))
        return Redirect(DESK, status_code=303)

    @post("/{disclosure_id:int}/release", opt=CRO, customer_data=QUEUE(roles=("cro", "supervisor")))
    async def release_form(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff, disclosure_id: FromPath[int]
    ) -> Response[Any]:
        try:
            done = await service.release(ctx, staff, disclosure_id)
        except InputError as exc:
            return await desk(request, ctx, staff, status_code=exc.status_code, error=str(exc))
        return await desk(request, ctx, staff, released=done)
