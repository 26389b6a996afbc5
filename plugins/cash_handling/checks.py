"""Compliance checks of the cash window: drawers closed by end of business, seized notes reported in time.

Each names what is at fault (drawer and CSR, seized note and its day) so the message alone tells the lead
what to chase. A check that cannot read its tables raises, and the core reports that as an error
(compliance checks fail closed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select

from core.contract import CheckContext, CheckResult, PluginContext
from core.contract.clock import local
from plugins.cash_handling.models import CashDrawer, CashSeizedNote
from plugins.cash_handling.rules import CashConfig, business_days_between, drawer_overdue

CheckFn = Callable[[CheckContext], Awaitable[CheckResult]]
NAMED = 5


def make_drawers_check(ctx: PluginContext) -> CheckFn:
    """A drawer not closed by end of business fails (issue 6 §1; docs/ccb-domain.md §1.9 end-of-day
    balancing)."""

    async def drawers_closed(check: CheckContext) -> CheckResult:
        config: CashConfig = ctx.config
        now = local(check.clock.now())
        async with check.db.session() as session:
            drawers = (await session.scalars(select(CashDrawer).where(CashDrawer.status == "open"))).all()
        late = [d for d in drawers if drawer_overdue(d.opened_on, now, config.end_of_business)]
        names = [f"drawer #{d.id} of {d.csr} (opened {d.opened_on.isoformat()})" for d in late[:NAMED]]
        more = len(late) - len(names)
        details = {"open": len(drawers), "late": [d.id for d in late]}
        if late:
            text = ", ".join(names) + (f" and {more} more" if more else "")
            return CheckResult(
                passed=False,
                message=f"{len(late)} drawer(s) not closed by end of business: {text}",
                details=details,
            )
        return CheckResult(
            passed=True,
            message=f"no drawer left open past end of business ({len(drawers)} open)",
            details=details,
        )

    return drawers_closed


def make_counterfeit_check(ctx: PluginContext) -> CheckFn:
    """A seized note has a Secret Service submission within N business days (docs/rules.md §2.3 step 8)."""

    async def counterfeit_submitted(check: CheckContext) -> CheckResult:
        config: CashConfig = ctx.config
        today = local(check.clock.now()).date()
        async with check.db.session() as session:
            pending = (
                await session.scalars(
                    select(CashSeizedNote).where(CashSeizedNote.usss_submission_id.is_(None))
                )
            ).all()
        late = [
            n
            for n in pending
            if business_days_between(n.seized_on, today, config.holidays) > config.submission_business_days
        ]
        details = {"pending": len(pending), "late": [n.id for n in late]}
        if late:
            names = ", ".join(
                f"#{n.id} (${n.denomination // 100}, seized {n.seized_on.isoformat()})" for n in late[:NAMED]
            )
            return CheckResult(
                passed=False,
                message=f"{len(late)} seized note(s) without a Secret Service submission after "
                f"{config.submission_business_days} business days: {names}",
                details=details,
            )
        return CheckResult(
            passed=True,
            message=f"every seized note reported in time ({len(pending)} pending)",
            details=details,
        )

    return counterfeit_submitted
