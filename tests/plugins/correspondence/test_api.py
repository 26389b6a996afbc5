"""The correspondence plugin over HTTP: every template for a seeded account (the .docx opened and read back),
the CCB customer contact, idempotency, bad input (422/404/403), mailing, the e-mail copy, the public service
API other plugins call, and the mailing check.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from docx import Document
from sqlalchemy import func, select

import plugins.correspondence as correspondence
from core.bus import Envelope
from core.ccb import port as p
from core.ccb.seed import identity_key, seed_customers
from core.contract import ServiceDirectory
from core.mail import MailMessage
from plugins.correspondence.models import CorrLetter
from plugins.correspondence.public import LetterError, LetterService

API = "/api/correspondence"
SECTION = "customer-service-center"

FIELDS: dict[str, dict[str, Any]] = {
    "deposit_refund_approved": {
        "refund_amount": 15000,
        "refund_method": "credited to your account",
        "refund_date": "2026-03-20",
    },
    "deposit_refund_denied": {
        "reason": "Two late payments in the last 12 months.",
        "review_date": "2026-09-01",
    },
    "claim_decision": {
        "claim_number": "CLM-2026-0042",
        "decision": "approved",
        "explanation": "Our crew confirmed the surge.",
        "amount": 48990,
    },
    "returned_mail_follow_up": {"returned_item_date": "2026-02-14"},
    "payment_plan_confirmation": {
        "plan_id": "PP-77",
        "plan_amount": 60000,
        "installments": 6,
        "installment_amount": 10000,
        "first_due_date": "2026-04-01",
    },
}
EXPECTED_TEXT = {
    "deposit_refund_approved": "The refund of $150.00 will be credited to your account on or about March 20",
    "deposit_refund_denied": "for the following reason: Two late payments in the last 12 months.",
    "claim_decision": "An amount of $489.90 will be paid to you.",
    "returned_mail_follow_up": "Mail we sent on February 14, 2026 about account",
    "payment_plan_confirmation": "You agreed to pay $600.00 in 6 monthly installments of $100.00",
}


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [correspondence]


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {
        "plugins": {
            "correspondence": {
                "utility_name": "Harbor City Water & Power",
                "utility_address": ["200 Harbor Way", "Harbor City, CA 90710"],
                "utility_phone": "1-800-555-0123",
                "mail_within_business_days": 2,
            }
        }
    }


@pytest.fixture
async def account(hub: Any) -> str:
    seeded = await seed_customers(hub.db, 1, 7, identity_key(hub.settings.secret_key))
    return seeded[0].account_id


@pytest.fixture
async def csr(staff_token: Any, enable_plugin: Any) -> dict[str, str]:
    await enable_plugin("correspondence", SECTION)
    return {"Authorization": f"Bearer {await staff_token('csr', SECTION)}"}


@pytest.fixture
async def lead(staff_token: Any, csr: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {await staff_token('lead', SECTION)}"}


@pytest.fixture
async def writer(lead: dict[str, str]) -> dict[str, str]:
    """Whoever sends a letter is inside a verified contact or gives a recorded reason (issue 13): a lead's."""
    return {**lead, "X-Access-Reason": "letter the customer asked for in writing"}


@pytest.fixture
async def seen(hub: Any) -> list[Envelope]:
    found: list[Envelope] = []

    async def keep(env: Envelope) -> None:
        found.append(env)

    await hub.bus.subscribe("hub.correspondence.>", keep)
    return found


async def count(hub: Any, model: Any) -> int:
    async with hub.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def letter(account: str, template: str, **extra: Any) -> dict[str, Any]:
    return {"account_id": account, "template": template, "fields": FIELDS[template], **extra}


