"""The claims plugin over HTTP: intake from a verified contact with a document, need-info mail pausing the
SLA clock, a grant moving the CCB balance by exactly the credit, a denial letter, a fraud incident report,
the SLA check, bad input (422/404/403) and idempotent intake; then the same through the claims desk page
(``/ui/claims``): forms with CSRF, errors re-rendered naming the field, nothing written on a refusal."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, select

import plugins.claims as claims
import plugins.correspondence as correspondence
from core.ccb.billing import local_time
from core.ccb.seed import DEFAULT_AS_OF, SeedAccount, identity_key, seed_customers
from core.clock import ManualClock
from core.contact.pages import dollars
from core.mail import list_outbox
from core.models import OutboxEvent
from plugins.claims.models import Claim, ClaimDocument, ClaimIncident
from plugins.claims.rules import claim_number
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
    got = await hub_client.get(f"{API}/{c['id']}", headers=ann)
    assert [d["label"] for d in got.json()["documents"]] == ["Plumber's receipt"]
    raw = await hub_client.get(f"{API}/{c['id']}/documents/{up.json()['id']}", headers=ann)
    assert raw.content == PDF
    # Outside the contact the claim is a queue entry: no claimant, no documents (issue 13).
    bare = (await hub_client.get(f"{API}/{c['id']}", headers=staff["ann"])).json()
    assert bare["customer_hidden"] and bare["claimant_name"] == "" and bare["documents"] == []
    refused = await hub_client.get(f"{API}/{c['id']}/documents/{up.json()['id']}", headers=staff["ann"])
    assert refused.status_code == 403
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
    # The body is optional: an empty one is decoded (the claim is open again, so the answer is 409).
    empty = await hub_client.post(f"{API}/{c['id']}/info-received", headers=staff["ann"])
    assert empty.status_code == 409 and empty.json()["extra"][0]["key"] == "status", empty.text
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


# -- the claims desk page (/ui/claims): the same operations through HTML forms --------------------------
PAGE = "/ui/claims"
PASSWORD = "claims-desk-password"


def csrf_of(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


async def sign_in(client: Any, staff_token: Any, role: str, name: str) -> dict[str, str]:
    """Sign ``name`` in through the login form; returns the same person's API headers (for contacts)."""
    token = await staff_token(role, SECTION, name=name, password=PASSWORD)
    login = await client.get("/ui/login")
    r = await client.post(
        "/ui/login",
        data={"name": name, "password": PASSWORD, "next": "/ui/", "_csrf_token": csrf_of(login.text)},
    )
    assert r.status_code in (302, 303), r.text
    return {"Authorization": f"Bearer {token}"}


def intake_fields(account: str, contact: str, **fields: str) -> dict[str, str]:
    body = {
        "contact_id": contact,
        "account_id": account,
        "claimant_name": "Rosa Diaz",
        "claimant_email": "rosa.diaz@example.com",
        "incident": "water_main_break",
        "incident_date": (TODAY - dt.timedelta(days=4)).isoformat(),
        "loss": "water_lost",
        "description": "The main broke in the street; water ran through the meter for two days.",
        "claimed": "125.00",
    }
    body.update(fields)
    return body


