"""The local CCB mock on a real migrated database: money, lifecycles, reads, identity and atomicity.

Section signs (§) cite docs/ccb-domain.md.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from core.audit import AuditKey, AuditLog, verify_chain
from core.ccb import models as m
from core.ccb import port as p
from core.ccb.billing import local_time
from core.ccb.errors import IllegalTransition, Invalid, NotFound, VerificationLocked
from core.ccb.events import CCB_EVENT_TYPES
from core.ccb.ids import IdGenerator
from core.ccb.local import LocalCcb
from core.ccb.rates import calculate_electric, calculate_water, load_default_config
from core.clock import ManualClock
from core.db import Database
from core.migrate import upgrade
from core.models import AuditRecord, OutboxEvent
from core.outbox import EventCatalogue, EventWriter

KEY = b"test-identity-key-0123456789abcdef"
START = dt.date(2025, 1, 2)
AUDIT_KEY = AuditKey(b"test-audit-key")
ACCESS_CODE = "482913"
SSN4 = "6789"


@dataclass
class Env:
    ccb: LocalCcb
    db: Database
    clock: ManualClock

    def to(self, day: dt.date, hour: int = 18) -> None:
        """Move the clock forward to ``hour`` o'clock local time on ``day`` (never backwards)."""
        when = local_time(day, hour)
        if when > self.clock.now():
            self.clock.set(when)


@dataclass
class Customer:
    account_id: str
    person_id: str
    premise_id: str
    e_meter: str
    w_meter: str
    e_sa: str
    w_sa: str


@pytest.fixture
async def env(hub_database_url: str, hub_clock: ManualClock) -> AsyncIterator[Env]:
    hub_clock.set(local_time(START, 9))
    db = Database(hub_database_url)
    catalogue = EventCatalogue()
    for et in CCB_EVENT_TYPES:
        catalogue.register(et.subject, et.payload, "core", et.description)
    ccb = LocalCcb(
        db,
        hub_clock,
        KEY,
        IdGenerator(random.Random(42)),
        events=EventWriter(catalogue, hub_clock, "core", lambda: None),
        audit=AuditLog(hub_clock, AUDIT_KEY),
    )
    try:
        yield Env(ccb, db, hub_clock)
    finally:
        await db.dispose()


def address(line1: str = "1200 W Sunset Blvd") -> p.Address:
    return p.Address(line1=line1, city="Los Angeles", zip="90026")


async def new_customer(
    env: Env,
    *,
    start: dt.date = START,
    phone: str = "(213) 555-0101",
    activate: bool = True,
    net_metered: bool = False,
) -> Customer:
    created = await env.ccb.create_customer(
        p.CreateCustomer(
            person=p.NewPerson(
                first_name="Ana",
                last_name="Reyes",
                phone=phone,
                mailing_address=address(),
                access_code=ACCESS_CODE,
                ssn_last4=SSN4,
            )
        ),
        actor="csr1",
    )
    premise = await env.ccb.create_premise(
        p.CreatePremise(
            address=address(),
            service_area_code="MET",
            electric_zone="1",
            water_temperature_zone="medium",
            lot_size_sqft=6000,
            net_metered=net_metered,
        )
    )
    started = await env.ccb.start_service(
        p.StartService(account_id=created.account_id, premise_id=premise.premise_id, start_date=start),
        actor="csr1",
    )
    if activate:
        await env.ccb.activate_due(start)
    meters = {sp.service: sp.meter for sp in premise.service_points}
    sas = {sa.sa_type: sa.sa_id for sa in started.service_agreements}
    e_meter, w_meter = meters["electric"], meters["water"]
    assert e_meter is not None and w_meter is not None
    return Customer(
        created.account_id,
        created.person_id,
        premise.premise_id,
        e_meter.meter_id,
        w_meter.meter_id,
        sas["E-NEM" if net_metered else "E-RES"],
        sas["W-RES"],
    )


async def read(
    env: Env, meter_id: str, day: dt.date, reading: int | None, read_type: str = "60", **kw: Any
) -> p.ReadResult:
    env.to(day)
    return await env.ccb.add_meter_read(
        p.AddMeterRead(
            meter_id=meter_id, read_at=local_time(day, 10), reading=reading, read_type=read_type, **kw
        )
    )


async def bill(env: Env, account_id: str, day: dt.date) -> p.BillView:
    env.to(day)
    view = await env.ccb.bill_account(p.BillAccount(account_id=account_id, cut_off=day, bill_date=day))
    assert view is not None
    return view


async def pay(env: Env, account_id: str, cents: int, key: str, **kw: Any) -> p.PaymentResult:
    tender = p.TenderInput(tender_type="cash", amount_cents=cents)
    return await env.ccb.post_payment(
        p.PostPayment(account_id=account_id, tenders=(tender,), **kw), idempotency_key=key, actor="csr1"
    )


async def count(env: Env, model: Any, *where: Any) -> int:
    async with env.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def frozen_ft_sum(env: Env, account_id: str) -> int:
    ft = m.FinancialTransaction
    async with env.db.session() as s:
        total = await s.scalar(
            select(func.coalesce(func.sum(ft.amount_cents), 0)).where(
                ft.account_id == account_id, ft.frozen.is_(True)
            )
        )
    return int(total or 0)


async def subjects(env: Env) -> list[str]:
    async with env.db.session() as s:
        return list((await s.scalars(select(OutboxEvent.subject).order_by(OutboxEvent.seq))).all())


async def billed_customer(env: Env, kwh: int = 1500, hcf: int = 40) -> tuple[Customer, p.BillView]:
    c = await new_customer(env)
    await read(env, c.e_meter, dt.date(2025, 3, 3), kwh)
    await read(env, c.w_meter, dt.date(2025, 3, 3), hcf)
    return c, await bill(env, c.account_id, dt.date(2025, 3, 5))


# ---------------------------------------------------------------------------------------------------
# bills equal the rate engine


