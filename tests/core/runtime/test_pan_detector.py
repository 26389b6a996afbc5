"""The one card-number detector (docs/rules.md §1.5): every written form of a PAN, and what is not one."""

from __future__ import annotations

import pytest

from core.redact import contains_pan, find_pans, luhn_valid, mask_pan, redact

# Luhn-valid test numbers of the main brands and lengths.
VISA = "4111111111111111"
MASTERCARD = "5555555555554444"
AMEX = "378282246310005"
VISA13 = "4222222222222"
MAESTRO19 = "6759649826438453003"
LONG19 = "4111111111111111110"


def grouped(pan: str, sep: str, size: int = 4) -> str:
    return sep.join(pan[i : i + size] for i in range(0, len(pan), size))


SEPARATORS = [" ", "  ", "   ", ".", "-", "/", "_", " - ", " / ", "-.", "\t", "\u00a0", "\u2013"]


@pytest.mark.parametrize("sep", SEPARATORS)
@pytest.mark.parametrize("pan", [VISA, MASTERCARD, AMEX, VISA13, LONG19])
def test_a_pan_is_found_whatever_stands_between_its_groups(pan: str, sep: str) -> None:
    assert luhn_valid(pan)
    written = grouped(pan, sep)
    text = f"caller read {written} twice"
    spans = find_pans(text)
    assert len(spans) == 1
    start, end = spans[0]
    assert text[start:end] == written
    assert contains_pan(text)


@pytest.mark.parametrize(
    "written",
    [
        "4111-1111.1111 1111",  # mixed separators
        "4111 1111_1111/1111",
        "3782 822463 10005",  # Amex 4-6-5
        "3782-822463-10005",
        "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",  # read out digit by digit
        "41111111 11111111",
        VISA,
        MAESTRO19,
    ],
)
def test_usual_and_unusual_groupings_are_found(written: str) -> None:
    assert find_pans(written) == [(0, len(written))]


@pytest.mark.parametrize(
    "text",
    [
        "call 213-555-1234 or 213.555.1234 or (213) 555 1234",  # phone numbers: 10 digits
        "1-213-555-1234",  # 11 digits with the country code
        "213-555-1234 2026-12-06",  # a phone then a date: 18 digits in a row, Luhn-valid, no card
        "213 555 1234 2026",
        "account 1234567890 premise 9876543210",  # CCB ids are 10 digits
        "bill 123456789012 of $45.10",  # 12-digit bill id
        "acct 1234567890 2026",  # an id and a year: Luhn-valid 14 digits, no card
        "1234567890 1234567890",  # two ids: 20 digits
        "on 2026-12-06 at 22:30:39.123456",  # dates and times are short
        "12/06/2026 10.50 20.00 30.25",
        "4111111111111112",  # 16 digits failing Luhn: an account-like number, not a PAN
        "4111-1111-1111-1112",
        "sha256 deadbeef4111111111111111abcdef",  # inside a hex digest
        "sent at 1765060239123 ms",  # an epoch-millisecond stamp: Luhn-valid, but no card starts with 1
        "<20261206223038.12345@mail.example>",  # a compact timestamp in a Message-ID: Luhn-valid too
        "7992 7398 7130 0008",  # Luhn-valid, 16 digits, but a petroleum-industry number, not a PCI card
        "digest 9f8e7d4111111111111111",  # glued to a word holding digits: a hash or a code
        "id 4111111111111111x9",
        "",
    ],
)
def test_what_is_not_a_pan_is_left_alone(text: str) -> None:
    assert find_pans(text) == []
    assert redact(text) == text


@pytest.mark.parametrize(
    "text", ["VISA4111111111111111", "paid with card4111-1111-1111-1111", "4111111111111111exp"]
)
def test_a_pan_glued_to_a_plain_word_is_still_a_pan(text: str) -> None:
    assert contains_pan(text) and "1111 1111" not in redact(text) and "[card ****1111]" in redact(text)


def test_a_pan_next_to_other_numbers_is_masked_exactly() -> None:
    assert redact("4111 1111 1111 1111 12/25") == "[card ****1111] 12/25"
    assert redact("213-555-1234 4111 1111 1111 1111") == "213-555-1234 [card ****1111]"
    # A Luhn-valid prefix overlapping the card cannot leave its last digits in clear.
    masked = redact("ref 12 4111 1111 1111 1111 ok")
    assert "1111 1111" not in masked and masked.endswith("[card ****1111] ok")
    two = find_pans(f"{VISA} and {grouped(MASTERCARD, '.')}")
    assert len(two) == 2


@pytest.mark.parametrize("sep", SEPARATORS)
def test_each_separator_form_is_redacted_to_the_last_four(sep: str) -> None:
    text = f"card {grouped(VISA, sep)} exp 12/25"
    assert redact(text) == "card [card ****1111] exp 12/25"


def test_mask_keeps_the_last_four_digits_only() -> None:
    assert mask_pan("4111 - 1111 - 1111 - 1234") == "[card ****1234]"


def test_luhn() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert all(luhn_valid(p) for p in (VISA, MASTERCARD, AMEX, VISA13, MAESTRO19, LONG19))


def test_ccb_identifiers_are_not_card_numbers() -> None:
    # A 14-digit field activity id that passes Luhn and starts like a 2-series card (found by a test run):
    # no brand issues 14 digits there, so it stays as written.
    fa_id = "26805787638370"
    assert luhn_valid(fa_id)
    assert find_pans(f"field activity {fa_id} canceled") == []
    # A Diners Club number has 14 digits and is still a card.
    assert find_pans("card 3056 930902 5904") != []
