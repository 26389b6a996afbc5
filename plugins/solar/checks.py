"""Checks of the solar plugin: every voicemail is returned within its business-day deadline.

Issue 7 §4: messages left for the Solar team are returned within one business day (Monday to Friday,
Los Angeles time; configurable holidays). The deadline is fixed when the message is left (``due_at``);
a check that cannot read its table raises, and the core reports that as an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.contract import CheckContext, CheckResult, PluginContext
from plugins.solar.queries import late as late_voicemails

CheckFn = Callable[[CheckContext], Awaitable[CheckResult]]


def make_voicemail_check(_ctx: PluginContext) -> CheckFn:
    async def run(check: CheckContext) -> CheckResult:
        now = check.clock.now()
        async with check.db.session() as session:
            late = await late_voicemails(session, now)
        details = {
            "overdue": [
                {"voicemail_id": v.id, "hours_late": int((now - v.due_at).total_seconds() // 3600)}
                for v in late
            ]
        }
        if late:
            named = ", ".join(f"#{v.id}" for v in late[:5])
            more = f" and {len(late) - 5} more" if len(late) > 5 else ""
            return CheckResult(
                passed=False,
                message=f"{len(late)} voicemail(s) not returned within a business day: {named}{more}",
                details=details,
            )
        return CheckResult(passed=True, message="every voicemail was returned in time", details=details)

    return run
