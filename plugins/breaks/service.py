"""Use cases of the breaks plugin: generate, edit and publish a day's schedule; start and end a break.

A lead generates a day's schedule from the shifts and the interval forecast (a draft), edits breaks by hand,
and publishes it. The forecast comes from calls per hour given in the request, the phone simulator's daily
arrival profile, or the calls the hub recorded on the same weekday over the last weeks
(:class:`~plugins.breaks.rules_forecast.ForecastSource`); a history with no calls is refused with 409 naming
``forecast.source``. A schedule with any V1-V8 violation (docs/rules.md §3.6) stays a draft with its
violations
listed and publishing it is refused with 409 — never published silently (issue 8 §1).

Starting a break moves the agent's telephony state to NOT_READY with the break's reason code through the
telephony part's :class:`~core.contract.phone.PhoneDesk` (``ctx.services``). Finesse records a
supervisor's NOT_READY as code 999 without a reason, so the desk makes the request as the agent's own (the
schedule is the agent's plan); only the agent or a lead may trigger it. Bad input raises
:class:`InputError` naming the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec
from litestar.exceptions import HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from core.contract import PluginContext
from core.contract.inputs import InputError
from core.contract.phone import PhoneDesk, PhoneRefused, required_agents
from core.contract.staff import Role, Staff
from plugins.breaks import events, queries
from plugins.breaks.models import BreaksBreak, BreaksSchedule, BreaksShift
from plugins.breaks.rules import (
    BreakKind,
    BreakPlan,
    BreaksConfig,
    Forecast,
    ShiftPlan,
    ShiftReport,
    available_per_interval,
    fmt,
    forecast_window,
    on_shift_per_interval,
    required_per_interval,
    rule_set_for,
    rule_sets,
    schedule,
    shortfalls,
    validate,
)
from plugins.breaks.rules_forecast import (
    DAY,
    INTERVAL,
    LOCAL_TZ,
    ForecastSource,
    history_days,
    history_forecast,
    local_day_bounds,
    profile_forecast,
    simulator_queue,
)
from plugins.breaks.schemas import (
    HHMM,
    BreakIn,
    BreakStartView,
    BreakView,
    EditIn,
    ForecastIn,
    ForecastView,
    GenerateIn,
    IntervalView,
    ScheduleView,
    ShiftIn,
    ShiftReportView,
    ShiftView,
    ValidationView,
    ViolationView,
)

LEAD_ROLES = frozenset({Role.LEAD, Role.SUPERVISOR, Role.ADMIN})
DRAFT, PUBLISHED, SUPERSEDED = "draft", "published", "superseded"
PLANNED, STARTED, ENDED = "planned", "started", "ended"


class ViolationsRefused(InputError):
    """Publishing refused: the schedule breaks docs/rules.md §3.6; the answer lists the violations (409)."""

    def __init__(self, message: str, violations: list[dict[str, Any]]) -> None:
        super().__init__("violations", message, 409)
        self.violations = violations

    def http(self) -> HTTPException:
        answer = super().http()
        if isinstance(answer.extra, list) and answer.extra:
            answer.extra[0]["violations"] = self.violations
        return answer


def minute_of(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def instant(day: dt.date, minute: int) -> dt.datetime:
    """The UTC instant of a local clock minute on ``day`` (DST-safe through the zone)."""
    local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=LOCAL_TZ)
    return local.astimezone(dt.UTC)


def phone_desk(ctx: PluginContext) -> PhoneDesk:
    """The telephony part's desk; 503 naming ``telephony`` while that part is not running."""
    desk = ctx.services.get(PhoneDesk)
    if desk is None:
        raise InputError("telephony", "the telephony part is not running", 503)
    return desk