async def test_every_template_makes_a_docx_with_letterhead_address_and_body(
    hub: Any,
    hub_client: Any,
    csr: dict[str, str],
    writer: dict[str, str],
    account: str,
    seen: list[Envelope],
    drain: Any,
) -> None:
    summary = await hub.ccb.get_account_summary(account)
    person = await hub.ccb.get_person(summary.main_customer.person_id)
    addr = summary.mailing_address
    for template, expected in EXPECTED_TEXT.items():
        r = await hub_client.post(f"{API}/letters", json=letter(account, template), headers=writer)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["status"] == "queued" and body["contact_id"] and len(body["sha256"]) == 64
        doc_r = await hub_client.get(f"{API}/letters/{body['id']}.docx", headers=writer)
        assert doc_r.status_code == 200 and doc_r.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        )
        assert len(doc_r.content) == body["size"]
        doc = Document(io.BytesIO(doc_r.content))
        header = [para.text for para in doc.sections[0].header.paragraphs]
        assert header == [
            "Harbor City Water & Power",
            "200 Harbor Way",
            "Harbor City, CA 90710",
            "Phone 1-800-555-0123",
        ]
        text = [para.text for para in doc.paragraphs]
        name = f"{person.first_name} {person.last_name}"
        city_line = f"{addr.city}, {addr.state} {addr.zip}"
        start = text.index(name)
        assert text[start + 1] == addr.line1 and city_line in text[start + 1 : start + 4]
        assert f"Dear {name}:" in text and f"Account {account}" in text
        assert any(expected in t for t in text), (template, text)
        assert "Harbor City Water & Power" in text  # the signature block names the utility
    contacts = await hub.ccb.list_customer_contacts(account)
    letters = [c for c in contacts if c.method == "letter"]
    assert len(letters) == len(EXPECTED_TEXT)
    assert all(c.contact_class == "NOTIFY" and "queued for mailing" in c.log_text for c in letters)
    await drain()
    assert [e.subject for e in seen] == ["hub.correspondence.letter.created"] * len(EXPECTED_TEXT)
    assert "Two late" not in str([e.data for e in seen])  # events carry no letter text


async def test_a_repeated_request_makes_one_letter_and_one_contact(
    hub: Any, hub_client: Any, csr: dict[str, str], writer: dict[str, str], account: str
) -> None:
    body = letter(account, "returned_mail_follow_up", idempotency_key="form:abcdef123456")
    first = await hub_client.post(f"{API}/letters", json=body, headers=writer)
    second = await hub_client.post(f"{API}/letters", json=body, headers=writer)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["replayed"] is True and second.json()["id"] == first.json()["id"]
    other = await hub_client.post(
        f"{API}/letters",
        json={**body, "template": "deposit_refund_denied", "fields": FIELDS["deposit_refund_denied"]},
        headers=writer,
    )
    assert other.status_code == 409 and other.json()["extra"][0]["key"] == "idempotency_key"
    assert await count(hub, CorrLetter) == 1
    contacts = await hub.ccb.list_customer_contacts(account)
    assert len([c for c in contacts if c.method == "letter"]) == 1


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"template": "no_such_letter"}, 422, "template"),
        ({"fields": {"refund_amount": 100}}, 422, "fields.refund_method"),
        (
            {"fields": {**FIELDS["deposit_refund_approved"], "refund_amount": "1.50"}},
            422,
            "fields.refund_amount",
        ),
        ({"fields": {**FIELDS["deposit_refund_approved"], "extra": "x"}}, 422, "fields.extra"),
        ({"account_id": "12345"}, 422, "account_id"),
        ({"account_id": "9999999999"}, 404, "account_id"),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(
    hub: Any,
    hub_client: Any,
    csr: dict[str, str],
    writer: dict[str, str],
    account: str,
    change: dict[str, Any],
    status: int,
    field: str,
) -> None:
    body = {**letter(account, "deposit_refund_approved"), **change}
    r = await hub_client.post(f"{API}/letters", json=body, headers=writer)
    assert r.status_code == status, r.text
    assert r.json()["extra"][0]["key"] == field
    assert await count(hub, CorrLetter) == 0
    assert [c for c in await hub.ccb.list_customer_contacts(account) if c.method == "letter"] == []


