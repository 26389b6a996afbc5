"""The cash window over HTTP: drawers, idempotent cash payments, seizure and custody, balancing, drop box.

Until ``cash_handling`` is an installed entry point the migrated template has no ``cash_`` tables, so an
autouse fixture creates them from the models (remove it once the plugin is registered).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

import plugins.cash_handling as cash
from core.ccb.seed import identity_key, seed_customers
from core.mail import list_outbox
from core.models import OutboxEvent

API = "/api/cash_handling"
SECTION = "customer-service-center"


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [cash]


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {"plugins": {"cash_handling": {"lead_emails": ["lead.desk@utility.example"]}}}


@pytest.fixture
async def accounts(hub: Any) -> list[Any]:
    return await seed_customers(hub.db, 2, 7, identity_key(hub.settings.secret_key))


@pytest.fixture
async def contact_of(hub_client: Any, tokens: Any, accounts: Any) -> dict[str, str]:
    """The CSR's counter contact, verified with the customer's access code, for each seeded account."""
    out: dict[str, str] = {}
    for acct in accounts:
        opened = await hub_client.post(
            "/api/contacts", json={"channel": "counter", "account_id": acct.account_id}, headers=tokens["csr"]
        )
        assert opened.status_code == 201, opened.text
        cid = opened.json()["contact_id"]
        verified = await hub_client.post(
            f"/api/contacts/{cid}/verify",
            json={"account_id": acct.account_id, "method": "access_code", "value": acct.access_code},
            headers=tokens["csr"],
        )
        assert verified.status_code == 200, verified.text
        out[acct.account_id] = cid
    return out


@pytest.fixture
async def tokens(staff_token: Any, enable_plugin: Any) -> dict[str, dict[str, str]]:
    await enable_plugin("cash_handling", SECTION)
    out = {}
    for role, name in (
        ("csr", "carla.csr"),
        ("lead", "lee.lead"),
        ("supervisor", "sue.super"),
        ("security", "sam.sec"),
    ):
        out[role] = {"Authorization": f"Bearer {await staff_token(role, SECTION, name=name)}"}
    return out


def note(d: int, **changes: Any) -> dict[str, Any]:
    colours = {
        100: "none",
        200: "none",
        500: "blue",
        1000: "orange",
        2000: "green",
        5000: "yellow",
        10000: "pink",
    }
    body: dict[str, Any] = {
        "denomination": d,
        "uv_colour": colours[d],
        "feel": True,
        "watermark": True,
        "pen": "pass",
    }
    if d >= 1000:
        body["colour_shift"] = True
    body.update(changes)
    return body


async def open_drawer(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    r = await client.post(
        f"{API}/drawers",
        json={
            "float_counts": {"2000": 5, "500": 10, "100": 40, "25": 40},
            "idempotency_key": uuid.uuid4().hex,
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["starting_float_cents"] == 10000 + 5000 + 4000 + 1000
    result: dict[str, Any] = r.json()
    return result


def payment(account: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account_id": account,
        "amount_cents": 5321,
        "change_cents": 679,
        "note_counts": {"2000": 3},
        "notes": [note(2000), note(2000), note(2000)],
    }
    body.update(changes)
    return body


async def subjects(hub: Any) -> list[str]:
    async with hub.db.session() as s:
        return list((await s.scalars(select(OutboxEvent.subject))).all())


async def test_cash_payment_posts_once_and_drawer_balances(
    hub: Any, hub_client: Any, tokens: Any, accounts: Any, contact_of: dict[str, str]
) -> None:
    csr = tokens["csr"]
    drawer = await open_drawer(hub_client, csr)
    account = accounts[0].account_id
    before = (await hub.ccb.get_balance(account)).balance_cents
    headers = {**csr, "Idempotency-Key": "pay-key-0001"}
    first = await hub_client.post(
        f"{API}/payments", json=payment(account, contact_id=contact_of[account]), headers=headers
    )
    assert first.status_code == 201, first.text
    again = await hub_client.post(
        f"{API}/payments", json=payment(account, contact_id=contact_of[account]), headers=headers
    )
    assert again.status_code == 200 and again.json()["replayed"]
    assert again.json()["receipt_no"] == first.json()["receipt_no"]
    assert (await hub.ccb.get_balance(account)).balance_cents == before - 5321
    # Receipt page renders for staff with the session cookie elsewhere; the JSON view is the receipt here.
    got = await hub_client.get(f"{API}/payments/{first.json()['id']}", headers=csr)
    assert got.json()["change_cents"] == 679
    # Close balanced: float + 53.21 cash.
    closed = await hub_client.post(
        f"{API}/drawers/{drawer['id']}/close",
        json={"counted_counts": {"2000": 5, "500": 10, "100": 93, "25": 40, "10": 2, "1": 1}},
        headers=csr,
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["over_under_cents"] == 0
    names = await subjects(hub)
    assert names.count("hub.cash.payment.posted") == 1
    assert "hub.cash.drawer.closed" in names and "hub.cash.drawer.unbalanced" not in names
    # Deposit control groups the closed drawer.
    dep = await hub_client.post(
        f"{API}/deposits",
        json={"drawer_ids": [drawer["id"]], "idempotency_key": "deposit-0001"},
        headers=tokens["lead"],
    )
    assert dep.status_code == 201, dep.text
    assert dep.json()["total_cents"] == 5321
    assert (
        await hub_client.post(
            f"{API}/deposits",
            json={"drawer_ids": [drawer["id"]], "idempotency_key": "deposit-0002"},
            headers=tokens["lead"],
        )
    ).status_code == 422


async def test_unbalanced_drawer_escalates_to_lead(hub: Any, hub_client: Any, tokens: Any) -> None:
    drawer = await open_drawer(hub_client, tokens["csr"])
    r = await hub_client.post(
        f"{API}/drawers/{drawer['id']}/close",
        json={"counted_counts": {"2000": 5, "500": 10, "100": 39, "25": 40}},
        headers=tokens["csr"],
    )
    assert r.status_code == 200 and r.json()["over_under_cents"] == -100
    assert "hub.cash.drawer.unbalanced" in await subjects(hub)
    async with hub.db.session() as s:
        mails = await list_outbox(s)
    assert any("lead.desk@utility.example" in m.to and "short $1.00" in m.subject for m in mails)


async def test_counterfeit_seized_not_credited_custody_submission(
    hub: Any, hub_client: Any, tokens: Any, accounts: Any, contact_of: dict[str, str]
) -> None:
    await open_drawer(hub_client, tokens["csr"])
    account = accounts[1].account_id
    before = (await hub.ccb.get_balance(account)).balance_cents
    body = payment(
        account,
        contact_id=contact_of[account],
        amount_cents=4000,
        change_cents=0,
        notes=[note(2000), note(2000), note(2000, uv_colour="blue", serial_number="MB12345678A")],
        passer={"name": "unknown", "height": "5'10\"", "other_description": "grey hoodie"},
        seized_notes=[{"note_index": 2, "series": "2017A", "face_plate_no": "FW 12"}],
        idempotency_key="pay-key-0002",
    )
    r = await hub_client.post(f"{API}/payments", json=body, headers=tokens["csr"])
    assert r.status_code == 201, r.text
    view = r.json()
    assert view["seized_cents"] == 2000 and view["customer_script"] and len(view["seized_note_ids"]) == 1
    assert (await hub.ccb.get_balance(account)).balance_cents == before - 4000
    note_id = view["seized_note_ids"][0]
    rec = (await hub_client.get(f"{API}/seized/{note_id}", headers=tokens["csr"])).json()
    assert rec["note"]["series"] == "2017A" and rec["receipt"]["employee_receiving"] == "carla.csr"
    assert rec["passer"]["other_description"] == "grey hoodie"
    handed = await hub_client.post(
        f"{API}/seized/{note_id}/custody", json={"to_holder": "sue.super"}, headers=tokens["csr"]
    )
    assert handed.status_code == 200 and handed.json()["holder"] == "sue.super"
    assert [c["to_holder"] for c in handed.json()["custody"]] == ["carla.csr", "sue.super"]
    denied = await hub_client.post(
        f"{API}/seized/{note_id}/submission", json={"usss_submission_id": "USSS-1"}, headers=tokens["csr"]
    )
    assert denied.status_code == 403
    sub = await hub_client.post(
        f"{API}/seized/{note_id}/submission",
        json={"usss_submission_id": "USSS-1"},
        headers=tokens["supervisor"],
    )
    assert sub.status_code == 200 and sub.json()["reporter"]["usss_submission_id"] == "USSS-1"
    assert "hub.cash.counterfeit.seized" in await subjects(hub)
    # The seized note without a passer is refused whole.
    body.pop("passer")
    body["idempotency_key"] = "pay-key-0003"
    assert (await hub_client.post(f"{API}/payments", json=body, headers=tokens["csr"])).status_code == 422


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount_cents": -5}, "amount_cents"),
        ({"amount_cents": 53.5}, "amount_cents"),
        ({"note_counts": {"300": 1}}, "note_counts.300"),
        ({"note_counts": {"2000": 4}}, "note_counts.2000"),
        ({"change_cents": 1}, "change_cents"),
        ({"notes": [note(2000), note(2000), note(2000, colour_shift=None)]}, "notes[2].colour_shift"),
    ],
)
async def test_bad_payment_input_is_422_and_writes_nothing(
    hub: Any,
    hub_client: Any,
    tokens: Any,
    accounts: Any,
    changes: dict[str, Any],
    field: str,
    contact_of: dict[str, str],
) -> None:
    await open_drawer(hub_client, tokens["csr"])
    account = accounts[0].account_id
    before = (await hub.ccb.get_balance(account)).balance_cents
    r = await hub_client.post(
        f"{API}/payments",
        json=payment(account, contact_id=contact_of[account], idempotency_key="bad-key-0001", **changes),
        headers=tokens["csr"],
    )
    assert r.status_code == 422, r.text
    assert field in r.text
    assert (await hub.ccb.get_balance(account)).balance_cents == before


async def test_roles(hub_client: Any, tokens: Any, accounts: Any) -> None:
    sec = tokens["security"]
    assert (
        await hub_client.post(
            f"{API}/drawers", json={"float_counts": {}, "idempotency_key": "x" * 10}, headers=sec
        )
    ).status_code == 403
    assert (
        await hub_client.post(f"{API}/dropbox/collections", json={}, headers=tokens["csr"])
    ).status_code == 403
    no_contact = payment(accounts[0].account_id, contact_id=None, idempotency_key="pay-key-0009")
    await open_drawer(hub_client, tokens["csr"])
    assert (
        await hub_client.post(f"{API}/payments", json=no_contact, headers=tokens["csr"])
    ).status_code == 403


async def test_dropbox_collection_postings_reconcile(
    hub: Any, hub_client: Any, tokens: Any, accounts: Any
) -> None:
    a, b = accounts[0].account_id, accounts[1].account_id
    body = {
        "kind": "morning",
        "envelopes": 2,
        "counter_cents": 5000,
        "idempotency_key": "collect-0001",
        "slips": [
            {
                "slip_no": 1,
                "account_id": a,
                "amount_cents": 5000,
                "slip_type": "cash",
                "assigned_to": "carla.csr",
            },
            {
                "slip_no": 2,
                "account_id": b,
                "amount_cents": 12345,
                "slip_type": "check",
                "check_number": "1042",
                "assigned_to": "carla.csr",
            },
        ],
    }
    r = await hub_client.post(f"{API}/dropbox/collections", json=body, headers=tokens["lead"])
    assert r.status_code == 201, r.text
    again = await hub_client.post(f"{API}/dropbox/collections", json=body, headers=tokens["lead"])
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    coll = r.json()
    assert coll["counter_variance_cents"] == 0 and not coll["reconciled"]
    before = (await hub.ccb.get_balance(b)).balance_cents
    for slip in coll["slips"]:
        wrong = await hub_client.post(
            f"{API}/dropbox/slips/{slip['id']}/post", json={"account_id": "0000000000"}, headers=tokens["csr"]
        )
        assert wrong.status_code == 422
        for _ in range(2):  # a retry never posts twice
            ok = await hub_client.post(
                f"{API}/dropbox/slips/{slip['id']}/post",
                json={"account_id": slip["account_id"]},
                headers=tokens["csr"],
            )
            assert ok.status_code == 200, ok.text
    assert (await hub.ccb.get_balance(b)).balance_cents == before - 12345
    final = (await hub_client.get(f"{API}/dropbox/collections/{coll['id']}", headers=tokens["lead"])).json()
    assert final["reconciled"] and final["posted_cents"] == 17345
    assert "hub.cash.dropbox.collected" in await subjects(hub)


async def test_checks_flag_open_drawer_and_unreported_note(
    hub: Any, hub_client: Any, hub_clock: Any, tokens: Any
) -> None:
    import datetime as dt

    await open_drawer(hub_client, tokens["csr"])
    hub_clock.advance(dt.timedelta(days=1))
    results = {o.name: o for o in await hub.run_checks(plugin="cash_handling")}
    assert not results["drawers_closed"].passed
    assert results["counterfeit_submitted"].passed


async def test_card_payment_refused_without_the_pci_inspection_plugin(
    hub: Any, hub_client: Any, tokens: Any, accounts: Any, contact_of: dict[str, str]
) -> None:
    """pci_inspection is an optional companion: without it cash still works, and cards are refused clearly."""
    await open_drawer(hub_client, tokens["csr"])
    account = accounts[0].account_id
    before = (await hub.ccb.get_balance(account)).balance_cents
    r = await hub_client.post(
        f"{API}/card-payments",
        json={
            "account_id": account,
            "contact_id": contact_of[account],
            "amount_cents": 1000,
            "card_type": "debit",
            "terminal_id": 1,
            "card_last4": "4242",
            "authorization_code": "123456",
            "idempotency_key": "card-no-pci-01",
        },
        headers=tokens["csr"],
    )
    assert r.status_code == 409, r.text
    assert [e["key"] for e in r.json()["extra"]] == ["terminal_id"] and "not installed" in r.json()["detail"]
    assert (await hub.ccb.get_balance(account)).balance_cents == before
    listed = (await hub_client.get(f"{API}/terminals", headers=tokens["csr"])).json()
    assert listed == {"site": "MAIN", "available": False, "reason": listed["reason"], "terminals": []}
    ok = await hub_client.post(
        f"{API}/payments",
        json=payment(account, contact_id=contact_of[account], idempotency_key="cash-no-pci-01"),
        headers=tokens["csr"],
    )
    assert ok.status_code == 201 and ok.json()["tender_type"] == "cash"


async def test_surrender_needs_an_identified_officer_and_keeps_time_order(
    hub: Any, hub_client: Any, hub_clock: Any, tokens: Any, accounts: Any, contact_of: dict[str, str]
) -> None:
    import datetime as dt

    await open_drawer(hub_client, tokens["csr"])
    account = accounts[0].account_id
    body = payment(
        account,
        contact_id=contact_of[account],
        amount_cents=4000,
        change_cents=0,
        notes=[note(2000), note(2000), note(2000, watermark=False)],
        passer={"other_description": "note 4111 1111 1111 1111 on his sleeve", "height": "6'"},
        reporter={"police_report_no": "LAPD-26-0042"},
        idempotency_key="pay-key-0101",
    )
    r = await hub_client.post(f"{API}/payments", json=body, headers=tokens["csr"])
    assert r.status_code == 201, r.text
    note_id = r.json()["seized_note_ids"][0]
    rec = (await hub_client.get(f"{API}/seized/{note_id}", headers=tokens["csr"])).json()
    assert "4111 1111 1111 1111" not in rec["passer"]["other_description"]  # free text is scanned
    assert rec["reporter"]["police_report_no"] == "LAPD-26-0042"
    hub_clock.advance(dt.timedelta(minutes=10))
    url = f"{API}/seized/{note_id}/custody"
    future = (hub_clock.now() + dt.timedelta(hours=1)).isoformat()
    r = await hub_client.post(url, json={"to_holder": "sue.super", "at": future}, headers=tokens["csr"])
    assert r.status_code == 422 and [e["key"] for e in r.json()["extra"]] == ["at"]
    earlier = (hub_clock.now() - dt.timedelta(minutes=5)).isoformat()
    r = await hub_client.post(url, json={"to_holder": "sue.super", "at": earlier}, headers=tokens["csr"])
    assert r.status_code == 200, r.text
    surrender = {"to_holder": "Officer Diaz", "action": "surrendered"}
    r = await hub_client.post(url, json=surrender, headers=tokens["supervisor"])
    assert r.status_code == 422 and {e["key"] for e in r.json()["extra"]} == {"badge", "case_no"}
    r = await hub_client.post(
        url, json={**surrender, "badge": "31337", "case_no": "26-0042"}, headers=tokens["supervisor"]
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert (
        done["status"] == "surrendered" and done["reporter"]["surrendered_to"] == "Officer Diaz (badge 31337)"
    )
    assert done["reporter"]["date_surrendered"] and [c["action"] for c in done["custody"]] == [
        "seized",
        "handed_over",
        "surrendered",
    ]
