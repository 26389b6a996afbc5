"""Payment-plan quotes: installment schedules that split arrears exactly to the cent (docs/rules.md §6)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, get_args

__all__ = [
    "MAX_RESIDENTIAL_TERM_MONTHS",
    "Cadence",
    "Installment",
    "PayPlanError",
    "add_months",
    "due_dates",
    "max_installments",
    "quote",
    "split_cents",
]

# Residential arrears are amortized over at most 12 months: PUC 10010 for municipal electric and water
# ("a reasonable period not exceeding 12 months", docs/rules.md §6.2), HSC 116900 ff. for water ("ordinarily
# within 12 months", docs/rules.md §6.1). Longer only with a recorded hardship reason (docs/rules.md §6.3
# rule 2).
MAX_RESIDENTIAL_TERM_MONTHS = 12

Cadence = Literal["monthly", "bimonthly", "biweekly", "weekly"]
_MONTH_STEPS: dict[str, int] = {"monthly": 1, "bimonthly": 2}  # bimonthly = every two months, like bills
_DAY_STEPS: dict[str, int] = {"biweekly": 14, "weekly": 7}


class PayPlanError(ValueError):
    """An invalid plan request; ``field`` names the offending input so a form can point at it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Installment:
    """One scheduled payment of the plan."""

    due_date: date
    amount_cents: int


def add_months(anchor: date, months: int) -> date:
    """``anchor`` moved by ``months`` months, clamped to the month's last day (Jan 31 + 1 → Feb 28/29)."""
    index = anchor.year * 12 + (anchor.month - 1) + months
    year, month0 = divmod(index, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(anchor.day, last_day))


def _step(first_due: date, cadence: str, k: int) -> date:
    # Always step from the first due date, never from the previous one, so a clamped Feb 28 does not
    # drag every later due date to the 28th.
    if cadence in _MONTH_STEPS:
        return add_months(first_due, k * _MONTH_STEPS[cadence])
    return first_due + timedelta(days=k * _DAY_STEPS[cadence])


def due_dates(first_due: date, count: int, cadence: Cadence = "monthly") -> list[date]:
    """The ``count`` due dates of a plan starting on ``first_due``."""
    _check_cadence(cadence)
    return [_step(first_due, cadence, k) for k in range(count)]


def split_cents(total_cents: int, parts: int) -> list[int]:
    """Split ``total_cents`` into ``parts`` amounts that differ by at most one cent and sum exactly.

    The FIRST ``total_cents % parts`` amounts carry the extra cent (ccbhub's rule in docs/rules.md §6.3 rule
    2:
    $1,000.00 over 12 → 4 x $83.34 then 8 x $83.33). Front-loading the odd cents means a customer who
    keeps the plan for most of its term has already paid them.
    """
    base, extra = divmod(total_cents, parts)
    return [base + 1 if i < extra else base for i in range(parts)]


def _term_end(first_due: date, installments: int, cadence: str) -> date:
    """The end of the period the plan covers: one cadence step after the last installment."""
    return _step(first_due, cadence, installments)


def max_installments(first_due: date, cadence: Cadence = "monthly") -> int:
    """Most installments a residential plan may have without a hardship reason (12, 6, 26, 52)."""
    _check_cadence(cadence)
    limit = add_months(first_due, MAX_RESIDENTIAL_TERM_MONTHS)
    n = 1
    while _term_end(first_due, n + 1, cadence) <= limit:
        n += 1
    return n


def _check_cadence(cadence: str) -> None:
    if cadence not in get_args(Cadence):
        raise PayPlanError("cadence", f"must be one of {', '.join(get_args(Cadence))}")


def quote(
    total_cents: int,
    installments: int,
    first_due: date,
    cadence: Cadence = "monthly",
    *,
    residential: bool = True,
    hardship_reason: str | None = None,
    today: date | None = None,
) -> list[Installment]:
    """Quote a payment plan: ``installments`` payments from ``first_due`` every ``cadence`` step.

    Amounts differ by at most one cent and sum exactly to ``total_cents``; the FIRST
    ``total_cents % installments`` installments take one extra cent each (see ``split_cents``).
    Monthly and bimonthly due dates keep the first due date's day of month, clamped to the last day
    of shorter months (31 Jan → 28/29 Feb → 31 Mar).

    A residential plan must fit in 12 months (``MAX_RESIDENTIAL_TERM_MONTHS``): n installments cover n
    cadence steps from ``first_due``, which must end no later than 12 months after it (so at most 12
    monthly, 6 bimonthly, 26 biweekly or 52 weekly payments). A longer plan needs a ``hardship_reason``,
    which the caller records with the plan (docs/rules.md §6.3 rule 2). ``today``, when given, must not be
    after
    ``first_due``.

    Raises ``PayPlanError(field, message)`` naming the offending input.
    """
    if isinstance(total_cents, bool) or not isinstance(total_cents, int):
        raise PayPlanError("total_cents", "must be a whole number of cents")
    if total_cents <= 0:
        raise PayPlanError("total_cents", "must be greater than zero")
    if isinstance(installments, bool) or not isinstance(installments, int):
        raise PayPlanError("installments", "must be a whole number")
    if installments < 1:
        raise PayPlanError("installments", "must be at least 1")
    if installments > total_cents:
        raise PayPlanError("installments", "cannot exceed the total in cents (an installment would be $0.00)")
    if not isinstance(first_due, date) or isinstance(first_due, datetime):
        raise PayPlanError("first_due", "must be a calendar date")
    if today is not None and first_due < today:
        raise PayPlanError("first_due", "must not be in the past")
    _check_cadence(cadence)

    has_hardship = hardship_reason is not None and hardship_reason.strip() != ""
    if residential and not has_hardship:
        limit = add_months(first_due, MAX_RESIDENTIAL_TERM_MONTHS)
        if _term_end(first_due, installments, cadence) > limit:
            allowed = max_installments(first_due, cadence)
            raise PayPlanError(
                "installments",
                f"a residential plan may run at most {MAX_RESIDENTIAL_TERM_MONTHS} months "
                f"({allowed} {cadence} installments) unless a hardship reason is recorded",
            )

    amounts = split_cents(total_cents, installments)
    return [
        Installment(due, amount)
        for due, amount in zip(due_dates(first_due, installments, cadence), amounts, strict=True)
    ]
