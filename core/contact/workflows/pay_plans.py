"""Payment plans (docs/rules.md §6): a quote whose installments sum exactly, and the CCB pay plan it
describes.

A plan beyond the standard terms (a hardship plan) is a special plan, created only from an approved
escalation, never from this workflow.
"""

from __future__ import annotations

import datetime as dt

from core.ccb import port as p
from core.ccb.errors import Invalid
from core.ccb.payplan import Cadence, PayPlanError, quote
from core.ccb.rates import format_cents
from core.contact.common import View
from core.contact.guard import ContactAccess, Guard
from core.redact import redact

__all__ = ["PayPlans", "PlanQuote", "QuotedInstallment"]


class QuotedInstallment(View, frozen=True):
    seq: int
    due_date: dt.date
    amount_cents: int


class PlanQuote(View, frozen=True):
    account_id: str
    total_cents: int
    cadence: str
    residential: bool
    installments: list[QuotedInstallment]


class PayPlans(Guard):
    """Quoting and creating payment plans on the standard terms."""

    async def quote_plan(
        self,
        account_id: str,
        *,
        amount_cents: int | None,
        installments: int,
        first_due: dt.date | None,
        cadence: Cadence,
        hardship_reason: str | None,
    ) -> PlanQuote:
        """Installments that differ by at most a cent and sum exactly; the first ones carry the odd cents."""
        summary = await self.ccb.get_account_summary(account_id)
        residential = summary.customer_class == "RES"
        total = amount_cents
        if total is None:
            total = summary.past_due_cents
            if total <= 0:
                raise Invalid("amount_cents", "nothing is past due on the account: give amount_cents")
        today = self.today()
        due = first_due or today + dt.timedelta(days=self.config.first_due_days)
        if due < today:
            raise Invalid("first_due", f"is in the past: it must be today ({today.isoformat()}) or later")
        try:
            schedule = quote(
                total,
                installments,
                due,
                cadence,
                residential=residential,
                hardship_reason=hardship_reason,
                today=today,
            )
        except PayPlanError as exc:
            raise Invalid("amount_cents" if exc.field == "total_cents" else exc.field, exc.message) from None
        return PlanQuote(
            account_id=account_id,
            total_cents=total,
            cadence=cadence,
            residential=residential,
            installments=[
                QuotedInstallment(seq=i + 1, due_date=inst.due_date, amount_cents=inst.amount_cents)
                for i, inst in enumerate(schedule)
            ],
        )

    async def create_plan(
        self,
        access: ContactAccess,
        account_id: str,
        *,
        amount_cents: int | None,
        installments: int,
        first_due: dt.date | None,
        cadence: Cadence,
        hardship_reason: str | None,
        key: str | None,
    ) -> p.PayPlanView:
        if hardship_reason:
            # Task 35: a plan beyond the standard terms (a hardship plan past 12 months, docs/rules.md §6.3)
            # is a
            # special plan, created only from an approved escalation — never from the CSR's own request.
            raise Invalid(
                "hardship_reason",
                "a special payment plan needs an approved escalation (POST /api/escalations, kind "
                "special_payment_plan); this route creates plans on the standard terms",
            )
        offer = await self.quote_plan(
            account_id,
            amount_cents=amount_cents,
            installments=installments,
            first_due=first_due,
            cadence=cadence,
            hardship_reason=hardship_reason,
        )
        try:
            plan = await self.ccb.create_pay_plan(
                p.CreatePayPlan(
                    account_id=account_id,
                    installments=installments,
                    first_due=offer.installments[0].due_date,
                    cadence=cadence,
                    total_cents=offer.total_cents,
                    hardship_reason=redact(hardship_reason) if hardship_reason else None,
                ),
                actor=access.actor,
                idempotency_key=key,
            )
        except Invalid as exc:
            if exc.field == "total_cents":
                raise Invalid("amount_cents", exc.message) from None
            raise
        await self.note_change(
            access,
            "payment",
            f"pay plan {plan.pay_plan_id}: {format_cents(plan.total_cents)} in {len(plan.installments)} "
            f"{cadence} installments from {offer.installments[0].due_date.isoformat()}",
        )
        return plan
