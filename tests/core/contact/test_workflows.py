"""CSR workflows over HTTP on seeded customers: stop and restore, property access and trouble tickets,
customer and field reads, field investigations, payment plans, the tier review and returned mail."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, update

from core.bus import Envelope
from core.ccb import models as m
from core.ccb import port as p
from core.ccb.billing import local_time
from core.ccb.seed import DEFAULT_AS_OF, SeedAccount, identity_key, seed_customers
from core.clock import ManualClock
from core.models import OutboxEvent

TODAY = DEFAULT_AS_OF + dt.timedelta(days=3)  # 2025-11-03; the seeded year ends on DEFAULT_AS_OF
LEAD_REASON = {"X-Access-Reason": "field work review"}


@pytest.fixture
def hub_clock() -> ManualClock:
    return ManualClock(local_time(TODAY, 9))


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {"plugins": {"telephony": {"tick_seconds": 0}}}


@pytest.fixture
async def customers(hub: Any) -> list[SeedAccount]:
    return await seed_customers(hub.db, 6, 7, identity_key(hub.settings.secret_key))


@pytest.fixture
async def ann(staff_token: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {await staff_token('csr', 'call-center', name='ann')}"}


@pytest.fixture
async def lead(staff_token: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {await staff_token('lead', 'call-center', name='lee')}"}


async def in_contact(client: Any, headers: dict[str, str], customer: SeedAccount) -> dict[str, str]:
    """Open a contact, verify the customer, and return headers that carry the contact."""
    r = await client.post("/api/contacts", headers=headers, json={"channel": "counter"})
    contact = r.json()["contact_id"]
    v = await client.post(
        f"/api/contacts/{contact}/verify",
        headers=headers,
        json={"account_id": customer.account_id, "method": "ssn_last4", "value": customer.ssn_last4},
    )
    assert v.status_code == 200
    return {**headers, "X-Contact-Id": contact}


async def sa_of(hub: Any, account_id: str, sa_type: str) -> Any:
    summary = await hub.ccb.get_account_summary(account_id)
    return next(sa for sa in summary.service_agreements if sa.sa_type == sa_type)


async def meter_of(hub: Any, account_id: str, service: str) -> Any:
    summary = await hub.ccb.get_account_summary(account_id)
    premise = await hub.ccb.get_premise(summary.premises[0].premise_id)
    return next(sp.meter for sp in premise.service_points if sp.service == service)


def key_of(response: Any) -> str:
    return str(response.json()["extra"][0]["key"])


async def test_stop_and_restore_follow_the_sa_lifecycle(
    hub: Any, hub_client: Any, ann: dict[str, str], customers: list[SeedAccount], hub_clock: ManualClock
) -> None:
    customer = customers[0]
    headers = await in_contact(hub_client, ann, customer)
    sa = await sa_of(hub, customer.account_id, "E-RES")
    stop_url = f"/api/ccb/service-agreements/{sa.sa_id}/stop"
    restore_url = f"/api/ccb/service-agreements/{sa.sa_id}/restore"
    stop_day = TODAY + dt.timedelta(days=5)

    past = await hub_client.post(stop_url, headers=headers, json={"stop_date": "2025-11-01"})
    assert past.status_code == 422 and key_of(past) == "stop_date" and "past" in past.json()["detail"]
    as_float = await hub_client.post(
        stop_url, headers=headers, json={"stop_date": stop_day.isoformat(), "stop_reading": 1.5}
    )
    assert as_float.status_code == 422 and key_of(as_float) == "stop_reading"
    assert (
        await hub_client.post(stop_url, headers=ann, json={"stop_date": stop_day.isoformat()})
    ).status_code == 403

    stopped = await hub_client.post(stop_url, headers=headers, json={"stop_date": stop_day.isoformat()})
    assert stopped.status_code == 200 and stopped.json()["status"] == "30"
    twice = await hub_client.post(stop_url, headers=headers, json={"stop_date": stop_day.isoformat()})
    assert twice.status_code == 409
    assert twice.json()["extra"]["current_status"] == "30" and "pending stop" in twice.json()["detail"]
    early = await hub_client.post(
        restore_url, headers=headers, json={"restore_date": TODAY.isoformat(), "reason": "stopped in error"}
    )
    assert early.status_code == 409 and early.json()["extra"]["current_status"] == "30"

    hub_clock.set(local_time(stop_day, 18))
    assert await hub.ccb.finalize_due(stop_day) == [sa.sa_id]
    assert (await hub.ccb.get_service_agreement(sa.sa_id)).status == "40"
    restored = await hub_client.post(
        restore_url,
        headers=headers,
        json={"restore_date": stop_day.isoformat(), "reason": "stopped in error"},
    )
    assert restored.status_code == 200 and restored.json()["status"] == "50"
    missing = await hub_client.post(
        "/api/ccb/service-agreements/1234567890/stop",
        headers=headers,
        json={"stop_date": stop_day.isoformat()},
    )
    assert missing.status_code == 404

    note = (
        await hub_client.post(
            f"/api/contacts/{headers['X-Contact-Id']}/wrap-up", headers=ann, json={"note_kind": "customer"}
        )
    ).json()
    assert f"stop of SA {sa.sa_id}" in note["note"] and f"restore of SA {sa.sa_id}" in note["note"]
    logged = await hub.ccb.list_customer_contacts(customer.account_id)
    assert (logged[0].contact_class, logged[0].contact_type) == ("SERVICE", "START_STOP")


async def test_start_service_refuses_a_past_date_and_names_the_premise_conflict(
    hub: Any, hub_client: Any, ann: dict[str, str], customers: list[SeedAccount]
) -> None:
    customer = customers[0]
    headers = await in_contact(hub_client, ann, customer)
    url = f"/api/ccb/accounts/{customer.account_id}/service/start"
    body = {"premise_id": customer.premise_id, "start_date": TODAY.isoformat()}
    busy = await hub_client.post(url, headers=headers, json=body)
    assert busy.status_code == 422 and key_of(busy) == "services"  # the premise's services are on
    past = await hub_client.post(url, headers=headers, json={**body, "start_date": "2025-10-01"})
    assert past.status_code == 422 and key_of(past) == "start_date"
    unknown = await hub_client.post(url, headers=headers, json={**body, "premise_id": "1234567890"})
    assert unknown.status_code == 404

    # A move to a new premise: pending-start SAs and a START field activity per service.
    new_home = await hub.ccb.create_premise(
        p.CreatePremise(
            address=p.Address(line1="4500 Woodley Ave", city="Encino", zip="91436"),
            service_area_code="SFV",
            electric_zone="2",
            water_temperature_zone="high",
            lot_size_sqft=7200,
        )
    )
    start_day = (TODAY + dt.timedelta(days=7)).isoformat()
    started = await hub_client.post(
        url, headers=headers, json={"premise_id": new_home.premise_id, "start_date": start_day}
    )
    assert started.status_code == 201, started.text
    result = started.json()
    assert [(sa["sa_type"], sa["status"]) for sa in result["service_agreements"]] == [
        ("E-RES", "10"),
        ("W-RES", "10"),
    ]
    assert len(result["field_activity_ids"]) == 2


async def test_property_access_is_redacted_and_trouble_tickets_get_a_dispatch_priority(
    hub: Any, hub_client: Any, ann: dict[str, str], customers: list[SeedAccount], drain: Any
) -> None:
    seen: list[Envelope] = []

    async def keep(env: Envelope) -> None:
        seen.append(env)

    await hub.bus.subscribe("hub.>", keep)
    customer = customers[0]
    headers = await in_contact(hub_client, ann, customer)
    access = await hub_client.put(
        f"/api/ccb/premises/{customer.premise_id}/access",
        headers=headers,
        json={
            "gate_code": "#4821",
            "has_dog": True,
            "reader_notes": "key under mat, card 4111 1111 1111 1111",
        },
    )
    assert access.status_code == 200, access.text
    premise = access.json()
    assert (premise["gate_code"], premise["has_dog"]) == ("#4821", True)
    assert "4111 1111" not in premise["reader_notes"] and "[card ****1111]" in premise["reader_notes"]
    assert (
        await hub_client.put("/api/ccb/premises/1234567890/access", headers=headers, json={})
    ).status_code == 404

    url = f"/api/ccb/premises/{customer.premise_id}/trouble-tickets"
    ticket = await hub_client.post(
        url,
        headers=headers,
        json={"service": "electric", "problem": "wires_down", "details": "sparking line"},
    )
    assert ticket.status_code == 201, ticket.text
    fa = ticket.json()
    assert (fa["fa_type"], fa["priority"], fa["status"]) == ("TROUBLE", 1, "P")
    assert fa["sa_id"] == (await sa_of(hub, customer.account_id, "E-RES")).sa_id
    assert fa["instructions"] == "electric trouble: wires down. Caller says: sparking line"
    wrong = await hub_client.post(url, headers=headers, json={"service": "water", "problem": "wires_down"})
    assert wrong.status_code == 422 and key_of(wrong) == "problem"
    assert (
        await hub_client.post(url, headers=ann, json={"service": "water", "problem": "leak"})
    ).status_code == 403
    # A report of trouble needs an open contact but no verification (tier 0 of the verification policy).
    unverified = (await hub_client.post("/api/contacts", headers=ann, json={"channel": "phone"})).json()
    leak = await hub_client.post(
        url,
        headers={**ann, "X-Contact-Id": unverified["contact_id"]},
        json={"service": "water", "problem": "leak"},
    )
    assert leak.status_code == 201 and leak.json()["priority"] == 2

    await drain()
    tickets = [e.data for e in seen if e.subject == "hub.ccb.trouble_ticket.created"]
    assert [t["field_activity_id"] for t in tickets] == [
        fa["field_activity_id"],
        leak.json()["field_activity_id"],
    ]
    updated = [e for e in seen if e.subject == "hub.contact.property_access.updated"]
    assert updated[0].data == {"premise_id": customer.premise_id, "contact_id": headers["X-Contact-Id"]}


async def test_customer_reads_are_checked_high_low_and_replace_the_open_estimate(
    hub: Any,
    hub_client: Any,
    ann: dict[str, str],
    lead: dict[str, str],
    customers: list[SeedAccount],
    drain: Any,
    hub_clock: ManualClock,
) -> None:
    customer = customers[0]
    headers = await in_contact(hub_client, ann, customer)
    meters = (await hub_client.get(f"/api/ccb/accounts/{customer.account_id}/meters", headers=headers)).json()
    assert {m_["service"] for m_ in meters} == {"electric", "water"}
    electric = next(m_ for m_ in meters if m_["service"] == "electric")
    water = next(m_ for m_ in meters if m_["service"] == "water")
    assert any("kWh" in line for line in electric["instructions"])
    assert any("sweep hand" in line for line in water["instructions"]) == (water["meter_type"] == "dial")

    # A meter reader cannot get in: a No Read, estimated, and a To Do for a CSR to call about access.
    meter = electric["meter_id"]
    no_read = await hub_client.post(
        f"/api/ccb/premises/{customer.premise_id}/meters/{meter}/field-reads",
        headers={**lead, **LEAD_REASON},
        json={"read_type": "no_read", "remarks": "locked gate"},
    )
    assert no_read.status_code == 201, no_read.text
    estimate = no_read.json()["estimate"]
    assert estimate is not None and estimate["read_type"] == "45"
    csr_attempt = await hub_client.post(
        f"/api/ccb/premises/{customer.premise_id}/meters/{meter}/field-reads",
        headers=headers,
        json={"read_type": "no_read"},
    )
    assert csr_attempt.status_code == 403
    await drain()
    todos = (await hub_client.get("/api/ccb/todos?role=CSR", headers=ann)).json()
    assert [(t["todo_type"], t["related_id"]) for t in todos] == [("METER_ACCESS", customer.premise_id)]

    hub_clock.advance(dt.timedelta(minutes=5))
    reads = await hub.ccb.list_reads(meter)
    last = next(r for r in reversed(reads) if r.read_type == "60")
    url = f"/api/ccb/accounts/{customer.account_id}/meter-reads"
    days = (TODAY - last.read_on).days
    sensible = (last.reading + 21 * days) % 100_000  # about this customer's daily use
    high = await hub_client.post(
        url, headers=headers, json={"meter_id": meter, "reading": (last.reading + 9000)}
    )
    assert high.status_code == 422 and key_of(high) == "reading" and "confirm" in high.json()["detail"]
    as_string = await hub_client.post(
        url, headers=headers, json={"meter_id": meter, "reading": str(sensible)}
    )
    assert as_string.status_code == 422 and key_of(as_string) == "reading"
    accepted = await hub_client.post(url, headers=headers, json={"meter_id": meter, "reading": sensible})
    assert accepted.status_code == 201, accepted.text
    result = accepted.json()
    assert result["high_low"] == "ok" and result["read"]["read_type"] == "50"
    assert result["replaced_estimate_read_id"] == estimate["read_id"]
    assert result["consecutive_estimates"] == 0
    confirmed = await hub_client.post(
        url, headers=headers, json={"meter_id": water["meter_id"], "reading": 0, "confirm": True}
    )
    assert confirmed.status_code == 201 and confirmed.json()["high_low"] in ("high", "low")
    other = await hub_client.post(url, headers=headers, json={"meter_id": "1234567890", "reading": 1})
    assert other.status_code == 422 and key_of(other) == "meter_id"


async def test_the_third_estimate_in_a_row_opens_an_investigation_case(
    hub: Any, hub_client: Any, lead: dict[str, str], customers: list[SeedAccount], hub_clock: ManualClock
) -> None:
    customer = customers[2]
    meter = await meter_of(hub, customer.account_id, "water")
    url = f"/api/ccb/premises/{customer.premise_id}/meters/{meter.meter_id}/field-reads"
    streaks = []
    for _ in range(3):
        hub_clock.advance(dt.timedelta(days=61))
        r = await hub_client.post(url, headers={**lead, **LEAD_REASON}, json={"read_type": "no_read"})
        assert r.status_code == 201, r.text
        streaks.append((r.json()["consecutive_estimates"], r.json()["case_id"]))
    assert [s for s, _ in streaks] == [1, 2, 3]
    case_id = streaks[-1][1]
    assert case_id is not None and streaks[0][1] is None
    summary = (
        await hub_client.get(f"/api/ccb/accounts/{customer.account_id}", headers={**lead, **LEAD_REASON})
    ).json()
    assert case_id in summary["open_case_ids"]
    assert (await hub.ccb.get_case(case_id)).case_type == "ESTIMATED_READS"


async def test_a_field_investigation_opens_a_case_with_its_field_activity(
    hub: Any, hub_client: Any, ann: dict[str, str], customers: list[SeedAccount]
) -> None:
    customer = customers[1]
    headers = await in_contact(hub_client, ann, customer)
    url = f"/api/ccb/accounts/{customer.account_id}/field-investigations"
    r = await hub_client.post(
        url,
        headers={**headers, "Idempotency-Key": "inv-1"},
        json={"kind": "leak_check", "service": "water", "summary": "bill doubled, no change in household"},
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["case"]["case_type"] == "HIGH_BILL" and made["case"]["status"] == "OPEN"
    assert made["field_activity"]["fa_type"] == "LEAK_CHECK"
    assert made["field_activity"]["case_id"] == made["case"]["case_id"]
    replay = await hub_client.post(
        url,
        headers={**headers, "Idempotency-Key": "inv-1"},
        json={"kind": "leak_check", "service": "water", "summary": "bill doubled, no change in household"},
    )
    assert replay.json()["case"]["case_id"] == made["case"]["case_id"]
    electric_leak = await hub_client.post(
        url, headers=headers, json={"kind": "leak_check", "service": "electric", "summary": "x"}
    )
    assert electric_leak.status_code == 422 and key_of(electric_leak) == "service"


async def test_payment_plans_split_to_the_cent_and_a_missed_installment_shows_on_the_summary(
    hub: Any,
    hub_client: Any,
    ann: dict[str, str],
    customers: list[SeedAccount],
    hub_clock: ManualClock,
    drain: Any,
) -> None:
    customer = customers[3]  # seed 7: this customer stopped paying and is past due
    past_due = (await hub.ccb.get_balance(customer.account_id)).past_due_cents
    assert past_due > 0
    headers = await in_contact(hub_client, ann, customer)
    quote_url = f"/api/ccb/accounts/{customer.account_id}/payment-plans/quote"

    quoted = await hub_client.post(quote_url, headers=headers, json={"installments": 12})
    assert quoted.status_code == 200, quoted.text
    plan = quoted.json()
    amounts = [i["amount_cents"] for i in plan["installments"]]
    assert plan["total_cents"] == past_due == sum(amounts)
    assert max(amounts) - min(amounts) <= 1 and amounts == sorted(amounts, reverse=True)
    assert plan["installments"][0]["due_date"] == (TODAY + dt.timedelta(days=30)).isoformat()
    thousand = await hub_client.post(
        quote_url, headers=headers, json={"installments": 12, "amount_cents": 100_000}
    )
    assert [i["amount_cents"] for i in thousand.json()["installments"]] == [8334] * 4 + [8333] * 8

    too_long = await hub_client.post(quote_url, headers=headers, json={"installments": 13})
    assert too_long.status_code == 422 and key_of(too_long) == "installments"
    for money in (1000.5, "1000", 1000.0):
        bad = await hub_client.post(
            quote_url, headers=headers, json={"installments": 2, "amount_cents": money}
        )
        assert bad.status_code == 422 and key_of(bad) == "amount_cents", money
    past = await hub_client.post(
        quote_url, headers=headers, json={"installments": 3, "first_due": "2025-10-01"}
    )
    assert past.status_code == 422 and key_of(past) == "first_due" and "past" in past.json()["detail"]

    special = await hub_client.post(
        f"/api/ccb/accounts/{customer.account_id}/payment-plans",
        headers=headers,
        json={"installments": 18, "hardship_reason": "medical bills"},
    )
    # Beyond the standard terms only through an approved escalation (task 35); nothing is created here.
    assert special.status_code == 422 and key_of(special) == "hardship_reason"
    assert "escalation" in special.json()["detail"]

    first_due = TODAY + dt.timedelta(days=1)
    created = await hub_client.post(
        f"/api/ccb/accounts/{customer.account_id}/payment-plans",
        headers=headers,
        json={"installments": 3, "first_due": first_due.isoformat()},
    )
    assert created.status_code == 201, created.text
    pay_plan = created.json()
    assert pay_plan["status"] == "active" and pay_plan["total_cents"] == past_due
    assert sum(i["amount_cents"] for i in pay_plan["installments"]) == past_due

    hub_clock.set(local_time(first_due + dt.timedelta(days=5), 9))
    await hub.ccb.monitor_pay_plans(first_due + dt.timedelta(days=5))
    summary = (await hub_client.get(f"/api/ccb/accounts/{customer.account_id}", headers=headers)).json()
    assert summary["active_pay_plan_id"] == pay_plan["pay_plan_id"]
    assert summary["pay_plan"]["missed_installments"] == 1
    assert [i["status"] for i in summary["pay_plan"]["installments"]] == ["missed", "scheduled", "scheduled"]
    async with hub.db.session() as s:
        subjects = (await s.scalars(select(OutboxEvent.subject))).all()
    assert "hub.ccb.pay_plan.created" in subjects


async def test_a_tier_review_finds_the_wrong_bill_and_a_lead_rebills_it_by_exactly_the_difference(
    hub: Any,
    hub_client: Any,
    ann: dict[str, str],
    lead: dict[str, str],
    customers: list[SeedAccount],
    drain: Any,
) -> None:
    customer = customers[0]
    bill_id = (await hub.ccb.get_account_summary(customer.account_id)).last_bills[0].bill_id
    segment = next(s for s in (await hub.ccb.get_bill(bill_id)).segments if s.sa_type == "E-RES")
    # A bill converted with the wrong split: 50 kWh moved from tier 1 to tier 2 and $5.00 too much.
    t1, t2, t3 = (float(q) for q in segment.tier_quantities)
    async with hub.db.session() as s:
        await s.execute(
            update(m.BillSegment)
            .where(m.BillSegment.id == segment.bill_segment_id)
            .values(
                tier_quantities=[f"{t1 - 50:.2f}", f"{t2 + 50:.2f}", f"{t3:.2f}"],
                amount_cents=segment.amount_cents + 500,
            )
        )
        await s.execute(
            update(m.FinancialTransaction)
            .where(m.FinancialTransaction.parent_id == segment.bill_segment_id)
            .values(amount_cents=segment.amount_cents + 500)
        )

    headers = await in_contact(hub_client, ann, customer)
    review = await hub_client.post(
        f"/api/ccb/accounts/{customer.account_id}/tier-review", headers=headers, json={"periods": 6}
    )
    assert review.status_code == 200, review.text
    found = review.json()
    assert (found["wrong_segments"], found["total_difference_cents"]) == (1, 500)
    electric = next(v for v in found["services"] if v["service"] == "E-RES")
    assert len(electric["periods"]) == 6
    wrong = [period for period in electric["periods"] if not period["right_tiers"]]
    assert [(w["bill_segment_id"], w["billed_cents"], w["correct_cents"]) for w in wrong] == [
        (segment.bill_segment_id, segment.amount_cents + 500, segment.amount_cents)
    ]
    assert wrong[0]["correct_tiers"] == segment.tier_quantities

    apply_url = f"/api/ccb/accounts/{customer.account_id}/tier-review/apply"
    assert (await hub_client.post(apply_url, headers=headers, json={"periods": 6})).status_code == 403
    before = (await hub.ccb.get_balance(customer.account_id)).balance_cents
    applied = await hub_client.post(
        apply_url, headers={**lead, "X-Access-Reason": "tier review escalation"}, json={"periods": 6}
    )
    assert applied.status_code == 200, applied.text
    result = applied.json()
    assert [r["canceled_segment_id"] for r in result["rebilled"]] == [segment.bill_segment_id]
    assert (result["before_cents"], result["after_cents"]) == (
        segment.amount_cents + 500,
        segment.amount_cents,
    )
    after = (await hub.ccb.get_balance(customer.account_id)).balance_cents
    assert after - before == result["difference_cents"] == -500
    assert (result["balance_before_cents"], result["balance_after_cents"]) == (before, after)

    again = await hub_client.post(
        f"/api/ccb/accounts/{customer.account_id}/tier-review", headers=headers, json={"periods": 6}
    )
    assert again.json()["wrong_segments"] == 0
    await drain()
    async with hub.db.session() as s:
        subjects = (await s.scalars(select(OutboxEvent.subject))).all()
    assert subjects.count("hub.contact.tier_review.applied") == 1


async def test_returned_mail_is_a_work_queue_with_recorded_outcomes(
    hub: Any, hub_client: Any, ann: dict[str, str], customers: list[SeedAccount]
) -> None:
    first, second = customers[1], customers[4]
    logged = []
    for customer in (first, second):
        r = await hub_client.post(
            "/api/ccb/returned-mail",
            headers=ann,
            json={"account_id": customer.account_id, "reason": "moved, left no address"},
        )
        assert r.status_code == 201, r.text
        logged.append(r.json())
    queue = (await hub_client.get("/api/ccb/returned-mail", headers=ann)).json()
    assert [i["item_id"] for i in queue] == sorted(i["item_id"] for i in logged)  # same day: by id
    item = logged[0]["item_id"]
    url = f"/api/ccb/returned-mail/{item}/outcome"
    address = {"line1": "1200 W Sunset Blvd", "city": "Los Angeles", "zip": "90026"}
    assert (
        await hub_client.post(url, headers=ann, json={"outcome": "new_address", "address": address})
    ).status_code == 403
    headers = await in_contact(hub_client, ann, first)
    no_address = await hub_client.post(url, headers=headers, json={"outcome": "new_address"})
    assert no_address.status_code == 422 and key_of(no_address) == "address"
    done = await hub_client.post(url, headers=headers, json={"outcome": "new_address", "address": address})
    assert done.status_code == 200, done.text
    resolved = done.json()
    assert (resolved["status"], resolved["outcome"]) == ("resolved", "new_address")
    assert resolved["new_address"]["line1"] == "1200 W Sunset Blvd"
    # The new address is now the account's mailing address in CCB (its override of the customer's).
    summary = await hub.ccb.get_account_summary(first.account_id)
    assert summary.mailing_address is not None
    assert (summary.mailing_address.line1, summary.mailing_address.zip) == ("1200 W Sunset Blvd", "90026")
    assert resolved["followup_todo_id"] is None
    assert (
        await hub_client.post(url, headers=headers, json={"outcome": "new_contact_needed"})
    ).status_code == 409

    other = await in_contact(hub_client, ann, second)
    needed = await hub_client.post(
        f"/api/ccb/returned-mail/{logged[1]['item_id']}/outcome",
        headers=other,
        json={"outcome": "new_contact_needed", "note": "no phone on file either"},
    )
    assert needed.status_code == 200 and needed.json()["followup_todo_id"] is None
    assert (await hub_client.get("/api/ccb/returned-mail", headers=ann)).json() == []
    assert len((await hub_client.get("/api/ccb/returned-mail?status=resolved", headers=ann)).json()) == 2
    assert (
        await hub_client.post(
            "/api/ccb/returned-mail/1234567890/outcome", headers=other, json={"outcome": "new_contact_needed"}
        )
    ).status_code == 404
