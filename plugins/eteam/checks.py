"""Checks of the e-team plugin: no Contact Us request waits unanswered too long.

Issue 7 §3: a request pulled from Customer Connect must be answered within ``unanswered_business_hours``
business hours (Monday-Friday office hours, ``rules.business_hours_between``). Without a Customer
Connect ``base_url`` nothing is pulled; the check passes and says so, since a hub without the connector
is not unhealthy. A check that cannot read its tables raises, and the core reports that as an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.contract import CheckContext, CheckResult, PluginContext
from plugins.eteam.queries import unanswered
from plugins.eteam.rules import EteamConfig, business_hours_between, is_unanswered_too_long

CheckFn = Callable[[CheckContext], Awaitable[CheckResult]]


def make_unanswered_check(ctx: PluginContext) -> CheckFn:
    async def run(check: CheckContext) -> CheckResult:
        config: EteamConfig = ctx.config
        if config.base_url is None:
            return CheckResult(
                passed=True,
                message="Customer Connect is not configured (no base_url): no incidents are pulled",
                details={"configured": False, "overdue": []},
            )
        now = check.clock.now()
        async with check.db.session() as session:
            waiting = await unanswered(session)
        late = [
            i for i in waiting if is_unanswered_too_long(i.status, i.answered_at, i.received_at, now, config)
        ]
        details = {
            "configured": True,
            "limit_business_hours": config.unanswered_business_hours,
            "overdue": [
                {
                    "reference_number": i.reference_number,
                    "business_hours_waiting": round(
                        business_hours_between(
                            i.received_at, now, config.business_start_hour, config.business_end_hour
                        ),
                        1,
                    ),
                }
                for i in late
            ],
        }
        if late:
            named = ", ".join(i.reference_number for i in late[:5])
            more = f" and {len(late) - 5} more" if len(late) > 5 else ""
            return CheckResult(
                passed=False,
                message=(
                    f"{len(late)} incident(s) unanswered for more than "
                    f"{config.unanswered_business_hours} business hours: {named}{more}"
                ),
                details=details,
            )
        return CheckResult(
            passed=True,
            message=(
                f"no incident is unanswered for more than {config.unanswered_business_hours} business hours"
            ),
            details=details,
        )

    return run