async def test_bill_segments_equal_the_rate_engine_for_the_same_reads(env: Env) -> None:
    config = load_default_config()
    c, first = await billed_customer(env, kwh=1500, hcf=40)
    by_type = {s.sa_type: s for s in first.segments}
    electric = calculate_electric(config, "1", START, dt.date(2025, 3, 3), 1500)
    water = calculate_water(config, "medium", 6000, START, dt.date(2025, 3, 3), 40)
    assert by_type["E-RES"].amount_cents == electric.total_cents
    assert by_type["E-RES"].tier_quantities == [str(q) for q in electric.tier_quantities]
    assert by_type["W-RES"].amount_cents == water.total_cents
    assert by_type["W-RES"].quantity == "40.00"
    assert first.current_charges_cents == electric.total_cents + water.total_cents
    assert first.amount_due_cents == first.current_charges_cents
    assert first.due_date == dt.date(2025, 3, 5) + dt.timedelta(days=19)  # docs/ccb-domain.md §1.17

    # The next segment starts at the previous end read and crosses into the high season (§2.2).
    await read(env, c.e_meter, dt.date(2025, 7, 2), 5100)
    second = await bill(env, c.account_id, dt.date(2025, 7, 3))
    assert [s.sa_type for s in second.segments] == ["E-RES"]  # no new water read: no water segment
    expected = calculate_electric(config, "1", dt.date(2025, 3, 3), dt.date(2025, 7, 2), 3600)
    assert second.segments[0].amount_cents == expected.total_cents
    assert second.previous_balance_cents == first.amount_due_cents
    explanation = await env.ccb.bill_explanation(second.bill_id)
    assert any("high season" in line for line in explanation.segments[0].lines)
    assert (await env.ccb.get_balance(c.account_id)).balance_cents == await frozen_ft_sum(env, c.account_id)


# ---------------------------------------------------------------------------------------------------
# balance = sum of frozen FTs; cancellations reverse exactly


async def test_balance_is_the_sum_of_frozen_fts_and_cancels_reverse_exactly(env: Env) -> None:
    c, first = await billed_customer(env)
    billed = first.amount_due_cents

    async def balance() -> int:
        value = (await env.ccb.get_balance(c.account_id)).balance_cents
        assert value == await frozen_ft_sum(env, c.account_id)
        return value

    assert await balance() == billed
    charge = await env.ccb.create_adjustment(
        p.CreateAdjustment(
            sa_id=c.e_sa, adjustment_type="MISC_CHARGE", amount_cents=1234, reason="meter test fee"
        )
    )
    credit = await env.ccb.create_adjustment(
        p.CreateAdjustment(
            sa_id=c.w_sa, adjustment_type="GOODWILL_CREDIT", amount_cents=500, reason="long wait"
        )
    )
    assert (charge.amount_cents, credit.amount_cents) == (1234, -500)  # the type decides the sign (§1.8)
    payment = await pay(env, c.account_id, 10_000, "pay-1")
    assert await balance() == billed + 1234 - 500 - 10_000

    canceled = await env.ccb.cancel_payment(
        p.CancelPayment(payment_id=payment.payment_id, reason="posted twice")
    )
    assert canceled.status == "60"
    assert await balance() == billed + 1234 - 500
    await env.ccb.cancel_adjustment(p.CancelAdjustment(adjustment_id=charge.adjustment_id, reason="waived"))
    assert await balance() == billed - 500
    electric = next(s for s in first.segments if s.sa_type == "E-RES")
    await env.ccb.cancel_bill_segment(
        p.CancelBillSegment(bill_segment_id=electric.bill_segment_id, reason="bad read")
    )
    await env.ccb.cancel_adjustment(p.CancelAdjustment(adjustment_id=credit.adjustment_id, reason="error"))
    assert await balance() == billed - electric.amount_cents

    fts = await env.ccb.list_financial_transactions(c.account_id)
    by_id = {f.ft_id: f for f in fts}
    reversals = [f for f in fts if f.ft_type in ("BX", "AX", "PX")]
    assert sorted(f.ft_type for f in reversals) == ["AX", "AX", "BX", "PX"]
    for f in reversals:
        assert f.cancels_ft_id is not None
        assert f.amount_cents == -by_id[f.cancels_ft_id].amount_cents

    with pytest.raises(IllegalTransition) as exc:
        await env.ccb.cancel_payment(p.CancelPayment(payment_id=payment.payment_id, reason="again"))
    assert exc.value.current_status == "60"
    with pytest.raises(IllegalTransition) as exc:
        await env.ccb.cancel_bill_segment(
            p.CancelBillSegment(bill_segment_id=electric.bill_segment_id, reason="x")
        )
    assert exc.value.current_status == "60"
    async with env.db.session() as s:
        assert (await verify_chain(s, AUDIT_KEY)).ok


async def test_rebill_with_a_corrected_read(env: Env) -> None:
    config = load_default_config()
    c, first = await billed_customer(env, kwh=2000)
    electric = next(s for s in first.segments if s.sa_type == "E-RES")
    result = await env.ccb.rebill(
        p.Rebill(bill_segment_id=electric.bill_segment_id, reason="misread dial", corrected_reading=1500)
    )
    assert result.new_segment.rebill_of == electric.bill_segment_id
    expected = calculate_electric(config, "1", START, dt.date(2025, 3, 3), 1500).total_cents
    assert result.new_segment.amount_cents == expected
    corrected = await env.ccb.get_bill(first.bill_id)
    assert corrected.corrected
    assert {s.status for s in corrected.segments} == {"50", "60"}
    balance = await env.ccb.get_balance(c.account_id)
    assert balance.balance_cents == first.amount_due_cents - electric.amount_cents + expected
    reads = await env.ccb.list_reads(c.e_meter)
    assert [(r.reading, r.use_on_bill) for r in reads if r.reading in (1500, 2000)] == [
        (2000, False),
        (1500, True),
    ]


# ---------------------------------------------------------------------------------------------------
# payments: idempotency, distribution, atomicity


