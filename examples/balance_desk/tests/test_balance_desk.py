"""The balance desk's tests, with the fixtures ccbhub's pytest plugin gives every plugin author."""

from __future__ import annotations

import re
from typing import Any

import balance_desk
import pytest

SECTION = "call-center"


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [balance_desk]  # load this plugin into the test hub (installed ones are not loaded by default)


@pytest.fixture
async def csr(staff_token: Any, enable_plugin: Any) -> dict[str, str]:
    await enable_plugin("balance_desk", SECTION)
    return {"Authorization": f"Bearer {await staff_token('csr', SECTION)}"}


async def test_a_verified_caller_hears_their_balance(
    hub_client: Any, csr: dict[str, str], ccb_customers: Any, verified_contact: Any
) -> None:
    customer, other = await ccb_customers(2)
    inside = await verified_contact(csr, customer)
    r = await hub_client.get(f"/api/balance_desk/accounts/{customer.account_id}", headers=inside)
    assert r.status_code == 200, r.text
    assert r.json()["account_id"] == customer.account_id and r.json()["balance"].startswith("$")
    # Not for another account, and not without a contact.
    assert (
        await hub_client.get(f"/api/balance_desk/accounts/{other.account_id}", headers=inside)
    ).status_code == 403
    assert (
        await hub_client.get(f"/api/balance_desk/accounts/{customer.account_id}", headers=csr)
    ).status_code == 403


async def test_malformed_and_unknown_accounts_are_not_found(hub_client: Any, csr: dict[str, str]) -> None:
    # A path that cannot name an account (not ten digits) is a 404 like an account CCB does not know.
    assert (await hub_client.get("/api/balance_desk/accounts/12", headers=csr)).status_code == 404
    assert (await hub_client.get("/api/balance_desk/accounts/0000000000", headers=csr)).status_code == 404


async def test_the_page_signs_in_and_looks_up(
    hub_client: Any, staff_token: Any, enable_plugin: Any, ccb_customers: Any, verified_contact: Any
) -> None:
    await enable_plugin("balance_desk", SECTION)
    token = await staff_token("csr", SECTION, name="ana", password="ana-password-1")
    (customer,) = await ccb_customers(1)
    contact = await verified_contact({"Authorization": f"Bearer {token}"}, customer)
    # A page test signs in like a person: the login form, with the CSRF token the page carries.
    login = await hub_client.get("/ui/login")
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
    await hub_client.post(
        "/ui/login", data={"name": "ana", "password": "ana-password-1", "_csrf_token": csrf}
    )
    page = await hub_client.post(
        "/ui/balance_desk/",
        data={"contact_id": contact["X-Contact-Id"], "account_id": customer.account_id, "_csrf_token": csrf},
    )
    assert page.status_code == 200 and 'id="balance"' in page.text
