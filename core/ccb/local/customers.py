"""The local CCB's customers and premises: identity verification and its lock-out (docs/rules.md §4.2,
§4.3), persons and accounts (§1.3: create a customer, add a person, change the main customer, access code,
mailing address) and premises with their SPs and meters and property access (§1.4).

Section signs (§) cite docs/ccb-domain.md.
"""

from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb import codes
from core.ccb import events as ev
from core.ccb import models as m
from core.ccb import port as p
from core.ccb.errors import IllegalTransition, Invalid, VerificationLocked
from core.ccb.identity import (
    IdentityMethod,
    check_access_code,
    check_ssn_last4,
    identity_hash,
    matches,
    normalize_phone,
)
from core.ccb.keys import install_id
from core.ccb.local.base import (
    SERVICE_DIGITS,
    SERVICE_SA_TYPE,
    SERVICE_UNIT,
    VERIFY_MAX_FAILURES,
    VERIFY_WINDOW,
    clean_text,
)
from core.ccb.local.queries import QueriesMixin
from core.redact import redact

__all__ = ["CustomersMixin"]


class CustomersMixin(QueriesMixin):
    """Identity verification, persons, accounts and premises."""

    async def get_person(self, person_id: str) -> p.PersonView:
        async with self._db.read() as s:
            return await self._person_view(s, await self._get(s, m.Person, person_id, "person"))

    async def get_premise(self, premise_id: str) -> p.PremiseView:
        async with self._db.read() as s:
            return await self._premise_view(s, await self._get(s, m.Premise, premise_id, "premise"))

    async def verify_identity(
        self, account_id: str, method: IdentityMethod, value: str, *, actor: str = "system"
    ) -> bool:
        """Compare ``value`` with the keyed hashes of the account's persons; only pass/fail comes back.

        Failures count per account across channels: the fifth within 24 hours locks verification until
        ``unlock_verification``; a success resets the count. Every attempt is audited without the value.
        A locked account raises ``VerificationLocked`` — and the attempt is still audited.
        """
        if method not in ("access_code", "ssn_last4"):
            raise Invalid("method", "must be access_code or ssn_last4")
        async with self._db.session() as s:
            account = await self._get(s, m.Account, account_id, "account", lock=True)
            if account.verify_locked:
                await self._audit_money(
                    s,
                    actor,
                    "ccb.identity.verify",
                    f"account:{account_id}",
                    {"method": method, "result": "locked"},
                )
                locked = True
            else:
                locked = False
                people = (
                    await s.scalars(
                        select(m.Person)
                        .join(m.AccountPerson, m.AccountPerson.person_id == m.Person.id)
                        .where(m.AccountPerson.account_id == account_id)
                    )
                ).all()
                presented = value.strip()
                ok = False
                for person in people:  # no early exit: every person is checked, timing says nothing
                    stored = person.access_code_hash if method == "access_code" else person.ssn_last4_hash
                    ok = matches(self._key, method, person.id, presented, stored) or ok
                now = self._now()
                if ok:
                    account.verify_failures = 0
                    account.verify_window_start = None
                else:
                    window_open = (
                        account.verify_window_start is not None
                        and now - account.verify_window_start < VERIFY_WINDOW
                    )
                    account.verify_failures = account.verify_failures + 1 if window_open else 1
                    if not window_open:
                        account.verify_window_start = now
                    if account.verify_failures >= VERIFY_MAX_FAILURES:
                        account.verify_locked = True
                        account.verify_locked_at = now
                        self._emit(s, "hub.ccb.identity.locked", ev.AccountRef(account_id=account_id), actor)
                await self._audit_money(
                    s,
                    actor,
                    "ccb.identity.verify",
                    f"account:{account_id}",
                    {
                        "method": method,
                        "result": "pass" if ok else "fail",
                        "failures": account.verify_failures,
                        "locked": account.verify_locked,
                    },
                )
        if locked:
            raise VerificationLocked(account_id)
        return ok

    async def unlock_verification(
        self, request: p.UnlockVerification, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.AccountSummary:
        async def work(s: AsyncSession) -> p.AccountSummary:
            account = await self._get(s, m.Account, request.account_id, "account", lock=True)
            if not account.verify_locked:
                raise IllegalTransition("account", account.id, "unlocked", "unlock_verification")
            account.verify_locked = False
            account.verify_locked_at = None
            account.verify_failures = 0
            account.verify_window_start = None
            await self._audit_money(s, actor, "ccb.identity.unlock", f"account:{account.id}", {})
            await s.flush()
            return await self._summary(s, account.id)

        return await self._write("unlock_verification", request, idempotency_key, p.AccountSummary, work)

    async def set_mailing_address(
        self, request: p.SetMailingAddress, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.AccountSummary:
        async def work(s: AsyncSession) -> p.AccountSummary:
            account = await self._get(s, m.Account, request.account_id, "account", lock=True)
            address = self._check_address(request.address, "address")
            # The account's override wins over the main customer's address (docs/ccb-domain.md §1.3).
            account.mail_line1 = redact(address.line1)[:120]
            account.mail_line2 = redact(address.line2)[:120] if address.line2 else None
            account.mail_city = address.city[:60]
            account.mail_state = address.state
            account.mail_zip = address.zip
            await s.flush()
            return await self._summary(s, account.id)

        return await self._write("set_mailing_address", request, idempotency_key, p.AccountSummary, work)

    def _person_row(self, person: p.NewPerson, person_id: str) -> m.Person:
        first = person.first_name.strip()
        last = person.last_name.strip()
        if not first or len(first) > 60:
            raise Invalid("person.first_name", "must be 1 to 60 characters")
        if not last or len(last) > 60:
            raise Invalid("person.last_name", "must be 1 to 60 characters")
        try:
            phone = normalize_phone(person.phone)
            alt = normalize_phone(person.alt_phone) if person.alt_phone else None
        except Invalid as exc:
            raise Invalid("person.phone", exc.message) from None
        email = person.email.strip() if person.email else None
        if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise Invalid("person.email", "is not an email address")
        address = self._check_address(person.mailing_address, "person.mailing_address")
        access_hash = ssn_hash = None
        if person.access_code is not None:
            code = check_access_code(person.access_code, phone=phone)
            access_hash = identity_hash(self._key, "access_code", person_id, code)
        if person.ssn_last4 is not None:
            ssn_hash = identity_hash(self._key, "ssn_last4", person_id, check_ssn_last4(person.ssn_last4))
        return m.Person(
            id=person_id,
            first_name=first,
            last_name=last,
            phone=phone,
            alt_phone=alt,
            email=email,
            mail_line1=address.line1,
            mail_line2=address.line2,
            mail_city=address.city,
            mail_state=address.state,
            mail_zip=address.zip,
            language=person.language,
            life_support=person.life_support,
            access_code_hash=access_hash,
            ssn_last4_hash=ssn_hash,
            identity_key_version=self._key_version,
            created_at=self._now(),
        )

    @staticmethod
    def _check_address(address: p.Address, field: str) -> p.Address:
        if not address.line1.strip():
            raise Invalid(f"{field}.line1", "must not be empty")
        if not address.city.strip():
            raise Invalid(f"{field}.city", "must not be empty")
        if not re.fullmatch(r"\d{5}(-\d{4})?", address.zip.strip()):
            raise Invalid(f"{field}.zip", "must be a 5-digit ZIP code")
        if not re.fullmatch(r"[A-Z]{2}", address.state):
            raise Invalid(f"{field}.state", "must be a two-letter state code")
        return p.Address(
            line1=address.line1.strip(),
            line2=address.line2.strip() if address.line2 else None,
            city=address.city.strip(),
            state=address.state,
            zip=address.zip.strip(),
        )

    async def create_customer(
        self, request: p.CreateCustomer, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.CustomerCreated:
        async def work(s: AsyncSession) -> p.CustomerCreated:
            person = self._person_row(request.person, self._ids.person_id())
            account_id = self._ids.account_id()
            now = self._now()
            # LADWP reads residential meters bimonthly on numbered routes; the cycle is a stable function
            # of the account so a customer keeps it (§2.4).
            cycle = request.bill_cycle or f"{int(account_id) % 20 + 1:02d}"
            s.add(person)
            s.add(
                m.Account(
                    id=account_id,
                    customer_class=request.customer_class,
                    bill_cycle=cycle,
                    cis_division="LADWP",
                    setup_date=request.setup_date or self._today(),
                    verify_failures=0,
                    verify_locked=False,
                    created_at=now,
                )
            )
            await s.flush()
            s.add(
                m.AccountPerson(
                    account_id=account_id,
                    person_id=person.id,
                    is_main_customer=True,
                    financially_responsible=True,
                    relationship="MAIN",
                    receives_bill_copy=True,
                )
            )
            return p.CustomerCreated(account_id=account_id, person_id=person.id)

        return await self._write("create_customer", request, idempotency_key, p.CustomerCreated, work)

    async def add_account_person(
        self, request: p.AddAccountPerson, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PersonBrief:
        async def work(s: AsyncSession) -> p.PersonBrief:
            await self._get(s, m.Account, request.account_id, "account")
            if (request.person_id is None) == (request.person is None):
                raise Invalid("person_id", "give either an existing person_id or a new person")
            relationship = request.relationship.strip().upper()
            if not relationship or relationship == "MAIN" or len(relationship) > 20:
                raise Invalid("relationship", "must be a relationship type other than MAIN")
            if request.person is not None:
                person = self._person_row(request.person, self._ids.person_id())
                s.add(person)
                await s.flush()
            else:
                assert request.person_id is not None
                person = await self._get(s, m.Person, request.person_id, "person")
                if await s.get(m.AccountPerson, (request.account_id, person.id)) is not None:
                    raise Invalid("person_id", "is already on the account")
            s.add(
                m.AccountPerson(
                    account_id=request.account_id,
                    person_id=person.id,
                    is_main_customer=False,
                    financially_responsible=request.financially_responsible,
                    relationship=relationship,
                    receives_bill_copy=request.receives_bill_copy,
                )
            )
            return p.PersonBrief(
                person_id=person.id,
                name=f"{person.first_name} {person.last_name}",
                phone=person.phone,
                email=person.email,
                is_main_customer=False,
                financially_responsible=request.financially_responsible,
                relationship=relationship,
            )

        return await self._write("add_account_person", request, idempotency_key, p.PersonBrief, work)

    async def set_main_customer(
        self, request: p.SetMainCustomer, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PersonBrief:
        async def work(s: AsyncSession) -> p.PersonBrief:
            await self._get(s, m.Account, request.account_id, "account", lock=True)
            link = await s.get(m.AccountPerson, (request.account_id, request.person_id))
            if link is None:
                raise Invalid("person_id", "is not on the account")
            person = await self._get(s, m.Person, request.person_id, "person")
            ap = m.AccountPerson
            # Unset first, then set: the partial unique index never sees two main customers (§1.3).
            await s.execute(
                update(ap)
                .where(ap.account_id == request.account_id, ap.is_main_customer.is_(True))
                .values(is_main_customer=False, relationship="FORMER_MAIN")
                .execution_options(synchronize_session=False)
            )
            await s.execute(
                update(ap)
                .where(ap.account_id == request.account_id, ap.person_id == request.person_id)
                .values(is_main_customer=True, financially_responsible=True, relationship="MAIN")
                .execution_options(synchronize_session=False)
            )
            await self._audit_money(
                s,
                actor,
                "ccb.account.main_customer_changed",
                f"account:{request.account_id}",
                {"person": person.id},
            )
            return p.PersonBrief(
                person_id=person.id,
                name=f"{person.first_name} {person.last_name}",
                phone=person.phone,
                email=person.email,
                is_main_customer=True,
                financially_responsible=True,
                relationship="MAIN",
            )

        return await self._write("set_main_customer", request, idempotency_key, p.PersonBrief, work)

    async def set_access_code(
        self, request: p.SetAccessCode, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PersonView:
        async def work(s: AsyncSession) -> p.PersonView:
            person = await self._get(s, m.Person, request.person_id, "person", lock=True)
            code = check_access_code(request.access_code, phone=person.phone)
            person.access_code_hash = identity_hash(self._key, "access_code", person.id, code)
            person.identity_key_version = self._key_version
            await self._audit_money(s, actor, "ccb.identity.access_code_changed", f"person:{person.id}", {})
            return await self._person_view(s, person)

        return await self._write("set_access_code", request, idempotency_key, p.PersonView, work)

    async def create_premise(
        self, request: p.CreatePremise, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PremiseView:
        async def work(s: AsyncSession) -> p.PremiseView:
            address = self._check_address(request.address, "address")
            if request.lot_size_sqft <= 0 or request.lot_size_sqft > 10_000_000:
                raise Invalid("lot_size_sqft", "must be a positive number of square feet")
            if not request.services or len(set(request.services)) != len(request.services):
                raise Invalid("services", "must list each service once")
            code = request.service_area_code.strip()
            if not code or len(code) > 8:
                raise Invalid("service_area_code", "must be 1 to 8 characters")
            if request.net_metered:
                if "electric" not in request.services:
                    raise Invalid("net_metered", "a net meter measures electricity: include electric service")
                if request.meter_type != "digital":
                    raise Invalid("meter_type", "a net (bidirectional) meter is digital")
            now = self._now()
            premise = m.Premise(
                id=self._ids.premise_id(),
                premise_type=request.premise_type,
                line1=address.line1,
                line2=address.line2,
                city=address.city,
                state=address.state,
                zip=address.zip,
                service_area_code=code,
                electric_zone=request.electric_zone,
                water_temperature_zone=request.water_temperature_zone,
                lot_size_sqft=request.lot_size_sqft,
                has_dog=False,
                created_at=now,
            )
            s.add(premise)
            await s.flush()
            for service in request.services:
                sp = m.ServicePoint(
                    id=self._ids.sp_id(),
                    premise_id=premise.id,
                    service=service,
                    sp_type=SERVICE_SA_TYPE[service],
                    connected=True,
                    created_at=now,
                )
                meter = m.Meter(
                    id=self._ids.meter_id(),
                    badge_number="",
                    meter_type=request.meter_type,
                    service=service,
                    unit=SERVICE_UNIT[service],
                    register_digits=SERVICE_DIGITS[service],
                    created_at=now,
                )
                meter.badge_number = f"{service[0].upper()}{meter.id}"
                s.add_all([sp, meter])
                await s.flush()
                flows: list[codes.RegisterFlow] = [codes.REGISTER_DELIVERED]
                if request.net_metered and service == "electric":
                    flows.append(codes.REGISTER_RECEIVED)
                s.add_all(
                    m.Register(
                        meter_id=meter.id,
                        seq=codes.REGISTER_FLOWS[flow],
                        flow=flow,
                        unit=meter.unit,
                        digits=meter.register_digits,
                    )
                    for flow in flows
                )
                s.add(
                    m.MeterInstall(
                        id=install_id(self._ids),
                        sp_id=sp.id,
                        meter_id=meter.id,
                        installed_at=now,
                        install_reading=0,
                    )
                )
            await s.flush()
            return await self._premise_view(s, premise)

        return await self._write("create_premise", request, idempotency_key, p.PremiseView, work)

    async def set_property_access(
        self, request: p.SetPropertyAccess, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PremiseView:
        async def work(s: AsyncSession) -> p.PremiseView:
            premise = await self._get(s, m.Premise, request.premise_id, "premise", lock=True)
            if request.gate_code is not None:
                gate = request.gate_code.strip()
                if len(gate) > 20:
                    raise Invalid("gate_code", "must be at most 20 characters")
                premise.gate_code = gate or None
            if request.has_dog is not None:
                premise.has_dog = request.has_dog
            if request.hazards is not None:
                premise.hazards = clean_text(request.hazards, "hazards", required=False) or None
            if request.reader_notes is not None:
                premise.reader_notes = (
                    clean_text(request.reader_notes, "reader_notes", required=False) or None
                )
            premise.access_updated_at = self._now()
            return await self._premise_view(s, premise)

        return await self._write("set_property_access", request, idempotency_key, p.PremiseView, work)
