"""The lead's day grid under /ui/breaks: generate a draft, read its grid, violations and shortfalls, move a
break, publish. Everyone on staff sees the grid; the forms are the leads'.

The forms post to the same use cases as the JSON API (:mod:`plugins.breaks.service`); a form that does not
fit re-renders the grid with the message naming the field and the status the API would answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from core.contract import PluginContext
from core.contract.inputs import InputError, decode_form, field_of
from core.contract.scope import NONE
from core.contract.staff import Staff
from core.contract.web import Ctx, CurrentStaff, render
from plugins.breaks import queries, service
from plugins.breaks.api import LEAD, STAFF
from plugins.breaks.models import BreaksSchedule
from plugins.breaks.rules import BreaksConfig, fmt
from plugins.breaks.rules_forecast import INTERVAL, LOCAL_TZ, ForecastSource
from plugins.breaks.schemas import GenerateForm, GenerateIn, MoveForm, ScheduleView
from plugins.breaks.service import PUBLISHED, minute_of

KIND_MARK = {"rest": "R", "meal": "M", "lactation": "L"}


def shifts_from_text(text: str) -> list[dict[str, Any]]:
    """The form's shifts, one line each: ``ana 08:00-16:30`` (or ``ana 08:00 16:30``), then an optional MOU
    bargaining unit (``ana 07:00-17:30 IBEW18``). A line that is not that names itself as ``shifts[i]``."""
    found: list[dict[str, Any]] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if not line:
            continue
        words = line.split()
        i = len(found)
        if len(words) >= 2 and "-" in words[1]:
            start, _, end = words[1].partition("-")
            rest = words[2:]
        elif len(words) >= 3:
            start, end, rest = words[1], words[2], words[3:]
        else:
            raise InputError(f"shifts[{i}]", f"expected 'name HH:MM-HH:MM [unit]', got {line!r}")
        if len(rest) > 1:
            raise InputError(
                f"shifts[{i}]", f"expected at most a bargaining unit after the times in {line!r}"
            )
        shift: dict[str, Any] = {"agent_id": words[0], "start": start, "end": end}
        if rest:
            shift["bargaining_unit"] = rest[0]
        found.append(shift)
    if not found:
        raise InputError("shifts", "give one shift per line, e.g. 'ana 08:00-16:30'")
    return found


def generate_request(values: dict[str, str]) -> GenerateIn:
    """The generate form as the same ``GenerateIn`` the JSON route takes, so both share every check."""
    forecast: dict[str, Any] = {"source": values.get("source") or ForecastSource.EXPLICIT.value}
    for name in ("start", "end", "weeks", "queue", "aht_seconds"):
        if values.get(name):
            forecast[name] = values[name]
    if values.get("calls_per_hour"):
        forecast["calls_per_hour"] = values["calls_per_hour"].replace(",", " ").split()
    raw = {
        "day": values.get("day", ""),
        "shifts": shifts_from_text(values.get("shifts", "")),
        "forecast": forecast,
    }
    try:
        result: GenerateIn = msgspec.convert(raw, GenerateIn, strict=False)
    except msgspec.ValidationError as exc:
        raise InputError(field_of(exc), str(exc).split(" - at ")[0]) from None
    return result


def grid_rows(shown: ScheduleView) -> list[dict[str, Any]]:
    """One row per CSR, one cell per interval: R/M/L for a break touching it, · on shift, blank off shift."""
    rows: list[dict[str, Any]] = []
    starts = [minute_of(i.start) for i in shown.intervals]
    for sh in shown.shifts:
        s0, s1 = minute_of(sh.start), minute_of(sh.end)
        mine = [b for b in shown.breaks if b.agent_id == sh.agent_id]
        cells = []
        for t in starts:
            mark = "·" if s0 <= t < s1 else ""
            for b in mine:
                b0 = minute_of(b.start)
                if b0 < t + INTERVAL and t < b0 + b.minutes:
                    mark = KIND_MARK[b.kind]
            cells.append(mark)
        rows.append({"agent_id": sh.agent_id, "shift": f"{sh.start}-{sh.end}", "cells": cells})
    return rows


def shortfall_runs(found: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive short intervals of one cause as one run (``from``-``until``, the worst shortage), so a
    day short from morning to night reads as one line and the grid's red cells give the detail."""
    runs: list[dict[str, Any]] = []
    for f in found:
        start, short = minute_of(f["start"]), f["required"] - f["available"]
        last = runs[-1] if runs else None
        if last is not None and last["cause"] == f["cause"] and minute_of(last["until"]) == start:
            last["until"] = fmt(start + INTERVAL)
            last["worst"] = max(last["worst"], short)
            last["intervals"] += 1
        else:
            runs.append(
                {
                    "from": f["start"],
                    "until": fmt(start + INTERVAL),
                    "cause": f["cause"],
                    "worst": short,
                    "intervals": 1,
                }
            )
    return runs


