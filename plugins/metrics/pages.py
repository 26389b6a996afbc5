"""The metrics page under /ui/metrics: one-click counter requests, the daily view, the monthly workbook.

The same work as the JSON API for staff signed in to the web UI; a form that does not fit re-renders the
page with the message naming the field and the same status as the API would answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect

from core.contract import PluginContext
from core.contract.inputs import InputError, decode_form
from core.contract.scope import NONE
from core.contract.staff import Staff
from core.contract.web import Ctx, CurrentStaff, render
from plugins.metrics import service
from plugins.metrics.api import workbook_response
from plugins.metrics.rules import LOCAL_TZ, MetricsConfig, label, local_day
from plugins.metrics.schemas import CounterRequestIn

LEAD = {"roles": ["lead", "supervisor", "admin"]}
STAFF = {"access": "staff"}
Query = Annotated[str | None, QueryParameter()]


async def daily_page(
    request: Request[Any, Any, Any],
    ctx: PluginContext,
    staff: Staff,
    chosen: dt.date | None = None,
    *,
    status_code: int = 200,
    error: str | None = None,
    recorded: str | None = None,
) -> Response[Any]:
    config: MetricsConfig = ctx.config
    today = local_day(ctx.clock.now())
    chosen = chosen or today
    view = await service.daily(ctx, staff, chosen, None, None)
    kinds = {s: list(k) for s, k in view.by_section.items()}
    counter_kinds = [(k, label(f"counter.{k}")) for k in config.counter_request_kinds]
    return render(
        request,
        "metrics/daily.html",
        status_code=status_code,
        view=view,
        kinds=kinds,
        label=label,
        rows=view.rows,
        previous=chosen - dt.timedelta(days=1),
        following=chosen + dt.timedelta(days=1),
        today=today,
        everyone=service.sees_everyone(staff),
        counter_kinds=counter_kinds,
        recorded=dict(counter_kinds).get(recorded or ""),
        # A CSR in several sections says where the request counts (the counter section first).
        sections=sorted(staff.sections, key=lambda s: (s != config.counter_section, s)),
        month=chosen.strftime("%Y-%m"),
        zone=LOCAL_TZ.key,
        is_lead=service.sees_everyone(staff),
        error=error,
    )


class MetricsPages(Controller):
    """The daily view with one-click counter requests, and the monthly workbook for leads."""

    # Every page is for staff (the workbook narrows it to leads); the nav entry is everyone's.
    opt = STAFF

    @get("/", opt=STAFF, customer_data=NONE)
    async def daily_view(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: CurrentStaff,
        day: Query = None,
        recorded: Query = None,
    ) -> Response[Any]:
        try:
            chosen = service.day_of(day, local_day(ctx.clock.now()))
        except InputError as exc:
            return await daily_page(request, ctx, staff, status_code=exc.status_code, error=str(exc))
        return await daily_page(request, ctx, staff, chosen, recorded=recorded)

    @post("/counter-requests", opt=STAFF, customer_data=NONE)
    async def counter_form(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff
    ) -> Response[Any]:
        try:
            data = decode_form(await request.form(), CounterRequestIn)
            out = await service.record_counter_request(ctx, staff, data)
        except InputError as exc:
            return await daily_page(request, ctx, staff, status_code=exc.status_code, error=str(exc))
        return Redirect(f"/ui/metrics/?recorded={out.kind}", status_code=303)

    @get("/monthly.xlsx", opt=LEAD, customer_data=NONE)
    async def monthly_download(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff, month: Query = None
    ) -> Response[Any]:
        """The same workbook as ``GET /api/metrics/monthly.xlsx``, for a lead signed in to the web UI."""
        try:
            return workbook_response(*await service.monthly_workbook(ctx, month))
        except InputError as exc:
            return await daily_page(request, ctx, staff, status_code=exc.status_code, error=str(exc))
