"""The solar plugin over HTTP: program facts and answers, the voicemail queue from left to returned with
its one-business-day check, a net-metered bill explained from entered periods, and bad input."""

from __future__ import annotations

import datetime as dt
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
    return await seed_customers(hub.db, 2, 29, identity_key(hub.settings.secret_key))


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


async def test_a_net_metered_bill_is_explained_from_entered_periods(
    hub_client: Any, staff: dict[str, dict[str, str]], customers: list[SeedAccount]
) -> None:
    acct = customers[0].account_id
    sol = staff["sol"]
    assert (await hub_client.get(f"{API}/accounts/{acct}/nem", headers=sol)).status_code == 404
    r = await hub_client.put(
        f"{API}/accounts/{acct}/nem", json={"interconnected_on": "2023-12-01"}, headers=sol
    )
    assert r.status_code == 200, r.text
    for start, end, delivered, received in (
        ("2024-01-01", "2024-01-31", 300, 420),
        ("2024-01-31", "2024-03-01", 900, 400),
    ):
        p = await hub_client.post(
            f"{API}/accounts/{acct}/nem/periods",
            json={"start": start, "end": end, "delivered_kwh": delivered, "received_kwh": received},
            headers=sol,
        )
        assert p.status_code == 201, p.text
    overlap = await hub_client.post(
        f"{API}/accounts/{acct}/nem/periods",
        json={"start": "2024-02-15", "end": "2024-03-15", "delivered_kwh": 1, "received_kwh": 0},
        headers=sol,
    )
    assert overlap.status_code == 409

    url = f"{API}/accounts/{acct}/bill-explanation"
    refused = await hub_client.get(url, headers=sol)
    assert refused.status_code == 403  # no verified contact and no reason
    reason = {**staff["lee"], "X-Access-Reason": "Solar callback about the February bill"}
    jan = await hub_client.get(url, params={"period": "2024-01-01"}, headers=reason)
    assert jan.status_code == 200, jan.text
    assert (jan.json()["net_kwh"], jan.json()["billed_kwh"], jan.json()["credit_out_kwh"]) == (-120, 0, 120)
    feb = await hub_client.get(url, params={"period": "2024-03"}, headers=reason)
    body = feb.json()
    assert (body["net_kwh"], body["credit_in_kwh"], body["billed_kwh"]) == (500, 120, 380)
    assert any("Energy delivered to you" in line for line in body["lines"])
    assert any("tier 1" in line for line in body["lines"])
    assert body["zone"] in ("1", "2")
    nope = await hub_client.get(url, params={"period": "2025-01-01"}, headers=reason)
    assert nope.status_code == 404
    junk = await hub_client.get(url, params={"period": "soon"}, headers=reason)
    assert junk.status_code == 422
    unknown = await hub_client.get(f"{API}/accounts/0000000000/bill-explanation", headers=reason)
    assert unknown.status_code == 404
    malformed = await hub_client.get(f"{API}/accounts/12/bill-explanation", headers=reason)
    assert malformed.status_code == 422
    bad = await hub_client.post(
        f"{API}/accounts/{acct}/nem/periods",
        json={"start": "2024-03-01", "end": "2024-02-01", "delivered_kwh": 1, "received_kwh": 0},
        headers=sol,
    )
    assert bad.status_code == 422 and bad.json()["extra"][0]["key"] == "end"
