"""Customer data only inside a verified contact, on every route and page, proved by enumeration (issue 13).

The app is built with every installed plugin enabled for every section. Customers are seeded in the mock
CCB and records are made about one of them ("the customer") through the plugins' own APIs — a claim with a
document, an escalation, a letter, a window payment with a seized note, a returned-mail item resolved with a
new address. Then every GET operation of the OpenAPI document and every ``/ui`` GET page is called, its
path ids filled from those records, as (a) a CSR without a contact, (b) a CSR inside a contact verified for
ANOTHER customer, (c) one member of staff of every role. No answer may carry the customer's name, phone,
address, balance or the free text typed about them, unless the handler's declaration allows that caller
(a ``QUEUE`` whose roles include the caller's). Writes are tried only where they could leak: creating a
letter. A route without a declaration stops the app from being built (shown with a one-route plugin).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from core.contract.ccb import format_cents
from core.contract.scope import OPT_KEY, Scope
from core.contract.staff import Role
from tests.core.runtime import undeclared_probe

SECTIONS = ("call-center", "customer-service-center")
PASSWORD = "scope-test-password-1"
MARKER = "Zanzibar-Quill"  # the free text a CSR types about the customer (a description, a summary)
NEW_LINE1 = "77 Quillfeather Lane"
PDF = b"%PDF-1.4\n% a receipt\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
# Answers that never end (server-sent events) are declared like the rest but not read here.
STREAMS = re.compile(r"/stream$|^/api/phone/events$")
PARAM = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")


@pytest.fixture
def hub_entry_points() -> bool:
    return True


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


async def in_contact(client: httpx.AsyncClient, headers: dict[str, str], customer: Any) -> str:
    opened = await client.post("/api/contacts", headers=headers, json={"channel": "counter"})
    assert opened.status_code == 201, opened.text
    contact_id = str(opened.json()["contact_id"])
    verified = await client.post(
        f"/api/contacts/{contact_id}/verify",
        headers=headers,
        json={"account_id": customer.account_id, "method": "access_code", "value": customer.access_code},
    )
    assert verified.status_code == 200 and verified.json()["verified"], verified.text
    return contact_id


async def signed_in(app: Any, name: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
    ) as client:
        page = await client.get("/ui/login")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert token, page.text[:300]
        done = await client.post(
            "/ui/login", data={"name": name, "password": PASSWORD, "_csrf_token": token.group(1)}
        )
        assert done.status_code in (302, 303), done.text[:300]
        yield client


def declared(handler: Any) -> Scope:
    scope = handler.opt.get(OPT_KEY)
    assert isinstance(scope, Scope), f"{handler} declares no customer-data scope"
    return scope


def allowed(scope: Scope, role: str) -> bool:
    """Whether the declaration lets ``role``, outside any contact for the customer, see their data."""
    return scope.kind == "queue" and role in scope.roles


async def seed(
    hub: Any, client: httpx.AsyncClient, staff_token: Any, enable_plugin: Any, customers: Any
) -> dict[str, Any]:
    """Records about ``customers[0]`` made through the plugins' own APIs; their ids by path parameter."""
    for rec in hub.plugins.records.values():
        if rec.source != "core" and rec.running:
            for section in SECTIONS:
                await enable_plugin(rec.id, section)
    customer = customers[0]
    csr = bearer(await staff_token("csr", *SECTIONS, name="seed.csr"))
    lead = bearer(await staff_token("lead", *SECTIONS, name="seed.lead"), **{"X-Access-Reason": "scope test"})
    contact = await in_contact(client, csr, customer)
    inside = {**csr, "X-Contact-Id": contact}
    ids: dict[str, Any] = {
        "account_id": customer.account_id,
        "premise_id": customer.premise_id,
        "contact_id": contact,
    }

    claim = await client.post(
        "/api/claims",
        headers=inside,
        json={
            "account_id": customer.account_id,
            "claimant_name": customer.name,
            "claimant_email": "quill.customer@example.org",
            "incident": "water_main_break",
            "incident_date": (dt.date.today() - dt.timedelta(days=3)).isoformat(),
            "loss": "water_lost",
            "description": f"{MARKER}: the main broke in front of the house.",
            "claimed_cents": 12_500,
        },
    )
    assert claim.status_code == 201, claim.text
    ids["claim_id"] = claim.json()["id"]
    doc = await client.post(
        f"/api/claims/{ids['claim_id']}/documents",
        headers=inside,
        files={"file": ("receipt.pdf", PDF, "application/pdf")},
        data={"label": "receipt"},
    )
    assert doc.status_code == 201, doc.text
    ids["document_id"] = doc.json()["id"]

    esc = await client.post(
        "/api/escalations",
        headers=inside,
        json={
            "kind": "same_day_service",
            "account_id": customer.account_id,
            "summary": f"{MARKER} needs service today",
            "urgency": "high",
        },
    )
    assert esc.status_code == 201, esc.text
    ids["escalation_id"] = esc.json()["id"]

    letter = await client.post(
        "/api/correspondence/letters",
        headers=lead,
        json={
            "account_id": customer.account_id,
            "template": "returned_mail_follow_up",
            "fields": {"returned_item_date": "2026-02-14"},
        },
    )
    assert letter.status_code == 201, letter.text
    ids["ref"] = ids["letter_id"] = letter.json()["id"]

    drawer = await client.post(
        "/api/cash_handling/drawers",
        headers=csr,
        json={"float_counts": {"2000": 5, "500": 10}, "idempotency_key": uuid.uuid4().hex},
    )
    assert drawer.status_code == 201, drawer.text
    ids["drawer_id"] = drawer.json()["id"]
    good = {"denomination": 2000, "uv_colour": "green", "feel": True, "watermark": True, "pen": "pass"}
    paid = await client.post(
        "/api/cash_handling/payments",
        headers=inside,
        json={
            "account_id": customer.account_id,
            "amount_cents": 4000,
            "change_cents": 0,
            "note_counts": {"2000": 3},
            "notes": [
                {**good, "colour_shift": True},
                {**good, "colour_shift": True},
                {**good, "colour_shift": True, "uv_colour": "blue", "serial_number": "MB12345678A"},
            ],
            "passer": {"name": f"{MARKER} Passer", "height": "5'10\"", "other_description": "grey hoodie"},
            "seized_notes": [{"note_index": 2, "series": "2017A", "face_plate_no": "FW 12"}],
            "idempotency_key": uuid.uuid4().hex,
        },
    )
    assert paid.status_code == 201, paid.text
    ids["payment_id"] = paid.json()["id"]
    ids["note_id"] = paid.json()["seized_note_ids"][0]

    mail = await client.post(
        "/api/ccb/returned-mail", headers=inside, json={"account_id": customer.account_id, "reason": "moved"}
    )
    assert mail.status_code == 201, mail.text
    ids["item_id"] = mail.json()["item_id"]
    resolved = await client.post(
        f"/api/ccb/returned-mail/{ids['item_id']}/outcome",
        headers=inside,
        json={
            "outcome": "new_address",
            "address": {"line1": NEW_LINE1, "city": "Los Angeles", "zip": "90026"},
        },
    )
    assert resolved.status_code == 200, resolved.text

    referral = await client.post(
        "/api/sos/referrals",
        headers=inside,
        json={
            "account_id": customer.account_id,
            "reasons": ["loneliness"],
            "contact_name": customer.name,
            "contact_phone": customer.phone,
            "consent": True,
            "details": f"{MARKER} lives alone since spring.",
        },
    )
    assert referral.status_code == 201, referral.text
    ids["referral_id"] = referral.json()["id"]

    voicemail = await client.post(
        "/api/solar/voicemails",
        headers=lead,
        json={"ani": customer.phone, "duration_s": 30, "account_id": customer.account_id},
    )
    assert voicemail.status_code == 201, voicemail.text
    ids["voicemail_id"] = voicemail.json()["id"]

    outage = await client.post(
        "/api/outage/outages",
        headers=lead,
        json={"utility": "electric", "cause": "Transformer failure", "premise_ids": [customer.premise_id]},
    )
    assert outage.status_code == 201, outage.text
    ids["outage_id"] = outage.json()["id"]
    await arrived_from_outside(hub, customer, ids["outage_id"])

    cro = bearer(await staff_token("cro", *SECTIONS, name="seed.cro"))
    disclosure = await client.post(
        "/api/agency_lookup/disclosures",
        headers=cro,
        json={
            "requester_kind": "law_enforcement",
            "requester_name": "Det. R. Alvarez",
            "requester_agency": "LAPD",
            "requester_contact": "Robbery-Homicide, (213) 486-6890",
            "identity_verified_by": "call-back to the published station number",
            "elements": ["name", "address"],
            "account_ids": [customer.account_id],
            "criteria": f"{customer.name}, {MARKER}",
            "legal_basis": "court_order",
            "instrument_ref": "LASC order 24STCV0001",
        },
    )
    assert disclosure.status_code == 201, disclosure.text
    ids["disclosure_id"] = disclosure.json()["id"]
    return ids


