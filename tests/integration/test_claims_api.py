"""The claims plugin over HTTP: intake from a verified contact with a document, need-info mail pausing the
SLA clock, a grant moving the CCB balance by exactly the credit, a denial letter, a fraud incident report,
the SLA check, bad input (422/404/403) and idempotent intake."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

import plugins.claims as claims
import plugins.correspondence as correspondence
from core.ccb.billing import local_time
from core.ccb.seed import DEFAULT_AS_OF, SeedAccount, identity_key, seed_customers
from core.clock import ManualClock
from core.mail import list_outbox
from core.models import OutboxEvent
from plugins.claims.models import Claim, ClaimDocument, ClaimIncident
from plugins.correspondence.models import CorrLetter

API = "/api/claims"
SECTION = "customer-service-center"
TODAY = DEFAULT_AS_OF + dt.timedelta(days=3)  # a Monday
PDF = b"%PDF-1.4\n% a receipt\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [correspondence, claims]


@pytest.fixture
def hub_clock() -> ManualClock:
    return ManualClock(local_time(TODAY, 9))


@pytest.fixture
async def customers(hub: Any) -> list[SeedAccount]:
    return await seed_customers(hub.db, 3, 7, identity_key(hub.settings.secret_key))


@pytest.fixture
async def staff(staff_token: Any, enable_plugin: Any) -> dict[str, dict[str, str]]:
    await enable_plugin("claims", SECTION)
    await enable_plugin("correspondence", SECTION)
    out = {}
    for name, role in (("ann", "csr"), ("sue", "supervisor"), ("cro", "cro"), ("lee", "lead")):
        out[name] = {"Authorization": f"Bearer {await staff_token(role, SECTION, name=name)}"}
    return out


async def in_contact(client: Any, headers: dict[str, str], customer: SeedAccount) -> dict[str, str]:
    r = await client.post("/api/contacts", headers=headers, json={"channel": "phone"})
    assert r.status_code == 201, r.text
    contact_id = r.json()["contact_id"]
    v = await client.post(
        f"/api/contacts/{contact_id}/verify",
        headers=headers,
        json={"account_id": customer.account_id, "method": "access_code", "value": customer.access_code},
    )
    assert v.status_code == 200, v.text
    return {**headers, "X-Contact-Id": contact_id}


def claim(account_id: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account_id": account_id,
        "claimant_name": "Rosa Diaz",
        "claimant_email": "rosa.diaz@example.com",
        "incident": "water_main_break",
        "incident_date": (TODAY - dt.timedelta(days=4)).isoformat(),
        "loss": "water_lost",
        "description": "The main broke in the street; water ran through the meter for two days.",
        "claimed_cents": 12_500,
    }
    body.update(fields)
    return body


async def file(client: Any, headers: dict[str, str], account_id: str, **fields: Any) -> dict[str, Any]:
    r = await client.post(API, json=claim(account_id, **fields), headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def subjects(hub: Any) -> list[str]:
    async with hub.db.session() as session:
        return list(await session.scalars(select(OutboxEvent.subject).order_by(OutboxEvent.created_at)))


async def count(hub: Any, model: Any) -> int:
    async with hub.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_intake_with_a_document_is_idempotent(
    hub: Any, hub_client: Any, staff: dict[str, dict[str, str]], customers: list[SeedAccount]
) -> None:
    ann = await in_contact(hub_client, staff["ann"], customers[0])
    body = claim(customers[0].account_id, idempotency_key="intake-0001")
    r = await hub_client.post(API, json=body, headers=ann)
    assert r.status_code == 201, r.text
    c = r.json()
    assert (c["status"], c["covered"], c["filed_by"]) == ("open", True, "staff:ann")
    assert "leak" in c["coverage_reason"] and c["claim_number"].startswith("CLM-2025-")
    again = await hub_client.post(API, json=body, headers=ann)
    assert again.status_code == 200 and again.json()["id"] == c["id"] and again.json()["replayed"]
    assert await count(hub, Claim) == 1

    up = await hub_client.post(
        f"{API}/{c['id']}/documents",
        headers=ann,
        files={"file": ("receipt.pdf", PDF, "application/pdf")},
        data={"label": "Plumber's receipt"},
    )
    assert up.status_code == 201, up.text
    assert (up.json()["content_type"], up.json()["size"]) == ("application/pdf", len(PDF))
    got = await hub_client.get(f"{API}/{c['id']}", headers=staff["ann"])
    assert [d["label"] for d in got.json()["documents"]] == ["Plumber's receipt"]
    raw = await hub_client.get(f"{API}/{c['id']}/documents/{up.json()['id']}", headers=staff["ann"])
    assert raw.content == PDF
    exe = await hub_client.post(
        f"{API}/{c['id']}/documents",
        headers=ann,
        files={"file": ("x.pdf", b"MZ\x90\x00evil", "application/pdf")},
    )
    assert exe.status_code == 422 and exe.json()["extra"][0]["key"] == "file"
    assert await count(hub, ClaimDocument) == 1
    assert (await subjects(hub)).count("hub.claims.claim.filed") == 1


async def test_need_info_mails_and_pauses_the_sla_until_the_answer(
    hub: Any,
    hub_client: Any,
    hub_clock: ManualClock,
    staff: dict[str, dict[str, str]],
    customers: list[SeedAccount],
) -> None:
    ann = await in_contact(hub_client, staff["ann"], customers[0])
    c = await file(hub_client, ann, customers[0].account_id)
    hub_clock.advance(dt.timedelta(days=1))  # Tuesday: one business day used
    r = await hub_client.post(
        f"{API}/{c['id']}/need-info", json={"message": "A photo of the meter, please."}, headers=staff["cro"]
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["sla_paused"]) == ("info_requested", True)
    async with hub.db.session() as session:
        mails = [m for m in await list_outbox(session) if m.source == "claims"]
    assert len(mails) == 1 and mails[0].to == ["rosa.diaz@example.com"]
    assert "photo of the meter" in mails[0].body
    assert "hub.claims.claim.info_requested" in await subjects(hub)

    hub_clock.advance(dt.timedelta(days=30))  # the customer takes a month: none of it counts
    waiting = (await hub_client.get(f"{API}/{c['id']}", headers=staff["ann"])).json()
    assert (waiting["sla_business_days_used"], waiting["overdue"]) == (1.0, False)
    assert all(o.passed for o in await hub.run_checks(plugin="claims"))
    back = await hub_client.post(f"{API}/{c['id']}/info-received", json={}, headers=staff["ann"])
    assert back.status_code == 200 and back.json()["status"] == "open" and not back.json()["sla_paused"]
    hub_clock.advance(dt.timedelta(days=14))  # ten more business days: eleven in all
    late = {o.name: o for o in await hub.run_checks(plugin="claims")}
    assert not late["claims_overdue"].passed and c["claim_number"] in late["claims_overdue"].message


async def test_the_check_flags_a_claim_open_beyond_the_sla(
    hub: Any,
    hub_client: Any,
    hub_clock: ManualClock,
    staff: dict[str, dict[str, str]],
    customers: list[SeedAccount],
) -> None:
    ann = await in_contact(hub_client, staff["ann"], customers[1])
    await file(hub_client, ann, customers[1].account_id)
    hub_clock.advance(dt.timedelta(days=14))  # exactly ten business days later
    assert all(o.passed for o in await hub.run_checks(plugin="claims"))
    hub_clock.advance(dt.timedelta(minutes=1))
    assert not any(o.passed for o in await hub.run_checks(plugin="claims"))


async def test_a_grant_credits_exactly_the_granted_amount(
    hub: Any, hub_client: Any, staff: dict[str, dict[str, str]], customers: list[SeedAccount]
) -> None:
    account = customers[0].account_id
    ann = await in_contact(hub_client, staff["ann"], customers[0])
    c = await file(hub_client, ann, account)
    before = (await hub.ccb.get_balance(account)).balance_cents
    too_much = await hub_client.post(
        f"{API}/{c['id']}/grant", json={"amount_cents": 12_501, "reason": "x"}, headers=staff["sue"]
    )
    assert too_much.status_code == 422 and too_much.json()["extra"][0]["key"] == "amount_cents"
    negative = await hub_client.post(
        f"{API}/{c['id']}/grant", json={"amount_cents": -100, "reason": "x"}, headers=staff["sue"]
    )
    assert negative.status_code == 422 and negative.json()["extra"][0]["key"] == "amount_cents"
    csr = await hub_client.post(
        f"{API}/{c['id']}/grant", json={"amount_cents": 100, "reason": "x"}, headers=staff["ann"]
    )
    assert csr.status_code == 403
    assert (await hub.ccb.get_balance(account)).balance_cents == before  # nothing half-written

    ok = await hub_client.post(
        f"{API}/{c['id']}/grant",
        json={"amount_cents": 9_000, "reason": "Crew report confirms the main break."},
        headers=staff["sue"],
    )
    assert ok.status_code == 200, ok.text
    g = ok.json()
    assert (g["status"], g["granted_cents"], g["decided_by"]) == ("granted", 9_000, "staff:sue")
    assert g["adjustment_id"] and g["sa_id"] and g["letter_id"]
    assert (await hub.ccb.get_balance(account)).balance_cents - before == -9_000
    twice = await hub_client.post(
        f"{API}/{c['id']}/grant", json={"amount_cents": 9_000, "reason": "again"}, headers=staff["sue"]
    )
    assert twice.status_code == 409
    assert (await hub.ccb.get_balance(account)).balance_cents - before == -9_000
    assert "hub.claims.claim.granted" in await subjects(hub)


async def test_a_denial_sends_a_letter_and_an_uncovered_loss_cannot_be_granted(
    hub: Any, hub_client: Any, staff: dict[str, dict[str, str]], customers: list[SeedAccount]
) -> None:
    account = customers[1].account_id
    ann = await in_contact(hub_client, staff["ann"], customers[1])
    c = await file(hub_client, ann, account, loss="lawn_landscaping", claimed_cents=40_000)
    assert not c["covered"] and "landscaping" in c["coverage_reason"]
    refused = await hub_client.post(
        f"{API}/{c['id']}/grant", json={"amount_cents": 100, "reason": "x"}, headers=staff["cro"]
    )
    assert refused.status_code == 422 and refused.json()["extra"][0]["key"] == "loss"
    r = await hub_client.post(
        f"{API}/{c['id']}/deny", json={"reason": c["coverage_reason"]}, headers=staff["cro"]
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "denied" and r.json()["letter_id"]
    async with hub.db.session() as session:
        letters = list(await session.scalars(select(CorrLetter).where(CorrLetter.account_id == account)))
    assert [(x.template_id, x.fields["decision"]) for x in letters] == [("claim_decision", "denied")]
    assert "hub.claims.claim.denied" in await subjects(hub)


async def test_fraud_goes_to_security_as_an_incident_report(
    hub: Any, hub_client: Any, staff: dict[str, dict[str, str]], customers: list[SeedAccount]
) -> None:
    ann = await in_contact(hub_client, staff["ann"], customers[2])
    c = await file(hub_client, ann, customers[2].account_id)
    r = await hub_client.post(
        f"{API}/{c['id']}/fraud", json={"reason": "Photos are from another city's news story."}, headers=ann
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "fraud_reported"
    assert await count(hub, ClaimIncident) == 1
    async with hub.db.session() as session:
        mails = [m for m in await list_outbox(session) if m.source == "claims"]
    assert mails[0].to == ["security.incidents@utility.example"] and "Incident report" in mails[0].subject
    assert "hub.claims.claim.fraud_reported" in await subjects(hub)
    after = await hub_client.post(
        f"{API}/{c['id']}/grant", json={"amount_cents": 100, "reason": "x"}, headers=staff["sue"]
    )
    assert after.status_code == 409


async def test_bad_input_unknown_accounts_and_missing_verification(
    hub: Any, hub_client: Any, staff: dict[str, dict[str, str]], customers: list[SeedAccount]
) -> None:
    ann = await in_contact(hub_client, staff["ann"], customers[0])
    account = customers[0].account_id
    for fields, key in (
        ({"claimed_cents": 0}, "claimed_cents"),
        ({"claimed_cents": 99_000_000}, "claimed_cents"),
        ({"loss": "spaceship_damage"}, "loss"),
        ({"incident": "alien_visit"}, "incident"),
        ({"account_id": "12"}, "account_id"),
        ({"claimant_email": "not-an-address"}, "claimant_email"),
    ):
        r = await hub_client.post(API, json={**claim(account), **fields}, headers=ann)
        assert r.status_code == 422, (fields, r.text)
        assert r.json()["extra"][0]["key"] == key, r.text
    missing = claim(account)
    del missing["description"]
    r = await hub_client.post(API, json=missing, headers=ann)
    assert r.status_code == 422 and r.json()["extra"][0]["key"] == "description"
    r = await hub_client.post(API, json=claim("9999999999"), headers=ann)
    assert r.status_code == 404
    assert (await hub_client.get(f"{API}/424242", headers=staff["ann"])).status_code == 404
    no_contact = await hub_client.post(API, json=claim(account), headers=staff["ann"])
    assert no_contact.status_code == 403
    with_reason = await hub_client.post(
        API, json=claim(account), headers={**staff["cro"], "X-Access-Reason": "Claim mailed to the CRO"}
    )
    assert with_reason.status_code == 201, with_reason.text
    assert await count(hub, Claim) == 1
