"""The CSR's contact page over HTTP: sign in with CSRF, open, verify, read the account, note, wrap up.

CCB offline mode is simulated by making the port raise what the offline wrapper raises, so the page's
banners are checked without waiting for a real connector to time out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from core.ccb.offline import RecordedOffline, StaleRead
from core.ccb.seed import SeedAccount, identity_key, seed_customers
from core.contact.pages import PAGE_PREFIX, dollars
from core.contact.service import ContactService, service_for

PASSWORD = "correct horse battery"
CSR = "carla.csr"


@pytest.fixture
async def customer(hub: Any) -> SeedAccount:
    return (await seed_customers(hub.db, 2, 5, identity_key(hub.settings.secret_key)))[0]


@pytest.fixture
async def csr(hub_client: httpx.AsyncClient, staff_token: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The client signed in as a CSR through the login form."""
    await staff_token("csr", "call-center", name=CSR, password=PASSWORD)
    login = await hub_client.get("/ui/login")
    r = await hub_client.post(
        "/ui/login",
        data={"name": CSR, "password": PASSWORD, "next": "/ui/", "_csrf_token": csrf_of(login.text)},
    )
    assert r.status_code in (302, 303), r.text
    yield hub_client


def csrf_of(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert found, f"no #{element_id} on the page"
    return found.group(1).strip()


async def post_form(
    client: httpx.AsyncClient, page: httpx.Response, path: str, **fields: str
) -> httpx.Response:
    """Submit a form the way the browser does: with the CSRF token of the page it was on."""
    return await client.post(path, data={**fields, "_csrf_token": csrf_of(page.text)})


async def open_contact(client: httpx.AsyncClient, **fields: str) -> tuple[str, httpx.Response]:
    home = await client.get(f"{PAGE_PREFIX}/")
    assert home.status_code == 200, home.text
    r = await post_form(client, home, f"{PAGE_PREFIX}/open", **fields)
    assert r.status_code in (302, 303), r.text
    location = r.headers["location"]
    page = await client.get(location)
    assert page.status_code == 200, page.text
    return location.rsplit("/", 1)[-1], page


async def verified_contact(client: httpx.AsyncClient, customer: SeedAccount) -> tuple[str, httpx.Response]:
    contact_id, page = await open_contact(client, channel="phone", ani=customer.phone)
    page = await post_form(
        client,
        page,
        f"{PAGE_PREFIX}/{contact_id}/verify",
        account_id=customer.account_id,
        method="access_code",
        value=customer.access_code,
    )
    assert "Verified." in page.text, page.text
    return contact_id, page


def service(hub: Any) -> ContactService:
    found = service_for(hub)
    assert found is not None
    return found


async def test_contact_flow_open_verify_summary_bill_wrap_up(
    csr: httpx.AsyncClient, customer: SeedAccount, hub: Any
) -> None:
    contact_id, page = await open_contact(csr, channel="phone", ani=customer.phone)
    assert f'<option value="{customer.account_id}">' in page.text  # the caller's account is a candidate
    assert 'id="summary"' not in page.text  # nothing of the account before verification

    wrong = await post_form(
        csr,
        page,
        f"{PAGE_PREFIX}/{contact_id}/verify",
        account_id=customer.account_id,
        method="ssn_last4",
        value="0000" if customer.ssn_last4 != "0000" else "1111",
    )
    assert "Not verified: 2 attempts left." in wrong.text
    assert 'id="summary"' not in wrong.text

    page = await post_form(
        csr,
        wrong,
        f"{PAGE_PREFIX}/{contact_id}/verify",
        account_id=customer.account_id,
        method="access_code",
        value=customer.access_code,
    )
    summary = await hub.ccb.get_account_summary(customer.account_id)
    assert text_of(page.text, "balance") == dollars(summary.balance_cents)
    assert text_of(page.text, "past-due") == dollars(summary.past_due_cents)
    assert text_of(page.text, "main-customer") == summary.main_customer.name
    for sa in summary.service_agreements:
        assert sa.status_label in page.text
    assert 'data-kind="verify.pass"' in page.text and 'data-kind="read.account"' in page.text

    assert summary.last_bills, "the seeded customer has bills"
    bill = summary.last_bills[0]
    link = f"{PAGE_PREFIX}/{contact_id}/bills/{bill.bill_id}"
    assert f'href="{link}"' in page.text
    explained = await csr.get(link)
    assert explained.status_code == 200, explained.text
    assert "In plain words" in explained.text
    assert text_of(explained.text, "amount-due") == dollars(bill.amount_due_cents)

    page = await csr.get(f"{PAGE_PREFIX}/{contact_id}")
    closed = await post_form(csr, page, f"{PAGE_PREFIX}/{contact_id}/wrap-up", note_kind="customer", note="")
    assert "Contact closed." in closed.text
    assert text_of(closed.text, "contact-status") == "closed"
    assert 'id="wrap-up-note"' in closed.text and 'id="wrap-up"' not in closed.text


async def test_bill_explanation_needs_the_verified_contact(
    csr: httpx.AsyncClient, customer: SeedAccount, hub: Any
) -> None:
    contact_id, _page = await open_contact(csr, channel="counter", account_id=customer.account_id)
    bill = (await hub.ccb.get_account_summary(customer.account_id)).last_bills[0]
    r = await csr.get(f"{PAGE_PREFIX}/{contact_id}/bills/{bill.bill_id}")
    assert r.status_code == 403 and "verify the customer first" in r.text


async def test_open_with_a_malformed_account_id_says_so(csr: httpx.AsyncClient) -> None:
    home = await csr.get(f"{PAGE_PREFIX}/")
    r = await post_form(csr, home, f"{PAGE_PREFIX}/open", channel="phone", account_id="12")
    assert r.status_code == 422 and "10 digits" in r.text


async def test_note_written_while_ccb_is_offline_shows_the_form_number(
    csr: httpx.AsyncClient, customer: SeedAccount, hub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact_id, page = await verified_contact(csr, customer)

    async def journaled(*_args: Any, **_kwargs: Any) -> Any:
        raise RecordedOffline(7, "page-test", "add_customer_contact")

    monkeypatch.setattr(service(hub).ccb, "add_customer_contact", journaled)
    noted = await post_form(
        csr,
        page,
        f"{PAGE_PREFIX}/{contact_id}/note",
        account_id=customer.account_id,
        text="Asked about a bill.",
    )
    assert noted.status_code == 200
    assert text_of(noted.text, "offline-banner") == "CCB offline — recorded as form 7"
    assert "note recorded as offline form 7" in noted.text  # on the contact's log, for the wrap-up note

    # The wrap-up's note is journaled too, and the contact closes: the replay enters the note later.
    wrapped = await post_form(
        csr, noted, f"{PAGE_PREFIX}/{contact_id}/wrap-up", note_kind="customer", note="x"
    )
    assert text_of(wrapped.text, "offline-banner") == "CCB offline — recorded as form 7"
    assert text_of(wrapped.text, "contact-status") == "closed"
    assert "note recorded as offline form 7" in wrapped.text.split("contact wrapped up", 1)[1][:80]


async def test_stale_summary_shows_its_age(
    csr: httpx.AsyncClient, customer: SeedAccount, hub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact_id, _page = await verified_contact(csr, customer)
    ccb = service(hub).ccb
    last_known = await ccb.get_account_summary(customer.account_id)

    async def stale(_account_id: str) -> Any:
        fetched = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=12)
        raise StaleRead("connection refused", last_known, fetched, 12 * 60.0)

    monkeypatch.setattr(ccb, "get_account_summary", stale)
    page = await csr.get(f"{PAGE_PREFIX}/{contact_id}")
    assert page.status_code == 200, page.text
    assert text_of(page.text, "offline-banner") == "CCB offline — showing data from 12 minutes ago"
    assert text_of(page.text, "balance") == dollars(last_known.balance_cents)