async def test_a_retried_payment_never_credits_twice(env: Env) -> None:
    c, first = await billed_customer(env)
    one = await pay(env, c.account_id, 2500, "pos-7:receipt-1")
    again = await pay(env, c.account_id, 2500, "pos-7:receipt-1")
    assert again.payment_event_id == one.payment_event_id and again.payment_id == one.payment_id
    assert (one.replayed, again.replayed) == (False, True)
    assert await count(env, m.PaymentEvent) == 1
    assert await count(env, m.FinancialTransaction, m.FinancialTransaction.ft_type == "PS") == len(
        one.distribution
    )
    assert (await env.ccb.get_balance(c.account_id)).balance_cents == first.amount_due_cents - 2500

    with pytest.raises(Invalid) as exc:
        await pay(env, c.account_id, 9999, "pos-7:receipt-1")
    assert exc.value.field == "idempotency_key"
    await pay(env, c.account_id, 2500, "pos-7:receipt-2")
    assert (await env.ccb.get_balance(c.account_id)).balance_cents == first.amount_due_cents - 5000
    assert (await subjects(env)).count("hub.ccb.payment.posted") == 2


async def test_a_failed_multi_tender_payment_leaves_nothing_behind(env: Env) -> None:
    c, first = await billed_customer(env)
    before_audit = await count(env, AuditRecord)
    bad = p.PostPayment(
        account_id=c.account_id,
        tenders=(
            p.TenderInput(tender_type="cash", amount_cents=1000),
            p.TenderInput(tender_type="check", amount_cents=2000, check_number="1042"),
            # A full card number where only the last four digits may go: refused, never stored.
            p.TenderInput(tender_type="card", amount_cents=500, card_last4="4111111111111111"),
        ),
    )
    with pytest.raises(Invalid) as exc:
        await env.ccb.post_payment(bad, idempotency_key="k-bad", actor="csr1")
    assert exc.value.field == "tenders[2].card_last4"
    for model in (m.PaymentEvent, m.Tender, m.Payment, m.PaySegment, m.IdempotencyRecord):
        assert await count(env, model) == 0, model.__tablename__
    assert await count(env, m.FinancialTransaction, m.FinancialTransaction.ft_type == "PS") == 0
    assert "hub.ccb.payment.posted" not in await subjects(env)
    assert await count(env, AuditRecord) == before_audit
    assert (await env.ccb.get_balance(c.account_id)).balance_cents == first.amount_due_cents

    good = p.PostPayment(
        account_id=c.account_id,
        tenders=(
            p.TenderInput(tender_type="cash", amount_cents=1000),
            p.TenderInput(tender_type="card", amount_cents=500, card_last4="1111", card_brand="VISA"),
        ),
    )
    result = await env.ccb.post_payment(good, idempotency_key="k-bad", actor="csr1")
    assert result.amount_cents == 1500
    assert [t.masked_pan for t in result.tenders if t.tender_type == "card"] == ["************1111"]
    with pytest.raises(NotFound):
        await pay(env, "1000000000", 100, "k-unknown")


async def test_payments_go_to_the_oldest_debt_first_and_past_due_follows(env: Env) -> None:
    c, first = await billed_customer(env)
    e1 = next(s for s in first.segments if s.sa_type == "E-RES").amount_cents
    w1 = next(s for s in first.segments if s.sa_type == "W-RES").amount_cents
    assert (await env.ccb.get_balance(c.account_id)).past_due_cents == 0  # not due until 3/24
    env.to(dt.date(2025, 3, 25))
    assert (await env.ccb.get_balance(c.account_id)).past_due_cents == e1 + w1

    await read(env, c.e_meter, dt.date(2025, 5, 2), 2600)
    second = await bill(env, c.account_id, dt.date(2025, 5, 5))
    e2 = second.segments[0].amount_cents
    # Same due date for E and W of bill 1: the caller's SA order (electric first) breaks the tie.
    part = await pay(env, c.account_id, e1 + 100, "p1")
    assert {d.sa_id: d.amount_cents for d in part.distribution} == {c.e_sa: e1, c.w_sa: 100}
    balance = await env.ccb.get_balance(c.account_id)
    assert balance.balance_cents == w1 - 100 + e2
    assert balance.past_due_cents == w1 - 100  # bill 2 is not due yet
    rest = await pay(env, c.account_id, w1 - 100 + 50, "p2")
    assert {d.sa_id: d.amount_cents for d in rest.distribution} == {c.w_sa: w1 - 100, c.e_sa: 50}
    env.to(dt.date(2025, 5, 30))
    assert (await env.ccb.get_balance(c.account_id)).past_due_cents == e2 - 50
    overpaid = await pay(env, c.account_id, e2 - 50 + 1000, "p3")
    assert sum(d.amount_cents for d in overpaid.distribution) == e2 + 950
    final = await env.ccb.get_balance(c.account_id)
    assert (final.balance_cents, final.past_due_cents) == (-1000, 0)


async def test_cash_drawer_balances_to_the_cent_and_deposits(env: Env) -> None:
    c, _ = await billed_customer(env)
    drawer = await env.ccb.open_tender_control(p.OpenTenderControl(csr="csr1", starting_float_cents=10_000))
    with pytest.raises(Invalid):
        await env.ccb.open_tender_control(p.OpenTenderControl(csr="csr1", starting_float_cents=0))
    await pay(env, c.account_id, 2500, "d1", tender_control_id=drawer.tender_control_id)
    await env.ccb.post_payment(
        p.PostPayment(
            account_id=c.account_id,
            tenders=(
                p.TenderInput(tender_type="check", amount_cents=1000, check_number="77"),
                p.TenderInput(tender_type="card", amount_cents=700, card_last4="4242"),
            ),
            tender_control_id=drawer.tender_control_id,
        ),
        idempotency_key="d2",
    )
    balancing = await env.ccb.start_balancing(p.StartBalancing(tender_control_id=drawer.tender_control_id))
    assert balancing.expected_cents == 10_000 + 2500 + 1000  # cards settle with the processor
    with pytest.raises(IllegalTransition) as exc:
        await pay(env, c.account_id, 100, "d3", tender_control_id=drawer.tender_control_id)
    assert exc.value.current_status == "balancing"
    balanced = await env.ccb.balance_tender_control(
        p.BalanceTenderControl(tender_control_id=drawer.tender_control_id, counted_cents=13_400)
    )
    assert (balanced.status, balanced.over_under_cents) == ("balanced", -100)
    deposit = await env.ccb.create_deposit_control(
        p.CreateDepositControl(tender_control_ids=(drawer.tender_control_id,))
    )
    assert deposit.total_cents == 3400
    with pytest.raises(Invalid):
        await env.ccb.create_deposit_control(
            p.CreateDepositControl(tender_control_ids=(drawer.tender_control_id,))
        )


