"""The local CCB's payments and cash drawers (§1.9): the balance and financial transactions of an
account (§1.1), posting a payment with its tenders and distributing it over open items, canceling a
payment or a tender, and tender controls (open, balance) and deposit controls.

Section signs (§) cite docs/ccb-domain.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb import codes
from core.ccb import events as ev
from core.ccb import models as m
from core.ccb import port as p
from core.ccb.billing import (
    balance_cents,
    distribute_payment,
    past_due_cents,
)
from core.ccb.errors import IllegalTransition, Invalid
from core.ccb.keys import ten_digit_id, twelve_digit_id
from core.ccb.local.base import (
    clean_text,
)
from core.ccb.local.views import LocalViews

__all__ = ["PaymentsMixin"]


class PaymentsMixin(LocalViews):
    """Payments, tenders, tender controls and deposit controls."""

    async def get_balance(self, account_id: str) -> p.Balance:
        async with self._db.read() as s:
            await self._get(s, m.Account, account_id, "account")
            ledger = await self._ledger(s, account_id)
        today = self._today()
        return p.Balance(
            account_id=account_id,
            as_of=today,
            balance_cents=balance_cents(ledger),
            past_due_cents=past_due_cents(ledger, today),
        )

    async def list_financial_transactions(self, account_id: str) -> list[p.FinancialTransactionView]:
        async with self._db.read() as s:
            await self._get(s, m.Account, account_id, "account")
            rows = (
                await s.scalars(
                    select(m.FinancialTransaction)
                    .where(m.FinancialTransaction.account_id == account_id)
                    .order_by(m.FinancialTransaction.created_at, m.FinancialTransaction.id)
                )
            ).all()
        return [
            p.FinancialTransactionView(
                ft_id=f.id,
                sa_id=f.sa_id,
                ft_type=f.ft_type,
                parent_id=f.parent_id,
                amount_cents=f.amount_cents,
                frozen=f.frozen,
                cancels_ft_id=f.cancels_ft_id,
                accounting_date=f.accounting_date,
                arrears_date=f.arrears_date,
                bill_id=f.bill_id,
            )
            for f in rows
        ]

    async def get_payment(self, payment_id: str) -> p.PaymentResult:
        async with self._db.read() as s:
            return await self._payment_result(s, await self._get(s, m.Payment, payment_id, "payment"))

    async def get_tender_control(self, tender_control_id: str) -> p.TenderControlView:
        async with self._db.read() as s:
            tc = await self._get(s, m.TenderControl, tender_control_id, "tender_control")
            return await self._tender_control_view(s, tc)

    @staticmethod
    def _check_tender(index: int, tender: p.TenderInput) -> tuple[str | None, str | None, str | None]:
        """Validate one tender; returns (check number, masked PAN, card brand)."""
        where = f"tenders[{index}]"
        if tender.amount_cents <= 0:
            raise Invalid(f"{where}.amount_cents", "must be positive")
        if tender.amount_cents > 100_000_000:
            raise Invalid(f"{where}.amount_cents", "is larger than any payment the utility takes")
        if tender.tender_type == "check":
            number = (tender.check_number or "").strip()
            if not re.fullmatch(r"\d{1,20}", number):
                raise Invalid(f"{where}.check_number", "a check needs its check number (digits)")
            return number, None, None
        if tender.tender_type == "card":
            last4 = (tender.card_last4 or "").strip()
            if not re.fullmatch(r"\d{4}", last4):
                # Anything but four digits may be a PAN: refuse it rather than store it (PCI, docs/rules.md
                # §1.5).
                raise Invalid(f"{where}.card_last4", "give only the last four digits of the card")
            brand = (tender.card_brand or "").strip()[:12] or None
            return None, "************" + last4, brand
        if tender.check_number or tender.card_last4:
            raise Invalid(f"{where}.tender_type", "cash has no check number or card digits")
        return None, None, None

    async def post_payment(
        self, request: p.PostPayment, *, idempotency_key: str, actor: str = "system"
    ) -> p.PaymentResult:
        """Freeze a payment event with its tenders and distribute it oldest debt first (billing.py).

        Idempotent: the same key returns the first result (``replayed=True``) and never credits twice.
        """

        async def work(s: AsyncSession) -> p.PaymentResult:
            await self._get(s, m.Account, request.account_id, "account", lock=True)
            if not request.tenders:
                raise Invalid("tenders", "a payment needs at least one tender")
            control: m.TenderControl | None = None
            if request.tender_control_id is not None:
                control = await self._get(
                    s, m.TenderControl, request.tender_control_id, "tender_control", lock=True
                )
                if control.status != codes.TenderControlStatus.OPEN:
                    raise IllegalTransition("tender_control", control.id, control.status, "take a tender")
            now = self._now()
            event = m.PaymentEvent(
                id=self._ids.payment_event_id(),
                received_at=now,
                amount_cents=0,
                created_by=actor,
                created_at=now,
            )
            s.add(event)
            await s.flush()
            total = 0
            for index, tender in enumerate(request.tenders):
                check_number, masked, brand = self._check_tender(index, tender)
                s.add(
                    m.Tender(
                        id=self._ids.tender_id(),
                        payment_event_id=event.id,
                        tender_type=tender.tender_type,
                        amount_cents=tender.amount_cents,
                        status=codes.TenderStatus.VALID,
                        check_number=check_number,
                        masked_pan=masked,
                        card_brand=brand,
                        tender_control_id=control.id if control else None,
                        created_at=now,
                    )
                )
                await s.flush()
                total += tender.amount_cents
            event.amount_cents = total
            payment = m.Payment(
                id=self._ids.payment_id(),
                payment_event_id=event.id,
                account_id=request.account_id,
                amount_cents=total,
                status=codes.PaymentStatus.FROZEN,
                frozen_at=now,
            )
            s.add(payment)
            await s.flush()
            await self._distribute(s, payment, actor)
            self._emit(
                s,
                "hub.ccb.payment.posted",
                ev.PaymentPosted(
                    account_id=request.account_id, payment_event_id=event.id, payment_id=payment.id
                ),
                actor,
            )
            await self._audit_money(
                s,
                actor,
                "ccb.payment.posted",
                f"account:{request.account_id}",
                {
                    "payment_event": event.id,
                    "payment": payment.id,
                    "amount_cents": total,
                    "tenders": [t.tender_type for t in request.tenders],
                    "tender_control": control.id if control else None,
                },
            )
            await s.flush()
            return await self._payment_result(s, payment)

        return await self._write("post_payment", request, idempotency_key, p.PaymentResult, work)

    async def _distribute(self, s: AsyncSession, payment: m.Payment, actor: str) -> None:
        sas = await self._account_sas(s, payment.account_id)
        if not sas:
            raise Invalid("account_id", "the account has no service agreement to take a payment")
        # Overpayments wait on the first billable SA (electric before water), else the first SA at all.
        order = [sa.id for sa in sas if sa.status in codes.BILLABLE_SA_STATUSES]
        order += [sa.id for sa in sas if sa.id not in order]
        split = distribute_payment(await self._ledger(s, payment.account_id), payment.amount_cents, order)
        for sa_id in order:
            amount = split.get(sa_id, 0)
            if not amount:
                continue
            seg = m.PaySegment(
                id=twelve_digit_id(self._ids), payment_id=payment.id, sa_id=sa_id, amount_cents=amount
            )
            s.add(seg)
            await s.flush()
            self._add_ft(
                s,
                account_id=payment.account_id,
                sa_id=sa_id,
                ft_type=codes.FtType.PAY_SEGMENT,
                parent_id=seg.id,
                amount_cents=-amount,
            )
        await s.flush()
        await self._after_payment(s, payment.account_id, sas)

    async def _after_payment(
        self, s: AsyncSession, account_id: str, sas: Sequence[m.ServiceAgreement]
    ) -> None:
        """Side effects of money coming in: a final-billed, settled SA closes (40 -> 60, §1.5); a paid
        deposit is held (§1.11)."""
        ledger = await self._ledger(s, account_id)
        by_sa: dict[str, int] = {}
        for e in ledger:
            by_sa[e.sa_id] = by_sa.get(e.sa_id, 0) + e.amount_cents
        for sa in sas:
            if sa.status == codes.SaStatus.STOPPED and sa.final_billed and by_sa.get(sa.id, 0) <= 0:
                self._transition(sa, "close")
        deposits = (
            await s.scalars(
                select(m.Deposit).where(
                    m.Deposit.account_id == account_id, m.Deposit.status == codes.DepositStatus.BILLED
                )
            )
        ).all()
        for deposit in deposits:
            if by_sa.get(deposit.sa_id, 0) <= 0:
                deposit.status = codes.DepositStatus.HELD

    async def _reverse_payment(self, s: AsyncSession, payment: m.Payment, reason: str, actor: str) -> None:
        segs = (await s.scalars(select(m.PaySegment).where(m.PaySegment.payment_id == payment.id))).all()
        for seg in segs:
            original = await self._ft_of(s, seg.id, codes.FtType.PAY_SEGMENT)
            assert original is not None
            self._add_ft(
                s,
                account_id=payment.account_id,
                sa_id=seg.sa_id,
                ft_type=codes.FtType.PAY_CANCEL,
                parent_id=seg.id,
                amount_cents=-original.amount_cents,
                cancels=original.id,
            )
        payment.status = codes.PaymentStatus.CANCELED
        payment.cancel_reason = reason
        payment.canceled_at = self._now()
        await self._audit_money(
            s,
            actor,
            "ccb.payment.canceled",
            f"account:{payment.account_id}",
            {"payment": payment.id, "amount_cents": payment.amount_cents, "reason": reason},
        )
        self._emit(
            s,
            "hub.ccb.payment.canceled",
            ev.PaymentRef(account_id=payment.account_id, payment_id=payment.id),
            actor,
        )

    async def cancel_payment(
        self, request: p.CancelPayment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PaymentResult:
        """Cancel a payment: PX FTs reverse its pay segments. The tender stays valid (§1.9)."""

        async def work(s: AsyncSession) -> p.PaymentResult:
            payment = await self._get(s, m.Payment, request.payment_id, "payment", lock=True)
            reason = clean_text(request.reason, "reason", limit=200)
            if payment.status != codes.PaymentStatus.FROZEN:
                raise IllegalTransition("payment", payment.id, payment.status, "cancel")
            await self._reverse_payment(s, payment, reason, actor)
            await s.flush()
            return await self._payment_result(s, payment)

        return await self._write("cancel_payment", request, idempotency_key, p.PaymentResult, work)

    async def cancel_tender(
        self, request: p.CancelTender, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.TenderCanceled:
        """Cancel a tender (a bounced check): every payment of its event is canceled too (§1.9)."""

        async def work(s: AsyncSession) -> p.TenderCanceled:
            tender = await self._get(s, m.Tender, request.tender_id, "tender", lock=True)
            reason = clean_text(request.reason, "reason", limit=200)
            if tender.status != codes.TenderStatus.VALID:
                raise IllegalTransition("tender", tender.id, tender.status, "cancel")
            tender.status = codes.TenderStatus.CANCELED
            tender.cancel_reason = reason
            payments = (
                await s.scalars(
                    select(m.Payment).where(
                        m.Payment.payment_event_id == tender.payment_event_id,
                        m.Payment.status == codes.PaymentStatus.FROZEN,
                    )
                )
            ).all()
            for payment in payments:
                await self._reverse_payment(s, payment, f"tender {tender.id} canceled: {reason}", actor)
            return p.TenderCanceled(tender_id=tender.id, canceled_payment_ids=sorted(x.id for x in payments))

        return await self._write("cancel_tender", request, idempotency_key, p.TenderCanceled, work)

    async def open_tender_control(
        self, request: p.OpenTenderControl, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.TenderControlView:
        async def work(s: AsyncSession) -> p.TenderControlView:
            csr = request.csr.strip()
            if not csr or len(csr) > 64:
                raise Invalid("csr", "must be 1 to 64 characters")
            if request.starting_float_cents < 0:
                raise Invalid("starting_float_cents", "must not be negative")
            existing = await s.scalar(
                select(m.TenderControl.id).where(
                    m.TenderControl.csr == csr, m.TenderControl.status != codes.TenderControlStatus.BALANCED
                )
            )
            if existing is not None:
                raise Invalid("csr", f"already has tender control {existing} that is not balanced")
            tc = m.TenderControl(
                id=ten_digit_id(self._ids),
                csr=csr,
                tender_source=request.tender_source,
                starting_float_cents=request.starting_float_cents,
                status=codes.TenderControlStatus.OPEN,
                opened_at=self._now(),
            )
            s.add(tc)
            await s.flush()
            await self._audit_money(
                s,
                actor,
                "ccb.tender_control.opened",
                f"tender_control:{tc.id}",
                {"float_cents": tc.starting_float_cents},
            )
            return await self._tender_control_view(s, tc)

        return await self._write("open_tender_control", request, idempotency_key, p.TenderControlView, work)

    async def start_balancing(
        self, request: p.StartBalancing, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.TenderControlView:
        async def work(s: AsyncSession) -> p.TenderControlView:
            tc = await self._get(s, m.TenderControl, request.tender_control_id, "tender_control", lock=True)
            if tc.status != codes.TenderControlStatus.OPEN:
                raise IllegalTransition("tender_control", tc.id, tc.status, "start balancing")
            tc.status = codes.TenderControlStatus.BALANCING
            tc.balancing_at = self._now()
            tc.expected_cents = tc.starting_float_cents + await self._drawer_tenders(s, tc.id)
            return await self._tender_control_view(s, tc)

        return await self._write("start_balancing", request, idempotency_key, p.TenderControlView, work)

    async def balance_tender_control(
        self, request: p.BalanceTenderControl, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.TenderControlView:
        """Record the count; an over/under amount is kept to the cent for the over/under SA (§1.9)."""

        async def work(s: AsyncSession) -> p.TenderControlView:
            tc = await self._get(s, m.TenderControl, request.tender_control_id, "tender_control", lock=True)
            if tc.status != codes.TenderControlStatus.BALANCING:
                raise IllegalTransition("tender_control", tc.id, tc.status, "balance")
            if request.counted_cents < 0:
                raise Invalid("counted_cents", "must not be negative")
            # Recomputed: a tender canceled while balancing (a bad check) leaves the drawer.
            tc.expected_cents = tc.starting_float_cents + await self._drawer_tenders(s, tc.id)
            tc.counted_cents = request.counted_cents
            tc.over_under_cents = request.counted_cents - tc.expected_cents
            tc.status = codes.TenderControlStatus.BALANCED
            tc.balanced_at = self._now()
            await self._audit_money(
                s,
                actor,
                "ccb.tender_control.balanced",
                f"tender_control:{tc.id}",
                {
                    "expected_cents": tc.expected_cents,
                    "counted_cents": tc.counted_cents,
                    "over_under_cents": tc.over_under_cents,
                },
            )
            return await self._tender_control_view(s, tc)

        return await self._write(
            "balance_tender_control", request, idempotency_key, p.TenderControlView, work
        )

    async def create_deposit_control(
        self, request: p.CreateDepositControl, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.DepositControlView:
        async def work(s: AsyncSession) -> p.DepositControlView:
            ids = list(dict.fromkeys(request.tender_control_ids))
            if not ids:
                raise Invalid("tender_control_ids", "name at least one balanced tender control")
            controls = [await self._get(s, m.TenderControl, i, "tender_control", lock=True) for i in ids]
            for tc in controls:
                if tc.status != codes.TenderControlStatus.BALANCED:
                    raise IllegalTransition("tender_control", tc.id, tc.status, "deposit")
                if tc.deposit_control_id is not None:
                    raise Invalid("tender_control_ids", f"tender control {tc.id} is already deposited")
            # The change fund stays in the drawer; the bank gets what was counted above it.
            total = sum((tc.counted_cents or 0) - tc.starting_float_cents for tc in controls)
            dc = m.DepositControl(
                id=ten_digit_id(self._ids),
                status="balanced",
                total_cents=total,
                created_by=actor,
                created_at=self._now(),
            )
            s.add(dc)
            await s.flush()
            for tc in controls:
                tc.deposit_control_id = dc.id
            await self._audit_money(
                s,
                actor,
                "ccb.deposit_control.created",
                f"deposit_control:{dc.id}",
                {"total_cents": total, "controls": ids},
            )
            return p.DepositControlView(
                deposit_control_id=dc.id, status=str(dc.status), total_cents=total, tender_control_ids=ids
            )

        return await self._write(
            "create_deposit_control", request, idempotency_key, p.DepositControlView, work
        )
