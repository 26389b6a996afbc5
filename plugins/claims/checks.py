"""Checks of the claims plugin: no claim waits for a decision past its SLA.

The SLA is a number of business days in config, counted while the claim is in the utility's hands: the
time spent waiting for the customer's information is left out (``rules.sla_elapsed``). A check that
cannot read its tables raises, and the core reports that as an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.contract import CheckContext, CheckResult, PluginContext
from plugins.claims.queries import undecided_by_id
from plugins.claims.rules import ClaimsConfig, claim_number, is_overdue

CheckFn = Callable[[CheckContext], Awaitable[CheckResult]]


def make_sla_check(ctx: PluginContext) -> CheckFn:
    async def run(check: CheckContext) -> CheckResult:
        config: ClaimsConfig = ctx.config
        now = check.clock.now()
        async with check.db.session() as session:
            waiting = await undecided_by_id(session)
        # Pauses make the deadline a moving target, so it is computed here rather than stored.
        late = [
            c
            for c in waiting
            if is_overdue(
                c.status,
                c.filed_at,
                now,
                paused_seconds=c.paused_seconds,
                paused_since=c.paused_since,
                config=config,
            )
        ]
        details = {
            "overdue": [
                {"claim_id": c.id, "claim_number": claim_number(c.id, c.filed_at), "status": c.status}
                for c in late
            ],
            "sla_business_days": config.sla_business_days,
        }
        if late:
            named = ", ".join(claim_number(c.id, c.filed_at) for c in late[:5])
            more = f" and {len(late) - 5} more" if len(late) > 5 else ""
            return CheckResult(
                passed=False,
                message=f"{len(late)} claim(s) open beyond {config.sla_business_days} business days: "
                f"{named}{more}",
                details=details,
            )
        return CheckResult(passed=True, message="no claim is open beyond its SLA", details=details)

    return run
