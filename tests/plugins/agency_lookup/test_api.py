"""The agency lookup over HTTP: directory search and transfer targets, the disclosure workflow end to end
(deny without a basis, subpoena on one account, bulk denied without a court order, interval data with
consent and two-person approval), the log and audit chains, bad input, the checks and the monthly report.
"""

from __future__ import annotations

from typing import Any

import pytest

import plugins.agency_lookup as agency_lookup
from core.audit import verify_chain
from core.bus import Envelope
from core.ccb.seed import SeedAccount, identity_key, seed_customers

API = "/api/agency_lookup"
SECTION = "customer-service-center"


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [agency_lookup]


@pytest.fixture
async def accounts(hub: Any) -> list[SeedAccount]:
    return await seed_customers(hub.db, 5, 7, identity_key(hub.settings.secret_key))


@pytest.fixture
async def headers(staff_token: Any, enable_plugin: Any) -> dict[str, dict[str, str]]:
    await enable_plugin("agency_lookup", SECTION)
    out = {}
    for who, role in (("cro", "cro"), ("cro2", "cro"), ("sup", "supervisor"), ("csr", "csr")):
        out[who] = {"Authorization": f"Bearer {await staff_token(role, SECTION)}"}
    return out


@pytest.fixture
async def events(hub: Any) -> list[Envelope]:
    found: list[Envelope] = []

    async def keep(env: Envelope) -> None:
        found.append(env)

    await hub.bus.subscribe("hub.agency.>", keep)
    return found


def request_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "requester_kind": "law_enforcement",
        "requester_name": "Det. R. Alvarez",
        "requester_agency": "LAPD",
        "requester_badge": "31337",
        "requester_contact": "Robbery-Homicide, (213) 486-6890",
        "identity_verified_by": "call-back to the published LAPD station number",
        "elements": ["name", "address"],
    }
    body.update(fields)
    return body


async def test_directory_search_and_transfer_targets(hub_client: Any, headers: Any) -> None:
    r = await hub_client.get(
        f"{API}/directory", params={"q": "permit for new construction"}, headers=headers["csr"]
    )
    assert r.status_code == 200 and r.json()[0]["id"] == "ladbs"
    assert "Building and Safety" in r.json()[0]["name"]
    r = await hub_client.get(f"{API}/directory", params={"q": "gas leak"}, headers=headers["csr"])
    assert r.json()[0]["organization"] == "SoCalGas" and r.json()[0]["dial"] == "18004272200"
    assert (await hub_client.get(f"{API}/directory", params={"q": "x" * 201}, headers=headers["csr"])).json()[
        "extra"
    ][0]["key"] == "q"
    targets = (await hub_client.get(f"{API}/transfer-targets", headers=headers["csr"])).json()
    assert {"label": "City of LA 311 (MyLA311)", "dial": "311"}.items() <= targets[6].items()
    # CSRs find numbers; they cannot open the disclosure desk.
    assert (await hub_client.get(f"{API}/disclosures", headers=headers["csr"])).status_code == 403


async def test_no_basis_is_recorded_as_denied_and_never_released(
    hub_client: Any, headers: Any, accounts: list[SeedAccount], events: list[Envelope], drain: Any
) -> None:
    r = await hub_client.post(
        f"{API}/disclosures", json=request_body(account_ids=[accounts[0].account_id]), headers=headers["cro"]
    )
    assert r.status_code == 201, r.text
    d = r.json()
    assert (d["decision"], d["status"], d["elements_allowed"]) == ("denied", "denied", [])
    assert "default deny" in d["denial_reason"]
    r = await hub_client.post(f"{API}/disclosures/{d['id']}/release", headers=headers["cro"])
    assert r.status_code == 409 and r.json()["extra"][0]["key"] == "decision"
    await drain()
    assert [e.subject for e in events] == ["hub.agency.disclosure.requested", "hub.agency.disclosure.decided"]
    # Events name no customer and no account.
    assert accounts[0].account_id not in str([e.data for e in events])
    assert accounts[0].name not in str([e.data for e in events])


