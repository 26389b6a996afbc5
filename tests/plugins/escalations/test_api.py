"""The escalations plugin over HTTP: raising from a verified contact, approval by someone else with the
CSR told live, the special payment plan only through an approved escalation, the CRO intake and its
resolution mail, section mail recorded in the CCB, the SLA checks, and bad input."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

import plugins.escalations as escalations
from core.ccb.billing import local_time
from core.ccb.seed import DEFAULT_AS_OF, SeedAccount, identity_key, seed_customers
from core.clock import ManualClock
from core.mail import list_outbox
from plugins.escalations.events import CHANNEL
from plugins.escalations.models import Escalation, SectionMail

API = "/api/escalations"
SECTION = "call-center"
TODAY = DEFAULT_AS_OF + dt.timedelta(days=3)  # a Monday


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [escalations]


@pytest.fixture
def hub_clock() -> ManualClock:
    return ManualClock(local_time(TODAY, 9))


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {"plugins": {"telephony": {"tick_seconds": 0}}}


@pytest.fixture
async def customers(hub: Any) -> list[SeedAccount]:
    return await seed_customers(hub.db, 4, 11, identity_key(hub.settings.secret_key))


@pytest.fixture
async def staff(staff_token: Any, enable_plugin: Any) -> dict[str, dict[str, str]]:
    await enable_plugin("escalations", SECTION)
    out = {}
    for name, role in (
        ("ann", "csr"),
        ("lee", "lead"),
        ("liz", "lead"),
        ("sue", "supervisor"),
        ("cro", "cro"),
    ):
        out[name] = {"Authorization": f"Bearer {await staff_token(role, SECTION, name=name)}"}
    return out


async def in_contact(client: Any, headers: dict[str, str], customer: SeedAccount) -> dict[str, str]:
    r = await client.post("/api/contacts", headers=headers, json={"channel": "phone"})
    assert r.status_code == 201, r.text
    contact_id = r.json()["contact_id"]
    v = await client.post(
        f"/api/contacts/{contact_id}/verify",
        headers=headers,
        json={"account_id": customer.account_id, "method": "access_code", "value": customer.access_code},
    )
    assert v.status_code == 200, v.text
    return {**headers, "X-Contact-Id": contact_id}


def ask(account_id: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "same_day_service",
        "account_id": account_id,
        "summary": "Medical equipment at home, service needed today",
        "urgency": "high",
    }
    body.update(fields)
    return body


async def count(hub: Any, model: Any) -> int:
    async with hub.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_csr_escalates_from_a_contact_and_hears_the_approval_live(
    hub: Any, hub_client: Any, staff: dict[str, dict[str, str]], customers: list[SeedAccount], drain: Any
) -> None:
    ann = await in_contact(hub_client, staff["ann"], customers[0])
    r = await hub_client.post(API, json=ask(customers[0].account_id), headers=ann)
    assert r.status_code == 201, r.text
    esc = r.json()
    assert (esc["queue"], esc["status"], esc["requested_by"]) == ("lead", "open", "staff:ann")
    assert esc["contact_id"] == ann["X-Contact-Id"]
    assert dt.datetime.fromisoformat(esc["due_at"]) - hub.clock.now() == dt.timedelta(minutes=30)
    queue = (await hub_client.get(f"{API}?queue=lead", headers=staff["lee"])).json()
    assert [e["id"] for e in queue] == [esc["id"]]

    await drain()  # the "raised" event is out before the CSR starts listening
    stream = asyncio.create_task(hub_client.get(f"{API}/stream?limit=1", headers=staff["ann"]))
    streams = hub.plugins.records["escalations"].ctx.streams
    async with asyncio.timeout(5):
        while not streams.subscribers(CHANNEL):  # noqa: ASYNC110 - the plugin offers no event to wait on
            await asyncio.sleep(0.01)
    ok = await hub_client.post(
        f"{API}/{esc['id']}/approve", json={"reason": "Life-support customer"}, headers=staff["lee"]
    )
    assert ok.status_code == 200, ok.text
    assert (ok.json()["decided_by"], ok.json()["decision_reason"]) == ("staff:lee", "Life-support customer")
    got = await asyncio.wait_for(stream, timeout=2.0)
    assert got.headers["content-type"].startswith("text/event-stream")
    assert got.text.index("event: ready") < got.text.index("event: approved")
    assert f'"escalation_id":{esc["id"]}' in got.text and '"changed_by":"staff:lee"' in got.text
    again = await hub_client.post(f"{API}/{esc['id']}/deny", json={"reason": "x"}, headers=staff["liz"])
    assert again.status_code == 409 and again.json()["extra"][0]["key"] == "status"


async def test_nobody_decides_their_own_escalation_and_csrs_decide_none(
    hub_client: Any, staff: dict[str, dict[str, str]], customers: list[SeedAccount]
) -> None:
    lee = await in_contact(hub_client, staff["lee"], customers[1])
    esc = (await hub_client.post(API, json=ask(customers[1].account_id), headers=lee)).json()
    own = await hub_client.post(f"{API}/{esc['id']}/approve", json={"reason": "mine"}, headers=staff["lee"])
    assert own.status_code == 403 and "own" in own.json()["detail"]
    csr = await hub_client.post(f"{API}/{esc['id']}/approve", json={"reason": "x"}, headers=staff["ann"])
    assert csr.status_code == 403
    cro = await hub_client.post(f"{API}/{esc['id']}/approve", json={"reason": "x"}, headers=staff["cro"])
    assert cro.status_code == 403 and "lead queue" in cro.json()["detail"]
    liz = await hub_client.post(
        f"{API}/{esc['id']}/deny", json={"reason": "Crews full"}, headers=staff["liz"]
    )
    assert liz.status_code == 200 and liz.json()["status"] == "denied"


async def test_a_special_payment_plan_needs_an_approved_escalation(
    hub: Any, hub_client: Any, staff: dict[str, dict[str, str]], customers: list[SeedAccount]
) -> None:
    customer = customers[2]
    ann = await in_contact(hub_client, staff["ann"], customer)
    terms = {
        "amount_cents": 180_000,
        "installments": 18,
        "first_due": (TODAY + dt.timedelta(days=5)).isoformat(),
    }
    plain = await hub_client.post(
        API, json=ask(customer.account_id, kind="special_payment_plan", terms=terms), headers=ann
    )
    # docs/rules.md §6.3 rule 2: past 12 months only with a hardship reason.
    assert plain.status_code == 422 and plain.json()["extra"][0]["key"] == "terms.installments"
    missing = await hub_client.post(
        API, json=ask(customer.account_id, kind="special_payment_plan"), headers=ann
    )
    assert missing.status_code == 422 and missing.json()["extra"][0]["key"] == "terms"
    assert await count(hub, Escalation) == 0
    body = ask(
        customer.account_id,
        kind="special_payment_plan",
        summary="18 months after job loss",
        terms={**terms, "hardship_reason": "job loss"},
    )
    r = await hub_client.post(API, json=body, headers=ann)
    assert r.status_code == 201, r.text
    esc = r.json()
    assert esc["queue"] == "supervisor" and esc["beyond_standard_terms"] is True
    plan_url = f"{API}/{esc['id']}/payment-plan"
    early = await hub_client.post(plan_url, headers=ann)
    assert early.status_code == 409 and "approval" in early.json()["detail"]
    lead = await hub_client.post(f"{API}/{esc['id']}/approve", json={"reason": "ok"}, headers=staff["lee"])
    assert lead.status_code == 403  # the supervisor queue
    sup = await hub_client.post(
        f"{API}/{esc['id']}/approve", json={"reason": "Hardship documented"}, headers=staff["sue"]
    )
    assert sup.status_code == 200
    made = await hub_client.post(plan_url, headers=ann)
    assert made.status_code == 201, made.text
    plan = await hub.ccb.get_pay_plan(made.json()["pay_plan_id"])
    assert plan.account_id == customer.account_id and len(plan.installments) == 18
    assert plan.total_cents == 180_000
    replay = await hub_client.post(plan_url, headers=ann)
    assert replay.status_code == 200 and replay.json()["pay_plan_id"] == plan.pay_plan_id
    done = (await hub_client.get(f"{API}/{esc['id']}", headers=ann)).json()
    assert (done["status"], done["pay_plan_id"]) == ("resolved", plan.pay_plan_id)


async def test_cro_intake_is_resolved_and_the_requester_mailed(
    hub: Any,
    hub_client: Any,
    hub_clock: ManualClock,
    staff: dict[str, dict[str, str]],
    customers: list[SeedAccount],
) -> None:
    body = {
        "requester_email": "gm.office@utility.example",
        "subject": "Council office: customer billed twice",
        "body": "Please look into it and get back to the council office.",
        "account_id": customers[3].account_id,
        "idempotency_key": "<msg-0001@utility.example>",
    }
    r = await hub_client.post(f"{API}/cro-intake", json=body, headers=staff["cro"])
    assert r.status_code == 201, r.text
    esc = r.json()
    assert (esc["queue"], esc["source"]) == ("cro", "cro_intake")
    assert dt.datetime.fromisoformat(esc["due_at"]) == local_time(TODAY, 17)
    again = await hub_client.post(f"{API}/cro-intake", json=body, headers=staff["cro"])
    assert again.status_code == 200 and again.json()["id"] == esc["id"] and again.json()["replayed"]
    assert (await hub_client.post(f"{API}/cro-intake", json=body, headers=staff["ann"])).status_code == 403
    unknown = await hub_client.post(
        f"{API}/cro-intake",
        json={**body, "account_id": "9999999999", "idempotency_key": None},
        headers=staff["cro"],
    )
    assert unknown.status_code == 404 and unknown.json()["extra"][0]["key"] == "account_id"

    # Business minutes: 480 from Monday 09:00 is 17:00 the same day.
    hub_clock.advance(dt.timedelta(hours=7, minutes=59))
    assert all(o.passed for o in await hub.run_checks(plugin="escalations"))
    hub_clock.advance(dt.timedelta(minutes=2))
    late = {o.name: o for o in await hub.run_checks(plugin="escalations")}
    assert not late["cro_overdue"].passed and f"#{esc['id']}" in late["cro_overdue"].message
    assert late["queue_overdue"].passed

    done = await hub_client.post(
        f"{API}/{esc['id']}/resolve", json={"resolution": "Duplicate bill canceled."}, headers=staff["cro"]
    )
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    async with hub.db.session() as session:
        mails = [m for m in await list_outbox(session) if m.source == "escalations"]
    assert len(mails) == 1 and mails[0].to == ["gm.office@utility.example"]
    assert mails[0].subject.startswith("Resolved:") and "Duplicate bill canceled." in mails[0].body
    twice = await hub_client.post(
        f"{API}/{esc['id']}/resolve", json={"resolution": "x"}, headers=staff["cro"]
    )
    assert twice.status_code == 200
    async with hub.db.session() as session:
        assert len([m for m in await list_outbox(session) if m.source == "escalations"]) == 1
    assert (await hub.run_checks(plugin="escalations"))[0].passed


async def test_section_mail_is_queued_and_recorded_on_the_account(
    hub: Any, hub_client: Any, staff: dict[str, dict[str, str]], customers: list[SeedAccount]
) -> None:
    customer = customers[0]
    ann = await in_contact(hub_client, staff["ann"], customer)
    body = {
        "account_id": customer.account_id,
        "section": "customer_credit_group",
        "subject": "Deposit request after cancellation",
        "body": "Customer canceled the stop; please request the deposit again.",
    }
    bad = await hub_client.post(f"{API}/section-mail", json={**body, "section": "nobody"}, headers=ann)
    assert bad.status_code == 422 and bad.json()["extra"][0]["key"] == "section"
    headers = {**ann, "Idempotency-Key": "mail-0000001"}
    r = await hub_client.post(f"{API}/section-mail", json=body, headers=headers)
    assert r.status_code == 201, r.text
    sent = r.json()
    assert sent["address"] == "credit.group@utility.example"
    again = await hub_client.post(f"{API}/section-mail", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == sent["id"]
    contacts = await hub.ccb.list_customer_contacts(customer.account_id)
    mine = [c for c in contacts if c.contact_id == sent["ccb_contact_id"]]
    assert len(mine) == 1 and "customer_credit_group" in mine[0].log_text and mine[0].method == "email"
    async with hub.db.session() as session:
        mails = [m for m in await list_outbox(session) if m.source == "escalations"]
    assert [m.to for m in mails] == [["credit.group@utility.example"]]
    assert await count(hub, SectionMail) == 1


async def test_open_escalations_past_their_sla_fail_the_queue_check(
    hub: Any,
    hub_client: Any,
    hub_clock: ManualClock,
    staff: dict[str, dict[str, str]],
    customers: list[SeedAccount],
) -> None:
    ann = await in_contact(hub_client, staff["ann"], customers[1])
    esc = (
        await hub_client.post(API, json=ask(customers[1].account_id, urgency="urgent"), headers=ann)
    ).json()
    hub_clock.advance(dt.timedelta(minutes=9))
    assert all(o.passed for o in await hub.run_checks(plugin="escalations"))
    hub_clock.advance(dt.timedelta(minutes=2))
    late = {o.name: o for o in await hub.run_checks(plugin="escalations")}
    assert not late["queue_overdue"].passed and f"#{esc['id']}" in late["queue_overdue"].message
    await hub_client.post(f"{API}/{esc['id']}/approve", json={"reason": "go"}, headers=staff["lee"])
    assert all(o.passed for o in await hub.run_checks(plugin="escalations"))


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "free_lunch"}, "kind"),
        ({"summary": "   "}, "summary"),
        ({"urgency": "yesterday"}, "urgency"),
        ({"account_id": "12"}, "account_id"),
        ({"kind": "cro_request"}, "kind"),
        ({"terms": {"amount_cents": 100, "installments": 2, "first_due": "2025-12-01"}}, "terms"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_malformed_escalations_are_422_naming_the_field_and_write_nothing(
    hub: Any,
    hub_client: Any,
    staff: dict[str, dict[str, str]],
    customers: list[SeedAccount],
    fields: dict[str, Any],
    field: str,
) -> None:
    ann = await in_contact(hub_client, staff["ann"], customers[0])
    r = await hub_client.post(API, json={**ask(customers[0].account_id), **fields}, headers=ann)
    assert r.status_code == 422, r.text
    assert r.json()["extra"][0]["key"] == field
    assert await count(hub, Escalation) == 0


async def test_unknown_accounts_404_no_contact_403_and_a_retry_raises_once(
    hub: Any, hub_client: Any, staff: dict[str, dict[str, str]], customers: list[SeedAccount]
) -> None:
    ann = await in_contact(hub_client, staff["ann"], customers[0])
    unknown = await hub_client.post(API, json=ask("9999999999"), headers=ann)
    assert unknown.status_code == 404 and unknown.json()["extra"][0]["key"] == "account_id"
    other = await hub_client.post(API, json=ask(customers[1].account_id), headers=ann)
    assert other.status_code == 403  # the contact is verified for another account
    bare = await hub_client.post(API, json=ask(customers[0].account_id), headers=staff["ann"])
    assert bare.status_code == 403
    reason = {**staff["lee"], "X-Access-Reason": "callback"}
    assert (await hub_client.post(API, json=ask(customers[0].account_id), headers=reason)).status_code == 403
    assert (await hub_client.post(API, content=b"{nope", headers=ann)).status_code == 400
    assert await count(hub, Escalation) == 0
    keyed = {**ann, "Idempotency-Key": "raise-000001"}
    first = await hub_client.post(API, json=ask(customers[0].account_id), headers=keyed)
    second = await hub_client.post(API, json=ask(customers[0].account_id), headers=keyed)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["replayed"] is True and second.json()["id"] == first.json()["id"]
    assert await count(hub, Escalation) == 1
    assert (await hub_client.get(f"{API}/424242", headers=ann)).status_code == 404
    missing = await hub_client.post(f"{API}/424242/approve", json={"reason": "x"}, headers=staff["lee"])
    assert missing.status_code == 404


async def test_the_queue_pages_render_for_a_lead(
    hub: Any,
    hub_client: Any,
    staff_token: Any,
    staff: dict[str, dict[str, str]],
    customers: list[SeedAccount],
) -> None:
    ann = await in_contact(hub_client, staff["ann"], customers[0])
    await hub_client.post(API, json=ask(customers[0].account_id, summary="Needs <b>help</b>"), headers=ann)
    await staff_token("lead", SECTION, name="page.lead", password="page-lead-password")
    page = await hub_client.get("/ui/login")
    token = page.text.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
    await hub_client.post(
        "/ui/login", data={"name": "page.lead", "password": "page-lead-password", "_csrf_token": token}
    )
    board = await hub_client.get("/ui/escalations/")
    assert board.status_code == 200 and "Needs &lt;b&gt;help&lt;/b&gt;" in board.text
    assert 'action="/ui/escalations/' in board.text
    assert (await hub_client.get("/ui/escalations/cro")).status_code == 200


async def web_session(hub_client: Any, staff_token: Any, role: str, name: str) -> str:
    """Sign in to the web UI as a new staff member; returns the CSRF token of the queue page's forms."""
    await staff_token(role, SECTION, name=name, password="page-user-password")
    page = await hub_client.get("/ui/login")
    token = page.text.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
    await hub_client.post(
        "/ui/login", data={"name": name, "password": "page-user-password", "_csrf_token": token}
    )
    board = await hub_client.get("/ui/escalations/")
    return board.text.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]