def shift_plans(config: BreaksConfig, shifts: Sequence[ShiftIn]) -> list[ShiftPlan]:
    """Shifts as plans, each with its rule set (an MOU unit's or Order 4, docs/rules.md §3.5)."""
    plans: list[ShiftPlan] = []
    seen: set[str] = set()
    for i, s in enumerate(shifts):
        start, end = minute_of(s.start), minute_of(s.end)
        if end <= start:
            raise InputError(f"shifts[{i}].end", "must be after start (overnight shifts are not supported)")
        if s.agent_id in seen:
            raise InputError(f"shifts[{i}].agent_id", f"{s.agent_id} has two shifts on the day")
        if s.bargaining_unit and s.bargaining_unit not in config.mou_units:
            raise InputError(f"shifts[{i}].bargaining_unit", f"no MOU rule set for unit {s.bargaining_unit}")
        seen.add(s.agent_id)
        plans.append(
            ShiftPlan(
                agent_id=s.agent_id,
                start=start,
                end=end,
                rules=rule_set_for(config, s.bargaining_unit),
                meal1_waived=s.meal1_waived,
                meal2_waived=s.meal2_waived,
                on_duty_meal_agreement=s.on_duty_meal_agreement,
                lactation=s.lactation,
                lactation_breaks=s.lactation_breaks
                or (config.lactation_breaks_default if s.lactation else 0),
                regular_rate=s.regular_rate,
            )
        )
    return plans


def break_plans(breaks: Sequence[BreakIn], agents: set[str]) -> list[BreakPlan]:
    plans = []
    for i, b in enumerate(breaks):
        if b.agent_id not in agents:
            raise InputError(f"breaks[{i}].agent_id", f"{b.agent_id} has no shift in this schedule")
        start = minute_of(b.start)
        if start + b.minutes > DAY:
            raise InputError(f"breaks[{i}].minutes", "runs past midnight")
        if b.on_duty and b.kind is not BreakKind.MEAL:
            raise InputError(f"breaks[{i}].on_duty", "only a meal can be on duty (docs/rules.md §3.2)")
        plans.append(
            BreakPlan(b.agent_id, b.kind, start, b.minutes, on_duty=b.on_duty, lactation=b.lactation)
        )
    return plans


def validation_view(reports: Sequence[ShiftReport]) -> ValidationView:
    violations = [
        ViolationView(
            agent_id=v.agent_id,
            rule=v.rule.value,
            message=v.message,
            premium=v.premium.value,
            break_start=fmt(v.break_start) if v.break_start is not None else None,
        )
        for r in reports
        for v in r.violations
    ]
    return ValidationView(
        valid=not violations,
        violations=violations,
        shifts=[
            ShiftReportView(
                agent_id=r.agent_id,
                rule_set=r.rule_set,
                worked_hours=round(r.worked_minutes / 60, 2),
                premium_hours=r.premium_hours,
                premium_amount=r.premium_amount,
            )
            for r in reports
        ],
        premium_hours=sum(r.premium_hours for r in reports),
    )


def _forecast_of(s: BreaksSchedule) -> Forecast:
    return Forecast(
        start=s.forecast_start,
        calls_per_hour=tuple(s.calls_per_hour),
        aht_seconds=s.aht_seconds,
        target_service_level=s.target_service_level,
        threshold_seconds=s.threshold_seconds,
    )


def _plan_of_shift(config: BreaksConfig, row: BreaksShift) -> ShiftPlan:
    return ShiftPlan(
        agent_id=row.agent_id,
        start=row.start_minute,
        end=row.end_minute,
        rules=rule_set_for(config, row.bargaining_unit),
        meal1_waived=row.meal1_waived,
        meal2_waived=row.meal2_waived,
        on_duty_meal_agreement=row.on_duty_meal_agreement,
        lactation=row.lactation,
        lactation_breaks=row.lactation_breaks,
        regular_rate=row.regular_rate,
    )


def _plan_of_break(row: BreaksBreak) -> BreakPlan:
    return BreakPlan(
        row.agent_id,
        BreakKind(row.kind),
        row.start_minute,
        row.minutes,
        on_duty=row.on_duty,
        lactation=row.lactation,
    )


def _violations_json(reports: Sequence[ShiftReport]) -> list[dict[str, Any]]:
    return [msgspec.to_builtins(v) for v in validation_view(reports).violations]


def _evaluate(
    config: BreaksConfig, s: BreaksSchedule, shifts: Sequence[ShiftPlan], breaks: Sequence[BreakPlan]
) -> None:
    """Recompute a schedule's staffing, shortfalls and violations after its breaks changed."""
    forecast = _forecast_of(s)
    available = available_per_interval(forecast, shifts, breaks)
    on_shift = on_shift_per_interval(forecast, shifts)
    s.available = available
    s.shortfalls = [
        {**msgspec.to_builtins(f), "start": fmt(f.start)}
        for f in shortfalls(forecast, s.required, on_shift, available)
    ]
    reports = validate(shifts, breaks)
    s.violations = _violations_json(reports)
    s.premium_hours = sum(r.premium_hours for r in reports)