async def test_canceling_a_tender_cancels_its_payments(env: Env) -> None:
    c, first = await billed_customer(env)
    result = await env.ccb.post_payment(
        p.PostPayment(
            account_id=c.account_id,
            tenders=(p.TenderInput(tender_type="check", amount_cents=3000, check_number="501"),),
        ),
        idempotency_key="chk",
    )
    bounced = await env.ccb.cancel_tender(p.CancelTender(tender_id=result.tenders[0].tender_id, reason="NSF"))
    assert bounced.canceled_payment_ids == [result.payment_id]
    assert (await env.ccb.get_payment(result.payment_id)).status == "60"
    assert (await env.ccb.get_balance(c.account_id)).balance_cents == first.amount_due_cents


# ---------------------------------------------------------------------------------------------------
# SA lifecycle (§1.5)


async def test_start_creates_pending_sas_that_activate_on_the_start_date(env: Env) -> None:
    start = dt.date(2025, 2, 1)
    c = await new_customer(env, start=start, activate=False)
    sa = await env.ccb.get_service_agreement(c.e_sa)
    assert (sa.status, sa.status_label) == ("10", "pending start")
    assert await env.ccb.activate_due(dt.date(2025, 1, 31)) == []
    with pytest.raises(IllegalTransition) as exc:
        await read(env, c.e_meter, dt.date(2025, 1, 20), 10)
    assert (exc.value.current_status, exc.value.action) == ("10", "add_meter_read")
    with pytest.raises(IllegalTransition) as exc:
        await env.ccb.stop_service(p.StopService(sa_id=c.e_sa, stop_date=dt.date(2025, 3, 1)))
    assert exc.value.current_status == "10"
    assert "pending start" in str(exc.value)
    with pytest.raises(IllegalTransition) as exc:
        await env.ccb.bill_account(p.BillAccount(account_id=c.account_id, cut_off=dt.date(2025, 1, 20)))
    assert (exc.value.current_status, exc.value.action) == ("10", "bill")
    assert sorted(await env.ccb.activate_due(start)) == sorted([c.e_sa, c.w_sa])
    assert (await env.ccb.get_service_agreement(c.e_sa)).status == "20"
    assert (await subjects(env)).count("hub.ccb.service.started") == 2

    other = await new_customer(env, start=dt.date(2025, 2, 10), activate=False, phone="2135550199")
    assert (await env.ccb.cancel_start(p.CancelStart(sa_id=other.e_sa))).status == "70"
    assert await env.ccb.activate_due(dt.date(2025, 2, 10)) == [other.w_sa]


async def test_illegal_transitions_name_the_current_status(env: Env) -> None:
    c = await new_customer(env)
    with pytest.raises(IllegalTransition) as exc:
        await env.ccb.cancel_stop(p.CancelStop(sa_id=c.e_sa))
    assert exc.value.current_status == "20"
    with pytest.raises(IllegalTransition) as exc:
        await env.ccb.restore_service(p.RestoreService(sa_id=c.e_sa, restore_date=START, reason="x"))
    assert exc.value.current_status == "20"
    stopped = await env.ccb.stop_service(p.StopService(sa_id=c.e_sa, stop_date=dt.date(2025, 3, 1)))
    assert stopped.status == "30"
    with pytest.raises(IllegalTransition) as exc:
        await env.ccb.stop_service(p.StopService(sa_id=c.e_sa, stop_date=dt.date(2025, 3, 2)))
    assert exc.value.current_status == "30"
    assert (await env.ccb.cancel_stop(p.CancelStop(sa_id=c.e_sa))).status == "20"
    with pytest.raises(Invalid):
        await env.ccb.start_service(
            p.StartService(account_id=c.account_id, premise_id=c.premise_id, start_date=dt.date(2025, 2, 1))
        )
    with pytest.raises(NotFound):
        await env.ccb.stop_service(p.StopService(sa_id="9999999999", stop_date=START))


async def test_stop_finalizes_on_the_stop_date_with_a_final_bill_then_close_and_restore(env: Env) -> None:
    config = load_default_config()
    c, first = await billed_customer(env, kwh=1500, hcf=40)
    stop = dt.date(2025, 4, 15)
    env.to(dt.date(2025, 4, 1))
    await env.ccb.stop_service(p.StopService(sa_id=c.e_sa, stop_date=stop, stop_reading=2100))
    await env.ccb.stop_service(p.StopService(sa_id=c.w_sa, stop_date=stop))
    assert await env.ccb.finalize_due(dt.date(2025, 4, 14)) == []
    env.to(stop)
    assert sorted(await env.ccb.finalize_due(stop)) == sorted([c.e_sa, c.w_sa])
    summary = await env.ccb.get_account_summary(c.account_id)
    assert {sa.status for sa in summary.service_agreements} == {"40"}
    final = await env.ccb.get_bill(summary.last_bills[0].bill_id)
    assert final.is_final
    segment = next(s for s in final.segments if s.sa_type == "E-RES")
    assert (segment.period_start, segment.period_end, segment.end_reading) == (
        dt.date(2025, 3, 3),
        stop,
        2100,
    )
    assert segment.amount_cents == calculate_electric(config, "1", dt.date(2025, 3, 3), stop, 600).total_cents
    water = next(s for s in final.segments if s.sa_type == "W-RES")
    assert water.period_end == stop  # the stop read was carried or estimated for the water meter
    assert (await subjects(env)).count("hub.ccb.service.stopped") == 2

    # Paying the final bill settles the stopped SAs: 40 -> 60 (closed).
    await pay(env, c.account_id, final.amount_due_cents, "final")
    assert {sa.status for sa in (await env.ccb.get_account_summary(c.account_id)).service_agreements} == {
        "60"
    }
    restored = await env.ccb.restore_service(
        p.RestoreService(sa_id=c.e_sa, restore_date=dt.date(2025, 4, 20), reason="stopped in error")
    )
    assert (restored.status, restored.status_label) == ("50", "reactivated")
    assert "hub.ccb.service.restored" in await subjects(env)
    # A reactivated SA bills again from the stop read.
    await read(env, c.e_meter, dt.date(2025, 6, 2), 2500)
    after = await bill(env, c.account_id, dt.date(2025, 6, 3))
    assert [(s.start_reading, s.end_reading) for s in after.segments] == [(2100, 2500)]
    assert first.bill_id != after.bill_id


