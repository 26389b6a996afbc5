"""The solar plugin over HTTP: program facts and answers, the voicemail queue from left to returned with
its one-business-day check, a net-metered customer's bill explained from the CCB mock's own billing (for a
verified contact), and bad input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest

import plugins.solar as solar
from core.ccb.billing import local_time
from core.ccb.seed import DEFAULT_AS_OF, SeedAccount, identity_key, seed_customers
from core.checks import CheckStatus
from core.clock import ManualClock

API = "/api/solar"
SECTION = "solar"
TODAY = DEFAULT_AS_OF + dt.timedelta(days=3)  # a Monday


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [solar]


@pytest.fixture
def hub_clock() -> ManualClock:
    return ManualClock(local_time(TODAY, 9))


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {"plugins": {"telephony": {"tick_seconds": 0}}}


@pytest.fixture
async def customers(hub: Any) -> list[SeedAccount]:
    """A customer with rooftop solar (net meter, E-NEM SA, a year of net bills) and one without."""
    key = identity_key(hub.settings.secret_key)
    (solar,) = await seed_customers(hub.db, 1, 29, key, net_metered_share=1.0)
    (plain,) = await seed_customers(hub.db, 1, 30, key, net_metered_share=0.0)
    return [solar, plain]


@pytest.fixture
async def staff(staff_token: Any, enable_plugin: Any) -> dict[str, dict[str, str]]:
    await enable_plugin("solar", SECTION)
    out = {}
    for name, role in (("sol", "solar"), ("lee", "lead"), ("ann", "csr")):
        out[name] = {"Authorization": f"Bearer {await staff_token(role, SECTION, name=name)}"}
    return out


async def test_programs_and_answers(hub_client: Any, staff: dict[str, dict[str, str]]) -> None:
    r = await hub_client.get(f"{API}/programs", headers=staff["ann"])
    assert r.status_code == 200
    by_id = {p["id"]: p for p in r.json()}
    assert (
        by_id["solar_incentive"]["status"] == "closed" and "2018" in by_id["solar_incentive"]["status_note"]
    )
    assert any("$1,000" in x["amount"] for x in by_id["charge_up_la"]["rebates"])
    a = await hub_client.get(
        f"{API}/answers", params={"q": "How much is the EV charger rebate?"}, headers=staff["ann"]
    )
    assert a.status_code == 200 and a.json()[0]["id"] == "ev_rebate"
    none = await hub_client.get(f"{API}/answers", params={"q": "zzz qqq"}, headers=staff["ann"])
    assert none.status_code == 200 and none.json() == []
    short = await hub_client.get(f"{API}/answers", params={"q": "x"}, headers=staff["ann"])
    assert short.status_code == 400  # the query parameter fails its min_length


async def test_a_voicemail_is_left_returned_and_checked(
    hub: Any, hub_client: Any, hub_clock: ManualClock, staff: dict[str, dict[str, str]]
) -> None:
    body = {"ani": "2135550101", "duration_s": 42, "call_id": "call-0001"}
    r = await hub_client.post(f"{API}/voicemails", json=body, headers=staff["lee"])
    assert r.status_code == 201, r.text
    vm = r.json()
    assert vm["callback_number"] == "2135550101" and vm["returned_at"] is None
    again = await hub_client.post(f"{API}/voicemails", json=body, headers=staff["lee"])
    assert again.status_code == 200 and again.json()["id"] == vm["id"]
    csr = await hub_client.post(f"{API}/voicemails", json=body, headers=staff["ann"])
    assert csr.status_code == 403
    late = await hub_client.post(
        f"{API}/voicemails", json={"ani": "3105550102", "duration_s": 10}, headers=staff["lee"]
    )
    assert late.status_code == 201

    (ok,) = await hub.run_checks(plugin="solar")
    assert ok.status is CheckStatus.PASS
    hub_clock.advance(dt.timedelta(days=1, hours=1))  # Monday 9:00 -> Tuesday 10:00
    (bad,) = await hub.run_checks(plugin="solar")
    assert bad.status is CheckStatus.FAIL and f"#{vm['id']}" in bad.message

    queue = await hub_client.get(f"{API}/voicemails?status=open", headers=staff["sol"])
    assert [v["id"] for v in queue.json()] == [vm["id"], late.json()["id"]] and queue.json()[0]["overdue"]
    by_lead = await hub_client.post(
        f"{API}/voicemails/{vm['id']}/return", json={"outcome": "reached"}, headers=staff["lee"]
    )
    assert by_lead.status_code == 403
    wrong = await hub_client.post(
        f"{API}/voicemails/{vm['id']}/return", json={"outcome": "maybe"}, headers=staff["sol"]
    )
    assert wrong.status_code == 422 and wrong.json()["extra"][0]["key"] == "outcome"
    for v in (vm, late.json()):
        done = await hub_client.post(
            f"{API}/voicemails/{v['id']}/return",
            json={"outcome": "left_message", "notes": "Asked about NEM credit"},
            headers=staff["sol"],
        )
        assert done.status_code == 200, done.text
        assert (done.json()["outcome"], done.json()["returned_by"]) == ("left_message", "staff:sol")
    twice = await hub_client.post(
        f"{API}/voicemails/{vm['id']}/return", json={"outcome": "reached"}, headers=staff["sol"]
    )
    assert twice.status_code == 409
    missing = await hub_client.post(
        f"{API}/voicemails/999/return", json={"outcome": "reached"}, headers=staff["sol"]
    )
    assert missing.status_code == 404
    (fine,) = await hub.run_checks(plugin="solar")
    assert fine.status is CheckStatus.PASS
    returned = await hub_client.get(f"{API}/voicemails?status=returned", headers=staff["sol"])
    assert len(returned.json()) == 2
    bad_body = await hub_client.post(
        f"{API}/voicemails", json={"ani": "12", "duration_s": 5}, headers=staff["lee"]
    )
    assert bad_body.status_code == 422 and bad_body.json()["extra"][0]["key"] == "ani"


async def verified_contact(client: Any, headers: dict[str, str], customer: SeedAccount) -> dict[str, str]:
    """The Solar team member's callback to the customer, verified with the account's access code."""
    opened = await client.post(
        "/api/contacts", json={"channel": "phone", "account_id": customer.account_id}, headers=headers
    )
    assert opened.status_code == 201, opened.text
    contact_id = opened.json()["contact_id"]
    verified = await client.post(
        f"/api/contacts/{contact_id}/verify",
        json={"account_id": customer.account_id, "method": "access_code", "value": customer.access_code},
        headers=headers,
    )
    assert verified.status_code == 200, verified.text
    return {**headers, "X-Contact-Id": contact_id}


async def test_a_net_metered_bill_is_explained_from_the_ccb(
    hub: Any, hub_client: Any, staff: dict[str, dict[str, str]], customers: list[SeedAccount]
) -> None:
    solar, plain = customers
    url = f"{API}/accounts/{solar.account_id}/bill-explanation"
    refused = await hub_client.get(url, headers=staff["sol"])
    assert refused.status_code == 403  # no verified contact and no reason
    sol = await verified_contact(hub_client, staff["sol"], solar)

    latest = await hub_client.get(url, headers=sol)
    assert latest.status_code == 200, latest.text
    body = latest.json()
    # The same figures the CCB billed: the bill segment of the E-NEM SA on the latest bill.
    nem = await hub.ccb.get_net_metering(solar.account_id)
    assert nem is not None
    billed = nem.periods[0]
    assert (body["sa_id"], body["bill_id"], body["total_cents"]) == (
        nem.sa_id,
        billed.bill_id,
        billed.amount_cents,
    )
    assert (body["delivered_kwh"], body["received_kwh"], body["net_kwh"]) == (
        billed.delivered_kwh,
        billed.received_kwh,
        billed.net_kwh,
    )
    assert Decimal(body["net_kwh"]) == Decimal(body["delivered_kwh"]) - Decimal(body["received_kwh"])
    assert any(line.startswith("Energy delivered to you by the utility:") for line in body["lines"])
    assert any(line.startswith("Energy your solar system sent to the grid") for line in body["lines"])
    assert any("carried forward" in line or "forfeited" in line for line in body["lines"])
    assert len(body["other_periods"]) == len(nem.periods) - 1

    # Every bill of the year: the credit one bill carries out is what the next one carries in, and the
    # year has bills where the customer exported (a credit) and bills where it imported (tiers priced).
    by_start = {}
    for start in [body["start"], *body["other_periods"]]:
        r = await hub_client.get(url, params={"period": start}, headers=sol)
        assert r.status_code == 200, r.text
        by_start[start] = r.json()
    ordered = [by_start[k] for k in sorted(by_start)]
    for before, after in pairwise(ordered):
        assert after["credit_in_kwh"] == before["credit_out_kwh"]
    exported = [b for b in ordered if Decimal(b["net_kwh"]) < 0]
    imported = [b for b in ordered if Decimal(b["billed_kwh"]) > 0]
    assert exported and imported
    assert all(b["billed_kwh"] == "0.00" and b["credit_earned_kwh"] == b["net_kwh"][1:] for b in exported)
    tiered = imported[0]
    assert tiered["tier_lines"] and any(line.strip().startswith("Tier 1 (") for line in tiered["lines"])
    assert sum(t["amount_cents"] for t in tiered["tier_lines"]) == tiered["energy_cents"]
    by_month = await hub_client.get(url, params={"period": tiered["bill_date"][:7]}, headers=sol)
    assert by_month.status_code == 200 and by_month.json()["bill_id"] == tiered["bill_id"]

    # A lead may look with a stated reason; bad input, unknown accounts, accounts without net metering.
    reason = {**staff["lee"], "X-Access-Reason": "Solar callback about the summer bills"}
    assert (await hub_client.get(url, headers=reason)).status_code == 200
    nope = await hub_client.get(url, params={"period": "2019-01"}, headers=sol)
    assert nope.status_code == 404 and nope.json()["extra"][0]["key"] == "period"
    junk = await hub_client.get(url, params={"period": "soon"}, headers=sol)
    assert junk.status_code == 422 and junk.json()["extra"][0]["key"] == "period"
    unknown = await hub_client.get(f"{API}/accounts/0000000000/bill-explanation", headers=reason)
    assert unknown.status_code == 404
    malformed = await hub_client.get(f"{API}/accounts/12/bill-explanation", headers=reason)
    assert malformed.status_code == 422 and malformed.json()["extra"][0]["key"] == "account_id"
    ordinary = await hub_client.get(f"{API}/accounts/{plain.account_id}/bill-explanation", headers=reason)
    assert ordinary.status_code == 409
    assert "not on net energy metering" in ordinary.json()["detail"]
    # The old plugin-table workaround is gone: net-metering periods are no longer typed in here.
    gone = await hub_client.put(
        f"{API}/accounts/{solar.account_id}/nem", json={"interconnected_on": "2023-12-01"}, headers=sol
    )
    assert gone.status_code in (404, 405)
