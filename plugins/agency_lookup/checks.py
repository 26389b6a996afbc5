"""Checks of the agency lookup: no release without a recorded basis and approval, and the monthly report.

``disclosures_supported`` fails closed: any released disclosure without a legal basis, released despite a
denial, missing the second person's approval where the two-person rule applies (bulk or AMI interval data,
docs/rules.md §5.5), or without its log entry, fails it; so does a break in the disclosure log's hash chain.
``monthly_report`` always passes and carries the month's counts by basis and agency (§5.5, last sentence).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.contract import CheckContext, CheckResult, PluginContext
from core.contract.clock import LOCAL_TZ, local
from plugins.agency_lookup.queries import log_chain_problems, monthly_counts, unsupported_releases
from plugins.agency_lookup.rules import month_bounds

CheckFn = Callable[[CheckContext], Awaitable[CheckResult]]


def make_supported_check(ctx: PluginContext) -> CheckFn:
    async def disclosures_supported(check: CheckContext) -> CheckResult:
        async with check.db.session() as session:
            bad = await unsupported_releases(session)
            problems = await log_chain_problems(session)
        details = {"unsupported": [d.id for d in bad], "log_problems": problems}
        if bad or problems:
            parts = []
            if bad:
                parts.append(
                    f"{len(bad)} disclosure(s) released without a basis or approval: #"
                    + ", #".join(str(d.id) for d in bad[:5])
                )
            if problems:
                parts.append(f"disclosure log broken: {problems[0]}")
            return CheckResult(passed=False, message="; ".join(parts), details=details)
        return CheckResult(
            passed=True, message="every release has a basis, its approval and a log entry", details=details
        )

    return disclosures_supported


def make_report_check(ctx: PluginContext) -> CheckFn:
    async def monthly_report(check: CheckContext) -> CheckResult:
        month = local(check.clock.now()).strftime("%Y-%m")
        start, end = month_bounds(month, LOCAL_TZ)
        async with check.db.session() as session:
            rows = await monthly_counts(session, start, end)
        total = sum(n for *_, n in rows)
        return CheckResult(
            passed=True,
            message=f"{total} disclosure request(s) in {month}",
            details={
                "month": month,
                "rows": [{"legal_basis": b, "agency": a, "decision": d, "count": n} for b, a, d, n in rows],
            },
        )

    return monthly_report
