"""The e-team plugin over HTTP against the Customer Connect simulator in process: the pull fills the
queue, an e-mail answer becomes a staff response (status Waiting), a phone answer a private note, action
on an account a CCB customer contact with the reference number; the unanswered check fails once business
hours pass; bad input, unknown incidents and roles.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import plugins.eteam as eteam
from connectors.customer_connect import CustomerConnectClient
from core.bus import Envelope
from core.ccb.billing import local_time
from core.ccb.seed import DEFAULT_AS_OF, SeedAccount, identity_key, seed_customers
from core.clock import ManualClock
from core.contract import CheckStatus
from plugins.eteam.api import TRANSPORT_KEY
from simulators.customer_connect import (
    ContactUsEmail,
    IncidentStore,
    SimulatorConfig,
    create_app,
    generate_contact_us,
    ingest_contact_us,
)

API = "/api/eteam"
SECTION = "e-team"
USER, PASSWORD = "hub-integration", "sim-password"
TODAY = DEFAULT_AS_OF + dt.timedelta(days=3)  # a Monday
REF = re.compile(r"^\d{6}-\d{6}$")


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [eteam]


@pytest.fixture
def hub_clock() -> ManualClock:
    return ManualClock(local_time(TODAY, 9))


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {
        "plugins": {
            "telephony": {"tick_seconds": 0},
            "eteam": {"base_url": "http://cc.test", "user": USER, "password": PASSWORD, "pull_interval_s": 0},
        }
    }


@pytest.fixture
def mails(hub_clock: ManualClock) -> list[ContactUsEmail]:
    # Received since midnight this Monday, so nothing is late yet at 9 a.m.
    return generate_contact_us(6, 42, end=hub_clock.now(), days=1)


@pytest.fixture
async def sim(
    tmp_path: Path, hub: Any, hub_clock: ManualClock, mails: list[ContactUsEmail]
) -> AsyncIterator[Any]:
    store = IncidentStore(tmp_path / "cc.sqlite", clock=hub_clock.now)
    await store.start()
    await ingest_contact_us(store, mails)
    app: Any = create_app(SimulatorConfig(store.database, USER, PASSWORD, clock=hub_clock.now), store=store)
    hub.plugins.records["eteam"].ctx.extras[TRANSPORT_KEY] = httpx.ASGITransport(app=app)
    yield app
    await store.close()


@pytest.fixture
async def cc(sim: Any) -> AsyncIterator[CustomerConnectClient]:
    transport = httpx.ASGITransport(app=sim)
    async with CustomerConnectClient(
        "http://cc.test", USER, PASSWORD, retries=0, transport=transport
    ) as client:
        yield client


@pytest.fixture
async def customers(hub: Any) -> list[SeedAccount]:
    return await seed_customers(hub.db, 2, 11, identity_key(hub.settings.secret_key))


@pytest.fixture
async def staff(staff_token: Any, enable_plugin: Any) -> dict[str, dict[str, str]]:
    await enable_plugin("eteam", SECTION)
    out = {}
    for name, role in (("eve", "eteam"), ("lou", "lead"), ("cal", "csr")):
        out[name] = {"Authorization": f"Bearer {await staff_token(role, SECTION, name=name)}"}
    return out


@pytest.fixture
async def published(hub: Any) -> list[Envelope]:
    found: list[Envelope] = []

    async def keep(env: Envelope) -> None:
        found.append(env)

    await hub.bus.subscribe("hub.eteam.>", keep)
    return found


async def verified_contact(client: Any, headers: dict[str, str], customer: SeedAccount) -> str:
    r = await client.post("/api/contacts", headers=headers, json={"channel": "email"})
    assert r.status_code == 201, r.text
    contact_id = str(r.json()["contact_id"])
    r = await client.post(
        f"/api/contacts/{contact_id}/verify",
        headers=headers,
        json={"account_id": customer.account_id, "method": "access_code", "value": customer.access_code},
    )
    assert r.status_code == 200, r.text
    return contact_id


async def pulled(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = await client.post(f"{API}/pull", headers=headers)
    assert r.status_code == 200, r.text
    q = await client.get(f"{API}/incidents", headers=headers)
    assert q.status_code == 200, q.text
    return list(q.json())


async def test_the_pull_fills_the_queue_and_the_check_fails_once_hours_pass(
    hub: Any,
    hub_client: Any,
    hub_clock: ManualClock,
    sim: Any,
    staff: dict[str, dict[str, str]],
    mails: list[ContactUsEmail],
    published: list[Envelope],
    drain: Any,
) -> None:
    queue = await pulled(hub_client, staff["eve"])
    assert len(queue) == len(mails)
    assert all(REF.match(i["reference_number"]) and i["status"] == "unresolved" for i in queue)
    assert sorted(i["account_id"] or "" for i in queue) == sorted(m.account_number or "" for m in mails)
    assert any(i["contact_name"] for i in queue) and all(i["customer_text"] for i in queue)
    again = await hub_client.post(f"{API}/pull", headers=staff["lou"])
    assert (again.json()["new"], again.json()["unresolved"]) == (0, len(mails))
    await drain()
    assert [e.subject for e in published].count("hub.eteam.incident.pulled") == len(mails)

    ok = await hub.run_checks(plugin="eteam")
    assert [o.status for o in ok] == [CheckStatus.PASS]
    hub_clock.advance(dt.timedelta(days=1))  # Tuesday 9 a.m.: Monday's nine office hours have passed
    late = await hub.run_checks(plugin="eteam")
    assert [o.status for o in late] == [CheckStatus.FAIL]
    assert queue[0]["reference_number"] in late[0].message

    page = await hub_client.get("/ui/eteam/", headers=staff["eve"])
    assert page.status_code in (200, 302, 303, 401)  # pages use the session cookie (contract test renders it)


async def test_an_email_answer_is_a_staff_response_and_the_incident_waits(
    hub_client: Any,
    cc: CustomerConnectClient,
    staff: dict[str, dict[str, str]],
    published: list[Envelope],
    drain: Any,
) -> None:
    queue = await pulled(hub_client, staff["eve"])
    ref = queue[0]["reference_number"]
    r = await hub_client.post(
        f"{API}/incidents/{ref}/respond",
        headers=staff["eve"],
        json={"channel": "email", "text": "Your bill was estimated; a read is scheduled for Thursday."},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["status"], body["answered_by"]) == ("waiting", "staff:eve")
    assert body["responses"][0]["channel"] == "email" and body["responses"][0]["ccb_contact_id"] is None
    incident = await cc.get_incident(ref)
    assert incident.status_type == "waiting"
    assert incident.threads is not None
    staff_responses = [t for t in incident.threads if t.entry_type.lookup_name == "Staff Response"]
    assert [t.text for t in staff_responses] == ["Your bill was estimated; a read is scheduled for Thursday."]
    left = (await hub_client.get(f"{API}/incidents", headers=staff["eve"])).json()
    assert ref not in [i["reference_number"] for i in left]
    await drain()
    responded = [e for e in published if e.subject == "hub.eteam.incident.responded"]
    assert responded and responded[0].data["reference_number"] == ref


async def test_a_phone_answer_with_action_notes_the_reference_in_the_ccb(
    hub: Any,
    hub_client: Any,
    cc: CustomerConnectClient,
    staff: dict[str, dict[str, str]],
    customers: list[SeedAccount],
) -> None:
    queue = await pulled(hub_client, staff["eve"])
    ref = queue[1]["reference_number"]
    account = customers[0].account_id
    answer = {"channel": "phone", "text": "Called back; set up a payment arrangement.", "action_taken": True}

    no_contact = await hub_client.post(
        f"{API}/incidents/{ref}/respond", headers=staff["eve"], json={**answer, "account_id": account}
    )
    assert no_contact.status_code == 403, no_contact.text

    contact_id = await verified_contact(hub_client, staff["eve"], customers[0])
    r = await hub_client.post(
        f"{API}/incidents/{ref}/respond",
        headers={**staff["eve"], "X-Contact-Id": contact_id},
        json={**answer, "account_id": account},
    )
    assert r.status_code == 201, r.text
    response = r.json()["responses"][0]
    assert (response["account_id"], response["contact_id"]) == (account, contact_id)
    assert r.json()["status"] == "unresolved" and r.json()["answered_at"]
    notes = [c for c in await hub.ccb.list_customer_contacts(account) if ref in c.log_text]
    assert [n.contact_id for n in notes] == [response["ccb_contact_id"]]
    assert notes[0].method == "phone"
    threads = (await cc.get_incident(ref)).threads or []
    private = [t for t in threads if t.is_private]
    assert len(private) == 1 and "set up a payment arrangement" in private[0].text
    assert not any(t.entry_type.lookup_name == "Staff Response" for t in threads)


async def test_bad_input_unknown_incidents_and_roles(
    hub_client: Any, sim: Any, staff: dict[str, dict[str, str]], mails: list[ContactUsEmail]
) -> None:
    queue = await pulled(hub_client, staff["eve"])
    ref = queue[0]["reference_number"]
    url = f"{API}/incidents/{ref}/respond"
    for body, field in (
        ({"channel": "fax", "text": "x"}, "channel"),
        ({"channel": "email", "text": "   "}, "text"),
        ({"channel": "email"}, "text"),
        ({"channel": "email", "text": "ok", "account_id": "12"}, "account_id"),
        ({"channel": "email", "text": "ok", "colour": "red"}, "colour"),
    ):
        r = await hub_client.post(url, headers=staff["eve"], json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["extra"][0]["key"] == field, r.text
    bad_ref = await hub_client.post(f"{API}/incidents/nope/respond", headers=staff["eve"], json={})
    assert bad_ref.status_code == 422 and bad_ref.json()["extra"][0]["key"] == "reference_number"
    unknown = await hub_client.post(
        f"{API}/incidents/991231-999999/respond",
        headers=staff["eve"],
        json={"channel": "email", "text": "hi"},
    )
    assert unknown.status_code == 404, unknown.text
    assert (await hub_client.get(f"{API}/incidents/991231-999999", headers=staff["eve"])).status_code == 404
    without_account = [i for i in queue if i["account_id"] is None]
    if without_account:
        r = await hub_client.post(
            f"{API}/incidents/{without_account[0]['reference_number']}/respond",
            headers=staff["eve"],
            json={"channel": "email", "text": "Done.", "action_taken": True},
        )
        assert r.status_code == 422 and r.json()["extra"][0]["key"] == "account_id"
    for method, path in (("POST", f"{API}/pull"), ("GET", f"{API}/incidents"), ("POST", url)):
        r = await hub_client.request(
            method, path, headers=staff["cal"], json={"channel": "email", "text": "x"}
        )
        assert r.status_code == 403, (method, path, r.text)
