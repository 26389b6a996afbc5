"""The cash window's page forms: the counterfeit step, custody and submission, card tenders refused on a
failed terminal, the drawer close and deposit, and the drop box. Every form carries the shell's CSRF token;
bad input re-renders the page with status 422 and the field named (``data-field``), never a 500.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

import plugins.cash_handling as cash
import plugins.pci_inspection as pci
from core.ccb.seed import identity_key, seed_customers
from plugins.cash_handling.models import CashPayment, CashSeizedNote

SECTION = "customer-service-center"
PASSWORD = "window password 12"
PAN = "4111111111111111"
UI = "/ui/cash_handling"

Login = Callable[[str], Awaitable[httpx.AsyncClient]]


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [cash, pci]


@pytest.fixture
async def staff(staff_token: Any, enable_plugin: Any) -> dict[str, dict[str, str]]:
    """Staff with passwords for the pages and tokens for the set-up calls."""
    await enable_plugin("cash_handling", SECTION)
    await enable_plugin("pci_inspection", "security")
    out = {}
    for role, section, name in (
        ("csr", SECTION, "carla.csr"),
        ("csr", SECTION, "cody.csr"),
        ("lead", SECTION, "lee.lead"),
        ("supervisor", SECTION, "sue.super"),
        ("security", "security", "sam.sec"),
    ):
        token = await staff_token(role, section, name=name, password=PASSWORD)
        out[name] = {"Authorization": f"Bearer {token}"}
    return out


@pytest.fixture
async def login(hub_app: Any, staff: Any) -> AsyncIterator[Login]:
    """A signed-in browser-like client per staff member (each with its own session cookie)."""
    clients: list[httpx.AsyncClient] = []

    async def sign_in(name: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=hub_app), base_url="http://hub.test")
        clients.append(client)
        page = await client.get("/ui/login")
        r = await client.post(
            "/ui/login",
            data={"name": name, "password": PASSWORD, "next": "/ui/", "_csrf_token": csrf_of(page.text)},
        )
        assert r.status_code in (302, 303), r.text
        return client

    yield sign_in
    for client in clients:
        await client.aclose()


@pytest.fixture
async def customer(hub: Any, hub_client: Any, staff: Any) -> tuple[str, str]:
    """A seeded account and carla's counter contact verified for it."""
    acct = (await seed_customers(hub.db, 1, 23, identity_key(hub.settings.secret_key)))[0]
    headers = staff["carla.csr"]
    opened = await hub_client.post(
        "/api/contacts", json={"channel": "counter", "account_id": acct.account_id}, headers=headers
    )
    cid = opened.json()["contact_id"]
    verified = await hub_client.post(
        f"/api/contacts/{cid}/verify",
        json={"account_id": acct.account_id, "method": "access_code", "value": acct.access_code},
        headers=headers,
    )
    assert verified.status_code == 200, verified.text
    return acct.account_id, cid


