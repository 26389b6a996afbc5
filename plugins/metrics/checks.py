"""Health check of the metrics plugin: every counted key is in the tallies exactly once.

A refinement moves a count and a redelivery adds none, so the sum of all tallies always equals the number of
dedupe keys seen; a difference means a count was lost or doubled (e.g. a tally edited by hand), and the
monthly report would be wrong. A check that cannot read its tables raises, and the core reports an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.contract import CheckContext, CheckResult, PluginContext
from plugins.metrics.queries import totals

CheckFn = Callable[[CheckContext], Awaitable[CheckResult]]


def make_consistency_check(ctx: PluginContext) -> CheckFn:
    async def tally_consistent(check: CheckContext) -> CheckResult:
        async with check.db.session() as session:
            counted, seen = await totals(session)
        details = {"counted": counted, "seen": seen}
        if counted != seen:
            return CheckResult(
                passed=False,
                message=f"the tallies add up to {counted} but {seen} counted event(s) were recorded",
                details=details,
            )
        return CheckResult(
            passed=True, message=f"{counted} counted event(s), tallies consistent", details=details
        )

    return tally_consistent
