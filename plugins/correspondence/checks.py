"""Checks of the correspondence plugin: letters queued for mailing go out within N business days.

A letter that sits in the print queue is a promise to the customer not kept (a refund or a claim decision
they are waiting for), so ``letters_mailed`` fails once a queued or printed letter is older than
``mail_within_business_days`` business days, counted on the utility's calendar (weekends do not count).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.contract import CheckContext, CheckResult, PluginContext
from plugins.correspondence.queries import waiting_to_be_mailed
from plugins.correspondence.rules import CorrespondenceConfig, business_days_between, letter_date

CheckFn = Callable[[CheckContext], Awaitable[CheckResult]]


def make_mailing_check(ctx: PluginContext) -> CheckFn:
    async def letters_mailed(check: CheckContext) -> CheckResult:
        config: CorrespondenceConfig = ctx.config
        today = letter_date(check.clock.now())
        async with check.db.session() as session:
            waiting = await waiting_to_be_mailed(session)
        late = [
            (row, days)
            for row in waiting
            if (days := business_days_between(letter_date(row.created_at), today))
            > config.mail_within_business_days
        ]
        details = {
            "waiting": len(waiting),
            "late": [
                {"letter_id": row.id, "template": row.template_id, "business_days": days}
                for row, days in late[:50]
            ],
        }
        if late:
            named = ", ".join(f"#{row.id} {row.template_id}" for row, _ in late[:5])
            more = f" and {len(late) - 5} more" if len(late) > 5 else ""
            return CheckResult(
                passed=False,
                message=f"{len(late)} letter(s) waiting to be mailed for more than "
                f"{config.mail_within_business_days} business days: {named}{more}",
                details=details,
            )
        return CheckResult(
            passed=True, message=f"{len(waiting)} letter(s) waiting, none overdue", details=details
        )

    return letters_mailed