async def schedule_view(session: AsyncSession, config: BreaksConfig, s: BreaksSchedule) -> ScheduleView:
    shifts, breaks = await queries.rows(session, s.id)
    forecast = _forecast_of(s)
    on_shift = on_shift_per_interval(forecast, [_plan_of_shift(config, r) for r in shifts])
    return ScheduleView(
        id=s.id,
        day=s.day,
        status=s.status,
        revision=s.revision,
        shifts=[
            ShiftView(
                agent_id=r.agent_id,
                start=fmt(r.start_minute),
                end=fmt(r.end_minute),
                rule_set=r.rule_set,
                bargaining_unit=r.bargaining_unit,
            )
            for r in shifts
        ],
        breaks=[
            BreakView(
                id=b.id,
                agent_id=b.agent_id,
                kind=b.kind,
                start=fmt(b.start_minute),
                minutes=b.minutes,
                on_duty=b.on_duty,
                lactation=b.lactation,
                status=b.status,
                start_at=b.start_at,
                started_at=b.started_at,
            )
            for b in breaks
        ],
        forecast=msgspec.convert(
            {**(s.forecast_detail or {}), "source": s.forecast_source, "aht_seconds": s.aht_seconds},
            ForecastView,
        ),
        intervals=[
            IntervalView(
                start=fmt(forecast.start + i * INTERVAL),
                calls_per_hour=s.calls_per_hour[i],
                required=s.required[i],
                on_shift=on_shift[i],
                available=s.available[i],
            )
            for i in range(len(s.calls_per_hour))
        ],
        shortfalls=s.shortfalls,
        violations=s.violations,
        premium_hours=s.premium_hours,
        published_at=s.published_at,
    )


def _changed(s: BreaksSchedule, n_breaks: int, actor: str, now: dt.datetime) -> events.ScheduleChanged:
    return events.ScheduleChanged(
        schedule_id=s.id,
        day=s.day,
        status=s.status,
        revision=s.revision,
        breaks=n_breaks,
        violations=len(s.violations),
        shortfall_intervals=len(s.shortfalls),
        premium_hours=s.premium_hours,
        changed_at=now,
        changed_by=actor,
    )


def _add_breaks(session: AsyncSession, s: BreaksSchedule, breaks: Sequence[BreakPlan]) -> None:
    for b in breaks:
        session.add(
            BreaksBreak(
                schedule_id=s.id,
                agent_id=b.agent_id,
                kind=b.kind.value,
                start_minute=b.start,
                minutes=b.minutes,
                on_duty=b.on_duty,
                lactation=b.lactation,
                start_at=instant(s.day, b.start),
                status=PLANNED,
            )
        )


# -- operations ----------------------------------------------------------------------------------------------
def _window(shifts: Sequence[ShiftPlan], given: ForecastIn) -> tuple[int, int]:
    start = minute_of(given.start) if given.start is not None else None
    end = minute_of(given.end) if given.end is not None else None
    for name, minute in (("start", start), ("end", end)):
        if minute is not None and minute % INTERVAL:
            raise InputError(f"forecast.{name}", f"must be on a {INTERVAL}-minute boundary")
    try:
        return forecast_window(shifts, start, end)
    except ValueError as exc:
        raise InputError("forecast.end" if end is not None else "forecast.start", str(exc)) from None


