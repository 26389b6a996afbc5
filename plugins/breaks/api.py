"""HTTP side of the breaks plugin: JSON routes under /api/breaks and the lead's day grid under /ui/breaks.

A lead generates a day's schedule from the shifts and the interval forecast (a draft), edits breaks by hand,
and publishes it; a schedule with any V1-V8 violation (rules.md §3.6) stays a draft with its violations
listed and publishing it answers 409 — never published silently (issue 8 §1). Bodies are decoded here so a
malformed body answers 422 naming the field (``extra[0].key``), like the other plugins.

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
from plugins.breaks.models import BreaksBreak, BreaksSchedule, BreaksShift
from plugins.breaks.service import (
    DAY,
    INTERVAL,
    LOCAL_TZ,
    UNIT_NAME,
    BreakKind,
    BreakPlan,
    BreaksConfig,
    Forecast,
    ShiftPlan,
    ShiftReport,
    available_per_interval,
    fmt,
    on_shift_per_interval,
    required_per_interval,
    rule_set_for,
    rule_sets,
    schedule,
    shortfalls,
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
    """Calls per hour for consecutive 15-minute intervals from ``start``; targets default from config."""

    start: HHMM
    calls_per_hour: Annotated[
        list[Annotated[float, msgspec.Meta(ge=0, le=100000)]], msgspec.Meta(min_length=1, max_length=96)
    ]
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
async def generate(ctx: PluginContext, staff: Staff, data: GenerateIn) -> int:
    """Build a draft for the day: Erlang C need per interval, breaks placed in their legal windows."""
    config: BreaksConfig = ctx.config
    shifts = shift_plans(config, data.shifts)
    start = minute_of(data.forecast.start)
    if start + INTERVAL * len(data.forecast.calls_per_hour) > DAY:
        raise InputError("forecast.calls_per_hour", "runs past midnight")
    forecast = Forecast(
        start=start,
        calls_per_hour=tuple(data.forecast.calls_per_hour),
        aht_seconds=data.forecast.aht_seconds or config.aht_seconds,
        target_service_level=data.forecast.target_service_level or config.target_service_level,
        threshold_seconds=(
            data.forecast.threshold_seconds
            if data.forecast.threshold_seconds is not None
            else config.threshold_seconds
        ),
        max_occupancy=config.max_occupancy,
    )
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
            detail={"day": data.day.isoformat(), "shifts": len(shifts), "shortfalls": len(s.shortfalls)},
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
def pages(ctx: PluginContext) -> list[PageSpec]:
    config: BreaksConfig = ctx.config

    @get("/", opt=STAFF)
    async def grid_page(
        request: Request[Any, Any, Any], day: Annotated[dt.date | None, QueryParameter()] = None
    ) -> Any:
        """The day's grid: one row per CSR, one column per 15-minute interval, staffing rows below."""
        when = day or ctx.clock.now().astimezone(LOCAL_TZ).date()
        async with ctx.db.session() as session:
            found = list(
                await session.scalars(
                    select(BreaksSchedule)
                    .where(BreaksSchedule.day == when)
                    .order_by(BreaksSchedule.id.desc())
                )
            )
            # The published schedule is what the floor follows; otherwise the newest draft.
            chosen = next((s for s in found if s.status == PUBLISHED), found[0] if found else None)
            shown = await schedule_view(session, config, chosen) if chosen else None
        rows: list[dict[str, Any]] = []
        if shown is not None:
            starts = [minute_of(i.start) for i in shown.intervals]
            for sh in shown.shifts:
                s0, s1 = minute_of(sh.start), minute_of(sh.end)
                mine = [b for b in shown.breaks if b.agent_id == sh.agent_id]
                cells = []
                for t in starts:
                    mark = "" if not (s0 <= t < s1) else "·"
                    for b in mine:
                        b0 = minute_of(b.start)
                        if b0 < t + INTERVAL and t < b0 + b.minutes:
                            mark = {"rest": "R", "meal": "M", "lactation": "L"}[b.kind]
                    cells.append(mark)
                rows.append({"agent_id": sh.agent_id, "shift": f"{sh.start}-{sh.end}", "cells": cells})
        return render(request, "breaks/grid.html", day=when, schedule=shown, rows=rows, schedules=found)

    return [PageSpec(handler=grid_page, nav_title="Breaks")]
