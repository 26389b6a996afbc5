"""Pure e-team rules: account numbers found in varied Contact Us mail, and business hours."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from plugins.eteam.rules import (
    LOCAL_TZ,
    EteamConfig,
    business_hours_between,
    ccb_note,
    extract_account_number,
    is_unanswered_too_long,
)
from simulators.customer_connect import generate_contact_us


def la(y: int, m: int, d: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_account_number_is_found_however_the_customer_wrote_it(seed: int) -> None:
    mails = generate_contact_us(300, seed, end=dt.datetime(2025, 11, 3, 20, tzinfo=dt.UTC))
    assert any(m.account_number for m in mails) and any(not m.account_number for m in mails)
    for m in mails:
        assert extract_account_number(m.subject, m.body) == m.account_number, m.body


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Account number: 123 456 7890", "1234567890"),
        ("acct #12345-67890 please", "1234567890"),
        ("my account is #1234567890.", "1234567890"),
        ("Call me at (213) 555-0123 or 818 555 0199x", None),
        ("Meter reads 12345, bill said 67890", None),
        ("Reference 12345678901 is not an account", None),
        ("", None),
    ],
)
def test_account_number_shapes(text: str, expected: str | None) -> None:
    assert extract_account_number(text) == expected


def test_labelled_number_wins_over_a_bare_one() -> None:
    assert extract_account_number("ticket 9999999999", "Account: 1111111111") == "1111111111"


def test_business_hours_count_weekdays_between_8_and_17_local() -> None:
    # Monday 2025-11-03.
    assert business_hours_between(la(2025, 11, 3, 9), la(2025, 11, 3, 12)) == 3
    assert business_hours_between(la(2025, 11, 3, 6), la(2025, 11, 3, 8)) == 0
    assert business_hours_between(la(2025, 11, 3, 16), la(2025, 11, 4, 9)) == 2
    # Friday evening to Monday 10: only Monday 8-10 counts.
    assert business_hours_between(la(2025, 10, 31, 18), la(2025, 11, 3, 10)) == 2
    # A whole week is five nine-hour days.
    assert business_hours_between(la(2025, 11, 3, 0), la(2025, 11, 10, 0)) == 45
    assert business_hours_between(la(2025, 11, 3, 12), la(2025, 11, 3, 9)) == 0
    assert business_hours_between(la(2025, 11, 3, 9), la(2025, 11, 3, 12), 10, 11) == 1


def test_business_hours_across_the_dst_change_and_in_utc() -> None:
    # Sunday 2025-11-02 ends daylight time; Monday counts its nine hours as usual.
    start = la(2025, 11, 1, 12).astimezone(dt.UTC)
    assert business_hours_between(start, la(2025, 11, 3, 17).astimezone(dt.UTC)) == 9
    with pytest.raises(ValueError):
        business_hours_between(dt.datetime(2025, 11, 3), la(2025, 11, 3, 9))


def test_unanswered_too_long_only_while_unresolved_and_unanswered() -> None:
    config = EteamConfig(base_url="http://cc", unanswered_business_hours=8)
    got = la(2025, 11, 3, 8, 30)
    assert not is_unanswered_too_long("unresolved", None, got, la(2025, 11, 3, 16, 30), config)
    assert is_unanswered_too_long("unresolved", None, got, la(2025, 11, 3, 16, 31), config)
    assert not is_unanswered_too_long("waiting", None, got, la(2025, 11, 4, 16), config)
    assert not is_unanswered_too_long("unresolved", got, got, la(2025, 11, 4, 16), config)


def test_config_defaults_and_strictness() -> None:
    config = msgspec.convert({}, EteamConfig)
    assert config.base_url is None and config.unanswered_business_hours == 8
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"nope": 1}, EteamConfig)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"business_start_hour": 17, "business_end_hour": 8}, EteamConfig)


def test_ccb_note_carries_the_reference_number() -> None:
    assert ccb_note("251103-000004", "phone", "Arranged a payment plan.").startswith(
        "Customer Connect 251103-000004: answered by phone."
    )