async def test_roles_sections_and_unknown_letters(
    hub_client: Any,
    staff_token: Any,
    csr: dict[str, str],
    writer: dict[str, str],
    lead: dict[str, str],
    account: str,
) -> None:
    security = {"Authorization": f"Bearer {await staff_token('security', SECTION)}"}
    outsider = {"Authorization": f"Bearer {await staff_token('csr', 'solar')}"}
    body = letter(account, "returned_mail_follow_up")
    assert (await hub_client.post(f"{API}/letters", json=body, headers=security)).status_code == 403
    assert (await hub_client.post(f"{API}/letters", json=body, headers=outsider)).status_code == 403
    assert (await hub_client.post(f"{API}/letters", json=body)).status_code == 401
    lid = (await hub_client.post(f"{API}/letters", json=body, headers=writer)).json()["id"]
    # CSRs send letters; only the mail room (leads, supervisors, admins) marks them mailed.
    marked = await hub_client.post(f"{API}/letters/{lid}/status", json={"status": "mailed"}, headers=csr)
    assert marked.status_code == 403
    assert (await hub_client.get(f"{API}/letters/{lid + 100}.docx", headers=writer)).status_code == 404
    assert (await hub_client.get(f"{API}/letters/{lid + 100}", headers=csr)).status_code == 404
    assert (await hub_client.get(f"{API}/letters/abc.pdf", headers=csr)).status_code == 404
    templates = (await hub_client.get(f"{API}/templates", headers=csr)).json()
    assert {t["id"] for t in templates} == set(FIELDS)


async def test_mailing_moves_forward_only_and_the_check_watches_business_days(
    hub: Any,
    hub_client: Any,
    hub_clock: Any,
    csr: dict[str, str],
    writer: dict[str, str],
    lead: dict[str, str],
    account: str,
    seen: list[Envelope],
    drain: Any,
) -> None:
    # Monday morning in Los Angeles, so the business-day count is the same every day the suite runs.
    hub_clock.set(dt.datetime(2026, 3, 9, 17, 0, tzinfo=dt.UTC))
    first = (
        await hub_client.post(f"{API}/letters", json=letter(account, "claim_decision"), headers=writer)
    ).json()
    late = (
        await hub_client.post(f"{API}/letters", json=letter(account, "deposit_refund_denied"), headers=writer)
    ).json()
    check = hub.plugins.records["correspondence"].checks[0]
    assert (await check.run(hub.check_context())).passed
    url = f"{API}/letters/{first['id']}/status"
    printed = await hub_client.post(url, json={"status": "printed"}, headers=lead)
    assert printed.status_code == 200 and printed.json()["status"] == "printed"
    mailed = await hub_client.post(url, json={"status": "mailed"}, headers=lead)
    assert mailed.json()["status"] == "mailed" and mailed.json()["mailed_at"]
    again = await hub_client.post(url, json={"status": "mailed"}, headers=lead)
    assert again.status_code == 200
    back = await hub_client.post(url, json={"status": "queued"}, headers=lead)
    assert back.status_code == 409 and back.json()["extra"][0]["key"] == "status"
    bad = await hub_client.post(url, json={"status": "lost"}, headers=lead)
    assert bad.status_code == 422 and bad.json()["extra"][0]["key"] == "status"
    hub_clock.set(dt.datetime(2026, 3, 11, 17, 0, tzinfo=dt.UTC))  # Wednesday: 2 business days
    assert (await check.run(hub.check_context())).passed
    hub_clock.set(dt.datetime(2026, 3, 12, 17, 0, tzinfo=dt.UTC))  # Thursday: 3 business days
    result = await check.run(hub.check_context())
    assert not result.passed and f"#{late['id']}" in result.message
    assert [d["letter_id"] for d in result.details["late"]] == [late["id"]]
    queued = await hub_client.get(f"{API}/letters?status=queued", headers=csr)
    assert [x["id"] for x in queued.json()] == [late["id"]]
    await drain()
    assert [e.subject for e in seen].count("hub.correspondence.letter.mailed") == 1


