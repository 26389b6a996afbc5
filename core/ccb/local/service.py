"""The local CCB's service agreements (§1.5, §1.6): start, stop, restore and cancel a start or a
stop, and the batches a real CCB runs on its own schedule — SA activation (``SAACT``, with the start read)
and finalization (the stop read and the final bill). The batches are not on the port: a scheduler or a
simulator calls them with the business date.

Section signs (§) cite docs/ccb-domain.md.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb import codes
from core.ccb import models as m
from core.ccb import port as p
from core.ccb.billing import (
    local_date,
    local_day_end,
    local_time,
)
from core.ccb.errors import Invalid
from core.ccb.local.base import (
    DELIVERED,
    SERVICE_SA_TYPE,
    clean_text,
)
from core.ccb.local.bills import BillsMixin
from core.ccb.reads import ReadError, ReadType, Register
from core.ccb.reads import estimate as estimate_read

__all__ = ["ServiceMixin"]


class ServiceMixin(BillsMixin):
    """Start / stop / restore service and the SA activation and finalization batches."""

    async def get_service_agreement(self, sa_id: str) -> p.ServiceAgreementView:
        async with self._db.read() as s:
            return self._sa_view(await self._get(s, m.ServiceAgreement, sa_id, "service_agreement"))

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
            reason = clean_text(request.reason, "reason", limit=200)
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
