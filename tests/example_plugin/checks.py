"""Checks of the example plugin."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from core.contract import CheckContext, CheckResult, PluginContext
from tests.example_plugin.events import board_of


def make_urgent_check(ctx: PluginContext) -> Callable[[CheckContext], Awaitable[CheckResult]]:
    async def urgent_pings_answered(check: CheckContext) -> CheckResult:
        limit = dt.timedelta(minutes=ctx.config.urgent_limit_minutes)
        overdue = board_of(ctx).overdue(check.clock.now(), limit)
        if overdue:
            return CheckResult(passed=False, message=f"{len(overdue)} urgent ping(s) waiting over {limit}")
        return CheckResult(passed=True, message="no urgent ping is overdue")

    return urgent_pings_answered
