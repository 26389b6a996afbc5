"""Health checks of the telephony state: timers that should have fired but did not.

Both catch the same failure from two sides: no hub process is applying the timers (``tick_seconds`` 0
everywhere, or the background task died), so agents stay RESERVED past RONA (docs/telephony.md §2.2) or in
wrap-up past their timer (§1.6).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from core.contract import CheckContext, CheckKind, CheckResult, CheckSpec, Severity
from core.telephony import fsm
from core.telephony.models import TelAgent
from core.telephony.service import TelephonyConfig

# Timers are applied once a tick; allow a few ticks (and a little clock skew) before calling it stuck.
MIN_GRACE = dt.timedelta(seconds=5)


def _grace(config: TelephonyConfig) -> dt.timedelta:
    return max(MIN_GRACE, dt.timedelta(seconds=3 * config.tick_seconds))


def _listed(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def make_reserved_check(config: TelephonyConfig) -> Callable[[CheckContext], Awaitable[CheckResult]]:
    async def agents_not_stuck_reserved(check: CheckContext) -> CheckResult:
        limit = dt.timedelta(seconds=config.rona_seconds) + _grace(config)
        cutoff = check.clock.now() - limit
        async with check.db.session() as session:
            stuck = list(
                (
                    await session.scalars(
                        select(TelAgent.agent_id)
                        .where(
                            TelAgent.state == fsm.AgentState.RESERVED.value,
                            TelAgent.state_change_time < cutoff,
                        )
                        .order_by(TelAgent.agent_id)
                    )
                ).all()
            )
        if stuck:
            return CheckResult(
                passed=False,
                message=f"{len(stuck)} agent(s) RESERVED longer than the RONA timer: {_listed(stuck)}",
                details={"agents": stuck, "limit_s": limit.total_seconds()},
            )
        return CheckResult(passed=True, message="no agent is ringing past the RONA timer")

    return agents_not_stuck_reserved


def make_wrap_up_check(config: TelephonyConfig) -> Callable[[CheckContext], Awaitable[CheckResult]]:
    async def wrap_up_timers_applied(check: CheckContext) -> CheckResult:
        cutoff = check.clock.now() - _grace(config)
        async with check.db.session() as session:
            overdue = list(
                (
                    await session.scalars(
                        select(TelAgent.agent_id)
                        .where(
                            TelAgent.state.in_([s.value for s in fsm.WRAP_UP_STATES]),
                            TelAgent.wrap_up_deadline < cutoff,
                        )
                        .order_by(TelAgent.agent_id)
                    )
                ).all()
            )
        if overdue:
            return CheckResult(
                passed=False,
                message=f"{len(overdue)} agent(s) still in wrap-up after their timer: {_listed(overdue)}",
                details={"agents": overdue},
            )
        return CheckResult(passed=True, message="no wrap-up timer is overdue")

    return wrap_up_timers_applied


def checks(config: TelephonyConfig) -> list[CheckSpec]:
    return [
        CheckSpec(
            name="agents_not_stuck_reserved",
            run=make_reserved_check(config),
            kind=CheckKind.HEALTH,
            severity=Severity.WARNING,
            description="No agent stays RESERVED (ringing) longer than the RONA timer allows.",
        ),
        CheckSpec(
            name="wrap_up_timers_applied",
            run=make_wrap_up_check(config),
            kind=CheckKind.HEALTH,
            severity=Severity.WARNING,
            description="No agent stays in wrap-up (WORK/WORK_READY) after its wrap-up timer expired.",
        ),
    ]
