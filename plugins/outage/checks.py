"""Checks of the outage plugin: every active outage carries an estimated restoration, suggestions get decided.

Callers ask first of all "when will it be back?" (issue 6 §3), so an active outage that has gone without an
estimated restoration for longer than ``etr_missing_minutes`` fails ``etr_present`` and names the outage. A
check that cannot read its tables raises, and the core reports that as an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from core.contract import CheckContext, CheckResult, PluginContext
from plugins.outage.queries import active_outages, suggestions_waiting_since
from plugins.outage.rules import OutageConfig, etr_overdue

CheckFn = Callable[[CheckContext], Awaitable[CheckResult]]


def make_etr_check(ctx: PluginContext) -> CheckFn:
    async def etr_present(check: CheckContext) -> CheckResult:
        config: OutageConfig = ctx.config
        now = check.clock.now()
        limit = dt.timedelta(minutes=config.etr_missing_minutes)
        async with check.db.session() as session:
            active = await active_outages(session)
        late = [
            o
            for o in active
            if etr_overdue(o.status, o.estimated_restoration, o.etr_missing_since, now, limit)
        ]
        details = {
            "active": len(active),
            "without_etr": [
                {
                    "outage_id": o.id,
                    "utility": o.utility,
                    "minutes": int((now - o.etr_missing_since).total_seconds() // 60)
                    if o.etr_missing_since
                    else 0,
                }
                for o in late
            ],
        }
        if late:
            named = ", ".join(f"#{o.id} {o.utility} ({o.cause})" for o in late[:5])
            more = f" and {len(late) - 5} more" if len(late) > 5 else ""
            return CheckResult(
                passed=False,
                message=f"{len(late)} active outage(s) without an estimated restoration for more than "
                f"{config.etr_missing_minutes} min: {named}{more}",
                details=details,
            )
        return CheckResult(
            passed=True,
            message=f"{len(active)} active outage(s), each with an estimate in time",
            details=details,
        )

    return etr_present


def make_suggestions_check(ctx: PluginContext) -> CheckFn:
    """A suggested outage left open longer than the burst window means no lead is watching."""

    async def suggestions_decided(check: CheckContext) -> CheckResult:
        config: OutageConfig = ctx.config
        cutoff = check.clock.now() - dt.timedelta(minutes=config.burst_window_minutes)
        async with check.db.session() as session:
            waiting = await suggestions_waiting_since(session, cutoff)
        if waiting:
            return CheckResult(
                passed=False,
                message=f"{len(waiting)} suggested outage(s) waiting for a lead longer than "
                f"{config.burst_window_minutes} min",
                details={"suggestion_ids": [s.id for s in waiting]},
            )
        return CheckResult(passed=True, message="no suggested outage is waiting", details={})

    return suggestions_decided
