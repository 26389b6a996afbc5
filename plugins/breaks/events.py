"""Events the breaks plugin publishes: a schedule drafted or published, a break started or ended.

Payloads carry ids, times and counts; the violations themselves stay in the schedule (read it by id), so the
bus never fans out pay details (ARCHITECTURE §4: subscribers get no more than they need).
"""

from __future__ import annotations

import datetime as dt

import msgspec

DRAFTED = "hub.breaks.schedule.drafted"
PUBLISHED = "hub.breaks.schedule.published"
BREAK_STARTED = "hub.breaks.break.started"
BREAK_ENDED = "hub.breaks.break.ended"


class ScheduleChanged(msgspec.Struct, frozen=True, kw_only=True):
    """A schedule after it was generated, edited or published."""

    schedule_id: int
    day: dt.date
    status: str
    revision: int
    breaks: int
    violations: int
    shortfall_intervals: int
    premium_hours: int
    changed_at: dt.datetime
    changed_by: str


class BreakChanged(msgspec.Struct, frozen=True, kw_only=True):
    """A break that started (the agent went NOT_READY with ``reason_code_id``) or ended."""

    break_id: int
    schedule_id: int
    agent_id: str
    kind: str
    status: str
    planned_start: dt.datetime
    reason_code_id: int
    late_minutes: int
    at: dt.datetime
    by: str


EVENT_TYPES: list[tuple[str, type[msgspec.Struct], str]] = [
    (DRAFTED, ScheduleChanged, "A break schedule was generated or edited (a draft, violations listed)."),
    (PUBLISHED, ScheduleChanged, "A break schedule with no violation was published for its day."),
    (
        BREAK_STARTED,
        BreakChanged,
        "A CSR's break started; telephony set them NOT_READY with its reason code.",
    ),
    (BREAK_ENDED, BreakChanged, "A CSR's break ended; telephony set them READY."),
]
