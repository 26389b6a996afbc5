"""HTTP side of the breaks plugin: JSON routes under /api/breaks and the lead's day grid under /ui/breaks.

A lead generates a day's schedule from the shifts and the interval forecast (a draft), edits breaks by hand,
and publishes it — over JSON or on the grid page, which posts forms to the same operations. The forecast
comes from calls per hour given in the request, the phone simulator's daily arrival profile, or the calls
the hub recorded on the same weekday over the last weeks (service.ForecastSource); a history with no calls
answers 409 naming ``forecast.source``. A schedule with any V1-V8 violation (rules.md §3.6) stays a draft
with its violations listed and publishing it answers 409 — never published silently (issue 8 §1). Bodies are
decoded here so a malformed body answers 422 naming the field (``extra[0].key``), like the other plugins;
the page's forms re-render with the same message and status.

Starting a break moves the agent's telephony state to NOT_READY with the break's reason code through the
telephony part's public service (``telephony_service``). Finesse records a supervisor's NOT_READY as code
999 without a reason, so the hub makes the request as the agent's own (the schedule is the agent's plan);
only the agent or a lead may trigger it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post, put
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.contract import PageSpec, PluginContext
from core.security import current_staff
from core.staff import Staff
from core.telephony.erlang import required_agents
from core.telephony.plugin import telephony_service
from core.telephony.service import Actor, PhoneRequestError
from core.web.pages import render
from plugins.breaks import events
from plugins.breaks.models import BreaksBreak, BreaksSchedule, BreaksShift, recorded_calls
from plugins.breaks.service import (
    DAY,
    INTERVAL,
    LOCAL_TZ,
    UNIT_NAME,
    BreakKind,
    BreakPlan,
    BreaksConfig,
    Forecast,
    ForecastSource,
    ShiftPlan,
    ShiftReport,
    available_per_interval,
    fmt,
    forecast_window,
    history_days,
    history_forecast,
    local_day_bounds,
    on_shift_per_interval,
    profile_forecast,
    required_per_interval,
    rule_set_for,
    rule_sets,
    schedule,
    shortfalls,
    simulator_queue,
    validate,
)

LEAD = {"roles": ["lead", "supervisor", "admin"]}
STAFF = {"access": "staff"}
LEAD_ROLES = frozenset(LEAD["roles"])
DRAFT, PUBLISHED, SUPERSEDED = "draft", "published", "superseded"
PLANNED, STARTED, ENDED = "planned", "started", "ended"

HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
AgentId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._@-]{1,64}$")]
Unit = Annotated[str, msgspec.Meta(pattern=UNIT_NAME)]


# -- request bodies ------------------------------------------------------------------------------------------
class ShiftIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A CSR's shift on the day (local times, same day) and what changes their entitlements."""

    agent_id: AgentId
    start: HHMM
    end: HHMM
    bargaining_unit: Unit | None = None
    meal1_waived: bool = False
    meal2_waived: bool = False
    on_duty_meal_agreement: bool = False
    lactation: bool = False
    lactation_breaks: Annotated[int, msgspec.Meta(ge=0, le=6)] = 0
    regular_rate: Annotated[float, msgspec.Meta(ge=0, le=10000)] | None = None


class ForecastIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The interval forecast, from one of three sources; targets default from config.

    * ``explicit`` (the default): ``calls_per_hour`` for consecutive 15-minute intervals from ``start``;
    * ``simulator``: the phone simulator's daily arrival profile (``[plugins.breaks.simulator]``);
    * ``history``: the calls recorded on the same weekday over the last ``weeks`` weeks (config
      ``history_weeks``), optionally into one ``queue``; its measured handle time replaces the configured
      one when enough calls back it.

    For ``simulator`` and ``history`` the window [``start``, ``end``) defaults to the shifts' span. An
    ``aht_seconds`` given here wins over every source.
    """

    source: ForecastSource = ForecastSource.EXPLICIT
    start: HHMM | None = None
    end: HHMM | None = None
    calls_per_hour: (
        Annotated[
            list[Annotated[float, msgspec.Meta(ge=0, le=100000)]], msgspec.Meta(min_length=1, max_length=96)
        ]
        | None
    ) = None
    weeks: Annotated[int, msgspec.Meta(ge=1, le=26)] | None = None
    queue: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    aht_seconds: Annotated[float, msgspec.Meta(gt=0, le=7200)] | None = None
    target_service_level: Annotated[float, msgspec.Meta(gt=0, lt=1)] | None = None
    threshold_seconds: Annotated[float, msgspec.Meta(ge=0, le=600)] | None = None


class GenerateIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    day: dt.date
    shifts: Annotated[list[ShiftIn], msgspec.Meta(min_length=1, max_length=500)]
    forecast: ForecastIn


class BreakIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    agent_id: AgentId
    kind: BreakKind
    start: HHMM
    minutes: Annotated[int, msgspec.Meta(ge=1, le=180)]
    on_duty: bool = False
    lactation: bool = False


class EditIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The schedule's whole break list as the lead set it; ``revision`` guards lost updates."""

    breaks: Annotated[list[BreakIn], msgspec.Meta(max_length=5000)]
    revision: Annotated[int, msgspec.Meta(ge=1)] | None = None


class ValidateIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Any schedule, stored or not: shifts and breaks to check against V1-V8."""

    shifts: Annotated[list[ShiftIn], msgspec.Meta(min_length=1, max_length=500)]
    breaks: Annotated[list[BreakIn], msgspec.Meta(max_length=5000)]


# -- responses -----------------------------------------------------------------------------------------------
class ViolationView(msgspec.Struct, kw_only=True):
    agent_id: str
    rule: str
    message: str
    premium: str
    break_start: str | None


class ShiftReportView(msgspec.Struct, kw_only=True):
    agent_id: str
    rule_set: str
    worked_hours: float
    premium_hours: int
    premium_amount: float | None


class ValidationView(msgspec.Struct, kw_only=True):
    valid: bool
    violations: list[ViolationView]
    shifts: list[ShiftReportView]
    premium_hours: int


class IntervalView(msgspec.Struct, kw_only=True):
    start: str
    calls_per_hour: float
    required: int
    on_shift: int
    available: int


class BreakView(msgspec.Struct, kw_only=True):
    id: int
    agent_id: str
    kind: str
    start: str
    minutes: int
    on_duty: bool
    lactation: bool
    status: str
    start_at: dt.datetime
    started_at: dt.datetime | None


class ForecastView(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Where the schedule's forecast came from and what it rests on.

    ``aht_from`` says whose handle time Erlang C used: ``request``, ``history`` (measured), ``simulator``
    (the profile's) or ``config``. For ``history``: the weeks asked for, the days that had calls (and those
    left out for having none), the calls counted and how many of them an agent handled.
    """

    source: str
    aht_seconds: float
    aht_from: str = "config"
    queue: str | None = None
    weeks: int | None = None
    days_used: list[dt.date] = []
    days_empty: list[dt.date] = []
    calls: int | None = None
    handled: int | None = None


class ShiftView(msgspec.Struct, kw_only=True):
    agent_id: str
    start: str
    end: str
    rule_set: str
    bargaining_unit: str | None


class ScheduleView(msgspec.Struct, kw_only=True):
    id: int
    day: dt.date
    status: str
    revision: int
    shifts: list[ShiftView]
    breaks: list[BreakView]
    forecast: ForecastView
    intervals: list[IntervalView]
    shortfalls: list[dict[str, Any]]
    violations: list[dict[str, Any]]
    premium_hours: int
    published_at: dt.datetime | None


class BreakStartView(msgspec.Struct, kw_only=True):
    id: int
    agent_id: str
    kind: str
    status: str
    reason_code_id: int
    telephony_state: str
    late_minutes: int


