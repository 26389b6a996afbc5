"""The local CCB's view builders: rows of the CCB tables turned into the port's Structs.

One place for each view so every area answers with the same shape: SAs, reads, persons and premises
(§1.3, §1.4), bills and segments (§1.7), adjustments (§1.8), payments and tender controls (§1.9), pay
plans (§1.10), contacts, alerts, cases, field activities and To Dos (§1.12-§1.16).

Section signs (§) cite docs/ccb-domain.md.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb import codes
from core.ccb import models as m
from core.ccb import port as p
from core.ccb.billing import (
    balance_cents,
    local_date,
)
from core.ccb.local.base import (
    SA_TYPE_ORDER,
    LocalBase,
)
from core.ccb.reads import ReadType

__all__ = ["LocalViews"]


class LocalViews(LocalBase):
    """Builds the port's views from model rows; shared by every area mixin."""

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
