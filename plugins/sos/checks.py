"""Check of the Serving Our Seniors plugin: no referral waits longer than the service level.

Issue 7 §1 asks for referrals waiting more than 2 business days to show. A referral counts as waiting
while it is filed or accepted but not yet sent to the Department of Aging (or routed elsewhere); business
days are Monday to Friday minus the configured holidays, on the utility's local calendar.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.contract import CheckContext, CheckResult, PluginContext
from plugins.sos.queries import open_referrals
from plugins.sos.rules import SosConfig, add_business_days, overdue

CheckFn = Callable[[CheckContext], Awaitable[CheckResult]]


def make_waiting_check(ctx: PluginContext) -> CheckFn:
    async def referrals_waiting(check: CheckContext) -> CheckResult:
        config: SosConfig = ctx.config
        now = check.clock.now()
        async with check.db.session() as session:
            waiting = await open_referrals(session)
        late = [r for r in waiting if overdue(r.filed_at, now, config)]
        details = {
            "open": len(waiting),
            "late": [
                {
                    "referral_id": r.id,
                    "status": r.status,
                    "filed_at": r.filed_at.isoformat(),
                    "due": add_business_days(
                        r.filed_at, config.sla_business_days, config.holidays
                    ).isoformat(),
                }
                for r in late
            ],
        }
        if late:
            named = ", ".join(f"#{r.id} ({r.status})" for r in late[:5])
            more = f" and {len(late) - 5} more" if len(late) > 5 else ""
            return CheckResult(
                passed=False,
                message=f"{len(late)} SOS referral(s) waiting more than {config.sla_business_days} business "
                f"days: {named}{more}",
                details=details,
            )
        return CheckResult(
            passed=True, message=f"{len(waiting)} open SOS referral(s), none past due", details=details
        )

    return referrals_waiting
