"""Unit tests of the correspondence plugin's pure logic: templates, fields, filling, addresses, dates."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from docx import Document

from plugins.correspondence.rules import (
    FieldError,
    LetterStatus,
    TemplateError,
    address_lines,
    business_days_between,
    can_move,
    check_fields,
    fill,
    fill_subject,
    letter_date,
    load_templates,
    parse_template,
)
from plugins.correspondence.rules_docx import LetterContent, render_docx

TEMPLATES = load_templates()


def test_the_shipped_templates_load_and_cover_the_issue() -> None:
    assert {
        "deposit_refund_approved",
        "deposit_refund_denied",
        "claim_decision",
        "returned_mail_follow_up",
        "payment_plan_confirmation",
    } <= set(TEMPLATES)


def test_fields_are_checked_and_printed_by_kind() -> None:
    t = TEMPLATES["payment_plan_confirmation"]
    values = check_fields(
        t,
        {
            "plan_id": " PP-1 ",
            "plan_amount": 123456,
            "installments": 6,
            "installment_amount": 20576,
            "first_due_date": "2026-03-05",
        },
    )
    assert values["plan_amount"] == "$1,234.56" and values["first_due_date"] == "March 5, 2026"
    assert values["plan_id"] == "PP-1" and values["installments"] == "6"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"reason": "x", "review_date": "05/03/2026"}, "fields.review_date"),
        ({}, "fields.reason"),
        ({"reason": "   "}, "fields.reason"),
        ({"reason": "x", "colour": "red"}, "fields.colour"),
        ({"reason": 5}, "fields.reason"),
    ],
)
def test_bad_fields_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(FieldError) as err:
        check_fields(TEMPLATES["deposit_refund_denied"], fields)
    assert err.value.field == field


def test_money_and_choice_are_strict() -> None:
    t = TEMPLATES["claim_decision"]
    base = {"claim_number": "C-1", "decision": "denied", "explanation": "No damage found."}
    with pytest.raises(FieldError, match=r"fields\.decision"):
        check_fields(t, {**base, "decision": "maybe"})
    with pytest.raises(FieldError, match=r"fields\.amount"):
        check_fields(t, {**base, "amount": "12.50"})
    with pytest.raises(FieldError, match=r"fields\.amount"):
        check_fields(t, {**base, "amount": True})


def test_a_paragraph_with_a_missing_optional_value_is_left_out() -> None:
    t = TEMPLATES["claim_decision"]
    values = {"claim_number": "C-1", "decision": "denied", "explanation": "No damage.", "account_id": "1"}
    body = fill(t, values)
    assert not any("will be paid" in p for p in body)
    assert any("Your claim has been denied. No damage." in p for p in body)
    assert any("$10.00 will be paid" in p for p in fill(t, {**values, "amount": "$10.00"}))
    assert fill_subject(t, values) == "Decision on your claim C-1"


@pytest.mark.parametrize(
    "paragraph",
    [
        "Hello {customer.__class__}",
        "Hello {name[0]}",
        "Hello {account_id!r}",
        "Hello {account_id:>9}",
        "{nope}",
    ],
)
def test_malformed_templates_are_refused_at_load(paragraph: str) -> None:
    text = f'id = "bad_one"\ntitle = "Bad"\nsubject = "s"\nparagraphs = ["{paragraph}"]\n'
    with pytest.raises(TemplateError):
        parse_template(text)


def test_unknown_keys_in_a_template_file_are_refused() -> None:
    with pytest.raises(TemplateError):
        parse_template('id = "x1"\ntitle = "t"\nsubject = "s"\nparagraphs = ["p"]\nfooter = "?"\n')


def test_address_lines() -> None:
    assert address_lines("Ana  Ruiz", "12 Elm St", None, "Los Angeles", "ca", "90026") == [
        "Ana Ruiz",
        "12 Elm St",
        "Los Angeles, CA 90026",
    ]
    assert address_lines("Bo Li", "9 Oak Ave", "Apt 3", "Van Nuys", "CA", "91401-1234")[2:] == [
        "Apt 3",
        "Van Nuys, CA 91401-1234",
    ]


def test_the_letter_date_is_local_and_business_days_skip_weekends() -> None:
    late_evening = dt.datetime(2026, 3, 6, 5, 30, tzinfo=dt.UTC)  # Thursday 21:30 in Los Angeles
    assert letter_date(late_evening) == dt.date(2026, 3, 5)
    friday, monday, wednesday = dt.date(2026, 3, 6), dt.date(2026, 3, 9), dt.date(2026, 3, 11)
    assert business_days_between(friday, monday) == 1
    assert business_days_between(friday, wednesday) == 3
    assert business_days_between(wednesday, friday) == 0


def test_status_only_moves_forward() -> None:
    assert can_move("queued", LetterStatus.PRINTED) and can_move("printed", LetterStatus.MAILED)
    assert can_move("mailed", LetterStatus.MAILED)
    assert not can_move("mailed", LetterStatus.QUEUED)


def test_render_docx_has_letterhead_address_and_body() -> None:
    content = LetterContent(
        title="T",
        letterhead=["City Water & Power", "111 N Hope St"],
        date_line="March 5, 2026",
        address=["Ana Ruiz", "12 Elm St", "Los Angeles, CA 90026"],
        reference="Account 1234567890",
        subject="Subject",
        greeting="Dear Ana Ruiz:",
        body=["First paragraph."],
        closing="Sincerely,",
        signature=["Customer Service Division"],
        created_at=dt.datetime(2026, 3, 5, tzinfo=dt.UTC),
    )
    doc = Document(io.BytesIO(render_docx(content)))
    header = [p.text for p in doc.sections[0].header.paragraphs]
    text = [p.text for p in doc.paragraphs]
    assert header[:2] == ["City Water & Power", "111 N Hope St"]
    assert text[1:4] == content.address and "First paragraph." in text