# -- errors and decoding -------------------------------------------------------------------------------------
class InputError(Exception):
    """Bad input for a breaks operation: ``field`` names what was wrong, ``status_code`` the answer."""

    def __init__(self, field: str, message: str, status_code: int = 422, extra: Any = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.status_code = status_code
        self.extra = extra

    def http(self) -> ClientException:
        detail = str(self)
        item: dict[str, Any] = {"key": self.field, "message": detail}
        if self.extra is not None:
            item["violations"] = self.extra
        return ClientException(status_code=self.status_code, detail=detail, extra=[item])


def _field_in(error: msgspec.ValidationError) -> str:
    """The field a msgspec error names: ``… - at `$.shifts[0].end` `` or ``missing required field `day` ``."""
    text = str(error)
    if "at `$." in text:
        path = text.split("at `$.", 1)[1].split("`", 1)[0]
        if "missing required field `" in text:
            name = text.split("field `", 1)[1].split("`", 1)[0]
            return f"{path}.{name}"
        return path or "body"
    if "field `" in text:
        return text.split("field `", 1)[1].split("`", 1)[0] or "body"
    return "body"


def decode(raw: bytes, type_: type[Any]) -> Any:
    if not raw.strip():
        raise InputError("body", "a JSON object is required").http()
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        raise InputError(_field_in(exc), str(exc).split(" - at ")[0]).http() from None
    except msgspec.DecodeError as exc:
        raise InputError("body", f"malformed JSON ({exc})").http() from None


def minute_of(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def instant(day: dt.date, minute: int) -> dt.datetime:
    """The UTC instant of a local clock minute on ``day`` (DST-safe through the zone)."""
    local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=LOCAL_TZ)
    return local.astimezone(dt.UTC)


def shift_plans(config: BreaksConfig, shifts: Sequence[ShiftIn]) -> list[ShiftPlan]:
    """Shifts as plans, each with its rule set (an MOU unit's or Order 4, rules.md §3.5)."""
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
            raise InputError(f"breaks[{i}].on_duty", "only a meal can be on duty (rules.md §3.2)")
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


async def _rows(session: AsyncSession, schedule_id: int) -> tuple[list[BreaksShift], list[BreaksBreak]]:
    shifts = list(
        await session.scalars(
            select(BreaksShift).where(BreaksShift.schedule_id == schedule_id).order_by(BreaksShift.id)
        )
    )
    breaks = list(
        await session.scalars(
            select(BreaksBreak)
            .where(BreaksBreak.schedule_id == schedule_id)
            .order_by(BreaksBreak.agent_id, BreaksBreak.start_minute, BreaksBreak.id)
        )
    )
    return shifts, breaks


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
    shifts, breaks = await _rows(session, s.id)
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
        async with ctx.db.session() as session:
            calls = await recorded_calls(session, [local_day_bounds(d) for d in days], given.queue)
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
        shift_rows, break_rows = await _rows(session, s.id)
        if any(b.status != PLANNED for b in break_rows):
            raise InputError("breaks", "breaks have already started; make a new schedule for the day", 409)
        shifts = [_plan_of_shift(config, r) for r in shift_rows]
        breaks = break_plans(data.breaks, {p.agent_id for p in shifts})
        await session.execute(delete(BreaksBreak).where(BreaksBreak.schedule_id == s.id))
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
            raise InputError(
                "violations",
                f"{len(s.violations)} violation(s) of rules.md §3.6; fix them and publish again",
                409,
                extra=s.violations,
            )
        earlier = await session.scalars(
            select(BreaksSchedule).where(
                BreaksSchedule.day == s.day, BreaksSchedule.status == PUBLISHED, BreaksSchedule.id != s.id
            )
        )
        for old in earlier:
            old.status = SUPERSEDED
        s.status = PUBLISHED
        s.published_at, s.published_by = now, staff.actor
        s.updated_at, s.updated_by = now, staff.actor
        _, break_rows = await _rows(session, s.id)
        ctx.events.emit(
            session, events.PUBLISHED, _changed(s, len(break_rows), staff.actor, now), actor=staff.actor
        )
        await ctx.audit.append(
            session, actor=staff.actor, action="breaks.published", target=f"breaks_schedule:{s.id}", detail={}
        )


async def _telephony(request: Request[Any, Any, Any]) -> Any:
    phone = telephony_service(request.app.state["hub"])
    if phone is None:
        raise ClientException(status_code=503, detail="telephony: the telephony part is not running")
    return phone


async def move_break(
    ctx: PluginContext, request: Request[Any, Any, Any], break_id: int, *, start: bool
) -> BreakStartView:
    """Start (NOT_READY with the break's reason code) or end (READY) a break of a published schedule."""
    config: BreaksConfig = ctx.config
    staff = current_staff(request)
    async with ctx.db.session() as session:
        row = await session.get(BreaksBreak, break_id)
        if row is None:
            raise InputError("break_id", f"no break #{break_id}", 404)
        parent = await session.get(BreaksSchedule, row.schedule_id)
        if parent is None or parent.status != PUBLISHED:
            raise InputError("status", "only a break of the published schedule can start", 409)
        if staff.name != row.agent_id and staff.role.value not in LEAD_ROLES:
            raise PermissionDeniedException("only the agent or a lead starts or ends a break")
        want, target = (PLANNED, STARTED) if start else (STARTED, ENDED)
        if row.status != want:
            raise InputError("status", f"break #{break_id} is {row.status}", 409)
        agent_id, kind = row.agent_id, BreakKind(row.kind)
    code = config.reason_code_for(kind)
    phone = await _telephony(request)
    actor = Actor(agent_id, "agent")  # the agent's own request, so the reason code is kept (see module doc)
    try:
        if start:
            await phone.set_state(actor, agent_id, "NOT_READY", code)
        else:
            await phone.set_state(actor, agent_id, "READY")
        snapshot = await phone.get_agent(actor, agent_id)
    except PhoneRequestError as exc:
        raise InputError(f"telephony.{exc.field or 'state'}", exc.message, 409).http() from None
    wanted = "NOT_READY" if start else "READY"
    if wanted not in (snapshot.state, snapshot.pendingState):
        # Refused asynchronously (e.g. the agent is signed out): the break does not start on paper either.
        raise InputError(
            "telephony.state", f"agent {agent_id} is {snapshot.state}; could not go {wanted}", 409
        ).http()
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        row2 = await session.get(BreaksBreak, break_id, with_for_update=True)
        assert row2 is not None
        if row2.status != want:
            raise InputError("status", f"break #{break_id} is {row2.status}", 409).http()
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


# -- JSON routes ---------------------------------------------------------------------------------------------
def routes(ctx: PluginContext) -> list[Any]:
    config: BreaksConfig = ctx.config

    async def view(schedule_id: int) -> ScheduleView:
        async with ctx.db.session() as session:
            found = await session.get(BreaksSchedule, schedule_id)
            if found is None:
                raise NotFoundException(f"schedule_id: no schedule #{schedule_id}")
            return await schedule_view(session, config, found)

    @get("/rule-sets", opt=STAFF, summary="The rule sets (Order 4 and each MOU unit)")
    async def list_rule_sets() -> list[dict[str, Any]]:
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

    @post("/validate", opt=LEAD, status_code=200, summary="Check any schedule against V1-V8")
    async def validate_any(request: Request[Any, Any, Any]) -> ValidationView:
        data: ValidateIn = decode(await request.body(), ValidateIn)
        try:
            shifts = shift_plans(config, data.shifts)
            breaks = break_plans(data.breaks, {s.agent_id for s in shifts})
        except InputError as exc:
            raise exc.http() from None
        return validation_view(validate(shifts, breaks))

    @post("/schedules", opt=LEAD, summary="Generate a day's break schedule (a draft)")
    async def generate_schedule(request: Request[Any, Any, Any]) -> Response[ScheduleView]:
        data: GenerateIn = decode(await request.body(), GenerateIn)
        try:
            schedule_id = await generate(ctx, current_staff(request), data)
        except InputError as exc:
            raise exc.http() from None
        return Response(await view(schedule_id), status_code=201)

    @get("/schedules", opt=STAFF, summary="Schedules of a day (newest first)")
    async def list_schedules(day: Annotated[dt.date, QueryParameter()]) -> list[ScheduleView]:
        async with ctx.db.session() as session:
            found = await session.scalars(
                select(BreaksSchedule).where(BreaksSchedule.day == day).order_by(BreaksSchedule.id.desc())
            )
            return [await schedule_view(session, config, s) for s in found]

    @get("/schedules/{schedule_id:int}", opt=STAFF, summary="One schedule with its grid")
    async def get_schedule(schedule_id: FromPath[int]) -> ScheduleView:
        return await view(schedule_id)

    @put(
        "/schedules/{schedule_id:int}/breaks", opt=LEAD, summary="Replace the breaks by hand (back to draft)"
    )
    async def edit_breaks(request: Request[Any, Any, Any], schedule_id: FromPath[int]) -> ScheduleView:
        data: EditIn = decode(await request.body(), EditIn)
        try:
            await edit(ctx, current_staff(request), schedule_id, data)
        except InputError as exc:
            raise exc.http() from None
        return await view(schedule_id)

    @post(
        "/schedules/{schedule_id:int}/publish", opt=LEAD, status_code=200, summary="Publish (no violations)"
    )
    async def publish_schedule(request: Request[Any, Any, Any], schedule_id: FromPath[int]) -> ScheduleView:
        try:
            await publish(ctx, current_staff(request), schedule_id)
        except InputError as exc:
            raise exc.http() from None
        return await view(schedule_id)

    @post("/breaks/{break_id:int}/start", opt=STAFF, status_code=200, summary="Start a break (NOT_READY)")
    async def start_break(request: Request[Any, Any, Any], break_id: FromPath[int]) -> BreakStartView:
        try:
            return await move_break(ctx, request, break_id, start=True)
        except InputError as exc:
            raise exc.http() from None

    @post("/breaks/{break_id:int}/end", opt=STAFF, status_code=200, summary="End a break (READY)")
    async def end_break(request: Request[Any, Any, Any], break_id: FromPath[int]) -> BreakStartView:
        try:
            return await move_break(ctx, request, break_id, start=False)
        except InputError as exc:
            raise exc.http() from None

    return [
        list_rule_sets,
        validate_any,
        generate_schedule,
        list_schedules,
        get_schedule,
        edit_breaks,
        publish_schedule,
        start_break,
        end_break,
    ]


# -- pages ---------------------------------------------------------------------------------------------------
FORM = {"exclude_from_csrf": True}
# The generate form's fields, kept to re-fill the form when it comes back with an error.
FORM_FIELDS = ("day", "shifts", "source", "start", "end", "weeks", "queue", "calls_per_hour", "aht_seconds")
KIND_MARK = {"rest": "R", "meal": "M", "lactation": "L"}


async def _form(request: Request[Any, Any, Any]) -> Any:
    """The posted form once its CSRF token matches (the same double-submit rule as the shell's forms)."""
    from plugins.pci_inspection.api import form_of  # one implementation of the check for every plugin page

    return await form_of(request)


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


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
        raise InputError(_field_in(exc), str(exc).split(" - at ")[0]) from None
    return result


async def move_one(
    ctx: PluginContext, staff: Staff, schedule_id: int, break_id: int, start: str, revision: int | None
) -> None:
    """Move one break to ``start``: the schedule's break list with that one changed, through :func:`edit`."""
    try:
        when = msgspec.convert(start, HHMM)
    except msgspec.ValidationError:
        raise InputError("start", f"expected HH:MM, got {start!r}") from None
    async with ctx.db.session() as session:
        _, rows = await _rows(session, schedule_id)
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


def pages(ctx: PluginContext) -> list[PageSpec]:
    """The lead's day: generate a draft from a forecast source, read its grid, violations and shortfalls,
    move a break, publish. Everyone on staff sees the grid; the forms are the leads'."""
    config: BreaksConfig = ctx.config

    def today() -> dt.date:
        return ctx.clock.now().astimezone(LOCAL_TZ).date()

    async def grid(
        request: Request[Any, Any, Any],
        when: dt.date,
        *,
        schedule_id: int | None = None,
        status_code: int = 200,
        error: str | None = None,
        values: dict[str, str] | None = None,
    ) -> Response[Any]:
        staff = current_staff(request)
        async with ctx.db.session() as session:
            found = list(
                await session.scalars(
                    select(BreaksSchedule)
                    .where(BreaksSchedule.day == when)
                    .order_by(BreaksSchedule.id.desc())
                )
            )
            # The one asked for; else the published schedule (what the floor follows); else the newest draft.
            chosen = next((s for s in found if s.id == schedule_id), None) or next(
                (s for s in found if s.status == PUBLISHED), found[0] if found else None
            )
            shown = await schedule_view(session, config, chosen) if chosen else None
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
            is_lead=staff.role.value in LEAD_ROLES,
            sources=[s.value for s in ForecastSource],
            history_weeks=config.history_weeks,
            simulator_queue=config.simulator.queue,
        )

    async def day_of(schedule_id: int) -> dt.date:
        async with ctx.db.session() as session:
            found = await session.get(BreaksSchedule, schedule_id)
        if found is None:
            raise NotFoundException(f"schedule_id: no schedule #{schedule_id}")
        return found.day

    def back_to(day: dt.date, schedule_id: int) -> Redirect:
        return Redirect(f"/ui/breaks/?day={day.isoformat()}&schedule={schedule_id}", status_code=303)

    @get("/", opt=STAFF)
    async def grid_page(
        request: Request[Any, Any, Any],
        day: Annotated[str | None, QueryParameter()] = None,
        schedule: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[Any]:
        """The day's grid: one row per CSR, one column per 15-minute interval, staffing rows below."""
        try:
            when = dt.date.fromisoformat(day.strip()) if day else today()
        except ValueError:
            return await grid(
                request, today(), status_code=422, error=f"day: expected YYYY-MM-DD, got {day!r}"
            )
        chosen = int(schedule) if schedule and schedule.isdigit() else None
        return await grid(request, when, schedule_id=chosen)

    @post("/schedules", opt={**LEAD, **FORM})
    async def generate_form(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await _form(request)
        values = {name: _text(form, name) for name in FORM_FIELDS}
        try:
            data = generate_request(values)
            schedule_id = await generate(ctx, current_staff(request), data)
        except InputError as exc:
            try:
                when = dt.date.fromisoformat(values["day"])
            except ValueError:
                when = today()
            return await grid(request, when, status_code=exc.status_code, error=str(exc), values=values)
        return back_to(data.day, schedule_id)

    @post("/schedules/{schedule_id:int}/publish", opt={**LEAD, **FORM})
    async def publish_form(request: Request[Any, Any, Any], schedule_id: FromPath[int]) -> Response[Any]:
        await _form(request)
        when = await day_of(schedule_id)
        try:
            await publish(ctx, current_staff(request), schedule_id)
        except InputError as exc:
            return await grid(
                request, when, schedule_id=schedule_id, status_code=exc.status_code, error=str(exc)
            )
        return back_to(when, schedule_id)

    @post("/schedules/{schedule_id:int}/breaks/{break_id:int}", opt={**LEAD, **FORM})
    async def move_form(
        request: Request[Any, Any, Any], schedule_id: FromPath[int], break_id: FromPath[int]
    ) -> Response[Any]:
        form = await _form(request)
        when = await day_of(schedule_id)
        revision = _text(form, "revision")
        try:
            await move_one(
                ctx,
                current_staff(request),
                schedule_id,
                break_id,
                _text(form, "start"),
                int(revision) if revision.isdigit() else None,
            )
        except InputError as exc:
            return await grid(
                request, when, schedule_id=schedule_id, status_code=exc.status_code, error=str(exc)
            )
        return back_to(when, schedule_id)

    return [
        PageSpec(handler=grid_page, nav_title="Breaks"),
        PageSpec(handler=generate_form),
        PageSpec(handler=publish_form),
        PageSpec(handler=move_form),
    ]