def shifts_text(shown: ScheduleView | None) -> str:
    if shown is None:
        return ""
    return "\n".join(
        f"{sh.agent_id} {sh.start}-{sh.end}" + (f" {sh.bargaining_unit}" if sh.bargaining_unit else "")
        for sh in shown.shifts
    )


def today(ctx: PluginContext) -> dt.date:
    return ctx.clock.now().astimezone(LOCAL_TZ).date()


async def grid(
    request: Request[Any, Any, Any],
    ctx: PluginContext,
    staff: Staff,
    when: dt.date,
    *,
    schedule_id: int | None = None,
    status_code: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> Response[Any]:
    """The day's grid: one row per CSR, one column per 15-minute interval, staffing rows below."""
    config: BreaksConfig = ctx.config
    async with ctx.db.session() as session:
        found = await queries.schedules_of(session, when)
        # The one asked for; else the published schedule (what the floor follows); else the newest draft.
        chosen = next((s for s in found if s.id == schedule_id), None) or next(
            (s for s in found if s.status == PUBLISHED), found[0] if found else None
        )
        shown = await service.schedule_view(session, config, chosen) if chosen else None
    form = values or {
        "day": when.isoformat(),
        "shifts": shifts_text(shown),
        "source": (shown.forecast.source if shown else ForecastSource.SIMULATOR.value),
    }
    return render(
        request,
        "breaks/grid.html",
        status_code=status_code,
        day=when,
        schedule=shown,
        rows=grid_rows(shown) if shown else [],
        short_runs=shortfall_runs(shown.shortfalls) if shown else [],
        schedules=found,
        error=error,
        values=form,
        is_lead=staff.role in service.LEAD_ROLES,
        sources=[s.value for s in ForecastSource],
        history_weeks=config.history_weeks,
        simulator_queue=config.simulator.queue,
    )


async def day_of(ctx: PluginContext, schedule_id: int) -> dt.date:
    async with ctx.db.session() as session:
        found = await session.get(BreaksSchedule, schedule_id)
    if found is None:
        raise InputError("schedule_id", f"no schedule #{schedule_id}", 404)
    return found.day


def back_to(day: dt.date, schedule_id: int) -> Redirect:
    return Redirect(f"/ui/breaks/?day={day.isoformat()}&schedule={schedule_id}", status_code=303)


class BreaksPages(Controller):
    """The grid and its forms."""

    # Everyone on staff sees the grid (and its nav entry); each form narrows itself to leads.
    opt = STAFF

    @get("/", opt=STAFF, customer_data=NONE)
    async def grid_page(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: CurrentStaff,
        day: Annotated[str | None, QueryParameter()] = None,
        schedule: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[Any]:
        try:
            when = dt.date.fromisoformat(day.strip()) if day else today(ctx)
        except ValueError:
            return await grid(
                request,
                ctx,
                staff,
                today(ctx),
                status_code=422,
                error=f"day: expected YYYY-MM-DD, got {day!r}",
            )
        chosen = int(schedule) if schedule and schedule.isdigit() else None
        return await grid(request, ctx, staff, when, schedule_id=chosen)

    @post("/schedules", opt=LEAD, customer_data=NONE)
    async def generate_form(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff
    ) -> Response[Any]:
        form = decode_form(await request.form(), GenerateForm)
        values = msgspec.structs.asdict(form)
        try:
            data = generate_request(values)
            schedule_id = await service.generate(ctx, staff, data)
        except InputError as exc:
            try:
                when = dt.date.fromisoformat(values["day"])
            except ValueError:
                when = today(ctx)
            return await grid(
                request, ctx, staff, when, status_code=exc.status_code, error=str(exc), values=values
            )
        return back_to(data.day, schedule_id)

    @post("/schedules/{schedule_id:int}/publish", opt=LEAD, customer_data=NONE)
    async def publish_form(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff, schedule_id: FromPath[int]
    ) -> Response[Any]:
        when = await day_of(ctx, schedule_id)
        try:
            await service.publish(ctx, staff, schedule_id)
        except InputError as exc:
            return await grid(
                request,
                ctx,
                staff,
                when,
                schedule_id=schedule_id,
                status_code=exc.status_code,
                error=str(exc),
            )
        return back_to(when, schedule_id)

    @post("/schedules/{schedule_id:int}/breaks/{break_id:int}", opt=LEAD, customer_data=NONE)
    async def move_form(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: CurrentStaff,
        schedule_id: FromPath[int],
        break_id: FromPath[int],
    ) -> Response[Any]:
        form = decode_form(await request.form(), MoveForm)
        when = await day_of(ctx, schedule_id)
        revision = int(form.revision) if form.revision.isdigit() else None
        try:
            await service.move_one(ctx, staff, schedule_id, break_id, form.start, revision)
        except InputError as exc:
            return await grid(
                request,
                ctx,
                staff,
                when,
                schedule_id=schedule_id,
                status_code=exc.status_code,
                error=str(exc),
            )
        return back_to(when, schedule_id)
