"""The local CCB's account-level queries: the account summary a CSR sees on control central, and
the account search by phone or service address (§1.3).

Section signs (§) cite docs/ccb-domain.md.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb import codes
from core.ccb import models as m
from core.ccb import port as p
from core.ccb.billing import (
    balance_cents,
    past_due_cents,
)
from core.ccb.errors import Invalid
from core.ccb.identity import (
    normalize_phone,
)
from core.ccb.local.views import LocalViews

__all__ = ["QueriesMixin"]


class QueriesMixin(LocalViews):
    """The account summary and the account finders."""

    async def get_account_summary(self, account_id: str) -> p.AccountSummary:
        async with self._db.read() as s:
            return await self._summary(s, account_id)

    async def _summary(self, s: AsyncSession, account_id: str) -> p.AccountSummary:
        account = await self._get(s, m.Account, account_id, "account")
        today = self._today()
        links = (
            await s.execute(
                select(m.AccountPerson, m.Person)
                .join(m.Person, m.Person.id == m.AccountPerson.person_id)
                .where(m.AccountPerson.account_id == account_id)
            )
        ).all()
        persons = [
            p.PersonBrief(
                person_id=person.id,
                name=f"{person.first_name} {person.last_name}",
                phone=person.phone,
                email=person.email,
                is_main_customer=link.is_main_customer,
                financially_responsible=link.financially_responsible,
                relationship=link.relationship,
            )
            for link, person in links
        ]
        persons.sort(key=lambda b: (not b.is_main_customer, b.name, b.person_id))
        main_rows = [(link, person) for link, person in links if link.is_main_customer]
        if len(main_rows) != 1:  # guarded by the service and the partial unique index
            raise RuntimeError(f"account {account_id} has {len(main_rows)} main customers")
        main_person = main_rows[0][1]
        if account.mail_line1:
            mailing = p.Address(
                line1=account.mail_line1,
                line2=account.mail_line2,
                city=account.mail_city or "",
                state=account.mail_state or "CA",
                zip=account.mail_zip or "",
            )
        else:
            mailing = self._person_address(main_person)
        sas = await self._account_sas(s, account_id)
        premise_ids = sorted({sa.premise_id for sa in sas if sa.premise_id})
        premises = []
        for pid in premise_ids:
            prem = await self._get(s, m.Premise, pid, "premise")
            premises.append(
                p.PremiseBrief(
                    premise_id=prem.id,
                    address=self._premise_address(prem),
                    service_area_code=prem.service_area_code,
                )
            )
        ledger = await self._ledger(s, account_id)
        bills = (
            await s.scalars(
                select(m.Bill)
                .where(m.Bill.account_id == account_id)
                .order_by(m.Bill.bill_date.desc(), m.Bill.created_at.desc())
                .limit(3)
            )
        ).all()
        alerts = (
            await s.scalars(
                select(m.Alert)
                .where(
                    m.Alert.account_id == account_id,
                    m.Alert.starts_on <= today,
                    or_(m.Alert.expires_on.is_(None), m.Alert.expires_on >= today),
                )
                .order_by(m.Alert.created_at)
            )
        ).all()
        plan_id = await s.scalar(
            select(m.PayPlan.id).where(
                m.PayPlan.account_id == account_id, m.PayPlan.status == codes.PayPlanStatus.ACTIVE
            )
        )
        case_ids = (
            await s.scalars(
                select(m.Case.id)
                .where(m.Case.account_id == account_id, m.Case.closed_at.is_(None))
                .order_by(m.Case.id)
            )
        ).all()
        return p.AccountSummary(
            account_id=account.id,
            customer_class=account.customer_class,
            bill_cycle=account.bill_cycle,
            setup_date=account.setup_date,
            main_customer=persons[0],
            persons=persons,
            mailing_address=mailing,
            premises=premises,
            service_agreements=[self._sa_view(sa) for sa in sas],
            balance_cents=balance_cents(ledger),
            past_due_cents=past_due_cents(ledger, today),
            last_bills=[
                p.BillBrief(
                    bill_id=b.id,
                    status=str(b.status),
                    bill_date=b.bill_date,
                    due_date=b.due_date,
                    current_charges_cents=b.current_charges_cents,
                    amount_due_cents=b.amount_due_cents,
                    is_final=b.is_final,
                )
                for b in bills
            ],
            alerts=[self._alert_view(a) for a in alerts],
            verification_locked=account.verify_locked,
            active_pay_plan_id=plan_id,
            open_case_ids=list(case_ids),
        )

    async def find_accounts_by_phone(self, phone: str) -> list[str]:
        digits = normalize_phone(phone)
        async with self._db.read() as s:
            rows = await s.scalars(
                select(m.AccountPerson.account_id)
                .join(m.Person, m.Person.id == m.AccountPerson.person_id)
                .where(or_(m.Person.phone == digits, m.Person.alt_phone == digits))
                .distinct()
            )
            return sorted(rows.all())

    async def find_accounts_by_address(self, line1: str, zip: str) -> list[str]:
        needle = line1.strip().lower()
        if not needle:
            raise Invalid("line1", "must not be empty")
        async with self._db.read() as s:
            rows = await s.scalars(
                select(m.ServiceAgreement.account_id)
                .join(m.Premise, m.Premise.id == m.ServiceAgreement.premise_id)
                .where(
                    m.Premise.zip == zip.strip(),
                    func.lower(m.Premise.line1).contains(needle, autoescape=True),
                )
                .distinct()
            )
            return sorted(rows.all())