async def test_the_desk_files_a_claim_with_a_receipt_and_grants_part_of_it(
    hub: Any,
    hub_client: Any,
    staff: dict[str, dict[str, str]],
    staff_token: Any,
    customers: list[SeedAccount],
) -> None:
    account = customers[0].account_id
    api = await sign_in(hub_client, staff_token, "supervisor", "pat")
    contact = (await in_contact(hub_client, api, customers[0]))["X-Contact-Id"]
    desk = await hub_client.get(f"{PAGE}/")
    assert desk.status_code == 200 and 'id="intake-form"' in desk.text and "No claim is waiting" in desk.text

    filed = await hub_client.post(
        f"{PAGE}/intake",
        data={**intake_fields(account, contact), "_csrf_token": csrf_of(desk.text)},
        files={"documents": ("receipt.pdf", PDF, "application/pdf")},
    )
    assert filed.status_code == 303, filed.text
    page = await hub_client.get(filed.headers["location"])
    async with hub.db.session() as session:
        (row,) = list(await session.scalars(select(Claim)))
        (doc,) = list(await session.scalars(select(ClaimDocument)))
    number = claim_number(row.id, row.filed_at)
    assert (row.contact_id, row.filed_by, row.claimed_cents) == (contact, "staff:pat", 12_500)
    assert f"Claim {number} filed for account {account}: covered." in page.text
    assert f'href="{PAGE}/{row.id}/documents/{doc.id}"' in page.text and "0 of 10" in page.text
    raw = await hub_client.get(f"{PAGE}/{row.id}/documents/{doc.id}")
    assert (
        raw.status_code == 200 and raw.content == PDF and raw.headers["content-disposition"] == "attachment"
    )

    before = (await hub.ccb.get_balance(account)).balance_cents
    too_much = await hub_client.post(
        f"{PAGE}/{row.id}/grant", data={"amount": "125.01", "reason": "x", "_csrf_token": csrf_of(page.text)}
    )
    assert too_much.status_code == 422 and "amount_cents: is above the 12500 cents claimed" in too_much.text
    assert 'value="125.01"' in too_much.text  # the form keeps what was typed
    not_money = await hub_client.post(
        f"{PAGE}/{row.id}/grant", data={"amount": "ninety", "reason": "x", "_csrf_token": csrf_of(page.text)}
    )
    assert not_money.status_code == 422 and "amount_cents" in not_money.text
    assert (await hub.ccb.get_balance(account)).balance_cents == before

    granted = await hub_client.post(
        f"{PAGE}/{row.id}/grant",
        data={
            "amount": "90.00",
            "reason": "Crew report confirms the break.",
            "_csrf_token": csrf_of(too_much.text),
        },
    )
    assert granted.status_code == 303, granted.text
    after = (await hub.ccb.get_balance(account)).balance_cents
    assert after - before == -9_000
    done = await hub_client.get(granted.headers["location"])
    assert f"Claim {number} granted: $90.00 credited to service agreement" in done.text
    assert f"balance now {dollars(after)}" in done.text
    assert "No claim is waiting for a decision." in done.text
    decided = done.text.split('id="decided-claims"', 1)[1]
    assert number in decided and "$90.00" in decided and "$125.00" in decided
    await sign_in(hub_client, staff_token, "cro", "otto")  # the balance is for the one who posted the credit
    other = await hub_client.get(granted.headers["location"])
    assert f"Claim {number} granted: $90.00" in other.text and "balance now" not in other.text


async def test_the_desk_refuses_bad_input_naming_the_field_and_writes_nothing(
    hub: Any,
    hub_client: Any,
    staff: dict[str, dict[str, str]],
    staff_token: Any,
    customers: list[SeedAccount],
) -> None:
    account = customers[0].account_id
    api = await sign_in(hub_client, staff_token, "csr", "cara")
    contact = (await in_contact(hub_client, api, customers[0]))["X-Contact-Id"]
    desk = await hub_client.get(f"{PAGE}/")
    token = csrf_of(desk.text)
    assert 'class="grant"' not in desk.text and 'name="access_reason"' not in desk.text  # a CSR files only
    for fields, key in (
        ({"claimed": "0"}, "claimed_cents"),
        ({"claimed": "lots"}, "claimed_cents"),
        ({"loss": "spaceship_damage"}, "loss"),
        ({"account_id": "12"}, "account_id"),
        ({"claimant_email": "not-an-address"}, "claimant_email"),
        ({"description": ""}, "description"),
        ({"incident_date": "yesterday"}, "incident_date"),
    ):
        r = await hub_client.post(
            f"{PAGE}/intake", data={**intake_fields(account, contact, **fields), "_csrf_token": token}
        )
        assert r.status_code == 422, (fields, r.text)
        assert f"{key}:" in r.text and 'role="alert"' in r.text, (fields, r.text)
    exe = await hub_client.post(
        f"{PAGE}/intake",
        data={**intake_fields(account, contact), "_csrf_token": token},
        files={"documents": ("receipt.pdf", b"MZ\x90\x00evil", "application/pdf")},
    )
    assert exe.status_code == 422 and "documents: receipt.pdf: must be one of" in exe.text
    no_contact = await hub_client.post(
        f"{PAGE}/intake", data={**intake_fields(account, ""), "_csrf_token": token}
    )
    assert no_contact.status_code == 403 and "X-Contact-Id" in no_contact.text
    forged = await hub_client.post(f"{PAGE}/intake", data=intake_fields(account, contact))
    assert forged.status_code == 403
    assert await count(hub, Claim) == 0 and await count(hub, ClaimDocument) == 0

    filed = await hub_client.post(
        f"{PAGE}/intake", data={**intake_fields(account, contact), "_csrf_token": token}
    )
    assert filed.status_code == 303, filed.text
    again = await hub_client.post(
        f"{PAGE}/intake",
        data={
            **intake_fields(account, contact),
            "_csrf_token": token,
            "idempotency_key": "form:double-click-1",
        },
    )
    twice = await hub_client.post(
        f"{PAGE}/intake",
        data={
            **intake_fields(account, contact),
            "_csrf_token": token,
            "idempotency_key": "form:double-click-1",
        },
    )
    assert again.headers["location"] == twice.headers["location"]
    assert await count(hub, Claim) == 2
    claim_id = int(filed.headers["location"].rsplit("=", 1)[1])
    csr_grant = await hub_client.post(
        f"{PAGE}/{claim_id}/grant", data={"amount": "1.00", "reason": "x", "_csrf_token": token}
    )
    assert csr_grant.status_code == 403
    unknown = await hub_client.post(f"{PAGE}/424242/fraud", data={"reason": "x", "_csrf_token": token})
    assert unknown.status_code == 404 and "no claim #424242" in unknown.text
    hub_client.cookies.clear()
    anonymous = await hub_client.post(f"{PAGE}/{claim_id}/fraud", data={"reason": "x"})
    assert anonymous.status_code in (302, 303) and "/ui/login" in anonymous.headers["location"]


