"""Redaction of card numbers and SSNs (docs/rules.md §1.5, §4.3)."""

from __future__ import annotations

import pytest

from core.redact import contains_sensitive, luhn_valid, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111 1111 1111 1111 exp 12/25", "card [card ****1111] exp 12/25"),
        ("4111111111111111 1225", "[card ****1111] 1225"),
        ("amex 3782-822463-10005 ok", "amex [card ****0005] ok"),
        ("visa13 4222222222222", "visa13 [card ****2222]"),
        # Every separator a red-team note used between groups (issue 13).
        ("card 4111  1111  1111  1111 ok", "card [card ****1111] ok"),
        ("card 4111.1111.1111.1111 ok", "card [card ****1111] ok"),
        ("card 4111_1111_1111_1111 ok", "card [card ****1111] ok"),
        ("card 4111/1111/1111/1111 ok", "card [card ****1111] ok"),
        ("card 4111 - 1111 - 1111 - 1111 ok", "card [card ****1111] ok"),
        ("card 5555-5555.5555 4444 ok", "card [card ****4444] ok"),
        ("ssn 123-45-6789 on file", "ssn [ssn ***-**-6789] on file"),
        ("SSN: 123456789", "SSN: [ssn ***-**-6789]"),
        ("social security number 987654321", "social security number [ssn ***-**-4321]"),
    ],
)
def test_sensitive_numbers_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert contains_sensitive(text)


@pytest.mark.parametrize(
    "text",
    [
        "account 1234567890 premise 9876543210",  # CCB ids are 10 digits: never cards
        "4111111111111112",  # fails Luhn
        "call 213 555 1234 tomorrow",
        "bill 123456789012 of $45.10",  # 12-digit bill id, not Luhn-valid
        "call 213-555-1234 on 2026-12-06",  # phone and date: short groups, never a card
        "4111.1111.1111.1112",  # fails Luhn whatever the separators
        "",
    ],
)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert redact(text) == text


def test_luhn() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