def csrf_of(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def token_of(html: str, action: str) -> str:
    """The form_token of the form posting to ``action``."""
    section = html.split(f'action="{action}"', 1)[1]
    found = re.search(r'name="form_token" value="([^"]+)"', section)
    assert found, f"no form_token in the form for {action}"
    return found.group(1)


def fields_of(html: str) -> list[str]:
    return re.findall(r'data-field="([^"]*)"', html)


async def form_post(
    client: httpx.AsyncClient, page: str, action: str, data: dict[str, Any]
) -> httpx.Response:
    """Load ``page``, then post ``data`` to ``action`` with its CSRF token (and form token, if it has one)."""
    html = (await client.get(page)).text
    body = {"_csrf_token": csrf_of(html), **data}
    if "form_token" not in data and 'name="form_token"' in html.split(f'action="{action}"', 1)[-1][:2000]:
        body["form_token"] = token_of(html, action)
    return await client.post(action, data=body)


async def open_drawer(client: httpx.AsyncClient) -> None:
    r = await form_post(client, f"{UI}/", f"{UI}/drawer", {"float_2000": "5", "float_500": "10"})
    assert r.status_code == 303, r.text


def good_row(d: int, count: int) -> dict[str, str]:
    colour = {500: "blue", 1000: "orange", 2000: "green", 5000: "yellow", 10000: "pink"}.get(d, "none")
    row = {f"count_{d}": str(count), f"uv_{d}": colour, f"feel_{d}": "on", f"watermark_{d}": "on"}
    if d >= 1000:
        row[f"shift_{d}"] = "on"
    return row


async def count(hub: Any, model: Any) -> int:
    async with hub.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


# -- the counterfeit step on the window page -------------------------------------------------------------
async def test_counterfeit_flow_on_the_window_page(hub: Any, login: Login, customer: tuple[str, str]) -> None:
    account, contact = customer
    carla = await login("carla.csr")
    await open_drawer(carla)
    before = (await hub.ccb.get_balance(account)).balance_cents
    page = (await carla.get(f"{UI}/")).text
    csrf, token = csrf_of(page), token_of(page, f"{UI}/pay")
    step1 = {
        "_csrf_token": csrf,
        "form_token": token,
        "account_id": account,
        "contact_id": contact,
        "amount": "40.00",
        "change": "20.00",
        **good_row(2000, 2),
        # One $20 set aside: its thread glowed blue under UV, and the numeral did not shift.
        "suspect_0_denomination": "2000",
        "suspect_0_uv": "blue",
        "suspect_0_feel": "on",
        "suspect_0_watermark": "on",
    }
    shown = await carla.post(f"{UI}/pay", data=step1)
    assert shown.status_code == 200, shown.text
    html = shown.text
    assert 'id="counterfeit"' in html and 'id="customer-script"' in html and "Secret Service" in html
    assert "UV thread blue, expected green" in html and "numeral does not shift colour" in html
    assert 'name="step" value="seize"' in html and 'name="ssf_s0_serial_number"' in html
    assert 'name="passer_height"' in html and 'name="reporter_police_agency"' in html
    assert re.search(r'id="genuine">\$40\.00<', html) and re.search(r'id="change-due">\$0\.00<', html)
    assert await count(hub, CashPayment) == 0  # nothing is written before the record is filled in

    # Step 2 without a serial number or any description: refused, each field named.
    step2 = {**step1, "step": "seize", "change": "0.00"}
    r = await carla.post(f"{UI}/pay", data=step2)
    assert r.status_code == 422 and set(fields_of(r.text)) == {
        "ssf_s0_serial_number",
        "passer_other_description",
    }
    assert 'id="counterfeit"' in r.text  # still on the counterfeit step, with what was entered
    # A wrong change figure names the change field.
    r = await carla.post(
        f"{UI}/pay",
        data={**step2, "change": "20.00", "ssf_s0_serial_number": "MB12345678A", "passer_height": "5'10\""},
    )
    assert r.status_code == 422 and fields_of(r.text) == ["change"] and "change due is $0.00" in r.text

    done = await carla.post(
        f"{UI}/pay",
        data={
            **step2,
            "ssf_s0_serial_number": "mb 12345678 a",
            "ssf_s0_series": "2017A",
            "ssf_s0_federal_reserve_bank": "B2",
            "ssf_s0_check_letter_quadrant": "C4",
            "ssf_s0_face_plate_no": "FW 12",
            "passer_height": "5'10\"",
            "passer_other_description": "grey hoodie, red cap",
            "passer_vehicle": "blue sedan, 8ABC123 CA",
            "reporter_police_report_no": "LAPD-26-0099",
        },
    )
    assert done.status_code == 303, done.text
    receipt = (await carla.get(done.headers["location"])).text
    assert 'id="seized-script"' in receipt and "customer's copy" in receipt
    assert re.search(r'id="amount">\$40\.00<', receipt) and re.search(r'id="seized">\$20\.00<', receipt)
    assert (
        await hub.ccb.get_balance(account)
    ).balance_cents == before - 4000  # the suspect note not credited
    again = await carla.post(
        f"{UI}/pay", data={**step2, "ssf_s0_serial_number": "MB12345678A", "passer_height": "6'"}
    )
    assert again.status_code == 303 and again.headers["location"] == done.headers["location"]  # one payment
    assert await count(hub, CashSeizedNote) == 1

    async with hub.db.session() as s:
        seized = (await s.scalars(select(CashSeizedNote))).one()
    record = (await carla.get(f"{UI}/seized/{seized.id}")).text
    for shown_value in ("MB12345678A", "2017A", "C4", "FW 12", "grey hoodie, red cap", "LAPD-26-0099"):
        assert shown_value in record
    copy = await carla.get(f"{UI}/seized/{seized.id}/copy")
    assert copy.status_code == 200 and 'id="customer-copy"' in copy.text and "MB12345678A" in copy.text
    assert "grey hoodie" not in copy.text and "8ABC123" not in copy.text  # the passer block is for the police


async def test_custody_and_submission_forms(hub: Any, login: Login, customer: tuple[str, str]) -> None:
    account, contact = customer
    carla = await login("carla.csr")
    await open_drawer(carla)
    step = {
        "account_id": account,
        "contact_id": contact,
        "amount": "0",
        "change": "0",
        "suspect_0_denomination": "10000",
        "suspect_0_uv": "none",
        "step": "seize",
        "ssf_s0_serial_number": "PB11223344C",
        "passer_other_description": "tall, green jacket",
    }
    r = await form_post(carla, f"{UI}/", f"{UI}/pay", step)
    assert r.status_code == 303, r.text
    async with hub.db.session() as s:
        note_id = (await s.scalars(select(CashSeizedNote.id))).one()
    url = f"{UI}/seized/{note_id}"

    page = (await carla.get(url)).text
    assert 'id="custody-form"' in page and 'id="submission-form"' not in page  # a CSR hands over, no more
    r = await form_post(carla, url, f"{url}/custody", {"to_holder": "", "action": "handed_over"})
    assert r.status_code == 422 and fields_of(r.text) == ["to_holder"]
    r = await form_post(carla, url, f"{url}/custody", {"to_holder": "sue.super", "at": "2999-01-01T10:00"})
    assert r.status_code == 422 and fields_of(r.text) == ["at"] and "future" in r.text
    r = await form_post(carla, url, f"{url}/custody", {"to_holder": "sue.super", "at": "yesterday-ish"})
    assert r.status_code == 422 and fields_of(r.text) == ["at"]
    r = await form_post(carla, url, f"{url}/custody", {"to_holder": "sue.super", "remarks": "in envelope"})
    assert r.status_code == 303
    page = (await carla.get(url)).text
    assert 'id="holder">sue.super<' in page and 'id="custody-form"' not in page  # no longer hers to hand on

    sue = await login("sue.super")
    r = await form_post(sue, url, f"{url}/custody", {"to_holder": "Officer Diaz", "action": "surrendered"})
    assert r.status_code == 422 and set(fields_of(r.text)) == {"badge", "case_no"}
    r = await form_post(
        sue,
        url,
        f"{url}/submission",
        {"usss_submission_id": "no spaces!", "police_report_no": "", "surrendered_to": ""},
    )
    assert r.status_code == 422 and fields_of(r.text) == ["usss_submission_id"]
    r = await form_post(
        sue,
        url,
        f"{url}/custody",
        {"to_holder": "Officer Diaz", "action": "surrendered", "badge": "31337", "case_no": "26-77"},
    )
    assert r.status_code == 303
    r = await form_post(sue, url, f"{url}/submission", {"usss_submission_id": "USSS-2026-0001"})
    assert r.status_code == 303
    page = (await sue.get(url)).text
    assert 'id="submission">USSS-2026-0001<' in page and "Officer Diaz (badge 31337)" in page
    assert 'id="status">surrendered<' in page
    listed = (await sue.get(f"{UI}/seized")).text
    assert f'data-note="{note_id}"' in listed and "USSS-2026-0001" in listed
    # Without the CSRF token a form is refused outright.
    assert (await sue.post(f"{url}/submission", data={"usss_submission_id": "USSS-X"})).status_code == 403


# -- card tenders on the window page --------------------------------------------------------------------
async def test_card_form_refuses_a_failed_terminal_and_never_echoes_a_card_number(
    hub: Any, hub_client: Any, login: Login, staff: Any, customer: tuple[str, str]
) -> None:
    account, contact = customer
    sec = staff["sam.sec"]
    made = []
    for serial in ("VF-PAGE-1", "VF-PAGE-2"):
        r = await hub_client.post(
            "/api/pci_inspection/devices",
            json={
                "make": "Verifone",
                "model": "P400",
                "serial_number": serial,
                "site": "MAIN",
                "window": "W2",
            },
            headers=sec,
        )
        made.append(r.json()["id"])
        await hub_client.patch(
            f"/api/pci_inspection/devices/{made[-1]}",
            json={"status": "deployed", "reason": "lobby"},
            headers=sec,
        )
    good, broken = made
    # A deployed terminal takes cards once the day's inspection has passed.
    passed = await hub_client.post(
        f"/api/pci_inspection/devices/{good}/inspections",
        json={"items": [{"item": n, "result": "pass"} for n in range(1, 15)]},
        headers=sec,
    )
    assert passed.status_code == 201 and passed.json()["usable"] is True, passed.text
    await hub_client.patch(
        f"/api/pci_inspection/devices/{broken}",
        json={"status": "out_of_service", "reason": "failed inspection: overlay"},
        headers=sec,
    )
    carla = await login("carla.csr")
    await open_drawer(carla)
    page = (await carla.get(f"{UI}/")).text
    assert 'id="card-payment"' in page and "never type the card number" in page
    assert re.search(rf'<option value="{broken}" disabled', page) and f'data-terminal="{broken}"' in page
    assert re.search(rf'<option value="{good}"\s+>', page)
    card = {
        "account_id": account,
        "contact_id": contact,
        "amount": "25.50",
        "card_type": "debit",
        "card_brand": "mastercard",
        "card_last4": "4444",
        "authorization_code": "0K77QZ",
    }
    r = await form_post(carla, f"{UI}/", f"{UI}/card", {**card, "terminal_id": str(broken)})
    assert r.status_code == 409 and fields_of(r.text) == ["terminal_id"] and "out of service" in r.text
    r = await form_post(carla, f"{UI}/", f"{UI}/card", {**card, "terminal_id": str(good), "card_last4": PAN})
    assert r.status_code == 422 and fields_of(r.text) == ["card_last4"] and PAN not in r.text
    r = await form_post(carla, f"{UI}/", f"{UI}/card", {**card, "terminal_id": str(good), "amount": "2.5.0"})
    assert r.status_code == 422 and fields_of(r.text) == ["amount"]
    assert await count(hub, CashPayment) == 0
    before = (await hub.ccb.get_balance(account)).balance_cents
    r = await form_post(carla, f"{UI}/", f"{UI}/card", {**card, "terminal_id": str(good)})
    assert r.status_code == 303, r.text
    receipt = (await carla.get(r.headers["location"])).text
    assert "************4444" in receipt and 'id="approval">0K77QZ<' in receipt and "debit card" in receipt
    assert (await hub.ccb.get_balance(account)).balance_cents == before - 2550


# -- drawers: close with the count, then deposit --------------------------------------------------------
async def test_drawer_close_form_and_deposit(hub: Any, login: Login, customer: tuple[str, str]) -> None:
    account, contact = customer
    carla = await login("carla.csr")
    await open_drawer(carla)  # $150.00
    paid = await form_post(
        carla,
        f"{UI}/",
        f"{UI}/pay",
        {
            "account_id": account,
            "contact_id": contact,
            "amount": "53.21",
            "change": "6.79",
            **good_row(2000, 3),
        },
    )
    assert paid.status_code == 303, paid.text
    page = (await carla.get(f"{UI}/")).text
    drawer_id = re.search(r'href="/ui/cash_handling/drawers/(\d+)">Close my drawer', page)
    assert drawer_id
    url = f"{UI}/drawers/{drawer_id.group(1)}"
    view = (await carla.get(url)).text
    assert 'id="close-form"' in view and 'id="expected"' not in view  # a blind count
    r = await form_post(carla, url, f"{url}/close", {"counted_2000": "seven"})
    assert r.status_code == 422 and fields_of(r.text) == ["counted_2000"]
    r = await form_post(carla, url, f"{url}/close", {})
    assert r.status_code == 422 and fields_of(r.text) == ["counted_counts"]
    counted = {
        "counted_2000": "7",
        "counted_500": "10",
        "counted_100": "13",
        "counted_10": "2",
        "counted_1": "1",
    }
    r = await form_post(carla, url, f"{url}/close", counted)
    assert r.status_code == 303
    closed = (await carla.get(url)).text
    assert "Balanced to the cent" in closed and re.search(r'id="expected">\$203\.21<', closed)
    assert (await carla.get(f"{UI}/drawers")).text.count('name="drawer_id"') == 0  # CSRs do not deposit

    lee = await login("lee.lead")
    r = await form_post(lee, f"{UI}/drawers", f"{UI}/deposits", {})
    assert r.status_code == 422 and fields_of(r.text) == ["drawer_id"]
    r = await form_post(lee, f"{UI}/drawers", f"{UI}/deposits", {"drawer_id": drawer_id.group(1)})
    assert r.status_code == 303 and "deposit=" in r.headers["location"]
    shown = (await lee.get(r.headers["location"])).text
    assert 'id="deposit-made"' in shown and "$53.21" in shown


async def test_drawer_page_shows_a_short_close_and_the_open_drawer_form_names_fields(login: Login) -> None:
    carla = await login("carla.csr")
    r = await form_post(carla, f"{UI}/", f"{UI}/drawer", {"float_2000": "-1", "float_300": "2"})
    assert r.status_code == 422 and fields_of(r.text) == ["float_2000"]
    await open_drawer(carla)
    page = (await carla.get(f"{UI}/")).text
    url = re.search(r'href="(/ui/cash_handling/drawers/\d+)">Close my drawer', page)
    assert url
    r = await form_post(
        carla, url.group(1), f"{url.group(1)}/close", {"counted_2000": "5", "counted_500": "9"}
    )
    assert r.status_code == 303
    closed = (await carla.get(url.group(1))).text
    assert "Short $5.00" in closed and "The lead has been told" in closed


# -- the drop box ---------------------------------------------------------------------------------------
async def test_dropbox_collection_posting_and_reconciliation(hub: Any, hub_client: Any, login: Login) -> None:
    a, b = (s.account_id for s in await seed_customers(hub.db, 2, 29, identity_key(hub.settings.secret_key)))
    lee = await login("lee.lead")
    page = (await lee.get(f"{UI}/dropbox")).text
    assert 'id="collection-form"' in page and page.count('name="slip_') >= 8 * 6
    slips = {
        "kind": "morning",
        "envelopes": "2",
        "counter": "50.00",
        "slip_0_no": "1",
        "slip_0_account": a,
        "slip_0_amount": "50.00",
        "slip_0_type": "cash",
        "slip_0_assigned": "carla.csr",
        "slip_1_no": "2",
        "slip_1_account": b,
        "slip_1_amount": "123.45",
        "slip_1_type": "check",
        "slip_1_check": "1042",
        "slip_1_assigned": "carla.csr",
    }
    r = await form_post(lee, f"{UI}/dropbox", f"{UI}/dropbox/collections", slips)
    assert r.status_code == 422 and fields_of(r.text) == ["types_verified"]
    r = await form_post(
        lee,
        f"{UI}/dropbox",
        f"{UI}/dropbox/collections",
        {**slips, "types_verified": "on", "slip_1_account": "12"},
    )
    assert r.status_code == 422 and fields_of(r.text) == ["slip_1_account"]
    r = await form_post(
        lee,
        f"{UI}/dropbox",
        f"{UI}/dropbox/collections",
        {**slips, "types_verified": "on", "slip_1_check": ""},
    )
    assert r.status_code == 422 and fields_of(r.text) == ["slip_1_check"]
    r = await form_post(lee, f"{UI}/dropbox", f"{UI}/dropbox/collections", {**slips, "types_verified": "on"})
    assert r.status_code == 303, r.text
    collection_url = r.headers["location"]
    shown = (await lee.get(collection_url)).text
    assert "Not reconciled yet" in shown and 'id="unposted">2<' in shown and "payment types verified" in shown

    carla = await login("carla.csr")
    mine = (await carla.get(f"{UI}/dropbox")).text
    slip_ids = re.findall(r'<tr data-slip="(\d+)">', mine)
    assert len(slip_ids) == 2 and 'id="collection-form"' not in mine
    assert a not in mine and b not in mine  # the CSR reads the account off the paper slip
    first = f"{UI}/dropbox/slips/{slip_ids[0]}/post"
    r = await form_post(carla, f"{UI}/dropbox", first, {"account_id": "0000000000"})
    assert r.status_code == 422 and fields_of(r.text) == ["account_id"] and "does not match" in r.text
    r = await form_post(carla, f"{UI}/dropbox", first, {"account_id": "12ab"})
    assert r.status_code == 422 and fields_of(r.text) == ["account_id"]
    before = (await hub.ccb.get_balance(b)).balance_cents
    r = await form_post(carla, f"{UI}/dropbox", first, {"account_id": a})
    assert r.status_code == 303 and r.headers["location"] == f"{UI}/dropbox"
    second = f"{UI}/dropbox/slips/{slip_ids[1]}/post"
    r = await form_post(
        carla, collection_url, second, {"account_id": b, "back": collection_url.rsplit("/", 1)[1]}
    )
    assert r.status_code == 303 and r.headers["location"] == collection_url
    assert (await hub.ccb.get_balance(b)).balance_cents == before - 12345
    done = (await carla.get(collection_url)).text
    assert re.search(r'id="reconciled">Reconciled<', done) and re.search(
        r'id="posted-total">\$173\.45<', done
    )
    assert 'id="no-slips"' in (await carla.get(f"{UI}/dropbox")).text
    # Cody was given nothing, and cannot post carla's slips.
    cody = await login("cody.csr")
    r = await form_post(cody, f"{UI}/dropbox", first, {"account_id": a})
    assert r.status_code == 403 and "was given to carla.csr" in r.text


async def test_window_forms_never_answer_500(login: Login, customer: tuple[str, str]) -> None:
    account, contact = customer
    carla = await login("carla.csr")
    await open_drawer(carla)
    base = {"account_id": account, "contact_id": contact, "change": "0"}
    for changes, field in (
        ({"amount": "lots", **good_row(2000, 1)}, "amount"),
        ({"amount": "20", "count_2000": "1", "uv_2000": "purple"}, "uv_2000"),
        ({"amount": "20", **good_row(2000, 1), "shift_2000": ""}, ""),  # unticked: a suspect, so step 2
        ({"amount": "20", "suspect_0_denomination": "300"}, "suspect_0_denomination"),
        ({"amount": "20", "suspect_0_denomination": "2000", "suspect_0_uv": ""}, "suspect_0_uv"),
        ({"amount": "20", **good_row(2000, 1), "account_id": "123"}, "account_id"),
        ({"amount": "20", **good_row(2000, 1), "account_id": "9999999999"}, "account_id"),
        ({"amount": "20", **good_row(2000, 1), "form_token": ""}, "form_token"),
    ):
        body = {**base, **changes}
        if field == "":
            body.pop("shift_2000")
        r = await form_post(carla, f"{UI}/", f"{UI}/pay", body)
        if field == "":
            assert r.status_code == 200 and 'id="counterfeit"' in r.text
            continue
        assert r.status_code == 422, (changes, r.status_code, r.text[-500:])
        assert field in fields_of(r.text), (field, fields_of(r.text))
    assert (await carla.get(f"{UI}/receipts/999999")).status_code == 404
    assert (await carla.get(f"{UI}/drawers/999999")).status_code == 404
