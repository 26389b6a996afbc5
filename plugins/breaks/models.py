"""Tables of the breaks plugin (all prefixed ``breaks_``): a day's schedule, its shifts and its breaks.

A schedule keeps its forecast, the staffing it computed and its last validation as JSON because they are
read whole with the schedule (the lead's grid) and rewritten whole on every edit. Breaks are rows of their
own because they are started one by one and queried by the overdue check. Clock positions are kept as
minutes since local midnight (what the rules of docs/rules.md §3 reason in) next to the UTC instant of the
start.
Reads and writes are in :mod:`plugins.breaks.queries`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.contract.db import Base, UTCDateTime


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
    # Where the forecast came from (forecast.ForecastSource) and what it rests on: days, calls, handle time.
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


# For tests and tools that build the tables without Alembic (the migration is the source of truth).
TABLES = [Base.metadata.tables[name] for name in ("breaks_schedule", "breaks_shift", "breaks_break")]