# ---------------------------------------------------------------------------------------------------
# reads: estimates and the third-estimate investigation


async def test_third_consecutive_estimate_opens_a_case_and_a_field_activity(env: Env) -> None:
    c = await new_customer(env)
    await read(env, c.e_meter, dt.date(2025, 3, 3), 1200)
    await read(env, c.e_meter, dt.date(2025, 5, 2), 2400)
    first = await read(env, c.e_meter, dt.date(2025, 7, 1), None, read_type="20")  # No Read -> estimate
    assert first.estimate is not None and first.estimate.read_type == "45"
    assert first.consecutive_estimates == 1 and first.case_id is None
    second = await read(env, c.e_meter, dt.date(2025, 9, 2), 3700, read_type="40")
    assert second.consecutive_estimates == 2 and second.case_id is None
    third = await read(env, c.e_meter, dt.date(2025, 11, 3), None, read_type="20")
    assert third.consecutive_estimates == 3
    assert third.case_id is not None and third.field_activity_id is not None
    case = await env.ccb.get_case(third.case_id)
    assert (case.case_type, case.status, case.meter_id, case.account_id) == (
        "ESTIMATED_READS",
        "OPEN",
        c.e_meter,
        c.account_id,
    )
    fa = await env.ccb.get_field_activity(third.field_activity_id)
    assert (fa.fa_type, fa.status, fa.case_id, fa.premise_id) == (
        "READ_INVESTIGATION",
        "P",
        case.case_id,
        c.premise_id,
    )
    fourth = await read(env, c.e_meter, dt.date(2026, 1, 2), None, read_type="20")
    assert fourth.consecutive_estimates == 4 and fourth.case_id is None  # one open case per meter
    events = await subjects(env)
    assert events.count("hub.ccb.read.estimated_streak") == 1
    assert events.count("hub.ccb.read.access_failed") == 3
    assert "hub.ccb.case.opened" in events
    # An actual read ends the streak.
    actual = await read(env, c.e_meter, dt.date(2026, 3, 2), 6100)
    assert actual.consecutive_estimates == 0
    bill_view = await bill(env, c.account_id, dt.date(2026, 3, 3))
    assert not bill_view.segments[0].estimated


# ---------------------------------------------------------------------------------------------------
# identity, main customer


async def test_identity_verification_compares_keyed_hashes_and_locks(env: Env) -> None:
    c = await new_customer(env)
    assert await env.ccb.verify_identity(c.account_id, "access_code", ACCESS_CODE)
    assert await env.ccb.verify_identity(c.account_id, "ssn_last4", SSN4)
    assert not await env.ccb.verify_identity(c.account_id, "ssn_last4", "0000")
    async with env.db.session() as s:
        person = await s.get(m.Person, c.person_id)
        assert person is not None and person.access_code_hash and person.ssn_last4_hash
        assert ACCESS_CODE not in person.access_code_hash and len(person.ssn_last4_hash) == 64
        raw = (await s.execute(text("SELECT * FROM ccb_person"))).all()
        assert all(ACCESS_CODE not in str(row) and SSN4 not in str(row) for row in raw)
        details = (await s.scalars(select(AuditRecord.detail))).all()
        assert all(ACCESS_CODE not in str(d) and "0000" not in str(d) for d in details)
    view = await env.ccb.get_person(c.person_id)
    assert view.has_access_code and "hash" not in str(msgspec_fields(view))

    # A success resets the count; the fifth failure within 24 hours locks.
    assert await env.ccb.verify_identity(c.account_id, "access_code", ACCESS_CODE)
    for _ in range(4):
        assert not await env.ccb.verify_identity(c.account_id, "access_code", "111999")
    env.clock.advance(dt.timedelta(hours=25))  # the window ran out: counting starts again
    assert not await env.ccb.verify_identity(c.account_id, "access_code", "111999")
    assert not (await env.ccb.get_account_summary(c.account_id)).verification_locked
    for _ in range(4):
        assert not await env.ccb.verify_identity(c.account_id, "access_code", "111999")
    with pytest.raises(VerificationLocked) as exc:
        await env.ccb.verify_identity(c.account_id, "access_code", ACCESS_CODE)
    assert exc.value.current_status == "locked"
    assert "hub.ccb.identity.locked" in await subjects(env)
    await env.ccb.unlock_verification(p.UnlockVerification(account_id=c.account_id), actor="supervisor1")
    assert await env.ccb.verify_identity(c.account_id, "access_code", ACCESS_CODE)
    with pytest.raises(Invalid):
        await env.ccb.set_access_code(p.SetAccessCode(person_id=c.person_id, access_code="123456"))
    await env.ccb.set_access_code(p.SetAccessCode(person_id=c.person_id, access_code="730215"))
    assert not await env.ccb.verify_identity(c.account_id, "access_code", ACCESS_CODE)
    assert await env.ccb.verify_identity(c.account_id, "access_code", "730215")


def msgspec_fields(view: Any) -> tuple[str, ...]:
    return tuple(view.__struct_fields__)


