"""Request and response Structs of the breaks plugin: JSON bodies, the page's forms, and the views."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

from plugins.breaks.rules import UNIT_NAME, BreakKind
from plugins.breaks.rules_forecast import ForecastSource

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


# -- page forms ----------------------------------------------------------------------------------------------
class GenerateForm(msgspec.Struct, kw_only=True):
    """The grid page's generate form as typed: shifts one per line, calls per hour separated by spaces or
    commas. :func:`plugins.breaks.pages.generate_request` turns it into the :class:`GenerateIn` the JSON
    route takes, so both share every check; the values re-fill the form when it comes back with an error."""

    day: str = ""
    shifts: str = ""
    source: str = ""
    start: str = ""
    end: str = ""
    weeks: str = ""
    queue: str = ""
    calls_per_hour: str = ""
    aht_seconds: str = ""


class MoveForm(msgspec.Struct, kw_only=True):
    """Move one break on the grid: its new start (HH:MM) and the revision the lead saw (digits, else none)."""

    start: str = ""
    revision: str = ""
