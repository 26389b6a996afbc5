"""Serving Our Seniors over HTTP: a CSR flags a contact and files a referral; the CRO accepts it (SOS
number), adds a contact, sends it (mail in the outbox, CCB note on the account) and routes a suspected leak
to a CCB case; the waiting check fails once business days pass; bad input, roles and double submits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

import plugins.sos as sos
from core.bus import Envelope
from core.ccb.billing import local_time
from core.ccb.seed import DEFAULT_AS_OF, SeedAccount, identity_key, seed_customers
from core.clock import ManualClock
from core.contract import CheckStatus
from core.mail import list_outbox
from plugins.sos.models import Referral

API = "/api/sos"
CSR_SECTION = "call-center"
CRO_SECTION = "customer-relations"


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [sos]


@pytest.fixture
def hub_clock() -> ManualClock:
    return ManualClock(local_time(DEFAULT_AS_OF + dt.timedelta(days=3), 9))


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {"plugins": {"telephony": {"tick_seconds": 0}}}


@pytest.fixture
async def customers(hub: Any) -> list[SeedAccount]:
    return await seed_customers(hub.db, 3, 11, identity_key(hub.settings.secret_key))


@pytest.fixture
async def csr(staff_token: Any, enable_plugin: Any) -> dict[str, str]:
    await enable_plugin("sos", CSR_SECTION)
    await enable_plugin("sos", CRO_SECTION)
    return {"Authorization": f"Bearer {await staff_token('csr', CSR_SECTION, name='carla')}"}


@pytest.fixture
async def cro(staff_token: Any, csr: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {await staff_token('cro', CRO_SECTION, name='rob')}"}


@pytest.fixture
async def events(hub: Any) -> list[Envelope]:
    found: list[Envelope] = []

    async def keep(env: Envelope) -> None:
        found.append(env)

    await hub.bus.subscribe("hub.sos.>", keep)
    return found


async def verified_contact(client: Any, headers: dict[str, str], customer: SeedAccount) -> str:
    r = await client.post("/api/contacts", headers=headers, json={"channel": "phone"})
    assert r.status_code == 201, r.text
    contact_id = str(r.json()["contact_id"])
    r = await client.post(
        f"/api/contacts/{contact_id}/verify",
        headers=headers,
        json={"account_id": customer.account_id, "method": "access_code", "value": customer.access_code},
    )
    assert r.status_code == 200, r.text
    return contact_id


def referral(customer: SeedAccount, contact_id: str | None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account_id": customer.account_id,
        "contact_id": contact_id,
        "reasons": ["loneliness", "suspected_leak"],
        "contact_name": "Rosa Diaz",
        "contact_phone": "213-555-0100",
        "consent": True,
        "consent_note": "verbal, on the call",
        "details": "Lives alone since spring; the last bill doubled.",
    }
    body.update(fields)
    return body


async def count(hub: Any) -> int:
    async with hub.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Referral)) or 0)


async def test_flagged_senior_gets_hints_and_the_referral_goes_all_the_way(
    hub: Any,
    hub_client: Any,
    csr: dict[str, str],
    cro: dict[str, str],
    customers: list[SeedAccount],
    events: list[Envelope],
    drain: Any,
) -> None:
    customer = customers[0]
    contact_id = await verified_contact(hub_client, csr, customer)
    r = await hub_client.post(
        f"{API}/contacts/{contact_id}/flags",
        headers=csr,
        json={"senior": True, "mentions": ["cannot_pay", "isolation"]},
    )
    assert r.status_code == 200, r.text
    hints = (await hub_client.get(f"/api/contacts/{contact_id}", headers=csr)).json()["hints"]
    kinds = {h["kind"] for h in hints if h["source"] == "sos"}
    assert kinds == {"sos", "assistance"}

    r = await hub_client.post(f"{API}/referrals", headers=csr, json=referral(customer, contact_id))
    assert r.status_code == 201, r.text
    filed = r.json()
    assert filed["status"] == "filed" and filed["in_program"] == ["loneliness"]
    assert filed["outside"] == {"suspected_leak": "field_investigation"}
    hints = (await hub_client.get(f"/api/contacts/{contact_id}", headers=csr)).json()["hints"]
    assert {h["kind"] for h in hints if h["source"] == "sos"} == {"assistance"}  # SOS already offered
    rid = filed["id"]
    # CSRs file; only the CRO works the queue.
    assert (await hub_client.post(f"{API}/referrals/{rid}/accept", headers=csr)).status_code == 403
    assert (await hub_client.get(f"{API}/referrals", headers=csr)).status_code == 403
    queue = (await hub_client.get(f"{API}/referrals", headers=cro)).json()
    assert [q["id"] for q in queue] == [rid]

    r = await hub_client.post(f"{API}/referrals/{rid}/accept", headers=cro)
    assert r.status_code == 200, r.text
    number = r.json()["sos_number"]
    assert number.startswith("SOS-") and r.json()["status"] == "accepted"
    again = await hub_client.post(f"{API}/referrals/{rid}/accept", headers=cro)
    assert again.json()["sos_number"] == number
    r = await hub_client.post(
        f"{API}/referrals/{rid}/contacts",
        headers=cro,
        json={"name": "Ana Diaz", "relationship": "daughter", "phone": "213-555-0101"},
    )
    assert r.status_code == 201 and r.json()["extra_contacts"][0]["name"] == "Ana Diaz"

    r = await hub_client.post(f"{API}/referrals/{rid}/routes", headers=cro, json={"need": "suspected_leak"})
    assert r.status_code == 200, r.text
    (routing,) = r.json()["routings"]
    case = await hub.ccb.get_case(routing["ccb_case_id"])
    assert case.case_type == "HIGH_BILL" and case.account_id == customer.account_id
    fa = await hub.ccb.get_field_activity(routing["field_activity_id"])
    assert fa.fa_type == "LEAK_CHECK" and fa.case_id == case.case_id
    assert r.json()["status"] == "accepted"  # the program's own need is still there
    same = await hub_client.post(
        f"{API}/referrals/{rid}/routes", headers=cro, json={"need": "suspected_leak"}
    )
    assert len(same.json()["routings"]) == 1

    r = await hub_client.post(f"{API}/referrals/{rid}/send", headers=cro)
    assert r.status_code == 200, r.text
    sent = r.json()
    assert sent["status"] == "sent" and sent["mail_id"] and sent["ccb_contact_id"]
    assert (await hub_client.post(f"{API}/referrals/{rid}/send", headers=cro)).json()["mail_id"] == sent[
        "mail_id"
    ]
    async with hub.db.session() as session:
        mails = [m for m in await list_outbox(session) if m.source == "sos"]
    assert len(mails) == 1 and mails[0].to == ["sos.referrals@aging.example.org"]
    assert number in mails[0].body and "Ana Diaz (daughter)" in mails[0].body
    notes = await hub.ccb.list_customer_contacts(customer.account_id)
    note = next(n for n in notes if n.contact_id == sent["ccb_contact_id"])
    assert (note.contact_class, note.contact_type) == ("PROGRAM", "ASSISTANCE") and number in note.log_text
    assert (await hub_client.get(f"{API}/referrals", headers=cro)).json() == []
    await drain()
    assert [e.subject for e in events] == [
        "hub.sos.referral.filed",
        "hub.sos.referral.accepted",
        "hub.sos.referral.routed",
        "hub.sos.referral.sent",
    ]
    assert "contact_name" not in events[0].data and "Rosa" not in str(events[0].data)


async def test_a_referral_with_nothing_for_the_program_is_routed_and_closed(
    hub_client: Any, csr: dict[str, str], cro: dict[str, str], customers: list[SeedAccount]
) -> None:
    contact_id = await verified_contact(hub_client, csr, customers[1])
    body = referral(customers[1], contact_id, reasons=["home_repair"])
    rid = (await hub_client.post(f"{API}/referrals", headers=csr, json=body)).json()["id"]
    refused = await hub_client.post(f"{API}/referrals/{rid}/accept", headers=cro)
    assert refused.status_code == 409 and refused.json()["extra"][0]["key"] == "reasons"
    wrong = await hub_client.post(f"{API}/referrals/{rid}/routes", headers=cro, json={"need": "loneliness"})
    assert wrong.status_code == 422 and wrong.json()["extra"][0]["key"] == "need"
    r = await hub_client.post(f"{API}/referrals/{rid}/routes", headers=cro, json={"need": "home_repair"})
    assert r.status_code == 200 and r.json()["status"] == "routed"
    assert r.json()["routings"][0]["target"] == "handy_worker" and r.json()["routings"][0]["mail_id"]


async def test_the_waiting_check_fails_after_two_business_days(
    hub: Any, hub_client: Any, hub_clock: ManualClock, csr: dict[str, str], customers: list[SeedAccount]
) -> None:
    contact_id = await verified_contact(hub_client, csr, customers[0])
    r = await hub_client.post(f"{API}/referrals", headers=csr, json=referral(customers[0], contact_id))
    assert r.status_code == 201
    (ok,) = await hub.run_checks(plugin="sos")
    assert ok.status is CheckStatus.PASS
    hub_clock.advance(dt.timedelta(days=5))  # at least three business days from any weekday
    (late,) = await hub.run_checks(plugin="sos")
    assert late.status is CheckStatus.FAIL and f"#{r.json()['id']}" in late.message


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"account_id": "12345"}, "account_id"),
        ({"reasons": []}, "reasons"),
        ({"reasons": ["bingo"]}, "reasons[0]"),
        ({"reasons": ["loneliness", "loneliness"]}, "reasons"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"contact_name": "   "}, "contact_name"),
        ({"consent": False}, "consent"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    hub: Any,
    hub_client: Any,
    csr: dict[str, str],
    customers: list[SeedAccount],
    fields: dict[str, Any],
    field: str,
) -> None:
    contact_id = await verified_contact(hub_client, csr, customers[0])
    r = await hub_client.post(
        f"{API}/referrals", headers=csr, json=referral(customers[0], contact_id, **fields)
    )
    assert r.status_code == 422, r.text
    assert r.json()["extra"][0]["key"] == field
    assert await count(hub) == 0


async def test_unknown_ids_are_404_and_unverified_contacts_403(
    hub: Any, hub_client: Any, csr: dict[str, str], cro: dict[str, str], customers: list[SeedAccount]
) -> None:
    contact_id = await verified_contact(hub_client, csr, customers[0])
    r = await hub_client.post(
        f"{API}/referrals", headers=csr, json=referral(customers[0], contact_id, account_id="9999999999")
    )
    assert r.status_code == 404 and r.json()["extra"][0]["key"] == "account_id"
    other = await hub_client.post(f"{API}/referrals", headers=csr, json=referral(customers[1], contact_id))
    assert other.status_code == 403  # the contact is verified for another account
    none = await hub_client.post(f"{API}/referrals", headers=csr, json=referral(customers[0], None))
    assert none.status_code == 403
    assert (await hub_client.post(f"{API}/referrals/999/accept", headers=cro)).status_code == 404
    flags = await hub_client.post(f"{API}/contacts/0000000000/flags", headers=csr, json={"senior": True})
    assert flags.status_code == 404
    assert await count(hub) == 0


async def test_a_double_submitted_referral_creates_one_record(
    hub: Any, hub_client: Any, csr: dict[str, str], customers: list[SeedAccount]
) -> None:
    contact_id = await verified_contact(hub_client, csr, customers[0])
    headers = {**csr, "Idempotency-Key": "form:double-click-1"}
    first = await hub_client.post(
        f"{API}/referrals", headers=headers, json=referral(customers[0], contact_id)
    )
    second = await hub_client.post(
        f"{API}/referrals", headers=headers, json=referral(customers[0], contact_id)
    )
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"] and second.json()["replayed"] is True
    assert await count(hub) == 1