async def resolve_forecast(
    ctx: PluginContext, day: dt.date, shifts: Sequence[ShiftPlan], given: ForecastIn
) -> tuple[Forecast, dict[str, Any]]:
    """The interval forecast from the source asked for, and the detail stored with the schedule."""
    config: BreaksConfig = ctx.config
    source = given.source
    if source is not ForecastSource.EXPLICIT and given.calls_per_hour is not None:
        raise InputError("forecast.calls_per_hour", f"is for an explicit forecast, not one from {source}")
    if source is not ForecastSource.HISTORY and given.weeks is not None:
        raise InputError("forecast.weeks", "is for a forecast from history")
    detail: dict[str, Any] = {}
    aht, aht_from = config.aht_seconds, "config"
    if source is ForecastSource.EXPLICIT:
        if given.start is None:
            raise InputError("forecast.start", "is required with calls_per_hour")
        if given.calls_per_hour is None:
            raise InputError("forecast.calls_per_hour", "is required for an explicit forecast")
        start = minute_of(given.start)
        if start + INTERVAL * len(given.calls_per_hour) > DAY:
            raise InputError("forecast.calls_per_hour", "runs past midnight")
        if given.end is not None and minute_of(given.end) != start + INTERVAL * len(given.calls_per_hour):
            raise InputError("forecast.end", "does not match the number of calls_per_hour intervals")
        rates = tuple(given.calls_per_hour)
    elif source is ForecastSource.SIMULATOR:
        profile = config.simulator
        if given.queue is not None and given.queue != profile.queue:
            raise InputError("forecast.queue", f"the simulator's profile is for queue {profile.queue}")
        start, intervals = _window(shifts, given)
        rates = profile_forecast(simulator_queue(profile), start, intervals)
        aht, aht_from = profile.aht_seconds, "simulator"
        detail["queue"] = profile.queue
    else:
        weeks = given.weeks or config.history_weeks
        start, intervals = _window(shifts, given)
        days = history_days(day, weeks)
        calls = await phone_desk(ctx).recorded_calls([local_day_bounds(d) for d in days], given.queue)
        found = history_forecast(day, weeks, calls, start, intervals, config.history_min_handled_calls)
        if not found.days_used:
            where = f" into queue {given.queue}" if given.queue else ""
            raise InputError(
                "forecast.source",
                f"no calls{where} recorded on the last {weeks} {day.strftime('%A')}s "
                f"({days[-1].isoformat()} to {days[0].isoformat()}); "
                "give calls_per_hour or use the simulator",
                409,
            )
        rates = found.calls_per_hour
        if found.aht_seconds is not None:
            aht, aht_from = found.aht_seconds, "history"
        detail.update(
            queue=given.queue,
            weeks=weeks,
            days_used=[d.isoformat() for d in found.days_used],
            days_empty=[d.isoformat() for d in found.days_empty],
            calls=found.calls,
            handled=found.handled,
        )
    if given.aht_seconds is not None:
        aht, aht_from = given.aht_seconds, "request"
    detail["aht_from"] = aht_from
    forecast = Forecast(
        start=start,
        calls_per_hour=rates,
        aht_seconds=aht,
        target_service_level=given.target_service_level or config.target_service_level,
        threshold_seconds=(
            given.threshold_seconds if given.threshold_seconds is not None else config.threshold_seconds
        ),
        max_occupancy=config.max_occupancy,
    )
    return forecast, {k: v for k, v in detail.items() if v is not None}


async def generate(ctx: PluginContext, staff: Staff, data: GenerateIn) -> int:
    """Build a draft for the day: Erlang C need per interval, breaks placed in their legal windows."""
    config: BreaksConfig = ctx.config
    shifts = shift_plans(config, data.shifts)
    forecast, detail = await resolve_forecast(ctx, data.day, shifts, data.forecast)
    required = required_per_interval(forecast, required_agents)
    result = schedule(shifts, forecast, required, config)
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        s = BreaksSchedule(
            day=data.day,
            status=DRAFT,
            revision=1,
            forecast_start=forecast.start,
            calls_per_hour=list(forecast.calls_per_hour),
            aht_seconds=forecast.aht_seconds,
            target_service_level=forecast.target_service_level,
            threshold_seconds=forecast.threshold_seconds,
            forecast_source=data.forecast.source.value,
            forecast_detail=detail,
            required=list(required),
            available=list(result.available),
            shortfalls=[],
            violations=[],
            premium_hours=0,
            created_at=now,
            created_by=staff.actor,
            updated_at=now,
            updated_by=staff.actor,
        )
        _evaluate(config, s, shifts, result.breaks)
        session.add(s)
        await session.flush()
        for plan, given in zip(shifts, data.shifts, strict=True):
            session.add(
                BreaksShift(
                    schedule_id=s.id,
                    agent_id=plan.agent_id,
                    start_minute=plan.start,
                    end_minute=plan.end,
                    bargaining_unit=given.bargaining_unit,
                    rule_set=plan.rules.name,
                    meal1_waived=plan.meal1_waived,
                    meal2_waived=plan.meal2_waived,
                    on_duty_meal_agreement=plan.on_duty_meal_agreement,
                    lactation=plan.lactation,
                    lactation_breaks=plan.lactation_breaks,
                    regular_rate=plan.regular_rate,
                )
            )
        _add_breaks(session, s, result.breaks)
        ctx.events.emit(
            session, events.DRAFTED, _changed(s, len(result.breaks), staff.actor, now), actor=staff.actor
        )
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="breaks.generated",
            target=f"breaks_schedule:{s.id}",
            detail={
                "day": data.day.isoformat(),
                "shifts": len(shifts),
                "shortfalls": len(s.shortfalls),
                "forecast": data.forecast.source.value,
            },
        )
        return s.id