async def test_an_account_has_exactly_one_main_customer(env: Env) -> None:
    c = await new_customer(env)
    spouse = await env.ccb.add_account_person(
        p.AddAccountPerson(
            account_id=c.account_id,
            relationship="spouse",
            person=p.NewPerson(
                first_name="Luis", last_name="Reyes", phone="3235550142", mailing_address=address()
            ),
        )
    )
    summary = await env.ccb.get_account_summary(c.account_id)
    assert summary.main_customer.person_id == c.person_id
    assert [x.is_main_customer for x in summary.persons] == [True, False]
    with pytest.raises(Invalid):
        await env.ccb.add_account_person(
            p.AddAccountPerson(account_id=c.account_id, relationship="SPOUSE", person_id=spouse.person_id)
        )
    await env.ccb.set_main_customer(p.SetMainCustomer(account_id=c.account_id, person_id=spouse.person_id))
    summary = await env.ccb.get_account_summary(c.account_id)
    assert summary.main_customer.person_id == spouse.person_id
    assert summary.main_customer.financially_responsible
    assert sum(x.is_main_customer for x in summary.persons) == 1
    assert await env.ccb.find_accounts_by_phone("+1 (323) 555-0142") == [c.account_id]
    # The database refuses a second main customer even if the service were bypassed.
    with pytest.raises(IntegrityError):
        async with env.db.session() as s:
            await s.execute(
                update(m.AccountPerson)
                .where(m.AccountPerson.account_id == c.account_id)
                .values(is_main_customer=True, financially_responsible=True)
            )


# ---------------------------------------------------------------------------------------------------
# plans and arrangements, deposits


async def test_pay_plan_is_quoted_monitored_kept_or_broken(env: Env) -> None:
    c, first = await billed_customer(env)
    env.to(dt.date(2025, 3, 26))
    plan = await env.ccb.create_pay_plan(
        p.CreatePayPlan(account_id=c.account_id, installments=3, first_due=dt.date(2025, 4, 10))
    )
    assert plan.total_cents == first.amount_due_cents
    assert sum(i.amount_cents for i in plan.installments) == plan.total_cents
    with pytest.raises(Invalid):
        await env.ccb.create_pay_plan(
            p.CreatePayPlan(account_id=c.account_id, installments=2, first_due=dt.date(2025, 4, 10))
        )
    await pay(env, c.account_id, plan.installments[0].amount_cents, "pp1")
    assert await env.ccb.monitor_pay_plans(dt.date(2025, 5, 20)) == []  # second installment just missed
    current = await env.ccb.get_pay_plan(plan.pay_plan_id)
    assert [i.status for i in current.installments] == ["paid", "missed", "scheduled"]
    changed = await env.ccb.monitor_pay_plans(dt.date(2025, 7, 15))  # 60+ days after the 5/10 installment
    assert [v.status for v in changed] == ["broken"]
    with pytest.raises(IllegalTransition) as exc:
        await env.ccb.cancel_pay_plan(p.CancelPayPlan(pay_plan_id=plan.pay_plan_id, reason="x"))
    assert exc.value.current_status == "broken"


async def test_payment_arrangement_moves_arrears_to_installments_on_the_bills(env: Env) -> None:
    c, first = await billed_customer(env)
    env.to(dt.date(2025, 3, 26))
    arrears = (await env.ccb.get_balance(c.account_id)).past_due_cents
    arrangement = await env.ccb.create_payment_arrangement(
        p.CreatePaymentArrangement(account_id=c.account_id, installments=3)
    )
    assert arrangement.arrears_cents == arrears and sum(arrangement.installment_amounts) == arrears
    after = await env.ccb.get_balance(c.account_id)
    assert (after.balance_cents, after.past_due_cents) == (first.amount_due_cents, 0)
    await read(env, c.e_meter, dt.date(2025, 5, 2), 2600)
    second = await bill(env, c.account_id, dt.date(2025, 5, 5))
    # The transfer credits and exactly one installment appear on the next bill.
    assert second.adjustments_cents == -arrears + arrangement.installment_amounts[0]
    env.to(dt.date(2025, 5, 30))
    past_due = (await env.ccb.get_balance(c.account_id)).past_due_cents
    assert past_due == second.current_charges_cents + arrangement.installment_amounts[0]


async def test_deposit_recommendation_is_twice_the_average_bill(env: Env) -> None:
    c, first = await billed_customer(env)
    deposit = await env.ccb.request_deposit(p.RequestDeposit(account_id=c.account_id))
    assert deposit.recommended_cents == deposit.amount_cents == 2 * first.current_charges_cents
    assert deposit.status == "billed"
    await pay(env, c.account_id, first.amount_due_cents + deposit.amount_cents, "dep")
    summary = await env.ccb.get_account_summary(c.account_id)
    assert summary.balance_cents == 0
    async with env.db.session() as s:
        row = await s.get(m.Deposit, deposit.deposit_id)
        assert row is not None and row.status == "held"


# ---------------------------------------------------------------------------------------------------
# contacts, notes, cases, field activities, To Do


