"""Tables of the breaks plugin (all prefixed ``breaks_``): a day's schedule, its shifts and its breaks.

A schedule keeps its forecast, the staffing it computed and its last validation as JSON because they are
read whole with the schedule (the lead's grid) and rewritten whole on every edit. Breaks are rows of their
own because they are started one by one and queried by the overdue check. Clock positions are kept as
minutes since local midnight (what the rules of rules.md §3 reason in) next to the UTC instant of the start.

:func:`recorded_calls` is the plugin's one read outside its own tables: the inbound calls the hub's telephony
part recorded (``tel_dialog``), for a forecast from history. Read only, and only the columns a forecast
needs; the telephony part stays the only writer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from core.telephony.models import TelDialog
from plugins.breaks.service import RecordedCall, handle_seconds


class BreaksSchedule(Base):
    """One break schedule for a day: a draft until a lead publishes it with no violation."""

    __tablename__ = "breaks_schedule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    forecast_start: Mapped[int] = mapped_column(Integer)
    calls_per_hour: Mapped[list[float]] = mapped_column(JSON)
    aht_seconds: Mapped[float] = mapped_column(Float)
    target_service_level: Mapped[float] = mapped_column(Float)
    threshold_seconds: Mapped[float] = mapped_column(Float)
    # Where the forecast came from (service.ForecastSource) and what it rests on: days, calls, handle time.
    forecast_source: Mapped[str] = mapped_column(String(16), default="explicit", server_default="explicit")
    forecast_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    required: Mapped[list[int]] = mapped_column(JSON)
    available: Mapped[list[int]] = mapped_column(JSON)
    shortfalls: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    violations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    premium_hours: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class BreaksShift(Base):
    """A CSR's shift in a schedule, with what changes their entitlements (waivers, agreement, lactation)."""

    __tablename__ = "breaks_shift"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("breaks_schedule.id"), index=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)
    bargaining_unit: Mapped[str | None] = mapped_column(String(32), nullable=True)
    rule_set: Mapped[str] = mapped_column(String(40))
    meal1_waived: Mapped[bool] = mapped_column(Boolean, default=False)
    meal2_waived: Mapped[bool] = mapped_column(Boolean, default=False)
    on_duty_meal_agreement: Mapped[bool] = mapped_column(Boolean, default=False)
    lactation: Mapped[bool] = mapped_column(Boolean, default=False)
    lactation_breaks: Mapped[int] = mapped_column(Integer, default=0)
    regular_rate: Mapped[float | None] = mapped_column(Float, nullable=True)


class BreaksBreak(Base):
    """A planned break; ``status`` moves planned → started → ended as the CSR takes it."""

    __tablename__ = "breaks_break"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("breaks_schedule.id"), index=True)
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    start_minute: Mapped[int] = mapped_column(Integer)
    minutes: Mapped[int] = mapped_column(Integer)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    lactation: Mapped[bool] = mapped_column(Boolean, default=False)
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


# The telephony part's call type for a customer's call into a queue (core.telephony.dialogs.CallType.ACD_IN);
# consult legs are agents calling each other, not offered traffic.
INBOUND_CALL_TYPE = "ACD_IN"


async def recorded_calls(
    session: AsyncSession, spans: Sequence[tuple[dt.datetime, dt.datetime]], queue: str | None = None
) -> list[RecordedCall]:
    """Inbound calls that arrived in any of the UTC ``spans`` (optionally into one queue), with the handle
    time of those that ended (service.handle_seconds); abandoned calls are arrivals too (offered traffic)."""
    if not spans:
        return []
    query = select(TelDialog.created_at, TelDialog.ended_at, TelDialog.snapshot).where(
        TelDialog.call_type == INBOUND_CALL_TYPE,
        or_(*(and_(TelDialog.created_at >= a, TelDialog.created_at < b) for a, b in spans)),
    )
    if queue is not None:
        query = query.where(TelDialog.queue_name == queue)
    found = []
    for arrived, ended, snapshot in await session.execute(query):
        handled = None
        if ended is not None and isinstance(snapshot, dict):
            handled = handle_seconds(snapshot.get("participants"))
        found.append(RecordedCall(arrived, handled))
    return found


# For tests and tools that build the tables without Alembic (the migration is the source of truth).
TABLES = [Base.metadata.tables[name] for name in ("breaks_schedule", "breaks_shift", "breaks_break")]