async def _schedule(session: AsyncSession, schedule_id: int) -> BreaksSchedule:
    found = await session.get(BreaksSchedule, schedule_id, with_for_update=True)
    if found is None:
        raise InputError("schedule_id", f"no schedule #{schedule_id}", 404)
    return found


async def edit(ctx: PluginContext, staff: Staff, schedule_id: int, data: EditIn) -> None:
    """Replace the breaks by hand. The result is always a draft: an edited schedule is re-published
    deliberately, so a change with violations can never go out silently (issue 8 §1)."""
    config: BreaksConfig = ctx.config
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        s = await _schedule(session, schedule_id)
        if data.revision is not None and data.revision != s.revision:
            raise InputError("revision", f"is {s.revision} now; reload and try again", 409)
        shift_rows, break_rows = await queries.rows(session, s.id)
        if any(b.status != PLANNED for b in break_rows):
            raise InputError("breaks", "breaks have already started; make a new schedule for the day", 409)
        shifts = [_plan_of_shift(config, r) for r in shift_rows]
        breaks = break_plans(data.breaks, {p.agent_id for p in shifts})
        await queries.drop_breaks(session, s.id)
        _add_breaks(session, s, breaks)
        _evaluate(config, s, shifts, breaks)
        s.status = DRAFT
        s.published_at = s.published_by = None
        s.revision += 1
        s.updated_at, s.updated_by = now, staff.actor
        ctx.events.emit(
            session, events.DRAFTED, _changed(s, len(breaks), staff.actor, now), actor=staff.actor
        )
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="breaks.edited",
            target=f"breaks_schedule:{s.id}",
            detail={"breaks": len(breaks), "violations": len(s.violations)},
        )


async def publish(ctx: PluginContext, staff: Staff, schedule_id: int) -> None:
    """Publish a schedule with no violation; an earlier published one of the same day is superseded."""
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        s = await _schedule(session, schedule_id)
        if s.status == PUBLISHED:
            return
        if s.violations:
            raise ViolationsRefused(
                f"{len(s.violations)} violation(s) of docs/rules.md §3.6; fix them and publish again",
                s.violations,
            )
        for old in await queries.published_others(session, s, PUBLISHED):
            old.status = SUPERSEDED
        s.status = PUBLISHED
        s.published_at, s.published_by = now, staff.actor
        s.updated_at, s.updated_by = now, staff.actor
        _, break_rows = await queries.rows(session, s.id)
        ctx.events.emit(
            session, events.PUBLISHED, _changed(s, len(break_rows), staff.actor, now), actor=staff.actor
        )
        await ctx.audit.append(
            session, actor=staff.actor, action="breaks.published", target=f"breaks_schedule:{s.id}", detail={}
        )


