"""The local CCB: the port implemented on the hub's own database, faithful to ccb-domain §1.

Every write runs in ONE transaction (the database session commits on success and rolls back on any
error), so a failure half-way leaves nothing behind; events go to the outbox and money movements to the
audit log inside that same transaction. Batch processes that a real CCB runs on its own schedule (SA
activation ``SAACT``, finalization, pay-plan monitoring) are methods here that a scheduler or a simulator
calls with the business date; they are not on the port because the hub never drives them on a real CCB.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

import msgspec
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditLog
from core.ccb import codes
from core.ccb import events as ev
from core.ccb import models as m
from core.ccb import port as p
from core.ccb.billing import (
    LedgerEntry,
    PricedSegment,
    balance_cents,
    distribute_payment,
    due_date_for,
    local_date,
    local_day_end,
    local_time,
    net_metering_of,
    open_items,
    past_due_cents,
    price_net_metered_segment,
    price_segment,
)
from core.ccb.errors import IllegalTransition, Invalid, NotFound, VerificationLocked
from core.ccb.identity import (
    IdentityMethod,
    check_access_code,
    check_ssn_last4,
    identity_hash,
    matches,
    normalize_phone,
)
from core.ccb.ids import IdGenerator
from core.ccb.keys import install_id, ten_digit_id, twelve_digit_id
from core.ccb.payplan import PayPlanError, quote, split_cents
from core.ccb.rates import RateConfig, format_cents, load_default_config
from core.ccb.reads import HighLowStatus, MeterRead, ReadError, ReadType, Register, high_low_check
from core.ccb.reads import consecutive_estimates as count_estimates
from core.ccb.reads import estimate as estimate_read
from core.clock import Clock
from core.db import Database
from core.outbox import EventWriter
from core.redact import redact

__all__ = ["LocalCcb"]

T = TypeVar("T")

SERVICE_SA_TYPE = codes.SERVICE_SA_TYPE
SERVICE_UNIT = codes.SERVICE_UNIT
SERVICE_DIGITS = codes.SERVICE_DIGITS
SA_TYPE_ORDER = {"E-RES": 0, "E-NEM": 0, "W-RES": 1, "PA-RES": 2, "D-RES": 3}
DELIVERED = codes.REGISTER_FLOWS[codes.REGISTER_DELIVERED]
RECEIVED = codes.REGISTER_FLOWS[codes.REGISTER_RECEIVED]

# rules §4.2: 5 consecutive failures per account within 24 hours lock the knowledge factors.
VERIFY_MAX_FAILURES = 5
VERIFY_WINDOW = dt.timedelta(hours=24)
# rules §6.3 step 3: a plan is breached only after 60 days of non-compliance.
PAY_PLAN_BREACH_DAYS = 60
# Payment arrangements are billed on the bimonthly bills and must fit in 12 months (rules §6.2, §2.4).
MAX_ARRANGEMENT_INSTALLMENTS = 6
MAX_TEXT = 4000


def _text(value: str, field: str, *, limit: int = MAX_TEXT, required: bool = True) -> str:
    """Free text as stored: trimmed, length-checked and with card numbers / SSNs masked (ARCHITECTURE §6)."""
    cleaned = value.strip()
    if required and not cleaned:
        raise Invalid(field, "must not be empty")
    if len(cleaned) > limit:
        raise Invalid(field, f"must be at most {limit} characters")
    return redact(cleaned)


def _aware(value: dt.datetime, field: str) -> dt.datetime:
    if value.tzinfo is None:
        raise Invalid(field, "must include a time zone")
    return value.astimezone(dt.UTC)


class LocalCcb:
    """The mock CCB on the hub's database (implements ``CcbPort``)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        hash_key: bytes,
        ids: IdGenerator | None = None,
        rates: RateConfig | None = None,
        *,
        events: EventWriter | None = None,
        audit: AuditLog | None = None,
        hash_key_version: int = 1,
    ) -> None:
        if len(hash_key) < 16:
            raise ValueError("the identity hash key must be at least 16 bytes")
        self._db = db
        self._clock = clock
        self._key = hash_key
        self._key_version = hash_key_version
        self._ids = ids or IdGenerator()
        self._rates = rates or load_default_config()
        self._events = events
        self._audit = audit

    # ===============================================================================================
    # plumbing

    def _now(self) -> dt.datetime:
        return self._clock.now()

    def _today(self) -> dt.date:
        return local_date(self._clock.now())

    def _emit(self, s: AsyncSession, subject: str, payload: msgspec.Struct, actor: str) -> None:
        if self._events is not None:
            self._events.emit(s, subject, payload, actor=actor)

    async def _audit_money(
        self, s: AsyncSession, actor: str, action: str, target: str, detail: dict[str, Any]
    ) -> None:
        if self._audit is not None:
            await self._audit.append(s, actor=actor, action=action, target=target, detail=detail)

    async def _write(
        self,
        operation: str,
        request: msgspec.Struct,
        idempotency_key: str | None,
        result_type: Any,
        work: Callable[[AsyncSession], Awaitable[T]],
    ) -> T:
        """Run ``work`` in one transaction; with a key, store the answer and replay it on a retry.

        A unique-key conflict means another writer got there first: the same idempotency key (its answer
        is the answer), a random id drawn twice, or a row a concurrent request just added. The whole
        transaction rolled back, so it is run once more, where the domain checks see the other write.
        """
        key: str | None = None
        digest = ""
        if idempotency_key is not None:
            key = idempotency_key.strip()
            if not key or len(key) > 100:
                raise Invalid("idempotency_key", "must be 1 to 100 characters")
            digest = hashlib.sha256(operation.encode() + b"|" + msgspec.json.encode(request)).hexdigest()
        for attempt in (1, 2):
            try:
                async with self._db.session() as s:
                    if key is None:
                        return await work(s)
                    stored = await s.get(m.IdempotencyRecord, key)
                    if stored is not None:
                        return self._replay(stored, operation, digest, result_type)
                    result = await work(s)
                    s.add(
                        m.IdempotencyRecord(
                            key=key,
                            operation=operation,
                            request_hash=digest,
                            response=msgspec.json.encode(result).decode(),
                            created_at=self._now(),
                        )
                    )
                    await s.flush()
                    return result
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _replay(stored: m.IdempotencyRecord, operation: str, digest: str, result_type: Any) -> Any:
        if stored.operation != operation or stored.request_hash != digest:
            raise Invalid("idempotency_key", "was already used for a different request")
        result = msgspec.json.decode(stored.response, type=result_type)
        if isinstance(result, msgspec.Struct) and "replayed" in result.__struct_fields__:
            result = msgspec.structs.replace(result, replayed=True)
        return result

    @staticmethod
    async def _get(s: AsyncSession, model: type[T], ident: str, kind: str, *, lock: bool = False) -> T:
        row = await s.get(model, ident, with_for_update=lock)
        if row is None:
            raise NotFound(kind, ident)
        return row

    # ===============================================================================================
    # view builders

    @staticmethod
    def _sa_view(sa: m.ServiceAgreement) -> p.ServiceAgreementView:
        return p.ServiceAgreementView(
            sa_id=sa.id,
            account_id=sa.account_id,
            premise_id=sa.premise_id,
            sp_id=sa.sp_id,
            sa_type=sa.sa_type,
            status=str(sa.status),
            status_label=codes.SA_STATUS_LABELS[sa.status],
            start_date=sa.start_date,
            end_date=sa.end_date,
            rate_schedule=sa.rate_schedule,
            zone=sa.zone,
            final_billed=sa.final_billed,
        )

    @staticmethod
    def _read_view(r: m.MeterRead) -> p.ReadView:
        return p.ReadView(
            read_id=r.id,
            meter_id=r.meter_id,
            read_at=r.read_at,
            read_on=local_date(r.read_at),
            reading=r.reading,
            read_type=r.read_type,
            read_type_name=ReadType(r.read_type).name.lower(),
            use_on_bill=r.use_on_bill,
            source=r.source,
            high_low=r.high_low,
            remarks=r.remarks,
            register=codes.FLOW_OF_REGISTER[r.register_seq],
        )

    @staticmethod
    def _person_address(person: m.Person) -> p.Address:
        return p.Address(
            line1=person.mail_line1,
            line2=person.mail_line2,
            city=person.mail_city,
            state=person.mail_state,
            zip=person.mail_zip,
        )

    @staticmethod
    def _premise_address(premise: m.Premise) -> p.Address:
        return p.Address(
            line1=premise.line1, line2=premise.line2, city=premise.city, state=premise.state, zip=premise.zip
        )

    @staticmethod
    def _adjustment_view(a: m.Adjustment) -> p.AdjustmentView:
        return p.AdjustmentView(
            adjustment_id=a.id,
            sa_id=a.sa_id,
            account_id=a.account_id,
            adjustment_type=a.adjustment_type,
            amount_cents=a.amount_cents,
            status=str(a.status),
            reason=a.reason,
            approved_by=a.approved_by,
            cancel_reason=a.cancel_reason,
        )

    @staticmethod
    def _fa_view(fa: m.FieldActivity) -> p.FieldActivityView:
        return p.FieldActivityView(
            field_activity_id=fa.id,
            fa_type=fa.fa_type,
            priority=fa.priority,
            status=str(fa.status),
            premise_id=fa.premise_id,
            sp_id=fa.sp_id,
            sa_id=fa.sa_id,
            case_id=fa.case_id,
            scheduled_on=fa.scheduled_on,
            instructions=fa.instructions,
            read_id=fa.read_id,
            remarks=fa.remarks,
        )

    @staticmethod
    def _todo_view(t: m.ToDo) -> p.ToDoView:
        return p.ToDoView(
            todo_id=t.id,
            role=t.role,
            todo_type=t.todo_type,
            priority=t.priority,
            message=t.message,
            related_kind=t.related_kind,
            related_id=t.related_id,
            status=str(t.status),
            assigned_to=t.assigned_to,
            created_at=t.created_at,
        )

    @staticmethod
    def _contact_view(c: m.CustomerContact) -> p.CustomerContactView:
        return p.CustomerContactView(
            contact_id=c.id,
            contact_class=c.contact_class,
            contact_type=c.contact_type,
            entity=c.entity,
            person_id=c.person_id,
            account_id=c.account_id,
            premise_id=c.premise_id,
            method=c.method,
            status=str(c.status),
            log_text=c.log_text,
            created_by=c.created_by,
            created_at=c.created_at,
        )

    @staticmethod
    def _alert_view(a: m.Alert) -> p.AlertView:
        return p.AlertView(
            alert_id=a.id,
            account_id=a.account_id,
            alert_type=a.alert_type,
            text=a.text,
            starts_on=a.starts_on,
            expires_on=a.expires_on,
        )

    async def _premise_view(self, s: AsyncSession, premise: m.Premise) -> p.PremiseView:
        sps = (
            (await s.execute(select(m.ServicePoint).where(m.ServicePoint.premise_id == premise.id)))
            .scalars()
            .all()
        )
        points: list[p.ServicePointView] = []
        for sp in sorted(sps, key=lambda x: x.service):
            meter = await self._current_meter(s, sp.id)
            flows = [] if meter is None else await self._register_flows(s, meter.id)
            points.append(
                p.ServicePointView(
                    sp_id=sp.id,
                    service=sp.service,
                    connected=sp.connected,
                    meter=None
                    if meter is None
                    else p.MeterView(
                        meter_id=meter.id,
                        badge_number=meter.badge_number,
                        meter_type=meter.meter_type,
                        service=meter.service,
                        unit=meter.unit,
                        register_digits=meter.register_digits,
                        registers=tuple(flows) or (codes.REGISTER_DELIVERED,),
                    ),
                )
            )
        return p.PremiseView(
            premise_id=premise.id,
            premise_type=premise.premise_type,
            address=self._premise_address(premise),
            service_area_code=premise.service_area_code,
            electric_zone=premise.electric_zone,
            water_temperature_zone=premise.water_temperature_zone,
            lot_size_sqft=premise.lot_size_sqft,
            gate_code=premise.gate_code,
            has_dog=premise.has_dog,
            hazards=premise.hazards,
            reader_notes=premise.reader_notes,
            service_points=points,
        )

    async def _person_view(self, s: AsyncSession, person: m.Person) -> p.PersonView:
        accounts = (
            await s.scalars(select(m.AccountPerson.account_id).where(m.AccountPerson.person_id == person.id))
        ).all()
        return p.PersonView(
            person_id=person.id,
            first_name=person.first_name,
            last_name=person.last_name,
            phone=person.phone,
            alt_phone=person.alt_phone,
            email=person.email,
            mailing_address=self._person_address(person),
            language=person.language,
            life_support=person.life_support,
            has_access_code=person.access_code_hash is not None,
            has_ssn_last4=person.ssn_last4_hash is not None,
            account_ids=sorted(accounts),
        )

    async def _segment_view(self, s: AsyncSession, seg: m.BillSegment) -> p.BillSegmentView:
        sa = await self._get(s, m.ServiceAgreement, seg.sa_id, "service_agreement")
        return self._segment_view_for(seg, sa.sa_type)

    @staticmethod
    def _segment_view_for(seg: m.BillSegment, sa_type: str) -> p.BillSegmentView:
        unit = seg.calc.get("unit") if seg.calc else None
        return p.BillSegmentView(
            bill_segment_id=seg.id,
            bill_id=seg.bill_id,
            sa_id=seg.sa_id,
            sa_type=sa_type,
            status=str(seg.status),
            period_start=seg.period_start,
            period_end=seg.period_end,
            start_reading=seg.start_reading,
            end_reading=seg.end_reading,
            estimated=seg.estimated,
            quantity=seg.quantity,
            unit=unit,
            tier_quantities=list(seg.tier_quantities),
            amount_cents=seg.amount_cents,
            rebill_of=seg.rebill_of,
        )

    async def _bill_view(self, s: AsyncSession, bill: m.Bill) -> p.BillView:
        rows = (
            await s.execute(
                select(m.BillSegment, m.ServiceAgreement.sa_type)
                .join(m.ServiceAgreement, m.ServiceAgreement.id == m.BillSegment.sa_id)
                .where(m.BillSegment.bill_id == bill.id)
                .order_by(m.BillSegment.created_at, m.BillSegment.id)
            )
        ).all()
        segments = sorted(
            (self._segment_view_for(seg, sa_type) for seg, sa_type in rows),
            key=lambda v: (SA_TYPE_ORDER.get(v.sa_type, 9), v.rebill_of is not None, v.bill_segment_id),
        )
        return p.BillView(
            bill_id=bill.id,
            account_id=bill.account_id,
            status=str(bill.status),
            bill_date=bill.bill_date,
            due_date=bill.due_date,
            is_final=bill.is_final,
            previous_balance_cents=bill.previous_balance_cents,
            payments_cents=bill.payments_cents,
            adjustments_cents=bill.adjustments_cents,
            current_charges_cents=bill.current_charges_cents,
            amount_due_cents=bill.amount_due_cents,
            segments=segments,
            corrected=any(v.status == codes.BsegStatus.CANCELED for v in segments),
        )

    async def _case_view(self, s: AsyncSession, case: m.Case) -> p.CaseView:
        ctype = codes.CASE_TYPES[case.case_type]
        log = (
            await s.scalars(select(m.CaseLog).where(m.CaseLog.case_id == case.id).order_by(m.CaseLog.seq))
        ).all()
        return p.CaseView(
            case_id=case.id,
            case_type=case.case_type,
            status=str(case.status),
            final=case.status in ctype.final,
            allowed_next=sorted(ctype.transitions.get(case.status, frozenset())),
            account_id=case.account_id,
            person_id=case.person_id,
            premise_id=case.premise_id,
            contact_id=case.contact_id,
            meter_id=case.meter_id,
            summary=case.summary,
            log=[
                p.CaseLogEntry(
                    seq=e.seq,
                    status=str(e.status),
                    note=e.note,
                    created_by=e.created_by,
                    created_at=e.created_at,
                )
                for e in log
            ],
        )

    async def _payment_result(self, s: AsyncSession, payment: m.Payment) -> p.PaymentResult:
        tenders = (
            await s.scalars(
                select(m.Tender)
                .where(m.Tender.payment_event_id == payment.payment_event_id)
                .order_by(m.Tender.id)
            )
        ).all()
        segs = (
            await s.scalars(
                select(m.PaySegment).where(m.PaySegment.payment_id == payment.id).order_by(m.PaySegment.id)
            )
        ).all()
        ledger = await self._ledger(s, payment.account_id)
        return p.PaymentResult(
            payment_event_id=payment.payment_event_id,
            payment_id=payment.id,
            account_id=payment.account_id,
            amount_cents=payment.amount_cents,
            status=str(payment.status),
            tenders=[
                p.TenderView(
                    tender_id=t.id,
                    tender_type=t.tender_type,
                    amount_cents=t.amount_cents,
                    status=str(t.status),
                    check_number=t.check_number,
                    masked_pan=t.masked_pan,
                    card_brand=t.card_brand,
                    tender_control_id=t.tender_control_id,
                )
                for t in tenders
            ],
            distribution=[p.PaySegmentView(sa_id=x.sa_id, amount_cents=x.amount_cents) for x in segs],
            balance_cents=balance_cents(ledger),
        )

    async def _tender_control_view(self, s: AsyncSession, tc: m.TenderControl) -> p.TenderControlView:
        return p.TenderControlView(
            tender_control_id=tc.id,
            csr=tc.csr,
            status=str(tc.status),
            starting_float_cents=tc.starting_float_cents,
            tenders_cents=await self._drawer_tenders(s, tc.id),
            expected_cents=tc.expected_cents,
            counted_cents=tc.counted_cents,
            over_under_cents=tc.over_under_cents,
            deposit_control_id=tc.deposit_control_id,
        )

    async def _pay_plan_view(self, s: AsyncSession, plan: m.PayPlan) -> p.PayPlanView:
        rows = (
            await s.scalars(
                select(m.PayPlanInstallment)
                .where(m.PayPlanInstallment.pay_plan_id == plan.id)
                .order_by(m.PayPlanInstallment.seq)
            )
        ).all()
        return p.PayPlanView(
            pay_plan_id=plan.id,
            account_id=plan.account_id,
            status=str(plan.status),
            total_cents=plan.total_cents,
            cadence=plan.cadence,
            missed_installments=plan.missed_installments,
            third_party_payor_account_id=plan.third_party_payor_account_id,
            installments=[
                p.InstallmentView(
                    seq=i.seq, due_date=i.due_date, amount_cents=i.amount_cents, status=i.status
                )
                for i in rows
            ],
        )

    # ===============================================================================================
    # shared queries

    async def _ledger(self, s: AsyncSession, account_id: str) -> list[LedgerEntry]:
        """The account's frozen FTs in posting order, each marked when a reversing FT cancels it."""
        ft = m.FinancialTransaction
        rows = (
            await s.execute(
                select(ft.id, ft.sa_id, ft.ft_type, ft.amount_cents, ft.arrears_date, ft.cancels_ft_id)
                .where(ft.account_id == account_id, ft.frozen.is_(True))
                .order_by(ft.created_at, ft.id)
            )
        ).all()
        canceled = {r.cancels_ft_id for r in rows if r.cancels_ft_id is not None}
        return [
            LedgerEntry(r.id, r.sa_id, r.ft_type, r.amount_cents, r.arrears_date, r.id in canceled)
            for r in rows
        ]

    async def _account_sas(self, s: AsyncSession, account_id: str) -> list[m.ServiceAgreement]:
        rows = (
            await s.scalars(select(m.ServiceAgreement).where(m.ServiceAgreement.account_id == account_id))
        ).all()
        return sorted(rows, key=lambda sa: (SA_TYPE_ORDER.get(sa.sa_type, 9), sa.start_date, sa.id))

    async def _current_meter(self, s: AsyncSession, sp_id: str) -> m.Meter | None:
        install = await s.scalar(
            select(m.MeterInstall)
            .where(m.MeterInstall.sp_id == sp_id, m.MeterInstall.removed_at.is_(None))
            .order_by(m.MeterInstall.installed_at.desc())
            .limit(1)
        )
        if install is None:
            return None
        return await s.get(m.Meter, install.meter_id)

    async def _meter_sp(self, s: AsyncSession, meter_id: str) -> m.ServicePoint | None:
        install = await s.scalar(
            select(m.MeterInstall)
            .where(m.MeterInstall.meter_id == meter_id, m.MeterInstall.removed_at.is_(None))
            .order_by(m.MeterInstall.installed_at.desc())
            .limit(1)
        )
        return None if install is None else await s.get(m.ServicePoint, install.sp_id)

    async def _sp_sa(self, s: AsyncSession, sp_id: str) -> m.ServiceAgreement | None:
        """The SA serving an SP now: an open one if any, else the most recently started."""
        rows = (await s.scalars(select(m.ServiceAgreement).where(m.ServiceAgreement.sp_id == sp_id))).all()
        if not rows:
            return None
        open_ = [sa for sa in rows if sa.status in codes.OPEN_SA_STATUSES]
        pool = open_ or rows
        return max(pool, key=lambda sa: (sa.start_date, sa.created_at, sa.id))

    async def _meter_reads(
        self, s: AsyncSession, meter_id: str, register_seq: int = DELIVERED
    ) -> list[m.MeterRead]:
        """One register's reads in time order (the delivered register unless told otherwise)."""
        return list(
            (
                await s.scalars(
                    select(m.MeterRead)
                    .where(m.MeterRead.meter_id == meter_id, m.MeterRead.register_seq == register_seq)
                    .order_by(m.MeterRead.read_at, m.MeterRead.created_at, m.MeterRead.id)
                )
            ).all()
        )

    @staticmethod
    async def _register_flows(s: AsyncSession, meter_id: str) -> list[codes.RegisterFlow]:
        seqs = await s.scalars(
            select(m.Register.seq).where(m.Register.meter_id == meter_id).order_by(m.Register.seq)
        )
        return [codes.FLOW_OF_REGISTER[seq] for seq in seqs.all()]

    @staticmethod
    async def _is_net_meter(s: AsyncSession, meter_id: str) -> bool:
        return await s.get(m.Register, (meter_id, RECEIVED)) is not None

    @staticmethod
    async def _received_with(s: AsyncSession, read: m.MeterRead) -> m.MeterRead | None:
        """The received register's reading taken with the delivered ``read`` (same meter, same time).

        Every path that writes a delivered read on a net meter writes its received partner
        (``_add_received``), so the pair normally exists; should it not, the newest received reading before
        it stands in.
        """
        return await s.scalar(
            select(m.MeterRead)
            .where(
                m.MeterRead.meter_id == read.meter_id,
                m.MeterRead.register_seq == RECEIVED,
                m.MeterRead.reading.is_not(None),
                m.MeterRead.read_at <= read.read_at,
            )
            .order_by(
                m.MeterRead.read_at.desc(), m.MeterRead.use_on_bill.desc(), m.MeterRead.created_at.desc()
            )
            .limit(1)
        )

    @staticmethod
    def _as_rule_reads(rows: Iterable[m.MeterRead]) -> list[MeterRead]:
        return [
            MeterRead(local_date(r.read_at), r.reading, ReadType(r.read_type), r.use_on_bill) for r in rows
        ]

    def _transition(self, sa: m.ServiceAgreement, action: str) -> str:
        target = codes.sa_next_status(sa.status, action)
        if target is None:
            raise IllegalTransition(
                "service_agreement", sa.id, sa.status, action, codes.SA_STATUS_LABELS.get(sa.status)
            )
        sa.status = target
        sa.updated_at = self._now()
        return target

    def _service_event(self, sa: m.ServiceAgreement) -> ev.ServiceChanged:
        return ev.ServiceChanged(
            account_id=sa.account_id,
            sa_id=sa.id,
            premise_id=sa.premise_id,
            sa_type=sa.sa_type,
            status=str(sa.status),
        )

    def _add_ft(
        self,
        s: AsyncSession,
        *,
        account_id: str,
        sa_id: str,
        ft_type: str,
        parent_id: str,
        amount_cents: int,
        frozen: bool = True,
        cancels: str | None = None,
        arrears_date: dt.date | None = None,
        bill_id: str | None = None,
    ) -> m.FinancialTransaction:
        ft = m.FinancialTransaction(
            id=self._ids.ft_id(),
            account_id=account_id,
            sa_id=sa_id,
            ft_type=ft_type,
            parent_id=parent_id,
            amount_cents=amount_cents,
            frozen=frozen,
            cancels_ft_id=cancels,
            accounting_date=self._today(),
            arrears_date=arrears_date,
            bill_id=bill_id,
            created_at=self._now(),
        )
        s.add(ft)
        return ft

    async def _ft_of(self, s: AsyncSession, parent_id: str, ft_type: str) -> m.FinancialTransaction | None:
        return await s.scalar(
            select(m.FinancialTransaction).where(
                m.FinancialTransaction.parent_id == parent_id, m.FinancialTransaction.ft_type == ft_type
            )
        )

    # ===============================================================================================
    # reads of the port

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

    async def get_person(self, person_id: str) -> p.PersonView:
        async with self._db.read() as s:
            return await self._person_view(s, await self._get(s, m.Person, person_id, "person"))

    async def get_premise(self, premise_id: str) -> p.PremiseView:
        async with self._db.read() as s:
            return await self._premise_view(s, await self._get(s, m.Premise, premise_id, "premise"))

    async def get_service_agreement(self, sa_id: str) -> p.ServiceAgreementView:
        async with self._db.read() as s:
            return self._sa_view(await self._get(s, m.ServiceAgreement, sa_id, "service_agreement"))

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

    async def get_bill(self, bill_id: str) -> p.BillView:
        async with self._db.read() as s:
            return await self._bill_view(s, await self._get(s, m.Bill, bill_id, "bill"))

    async def list_bills(self, account_id: str, limit: int = 6) -> list[p.BillView]:
        if limit < 1 or limit > 100:
            raise Invalid("limit", "must be between 1 and 100")
        async with self._db.read() as s:
            await self._get(s, m.Account, account_id, "account")
            bills = (
                await s.scalars(
                    select(m.Bill)
                    .where(m.Bill.account_id == account_id)
                    .order_by(m.Bill.bill_date.desc(), m.Bill.created_at.desc())
                    .limit(limit)
                )
            ).all()
            return [await self._bill_view(s, b) for b in bills]

    async def bill_explanation(self, bill_id: str) -> p.BillExplanation:
        async with self._db.read() as s:
            bill = await self._get(s, m.Bill, bill_id, "bill")
            view = await self._bill_view(s, bill)
            segs = {
                seg.id: seg
                for seg in (
                    await s.scalars(select(m.BillSegment).where(m.BillSegment.bill_id == bill_id))
                ).all()
            }
        money = format_cents
        lines = [
            f"Bill {bill.id} dated {bill.bill_date.isoformat()}, due {bill.due_date.isoformat()}.",
            f"Previous balance {money(bill.previous_balance_cents)}; "
            f"payments {money(bill.payments_cents)}; adjustments {money(bill.adjustments_cents)}; "
            f"current charges {money(bill.current_charges_cents)}.",
            f"Amount due {money(bill.amount_due_cents)}.",
        ]
        explained: list[p.SegmentExplanation] = []
        for v in view.segments:
            seg = segs[v.bill_segment_id]
            calc = seg.calc or {}
            head = (
                f"{codes.SA_TYPES[v.sa_type].description}: {v.period_start.isoformat()} to "
                f"{v.period_end.isoformat()}"
            )
            seg_lines = [head]
            if "net_metering" in calc:
                # The register lines, the net and the credit lead the stored explanation (billing.py).
                seg_lines.append(f"Net-metered ({'estimated' if v.estimated else 'actual'} reads):")
            elif v.start_reading is not None and v.end_reading is not None:
                kind = "estimated" if v.estimated else "actual"
                seg_lines.append(
                    f"Meter {v.start_reading} -> {v.end_reading} ({kind} read) = "
                    f"{v.quantity} {calc.get('unit', '')}"
                    + (" (the dials rolled over)" if calc.get("rolled_over") else "")
                )
            seg_lines.extend(calc.get("explain", []))
            if v.status == codes.BsegStatus.CANCELED:
                seg_lines.append(f"Canceled: {seg.cancel_reason or 'no reason given'}")
            if v.rebill_of:
                seg_lines.append(f"Rebill of segment {v.rebill_of}")
            explained.append(
                p.SegmentExplanation(
                    bill_segment_id=v.bill_segment_id,
                    sa_type=v.sa_type,
                    status=str(v.status),
                    illustrative=bool(calc.get("illustrative", False)),
                    lines=seg_lines,
                )
            )
        return p.BillExplanation(bill_id=bill_id, lines=lines, segments=explained)

    async def list_reads(self, meter_id: str, register: p.RegisterFlow = "delivered") -> list[p.ReadView]:
        seq = codes.REGISTER_FLOWS.get(register)
        if seq is None:
            raise Invalid("register", f"must be one of {sorted(codes.REGISTER_FLOWS)}")
        async with self._db.read() as s:
            await self._get(s, m.Meter, meter_id, "meter")
            if await s.get(m.Register, (meter_id, seq)) is None:
                raise Invalid("register", f"meter {meter_id} has no {register} register")
            return [self._read_view(r) for r in await self._meter_reads(s, meter_id, seq)]

    async def get_net_metering(self, account_id: str, limit: int = 6) -> p.NetMeteringView | None:
        """The account's net-metered SA (an open one first, else the latest) and its frozen segments."""
        if limit < 1 or limit > 24:
            raise Invalid("limit", "must be between 1 and 24")
        async with self._db.read() as s:
            await self._get(s, m.Account, account_id, "account")
            nem = [
                sa for sa in await self._account_sas(s, account_id) if codes.SA_TYPES[sa.sa_type].net_metered
            ]
            if not nem:
                return None
            sa = max(
                nem, key=lambda x: (x.status in codes.OPEN_SA_STATUSES, x.start_date, x.created_at, x.id)
            )
            meter = await self._current_meter(s, sa.sp_id) if sa.sp_id is not None else None
            rows = (
                await s.execute(
                    select(m.BillSegment, m.Bill.bill_date)
                    .join(m.Bill, m.Bill.id == m.BillSegment.bill_id)
                    .where(m.BillSegment.sa_id == sa.id, m.BillSegment.status == codes.BsegStatus.FROZEN)
                    .order_by(m.BillSegment.period_end.desc(), m.BillSegment.created_at.desc())
                    .limit(limit)
                )
            ).all()
        periods = [
            period
            for seg, bill_date in rows
            if (period := self._net_metering_period(seg, bill_date)) is not None
        ]
        return p.NetMeteringView(
            account_id=account_id,
            sa_id=sa.id,
            sa_type=sa.sa_type,
            sa_status=str(sa.status),
            sa_status_label=codes.SA_STATUS_LABELS[sa.status],
            rate_schedule=sa.rate_schedule,
            zone=sa.zone,
            premise_id=sa.premise_id,
            meter_id=meter.id if meter is not None else None,
            badge_number=meter.badge_number if meter is not None else None,
            credit_bank_kwh=periods[0].credit_out_kwh if periods else "0.00",
            periods=periods,
        )

    @staticmethod
    def _net_metering_period(seg: m.BillSegment, bill_date: dt.date) -> p.NetMeteringPeriod | None:
        calc = seg.calc or {}
        block = calc.get("net_metering")
        if not block:
            return None  # billed before the SA was net-metered: nothing to explain in these terms
        return p.NetMeteringPeriod(
            bill_id=seg.bill_id,
            bill_date=bill_date,
            bill_segment_id=seg.id,
            period_start=seg.period_start,
            period_end=seg.period_end,
            days=int(calc["days"]),
            zone=str(calc["zone"]),
            estimated=seg.estimated,
            delivered_start_reading=int(block["delivered_start_reading"]),
            delivered_end_reading=int(block["delivered_end_reading"]),
            received_start_reading=int(block["received_start_reading"]),
            received_end_reading=int(block["received_end_reading"]),
            delivered_kwh=block["delivered_kwh"],
            received_kwh=block["received_kwh"],
            net_kwh=block["net_kwh"],
            credit_in_kwh=block["credit_in_kwh"],
            credit_used_kwh=block["credit_used_kwh"],
            billed_kwh=block["billed_kwh"],
            credit_earned_kwh=block["credit_earned_kwh"],
            credit_out_kwh=block["credit_out_kwh"],
            credit_forfeited_kwh=block["credit_forfeited_kwh"],
            tier_kwh=list(seg.tier_quantities),
            tier_lines=[
                p.NetMeteringTierLine(
                    start=dt.date.fromisoformat(line["start"]),
                    end=dt.date.fromisoformat(line["end"]),
                    season=line["season"],
                    tier=int(line["tier"]),
                    kwh=line["quantity"],
                    unit_price=line["unit_price"],
                    amount_cents=int(line["amount_cents"]),
                )
                for line in calc.get("lines", [])
            ],
            charges=[
                p.NetMeteringCharge(
                    name=c["name"], description=c["description"], amount_cents=c["amount_cents"]
                )
                for c in calc.get("charges", [])
            ],
            energy_cents=int(calc["usage_cents"]),
            charges_cents=int(calc["charges_cents"]),
            amount_cents=seg.amount_cents,
            lines=list(calc.get("explain", [])),
        )

    async def get_adjustment(self, adjustment_id: str) -> p.AdjustmentView:
        async with self._db.read() as s:
            return self._adjustment_view(await self._get(s, m.Adjustment, adjustment_id, "adjustment"))

    async def get_payment(self, payment_id: str) -> p.PaymentResult:
        async with self._db.read() as s:
            return await self._payment_result(s, await self._get(s, m.Payment, payment_id, "payment"))

    async def get_tender_control(self, tender_control_id: str) -> p.TenderControlView:
        async with self._db.read() as s:
            tc = await self._get(s, m.TenderControl, tender_control_id, "tender_control")
            return await self._tender_control_view(s, tc)

    async def get_pay_plan(self, pay_plan_id: str) -> p.PayPlanView:
        async with self._db.read() as s:
            return await self._pay_plan_view(s, await self._get(s, m.PayPlan, pay_plan_id, "pay_plan"))

    async def list_customer_contacts(self, account_id: str) -> list[p.CustomerContactView]:
        async with self._db.read() as s:
            await self._get(s, m.Account, account_id, "account")
            rows = (
                await s.scalars(
                    select(m.CustomerContact)
                    .where(m.CustomerContact.account_id == account_id)
                    .order_by(m.CustomerContact.created_at.desc(), m.CustomerContact.id)
                )
            ).all()
            return [self._contact_view(c) for c in rows]

    async def list_premise_notes(self, premise_id: str) -> list[p.PremiseNoteView]:
        async with self._db.read() as s:
            await self._get(s, m.Premise, premise_id, "premise")
            rows = (
                await s.scalars(
                    select(m.PremiseNote)
                    .where(m.PremiseNote.premise_id == premise_id)
                    .order_by(m.PremiseNote.created_at.desc(), m.PremiseNote.id)
                )
            ).all()
        return [
            p.PremiseNoteView(
                note_id=n.id,
                premise_id=n.premise_id,
                text=n.text,
                created_by=n.created_by,
                created_at=n.created_at,
            )
            for n in rows
        ]

    async def get_case(self, case_id: str) -> p.CaseView:
        async with self._db.read() as s:
            return await self._case_view(s, await self._get(s, m.Case, case_id, "case"))

    async def get_field_activity(self, field_activity_id: str) -> p.FieldActivityView:
        async with self._db.read() as s:
            return self._fa_view(await self._get(s, m.FieldActivity, field_activity_id, "field_activity"))

    async def list_todos(self, role: str | None = None, status: str | None = None) -> list[p.ToDoView]:
        if status is not None and status not in set(codes.ToDoStatus):
            raise Invalid("status", "must be O, W or C")
        query = select(m.ToDo)
        if role is not None:
            query = query.where(m.ToDo.role == role)
        if status is not None:
            query = query.where(m.ToDo.status == status)
        async with self._db.read() as s:
            rows = (await s.scalars(query.order_by(m.ToDo.priority, m.ToDo.created_at, m.ToDo.id))).all()
            return [self._todo_view(t) for t in rows]

    # ===============================================================================================
    # identity verification (rules §4.2, §4.3)

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
            # The account's override wins over the main customer's address (ccb-domain.md §1.3).
            account.mail_line1 = redact(address.line1)[:120]
            account.mail_line2 = redact(address.line2)[:120] if address.line2 else None
            account.mail_city = address.city[:60]
            account.mail_state = address.state
            account.mail_zip = address.zip
            await s.flush()
            return await self._summary(s, account.id)

        return await self._write("set_mailing_address", request, idempotency_key, p.AccountSummary, work)

    # ===============================================================================================
    # customers and premises

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
                premise.hazards = _text(request.hazards, "hazards", required=False) or None
            if request.reader_notes is not None:
                premise.reader_notes = _text(request.reader_notes, "reader_notes", required=False) or None
            premise.access_updated_at = self._now()
            return await self._premise_view(s, premise)

        return await self._write("set_property_access", request, idempotency_key, p.PremiseView, work)

    # ===============================================================================================
    # service lifecycle (§1.5, §1.6)

    async def start_service(
        self, request: p.StartService, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.StartServiceResult:
        async def work(s: AsyncSession) -> p.StartServiceResult:
            await self._get(s, m.Account, request.account_id, "account", lock=True)
            premise = await self._get(s, m.Premise, request.premise_id, "premise")
            if not request.services or len(set(request.services)) != len(request.services):
                raise Invalid("services", "must list each service once")
            sps = {
                sp.service: sp
                for sp in (
                    await s.scalars(select(m.ServicePoint).where(m.ServicePoint.premise_id == premise.id))
                ).all()
            }
            now = self._now()
            views: list[p.ServiceAgreementView] = []
            fa_ids: list[str] = []
            for service in request.services:
                sp = sps.get(service)
                if sp is None:
                    raise Invalid("services", f"the premise has no {service} service point")
                current = await self._sp_sa(s, sp.id)
                if current is not None and current.status in codes.OPEN_SA_STATUSES:
                    raise Invalid(
                        "services",
                        f"{service} service at this premise is already on SA {current.id} "
                        f"({codes.SA_STATUS_LABELS[current.status]}); stop it first",
                    )
                sa_type = codes.SA_TYPES[SERVICE_SA_TYPE[service]]
                meter = await self._current_meter(s, sp.id)
                if service == "electric" and meter is not None and await self._is_net_meter(s, meter.id):
                    # A net meter's received register only bills on a net-metered SA (§4.1).
                    sa_type = codes.SA_TYPES[codes.NET_METERED_SA_TYPE]
                sa = m.ServiceAgreement(
                    id=self._ids.sa_id(),
                    account_id=request.account_id,
                    premise_id=premise.id,
                    sp_id=sp.id,
                    sa_type=sa_type.code,
                    status=codes.SaStatus.PENDING_START,
                    start_date=request.start_date,
                    rate_schedule=sa_type.rate_schedule,
                    zone=premise.electric_zone if service == "electric" else premise.water_temperature_zone,
                    final_billed=False,
                    created_at=now,
                    updated_at=now,
                )
                s.add(sa)
                await s.flush()
                # §1.6: the start creates one FA per affected SP; completing it supplies the start read.
                fa = self._new_fa(
                    "START", premise.id, actor, sp_id=sp.id, sa_id=sa.id, scheduled_on=request.start_date
                )
                self._add_fa(s, fa, actor)
                fa_ids.append(fa.id)
                views.append(self._sa_view(sa))
                self._emit(s, "hub.ccb.service.start_requested", self._service_event(sa), actor)
            return p.StartServiceResult(
                account_id=request.account_id,
                premise_id=premise.id,
                service_agreements=views,
                field_activity_ids=fa_ids,
            )

        return await self._write("start_service", request, idempotency_key, p.StartServiceResult, work)

    async def cancel_start(
        self, request: p.CancelStart, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.ServiceAgreementView:
        async def work(s: AsyncSession) -> p.ServiceAgreementView:
            sa = await self._get(s, m.ServiceAgreement, request.sa_id, "service_agreement", lock=True)
            self._transition(sa, "cancel_start")
            await self._cancel_pending_fas(s, sa.id, "START", "start canceled")
            return self._sa_view(sa)

        return await self._write("cancel_start", request, idempotency_key, p.ServiceAgreementView, work)

    async def stop_service(
        self, request: p.StopService, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.ServiceAgreementView:
        async def work(s: AsyncSession) -> p.ServiceAgreementView:
            sa = await self._get(s, m.ServiceAgreement, request.sa_id, "service_agreement", lock=True)
            if sa.sp_id is None or sa.premise_id is None:
                raise Invalid("sa_id", f"SA type {sa.sa_type} is not a metered service and is not stopped")
            self._transition(sa, "stop")
            if request.stop_date < sa.start_date:
                raise Invalid("stop_date", "must not be before the SA's start date")
            sa.end_date = request.stop_date
            if request.stop_reading is not None:
                meter = await self._current_meter(s, sa.sp_id)
                if meter is None:
                    raise Invalid("sa_id", "the service point has no meter")
                read = self._new_read(
                    meter,
                    local_time(request.stop_date),
                    request.stop_reading,
                    ReadType.CUSTOMER_READ,
                    source="customer",
                    actor=actor,
                    field="stop_reading",
                )
                s.add(read)
                await s.flush()
                await self._add_received(s, meter, read, None, actor)
                sa.stop_read_id = read.id
            self._add_fa(
                s,
                self._new_fa(
                    "STOP", sa.premise_id, actor, sp_id=sa.sp_id, sa_id=sa.id, scheduled_on=request.stop_date
                ),
                actor,
            )
            self._emit(s, "hub.ccb.service.stop_requested", self._service_event(sa), actor)
            return self._sa_view(sa)

        return await self._write("stop_service", request, idempotency_key, p.ServiceAgreementView, work)

    async def cancel_stop(
        self, request: p.CancelStop, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.ServiceAgreementView:
        async def work(s: AsyncSession) -> p.ServiceAgreementView:
            sa = await self._get(s, m.ServiceAgreement, request.sa_id, "service_agreement", lock=True)
            self._transition(sa, "cancel_stop")
            sa.end_date = None
            sa.stop_read_id = None
            await self._cancel_pending_fas(s, sa.id, "STOP", "stop canceled")
            return self._sa_view(sa)

        return await self._write("cancel_stop", request, idempotency_key, p.ServiceAgreementView, work)

    async def restore_service(
        self, request: p.RestoreService, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.ServiceAgreementView:
        async def work(s: AsyncSession) -> p.ServiceAgreementView:
            sa = await self._get(s, m.ServiceAgreement, request.sa_id, "service_agreement", lock=True)
            reason = _text(request.reason, "reason", limit=200)
            self._transition(sa, "restore")
            if sa.end_date is not None and request.restore_date < sa.end_date:
                raise Invalid("restore_date", "must not be before the stop date")
            # Billing resumes from the stop read: the last segment ends there (§1.4 start read rule (c)).
            sa.end_date = None
            sa.stop_read_id = None
            sa.final_billed = False
            if sa.premise_id is not None:
                self._add_fa(
                    s,
                    self._new_fa(
                        "RECONNECT",
                        sa.premise_id,
                        actor,
                        sp_id=sa.sp_id,
                        sa_id=sa.id,
                        scheduled_on=request.restore_date,
                        instructions=reason,
                    ),
                    actor,
                )
            self._emit(s, "hub.ccb.service.restored", self._service_event(sa), actor)
            return self._sa_view(sa)

        return await self._write("restore_service", request, idempotency_key, p.ServiceAgreementView, work)

    async def activate_due(self, today: dt.date, *, actor: str = "batch:SAACT") -> list[str]:
        """Activate pending-start SAs whose start date has come (CCB batch ``SAACT``, §1.5).

        The start read is the START FA's read when the field crew completed it; otherwise the meter's last
        reading on or before the start date; for a meter never read, its install reading is carried as a
        billing-computed read that is not used on bills (so it never counts as an estimate).
        """
        activated: list[str] = []
        async with self._db.session() as s:
            due = (
                await s.scalars(
                    select(m.ServiceAgreement)
                    .where(
                        m.ServiceAgreement.status == codes.SaStatus.PENDING_START,
                        m.ServiceAgreement.start_date <= today,
                    )
                    .order_by(m.ServiceAgreement.start_date, m.ServiceAgreement.id)
                    .with_for_update()
                )
            ).all()
            for sa in due:
                if sa.sp_id is not None:
                    sa.start_read_id = await self._start_read(s, sa, actor)
                self._transition(sa, "activate")
                self._emit(s, "hub.ccb.service.started", self._service_event(sa), actor)
                activated.append(sa.id)
        return activated

    async def _start_read(self, s: AsyncSession, sa: m.ServiceAgreement, actor: str) -> str | None:
        assert sa.sp_id is not None
        fa_read = await s.scalar(
            select(m.FieldActivity.read_id).where(
                m.FieldActivity.sa_id == sa.id,
                m.FieldActivity.fa_type == "START",
                m.FieldActivity.status == codes.FaStatus.COMPLETE,
                m.FieldActivity.read_id.is_not(None),
            )
        )
        if fa_read is not None:
            return str(fa_read)
        meter = await self._current_meter(s, sa.sp_id)
        if meter is None:
            return None
        last = await s.scalar(
            select(m.MeterRead)
            .where(
                m.MeterRead.meter_id == meter.id,
                m.MeterRead.register_seq == DELIVERED,
                m.MeterRead.reading.is_not(None),
                m.MeterRead.read_at < local_day_end(sa.start_date),
            )
            .order_by(m.MeterRead.read_at.desc(), m.MeterRead.created_at.desc())
            .limit(1)
        )
        if last is not None:
            return last.id
        install = await s.scalar(
            select(m.MeterInstall)
            .where(m.MeterInstall.meter_id == meter.id, m.MeterInstall.removed_at.is_(None))
            .order_by(m.MeterInstall.installed_at.desc())
            .limit(1)
        )
        carried = self._new_read(
            meter,
            local_time(sa.start_date, 0, 1),
            install.install_reading if install else 0,
            ReadType.BILLING_COMPUTED,
            source="start",
            actor=actor,
            use_on_bill=False,
            remarks="start read carried from the install reading",
        )
        s.add(carried)
        await s.flush()
        await self._add_received(s, meter, carried, None, actor)
        return carried.id

    async def finalize_due(self, today: dt.date, *, actor: str = "batch:finalize") -> list[str]:
        """Finalize pending-stop SAs whose stop date has come (30 -> 40) and final-bill them (§1.5).

        The stop read is the one given with the stop, else the STOP FA's read, else a system estimate from
        the meter's history, else the last reading carried (no consumption). The account's bill is final
        when no open SA remains on it.
        """
        finalized: list[str] = []
        async with self._db.session() as s:
            due = (
                await s.scalars(
                    select(m.ServiceAgreement)
                    .where(
                        m.ServiceAgreement.status == codes.SaStatus.PENDING_STOP,
                        m.ServiceAgreement.end_date <= today,
                    )
                    .order_by(m.ServiceAgreement.account_id, m.ServiceAgreement.id)
                    .with_for_update()
                )
            ).all()
            by_account: dict[str, list[m.ServiceAgreement]] = {}
            for sa in due:
                assert sa.end_date is not None
                if sa.stop_read_id is None and sa.sp_id is not None:
                    sa.stop_read_id = await self._stop_read(s, sa, actor)
                self._transition(sa, "finalize")
                self._emit(s, "hub.ccb.service.stopped", self._service_event(sa), actor)
                by_account.setdefault(sa.account_id, []).append(sa)
                finalized.append(sa.id)
            await s.flush()
            for account_id, sas in by_account.items():
                cut_off = max(sa.end_date for sa in sas if sa.end_date is not None)
                await self._bill(
                    s, account_id, cut_off, today, freeze=True, only={sa.id for sa in sas}, actor=actor
                )
                for sa in sas:
                    sa.final_billed = True
        return finalized

    async def _stop_read(self, s: AsyncSession, sa: m.ServiceAgreement, actor: str) -> str | None:
        assert sa.sp_id is not None and sa.end_date is not None
        fa_read = await s.scalar(
            select(m.FieldActivity.read_id).where(
                m.FieldActivity.sa_id == sa.id,
                m.FieldActivity.fa_type == "STOP",
                m.FieldActivity.status == codes.FaStatus.COMPLETE,
                m.FieldActivity.read_id.is_not(None),
            )
        )
        if fa_read is not None:
            return str(fa_read)
        meter = await self._current_meter(s, sa.sp_id)
        if meter is None:
            return None
        history = [r for r in await self._meter_reads(s, meter.id) if r.read_at < local_day_end(sa.end_date)]
        valued = [r for r in history if r.reading is not None]
        if valued and local_date(valued[-1].read_at) == sa.end_date and valued[-1].use_on_bill:
            return valued[-1].id
        last_reading = valued[-1].reading if valued else 0
        start_day = local_date(valued[-1].read_at) if valued else sa.start_date
        read_type, reading, remark = ReadType.BILLING_COMPUTED, last_reading, "stop read carried (no history)"
        if start_day < sa.end_date and last_reading is not None:
            try:
                guess = estimate_read(
                    self._as_rule_reads(history),
                    start_day,
                    sa.end_date,
                    Register(digits=meter.register_digits),
                    start_reading=last_reading,
                )
                assert guess.reading is not None
                read_type, reading, remark = (
                    ReadType.SYSTEM_ESTIMATE,
                    int(guess.reading),
                    "estimated stop read",
                )
            except ReadError:
                pass
        read = self._new_read(
            meter, local_time(sa.end_date), reading, read_type, source="system", actor=actor, remarks=remark
        )
        s.add(read)
        await s.flush()
        await self._add_received(s, meter, read, None, actor)
        return read.id

    async def _cancel_pending_fas(self, s: AsyncSession, sa_id: str, fa_type: str, remark: str) -> None:
        await s.execute(
            update(m.FieldActivity)
            .where(
                m.FieldActivity.sa_id == sa_id,
                m.FieldActivity.fa_type == fa_type,
                m.FieldActivity.status.in_([codes.FaStatus.PENDING, codes.FaStatus.HELD]),
            )
            .values(status=codes.FaStatus.CANCELED, remarks=remark)
            .execution_options(synchronize_session=False)
        )

    # ===============================================================================================
    # reads (§1.4)

    def _new_read(
        self,
        meter: m.Meter,
        read_at: dt.datetime,
        reading: int | None,
        read_type: ReadType,
        *,
        source: str,
        actor: str,
        use_on_bill: bool = True,
        remarks: str | None = None,
        field: str = "reading",
        register_seq: int = DELIVERED,
    ) -> m.MeterRead:
        if read_type is ReadType.NO_READ:
            if reading is not None:
                raise Invalid(field, "a No Read has no reading")
        else:
            if reading is None:
                raise Invalid(field, "is required for this read type")
            try:
                Register(digits=meter.register_digits).check_reading(reading)
            except ReadError as exc:
                raise Invalid(field, str(exc)) from None
        return m.MeterRead(
            id=self._ids.meter_read_id(),
            meter_id=meter.id,
            register_seq=register_seq,
            read_at=read_at,
            reading=reading,
            read_type=read_type.value,
            use_on_bill=use_on_bill,
            source=source,
            remarks=remarks,
            created_by=actor,
            created_at=self._now(),
        )

    async def add_meter_read(
        self, request: p.AddMeterRead, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.ReadResult:
        async def work(s: AsyncSession) -> p.ReadResult:
            meter = await self._get(s, m.Meter, request.meter_id, "meter")
            try:
                read_type = ReadType.from_code(request.read_type)
            except ReadError as exc:
                raise Invalid("read_type", str(exc)) from None
            read_at = _aware(request.read_at, "read_at")
            if read_at > self._now() + dt.timedelta(minutes=5):
                raise Invalid("read_at", "is in the future")
            sp = await self._meter_sp(s, meter.id)
            if sp is None:
                raise Invalid("meter_id", "the meter is not installed at a service point")
            sa = await self._sp_sa(s, sp.id)
            if sa is None:
                raise Invalid("meter_id", "no service agreement uses this meter")
            if sa.status not in codes.BILLABLE_SA_STATUSES:
                # Reads bill only on active SAs; a field crew's start/stop reads come through the FA.
                raise IllegalTransition(
                    "service_agreement", sa.id, sa.status, "add_meter_read", codes.SA_STATUS_LABELS[sa.status]
                )
            remarks = (
                _text(request.remarks, "remarks", limit=500, required=False) if request.remarks else None
            )
            history = await self._meter_reads(s, meter.id)
            read = self._new_read(
                meter,
                read_at,
                request.reading,
                read_type,
                source=request.source[:16],
                actor=actor,
                use_on_bill=request.use_on_bill,
                remarks=remarks,
            )
            register = Register(digits=meter.register_digits)
            high_low: str | None = None
            if read_type.is_measured and request.reading is not None:
                high_low = self._high_low(history, read, register)
                read.high_low = high_low
            s.add(read)
            await s.flush()
            if high_low in (HighLowStatus.HIGH.value, HighLowStatus.LOW.value):
                await self._add_todo(
                    s,
                    role="METER_READS",
                    todo_type="HIGH_LOW_READ",
                    message=(
                        f"Read {read.id} on meter {meter.badge_number} failed the high/low check ({high_low})"
                    ),
                    related_kind="meter_read",
                    related_id=read.id,
                    priority=3,
                    actor=actor,
                )
            received = await self._add_received(s, meter, read, request.received_reading, actor)
            estimate: m.MeterRead | None = None
            if read_type is ReadType.NO_READ:
                self._emit(
                    s,
                    "hub.ccb.read.access_failed",
                    ev.ReadAccessFailed(meter_id=meter.id, premise_id=sp.premise_id, read_id=read.id),
                    actor,
                )
                if request.estimate_on_no_read and request.use_on_bill:
                    estimate = self._estimate_for(history, read, meter, actor)
                    if estimate is not None:
                        s.add(estimate)
                        await s.flush()
                        received = await self._add_received(s, meter, estimate, None, actor) or received
            streak = 0
            case_id = fa_id = None
            last = estimate or read
            if ReadType(last.read_type).is_estimate and last.use_on_bill:
                streak = count_estimates(
                    self._as_rule_reads([*history, read, *([estimate] if estimate else [])])
                )
                case_id, fa_id = await self._estimate_streak(s, meter, sp, sa, streak, actor)
            return p.ReadResult(
                read=self._read_view(read),
                estimate=self._read_view(estimate) if estimate is not None else None,
                high_low=high_low,
                consecutive_estimates=streak,
                case_id=case_id,
                field_activity_id=fa_id,
                received=self._read_view(received) if received is not None else None,
            )

        return await self._write("add_meter_read", request, idempotency_key, p.ReadResult, work)

    def _high_low(self, history: Sequence[m.MeterRead], read: m.MeterRead, register: Register) -> str | None:
        try:
            result = high_low_check(
                self._as_rule_reads(history),
                MeterRead(local_date(read.read_at), read.reading, ReadType(read.read_type), read.use_on_bill),
                register,
            )
        except ReadError:
            return None  # nothing earlier to compare with
        return result.status.value

    def _estimate_for(
        self,
        history: Sequence[m.MeterRead],
        no_read: m.MeterRead,
        meter: m.Meter,
        actor: str,
        *,
        register_seq: int = DELIVERED,
        remarks: str | None = None,
    ) -> m.MeterRead | None:
        """A system estimate for the time of ``no_read``, from the register's measured ``history`` (§1.4)."""
        day = local_date(no_read.read_at)
        previous = [r for r in history if r.reading is not None and local_date(r.read_at) < day]
        if not previous:
            return None
        start = previous[-1]
        assert start.reading is not None
        try:
            guess = estimate_read(
                self._as_rule_reads(history),
                local_date(start.read_at),
                day,
                Register(digits=meter.register_digits),
                start_reading=start.reading,
            )
        except ReadError:
            return None
        assert guess.reading is not None
        return self._new_read(
            meter,
            no_read.read_at,
            int(guess.reading),
            ReadType.SYSTEM_ESTIMATE,
            source="system",
            actor=actor,
            remarks=remarks or f"estimated for No Read {no_read.id}",
            register_seq=register_seq,
        )

    async def _add_received(
        self,
        s: AsyncSession,
        meter: m.Meter,
        delivered: m.MeterRead,
        reading: int | None,
        actor: str,
        *,
        field: str = "received_reading",
    ) -> m.MeterRead | None:
        """The received register's read taken with ``delivered`` on a net meter (§1.4: a meter read has a
        register read per register); None on any other meter, which takes no received reading.

        A reading given is stored with the delivered read's type. A No Read is a No Read on both registers.
        Otherwise (a reader or customer gave the delivered register only, or the system estimated or carried
        it) the received register is estimated from its own measured history, or, with too little history,
        its last reading is carried as billing-computed: nothing is exported until the next actual read,
        which trues it up, as any subtractive estimate does (§1.4).
        """
        if not await self._is_net_meter(s, meter.id):
            if reading is not None:
                raise Invalid(field, "the meter has no received register (it is not a net meter)")
            return None
        read_type = ReadType(delivered.read_type)
        extra: dict[str, Any] = {"use_on_bill": delivered.use_on_bill, "register_seq": RECEIVED}
        if read_type is ReadType.NO_READ or reading is not None:
            row = self._new_read(
                meter,
                delivered.read_at,
                reading,
                read_type,
                source=delivered.source,
                actor=actor,
                remarks=delivered.remarks,
                field=field,
                **extra,
            )
        else:
            history = [
                r for r in await self._meter_reads(s, meter.id, RECEIVED) if r.read_at <= delivered.read_at
            ]
            note = f"received register estimated with read {delivered.id}"
            estimated = self._estimate_for(
                history, delivered, meter, actor, register_seq=RECEIVED, remarks=note
            )
            row = estimated or self._new_read(
                meter,
                delivered.read_at,
                next((r.reading for r in reversed(history) if r.reading is not None), 0),
                ReadType.BILLING_COMPUTED,
                source="system",
                actor=actor,
                remarks=f"received register carried with read {delivered.id}",
                **extra,
            )
            row.use_on_bill = delivered.use_on_bill
        s.add(row)
        await s.flush()
        return row

    async def _estimate_streak(
        self,
        s: AsyncSession,
        meter: m.Meter,
        sp: m.ServicePoint,
        sa: m.ServiceAgreement,
        streak: int,
        actor: str,
    ) -> tuple[str | None, str | None]:
        """From the third estimate in a row, open one investigation case + FA per meter (reads.py rule)."""
        if streak < 3:
            return None, None
        open_case = await s.scalar(
            select(m.Case.id).where(
                m.Case.meter_id == meter.id, m.Case.case_type == "ESTIMATED_READS", m.Case.closed_at.is_(None)
            )
        )
        if open_case is not None:
            return None, None
        case = await self._open_case(
            s,
            "ESTIMATED_READS",
            f"Meter {meter.badge_number} has {streak} estimated reads in a row",
            actor,
            account_id=sa.account_id,
            premise_id=sp.premise_id,
            meter_id=meter.id,
        )
        fa = self._new_fa(
            "READ_INVESTIGATION",
            sp.premise_id,
            actor,
            sp_id=sp.id,
            sa_id=sa.id,
            case_id=case.id,
            scheduled_on=self._today() + dt.timedelta(days=7),
            instructions=f"Meter not read {streak} times in a row: find out why and read it",
        )
        self._add_fa(s, fa, actor)
        await s.flush()
        self._emit(
            s,
            "hub.ccb.read.estimated_streak",
            ev.EstimatedStreak(
                meter_id=meter.id,
                premise_id=sp.premise_id,
                consecutive_estimates=streak,
                case_id=case.id,
                field_activity_id=fa.id,
            ),
            actor,
        )
        return case.id, fa.id

    # ===============================================================================================
    # bills (§1.7)

    async def bill_account(
        self, request: p.BillAccount, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.BillView | None:
        async def work(s: AsyncSession) -> p.BillView | None:
            await self._get(s, m.Account, request.account_id, "account", lock=True)
            bill_date = request.bill_date or self._today()
            if bill_date < request.cut_off:
                raise Invalid("bill_date", "must not be before the cut-off date")
            metered = [sa for sa in await self._account_sas(s, request.account_id) if sa.sp_id is not None]
            if not metered:
                raise Invalid("account_id", "the account has no metered service agreement to bill")
            billable = [
                sa
                for sa in metered
                if sa.status in codes.BILLABLE_SA_STATUSES or (sa.status == "40" and not sa.final_billed)
            ]
            if not billable:
                # Bills need an active SA (§1.5): name the status that stands in the way.
                sa = metered[0]
                raise IllegalTransition(
                    "service_agreement", sa.id, sa.status, "bill", codes.SA_STATUS_LABELS[sa.status]
                )
            bill = await self._bill(
                s,
                request.account_id,
                request.cut_off,
                bill_date,
                freeze=request.freeze,
                only=None,
                actor=actor,
            )
            return None if bill is None else await self._bill_view(s, bill)

        return await self._write("bill_account", request, idempotency_key, p.BillView | None, work)

    async def _segment_start(
        self, s: AsyncSession, sa: m.ServiceAgreement
    ) -> tuple[dt.date, int | None, str | None, m.BillSegment | None]:
        """Where the next segment starts: the last segment's end read, else the SA's start read (§1.4);
        the last (not canceled) segment comes along, since a net-metered SA carries its credit from it."""
        last = await s.scalar(
            select(m.BillSegment)
            .where(m.BillSegment.sa_id == sa.id, m.BillSegment.status != codes.BsegStatus.CANCELED)
            .order_by(m.BillSegment.period_end.desc(), m.BillSegment.created_at.desc())
            .limit(1)
        )
        if last is not None:
            return last.period_end, last.end_reading, last.end_read_id, last
        if sa.start_read_id is not None:
            read = await self._get(s, m.MeterRead, sa.start_read_id, "meter_read")
            return max(sa.start_date, local_date(read.read_at)), read.reading, read.id, None
        return sa.start_date, None, None, None

    async def _price_net_metered(
        self,
        s: AsyncSession,
        zone: str,
        start: dt.date,
        end: dt.date,
        delivered: tuple[int, int],
        start_read_id: str | None,
        end_read: m.MeterRead,
        previous: m.BillSegment | None,
        register_digits: int,
        *,
        final: bool,
    ) -> tuple[PricedSegment, bool]:
        """Price a net-metered segment (billing.py: net kWh through the tiers, the kWh bank carried).

        The received register starts where the previous segment's ended (or at the partner of the SA's
        start read) and ends at the partner of the delivered end read; the bank comes from the previous
        segment. Returns the priced segment and whether the received end reading is an estimate.
        """
        received_end_read = await self._received_with(s, end_read)
        before = net_metering_of(previous.calc) if previous is not None else None
        received_start: int | None = None
        if previous is not None and before is not None:
            received_start = int(previous.calc["net_metering"]["received_end_reading"])  # continuity
        elif start_read_id is not None:
            start_read = await s.get(m.MeterRead, start_read_id)
            paired = await self._received_with(s, start_read) if start_read is not None else None
            received_start = paired.reading if paired is not None else None
        received_end = received_end_read.reading if received_end_read is not None else None
        # A missing partner counts no export for the period; the next actual read trues it up (§1.4).
        received_start = received_start if received_start is not None else received_end or 0
        received_end = received_end if received_end is not None else received_start
        priced = price_net_metered_segment(
            self._rates,
            zone,
            start,
            end,
            delivered_readings=delivered,
            received_readings=(received_start, received_end),
            register_digits=register_digits,
            credit_in_kwh=before.credit_out if before is not None else 0,
            final=final,
        )
        estimated = received_end_read is not None and ReadType(received_end_read.read_type).is_estimate
        return priced, estimated

    async def _bill(
        self,
        s: AsyncSession,
        account_id: str,
        cut_off: dt.date,
        bill_date: dt.date,
        *,
        freeze: bool,
        only: set[str] | None,
        actor: str,
    ) -> m.Bill | None:
        """Build one bill with a segment per SA that has a new read up to ``cut_off`` (§1.7)."""
        now = self._now()
        due = due_date_for(bill_date)
        premises: dict[str, m.Premise] = {}
        segments: list[m.BillSegment] = []
        bill_id = self._ids.bill_id()
        for sa in await self._account_sas(s, account_id):
            if only is not None and sa.id not in only:
                continue
            service = codes.SA_TYPES[sa.sa_type].service
            if service not in ("electric", "water") or sa.sp_id is None or sa.premise_id is None:
                continue
            final = sa.status == codes.SaStatus.STOPPED and not sa.final_billed
            if sa.status not in codes.BILLABLE_SA_STATUSES and not final:
                continue
            start, start_reading, start_read_id, previous = await self._segment_start(s, sa)
            if start_reading is None:
                continue
            meter = await self._current_meter(s, sa.sp_id)
            if meter is None:
                continue
            end_read: m.MeterRead | None
            if final and sa.stop_read_id is not None:
                end_read = await s.get(m.MeterRead, sa.stop_read_id)
            else:
                limit = cut_off if sa.end_date is None else min(cut_off, sa.end_date)
                end_read = await s.scalar(
                    select(m.MeterRead)
                    .where(
                        m.MeterRead.meter_id == meter.id,
                        m.MeterRead.register_seq == DELIVERED,
                        m.MeterRead.use_on_bill.is_(True),
                        m.MeterRead.reading.is_not(None),
                        m.MeterRead.read_at < local_day_end(limit),
                    )
                    .order_by(m.MeterRead.read_at.desc(), m.MeterRead.created_at.desc())
                    .limit(1)
                )
            if end_read is None or end_read.reading is None:
                continue
            end = local_date(end_read.read_at)
            if end <= start:
                continue
            if sa.premise_id not in premises:
                premises[sa.premise_id] = await self._get(s, m.Premise, sa.premise_id, "premise")
            premise = premises[sa.premise_id]
            zone = sa.zone or (
                premise.electric_zone if service == "electric" else premise.water_temperature_zone
            )
            estimated = ReadType(end_read.read_type).is_estimate
            if codes.SA_TYPES[sa.sa_type].net_metered:
                priced, received_estimated = await self._price_net_metered(
                    s,
                    zone,
                    start,
                    end,
                    (start_reading, end_read.reading),
                    start_read_id,
                    end_read,
                    previous,
                    meter.register_digits,
                    final=final,
                )
                estimated = estimated or received_estimated
            else:
                priced = price_segment(
                    self._rates,
                    "electric" if service == "electric" else "water",
                    zone,
                    premise.lot_size_sqft,
                    start,
                    end,
                    start_reading,
                    end_read.reading,
                    meter.register_digits,
                )
            seg = m.BillSegment(
                id=self._ids.bill_segment_id(),
                bill_id=bill_id,
                sa_id=sa.id,
                status=codes.BsegStatus.FROZEN if freeze else codes.BsegStatus.FREEZABLE,
                period_start=start,
                period_end=end,
                start_read_id=start_read_id,
                end_read_id=end_read.id,
                start_reading=start_reading,
                end_reading=end_read.reading,
                estimated=estimated,
                quantity=str(priced.quantity),
                tier_quantities=priced.tier_quantities,
                calc=priced.calc,
                amount_cents=priced.amount_cents,
                created_at=now,
                frozen_at=now if freeze else None,
            )
            segments.append(seg)
        unbilled = await self._unbilled_fts(s, account_id)
        if not segments and not unbilled:
            return None
        bill = m.Bill(
            id=bill_id,
            account_id=account_id,
            status=codes.BillStatus.PENDING,
            bill_date=bill_date,
            due_date=due,
            cut_off=cut_off,
            is_final=False,
            previous_balance_cents=0,
            payments_cents=0,
            adjustments_cents=0,
            current_charges_cents=0,
            amount_due_cents=0,
            created_at=now,
        )
        s.add(bill)
        await s.flush()
        s.add_all(segments)
        await s.flush()
        for seg in segments:
            sa_row = await self._get(s, m.ServiceAgreement, seg.sa_id, "service_agreement")
            self._add_ft(
                s,
                account_id=account_id,
                sa_id=seg.sa_id,
                ft_type=codes.FtType.BILL_SEGMENT,
                parent_id=seg.id,
                amount_cents=seg.amount_cents,
                frozen=freeze,
                arrears_date=due,
                bill_id=bill.id,
            )
            if sa_row.status == codes.SaStatus.STOPPED:
                sa_row.final_billed = True
        await s.flush()
        if freeze:
            await self._complete_bill(s, bill, actor)
        return bill

    async def _unbilled_fts(self, s: AsyncSession, account_id: str) -> list[m.FinancialTransaction]:
        """Frozen FTs not yet on a bill: payments and adjustments, plus the next arrangement installment.

        An arrangement's installments are all posted when it is created (so the balance is whole) but each
        bill carries only the next one (§1.10: installments on the regular bills).
        """
        ft = m.FinancialTransaction
        rows = (
            await s.execute(
                select(ft, m.Adjustment.adjustment_type)
                .outerjoin(m.Adjustment, m.Adjustment.id == ft.parent_id)
                .where(ft.account_id == account_id, ft.frozen.is_(True), ft.bill_id.is_(None))
                .order_by(ft.created_at, ft.id)
            )
        ).all()
        picked: list[m.FinancialTransaction] = []
        installments: list[m.FinancialTransaction] = []
        for row, adj_type in rows:
            if adj_type == "PA_INSTALLMENT" and row.ft_type == codes.FtType.ADJUSTMENT:
                installments.append(row)
            else:
                picked.append(row)
        if installments:
            # Split amounts put the extra cents first (payplan.split_cents), so the larger ones go first.
            installments.sort(key=lambda f: (-f.amount_cents, f.created_at, f.id))
            picked.append(installments[0])
        return picked

    async def _complete_bill(self, s: AsyncSession, bill: m.Bill, actor: str) -> None:
        """Sweep unbilled FTs onto the bill, fix its printed amounts and mark it Complete."""
        swept = await self._unbilled_fts(s, bill.account_id)
        payments = adjustments = 0
        for f in swept:
            f.bill_id = bill.id
            if f.ft_type in (codes.FtType.PAY_SEGMENT, codes.FtType.PAY_CANCEL):
                payments += f.amount_cents
            else:
                adjustments += f.amount_cents
                if f.ft_type == codes.FtType.ADJUSTMENT and f.amount_cents > 0:
                    f.arrears_date = bill.due_date  # a charge becomes due with the bill it is on
        await s.flush()
        current = int(
            await s.scalar(
                select(func.coalesce(func.sum(m.BillSegment.amount_cents), 0)).where(
                    m.BillSegment.bill_id == bill.id, m.BillSegment.status == codes.BsegStatus.FROZEN
                )
            )
            or 0
        )
        ledger = await self._ledger(s, bill.account_id)
        due_now = balance_cents(ledger)
        bill.current_charges_cents = current
        bill.payments_cents = payments
        bill.adjustments_cents = adjustments
        bill.amount_due_cents = due_now
        bill.previous_balance_cents = due_now - current - payments - adjustments
        open_left = await s.scalar(
            select(func.count())
            .select_from(m.ServiceAgreement)
            .where(
                m.ServiceAgreement.account_id == bill.account_id,
                m.ServiceAgreement.status.in_(sorted(codes.OPEN_SA_STATUSES)),
                m.ServiceAgreement.sa_type.in_(sorted(codes.METERED_SA_TYPES)),
            )
        )
        bill.is_final = not open_left
        bill.status = codes.BillStatus.COMPLETE
        bill.completed_at = self._now()
        await self._audit_money(
            s,
            actor,
            "ccb.bill.completed",
            f"account:{bill.account_id}",
            {"bill": bill.id, "current_charges_cents": current, "amount_due_cents": due_now},
        )
        self._emit(
            s,
            "hub.ccb.bill.completed",
            ev.BillCompleted(account_id=bill.account_id, bill_id=bill.id, is_final=bill.is_final),
            actor,
        )

    async def freeze_bill_segment(
        self, request: p.FreezeBillSegment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.BillSegmentView:
        async def work(s: AsyncSession) -> p.BillSegmentView:
            seg = await self._get(s, m.BillSegment, request.bill_segment_id, "bill_segment", lock=True)
            if seg.status != codes.BsegStatus.FREEZABLE:
                raise IllegalTransition("bill_segment", seg.id, seg.status, "freeze")
            ft = await self._ft_of(s, seg.id, codes.FtType.BILL_SEGMENT)
            assert ft is not None
            seg.status = codes.BsegStatus.FROZEN
            seg.frozen_at = self._now()
            ft.frozen = True
            await s.flush()
            pending = await s.scalar(
                select(func.count())
                .select_from(m.BillSegment)
                .where(
                    m.BillSegment.bill_id == seg.bill_id, m.BillSegment.status == codes.BsegStatus.FREEZABLE
                )
            )
            if not pending:
                bill = await self._get(s, m.Bill, seg.bill_id, "bill", lock=True)
                await self._complete_bill(s, bill, actor)
            return await self._segment_view(s, seg)

        return await self._write("freeze_bill_segment", request, idempotency_key, p.BillSegmentView, work)

    async def _cancel_segment(self, s: AsyncSession, seg: m.BillSegment, reason: str, actor: str) -> None:
        if seg.status != codes.BsegStatus.FROZEN:
            raise IllegalTransition("bill_segment", seg.id, seg.status, "cancel")
        original = await self._ft_of(s, seg.id, codes.FtType.BILL_SEGMENT)
        assert original is not None
        seg.status = codes.BsegStatus.CANCELED
        seg.cancel_reason = reason
        seg.canceled_at = self._now()
        # The reversing FT sits on the same bill with the same arrears date, so the pair nets to zero in
        # every bucket (balance and past due alike).
        self._add_ft(
            s,
            account_id=original.account_id,
            sa_id=original.sa_id,
            ft_type=codes.FtType.BILL_CANCEL,
            parent_id=seg.id,
            amount_cents=-original.amount_cents,
            cancels=original.id,
            arrears_date=original.arrears_date,
            bill_id=original.bill_id,
        )
        await self._audit_money(
            s,
            actor,
            "ccb.bill_segment.canceled",
            f"account:{original.account_id}",
            {"bill_segment": seg.id, "amount_cents": -original.amount_cents, "reason": reason},
        )

    async def cancel_bill_segment(
        self, request: p.CancelBillSegment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.BillSegmentView:
        async def work(s: AsyncSession) -> p.BillSegmentView:
            seg = await self._get(s, m.BillSegment, request.bill_segment_id, "bill_segment", lock=True)
            await self._cancel_segment(s, seg, _text(request.reason, "reason", limit=200), actor)
            await s.flush()
            return await self._segment_view(s, seg)

        return await self._write("cancel_bill_segment", request, idempotency_key, p.BillSegmentView, work)

    async def rebill(
        self, request: p.Rebill, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.RebillResult:
        """Cancel/rebill in one step (§1.7): the original goes Canceled with its BX, the new segment is
        built from the same start read and the (corrected) end read and frozen with its BS."""

        async def work(s: AsyncSession) -> p.RebillResult:
            seg = await self._get(s, m.BillSegment, request.bill_segment_id, "bill_segment", lock=True)
            reason = _text(request.reason, "reason", limit=200)
            if seg.status != codes.BsegStatus.FROZEN:
                raise IllegalTransition("bill_segment", seg.id, seg.status, "rebill")
            sa = await self._get(s, m.ServiceAgreement, seg.sa_id, "service_agreement")
            if (
                seg.start_reading is None
                or seg.end_reading is None
                or sa.sp_id is None
                or sa.premise_id is None
            ):
                raise Invalid("bill_segment_id", "only metered segments can be rebilled")
            meter = await self._current_meter(s, sa.sp_id)
            if meter is None:
                raise Invalid("bill_segment_id", "the service point has no meter")
            end_reading, end_read_id, estimated = seg.end_reading, seg.end_read_id, seg.estimated
            if request.corrected_reading is not None:
                later = await s.scalar(
                    select(func.count())
                    .select_from(m.BillSegment)
                    .where(
                        m.BillSegment.sa_id == sa.id,
                        m.BillSegment.status != codes.BsegStatus.CANCELED,
                        m.BillSegment.period_start >= seg.period_end,
                    )
                )
                if later:
                    raise Invalid(
                        "corrected_reading",
                        "a later segment was billed from this read; cancel/rebill the later segments first",
                    )
                old = await s.get(m.MeterRead, seg.end_read_id) if seg.end_read_id else None
                read_at = old.read_at if old is not None else local_time(seg.period_end)
                corrected = self._new_read(
                    meter,
                    read_at,
                    request.corrected_reading,
                    ReadType.REGULAR,
                    source="correction",
                    actor=actor,
                    remarks=f"corrects read {seg.end_read_id}",
                    field="corrected_reading",
                )
                if old is not None:
                    old.use_on_bill = False  # the corrected read replaces it on every later bill
                s.add(corrected)
                await s.flush()
                end_reading, end_read_id, estimated = corrected.reading or 0, corrected.id, False
            premise = await self._get(s, m.Premise, sa.premise_id, "premise")
            service = codes.SA_TYPES[sa.sa_type].service
            settled = net_metering_of(seg.calc)
            if settled is not None:
                # The rebill re-prices the same period: same received readings, same credit carried in,
                # and a final bill still forfeits what is left (billing.py, ccb-domain §4.1).
                block = seg.calc["net_metering"]
                priced = price_net_metered_segment(
                    self._rates,
                    sa.zone or premise.electric_zone,
                    seg.period_start,
                    seg.period_end,
                    delivered_readings=(seg.start_reading, end_reading),
                    received_readings=(
                        int(block["received_start_reading"]),
                        int(block["received_end_reading"]),
                    ),
                    register_digits=meter.register_digits,
                    credit_in_kwh=settled.credit_in,
                    final=seg.end_read_id is not None and seg.end_read_id == sa.stop_read_id,
                )
            else:
                priced = price_segment(
                    self._rates,
                    "electric" if service == "electric" else "water",
                    sa.zone or "",
                    premise.lot_size_sqft,
                    seg.period_start,
                    seg.period_end,
                    seg.start_reading,
                    end_reading,
                    meter.register_digits,
                )
            await self._cancel_segment(s, seg, reason, actor)
            original = await self._ft_of(s, seg.id, codes.FtType.BILL_SEGMENT)
            assert original is not None
            now = self._now()
            new = m.BillSegment(
                id=self._ids.bill_segment_id(),
                bill_id=seg.bill_id,
                sa_id=seg.sa_id,
                status=codes.BsegStatus.FROZEN,
                period_start=seg.period_start,
                period_end=seg.period_end,
                start_read_id=seg.start_read_id,
                end_read_id=end_read_id,
                start_reading=seg.start_reading,
                end_reading=end_reading,
                estimated=estimated,
                quantity=str(priced.quantity),
                tier_quantities=priced.tier_quantities,
                calc=priced.calc,
                amount_cents=priced.amount_cents,
                rebill_of=seg.id,
                created_at=now,
                frozen_at=now,
            )
            s.add(new)
            await s.flush()
            self._add_ft(
                s,
                account_id=original.account_id,
                sa_id=seg.sa_id,
                ft_type=codes.FtType.BILL_SEGMENT,
                parent_id=new.id,
                amount_cents=new.amount_cents,
                arrears_date=original.arrears_date,
                bill_id=seg.bill_id,
            )
            await self._audit_money(
                s,
                actor,
                "ccb.bill_segment.rebilled",
                f"account:{original.account_id}",
                {"canceled": seg.id, "rebill": new.id, "amount_cents": new.amount_cents},
            )
            await s.flush()
            return p.RebillResult(canceled_segment_id=seg.id, new_segment=await self._segment_view(s, new))

        return await self._write("rebill", request, idempotency_key, p.RebillResult, work)

    # ===============================================================================================
    # adjustments (§1.8)

    async def _post_adjustment(
        self,
        s: AsyncSession,
        sa: m.ServiceAgreement,
        adj_type: codes.AdjustmentType,
        magnitude: int,
        reason: str,
        actor: str,
        *,
        freeze: bool,
    ) -> m.Adjustment:
        now = self._now()
        adj = m.Adjustment(
            id=self._ids.adjustment_id(),
            sa_id=sa.id,
            account_id=sa.account_id,
            adjustment_type=adj_type.code,
            amount_cents=adj_type.sign * magnitude,
            status=codes.AdjStatus.FROZEN if freeze else codes.AdjStatus.FREEZABLE,
            reason=reason,
            created_by=actor,
            created_at=now,
            frozen_at=now if freeze else None,
        )
        s.add(adj)
        await s.flush()
        if freeze:
            self._add_ft(
                s,
                account_id=sa.account_id,
                sa_id=sa.id,
                ft_type=codes.FtType.ADJUSTMENT,
                parent_id=adj.id,
                amount_cents=adj.amount_cents,
            )
            await self._audit_money(
                s,
                actor,
                "ccb.adjustment.frozen",
                f"account:{sa.account_id}",
                {"adjustment": adj.id, "type": adj.adjustment_type, "amount_cents": adj.amount_cents},
            )
        return adj

    async def create_adjustment(
        self, request: p.CreateAdjustment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.AdjustmentView:
        async def work(s: AsyncSession) -> p.AdjustmentView:
            adj_type = codes.ADJUSTMENT_TYPES.get(request.adjustment_type)
            if adj_type is None or adj_type.system:
                allowed = sorted(k for k, v in codes.ADJUSTMENT_TYPES.items() if not v.system)
                raise Invalid("adjustment_type", f"must be one of {', '.join(allowed)}")
            if request.amount_cents <= 0:
                raise Invalid("amount_cents", "must be a positive amount; the type decides charge or credit")
            reason = _text(request.reason, "reason", limit=200)
            sa = await self._get(s, m.ServiceAgreement, request.sa_id, "service_agreement", lock=True)
            if sa.status == codes.SaStatus.CANCELED:
                raise IllegalTransition(
                    "service_agreement",
                    sa.id,
                    sa.status,
                    "create_adjustment",
                    codes.SA_STATUS_LABELS[sa.status],
                )
            adj = await self._post_adjustment(
                s, sa, adj_type, request.amount_cents, reason, actor, freeze=not adj_type.approval_required
            )
            return self._adjustment_view(adj)

        return await self._write("create_adjustment", request, idempotency_key, p.AdjustmentView, work)

    async def approve_adjustment(
        self, request: p.ApproveAdjustment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.AdjustmentView:
        async def work(s: AsyncSession) -> p.AdjustmentView:
            adj = await self._get(s, m.Adjustment, request.adjustment_id, "adjustment", lock=True)
            if adj.status != codes.AdjStatus.FREEZABLE:
                raise IllegalTransition("adjustment", adj.id, adj.status, "approve")
            if actor == adj.created_by:
                raise Invalid("actor", "an adjustment must be approved by someone other than its creator")
            now = self._now()
            adj.status = codes.AdjStatus.FROZEN
            adj.approved_by = actor
            adj.frozen_at = now
            self._add_ft(
                s,
                account_id=adj.account_id,
                sa_id=adj.sa_id,
                ft_type=codes.FtType.ADJUSTMENT,
                parent_id=adj.id,
                amount_cents=adj.amount_cents,
            )
            await self._audit_money(
                s,
                actor,
                "ccb.adjustment.frozen",
                f"account:{adj.account_id}",
                {"adjustment": adj.id, "type": adj.adjustment_type, "amount_cents": adj.amount_cents},
            )
            return self._adjustment_view(adj)

        return await self._write("approve_adjustment", request, idempotency_key, p.AdjustmentView, work)

    async def cancel_adjustment(
        self, request: p.CancelAdjustment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.AdjustmentView:
        async def work(s: AsyncSession) -> p.AdjustmentView:
            adj = await self._get(s, m.Adjustment, request.adjustment_id, "adjustment", lock=True)
            reason = _text(request.reason, "reason", limit=200)
            if codes.ADJUSTMENT_TYPES[adj.adjustment_type].system:
                raise Invalid(
                    "adjustment_id", "adjustments posted by the system are canceled with their owner"
                )
            if adj.status == codes.AdjStatus.FREEZABLE:
                adj.status = codes.AdjStatus.CANCELED  # never frozen: nothing to reverse
            elif adj.status == codes.AdjStatus.FROZEN:
                original = await self._ft_of(s, adj.id, codes.FtType.ADJUSTMENT)
                assert original is not None
                adj.status = codes.AdjStatus.CANCELED
                self._add_ft(
                    s,
                    account_id=adj.account_id,
                    sa_id=adj.sa_id,
                    ft_type=codes.FtType.ADJUSTMENT_CANCEL,
                    parent_id=adj.id,
                    amount_cents=-original.amount_cents,
                    cancels=original.id,
                    arrears_date=original.arrears_date,
                )
                await self._audit_money(
                    s,
                    actor,
                    "ccb.adjustment.canceled",
                    f"account:{adj.account_id}",
                    {"adjustment": adj.id, "amount_cents": -original.amount_cents, "reason": reason},
                )
            else:
                raise IllegalTransition("adjustment", adj.id, adj.status, "cancel")
            adj.cancel_reason = reason
            adj.canceled_at = self._now()
            return self._adjustment_view(adj)

        return await self._write("cancel_adjustment", request, idempotency_key, p.AdjustmentView, work)

    # ===============================================================================================
    # payments (§1.9)

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
                # Anything but four digits may be a PAN: refuse it rather than store it (PCI, rules §1.5).
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
            reason = _text(request.reason, "reason", limit=200)
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
            reason = _text(request.reason, "reason", limit=200)
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

    # -- cash drawers --------------------------------------------------------------------------------

    async def _drawer_tenders(self, s: AsyncSession, tender_control_id: str) -> int:
        """Cash and checks in the drawer; card tenders settle with the processor, not in the drawer."""
        total = await s.scalar(
            select(func.coalesce(func.sum(m.Tender.amount_cents), 0)).where(
                m.Tender.tender_control_id == tender_control_id,
                m.Tender.status == codes.TenderStatus.VALID,
                m.Tender.tender_type.in_(["cash", "check"]),
            )
        )
        return int(total or 0)

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

    # ===============================================================================================
    # pay plans, payment arrangements, deposits (§1.10, §1.11)

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
                hardship_reason=_text(request.hardship_reason, "hardship_reason", limit=200)
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
            plan.cancel_reason = _text(request.reason, "reason", limit=200)
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
        more -> Broken (rules §6.3 step 3). Returns the plans whose status changed."""
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

    # ===============================================================================================
    # contacts, notes, alerts (§1.12, §1.13)

    async def add_customer_contact(
        self, request: p.AddCustomerContact, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.CustomerContactView:
        async def work(s: AsyncSession) -> p.CustomerContactView:
            ctype = codes.CONTACT_TYPES.get((request.contact_class, request.contact_type))
            if ctype is None:
                known = ", ".join(f"{a}/{b}" for a, b in sorted(codes.CONTACT_TYPES))
                raise Invalid("contact_type", f"unknown contact class/type; known: {known}")
            if ctype.requires_account and request.account_id is None:
                raise Invalid("account_id", f"is required for {ctype.contact_class}/{ctype.contact_type}")
            if ctype.requires_premise and request.premise_id is None:
                raise Invalid("premise_id", f"is required for {ctype.contact_class}/{ctype.contact_type}")
            if request.person_id is None and request.account_id is None and request.premise_id is None:
                raise Invalid("person_id", "a contact is about a person, an account or a premise")
            if request.person_id is not None:
                await self._get(s, m.Person, request.person_id, "person")
            if request.account_id is not None:
                await self._get(s, m.Account, request.account_id, "account")
            if request.premise_id is not None:
                await self._get(s, m.Premise, request.premise_id, "premise")
            person_id = request.person_id
            if person_id is None and request.account_id is not None:
                person_id = await s.scalar(
                    select(m.AccountPerson.person_id).where(
                        m.AccountPerson.account_id == request.account_id,
                        m.AccountPerson.is_main_customer.is_(True),
                    )
                )
            contact = m.CustomerContact(
                id=self._ids.contact_id(),
                contact_class=ctype.contact_class,
                contact_type=ctype.contact_type,
                # §1.12: a contact is person-based, or premise-based when no person is involved.
                entity="PER" if person_id is not None else "PREM",
                person_id=person_id,
                account_id=request.account_id,
                premise_id=request.premise_id,
                method=request.method,
                status=codes.ContactStatus.OPEN if request.open else codes.ContactStatus.CLOSED,
                log_text=_text(request.log_text, "log_text"),
                created_by=actor,
                created_at=self._now(),
            )
            s.add(contact)
            return self._contact_view(contact)

        return await self._write(
            "add_customer_contact", request, idempotency_key, p.CustomerContactView, work
        )

    async def resolve_customer_contact(
        self, request: p.ResolveCustomerContact, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.CustomerContactView:
        async def work(s: AsyncSession) -> p.CustomerContactView:
            contact = await self._get(s, m.CustomerContact, request.contact_id, "customer_contact", lock=True)
            if contact.status != codes.ContactStatus.OPEN:
                raise IllegalTransition("customer_contact", contact.id, contact.status, "resolve")
            note = _text(request.note, "note")
            stamp = self._now().isoformat(timespec="seconds")
            contact.log_text = f"{contact.log_text}\n[{stamp} {actor}] {note}"[: MAX_TEXT * 4]
            contact.status = codes.ContactStatus.CLOSED
            return self._contact_view(contact)

        return await self._write(
            "resolve_customer_contact", request, idempotency_key, p.CustomerContactView, work
        )

    async def add_premise_note(
        self, request: p.AddPremiseNote, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PremiseNoteView:
        async def work(s: AsyncSession) -> p.PremiseNoteView:
            await self._get(s, m.Premise, request.premise_id, "premise")
            note = m.PremiseNote(
                id=ten_digit_id(self._ids),
                premise_id=request.premise_id,
                text=_text(request.text, "text"),
                created_by=actor,
                created_at=self._now(),
            )
            s.add(note)
            return p.PremiseNoteView(
                note_id=note.id,
                premise_id=note.premise_id,
                text=note.text,
                created_by=actor,
                created_at=note.created_at,
            )

        return await self._write("add_premise_note", request, idempotency_key, p.PremiseNoteView, work)

    async def add_alert(
        self, request: p.AddAlert, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.AlertView:
        async def work(s: AsyncSession) -> p.AlertView:
            await self._get(s, m.Account, request.account_id, "account")
            alert_type = request.alert_type.strip().upper()
            if not re.fullmatch(r"[A-Z0-9_]{2,20}", alert_type):
                raise Invalid("alert_type", "must be 2 to 20 letters, digits or underscores")
            today = self._today()
            if request.expires_on is not None and request.expires_on < today:
                raise Invalid("expires_on", "must not be in the past")
            alert = m.Alert(
                id=ten_digit_id(self._ids),
                account_id=request.account_id,
                alert_type=alert_type,
                text=_text(request.text, "text", limit=500),
                starts_on=today,
                expires_on=request.expires_on,
                created_by=actor,
                created_at=self._now(),
            )
            s.add(alert)
            return self._alert_view(alert)

        return await self._write("add_alert", request, idempotency_key, p.AlertView, work)

    # ===============================================================================================
    # cases, field activities, To Do (§1.14-§1.16)

    async def _open_case(
        self,
        s: AsyncSession,
        case_type: str,
        summary: str,
        actor: str,
        *,
        account_id: str | None = None,
        person_id: str | None = None,
        premise_id: str | None = None,
        contact_id: str | None = None,
        meter_id: str | None = None,
    ) -> m.Case:
        ctype = codes.CASE_TYPES[case_type]
        now = self._now()
        case = m.Case(
            id=self._ids.case_id(),
            case_type=case_type,
            status=ctype.initial,
            account_id=account_id,
            person_id=person_id,
            premise_id=premise_id,
            contact_id=contact_id,
            meter_id=meter_id,
            summary=summary,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        s.add(case)
        await s.flush()
        s.add(
            m.CaseLog(
                case_id=case.id, seq=1, status=ctype.initial, note="opened", created_by=actor, created_at=now
            )
        )
        self._emit(
            s,
            "hub.ccb.case.opened",
            ev.CaseOpened(case_id=case.id, case_type=case_type, account_id=account_id, premise_id=premise_id),
            actor,
        )
        return case

    async def create_case(
        self, request: p.CreateCase, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.CaseView:
        async def work(s: AsyncSession) -> p.CaseView:
            if request.case_type not in codes.CASE_TYPES:
                raise Invalid("case_type", f"must be one of {', '.join(sorted(codes.CASE_TYPES))}")
            if request.account_id is None and request.person_id is None and request.premise_id is None:
                raise Invalid("account_id", "a case is about an account, a person or a premise")
            for kind, model, ident in (
                ("account", m.Account, request.account_id),
                ("person", m.Person, request.person_id),
                ("premise", m.Premise, request.premise_id),
                ("customer_contact", m.CustomerContact, request.contact_id),
                ("meter", m.Meter, request.meter_id),
            ):
                if ident is not None:
                    await self._get(s, model, ident, kind)  # type: ignore[arg-type]
            case = await self._open_case(
                s,
                request.case_type,
                _text(request.summary, "summary", limit=1000),
                actor,
                account_id=request.account_id,
                person_id=request.person_id,
                premise_id=request.premise_id,
                contact_id=request.contact_id,
                meter_id=request.meter_id,
            )
            await s.flush()
            return await self._case_view(s, case)

        return await self._write("create_case", request, idempotency_key, p.CaseView, work)

    async def transition_case(
        self, request: p.TransitionCase, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.CaseView:
        async def work(s: AsyncSession) -> p.CaseView:
            case = await self._get(s, m.Case, request.case_id, "case", lock=True)
            ctype = codes.CASE_TYPES[case.case_type]
            if not ctype.allows(case.status, request.to_status):
                raise IllegalTransition("case", case.id, case.status, f"move to {request.to_status}")
            now = self._now()
            case.status = request.to_status
            case.updated_at = now
            if request.to_status in ctype.final:
                case.closed_at = now
            last = await s.scalar(select(func.max(m.CaseLog.seq)).where(m.CaseLog.case_id == case.id))
            note = _text(request.note, "note", limit=2000, required=False)
            s.add(
                m.CaseLog(
                    case_id=case.id,
                    seq=int(last or 0) + 1,
                    status=request.to_status,
                    note=note,
                    created_by=actor,
                    created_at=now,
                )
            )
            await s.flush()
            self._emit(
                s,
                "hub.ccb.case.status_changed",
                ev.CaseStatusChanged(case_id=case.id, case_type=case.case_type, status=str(case.status)),
                actor,
            )
            return await self._case_view(s, case)

        return await self._write("transition_case", request, idempotency_key, p.CaseView, work)

    def _new_fa(
        self,
        fa_type: str,
        premise_id: str,
        actor: str,
        *,
        sp_id: str | None = None,
        sa_id: str | None = None,
        case_id: str | None = None,
        priority: int | None = None,
        scheduled_on: dt.date | None = None,
        instructions: str | None = None,
    ) -> m.FieldActivity:
        return m.FieldActivity(
            id=self._ids.field_activity_id(),
            fa_type=fa_type,
            priority=priority if priority is not None else codes.FA_TYPES[fa_type].default_priority,
            status=codes.FaStatus.PENDING,
            premise_id=premise_id,
            sp_id=sp_id,
            sa_id=sa_id,
            case_id=case_id,
            scheduled_on=scheduled_on,
            instructions=instructions,
            created_by=actor,
            created_at=self._now(),
        )

    def _add_fa(self, s: AsyncSession, fa: m.FieldActivity, actor: str) -> None:
        """Add an FA and announce it; a TROUBLE FA is also announced as a trouble ticket."""
        s.add(fa)
        ref = ev.FieldActivityRef(
            field_activity_id=fa.id, fa_type=fa.fa_type, premise_id=fa.premise_id, case_id=fa.case_id
        )
        self._emit(s, "hub.ccb.field_activity.created", ref, actor)
        if fa.fa_type == "TROUBLE":
            self._emit(s, "hub.ccb.trouble_ticket.created", ref, actor)

    async def create_field_activity(
        self, request: p.CreateFieldActivity, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.FieldActivityView:
        async def work(s: AsyncSession) -> p.FieldActivityView:
            if request.fa_type not in codes.FA_TYPES:
                raise Invalid("fa_type", f"must be one of {', '.join(sorted(codes.FA_TYPES))}")
            if request.priority is not None and not 1 <= request.priority <= 5:
                raise Invalid("priority", "must be 1 (most urgent) to 5")
            await self._get(s, m.Premise, request.premise_id, "premise")
            if request.sp_id is not None:
                sp = await self._get(s, m.ServicePoint, request.sp_id, "service_point")
                if sp.premise_id != request.premise_id:
                    raise Invalid("sp_id", "the service point is not at this premise")
            if request.sa_id is not None:
                await self._get(s, m.ServiceAgreement, request.sa_id, "service_agreement")
            if request.case_id is not None:
                await self._get(s, m.Case, request.case_id, "case")
            instructions = (
                _text(request.instructions, "instructions", required=False) if request.instructions else None
            )
            fa = self._new_fa(
                request.fa_type,
                request.premise_id,
                actor,
                sp_id=request.sp_id,
                sa_id=request.sa_id,
                case_id=request.case_id,
                priority=request.priority,
                scheduled_on=request.scheduled_on,
                instructions=instructions,
            )
            self._add_fa(s, fa, actor)
            return self._fa_view(fa)

        return await self._write("create_field_activity", request, idempotency_key, p.FieldActivityView, work)

    async def complete_field_activity(
        self, request: p.CompleteFieldActivity, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.FieldActivityView:
        async def work(s: AsyncSession) -> p.FieldActivityView:
            fa = await self._get(s, m.FieldActivity, request.field_activity_id, "field_activity", lock=True)
            if codes.FaStatus.COMPLETE not in codes.FA_TRANSITIONS.get(fa.status, frozenset()):
                raise IllegalTransition("field_activity", fa.id, fa.status, "complete")
            now = self._now()
            if request.received_reading is not None and request.reading is None:
                raise Invalid("received_reading", "give the delivered register's reading too")
            if request.reading is not None:
                if fa.sp_id is None:
                    raise Invalid("reading", "the field activity is not on a service point")
                meter = await self._current_meter(s, fa.sp_id)
                if meter is None:
                    raise Invalid("reading", "the service point has no meter")
                read_day = (
                    fa.scheduled_on if fa.fa_type in ("START", "STOP") and fa.scheduled_on else self._today()
                )
                read = self._new_read(
                    meter,
                    min(local_time(read_day), now),
                    request.reading,
                    ReadType.REGULAR,
                    source="field",
                    actor=actor,
                    remarks=f"field activity {fa.id}",
                )
                s.add(read)
                await s.flush()
                await self._add_received(s, meter, read, request.received_reading, actor)
                fa.read_id = read.id
                if fa.sa_id is not None and fa.fa_type == "STOP":
                    sa = await self._get(s, m.ServiceAgreement, fa.sa_id, "service_agreement", lock=True)
                    if sa.status == codes.SaStatus.PENDING_STOP:
                        sa.stop_read_id = read.id
            fa.status = codes.FaStatus.COMPLETE
            fa.completed_at = now
            if request.remarks:
                fa.remarks = _text(request.remarks, "remarks", limit=1000)
            return self._fa_view(fa)

        return await self._write(
            "complete_field_activity", request, idempotency_key, p.FieldActivityView, work
        )

    async def cancel_field_activity(
        self, request: p.CancelFieldActivity, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.FieldActivityView:
        async def work(s: AsyncSession) -> p.FieldActivityView:
            fa = await self._get(s, m.FieldActivity, request.field_activity_id, "field_activity", lock=True)
            if codes.FaStatus.CANCELED not in codes.FA_TRANSITIONS.get(fa.status, frozenset()):
                raise IllegalTransition("field_activity", fa.id, fa.status, "cancel")
            fa.status = codes.FaStatus.CANCELED
            fa.remarks = _text(request.reason, "reason", limit=1000)
            return self._fa_view(fa)

        return await self._write("cancel_field_activity", request, idempotency_key, p.FieldActivityView, work)

    async def _add_todo(
        self,
        s: AsyncSession,
        *,
        role: str,
        todo_type: str,
        message: str,
        related_kind: str | None,
        related_id: str | None,
        priority: int,
        actor: str,
    ) -> m.ToDo:
        todo = m.ToDo(
            id=twelve_digit_id(self._ids),
            role=role,
            todo_type=todo_type,
            priority=priority,
            message=message,
            related_kind=related_kind,
            related_id=related_id,
            status=codes.ToDoStatus.OPEN,
            created_by=actor,
            created_at=self._now(),
        )
        s.add(todo)
        self._emit(
            s, "hub.ccb.todo.created", ev.ToDoCreated(todo_id=todo.id, role=role, todo_type=todo_type), actor
        )
        return todo

    async def create_todo(
        self, request: p.CreateToDo, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.ToDoView:
        async def work(s: AsyncSession) -> p.ToDoView:
            role = request.role.strip().upper()
            todo_type = request.todo_type.strip().upper()
            if not re.fullmatch(r"[A-Z0-9_]{2,30}", role):
                raise Invalid("role", "must be 2 to 30 letters, digits or underscores")
            if not re.fullmatch(r"[A-Z0-9_]{2,30}", todo_type):
                raise Invalid("todo_type", "must be 2 to 30 letters, digits or underscores")
            if not 1 <= request.priority <= 5:
                raise Invalid("priority", "must be 1 (most urgent) to 5")
            if (request.related_kind is None) != (request.related_id is None):
                raise Invalid("related_id", "give both related_kind and related_id, or neither")
            todo = await self._add_todo(
                s,
                role=role,
                todo_type=todo_type,
                message=_text(request.message, "message", limit=1000),
                related_kind=request.related_kind,
                related_id=request.related_id,
                priority=request.priority,
                actor=actor,
            )
            return self._todo_view(todo)

        return await self._write("create_todo", request, idempotency_key, p.ToDoView, work)

    async def update_todo(
        self, request: p.UpdateToDo, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.ToDoView:
        async def work(s: AsyncSession) -> p.ToDoView:
            todo = await self._get(s, m.ToDo, request.todo_id, "todo", lock=True)
            if request.status != todo.status:
                if request.status not in codes.TODO_TRANSITIONS.get(todo.status, frozenset()):
                    raise IllegalTransition("todo", todo.id, todo.status, f"move to {request.status}")
                todo.status = request.status
                if request.status == codes.ToDoStatus.COMPLETE:
                    todo.completed_at = self._now()
            if request.assigned_to is not None:
                todo.assigned_to = request.assigned_to.strip()[:64] or None
            elif request.status == codes.ToDoStatus.BEING_WORKED and todo.assigned_to is None:
                todo.assigned_to = actor
            return self._todo_view(todo)

        return await self._write("update_todo", request, idempotency_key, p.ToDoView, work)


# Statically confirm the mock implements the whole port: the type checker verifies this return.
def _conforms(ccb: LocalCcb) -> p.CcbPort:
    return ccb
