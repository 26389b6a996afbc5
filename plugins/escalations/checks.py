"""Checks of the escalations plugin: nothing waits in a queue past its SLA deadline.

The deadline is fixed when an escalation is raised (``rules.due_at``: wall or business minutes per
queue). ``cro_overdue`` covers the Customer Relations Office, which must resolve what management sends
"as soon as possible" (issue 8 §4); ``queue_overdue`` covers the lead and supervisor queues, where a CSR
(and often the customer, on the line) waits for a decision. A check that cannot read its tables raises,
and the core reports that as an error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.contract import CheckContext, CheckResult, PluginContext
from plugins.escalations.queries import overdue_in
from plugins.escalations.rules import Queue

CheckFn = Callable[[CheckContext], Awaitable[CheckResult]]


def _make(queues: list[Queue], label: str) -> CheckFn:
    async def run(check: CheckContext) -> CheckResult:
        now = check.clock.now()
        async with check.db.session() as session:
            late = await overdue_in(session, queues, now)
        details = {
            "overdue": [
                {
                    "escalation_id": e.id,
                    "queue": e.queue,
                    "kind": e.kind,
                    "minutes_late": int((now - e.due_at).total_seconds() // 60),
                }
                for e in late
            ]
        }
        if late:
            named = ", ".join(f"#{e.id} {e.kind}" for e in late[:5])
            more = f" and {len(late) - 5} more" if len(late) > 5 else ""
            return CheckResult(
                passed=False,
                message=f"{len(late)} {label} escalation(s) past their SLA: {named}{more}",
                details=details,
            )
        return CheckResult(passed=True, message=f"no {label} escalation is past its SLA", details=details)

    return run


def make_cro_check(_ctx: PluginContext) -> CheckFn:
    return _make([Queue.CRO], "CRO")


def make_queue_check(_ctx: PluginContext) -> CheckFn:
    return _make([Queue.LEAD, Queue.SUPERVISOR], "lead/supervisor")
