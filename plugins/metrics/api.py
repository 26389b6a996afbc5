"""The metrics plugin's JSON API under /api/metrics: the daily view, the monthly report and counter requests.

Thin: each handler decodes, calls :mod:`plugins.metrics.service` and encodes. A body that is not JSON
answers 400, a misfit or a bad query value 422 naming the field.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import QueryParameter

from core.contract.scope import NONE
from core.contract.web import Ctx, CurrentStaff, JSONBody
from plugins.metrics import service
from plugins.metrics.rules import MetricsConfig, label
from plugins.metrics.schemas import CounterRequestIn, CounterRequestOut, DailyView, KindView, MonthlyView

LEAD = {"roles": ["lead", "supervisor", "admin"]}
STAFF = {"access": "staff"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Query = Annotated[str | None, QueryParameter()]


def workbook_response(name: str, body: bytes) -> Response[bytes]:
    return Response(body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


class MetricsController(Controller):
    """Counts of the hub's work, derived from its events."""

    @get(
        "/counter-requests/kinds",
        opt=STAFF,
        summary="The counter requests a CSR can record",
        customer_data=NONE,
    )
    async def counter_kinds(self, ctx: Ctx) -> list[KindView]:
        config: MetricsConfig = ctx.config
        return [KindView(kind=k, label=label(f"counter.{k}")) for k in config.counter_request_kinds]

    @post(
        "/counter-requests",
        opt=STAFF,
        status_code=201,
        summary="Record a counter request (one click)",
        customer_data=NONE,
    )
    async def counter_request(
        self, ctx: Ctx, staff: CurrentStaff, data: JSONBody[CounterRequestIn]
    ) -> CounterRequestOut:
        """Body ``{"kind": …, "section"?: …}``; counted through the bus like every other metric."""
        return await service.record_counter_request(ctx, staff, data)

    @get(
        "/daily",
        opt=STAFF,
        summary="Counts of one local day by section, staff member and kind",
        customer_data=NONE,
    )
    async def daily_counts(
        self,
        ctx: Ctx,
        staff: CurrentStaff,
        day: Query = None,
        section: Query = None,
        staff_name: Annotated[str | None, QueryParameter(query="staff")] = None,
    ) -> DailyView:
        chosen = service.day_of(day, service.today(ctx))
        return await service.daily(ctx, staff, chosen, section, staff_name)

    @get(
        "/monthly", opt=LEAD, summary="Monthly totals by section and staff member (JSON)", customer_data=NONE
    )
    async def monthly(self, ctx: Ctx, month: Query = None) -> MonthlyView:
        return await service.monthly(ctx, month)

    @get("/monthly.xlsx", opt=LEAD, summary="The monthly report as an Excel workbook", customer_data=NONE)
    async def monthly_xlsx(self, ctx: Ctx, month: Query = None) -> Response[bytes]:
        return workbook_response(*await service.monthly_workbook(ctx, month))