async def test_a_lead_approves_and_denies_from_the_page_with_reasons(
    hub: Any,
    hub_client: Any,
    staff_token: Any,
    staff: dict[str, dict[str, str]],
    customers: list[SeedAccount],
) -> None:
    ann = await in_contact(hub_client, staff["ann"], customers[0])
    first = (await hub_client.post(API, json=ask(customers[0].account_id), headers=ann)).json()
    second = (
        await hub_client.post(API, json=ask(customers[0].account_id, summary="Deposit waiver"), headers=ann)
    ).json()
    csrf = await web_session(hub_client, staff_token, "lead", "page.lead")
    board = await hub_client.get("/ui/escalations/")
    assert f'formaction="/ui/escalations/{first["id"]}/approve"' in board.text
    # No reason: the page comes back 422 naming it, and nothing is decided.
    r = await hub_client.post(f"/ui/escalations/{first['id']}/approve", data={"_csrf_token": csrf})
    assert r.status_code == 422 and "reason: give a reason" in r.text
    long = await hub_client.post(
        f"/ui/escalations/{first['id']}/approve", data={"_csrf_token": csrf, "reason": "x" * 1001}
    )
    assert long.status_code == 422 and "reason: " in long.text
    # The page that comes back with the error carries a token its forms can post with.
    again = long.text.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
    r = await hub_client.post(
        f"/ui/escalations/{first['id']}/approve", data={"_csrf_token": again, "reason": "Medical need"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/ui/escalations/"
    r = await hub_client.post(
        f"/ui/escalations/{second['id']}/deny", data={"_csrf_token": csrf, "reason": "Policy: no waiver"}
    )
    assert r.status_code == 303
    board = await hub_client.get("/ui/escalations/")
    assert "Nothing waiting." in board.text
    decided = board.text.split('id="decided"', 1)[1]
    assert "Medical need" in decided and "Policy: no waiver" in decided and "denied" in decided
    again = await hub_client.post(
        f"/ui/escalations/{first['id']}/deny", data={"_csrf_token": csrf, "reason": "changed my mind"}
    )
    assert again.status_code == 409 and "status: escalation" in again.text
    missing = await hub_client.post(
        "/ui/escalations/424242/approve", data={"_csrf_token": csrf, "reason": "x"}
    )
    assert missing.status_code == 404
    async with hub.db.session() as session:
        row = await session.get(Escalation, first["id"])
        assert row is not None and (row.status, row.decided_by) == ("approved", "staff:page.lead")
    # The approved one is resolved from the "recently decided" list once the work is done.
    r = await hub_client.post(
        f"/ui/escalations/{first['id']}/resolve", data={"_csrf_token": csrf, "reason": "Crew sent today"}
    )
    assert r.status_code == 303
    assert "resolved" in (await hub_client.get("/ui/escalations/")).text.split('id="decided"', 1)[1]


async def test_the_cro_keys_in_a_mailed_escalation_and_resolves_it_from_the_page(
    hub: Any, hub_client: Any, staff_token: Any, staff: dict[str, dict[str, str]]
) -> None:
    csrf = await web_session(hub_client, staff_token, "cro", "page.cro")
    page = await hub_client.get("/ui/escalations/cro")
    assert 'id="cro-intake"' in page.text
    form = {
        "_csrf_token": csrf,
        "requester_email": "gm@example.org",
        "subject": "Customer wrote to the board",
        "body": "Please call Mrs. Lee back about her bill.",
        "urgency": "high",
        "idempotency_key": "form:intake-page-0001",
    }
    bad = await hub_client.post("/ui/escalations/cro-intake", data={**form, "requester_email": "not mail"})
    assert (
        bad.status_code == 422
        and "requester_email: " in bad.text
        and "Customer wrote to the board" in bad.text
    )
    unknown = await hub_client.post("/ui/escalations/cro-intake", data={**form, "account_id": "9999999999"})
    assert unknown.status_code == 404 and "account_id: no account" in unknown.text
    r = await hub_client.post("/ui/escalations/cro-intake", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/ui/escalations/cro"
    assert (await hub_client.post("/ui/escalations/cro-intake", data=form)).status_code == 303  # a retry
    assert await count(hub, Escalation) == 1
    async with hub.db.session() as session:
        (esc,) = list(await session.scalars(select(Escalation)))
    page = await hub_client.get("/ui/escalations/cro")
    assert f'action="/ui/escalations/{esc.id}/resolve"' in page.text
    empty = await hub_client.post(f"/ui/escalations/{esc.id}/resolve", data={"_csrf_token": csrf})
    assert empty.status_code == 422 and "Customer Relations Office escalations" in empty.text
    r = await hub_client.post(
        f"/ui/escalations/{esc.id}/resolve", data={"_csrf_token": csrf, "reason": "Called her back; fixed."}
    )
    assert r.status_code == 303 and r.headers["location"] == "/ui/escalations/cro"
    async with hub.db.session() as session:
        mails = await list_outbox(session, limit=10)
    assert any(m.to == ["gm@example.org"] and "Resolved" in m.subject for m in mails)
