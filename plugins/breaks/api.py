"""The breaks plugin's JSON API under /api/breaks: rule sets, validation, schedules and breaks.

Thin: each handler decodes, calls :mod:`plugins.breaks.service` and encodes. A malformed body answers 400,
one that does not fit 422 naming the field (``extra[0].key``); publishing a schedule with violations 409
with them listed.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Response, get, post, put
from litestar.params import FromPath, QueryParameter

from core.contract.scope import NONE
from core.contract.web import Ctx, CurrentStaff, JSONBody
from plugins.breaks import service
from plugins.breaks.schemas import (
    BreakStartView,
    EditIn,
    GenerateIn,
    ScheduleView,
    ValidateIn,
    ValidationView,
)

LEAD = {"roles": ["lead", "supervisor", "admin"]}
STAFF = {"access": "staff"}


class BreaksController(Controller):
    """Break schedules of a day, their validation against docs/rules.md §3.6, and breaks taken."""

    @get("/rule-sets", opt=STAFF, summary="The rule sets (Order 4 and each MOU unit)", customer_data=NONE)
    async def list_rule_sets(self, ctx: Ctx) -> list[dict[str, Any]]:
        return service.rule_set_views(ctx.config)

    @post(
        "/validate", opt=LEAD, status_code=200, summary="Check any schedule against V1-V8", customer_data=NONE
    )
    async def validate_any(self, ctx: Ctx, data: JSONBody[ValidateIn]) -> ValidationView:
        return service.validate_any(ctx.config, data.shifts, data.breaks)

    @post("/schedules", opt=LEAD, summary="Generate a day's break schedule (a draft)", customer_data=NONE)
    async def generate_schedule(
        self, ctx: Ctx, staff: CurrentStaff, data: JSONBody[GenerateIn]
    ) -> Response[ScheduleView]:
        schedule_id = await service.generate(ctx, staff, data)
        return Response(await service.view(ctx, schedule_id), status_code=201)

    @get("/schedules", opt=STAFF, summary="Schedules of a day (newest first)", customer_data=NONE)
    async def list_schedules(self, ctx: Ctx, day: Annotated[dt.date, QueryParameter()]) -> list[ScheduleView]:
        return await service.day_views(ctx, day)

    @get("/schedules/{schedule_id:int}", opt=STAFF, summary="One schedule with its grid", customer_data=NONE)
    async def get_schedule(self, ctx: Ctx, schedule_id: FromPath[int]) -> ScheduleView:
        return await service.view(ctx, schedule_id)

    @put(
        "/schedules/{schedule_id:int}/breaks",
        opt=LEAD,
        summary="Replace the breaks by hand (back to draft)",
        customer_data=NONE,
    )
    async def edit_breaks(
        self, ctx: Ctx, staff: CurrentStaff, schedule_id: FromPath[int], data: JSONBody[EditIn]
    ) -> ScheduleView:
        await service.edit(ctx, staff, schedule_id, data)
        return await service.view(ctx, schedule_id)

    @post(
        "/schedules/{schedule_id:int}/publish",
        opt=LEAD,
        status_code=200,
        summary="Publish (no violations)",
        customer_data=NONE,
    )
    async def publish_schedule(
        self, ctx: Ctx, staff: CurrentStaff, schedule_id: FromPath[int]
    ) -> ScheduleView:
        await service.publish(ctx, staff, schedule_id)
        return await service.view(ctx, schedule_id)

    @post(
        "/breaks/{break_id:int}/start",
        opt=STAFF,
        status_code=200,
        summary="Start a break (NOT_READY)",
        customer_data=NONE,
    )
    async def start_break(self, ctx: Ctx, staff: CurrentStaff, break_id: FromPath[int]) -> BreakStartView:
        return await service.move_break(ctx, staff, break_id, start=True)

    @post(
        "/breaks/{break_id:int}/end",
        opt=STAFF,
        status_code=200,
        summary="End a break (READY)",
        customer_data=NONE,
    )
    async def end_break(self, ctx: Ctx, staff: CurrentStaff, break_id: FromPath[int]) -> BreakStartView:
        return await service.move_break(ctx, staff, break_id, start=False)
