"""Checks of the breaks plugin: no published break left overdue.

A rest or meal authorized but not taken is the risk docs/rules.md §3.1-§3.2 speak of (a late meal is a premium
under §3.4), so a break of a published schedule that has not started ``overdue_minutes`` after its planned
start fails ``breaks_overdue`` and names the agents, for a lead to relieve them. Only the last day is
looked at: older unstarted breaks are history, not something a lead can still act on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from core.contract import CheckContext, CheckResult, PluginContext
from plugins.breaks.models import BreaksBreak, BreaksSchedule
from plugins.breaks.rules import BreaksConfig

CheckFn = Callable[[CheckContext], Awaitable[CheckResult]]
PLANNED = "planned"
PUBLISHED = "published"


def make_overdue_check(ctx: PluginContext) -> CheckFn:
    async def breaks_overdue(check: CheckContext) -> CheckResult:
        config: BreaksConfig = ctx.config
        now = check.clock.now()
        cutoff = now - dt.timedelta(minutes=config.overdue_minutes)
        async with check.db.session() as session:
            late = list(
                await session.scalars(
                    select(BreaksBreak)
                    .join(BreaksSchedule, BreaksSchedule.id == BreaksBreak.schedule_id)
                    .where(
                        BreaksSchedule.status == PUBLISHED,
                        BreaksBreak.status == PLANNED,
                        BreaksBreak.start_at < cutoff,
                        BreaksBreak.start_at > now - dt.timedelta(days=1),
                    )
                    .order_by(BreaksBreak.start_at, BreaksBreak.id)
                )
            )
        details = {
            "overdue": [
                {
                    "break_id": b.id,
                    "agent_id": b.agent_id,
                    "kind": b.kind,
                    "minutes": int((now - b.start_at).total_seconds() // 60),
                }
                for b in late
            ]
        }
        if late:
            named = ", ".join(f"{b.agent_id} ({b.kind})" for b in late[:5])
            more = f" and {len(late) - 5} more" if len(late) > 5 else ""
            return CheckResult(
                passed=False,
                message=f"{len(late)} break(s) overdue by more than {config.overdue_minutes} min: "
                f"{named}{more}",
                details=details,
            )
        return CheckResult(passed=True, message="no break is overdue", details=details)

    return breaks_overdue