async def test_subpoena_releases_one_account_limited_to_the_basis(
    hub: Any, hub_client: Any, headers: Any, accounts: list[SeedAccount], events: list[Envelope], drain: Any
) -> None:
    acct = accounts[1]
    body = request_body(
        account_ids=[acct.account_id],
        legal_basis="subpoena",
        instrument_ref="LASC subpoena 24-1234, 2026-11-30",
        elements=["name", "phone"],
    )
    d = (await hub_client.post(f"{API}/disclosures", json=body, headers=headers["cro"])).json()
    assert (d["decision"], d["status"], d["needs_approval"]) == ("granted", "ready", False)
    r = await hub_client.post(f"{API}/disclosures/{d['id']}/release", headers=headers["cro"])
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["records"] == [{"account_id": acct.account_id, "name": acct.name, "phone": acct.phone}]
    assert (
        out["disclosure"]["elements_disclosed"] == ["name", "phone"]
        and out["disclosure"]["record_count"] == 1
    )
    again = await hub_client.post(f"{API}/disclosures/{d['id']}/release", headers=headers["cro"])
    assert again.status_code == 409
    # A §7927.410(c) request gets name/address/usage only: the phone is withheld (partial).
    partial = (
        await hub_client.post(
            f"{API}/disclosures",
            json=request_body(
                account_ids=[acct.account_id],
                legal_basis="GC7927.410_c",
                case_or_incident_no="DR 24-0101",
                elements=["name", "phone"],
            ),
            headers=headers["cro"],
        )
    ).json()
    assert partial["decision"] == "partial" and partial["elements_allowed"] == ["name"]
    released = (
        await hub_client.post(f"{API}/disclosures/{partial['id']}/release", headers=headers["cro"])
    ).json()
    assert released["records"] == [{"account_id": acct.account_id, "name": acct.name}]
    await drain()
    assert [e.subject for e in events].count("hub.agency.disclosure.released") == 2
    log = (await hub_client.get(f"{API}/disclosures/{d['id']}/log", headers=headers["cro"])).json()
    assert [e["step"] for e in log] == ["decided", "released"]
    assert log[1]["prev_entry_hash"] == log[0]["entry_hash"]
    assert log[1]["entry"]["legal_basis"] == "subpoena" and log[1]["entry"]["accounts_affected"] == [
        acct.account_id
    ]
    async with hub.db.session() as session:
        assert (await verify_chain(session, hub.audit.key)).ok


async def test_bulk_without_a_court_order_is_denied(
    hub_client: Any, headers: Any, accounts: list[SeedAccount]
) -> None:
    threshold = request_body(
        legal_basis="GC7927.410_c",
        case_or_incident_no="DR 24-0202",
        criteria="all homes over 3000 kWh a month in 91331",
        elements=["address", "billing_usage"],
    )
    d = (await hub_client.post(f"{API}/disclosures", json=threshold, headers=headers["cro"])).json()
    assert d["decision"] == "denied" and d["bulk_flag"] and "court order" in d["denial_reason"]
    many = request_body(
        legal_basis="subpoena",
        instrument_ref="subpoena 24-77",
        account_ids=[a.account_id for a in accounts[:4]],
    )
    d = (await hub_client.post(f"{API}/disclosures", json=many, headers=headers["cro"])).json()
    assert d["decision"] == "denied" and d["bulk_flag"]
    ordered = {**many, "legal_basis": "court_order", "instrument_ref": "LASC order 24STCV0001"}
    d = (await hub_client.post(f"{API}/disclosures", json=ordered, headers=headers["cro"])).json()
    assert (d["decision"], d["status"]) == ("granted", "awaiting_approval")


async def test_interval_data_with_consent_needs_a_second_person(
    hub: Any, hub_client: Any, headers: Any, accounts: list[SeedAccount]
) -> None:
    body = request_body(
        requester_kind="assistance_program",
        requester_name="M. Chen",
        requester_agency="HEAP administrator (CSD provider)",
        legal_basis="PUC8381_consent",
        consent_ref="HEAP enrolment form with consent, 2026-10-02",
        account_ids=[accounts[2].account_id],
        elements=["name", "ami_interval"],
    )
    d = (await hub_client.post(f"{API}/disclosures", json=body, headers=headers["cro"])).json()
    assert (d["decision"], d["status"], d["needs_approval"]) == ("granted", "awaiting_approval", True)
    early = await hub_client.post(f"{API}/disclosures/{d['id']}/release", headers=headers["cro"])
    assert early.status_code == 409 and early.json()["extra"][0]["key"] == "approved_by"
    same = await hub_client.post(f"{API}/disclosures/{d['id']}/approve", headers=headers["cro"])
    assert same.status_code == 409 and same.json()["extra"][0]["key"] == "approved_by"
    assert (
        await hub_client.post(f"{API}/disclosures/{d['id']}/approve", headers=headers["csr"])
    ).status_code == 403
    ok = await hub_client.post(f"{API}/disclosures/{d['id']}/approve", headers=headers["sup"])
    assert (
        ok.status_code == 200
        and ok.json()["status"] == "ready"
        and ok.json()["approved_by"].startswith("staff:")
    )
    twice = await hub_client.post(f"{API}/disclosures/{d['id']}/approve", headers=headers["cro2"])
    assert twice.status_code == 409
    out = (await hub_client.post(f"{API}/disclosures/{d['id']}/release", headers=headers["cro2"])).json()
    record = out["records"][0]
    assert set(record) == {"account_id", "name", "ami_interval"} and record["ami_interval"]
    log = (await hub_client.get(f"{API}/disclosures/{d['id']}/log", headers=headers["cro"])).json()
    assert [e["step"] for e in log] == ["decided", "approved", "released"]
    assert len({e["audit_seq"] for e in log}) == 3
    async with hub.db.session() as session:
        assert (await verify_chain(session, hub.audit.key)).ok


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"requester_kind": "journalist"}, "requester_kind"),
        ({"legal_basis": "because"}, "legal_basis"),
        ({"elements": []}, "elements"),
        ({"elements": ["dna"]}, "elements[0]"),
        ({"account_ids": ["12"]}, "account_ids[0]"),
        ({"identity_verified_by": " "}, "identity_verified_by"),
        ({"surprise": 1}, "surprise"),
        ({"account_ids": []}, "account_ids"),
    ],
)
async def test_bad_input_names_the_field(
    hub_client: Any, headers: Any, accounts: list[SeedAccount], change: dict[str, Any], field: str
) -> None:
    body = {**request_body(account_ids=[accounts[0].account_id]), **change}
    r = await hub_client.post(f"{API}/disclosures", json=body, headers=headers["cro"])
    assert r.status_code == 422, r.text
    assert r.json()["extra"][0]["key"] == field


