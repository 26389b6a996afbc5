"""The local CCB's collection agreements: pay plans and their monitoring batch (§1.10, docs/rules.md
§6.3), payment arrangements (docs/rules.md §6.2) and deposits (§1.11). Arrangements and deposits post
adjustments, so this area builds on ``core.ccb.local.adjustments``.

Section signs (§) cite docs/ccb-domain.md.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb import codes
from core.ccb import events as ev
from core.ccb import models as m
from core.ccb import port as p
from core.ccb.billing import (
    open_items,
    past_due_cents,
)
from core.ccb.errors import IllegalTransition, Invalid
from core.ccb.keys import ten_digit_id
from core.ccb.local.adjustments import AdjustmentsMixin
from core.ccb.local.base import (
    MAX_ARRANGEMENT_INSTALLMENTS,
    PAY_PLAN_BREACH_DAYS,
    clean_text,
)
from core.ccb.payplan import PayPlanError, quote, split_cents

__all__ = ["PayPlansMixin"]


class PayPlansMixin(AdjustmentsMixin):
    """Pay plans, their monitoring, payment arrangements and deposits."""

    async def get_pay_plan(self, pay_plan_id: str) -> p.PayPlanView:
        async with self._db.read() as s:
            return await self._pay_plan_view(s, await self._get(s, m.PayPlan, pay_plan_id, "pay_plan"))

    async def create_pay_plan(
        self, request: p.CreatePayPlan, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PayPlanView:
        async def work(s: AsyncSession) -> p.PayPlanView:
            await self._get(s, m.Account, request.account_id, "account", lock=True)
            existing = await s.scalar(
                select(m.PayPlan.id).where(
                    m.PayPlan.account_id == request.account_id, m.PayPlan.status == codes.PayPlanStatus.ACTIVE
                )
            )
            if existing is not None:
                raise Invalid("account_id", f"the account already has active pay plan {existing}")
            if request.third_party_payor_account_id is not None:
                await self._get(s, m.Account, request.third_party_payor_account_id, "account")
            today = self._today()
            total = request.total_cents
            if total is None:
                total = past_due_cents(await self._ledger(s, request.account_id), today)
                if total <= 0:
                    raise Invalid("total_cents", "nothing is past due; give the amount the plan covers")
            try:
                schedule = quote(
                    total,
                    request.installments,
                    request.first_due,
                    request.cadence,
                    hardship_reason=request.hardship_reason,
                    today=today,
                )
            except PayPlanError as exc:
                raise Invalid(exc.field, exc.message) from None
            now = self._now()
            plan = m.PayPlan(
                id=self._ids.pay_plan_id(),
                account_id=request.account_id,
                status=codes.PayPlanStatus.ACTIVE,
                total_cents=total,
                cadence=request.cadence,
                third_party_payor_account_id=request.third_party_payor_account_id,
                hardship_reason=clean_text(request.hardship_reason, "hardship_reason", limit=200)
                if request.hardship_reason
                else None,
                missed_installments=0,
                created_by=actor,
                created_at=now,
                updated_at=now,
            )
            s.add(plan)
            await s.flush()
            s.add_all(
                [
                    m.PayPlanInstallment(
                        pay_plan_id=plan.id,
                        seq=i + 1,
                        due_date=inst.due_date,
                        amount_cents=inst.amount_cents,
                        status=codes.InstallmentStatus.SCHEDULED,
                    )
                    for i, inst in enumerate(schedule)
                ]
            )
            await s.flush()
            self._emit(
                s,
                "hub.ccb.pay_plan.created",
                ev.PayPlanRef(account_id=plan.account_id, pay_plan_id=plan.id, status=str(plan.status)),
                actor,
            )
            return await self._pay_plan_view(s, plan)

        return await self._write("create_pay_plan", request, idempotency_key, p.PayPlanView, work)

    async def cancel_pay_plan(
        self, request: p.CancelPayPlan, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PayPlanView:
        async def work(s: AsyncSession) -> p.PayPlanView:
            plan = await self._get(s, m.PayPlan, request.pay_plan_id, "pay_plan", lock=True)
            if plan.status != codes.PayPlanStatus.ACTIVE:
                raise IllegalTransition("pay_plan", plan.id, plan.status, "cancel")
            plan.status = codes.PayPlanStatus.CANCELED
            plan.cancel_reason = clean_text(request.reason, "reason", limit=200)
            plan.updated_at = self._now()
            self._emit(
                s,
                "hub.ccb.pay_plan.status_changed",
                ev.PayPlanRef(account_id=plan.account_id, pay_plan_id=plan.id, status=str(plan.status)),
                actor,
            )
            return await self._pay_plan_view(s, plan)

        return await self._write("cancel_pay_plan", request, idempotency_key, p.PayPlanView, work)

    async def monitor_pay_plans(
        self, today: dt.date, *, actor: str = "batch:pay-plan-monitor"
    ) -> list[p.PayPlanView]:
        """The pay-plan monitor (§1.10): payments since the plan started cover installments in order;
        an unpaid installment past its due date is missed; all covered -> Kept; one missed for 60 days or
        more -> Broken (docs/rules.md §6.3 step 3). Returns the plans whose status changed."""
        changed: list[p.PayPlanView] = []
        async with self._db.session() as s:
            plans = (
                await s.scalars(
                    select(m.PayPlan).where(m.PayPlan.status == codes.PayPlanStatus.ACTIVE).with_for_update()
                )
            ).all()
            for plan in plans:
                paid = -int(
                    await s.scalar(
                        select(func.coalesce(func.sum(m.FinancialTransaction.amount_cents), 0)).where(
                            m.FinancialTransaction.account_id == plan.account_id,
                            m.FinancialTransaction.frozen.is_(True),
                            m.FinancialTransaction.ft_type.in_(
                                [codes.FtType.PAY_SEGMENT, codes.FtType.PAY_CANCEL]
                            ),
                            m.FinancialTransaction.created_at >= plan.created_at,
                        )
                    )
                    or 0
                )
                rows = (
                    await s.scalars(
                        select(m.PayPlanInstallment)
                        .where(m.PayPlanInstallment.pay_plan_id == plan.id)
                        .order_by(m.PayPlanInstallment.seq)
                    )
                ).all()
                cumulative = missed = 0
                breached = False
                for inst in rows:
                    cumulative += inst.amount_cents
                    if paid >= cumulative:
                        inst.status = codes.InstallmentStatus.PAID
                    elif inst.due_date < today:
                        inst.status = codes.InstallmentStatus.MISSED
                        missed += 1
                        breached = breached or (today - inst.due_date).days >= PAY_PLAN_BREACH_DAYS
                    else:
                        inst.status = codes.InstallmentStatus.SCHEDULED
                plan.missed_installments = missed
                new_status = plan.status
                if all(i.status == codes.InstallmentStatus.PAID for i in rows):
                    new_status = codes.PayPlanStatus.KEPT
                elif breached:
                    new_status = codes.PayPlanStatus.BROKEN
                if new_status != plan.status:
                    plan.status = new_status
                    plan.updated_at = self._now()
                    self._emit(
                        s,
                        "hub.ccb.pay_plan.status_changed",
                        ev.PayPlanRef(
                            account_id=plan.account_id, pay_plan_id=plan.id, status=str(plan.status)
                        ),
                        actor,
                    )
                    await s.flush()
                    changed.append(await self._pay_plan_view(s, plan))
        return changed

    async def create_payment_arrangement(
        self,
        request: p.CreatePaymentArrangement,
        *,
        actor: str = "system",
        idempotency_key: str | None = None,
    ) -> p.PaymentArrangementView:
        """Move the past-due debt onto a payment-arrangement SA, billed one installment per bill (§1.10).

        Transfer adjustments credit each SA for its past-due open items and charge the PA SA one
        installment adjustment per bill; the balance is unchanged, the past-due amount is no longer due.
        """

        async def work(s: AsyncSession) -> p.PaymentArrangementView:
            account = await self._get(s, m.Account, request.account_id, "account", lock=True)
            if not 1 <= request.installments <= MAX_ARRANGEMENT_INSTALLMENTS:
                raise Invalid(
                    "installments",
                    f"must be 1 to {MAX_ARRANGEMENT_INSTALLMENTS} bimonthly installments (12 months)",
                )
            sas = await self._account_sas(s, account.id)
            if any(sa.sa_type == "PA-RES" and sa.status in codes.OPEN_SA_STATUSES for sa in sas):
                raise Invalid("account_id", "the account already has an active payment arrangement")
            today = self._today()
            ledger = await self._ledger(s, account.id)
            owed: dict[str, int] = {}
            for item in open_items(ledger, [sa.id for sa in sas]):
                if item.arrears_date is not None and item.arrears_date < today:
                    owed[item.sa_id] = owed.get(item.sa_id, 0) + item.open_cents
            arrears = min(sum(owed.values()), past_due_cents(ledger, today))
            if arrears <= 0:
                raise Invalid("account_id", "nothing is past due")
            if request.installments > arrears:
                raise Invalid("installments", "cannot exceed the arrears in cents")
            now = self._now()
            pa_sa = m.ServiceAgreement(
                id=self._ids.sa_id(),
                account_id=account.id,
                sa_type="PA-RES",
                status=codes.SaStatus.ACTIVE,
                start_date=today,
                final_billed=False,
                created_at=now,
                updated_at=now,
            )
            s.add(pa_sa)
            await s.flush()
            arrangement = m.PaymentArrangement(
                id=ten_digit_id(self._ids),
                account_id=account.id,
                sa_id=pa_sa.id,
                status="active",
                arrears_cents=arrears,
                installments=request.installments,
                created_by=actor,
                created_at=now,
            )
            s.add(arrangement)
            sa_by_id = {sa.id: sa for sa in sas}
            remaining = arrears
            for sa_id, amount in owed.items():
                moved = min(amount, remaining)
                if moved <= 0:
                    continue
                remaining -= moved
                await self._post_adjustment(
                    s,
                    sa_by_id[sa_id],
                    codes.ADJUSTMENT_TYPES["PA_TRANSFER"],
                    moved,
                    f"moved to payment arrangement {arrangement.id}",
                    actor,
                    freeze=True,
                )
            amounts = split_cents(arrears, request.installments)
            for k, amount in enumerate(amounts, start=1):
                await self._post_adjustment(
                    s,
                    pa_sa,
                    codes.ADJUSTMENT_TYPES["PA_INSTALLMENT"],
                    amount,
                    f"payment arrangement {arrangement.id} installment {k} of {len(amounts)}",
                    actor,
                    freeze=True,
                )
            return p.PaymentArrangementView(
                arrangement_id=arrangement.id,
                account_id=account.id,
                sa_id=pa_sa.id,
                status=str(arrangement.status),
                arrears_cents=arrears,
                installment_amounts=amounts,
            )

        return await self._write(
            "create_payment_arrangement", request, idempotency_key, p.PaymentArrangementView, work
        )

    async def request_deposit(
        self, request: p.RequestDeposit, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.DepositView:
        """Bill a cash deposit on a new deposit SA; recommended = 2 x the average bill of the last 12 months
        (Oracle's worked example and the usual California cap, §1.11). Refund review after 12 months."""

        async def work(s: AsyncSession) -> p.DepositView:
            account = await self._get(s, m.Account, request.account_id, "account", lock=True)
            today = self._today()
            charges = (
                await s.scalars(
                    select(m.Bill.current_charges_cents).where(
                        m.Bill.account_id == account.id,
                        m.Bill.status == codes.BillStatus.COMPLETE,
                        m.Bill.bill_date > today - dt.timedelta(days=365),
                    )
                )
            ).all()
            recommended = 2 * (sum(charges) // len(charges)) if charges else 0
            amount = request.amount_cents if request.amount_cents is not None else recommended
            if amount <= 0:
                raise Invalid("amount_cents", "no billing history to recommend from; give the deposit amount")
            if recommended and amount > recommended:
                raise Invalid("amount_cents", f"must not exceed twice the average bill ({recommended} cents)")
            now = self._now()
            sa = m.ServiceAgreement(
                id=self._ids.sa_id(),
                account_id=account.id,
                sa_type="D-RES",
                status=codes.SaStatus.ACTIVE,
                start_date=today,
                final_billed=False,
                created_at=now,
                updated_at=now,
            )
            s.add(sa)
            await s.flush()
            await self._post_adjustment(
                s, sa, codes.ADJUSTMENT_TYPES["DEPOSIT"], amount, "cash deposit", actor, freeze=True
            )
            deposit = m.Deposit(
                id=ten_digit_id(self._ids),
                account_id=account.id,
                sa_id=sa.id,
                status=codes.DepositStatus.BILLED,
                amount_cents=amount,
                recommended_cents=recommended,
                requested_on=today,
                refund_review_on=today + dt.timedelta(days=365),
                created_by=actor,
                created_at=now,
            )
            s.add(deposit)
            return p.DepositView(
                deposit_id=deposit.id,
                account_id=account.id,
                sa_id=sa.id,
                status=str(deposit.status),
                amount_cents=amount,
                recommended_cents=recommended,
                refund_review_on=deposit.refund_review_on,
            )

        return await self._write("request_deposit", request, idempotency_key, p.DepositView, work)