async def test_an_email_copy_goes_to_a_customer_with_an_address(
    hub: Any, hub_client: Any, writer: dict[str, str]
) -> None:
    created = await hub.ccb.create_customer(
        p.CreateCustomer(
            person=p.NewPerson(
                first_name="Rosa",
                last_name="Diaz",
                phone="2135550100",
                email="rosa.diaz@example.org",
                mailing_address=p.Address(
                    line1="PO Box 12", line2="Attn Rosa", city="Los Angeles", zip="90012"
                ),
            )
        )
    )
    r = await hub_client.post(
        f"{API}/letters", json=letter(created.account_id, "returned_mail_follow_up"), headers=writer
    )
    assert r.status_code == 201 and r.json()["emailed"] is True
    assert r.json()["address"] == ["Rosa Diaz", "PO Box 12", "Attn Rosa", "Los Angeles, CA 90012"]
    async with hub.db.session() as session:
        mails = list(await session.scalars(select(MailMessage)))
    assert len(mails) == 1 and mails[0].to_addrs == "rosa.diaz@example.org"
    assert mails[0].source == "correspondence" and "Dear Rosa Diaz:" in mails[0].body


async def test_other_plugins_send_letters_through_the_public_service(hub: Any, account: str) -> None:
    """A dependent plugin reaches the typed service through its context; the letter is made with this
    plugin's context and records which plugin asked."""
    letters = ServiceDirectory(hub.plugins.offers, ("correspondence",), ()).require(LetterService)
    assert isinstance(letters, LetterService)
    with pytest.raises(LookupError):
        ServiceDirectory(hub.plugins.offers, (), ()).get(LetterService)
    record = await letters.send_letter(
        account,
        "payment_plan_confirmation",
        FIELDS["payment_plan_confirmation"],
        actor="system:payplans",
        idempotency_key="payplans:PP-77:confirm",
        source="payplans",
    )
    assert record.status == "queued" and record.contact_id and not record.replayed
    assert record.source == "payplans"
    again = await letters.send_letter(
        account,
        "payment_plan_confirmation",
        FIELDS["payment_plan_confirmation"],
        actor="system:payplans",
        idempotency_key="payplans:PP-77:confirm",
        source="payplans",
    )
    assert again.replayed and again.id == record.id
    assert (await letters.get_letter(record.id)).id == record.id
    document = await letters.letter_document(record.id)
    assert "PP-77" in "\n".join(p.text for p in Document(io.BytesIO(document)).paragraphs)
    with pytest.raises(LetterError) as err:
        await letters.send_letter(
            account,
            "claim_decision",
            {},
            actor="system:claims",
            idempotency_key="claims:1:decision",
            source="claims",
        )
    assert err.value.status_code == 422 and err.value.field == "fields.claim_number"
    mailed = await letters.mark_letter(record.id, "mailed", actor="system:mailroom")
    assert mailed.status == "mailed"