async def move_break(ctx: PluginContext, staff: Staff, break_id: int, *, start: bool) -> BreakStartView:
    """Start (NOT_READY with the break's reason code) or end (READY) a break of a published schedule.

    The telephony part is asked only once the break itself may move, so a bad break id is a 404 whatever
    telephony's state.
    """
    config: BreaksConfig = ctx.config
    async with ctx.db.session() as session:
        row = await session.get(BreaksBreak, break_id)
        if row is None:
            raise InputError("break_id", f"no break #{break_id}", 404)
        parent = await session.get(BreaksSchedule, row.schedule_id)
        if parent is None or parent.status != PUBLISHED:
            raise InputError("status", "only a break of the published schedule can start", 409)
        if staff.name != row.agent_id and staff.role not in LEAD_ROLES:
            raise InputError("break_id", "only the agent or a lead starts or ends a break", 403)
        want, target = (PLANNED, STARTED) if start else (STARTED, ENDED)
        if row.status != want:
            raise InputError("status", f"break #{break_id} is {row.status}", 409)
        agent_id, kind = row.agent_id, BreakKind(row.kind)
    code = config.reason_code_for(kind)
    desk = phone_desk(ctx)
    try:
        # As the agent's own request, so the reason code is kept (see the module doc).
        if start:
            snapshot = await desk.set_agent_state(agent_id, "NOT_READY", code)
        else:
            snapshot = await desk.set_agent_state(agent_id, "READY")
    except PhoneRefused as exc:
        raise InputError(f"telephony.{exc.field}", exc.message, 409) from None
    wanted = "NOT_READY" if start else "READY"
    if wanted not in (snapshot.state, snapshot.pending_state):
        # Refused asynchronously (e.g. the agent is signed out): the break does not start on paper either.
        raise InputError(
            "telephony.state", f"agent {agent_id} is {snapshot.state}; could not go {wanted}", 409
        )
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        row2 = await session.get(BreaksBreak, break_id, with_for_update=True)
        assert row2 is not None
        if row2.status != want:
            raise InputError("status", f"break #{break_id} is {row2.status}", 409)
        row2.status = target
        if start:
            row2.started_at = now
        else:
            row2.ended_at = now
        late = max(0, int((now - row2.start_at).total_seconds() // 60)) if start else 0
        ctx.events.emit(
            session,
            events.BREAK_STARTED if start else events.BREAK_ENDED,
            events.BreakChanged(
                break_id=row2.id,
                schedule_id=row2.schedule_id,
                agent_id=agent_id,
                kind=kind.value,
                status=target,
                planned_start=row2.start_at,
                reason_code_id=code if start else 0,
                late_minutes=late,
                at=now,
                by=staff.actor,
            ),
            actor=staff.actor,
        )
    return BreakStartView(
        id=break_id,
        agent_id=agent_id,
        kind=kind.value,
        status=target,
        reason_code_id=code if start else 0,
        telephony_state=snapshot.state,
        late_minutes=late,
    )


async def move_one(
    ctx: PluginContext, staff: Staff, schedule_id: int, break_id: int, start: str, revision: int | None
) -> None:
    """Move one break to ``start``: the schedule's break list with that one changed, through :func:`edit`."""
    try:
        when = msgspec.convert(start, HHMM)
    except msgspec.ValidationError:
        raise InputError("start", f"expected HH:MM, got {start!r}") from None
    async with ctx.db.session() as session:
        _, rows = await queries.rows(session, schedule_id)
    if not any(b.id == break_id for b in rows):
        raise InputError("break_id", f"no break #{break_id} in schedule #{schedule_id}", 404)
    listed = [
        BreakIn(
            agent_id=b.agent_id,
            kind=BreakKind(b.kind),
            start=when if b.id == break_id else fmt(b.start_minute),
            minutes=b.minutes,
            on_duty=b.on_duty,
            lactation=b.lactation,
        )
        for b in rows
    ]
    await edit(ctx, staff, schedule_id, EditIn(breaks=listed, revision=revision))


async def view(ctx: PluginContext, schedule_id: int) -> ScheduleView:
    """One schedule with its grid; an unknown id is a 404 naming ``schedule_id``."""
    async with ctx.db.session() as session:
        found = await session.get(BreaksSchedule, schedule_id)
        if found is None:
            raise InputError("schedule_id", f"no schedule #{schedule_id}", 404)
        return await schedule_view(session, ctx.config, found)


async def day_views(ctx: PluginContext, day: dt.date) -> list[ScheduleView]:
    """The schedules of a day, newest first."""
    async with ctx.db.session() as session:
        return [await schedule_view(session, ctx.config, s) for s in await queries.schedules_of(session, day)]


def validate_any(
    config: BreaksConfig, shifts: Sequence[ShiftIn], breaks: Sequence[BreakIn]
) -> ValidationView:
    """Check any schedule, stored or not, against V1-V8."""
    plans = shift_plans(config, shifts)
    return validation_view(validate(plans, break_plans(breaks, {s.agent_id for s in plans})))


def rule_set_views(config: BreaksConfig) -> list[dict[str, Any]]:
    """The rule sets: Order 4 and each configured MOU unit."""
    return [
        {
            "name": r.name,
            "rest_minutes": r.rest_minutes,
            "meal_minutes": r.meal_minutes,
            "first_meal_by_hour": r.first_meal_after / 60,
            "second_meal_by_hour": r.second_meal_after / 60,
            "premium_pay": r.premium_pay,
        }
        for r in rule_sets(config).values()
    ]
