"""The phone screen pop end to end, contact hints from plugins (isolated), and the wrap-up note."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest

import tests.example_plugin as example
from core.ccb.billing import local_time
from core.ccb.seed import DEFAULT_AS_OF, SeedAccount, identity_key, seed_customers
from core.clock import ManualClock
from core.contract import ContactHint, PluginContext, PluginManifest, hookimpl

TODAY = DEFAULT_AS_OF + dt.timedelta(days=3)
SECTION = "call-center"


class BrokenHints:
    """A plugin whose hints hook raises: the contact must come back all the same."""

    @staticmethod
    @hookimpl
    def hub_manifest() -> PluginManifest:
        return PluginManifest(id="broken_hints", title="Broken hints", version="1.0.0")

    @staticmethod
    @hookimpl
    def hub_contact_hints(ctx: PluginContext, contact: Any) -> Sequence[ContactHint]:
        raise RuntimeError("the hints backend is down")


class SlowHints:
    """A plugin whose (awaitable) hints never come: cut off by the timeout."""

    @staticmethod
    @hookimpl
    def hub_manifest() -> PluginManifest:
        return PluginManifest(id="slow_hints", title="Slow hints", version="1.0.0")

    @staticmethod
    @hookimpl
    async def hub_contact_hints(ctx: PluginContext, contact: Any) -> Sequence[ContactHint]:
        await asyncio.sleep(30)
        return []


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [example, BrokenHints, SlowHints]


@pytest.fixture
def hub_clock() -> ManualClock:
    return ManualClock(local_time(TODAY, 9))


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {"plugins": {"telephony": {"tick_seconds": 0}, "contact": {"hint_timeout_s": 0.2}}}


@pytest.fixture
async def customers(hub: Any) -> list[SeedAccount]:
    return await seed_customers(hub.db, 3, 11, identity_key(hub.settings.secret_key))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_an_inbound_call_pops_a_contact_that_follows_the_call_to_its_wrap_up(
    hub: Any,
    hub_client: Any,
    staff_token: Any,
    enable_plugin: Any,
    customers: list[SeedAccount],
    drain: Any,
    hub_clock: ManualClock,
) -> None:
    # The default telephony team: agent "csr" and lead "lead" (the phone system is played by the lead).
    csr = bearer(await staff_token("csr", SECTION, name="csr"))
    lead = bearer(await staff_token("lead", SECTION, name="lead"))
    admin = bearer(await staff_token("admin", SECTION, name="root"))
    for plugin_id in ("example", "broken_hints", "slow_hints"):
        await enable_plugin(plugin_id, SECTION)
    customer = customers[0]

    assert (
        await hub_client.post("/api/phone/agents/csr/sign-in", headers=csr, json={"extension": "1001"})
    ).status_code == 202
    assert (
        await hub_client.put("/api/phone/agents/csr/state", headers=csr, json={"state": "READY"})
    ).status_code == 202
    call = await hub_client.post(
        "/api/phone/dialogs", headers=lead, json={"ani": customer.phone, "queue": "Billing"}
    )
    assert call.status_code == 202
    dialog_id = call.headers["Location"].rsplit("/", 1)[-1]

    found = (await hub_client.get(f"/api/contacts?dialog_id={dialog_id}", headers=csr)).json()
    assert len(found) == 1
    popped = found[0]
    assert (popped["channel"], popped["dialog_id"], popped["owner"]) == ("phone", dialog_id, None)
    assert popped["candidates"] == [customer.account_id] and popped["ani"] == customer.phone
    contact_id = popped["contact_id"]

    r = await hub_client.put(f"/api/phone/dialogs/{dialog_id}", headers=csr, json={"action": "ANSWER"})
    assert r.status_code == 202
    await drain()
    answered = (await hub_client.get(f"/api/contacts/{contact_id}", headers=csr)).json()
    assert (answered["owner"], answered["status"]) == ("csr", "open")
    assert answered["dialog_id"] == dialog_id

    verified = await hub_client.post(
        f"/api/contacts/{contact_id}/verify",
        headers=csr,
        json={"account_id": customer.account_id, "method": "access_code", "value": customer.access_code},
    )
    assert verified.status_code == 200
    summary = await hub_client.get(
        f"/api/ccb/accounts/{customer.account_id}", headers={**csr, "X-Contact-Id": contact_id}
    )
    assert summary.status_code == 200

    # Hints: the example plugin's (an urgent ping is open); the broken and the slow one give none.
    ping = await hub_client.post(
        "/api/example/pings", headers=csr, json={"message": "main break", "urgent": True}
    )
    assert ping.status_code == 202
    await drain()
    hinted = (await hub_client.get(f"/api/contacts/{contact_id}", headers=csr)).json()
    assert [(h["source"], h["kind"]) for h in hinted["hints"]] == [("example", "example.urgent")]
    # Each GET of the contact asked again (after the answer and now): each failure is on the plugin's record.
    assert hub.plugins.records["broken_hints"].handler_failures == 2
    assert hub.plugins.records["slow_hints"].handler_failures == 2
    assert "hub_contact_hints" in (hub.plugins.records["slow_hints"].last_error or "")

    r = await hub_client.put(f"/api/phone/dialogs/{dialog_id}", headers=csr, json={"action": "DROP"})
    assert r.status_code == 202
    await drain()
    released = (await hub_client.get(f"/api/contacts/{contact_id}", headers=csr)).json()
    assert released["status"] == "wrap_up_due" and released["wrap_up_due_at"] is not None
    # Wrap-up work still reaches the account until the contact is closed.
    assert (
        await hub_client.get(
            f"/api/ccb/accounts/{customer.account_id}", headers={**csr, "X-Contact-Id": contact_id}
        )
    ).status_code == 200

    hub_clock.advance(dt.timedelta(minutes=31))
    checks = (await hub_client.get("/api/checks?plugin=contact", headers=admin)).json()
    assert {c["name"]: c["status"] for c in checks["checks"]} == {
        "contacts_not_left_open": "pass",
        "wrap_ups_done": "fail",
    }

    note = "Gate code changed; customer read SSN 123-45-6789 aloud by mistake"
    done = await hub_client.post(
        f"/api/contacts/{contact_id}/wrap-up",
        headers=csr,
        json={"note_kind": "premise", "premise_id": customer.premise_id, "note": note},
    )
    assert done.status_code == 200, done.text
    closed = done.json()
    assert closed["status"] == "closed" and closed["premise_note_id"] is not None
    notes = await hub.ccb.list_premise_notes(customer.premise_id)
    assert [n.note_id for n in notes] == [closed["premise_note_id"]]
    assert "123-45-6789" not in notes[0].text and "***-**-6789" in notes[0].text
    checks = (await hub_client.get("/api/checks?plugin=contact", headers=admin)).json()
    assert checks["passed"] is True


async def test_a_wrap_up_without_a_note_drafts_one_from_the_actions_and_premise_notes_need_the_premise(
    hub: Any, hub_client: Any, staff_token: Any, customers: list[SeedAccount]
) -> None:
    ann = bearer(await staff_token("csr", SECTION, name="ann"))
    customer = customers[1]
    contact = (await hub_client.post("/api/contacts", headers=ann, json={"channel": "email"})).json()[
        "contact_id"
    ]
    await hub_client.post(
        f"/api/contacts/{contact}/verify",
        headers=ann,
        json={"account_id": customer.account_id, "method": "ssn_last4", "value": customer.ssn_last4},
    )
    headers = {**ann, "X-Contact-Id": contact}
    quote = await hub_client.post(
        f"/api/ccb/accounts/{customer.account_id}/payment-plans/quote",
        headers=headers,
        json={"installments": 4, "amount_cents": 40_001},
    )
    assert [i["amount_cents"] for i in quote.json()["installments"]] == [10001, 10000, 10000, 10000]

    no_premise = await hub_client.post(
        f"/api/contacts/{contact}/wrap-up", headers=ann, json={"note_kind": "premise"}
    )
    assert no_premise.status_code == 422 and no_premise.json()["extra"][0]["key"] == "premise_id"
    elsewhere = await hub_client.post(
        f"/api/contacts/{contact}/wrap-up",
        headers=ann,
        json={"note_kind": "premise", "premise_id": customers[2].premise_id},
    )
    assert elsewhere.status_code == 403

    bob = bearer(await staff_token("csr", SECTION, name="bob"))
    assert (await hub_client.get(f"/api/contacts/{contact}", headers=bob)).status_code == 403
    assert (
        await hub_client.post(f"/api/contacts/{contact}/wrap-up", headers=bob, json={"note_kind": "customer"})
    ).status_code == 403

    done = (
        await hub_client.post(f"/api/contacts/{contact}/wrap-up", headers=ann, json={"note_kind": "customer"})
    ).json()
    assert done["note"].startswith(f"Email contact {contact} handled by ann.")
    assert f"Verified: account {customer.account_id} by last four SSN digits." in done["note"]
    assert "Reviewed: payment plan quote." in done["note"]
    logged = await hub.ccb.list_customer_contacts(customer.account_id)
    assert (logged[0].contact_class, logged[0].contact_type, logged[0].method) == (
        "BILLING",
        "PAYMENT",
        "email",
    )