async def test_unknown_accounts_and_disclosures_are_404(hub_client: Any, headers: Any) -> None:
    r = await hub_client.post(
        f"{API}/disclosures", json=request_body(account_ids=["9999999999"]), headers=headers["cro"]
    )
    assert r.status_code == 404 and r.json()["extra"][0]["key"] == "account_ids[0]"
    assert (await hub_client.get(f"{API}/disclosures/4242", headers=headers["cro"])).status_code == 404
    assert (
        await hub_client.post(f"{API}/disclosures/4242/approve", headers=headers["sup"])
    ).status_code == 404
    malformed = await hub_client.post(f"{API}/disclosures", content=b"{nope", headers=headers["cro"])
    assert malformed.status_code == 400


async def test_checks_and_the_monthly_report(
    hub: Any, hub_client: Any, headers: Any, accounts: list[SeedAccount]
) -> None:
    for basis, extra in (
        (None, {}),
        ("subpoena", {"instrument_ref": "subpoena 24-1"}),
        ("subpoena", {"instrument_ref": "subpoena 24-2"}),
    ):
        body = request_body(account_ids=[accounts[0].account_id], **extra)
        if basis:
            body["legal_basis"] = basis
        d = (await hub_client.post(f"{API}/disclosures", json=body, headers=headers["cro"])).json()
        if basis:
            await hub_client.post(f"{API}/disclosures/{d['id']}/release", headers=headers["cro"])
    outcomes = {o.name: o for o in await hub.run_checks(plugin="agency_lookup")}
    assert outcomes["disclosures_supported"].passed, outcomes["disclosures_supported"].message
    report = (await hub_client.get(f"{API}/reports/monthly", headers=headers["cro"])).json()
    assert report["total"] == 3
    assert {(r["legal_basis"], r["agency"], r["decision"], r["count"]) for r in report["rows"]} == {
        ("none", "LAPD", "denied", 1),
        ("subpoena", "LAPD", "granted", 2),
    }
    assert "3 disclosure request(s)" in outcomes["monthly_report"].message
    bad = await hub_client.get(f"{API}/reports/monthly", params={"month": "2026-13"}, headers=headers["cro"])
    assert bad.status_code == 422 and bad.json()["extra"][0]["key"] == "month"
    # A release forced past the workflow (a denied request marked released) fails the compliance check.
    from sqlalchemy import update

    from plugins.agency_lookup.models import Disclosure

    async with hub.db.session() as session:
        await session.execute(
            update(Disclosure).where(Disclosure.legal_basis.is_(None)).values(disclosed_at=hub.clock.now())
        )
    outcomes = {o.name: o for o in await hub.run_checks(plugin="agency_lookup")}
    assert not outcomes["disclosures_supported"].passed


async def test_an_admin_sees_a_disclosure_without_its_accounts_and_cannot_release_it(
    hub_client: Any, headers: Any, staff_token: Any, accounts: list[SeedAccount]
) -> None:
    """Disclosures are the CRO's and supervisors' work: an admin sees the request and its decision, not
    the accounts it concerns, and cannot hand the customers' records to the agency (issue 13)."""
    admin = {"Authorization": f"Bearer {await staff_token('admin', SECTION)}"}
    body = request_body(
        account_ids=[accounts[0].account_id],
        legal_basis="subpoena",
        instrument_ref="LASC 24-9",
        elements=["name"],
    )
    d = (await hub_client.post(f"{API}/disclosures", json=body, headers=headers["cro"])).json()
    assert d["accounts_affected"] == [accounts[0].account_id]  # the CRO's own answer
    seen = await hub_client.get(f"{API}/disclosures/{d['id']}", headers=admin)
    assert seen.status_code == 200 and seen.json()["accounts_affected"] == []
    assert seen.json()["customer_hidden"] is True and seen.json()["decision"] == "granted"
    listed = await hub_client.get(f"{API}/disclosures", headers=admin)
    assert all(x["accounts_affected"] == [] for x in listed.json())
    assert (await hub_client.post(f"{API}/disclosures/{d['id']}/release", headers=admin)).status_code == 403
    released = await hub_client.post(f"{API}/disclosures/{d['id']}/release", headers=headers["sup"])
    assert released.status_code == 200
