"""Card tenders at the cash window over HTTP, with the PCI terminal inspection as the companion that vouches
for each terminal: usable terminal posts once per key; a failed, undeployed, unknown or distant terminal is
refused naming ``terminal_id``; a card number is never accepted; cards stay out of the drawer's count.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select, text

import plugins.cash_handling as cash
import plugins.pci_inspection as pci
from core.ccb.seed import identity_key, seed_customers
from core.models import OutboxEvent
from plugins.cash_handling.models import CashPayment

API = "/api/cash_handling"
PCI = "/api/pci_inspection"
SECTION = "customer-service-center"
PAN = "4111111111111111"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [cash, pci]


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {"plugins": {"pci_inspection": {"sites": {"MAIN": "Main lobby", "EAST": "East valley office"}}}}


@pytest.fixture
async def tokens(staff_token: Any, enable_plugin: Any) -> dict[str, dict[str, str]]:
    await enable_plugin("cash_handling", SECTION)
    await enable_plugin("pci_inspection", "security")
    out = {}
    for role, section, name in (
        ("csr", SECTION, "carla.csr"),
        ("lead", SECTION, "lee.lead"),
        ("security", "security", "sam.sec"),
    ):
        out[role] = {"Authorization": f"Bearer {await staff_token(role, section, name=name)}"}
    return out


@pytest.fixture
async def account(hub: Any, hub_client: Any, tokens: Any) -> tuple[str, str]:
    """A seeded account and the CSR's counter contact verified for it."""
    acct = (await seed_customers(hub.db, 1, 17, identity_key(hub.settings.secret_key)))[0]
    opened = await hub_client.post(
        "/api/contacts", json={"channel": "counter", "account_id": acct.account_id}, headers=tokens["csr"]
    )
    cid = opened.json()["contact_id"]
    verified = await hub_client.post(
        f"/api/contacts/{cid}/verify",
        json={"account_id": acct.account_id, "method": "access_code", "value": acct.access_code},
        headers=tokens["csr"],
    )
    assert verified.status_code == 200, verified.text
    return acct.account_id, cid


async def add_terminal(client: Any, sec: dict[str, str], serial: str, **fields: Any) -> int:
    body = {
        "make": "Verifone",
        "model": "P400",
        "serial_number": serial,
        "site": "MAIN",
        "window": "Window 3",
    }
    body.update(fields)
    r = await client.post(f"{PCI}/devices", json=body, headers=sec)
    assert r.status_code == 201, r.text
    device_id: int = r.json()["id"]
    return device_id


async def pass_inspection(client: Any, sec: dict[str, str], device_id: int) -> None:
    """The start-of-shift check passes: a deployed terminal may take cards from now until it is due again."""
    items = [{"item": n, "result": "pass"} for n in range(1, 15)]
    r = await client.post(f"{PCI}/devices/{device_id}/inspections", json={"items": items}, headers=sec)
    assert r.status_code == 201 and r.json()["usable"] is True, r.text


async def fail_inspection(client: Any, sec: dict[str, str], device_id: int) -> None:
    """A security officer finds an overlay on the card slot: the terminal goes out of service at once."""
    photo = await client.post(
        f"{PCI}/devices/{device_id}/photos",
        files={"file": ("slot.jpg", JPEG, "image/jpeg")},
        data={"kind": "evidence", "label": "card slot"},
        headers=sec,
    )
    assert photo.status_code == 201, photo.text
    items: list[dict[str, Any]] = [{"item": n, "result": "pass"} for n in range(1, 15)]
    items[5] = {
        "item": 6,
        "result": "fail",
        "note": "overlay on the card slot",
        "photo_id": photo.json()["id"],
    }
    r = await client.post(f"{PCI}/devices/{device_id}/inspections", json={"items": items}, headers=sec)
    assert r.status_code == 201 and r.json()["device_status"] == "out_of_service", r.text