async def test_free_text_is_redacted_and_cases_follow_their_type(env: Env) -> None:
    c = await new_customer(env)
    contact = await env.ccb.add_customer_contact(
        p.AddCustomerContact(
            contact_class="BILLING",
            contact_type="HIGH_BILL",
            account_id=c.account_id,
            log_text="Caller read card 4111 1111 1111 1111 aloud; SSN 123-45-6789",
            open=True,
        ),
        actor="csr1",
    )
    assert "4111 1111 1111 1111" not in contact.log_text and "1111]" in contact.log_text
    assert "123-45-6789" not in contact.log_text
    assert contact.entity == "PER" and contact.person_id == c.person_id and contact.status == "10"
    with pytest.raises(Invalid) as exc:
        await env.ccb.add_customer_contact(
            p.AddCustomerContact(contact_class="BILLING", contact_type="HIGH_BILL", log_text="x")
        )
    assert exc.value.field == "account_id"
    note = await env.ccb.add_premise_note(
        p.AddPremiseNote(premise_id=c.premise_id, text="ss# 123456789 on gate")
    )
    assert "123456789" not in note.text
    access = await env.ccb.set_property_access(
        p.SetPropertyAccess(
            premise_id=c.premise_id, gate_code="#4590", has_dog=True, reader_notes="side gate"
        )
    )
    assert (access.gate_code, access.has_dog, access.reader_notes) == ("#4590", True, "side gate")

    case = await env.ccb.create_case(
        p.CreateCase(
            case_type="HIGH_BILL",
            summary="bill doubled",
            account_id=c.account_id,
            contact_id=contact.contact_id,
        )
    )
    assert (case.status, case.allowed_next) == ("OPEN", ["CLOSED", "INVESTIGATING"])
    with pytest.raises(IllegalTransition) as illegal:
        await env.ccb.transition_case(p.TransitionCase(case_id=case.case_id, to_status="RESOLVED"))
    assert illegal.value.current_status == "OPEN"
    for status in ("INVESTIGATING", "RESOLVED", "CLOSED"):
        case = await env.ccb.transition_case(
            p.TransitionCase(case_id=case.case_id, to_status=status, note=status)
        )
    assert case.final and len(case.log) == 4

    ticket = await env.ccb.create_field_activity(
        p.CreateFieldActivity(fa_type="TROUBLE", premise_id=c.premise_id, instructions="lights flickering")
    )
    assert ticket.priority == 1
    assert "hub.ccb.trouble_ticket.created" in await subjects(env)
    done = await env.ccb.complete_field_activity(
        p.CompleteFieldActivity(field_activity_id=ticket.field_activity_id)
    )
    assert done.status == "C"
    with pytest.raises(IllegalTransition) as illegal:
        await env.ccb.cancel_field_activity(
            p.CancelFieldActivity(field_activity_id=ticket.field_activity_id, reason="x")
        )
    assert illegal.value.current_status == "C"

    todo = await env.ccb.create_todo(
        p.CreateToDo(
            role="billing", todo_type="review", message="check tiers", related_kind="case", related_id="1"
        )
    )
    assert [t.todo_id for t in await env.ccb.list_todos(role="BILLING", status="O")] == [todo.todo_id]
    worked = await env.ccb.update_todo(p.UpdateToDo(todo_id=todo.todo_id, status="W"), actor="lead1")
    assert (worked.status, worked.assigned_to) == ("W", "lead1")
    await env.ccb.update_todo(p.UpdateToDo(todo_id=todo.todo_id, status="C"))
    with pytest.raises(IllegalTransition):
        await env.ccb.update_todo(p.UpdateToDo(todo_id=todo.todo_id, status="O"))
    assert await env.ccb.find_accounts_by_address("sunset", "90026") == [c.account_id]


# ---------------------------------------------------------------------------------------------------
# net energy metering (docs/ccb-domain.md §4.1): a net meter, an E-NEM SA, net billing with a kWh credit


async def test_a_net_metered_sa_bills_the_net_and_carries_its_credit_to_the_final_bill(env: Env) -> None:
    c = await new_customer(env, net_metered=True)
    premise = await env.ccb.get_premise(c.premise_id)
    electric = next(sp.meter for sp in premise.service_points if sp.service == "electric")
    water = next(sp.meter for sp in premise.service_points if sp.service == "water")
    assert electric is not None and water is not None
    assert (electric.registers, water.registers) == (("delivered", "received"), ("delivered",))
    assert (await env.ccb.get_service_agreement(c.e_sa)).sa_type == "E-NEM"

    # Jan 2 -> Mar 3 2025 (60 low-season days): 900 kWh delivered, 1,300 received: net -400 kWh.
    first = await read(env, c.e_meter, dt.date(2025, 3, 3), 900, received_reading=1_300)
    assert first.received is not None and (first.received.register, first.received.reading) == (
        "received",
        1300,
    )
    bill1 = await bill(env, c.account_id, dt.date(2025, 3, 5))
    (seg1,) = [s for s in bill1.segments if s.sa_type == "E-NEM"]
    # No kWh billed: PAC tier 1 $2.30 x 60/30 = $4.60, topped up to the minimum $10 x 60/30 = $20.00.
    assert (seg1.quantity, seg1.amount_cents) == ("0.00", 2000)

    # Mar 3 -> May 2 (60 days): 1,000 delivered, 300 received: net 700, less the 400 kWh credit = 300 kWh,
    # all tier 1 (700 kWh for 60 days): 300 x 0.19645 = 58.935 -> $58.94, + PAC tier 1 $4.60.
    await read(env, c.e_meter, dt.date(2025, 5, 2), 1_900, received_reading=1_600)
    bill2 = await bill(env, c.account_id, dt.date(2025, 5, 4))
    (seg2,) = bill2.segments
    assert (seg2.quantity, seg2.tier_quantities, seg2.amount_cents) == (
        "300.00",
        ["300.00", "0.00", "0.00"],
        6354,
    )

    nem = await env.ccb.get_net_metering(c.account_id)
    assert nem is not None and (nem.sa_id, nem.badge_number, nem.credit_bank_kwh) == (
        c.e_sa,
        electric.badge_number,
        "0.00",
    )
    latest, earlier = nem.periods
    assert (earlier.net_kwh, earlier.billed_kwh, earlier.credit_out_kwh) == ("-400.00", "0.00", "400.00")
    assert (latest.delivered_start_reading, latest.delivered_end_reading) == (900, 1900)
    assert (latest.received_start_reading, latest.received_end_reading) == (1300, 1600)
    assert (latest.net_kwh, latest.credit_in_kwh, latest.credit_used_kwh, latest.billed_kwh) == (
        "700.00",
        "400.00",
        "400.00",
        "300.00",
    )
    assert [(t.tier, t.kwh, t.unit_price, t.amount_cents) for t in latest.tier_lines] == [
        (1, "300.00", "0.19645", 5894)
    ]
    assert (latest.energy_cents, latest.charges_cents, latest.amount_cents) == (5894, 460, 6354)
    words = (await env.ccb.bill_explanation(bill2.bill_id)).segments[0].lines
    assert any("kWh received (sent to the grid): register 1300 -> 1600 = 300 kWh" in w for w in words)
    assert any("Solar credit carried in: 400 kWh" in w for w in words)

    # Reads are per register; the received register is not on a water meter.
    assert [r.reading for r in await env.ccb.list_reads(c.e_meter, "received")] == [0, 1300, 1600]
    assert [r.reading for r in await env.ccb.list_reads(c.e_meter)] == [0, 900, 1900]
    with pytest.raises(Invalid) as no_register:
        await env.ccb.list_reads(c.w_meter, "received")
    assert no_register.value.field == "register"
    with pytest.raises(Invalid) as not_net:
        await read(env, c.w_meter, dt.date(2025, 5, 2), 30, received_reading=5)
    assert not_net.value.field == "received_reading"

    # A cancel/rebill re-prices the same period with the same credit carried in.
    rebilled = await env.ccb.rebill(p.Rebill(bill_segment_id=seg2.bill_segment_id, reason="review"))
    assert rebilled.new_segment.amount_cents == 6354
    again = await env.ccb.get_net_metering(c.account_id)
    assert again is not None and again.periods[0].credit_in_kwh == "400.00"

    # May 2 -> Jul 1: 500 delivered, 900 received (net -400) and the customer moves out: the stop read
    # comes from the STOP field activity, and the final bill forfeits the credit left (§4.1).
    env.to(dt.date(2025, 6, 20))
    await env.ccb.stop_service(p.StopService(sa_id=c.e_sa, stop_date=dt.date(2025, 7, 1)))
    async with env.db.session() as s:
        fa_id = await s.scalar(
            select(m.FieldActivity.id).where(
                m.FieldActivity.sa_id == c.e_sa, m.FieldActivity.fa_type == "STOP"
            )
        )
    env.to(dt.date(2025, 7, 1))
    await env.ccb.complete_field_activity(
        p.CompleteFieldActivity(field_activity_id=str(fa_id), reading=2_400, received_reading=2_500)
    )
    assert await env.ccb.finalize_due(dt.date(2025, 7, 1)) == [c.e_sa]
    final = await env.ccb.get_net_metering(c.account_id)
    assert final is not None and final.sa_status == "40"
    last = final.periods[0]
    assert (last.net_kwh, last.credit_earned_kwh, last.credit_out_kwh, last.credit_forfeited_kwh) == (
        "-400.00",
        "400.00",
        "0.00",
        "400.00",
    )
    assert (last.amount_cents, final.credit_bank_kwh) == (2000, "0.00")