async def test_the_letters_page_renders(
    hub_client: Any, staff_token: Any, enable_plugin: Any, account: str
) -> None:
    import re

    await enable_plugin("correspondence", SECTION)
    await staff_token("lead", SECTION, name="page.lead", password="page-lead-password")
    page = await hub_client.get("/ui/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token
    await hub_client.post(
        "/ui/login",
        data={"name": "page.lead", "password": "page-lead-password", "_csrf_token": token.group(1)},
    )
    index = await hub_client.get("/ui/correspondence")
    assert index.status_code == 200 and "Send a letter" in index.text
    form_token = re.search(r'name="_csrf_token" value="([^"]+)"', index.text)
    assert form_token
    sent = await hub_client.post(
        "/ui/correspondence/letters",
        data={
            "_csrf_token": form_token.group(1),
            "template": "returned_mail_follow_up",
            "account_id": account,
            "field.returned_item_date": "2026-02-14",
            "idempotency_key": "form:page-test-1",
        },
    )
    # A letter carries the customer's name and address: without a contact or a reason it is refused.
    assert sent.status_code == 403, sent.text
    sent = await hub_client.post(
        "/ui/correspondence/letters",
        data={
            "_csrf_token": form_token.group(1),
            "template": "returned_mail_follow_up",
            "account_id": account,
            "field.returned_item_date": "2026-02-14",
            "idempotency_key": "form:page-test-1",
            "reason": "letter the customer asked for in writing",
        },
    )
    assert sent.status_code == 303, sent.text
    where = sent.headers["location"]
    assert re.fullmatch(r"/ui/correspondence/\?created=[0-9]+", where)
    letter_id = where.rsplit("=", 1)[1]
    listed = await hub_client.get(where)
    assert "Returned mail follow-up" in listed.text and 'id="created"' in listed.text
    assert f'href="/ui/correspondence/letters/{letter_id}.docx"' in listed.text
    # The document downloads with the web session (no API token).
    doc = await hub_client.get(f"/ui/correspondence/letters/{letter_id}.docx")
    assert doc.status_code == 200 and doc.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert "Mail we sent on February 14, 2026" in "\n".join(
        p.text for p in Document(io.BytesIO(doc.content)).paragraphs
    )
    assert (await hub_client.get("/ui/correspondence/letters/999999.docx")).status_code == 404
    assert (await hub_client.get(f"/ui/correspondence/letters/{letter_id}")).status_code == 404
    # Bad input comes back 422 with the field named and the form filled in again.
    for data, field in [
        ({"template": "returned_mail_follow_up", "account_id": "12345"}, "account_id"),
        ({"template": "returned_mail_follow_up", "account_id": account}, "fields.returned_item_date"),
        (
            {
                "template": "deposit_refund_approved",
                "account_id": account,
                "field.refund_amount": "a lot",
                "field.refund_method": "credited to your account",
                "field.refund_date": "2026-03-20",
            },
            "fields.refund_amount",
        ),
        ({"template": "apology", "account_id": account}, "template"),
    ]:
        bad = await hub_client.post(
            "/ui/correspondence/letters",
            data={
                "_csrf_token": form_token.group(1),
                **data,
                "reason": "letter the customer asked for in writing",
            },
        )
        assert bad.status_code == 422 and f"{field}: " in bad.text, (field, bad.text[-600:])
        if data["template"] == "deposit_refund_approved":
            assert (
                'value="a lot"' in bad.text
                and '<details data-template="deposit_refund_approved" open>' in bad.text
            )
    unknown = await hub_client.post(
        "/ui/correspondence/letters",
        data={
            "_csrf_token": form_token.group(1),
            "template": "returned_mail_follow_up",
            "account_id": "9999999999",
            "field.returned_item_date": "2026-02-14",
            "reason": "letter the customer asked for in writing",
        },
    )
    assert unknown.status_code == 404 and "account_id: no account 9999999999" in unknown.text
    # The page that comes back with the error carries a token its forms can post with.
    again = re.search(r'name="_csrf_token" value="([^"]+)"', unknown.text)
    assert again
    fixed = await hub_client.post(
        "/ui/correspondence/letters",
        data={
            "reason": "letter the customer asked for in writing",
            "_csrf_token": again.group(1),
            "template": "returned_mail_follow_up",
            "account_id": account,
            "field.returned_item_date": "2026-02-15",
        },
    )
    assert fixed.status_code == 303, fixed.text
    forged = await hub_client.post(
        "/ui/correspondence/letters", data={"template": "returned_mail_follow_up", "account_id": account}
    )
    assert forged.status_code == 403