async def test_the_desk_asks_for_information_resumes_denies_and_reports_fraud(
    hub: Any,
    hub_client: Any,
    hub_clock: ManualClock,
    staff: dict[str, dict[str, str]],
    staff_token: Any,
    customers: list[SeedAccount],
) -> None:
    ann = await in_contact(hub_client, staff["ann"], customers[1])
    first = await file(hub_client, ann, customers[1].account_id)
    second = await file(hub_client, ann, customers[1].account_id, loss="lawn_landscaping")
    await sign_in(hub_client, staff_token, "cro", "cora")
    desk = await hub_client.get(f"{PAGE}/")
    token = csrf_of(desk.text)
    assert desk.text.count('class="grant"') == 2 and 'name="access_reason"' in desk.text

    empty = await hub_client.post(
        f"{PAGE}/{first['id']}/need-info", data={"message": " ", "_csrf_token": token}
    )
    assert empty.status_code == 422 and "message:" in empty.text
    asked = await hub_client.post(
        f"{PAGE}/{first['id']}/need-info",
        data={"message": "A photo of the meter, please.", "_csrf_token": token},
    )
    assert asked.status_code == 303
    page = await hub_client.get(asked.headers["location"])
    assert "the SLA clock is paused" in page.text and "(clock paused)" in page.text
    assert f'action="/ui/claims/{first["id"]}/info-received"' in page.text
    hub_clock.advance(dt.timedelta(days=1))
    resumed = await hub_client.post(
        f"{PAGE}/{first['id']}/info-received", data={"note": "Photo arrived.", "_csrf_token": token}
    )
    assert resumed.status_code == 303
    assert "back in review" in (await hub_client.get(resumed.headers["location"])).text

    denied = await hub_client.post(
        f"{PAGE}/{second['id']}/deny", data={"reason": second["coverage_reason"], "_csrf_token": token}
    )
    assert denied.status_code == 303
    assert "decision letter" in (await hub_client.get(denied.headers["location"])).text
    again = await hub_client.post(f"{PAGE}/{second['id']}/deny", data={"reason": "x", "_csrf_token": token})
    assert again.status_code == 409 and "is denied" in again.text

    fraud = await hub_client.post(
        f"{PAGE}/{first['id']}/fraud", data={"reason": "Photos from a news story.", "_csrf_token": token}
    )
    assert fraud.status_code == 303
    assert await count(hub, ClaimIncident) == 1
    assert [s for s in await subjects(hub) if s.startswith("hub.claims")] == [
        "hub.claims.claim.filed",
        "hub.claims.claim.filed",
        "hub.claims.claim.info_requested",
        "hub.claims.claim.denied",
        "hub.claims.claim.fraud_reported",
    ]
