"""Contacts over HTTP: verification with its contact and account locks, the verified-contact guard, the
account summary and the bill explanation, and what never leaves the hub (the identity factors)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from core.ccb.billing import local_time
from core.ccb.offline import RecordedOffline
from core.ccb.seed import DEFAULT_AS_OF, SeedAccount, identity_key, seed_customers
from core.clock import ManualClock
from core.contact.service import service_for
from core.models import AuditRecord, OutboxEvent

TODAY = DEFAULT_AS_OF + dt.timedelta(days=3)  # the seeded year ends on DEFAULT_AS_OF


@pytest.fixture
def hub_clock() -> ManualClock:
    return ManualClock(local_time(TODAY, 9))


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {"plugins": {"telephony": {"tick_seconds": 0}}}


@pytest.fixture
async def customers(hub: Any) -> list[SeedAccount]:
    # The hub keys identity hashes with its secret: seed with the same key so the demo codes verify.
    return await seed_customers(hub.db, 6, 7, identity_key(hub.settings.secret_key))


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


async def open_contact(client: Any, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    r = await client.post("/api/contacts", headers=headers, json={"channel": "phone", **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def verify(client: Any, headers: dict[str, str], contact_id: str, account: str, value: str) -> Any:
    return await client.post(
        f"/api/contacts/{contact_id}/verify",
        headers=headers,
        json={"account_id": account, "method": "access_code", "value": value},
    )


def wrong_code(customer: SeedAccount) -> str:
    return "918273" if customer.access_code != "918273" else "827364"


async def test_a_contact_finds_candidates_by_phone_and_verifies_after_a_failure(
    hub_client: Any, staff_token: Any, customers: list[SeedAccount]
) -> None:
    ann = bearer(await staff_token("csr", "call-center", name="ann"))
    customer = customers[0]
    contact = await open_contact(hub_client, ann, ani=f"+1 ({customer.phone[:3]}) {customer.phone[3:]}")
    assert len(contact["contact_id"]) == 10 and contact["contact_id"].isdigit()
    assert contact["candidates"] == [customer.account_id]
    assert (contact["status"], contact["owner"], contact["attempts_left"]) == ("open", "ann", 3)

    failed = await verify(hub_client, ann, contact["contact_id"], customer.account_id, wrong_code(customer))
    assert failed.status_code == 401
    assert failed.json() == {"verified": False, "attempts_left": 2, "locked": None}
    passed = await verify(hub_client, ann, contact["contact_id"], customer.account_id, customer.access_code)
    assert passed.status_code == 200 and passed.json()["verified"] is True
    by_ssn = await hub_client.post(
        f"/api/contacts/{contact['contact_id']}/verify",
        headers=ann,
        json={"account_id": customer.account_id, "method": "ssn_last4", "value": customer.ssn_last4},
    )
    assert by_ssn.status_code == 200

    got = (await hub_client.get(f"/api/contacts/{contact['contact_id']}", headers=ann)).json()
    assert got["verified_accounts"] == [customer.account_id]
    assert [a["kind"] for a in got["actions"]] == ["call.opened", "verify.fail", "verify.pass", "verify.pass"]
    assert got["attempts_left"] == 2  # a pass does not give back the contact's failed attempt


async def test_three_failures_lock_the_contact_and_five_in_a_day_lock_the_account_until_a_lead_clears_it(
    hub: Any, hub_client: Any, staff_token: Any, customers: list[SeedAccount], hub_clock: ManualClock
) -> None:
    ann = bearer(await staff_token("csr", "call-center", name="ann"))
    lead = bearer(await staff_token("lead", "call-center", name="lee"))
    customer = customers[1]
    account, wrong = customer.account_id, wrong_code(customer)

    first = (await open_contact(hub_client, ann))["contact_id"]
    answers = [await verify(hub_client, ann, first, account, wrong) for _ in range(3)]
    assert [(r.status_code, r.json()["attempts_left"]) for r in answers] == [(401, 2), (401, 1), (401, 0)]
    assert answers[-1].json()["locked"] == "contact"
    locked = await verify(hub_client, ann, first, account, customer.access_code)
    assert locked.status_code == 423 and locked.json()["locked"] == "contact"

    hub_clock.advance(dt.timedelta(hours=2))  # still inside the 24-hour window
    second = (await open_contact(hub_client, ann))["contact_id"]
    fourth = await verify(hub_client, ann, second, account, wrong)
    assert (fourth.status_code, fourth.json()["locked"]) == (401, None)
    fifth = await verify(hub_client, ann, second, account, wrong)
    assert fifth.status_code == 401 and fifth.json() == {
        "verified": False,
        "attempts_left": 1,
        "locked": "account",
    }
    right_but_locked = await verify(hub_client, ann, second, account, customer.access_code)
    assert right_but_locked.status_code == 423
    assert right_but_locked.json()["locked"] == "account" and "lead" in right_but_locked.json()["detail"]

    clear = f"/api/ccb/accounts/{account}/verification-lock/clear"
    assert (await hub_client.post(clear, headers=ann, json={"reason": "ID seen"})).status_code == 403
    missing = await hub_client.post(clear, headers=lead, json={})
    assert missing.status_code == 422 and missing.json()["extra"][0]["key"] == "reason"
    blank = await hub_client.post(clear, headers=lead, json={"reason": "  "})
    assert blank.status_code == 422 and blank.json()["extra"][0]["key"] == "reason"
    cleared = await hub_client.post(clear, headers=lead, json={"reason": "driver licence checked at counter"})
    assert cleared.status_code == 200 and cleared.json() == {
        "account_id": account,
        "verification_locked": False,
    }
    again = await hub_client.post(clear, headers=lead, json={"reason": "twice"})
    assert again.status_code == 409 and "unlocked" in again.json()["detail"]

    ok = await verify(hub_client, ann, second, account, customer.access_code)
    assert ok.status_code == 200

    async with hub.db.session() as s:
        rows = (
            await s.scalars(
                select(AuditRecord).where(
                    AuditRecord.action == "contact.verify", AuditRecord.target == f"account:{account}"
                )
            )
        ).all()
        cleared_rows = (
            await s.scalars(
                select(AuditRecord).where(AuditRecord.action == "contact.verification_lock.cleared")
            )
        ).all()
    results = [r.detail["result"] for r in rows]
    assert results == ["fail"] * 3 + ["contact_locked", "fail", "fail", "account_locked", "pass"]
    assert all(r.detail["method"] == "access_code" and r.detail["channel"] == "phone" for r in rows)
    assert cleared_rows[0].detail["reason"] == "driver licence checked at counter"


async def test_no_identity_factor_reaches_a_response_the_audit_log_or_an_event(
    hub: Any, hub_client: Any, staff_token: Any, customers: list[SeedAccount], drain: Any
) -> None:
    ann = bearer(await staff_token("csr", "call-center", name="ann"))
    customer = customers[2]
    contact = (await open_contact(hub_client, ann, account_id=customer.account_id))["contact_id"]
    bodies = [
        (await verify(hub_client, ann, contact, customer.account_id, wrong_code(customer))).text,
        (await verify(hub_client, ann, contact, customer.account_id, customer.access_code)).text,
        (await hub_client.get(f"/api/contacts/{contact}", headers=ann)).text,
        (
            await hub_client.get(
                f"/api/ccb/accounts/{customer.account_id}", headers={**ann, "X-Contact-Id": contact}
            )
        ).text,
    ]
    await drain()
    async with hub.db.session() as s:
        audit = [str(r.detail) for r in (await s.scalars(select(AuditRecord))).all()]
        events = list((await s.scalars(select(OutboxEvent.envelope))).all())
    for secret in (customer.access_code, wrong_code(customer), customer.ssn_last4):
        for text in [*bodies, *audit, *events]:
            assert secret not in text


async def test_customer_data_needs_a_contact_verified_for_that_account_or_a_leads_reason(
    hub: Any, hub_client: Any, staff_token: Any, customers: list[SeedAccount]
) -> None:
    ann = bearer(await staff_token("csr", "call-center", name="ann"))
    bob = bearer(await staff_token("csr", "call-center", name="bob"))
    lead = bearer(await staff_token("lead", "call-center", name="lee"))
    mine, other = customers[0], customers[3]
    contact = (await open_contact(hub_client, ann))["contact_id"]
    assert (await verify(hub_client, ann, contact, mine.account_id, mine.access_code)).status_code == 200
    url = f"/api/ccb/accounts/{mine.account_id}"

    bare = await hub_client.get(url, headers=ann)
    assert bare.status_code == 403 and "X-Contact-Id" in bare.json()["detail"]
    assert (await hub_client.get(url, headers={**ann, "X-Contact-Id": contact})).status_code == 200
    # Another account, another CSR's contact, an unknown contact, a CSR's reason: all refused.
    other_account = await hub_client.get(
        f"/api/ccb/accounts/{other.account_id}", headers={**ann, "X-Contact-Id": contact}
    )
    assert other_account.status_code == 403 and "not verified" in other_account.json()["detail"]
    assert (await hub_client.get(url, headers={**bob, "X-Contact-Id": contact})).status_code == 403
    assert (await hub_client.get(url, headers={**ann, "X-Contact-Id": "1000000000"})).status_code == 403
    assert (await hub_client.get(url, headers={**ann, "X-Access-Reason": "curious"})).status_code == 403
    # A lead may look without a contact, giving a reason that lands in the audit log.
    by_lead = await hub_client.get(url, headers={**lead, "X-Access-Reason": "escalated complaint #77"})
    assert by_lead.status_code == 200
    # An unknown account is a 404 whoever asks.
    assert (await hub_client.get("/api/ccb/accounts/1234567890", headers=ann)).status_code == 404
    assert (await hub_client.get(url)).status_code == 401

    async with hub.db.session() as s:
        reads = (
            await s.scalars(
                select(AuditRecord).where(
                    AuditRecord.action == "contact.customer_data",
                    AuditRecord.target == f"account:{mine.account_id}",
                )
            )
        ).all()
    assert [(r.actor, r.detail["contact"], r.detail["reason"]) for r in reads] == [
        ("staff:ann", contact, None),
        ("staff:lee", None, "escalated complaint #77"),
    ]

    # A wrapped-up contact opens nothing any more.
    r = await hub_client.post(f"/api/contacts/{contact}/wrap-up", headers=ann, json={"note_kind": "customer"})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert (await hub_client.get(url, headers={**ann, "X-Contact-Id": contact})).status_code == 403
    again = await hub_client.post(
        f"/api/contacts/{contact}/wrap-up", headers=ann, json={"note_kind": "customer"}
    )
    assert again.status_code == 409 and "closed" in again.json()["detail"]


async def test_account_summary_and_bill_explanation_carry_the_ports_amounts(
    hub: Any, hub_client: Any, staff_token: Any, customers: list[SeedAccount]
) -> None:
    ann = bearer(await staff_token("csr", "call-center", name="ann"))
    customer = customers[0]
    contact = (await open_contact(hub_client, ann))["contact_id"]
    await verify(hub_client, ann, contact, customer.account_id, customer.access_code)
    headers = {**ann, "X-Contact-Id": contact}

    summary = (await hub_client.get(f"/api/ccb/accounts/{customer.account_id}", headers=headers)).json()
    port = await hub.ccb.get_account_summary(customer.account_id)
    assert (summary["balance_cents"], summary["past_due_cents"]) == (port.balance_cents, port.past_due_cents)
    assert [b["bill_id"] for b in summary["last_bills"]] == [b.bill_id for b in port.last_bills]
    assert summary["pay_plan"] is None

    bill_id = port.last_bills[0].bill_id
    r = await hub_client.get(f"/api/ccb/bills/{bill_id}/explanation", headers=headers)
    assert r.status_code == 200, r.text
    explained = r.json()
    bill = await hub.ccb.get_bill(bill_id)
    assert explained["amount_due_cents"] == bill.amount_due_cents
    assert explained["current_charges_cents"] == bill.current_charges_cents
    assert dt.date.fromisoformat(explained["due_date"]) == bill.bill_date + dt.timedelta(days=19)
    assert sum(seg["amount_cents"] for seg in explained["segments"]) == bill.current_charges_cents
    electric = next(seg for seg in explained["segments"] if seg["service"] == "Residential electric")
    port_segment = next(seg for seg in bill.segments if seg.sa_type == "E-RES")
    assert [t["quantity"] for t in electric["tiers"]] == port_segment.tier_quantities
    assert any("tier 1" in line for line in electric["lines"])
    assert any(line.startswith("Total before taxes") for line in electric["lines"])
    grace = dt.date.fromisoformat(explained["late_fee"]["grace_ends"])
    assert grace == bill.due_date + dt.timedelta(days=8)
    assert "1.5%" in explained["late_fee"]["rule"] and len(explained["late_fee"]["per_service"]) == 2

    assert (
        await hub_client.get("/api/ccb/bills/999999999999/explanation", headers=headers)
    ).status_code == 404
    other = customers[1]
    other_bill = (await hub.ccb.get_account_summary(other.account_id)).last_bills[0].bill_id
    denied = await hub_client.get(f"/api/ccb/bills/{other_bill}/explanation", headers=headers)
    assert denied.status_code == 403

    # The reads were logged on the contact: the drafted wrap-up note lists them.
    done = await hub_client.post(
        f"/api/contacts/{contact}/wrap-up", headers=ann, json={"note_kind": "customer"}
    )
    assert done.status_code == 200
    note = done.json()["note"]
    assert f"account {customer.account_id} by access code" in note
    assert f"explanation of bill {bill_id}" in note
    logged = await hub.ccb.list_customer_contacts(customer.account_id)
    assert logged[0].contact_id == done.json()["ccb_contact_id"]
    assert (logged[0].contact_class, logged[0].contact_type, logged[0].method) == (
        "BILLING",
        "INQUIRY",
        "phone",
    )
    assert logged[0].log_text == note


async def test_wrap_up_with_ccb_offline_closes_the_contact_and_names_the_form(
    hub: Any, hub_client: Any, staff_token: Any, customers: list[SeedAccount], monkeypatch: Any
) -> None:
    ann = bearer(await staff_token("csr", "call-center", name="ann"))
    customer = customers[0]
    contact = (await open_contact(hub_client, ann))["contact_id"]
    await verify(hub_client, ann, contact, customer.account_id, customer.access_code)
    service = service_for(hub)
    assert service is not None
    keys: list[str | None] = []

    async def journaled(_command: Any, *, actor: str, idempotency_key: str | None = None) -> Any:
        # What OfflineCcb raises once CCB is down: the write is journaled under the caller's key.
        keys.append(idempotency_key)
        raise RecordedOffline(41, idempotency_key or "", "add_customer_contact")

    monkeypatch.setattr(service.ccb, "add_customer_contact", journaled)
    r = await hub_client.post(
        f"/api/contacts/{contact}/wrap-up", headers=ann, json={"note_kind": "customer", "note": "Paid."}
    )
    assert r.status_code == 200, r.text
    closed = r.json()
    assert (closed["status"], closed["offline_form"], closed["ccb_contact_id"]) == ("closed", 41, None)
    # The replay enters the note under the wrap-up's own key, so a second wrap-up cannot log it twice.
    assert keys == [f"contact-wrap-up:{contact}"]
    assert "note recorded as offline form 41" in closed["actions"][-1]["summary"]
    again = await hub_client.get(f"/api/contacts/{contact}", headers=ann)
    assert again.json()["status"] == "closed" and again.json()["offline_form"] is None
    async with hub.db.session() as s:
        wrapped = await s.scalar(select(OutboxEvent).where(OutboxEvent.subject == "hub.contact.wrapped_up"))
        audit = await s.scalar(select(AuditRecord).where(AuditRecord.action == "contact.wrapped_up"))
    assert wrapped is not None and '"offline_form":41' in wrapped.envelope
    assert audit is not None and audit.detail["offline_form"] == 41


async def test_bad_contact_input_is_named(
    hub_client: Any, staff_token: Any, customers: list[SeedAccount]
) -> None:
    ann = bearer(await staff_token("csr", "call-center", name="ann"))
    security = bearer(await staff_token("security", "security"))
    bad_ani = await hub_client.post("/api/contacts", headers=ann, json={"channel": "phone", "ani": "12"})
    assert bad_ani.status_code == 422 and bad_ani.json()["extra"][0]["key"] == "ani"
    bad_channel = await hub_client.post("/api/contacts", headers=ann, json={"channel": "fax"})
    assert bad_channel.status_code == 422 and bad_channel.json()["extra"][0]["key"] == "channel"
    unknown = await hub_client.post("/api/contacts", headers=ann, json={"channel": "counter", "x": 1})
    assert unknown.status_code == 422 and unknown.json()["extra"][0]["key"] == "x"
    no_account = await hub_client.post(
        "/api/contacts", headers=ann, json={"channel": "counter", "account_id": "1234567890"}
    )
    assert no_account.status_code == 404
    not_json = await hub_client.post(
        "/api/contacts", headers={**ann, "Content-Type": "application/json"}, content=b"{nope"
    )
    assert not_json.status_code == 400
    assert (
        await hub_client.post("/api/contacts", headers=security, json={"channel": "phone"})
    ).status_code == 403
    assert (await hub_client.get("/api/contacts/1234567890", headers=ann)).status_code == 404
    r = await verify(hub_client, ann, "1234567890", customers[0].account_id, "123456")
    assert r.status_code == 404
    contact = (await open_contact(hub_client, ann))["contact_id"]
    # An unknown account answers as a wrong factor and uses an attempt: existence cannot be probed.
    probe = await verify(hub_client, ann, contact, "1234567890", "482913")
    assert probe.status_code == 401
    assert probe.json() == {"verified": False, "attempts_left": 2, "locked": None}
    assert (await hub_client.get(f"/api/contacts/{contact}", headers=ann)).json()["attempts_left"] == 2
    mine = (await hub_client.get("/api/contacts", headers=ann)).json()
    assert [c["contact_id"] for c in mine] == [contact]
    # A caller who never verified: the note stays with the hub's contact (CCB needs an account or premise).
    done = await hub_client.post(
        f"/api/contacts/{contact}/wrap-up",
        headers=ann,
        json={"note_kind": "customer", "note": "outage info only"},
    )
    assert done.status_code == 200
    assert (done.json()["note"], done.json()["ccb_contact_id"]) == ("outage info only", None)
    assert (await hub_client.get("/api/contacts", headers=ann)).json() == []


async def test_probing_unknown_accounts_uses_attempts_and_locks_the_contact(
    hub_client: Any, staff_token: Any, customers: list[SeedAccount]
) -> None:
    """An unknown account id answers exactly as a wrong factor does, so existence cannot be probed."""
    ann = bearer(await staff_token("csr", "call-center", name="ann"))
    customer = customers[0]
    wrong_contact = (await open_contact(hub_client, ann))["contact_id"]
    probe_contact = (await open_contact(hub_client, ann))["contact_id"]
    for attempt, unknown in enumerate(("1234567890", "2345678901", "3456789012"), start=1):
        wrong = await verify(hub_client, ann, wrong_contact, customer.account_id, wrong_code(customer))
        probe = await verify(hub_client, ann, probe_contact, unknown, "482913")
        assert (probe.status_code, probe.json()) == (wrong.status_code, wrong.json())
        assert probe.status_code == 401 and probe.json()["attempts_left"] == 3 - attempt
        assert probe.headers.get("content-type") == wrong.headers.get("content-type")
    assert probe.json() == {"verified": False, "attempts_left": 0, "locked": "contact"}
    # Locked: even the right factor of a real account is refused now, as after three wrong codes.
    for contact in (wrong_contact, probe_contact):
        r = await verify(hub_client, ann, contact, customer.account_id, customer.access_code)
        assert r.status_code == 423 and r.json()["attempts_left"] == 0, r.text
        state = (await hub_client.get(f"/api/contacts/{contact}", headers=ann)).json()
        assert state["attempts_left"] == 0
    # The log line says the same for both, so nothing on the contact's page tells the two apart.
    probes = [a["summary"] for a in state["actions"] if "verification failed" in a["summary"]]
    assert probes == [
        f"verification failed for account {u} (attempt {n})"
        for n, u in enumerate(("1234567890", "2345678901", "3456789012"), start=1)
    ]