async def arrived_from_outside(hub: Any, customer: Any, outage_id: int) -> None:
    """Records no hub operation makes, written as they are stored: a Contact Us request pulled from
    Customer Connect (the e-team queue), an offline form CCB refused on replay, and a trouble ticket
    linked to the outage with remarks."""
    from core.ccb.offline_models import OfflineForm
    from plugins.eteam.models import Incident
    from plugins.outage.models import OutageTicket

    now = hub.clock.now()
    async with hub.plugins.records["eteam"].ctx.db.session() as session:
        session.add(
            Incident(
                reference_number="260101-000001",
                cc_id=1,
                subject=f"{MARKER}: my bill",
                customer_text=f"This is {customer.name}, call me on {customer.phone}.",
                account_id=customer.account_id,
                contact_name=customer.name,
                status="unresolved",
                received_at=now,
                cc_updated_at=now,
                pulled_at=now,
            )
        )
    async with hub.db.session() as session:
        session.add(
            OfflineForm(
                operation="add_customer_contact",
                request="{}",
                idempotency_key="scope-test-offline-1",
                actor="staff:seed.csr",
                status="conflict",
                recorded_at=now,
                replayed_at=now,
                reason=f"CCB refused the note for {customer.name}: {MARKER}",
            )
        )
    async with hub.plugins.records["outage"].ctx.db.session() as session:
        session.add(
            OutageTicket(
                field_activity_id="FA-SCOPE-1",
                premise_id=customer.premise_id,
                received_at=now,
                action="linked_not_canceled",
                outage_id=outage_id,
                remarks=f"CCB refused: {customer.name} at {NEW_LINE1} ({MARKER})",
            )
        )


