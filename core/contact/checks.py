"""Checks of the contact layer: contacts left open (they keep customer data reachable) and late wrap-ups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select

from core.contact.common import ACTIVE, WRAP_UP_DUE, ContactConfig
from core.contact.models import Contact
from core.contract import CheckContext, CheckKind, CheckResult, CheckSpec, Severity

Run = Callable[[CheckContext], Awaitable[CheckResult]]


def _stale_contacts(config: ContactConfig) -> Run:
    async def run(ctx: CheckContext) -> CheckResult:
        # A verified contact is the key to an account's data (ARCHITECTURE §6): one left open after the
        # interaction ended keeps that door open, so it is a compliance finding, not just housekeeping.
        cutoff = ctx.clock.now() - dt.timedelta(hours=config.max_open_hours)
        async with ctx.db.session() as s:
            count = int(
                await s.scalar(
                    select(func.count())
                    .select_from(Contact)
                    .where(Contact.status.in_(sorted(ACTIVE)), Contact.opened_at < cutoff)
                )
                or 0
            )
        if count:
            return CheckResult(
                passed=False,
                message=f"{count} contact(s) open for more than {config.max_open_hours} h: wrap them up",
                details={"contacts": count, "max_open_hours": config.max_open_hours},
            )
        return CheckResult(passed=True, message="no contact is left open")

    return run


def _late_wrap_ups(config: ContactConfig) -> Run:
    async def run(ctx: CheckContext) -> CheckResult:
        cutoff = ctx.clock.now() - dt.timedelta(minutes=config.wrap_up_overdue_minutes)
        async with ctx.db.session() as s:
            count = int(
                await s.scalar(
                    select(func.count())
                    .select_from(Contact)
                    .where(Contact.status == WRAP_UP_DUE, Contact.wrap_up_due_at < cutoff)
                )
                or 0
            )
        if count:
            return CheckResult(
                passed=False,
                message=(
                    f"{count} released call(s) waiting over {config.wrap_up_overdue_minutes} min for wrap-up"
                ),
                details={"contacts": count},
            )
        return CheckResult(passed=True, message="wrap-ups are up to date")

    return run


def checks(config: ContactConfig) -> list[CheckSpec]:
    return [
        CheckSpec(
            name="contacts_not_left_open",
            run=_stale_contacts(config),
            kind=CheckKind.COMPLIANCE,
            severity=Severity.WARNING,
            description="No customer contact stays open longer than max_open_hours.",
        ),
        CheckSpec(
            name="wrap_ups_done",
            run=_late_wrap_ups(config),
            kind=CheckKind.HEALTH,
            severity=Severity.INFO,
            description="Released calls are wrapped up within wrap_up_overdue_minutes.",
        ),
    ]
