"""Use cases of the metrics plugin: record a counter request, read a day, a month or its workbook.

Nothing here writes a count. :func:`record_counter_request` only emits
``hub.metrics.counter_request.recorded`` (with its outbox row, in one transaction); the tally handler counts
it like any other event, so a request recorded by click and a payment posted at the window take the same
path into the numbers. Bad input raises :class:`InputError` naming ``month``, ``day``, ``kind`` or
``section`` (a 422). CSRs see their own rows in the daily view; leads, supervisors and admins see everyone's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.contract import PluginContext
from core.contract.inputs import InputError
from core.contract.staff import Role, Staff
from plugins.metrics import events
from plugins.metrics.queries import rows_between
from plugins.metrics.rules import (
    MetricsConfig,
    MonthError,
    Row,
    build_workbook,
    kind_order,
    label,
    local_day,
    month_days,
    parse_month,
)
from plugins.metrics.schemas import CounterRequestIn, CounterRequestOut, DailyView, MonthlyView, RowView

LEAD_ROLES = frozenset({Role.LEAD, Role.SUPERVISOR, Role.ADMIN})


def today(ctx: PluginContext) -> dt.date:
    return local_day(ctx.clock.now())


def month_of(text: str | None, day: dt.date) -> tuple[int, int]:
    """The month asked for (``YYYY-MM``), or the month of ``day``."""
    if text is None:
        return day.year, day.month
    try:
        return parse_month(text)
    except MonthError as exc:
        raise InputError("month", str(exc)) from None


def day_of(text: str | None, day: dt.date) -> dt.date:
    """The day asked for (``YYYY-MM-DD``), or ``day``."""
    if text is None:
        return day
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError("day", f"expected YYYY-MM-DD, got {text!r}") from None


def counter_section(staff: Staff, asked: str | None, config: MetricsConfig) -> str:
    """The section a counter request counts in: the one asked for (the CSR's own), else the counter
    section when the CSR belongs to it, else their only section."""
    if asked is not None:
        if asked not in staff.sections:
            raise InputError("section", f"{asked!r} is not one of your sections")
        return asked
    if config.counter_section in staff.sections:
        return config.counter_section
    if len(staff.sections) == 1:
        return next(iter(staff.sections))
    raise InputError("section", "you belong to several sections: say which one this request counts in")


def sees_everyone(staff: Staff) -> bool:
    return staff.role in LEAD_ROLES


async def record_counter_request(
    ctx: PluginContext, staff: Staff, data: CounterRequestIn
) -> CounterRequestOut:
    """Emit ``hub.metrics.counter_request.recorded``; the tally handler counts it like any other event."""
    config: MetricsConfig = ctx.config
    if data.kind not in config.counter_request_kinds:
        raise InputError("kind", f"expected one of {', '.join(config.counter_request_kinds)}")
    section = counter_section(staff, data.section, config)
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        env = ctx.events.emit(
            session,
            events.COUNTER_REQUEST_RECORDED,
            events.CounterRequestRecorded(kind=data.kind, section=section, staff=staff.name, at=now),
            actor=staff.actor,
        )
    return CounterRequestOut(
        event_id=env.id, kind=data.kind, section=section, staff=staff.name, day=local_day(now)
    )


def _nested(rows: list[Row]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for r in rows:
        kinds = found.setdefault(r.section, {})
        kinds[r.kind] = kinds.get(r.kind, 0) + r.count
    return {s: {k: found[s][k] for k in kind_order(found[s])} for s in sorted(found)}


async def daily(
    ctx: PluginContext, staff: Staff, day: dt.date, section: str | None, who: str | None
) -> DailyView:
    # A CSR's daily view is their own; the lead's is the section's.
    who = who if sees_everyone(staff) else staff.name
    async with ctx.db.session() as session:
        rows = await rows_between(session, day, day, section=section, staff=who)
    return DailyView(
        day=day,
        rows=[
            RowView(section=r.section, staff=r.staff, kind=r.kind, label=label(r.kind), count=r.count)
            for r in rows
        ],
        by_section=_nested(rows),
    )


async def month_rows(ctx: Any, year: int, month: int) -> list[Row]:
    days = month_days(year, month)
    async with ctx.db.session() as session:
        return await rows_between(session, days[0], days[-1])


async def monthly(ctx: PluginContext, month: str | None) -> MonthlyView:
    """Monthly totals by section and by staff member."""
    year, mon = month_of(month, today(ctx))
    rows = await month_rows(ctx, year, mon)
    per_staff: dict[str, dict[str, dict[str, int]]] = {}
    for r in rows:
        kinds = per_staff.setdefault(r.section, {}).setdefault(r.staff, {})
        kinds[r.kind] = kinds.get(r.kind, 0) + r.count
    return MonthlyView(month=f"{year}-{mon:02d}", sections=_nested(rows), staff=per_staff)


async def monthly_workbook(ctx: PluginContext, month: str | None) -> tuple[str, bytes]:
    """The month's workbook and its file name (``metrics-YYYY-MM.xlsx``)."""
    year, mon = month_of(month, today(ctx))
    body = build_workbook(year, mon, await month_rows(ctx, year, mon), generated_at=ctx.clock.now())
    return f"metrics-{year}-{mon:02d}.xlsx", body