async def test_a_net_meter_read_without_the_received_register_is_estimated_and_no_reads_cover_both(
    env: Env,
) -> None:
    c = await new_customer(env, net_metered=True)
    await read(env, c.e_meter, dt.date(2025, 3, 3), 900, received_reading=1_200)
    await read(env, c.e_meter, dt.date(2025, 5, 2), 1_800, received_reading=2_400)  # 20 kWh/day received
    # The customer reads the delivered register only: the received one is estimated from its history.
    given = await read(env, c.e_meter, dt.date(2025, 6, 1), 2_250, read_type="50", source="customer")
    assert given.received is not None
    assert (given.received.read_type, given.received.reading) == ("45", 3000)  # 2,400 + 30 days x 20
    # A No Read is a No Read on both registers, each followed by its own estimate.
    missed = await read(env, c.e_meter, dt.date(2025, 7, 1), None, read_type="20")
    assert missed.estimate is not None and missed.received is not None
    assert missed.received.read_type == "45" and missed.received.register == "received"
    received = await env.ccb.list_reads(c.e_meter, "received")
    assert [r.read_type for r in received[-2:]] == ["20", "45"]
    with pytest.raises(Invalid) as bad:
        await read(env, c.e_meter, dt.date(2025, 7, 2), None, read_type="20", received_reading=1)
    assert bad.value.field == "received_reading"
    billed = await bill(env, c.account_id, dt.date(2025, 7, 3))
    (segment,) = [s for s in billed.segments if s.sa_type == "E-NEM"]
    assert segment.estimated  # its end reads are estimates


async def test_net_metering_reads_answer_none_for_an_ordinary_account_and_refuse_bad_input(env: Env) -> None:
    c = await new_customer(env)
    assert await env.ccb.get_net_metering(c.account_id) is None
    with pytest.raises(NotFound):
        await env.ccb.get_net_metering("0000000000")
    with pytest.raises(Invalid) as bad:
        await env.ccb.get_net_metering(c.account_id, limit=0)
    assert bad.value.field == "limit"
    with pytest.raises(Invalid) as water_only:
        await env.ccb.create_premise(
            p.CreatePremise(
                address=address("9 Elm St"),
                service_area_code="MET",
                electric_zone="1",
                water_temperature_zone="low",
                lot_size_sqft=5000,
                services=("water",),
                net_metered=True,
            )
        )
    assert water_only.value.field == "net_metered"


# ---------------------------------------------------------------------------------------------------
# PostgreSQL: concurrent retries of one payment from two hub processes


@pytest.mark.postgres
async def test_concurrent_retries_of_a_payment_credit_once_on_postgresql(postgres_url: str) -> None:
    await asyncio.to_thread(upgrade, postgres_url)
    clock = ManualClock(local_time(START, 9))
    # Two LocalCcb instances on two engines: what two hub processes behind a load balancer would be.
    first_db, second_db = Database(postgres_url), Database(postgres_url)
    try:
        env = Env(LocalCcb(first_db, clock, KEY, IdGenerator(random.Random(1))), first_db, clock)
        other = LocalCcb(second_db, clock, KEY, IdGenerator(random.Random(2)))
        c, first = await billed_customer(env)
        request = p.PostPayment(
            account_id=c.account_id, tenders=(p.TenderInput(tender_type="cash", amount_cents=4321),)
        )
        results = await asyncio.gather(
            *(
                ccb.post_payment(request, idempotency_key="pos-1:receipt-9")
                for ccb in (env.ccb, other, env.ccb, other)
            )
        )
        assert len({r.payment_event_id for r in results}) == 1
        assert sum(not r.replayed for r in results) == 1
        assert await count(env, m.PaymentEvent) == 1
        assert (await env.ccb.get_balance(c.account_id)).balance_cents == first.amount_due_cents - 4321
    finally:
        await first_db.dispose()
        await second_db.dispose()
