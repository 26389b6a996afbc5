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
import msgspec
import pytest

import plugins.eteam as eteam
from connectors.customer_connect import CustomerConnectClient
from core.bus import Envelope
from core.ccb.billing import local_time
from core.ccb.seed import DEFAULT_AS_OF, SeedAccount, identity_key, seed_customers
from core.clock import ManualClock
from core.contract import CheckStatus
from plugins.eteam import queries
from plugins.eteam.service import pull_job, runtime_of
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
    runtime_of(hub.plugins.records["eteam"].ctx).transport = httpx.ASGITransport(app=app)
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


async def test_a_note_added_after_the_answer_quotes_the_reference_once(
    hub: Any,
    hub_client: Any,
    sim: Any,
    staff: dict[str, dict[str, str]],
    customers: list[SeedAccount],
    published: list[Envelope],
    drain: Any,
) -> None:
    queue = await pulled(hub_client, staff["eve"])
    ref = queue[2]["reference_number"]
    account = customers[1].account_id
    note = {"text": "Called back and set up a payment arrangement.", "account_id": account}
    early = await hub_client.post(f"{API}/incidents/{ref}/ccb-note", headers=staff["eve"], json=note)
    assert early.status_code == 409, early.text  # nothing answered yet
    answer = {"channel": "email", "text": "We will call you back today."}
    r = await hub_client.post(f"{API}/incidents/{ref}/respond", headers=staff["eve"], json=answer)
    assert r.status_code == 201, r.text
    no_contact = await hub_client.post(f"{API}/incidents/{ref}/ccb-note", headers=staff["eve"], json=note)
    assert no_contact.status_code == 403, no_contact.text
    bad = await hub_client.post(f"{API}/incidents/{ref}/ccb-note", headers=staff["eve"], json={"text": " "})
    assert bad.status_code == 422 and bad.json()["extra"][0]["key"] == "text"

    contact_id = await verified_contact(hub_client, staff["eve"], customers[1])
    with_contact = {**staff["eve"], "X-Contact-Id": contact_id}
    noted = await hub_client.post(f"{API}/incidents/{ref}/ccb-note", headers=with_contact, json=note)
    assert noted.status_code == 201, noted.text
    response = noted.json()["responses"][0]
    assert (response["action_taken"], response["account_id"], response["contact_id"]) == (
        True,
        account,
        contact_id,
    )
    notes = [c for c in await hub.ccb.list_customer_contacts(account) if ref in c.log_text]
    assert [n.contact_id for n in notes] == [response["ccb_contact_id"]] and notes[0].method == "email"
    again = await hub_client.post(f"{API}/incidents/{ref}/ccb-note", headers=with_contact, json=note)
    assert again.status_code == 409
    assert len([c for c in await hub.ccb.list_customer_contacts(account) if ref in c.log_text]) == 1
    await drain()
    assert [e.data["ccb_contact_id"] for e in published if e.subject == "hub.eteam.incident.noted"] == [
        response["ccb_contact_id"]
    ]


# -- the e-team page (/ui/eteam): the same operations through HTML forms --------------------------------
PAGE = "/ui/eteam"
PAGE_PASSWORD = "eteam-page-password"