def secrets_of(customer: Any, balance_cents: int) -> list[str]:
    """What must not show: the customer's name, phone, address, balance and what was typed about them."""
    phone = customer.phone
    found = [customer.name, phone, f"{phone[:3]}-{phone[3:6]}-{phone[6:]}", MARKER, NEW_LINE1]
    found.append("quill.customer@example.org")
    if abs(balance_cents) >= 100:
        found.append(format_cents(balance_cents))
    if balance_cents < 0:  # a credit, as JSON gives it (a positive number could be any id or amount)
        found.append(f":{balance_cents}")
    return found


def fill(path: str, ids: dict[str, Any]) -> str:
    return PARAM.sub(lambda m: str(ids.get(m.group(1), "1")), path)


def routes_by_path(app: Any) -> dict[tuple[str, str], Any]:
    """(method, path without parameter types) → handler, for every route of the app."""
    found: dict[tuple[str, str], Any] = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            for method in handler.http_methods:
                found[(method, re.sub(r":[a-z]+\}", "}", route.path))] = handler
    return found


async def test_no_customer_data_outside_a_verified_contact_on_any_route_or_page(
    hub: Any,
    hub_app: Any,
    hub_client: httpx.AsyncClient,
    staff_token: Any,
    enable_plugin: Any,
    ccb_customers: Any,
) -> None:
    customers = await ccb_customers(2)
    customer, other = customers
    ids = await seed(hub, hub_client, staff_token, enable_plugin, customers)
    forbidden = secrets_of(customer, (await hub.ccb.get_balance(customer.account_id)).balance_cents)

    # Who calls: a CSR without a contact, a CSR inside a contact for the other customer, every role.
    callers: dict[str, tuple[str, dict[str, str], str | None]] = {}
    token = await staff_token("csr", *SECTIONS, name="plain.csr", password=PASSWORD)
    callers["csr without a contact"] = ("csr", bearer(token), None)
    token = await staff_token("csr", *SECTIONS, name="other.csr", password=PASSWORD)
    elsewhere = await in_contact(hub_client, bearer(token), other)
    callers["csr inside another customer's contact"] = (
        "csr",
        bearer(token, **{"X-Contact-Id": elsewhere}),
        elsewhere,
    )
    for member in Role:
        token = await staff_token(member.value, *SECTIONS, name=f"any.{member.value}", password=PASSWORD)
        callers[f"a {member.value}"] = (member.value, bearer(token), None)
    names = {"csr without a contact": "plain.csr", "csr inside another customer's contact": "other.csr"}
    names.update({f"a {member.value}": f"any.{member.value}" for member in Role})

    handlers = routes_by_path(hub_app)
    operations = [
        (path, method.upper())
        for path, item in hub_app.openapi_schema.to_schema()["paths"].items()
        for method in item
        if method == "get" and not STREAMS.search(path)
    ]
    pages = sorted(
        {
            (re.sub(r":[a-z]+\}", "}", route.path), "GET")
            for route in hub_app.routes
            if route.path.startswith("/ui")
            and any("GET" in h.http_methods for h in getattr(route, "route_handlers", ()))
            and not STREAMS.search(route.path)
        }
    )
    assert len(operations) > 60 and len(pages) > 30, (len(operations), len(pages))

    leaks: list[str] = []
    sent = 0

    def check(who: str, role: str, method: str, path: str, scope: Scope, answer: httpx.Response) -> None:
        if allowed(scope, role):
            return
        text = answer.content.decode("utf-8", "replace")
        for secret in forbidden:
            if secret in text:
                leaks.append(f"{who}: {method} {path} ({scope.kind}) → {answer.status_code} shows {secret!r}")

    for who, (role, headers, contact) in callers.items():
        for path, method in operations:
            scope = declared(handlers[(method, path)])
            answer = await hub_client.get(fill(path, ids), headers=headers)
            sent += 1
            check(who, role, method, path, scope, answer)
        async for client in signed_in(hub_app, names[who]):
            for path, method in pages:
                scope = declared(handlers[(method, path)])
                query = {"contact_id": contact} if contact else {}
                answer = await client.get(fill(path, ids), params=query)
                sent += 1
                check(who, role, method, path, scope, answer)
        # The one write that could leak: a letter to the customer, with their name and address.
        letter = await hub_client.post(
            "/api/correspondence/letters",
            headers=headers,
            json={
                "account_id": customer.account_id,
                "template": "returned_mail_follow_up",
                "fields": {"returned_item_date": "2026-02-14"},
            },
        )
        sent += 1
        if letter.status_code < 400 or any(s in letter.text for s in forbidden):
            leaks.append(f"{who}: POST /api/correspondence/letters → {letter.status_code}")

    print(f"{len(operations)} operations, {len(pages)} pages, {len(callers)} callers, {sent} requests")
    assert not leaks, "\n".join(leaks)

    # The same records are there for those whose work they are: the test can see what it looks for.
    cro = bearer(await staff_token("cro", *SECTIONS))
    assert customer.name in (await hub_client.get(f"/api/claims/{ids['claim_id']}", headers=cro)).text
    lead = bearer(await staff_token("lead", *SECTIONS))
    assert MARKER in (await hub_client.get(f"/api/escalations/{ids['escalation_id']}", headers=lead)).text
    assert (
        customer.name
        in (await hub_client.get(f"/api/correspondence/letters/{ids['ref']}", headers=lead)).text
    )
    assert (
        customer.name in (await hub_client.get(f"/api/sos/referrals/{ids['referral_id']}", headers=cro)).text
    )
    log = await hub_client.get(f"/api/agency_lookup/disclosures/{ids['disclosure_id']}/log", headers=cro)
    assert MARKER in log.text
    solar = bearer(await staff_token("solar", *SECTIONS))
    assert customer.phone in (await hub_client.get("/api/solar/voicemails", headers=solar)).text
    eteam = bearer(await staff_token("eteam", *SECTIONS))
    assert customer.name in (await hub_client.get("/api/eteam/incidents", headers=eteam)).text
    tickets = await hub_client.get(f"/api/outage/outages/{ids['outage_id']}/tickets", headers=lead)
    assert MARKER in tickets.text
    assert MARKER in (await hub_client.get("/offline/forms", headers=lead)).text
    seed_csr = bearer(await staff_token("csr", *SECTIONS), **{"X-Contact-Id": ids["contact_id"]})
    assert (await hub_client.get(f"/api/claims/{ids['claim_id']}", headers=seed_csr)).json()[
        "customer_hidden"
    ]


async def test_a_route_without_a_declaration_stops_the_app(hub_settings: Any) -> None:
    from core.app import create_app
    from core.hub import Hub

    hub = Hub(hub_settings, extra_plugins=[undeclared_probe], entry_points=False)
    await hub.start()
    try:
        with pytest.raises(RuntimeError, match=r"/api/undeclared_probe/customers/\{account_id:str\}"):
            create_app(hub, manage_hub=False)
    finally:
        await hub.stop()