async def open_drawer(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    r = await client.post(
        f"{API}/drawers",
        json={"float_counts": {"2000": 5, "500": 10}, "idempotency_key": uuid.uuid4().hex},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    drawer: dict[str, Any] = r.json()
    return drawer


def card(account: str, contact: str, terminal: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account_id": account,
        "contact_id": contact,
        "amount_cents": 10000,
        "card_type": "credit",
        "card_brand": "visa",
        "terminal_id": terminal,
        "card_last4": "1111",
        "authorization_code": "ab12cd",
    }
    body.update(changes)
    return body


def keys(r: Any) -> list[str]:
    return [e["key"] for e in r.json().get("extra", [])]


async def posted_events(hub: Any) -> list[dict[str, Any]]:
    """The data of every ``hub.cash.payment.posted`` written to the outbox."""
    async with hub.db.session() as s:
        rows = (
            await s.scalars(select(OutboxEvent).where(OutboxEvent.subject == "hub.cash.payment.posted"))
        ).all()
    return [json.loads(row.envelope)["data"] for row in rows]


async def test_card_payment_on_a_usable_terminal_posts_once(
    hub: Any, hub_client: Any, tokens: Any, account: tuple[str, str]
) -> None:
    acct, contact = account
    terminal = await add_terminal(hub_client, tokens["security"], "VF-CARD-0001", status="deployed")
    await pass_inspection(hub_client, tokens["security"], terminal)
    await open_drawer(hub_client, tokens["csr"])
    before = (await hub.ccb.get_balance(acct)).balance_cents
    headers = {**tokens["csr"], "Idempotency-Key": "card-key-0001"}
    first = await hub_client.post(f"{API}/card-payments", json=card(acct, contact, terminal), headers=headers)
    assert first.status_code == 201, first.text
    view = first.json()
    assert view["tender_type"] == "card" and view["amount_cents"] == 10000 and view["receipt_no"]
    assert view["card"] == {
        "card_type": "credit",
        "card_brand": "visa",
        "card_last4": "1111",
        "masked_pan": "************1111",
        "authorization_code": "AB12CD",
        "terminal_id": terminal,
    }
    assert view["change_cents"] == 0 and view["notes"] == [] and view["seized_note_ids"] == []
    # A retry (same key) answers with the first record and never credits twice.
    again = await hub_client.post(f"{API}/card-payments", json=card(acct, contact, terminal), headers=headers)
    assert again.status_code == 200 and again.json()["replayed"] and again.json()["id"] == view["id"]
    assert (await hub.ccb.get_balance(acct)).balance_cents == before - 10000
    # The same key cannot be reused for a cash payment.
    cash_body = {
        "account_id": acct,
        "contact_id": contact,
        "amount_cents": 2000,
        "change_cents": 0,
        "note_counts": {"2000": 1},
        "notes": [
            {
                "denomination": 2000,
                "uv_colour": "green",
                "feel": True,
                "watermark": True,
                "colour_shift": True,
            }
        ],
    }
    reused = await hub_client.post(f"{API}/payments", json=cash_body, headers=headers)
    assert reused.status_code == 409 and "card payment" in reused.text
    # CCB holds a card tender with the masked number only, linked to the CSR's tender control.
    tenders = (await hub.ccb.get_payment(view["payment_id"])).tenders
    assert [(t.tender_type, t.masked_pan, t.card_brand) for t in tenders] == [
        ("card", "************1111", "visa")
    ]
    # One event, with the tender type and no card data at all.
    events = await posted_events(hub)
    assert len(events) == 1
    assert events[0]["tender_type"] == "card" and events[0]["amount_cents"] == 10000
    assert "1111" not in str(events[0]) and "AB12CD" not in str(events[0])
    got = await hub_client.get(f"{API}/payments/{view['id']}", headers=tokens["csr"])
    assert got.status_code == 200 and got.json()["card"]["masked_pan"] == "************1111"


async def test_failed_inspection_terminal_is_refused_and_nothing_posts(
    hub: Any, hub_client: Any, tokens: Any, account: tuple[str, str]
) -> None:
    acct, contact = account
    terminal = await add_terminal(hub_client, tokens["security"], "VF-CARD-0002", status="deployed")
    await fail_inspection(hub_client, tokens["security"], terminal)
    await open_drawer(hub_client, tokens["csr"])
    before = (await hub.ccb.get_balance(acct)).balance_cents
    r = await hub_client.post(
        f"{API}/card-payments",
        json=card(acct, contact, terminal, idempotency_key="card-key-0002"),
        headers=tokens["csr"],
    )
    assert r.status_code == 409, r.text
    assert keys(r) == ["terminal_id"]
    assert "out of service" in r.json()["detail"] and "VF-CARD-0002" in r.json()["detail"]
    assert (await hub.ccb.get_balance(acct)).balance_cents == before
    async with hub.db.session() as s:
        assert (await s.scalars(select(CashPayment))).all() == []
    assert await posted_events(hub) == []
    listed = (await hub_client.get(f"{API}/terminals", headers=tokens["csr"])).json()
    assert listed["available"] and listed["site"] == "MAIN"
    assert [(t["terminal_id"], t["usable"], t["status"]) for t in listed["terminals"]] == [
        (terminal, False, "out_of_service")
    ]


@pytest.mark.parametrize(
    "case",
    [
        "in_stock",
        "unknown",
        "other_site",
        "out_of_service",
        "never_inspected",
        "inspection_lapsed",
        "incident",
    ],
)
async def test_terminals_that_may_not_take_cards(
    hub: Any, hub_client: Any, tokens: Any, account: tuple[str, str], case: str, hub_clock: Any
) -> None:
    acct, contact = account
    sec = tokens["security"]
    if case == "in_stock":
        terminal = await add_terminal(hub_client, sec, "VF-CARD-0003")
        expected = "not deployed"
    elif case == "unknown":
        terminal, expected = 424242, "no card terminal #424242"
    elif case == "other_site":
        terminal = await add_terminal(hub_client, sec, "VF-CARD-0004", status="deployed", site="EAST")
        expected = "at site EAST, not at this office (MAIN)"
    elif case == "never_inspected":
        # Registered as deployed but never inspected: such a terminal once took cards.
        terminal = await add_terminal(hub_client, sec, "VF-CARD-0006", status="deployed")
        expected = "deployed but not vouched for"
    elif case == "inspection_lapsed":
        terminal = await add_terminal(hub_client, sec, "VF-CARD-0007", status="deployed")
        await pass_inspection(hub_client, sec, terminal)
        hub_clock.advance(dt.timedelta(days=1))  # the default frequency is one local day
        expected = "deployed but not vouched for"
    elif case == "incident":
        terminal = await add_terminal(hub_client, sec, "VF-CARD-0008", status="deployed")
        await pass_inspection(hub_client, sec, terminal)
        r = await hub_client.post(
            f"{PCI}/devices/{terminal}/incidents",
            json={"reference": "IR-1", "description": "seal number does not match"},
            headers=sec,
        )
        assert r.status_code == 201, r.text
        expected = "deployed but not vouched for"
    else:
        terminal = await add_terminal(hub_client, sec, "VF-CARD-0005", status="deployed")
        r = await hub_client.patch(
            f"{PCI}/devices/{terminal}",
            json={"status": "out_of_service", "reason": "screen cracked"},
            headers=sec,
        )
        assert r.status_code == 200, r.text
        expected = "out of service"
    await open_drawer(hub_client, tokens["csr"])
    r = await hub_client.post(
        f"{API}/card-payments",
        json=card(acct, contact, terminal, idempotency_key=f"card-key-{case}"),
        headers=tokens["csr"],
    )
    assert r.status_code == 409 and keys(r) == ["terminal_id"], r.text
    assert expected in r.json()["detail"]
    async with hub.db.session() as s:
        assert (await s.scalars(select(CashPayment))).all() == []


async def test_card_numbers_are_refused_and_never_echoed(
    hub: Any, hub_client: Any, tokens: Any, account: tuple[str, str]
) -> None:
    acct, contact = account
    terminal = await add_terminal(hub_client, tokens["security"], "VF-CARD-0006", status="deployed")
    await pass_inspection(hub_client, tokens["security"], terminal)
    await open_drawer(hub_client, tokens["csr"])
    before = (await hub.ccb.get_balance(acct)).balance_cents
    cases: list[tuple[dict[str, Any], str]] = [
        ({"card_number": PAN}, "card_number"),
        ({"pan": "5500 0000 0000 0004"}, "pan"),
        ({"card_last4": PAN}, "card_last4"),
        ({"authorization_code": PAN}, "authorization_code"),
        ({"contact_id": f"{PAN}"}, "contact_id"),
        ({"cvv": "123"}, "cvv"),
        ({"card_last4": "11111"}, "card_last4"),  # not a PAN, but not four digits either
        ({"card_type": "prepaid"}, "card_type"),
        ({"terminal_id": 0}, "terminal_id"),
    ]
    for index, (changes, field) in enumerate(cases):
        body = card(acct, contact, terminal, idempotency_key=f"card-bad-{index:04d}", **changes)
        r = await hub_client.post(f"{API}/card-payments", json=body, headers=tokens["csr"])
        assert r.status_code == 422, (changes, r.text)
        assert field in keys(r) or field in r.json()["detail"], (field, r.text)
        assert PAN not in r.text and "5500 0000 0000 0004" not in r.text
    assert (await hub.ccb.get_balance(acct)).balance_cents == before
    async with hub.db.session() as s:
        assert (await s.scalars(select(CashPayment))).all() == []
        stored = " ".join(str(row) for row in (await s.execute(text("SELECT * FROM hub_audit_log"))).all())
    assert PAN not in stored


async def test_cards_do_not_count_in_the_drawer_or_the_deposit(
    hub: Any, hub_client: Any, tokens: Any, account: tuple[str, str]
) -> None:
    acct, contact = account
    terminal = await add_terminal(hub_client, tokens["security"], "VF-CARD-0007", status="deployed")
    await pass_inspection(hub_client, tokens["security"], terminal)
    drawer = await open_drawer(hub_client, tokens["csr"])  # float $150.00
    cash_body = {
        "account_id": acct,
        "contact_id": contact,
        "amount_cents": 5321,
        "change_cents": 679,
        "note_counts": {"2000": 3},
        "notes": [
            {
                "denomination": 2000,
                "uv_colour": "green",
                "feel": True,
                "watermark": True,
                "colour_shift": True,
            }
        ]
        * 3,
        "idempotency_key": "cash-in-drawer-01",
    }
    r = await hub_client.post(f"{API}/payments", json=cash_body, headers=tokens["csr"])
    assert r.status_code == 201, r.text
    for n, amount in enumerate((10000, 2550)):
        r = await hub_client.post(
            f"{API}/card-payments",
            json=card(
                acct, contact, terminal, amount_cents=amount, idempotency_key=f"card-in-drawer-{n:02d}"
            ),
            headers=tokens["csr"],
        )
        assert r.status_code == 201, r.text
    view = (await hub_client.get(f"{API}/drawers/{drawer['id']}", headers=tokens["csr"])).json()
    assert view["totals"] == {
        "cash_cents": 5321,
        "check_cents": 0,
        "card_cents": 12550,
        "payments": 3,
        "card_payments": 2,
        "expected_in_drawer_cents": 15000 + 5321,
    }
    # Counted: the float plus the cash, to the cent; the card slips are not money in the drawer.
    closed = await hub_client.post(
        f"{API}/drawers/{drawer['id']}/close",
        json={"counted_counts": {"2000": 7, "500": 10, "100": 13, "10": 2, "1": 1}},  # $203.21
        headers=tokens["csr"],
    )
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["expected_cents"] == 15000 + 5321 and body["over_under_cents"] == 0, body
    assert body["totals"]["card_cents"] == 12550
    dep = await hub_client.post(
        f"{API}/deposits",
        json={"drawer_ids": [drawer["id"]], "idempotency_key": "deposit-cards-1"},
        headers=tokens["lead"],
    )
    assert dep.status_code == 201 and dep.json()["total_cents"] == 5321


async def test_card_payments_refused_while_the_companion_cannot_vouch(
    hub: Any, hub_client: Any, tokens: Any, account: tuple[str, str], enable_plugin: Any
) -> None:
    acct, contact = account
    terminal = await add_terminal(hub_client, tokens["security"], "VF-CARD-0008", status="deployed")
    await pass_inspection(hub_client, tokens["security"], terminal)
    await open_drawer(hub_client, tokens["csr"])
    # Enabled for no section: nobody records inspections, so no terminal can be shown to be safe.
    await enable_plugin("pci_inspection", "security", False)
    r = await hub_client.post(
        f"{API}/card-payments",
        json=card(acct, contact, terminal, idempotency_key="card-off-0001"),
        headers=tokens["csr"],
    )
    assert r.status_code == 409 and keys(r) == ["terminal_id"] and "enabled for no section" in r.text
    listed = (await hub_client.get(f"{API}/terminals", headers=tokens["csr"])).json()
    assert not listed["available"] and "enabled for no section" in listed["reason"]
    # Its tables gone (a database not upgraded): refused with the reason, never a 500.
    await enable_plugin("pci_inspection", "security", True)
    async with hub.db.session() as s:
        await s.execute(text("ALTER TABLE pci_device RENAME TO pci_device_elsewhere"))
    r = await hub_client.post(
        f"{API}/card-payments",
        json=card(acct, contact, terminal, idempotency_key="card-off-0002"),
        headers=tokens["csr"],
    )
    assert r.status_code == 409 and "tables are missing" in r.text
    page = (await hub_client.get(f"{API}/terminals", headers=tokens["csr"])).json()
    assert not page["available"] and "tables are missing" in page["reason"]