def csrf_of(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


async def sign_in(client: Any, staff_token: Any, role: str, name: str) -> None:
    await staff_token(role, SECTION, name=name, password=PAGE_PASSWORD)
    login = await client.get("/ui/login")
    r = await client.post(
        "/ui/login",
        data={"name": name, "password": PAGE_PASSWORD, "next": "/ui/", "_csrf_token": csrf_of(login.text)},
    )
    assert r.status_code in (302, 303), r.text


async def test_the_page_pulls_the_queue_and_answers_by_email(
    hub_client: Any,
    cc: CustomerConnectClient,
    staff: dict[str, dict[str, str]],
    staff_token: Any,
    mails: list[ContactUsEmail],
) -> None:
    await sign_in(hub_client, staff_token, "eteam", "eva")
    page = await hub_client.get(f"{PAGE}/")
    assert page.status_code == 200 and "Nothing waiting." in page.text and 'id="pull"' in page.text
    r = await hub_client.post(f"{PAGE}/pull", data={"_csrf_token": csrf_of(page.text)})
    assert r.status_code == 303, r.text
    page = await hub_client.get(r.headers["location"])
    assert f"Pulled from Customer Connect: {len(mails)} new, 0 updated." in page.text
    refs = re.findall(r'<tr data-reference="(\d{6}-\d{6})" id="incident-', page.text)
    assert len(refs) == len(mails)
    ref, token = refs[0], csrf_of(page.text)

    url = f"{PAGE}/incidents/{ref}/respond"
    for fields, key in (
        ({"channel": "email", "text": "  "}, "text"),
        ({"channel": "fax", "text": "Hello"}, "channel"),
        ({"channel": "email", "text": "Hello", "account_id": "12"}, "account_id"),
    ):
        bad = await hub_client.post(url, data={**fields, "_csrf_token": token})
        assert bad.status_code == 422 and f"{key}:" in bad.text, (fields, bad.text)
    assert (await hub_client.post(url, data={"channel": "email", "text": "Hi"})).status_code == 403  # no CSRF
    unknown = await hub_client.post(
        f"{PAGE}/incidents/991231-999999/respond",
        data={"channel": "email", "text": "Hi", "_csrf_token": token},
    )
    assert unknown.status_code == 404 and "no incident 991231-999999" in unknown.text

    reply = "Your bill was estimated; a read is scheduled for Thursday."
    r = await hub_client.post(url, data={"channel": "email", "text": reply, "_csrf_token": token})
    assert r.status_code == 303, r.text
    page = await hub_client.get(r.headers["location"])
    assert f"Answered {ref}." in page.text
    assert f'id="incident-{ref}"' not in page.text and f'id="answered-{ref}"' in page.text
    incident = await cc.get_incident(ref)
    assert incident.status_type == "waiting"
    assert [t.text for t in incident.threads or [] if t.entry_type.lookup_name == "Staff Response"] == [reply]


async def test_the_page_verifies_the_customer_records_a_call_and_notes_the_action_in_ccb(
    hub: Any,
    hub_client: Any,
    cc: CustomerConnectClient,
    staff: dict[str, dict[str, str]],
    staff_token: Any,
    customers: list[SeedAccount],
) -> None:
    await pulled(hub_client, staff["eve"])
    await sign_in(hub_client, staff_token, "eteam", "eva")
    page = await hub_client.get(f"{PAGE}/")
    ref = re.findall(r'<tr data-reference="(\d{6}-\d{6})" id="incident-', page.text)[1]
    token = csrf_of(page.text)
    customer = customers[0]
    wrong = "000000" if customer.access_code != "000000" else "999999"
    verify = {"channel": "phone", "account_id": customer.account_id, "method": "access_code"}
    r = await hub_client.post(
        f"{PAGE}/incidents/{ref}/verify", data={**verify, "value": wrong, "_csrf_token": token}
    )
    assert r.status_code == 422 and "value: not verified: 2 attempts left" in r.text
    assert wrong not in r.text  # the factor is never echoed
    r = await hub_client.post(
        f"{PAGE}/incidents/{ref}/verify", data={**verify, "value": customer.access_code, "_csrf_token": token}
    )
    assert r.status_code == 303, r.text
    contact_id = r.headers["location"].split("verified=", 1)[1].split("#", 1)[0]
    page = await hub_client.get(r.headers["location"])
    assert f"Customer verified in contact {contact_id}" in page.text
    assert f'<tr data-contact="{contact_id}">' in page.text and page.text.count('<tr data-contact="') == 1

    said = "Called back; the high bill was a leak they have fixed."
    r = await hub_client.post(
        f"{PAGE}/incidents/{ref}/respond",
        data={"channel": "phone", "text": said, "account_id": customer.account_id, "_csrf_token": token},
    )
    assert r.status_code == 303, r.text
    page = await hub_client.get(r.headers["location"])
    assert f'action="/ui/eteam/incidents/{ref}/ccb-note"' in page.text
    threads = (await cc.get_incident(ref)).threads or []
    assert [t for t in threads if t.is_private and said in t.text]

    note = {"text": "Leak adjustment requested.", "account_id": customer.account_id, "_csrf_token": token}
    refused = await hub_client.post(f"{PAGE}/incidents/{ref}/ccb-note", data=note)
    assert refused.status_code == 403 and "open contact verified for it" in refused.text
    r = await hub_client.post(f"{PAGE}/incidents/{ref}/ccb-note", data={**note, "contact_id": contact_id})
    assert r.status_code == 303, r.text
    page = await hub_client.get(r.headers["location"])
    notes = [c for c in await hub.ccb.list_customer_contacts(customer.account_id) if ref in c.log_text]
    assert (
        len(notes) == 1 and notes[0].method == "phone" and "Leak adjustment requested." in notes[0].log_text
    )
    assert f"CCB note {notes[0].contact_id} on account {customer.account_id}" in page.text
    assert f'action="/ui/eteam/incidents/{ref}/ccb-note"' not in page.text
    twice = await hub_client.post(f"{PAGE}/incidents/{ref}/ccb-note", data={**note, "contact_id": contact_id})
    assert twice.status_code == 409

    closed = await hub_client.post(f"{PAGE}/contacts/{contact_id}/close", data={"_csrf_token": token})
    assert closed.status_code == 303, closed.text
    page = await hub_client.get(closed.headers["location"])
    assert f"Contact {contact_id} closed." in page.text and "No open contacts." in page.text
    again = await hub_client.post(f"{PAGE}/contacts/{contact_id}/close", data={"_csrf_token": token})
    assert again.status_code == 409


async def test_the_page_is_read_only_for_other_staff_and_refuses_anonymous_posts(
    hub_client: Any, sim: Any, staff: dict[str, dict[str, str]], staff_token: Any
) -> None:
    await pulled(hub_client, staff["eve"])
    await sign_in(hub_client, staff_token, "csr", "carl")
    page = await hub_client.get(f"{PAGE}/")
    assert (
        page.status_code == 200 and 'id="pull"' not in page.text and 'class="respond-email"' not in page.text
    )
    r = await hub_client.post(f"{PAGE}/pull", data={"_csrf_token": csrf_of(page.text)})
    assert r.status_code == 403
    hub_client.cookies.clear()
    anonymous = await hub_client.post(f"{PAGE}/pull")
    assert anonymous.status_code in (302, 303) and "/ui/login" in anonymous.headers["location"]


async def test_the_periodic_pull_is_a_job_that_pulls_once_per_run(
    hub: Any, sim: Any, mails: list[ContactUsEmail]
) -> None:
    """The background pull is a JobSpec for the core's job runner; its ``run`` is one pull, idempotent."""
    rec = hub.plugins.records["eteam"]
    assert rec.jobs == []  # pull_interval_s = 0 in this hub: pulls run only on request
    config = msgspec.structs.replace(rec.ctx.config, pull_interval_s=120.0)
    assert pull_job(rec.ctx.replace(config=msgspec.structs.replace(config, base_url=None))) is None
    job = pull_job(rec.ctx.replace(config=config))
    assert job is not None and job.name == "pull" and job.every_s == 120.0 and not job.run_at_start
    await job.run()
    async with hub.db.session() as session:
        first = await queries.queue(session)
    assert len(first) == len(mails) > 0
    await job.run()  # a second run finds nothing new and changes nothing
    async with hub.db.session() as session:
        again = await queries.queue(session)
    assert [(i.id, i.reference_number) for i in again] == [(i.id, i.reference_number) for i in first]
