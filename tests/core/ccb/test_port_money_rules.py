"""Pure money and identity rules behind the port: past due, oldest-debt-first distribution, keyed hashes."""

from __future__ import annotations

import datetime as dt

import pytest

from core.ccb.billing import (
    LedgerEntry,
    balance_cents,
    distribute_payment,
    due_date_for,
    local_date,
    local_day_end,
    local_time,
    open_items,
    past_due_cents,
)
from core.ccb.errors import Invalid
from core.ccb.identity import check_access_code, check_ssn_last4, identity_hash, matches, normalize_phone

D = dt.date
E, W = "1000000001", "1000000002"


def bs(ft: str, sa: str, cents: int, due: D | None) -> LedgerEntry:
    return LedgerEntry(ft, sa, "BS", cents, due)


def test_due_date_is_nineteen_days_after_the_bill() -> None:
    assert due_date_for(D(2025, 3, 5)) == D(2025, 3, 24)


def test_local_dates_follow_los_angeles_time() -> None:
    evening = dt.datetime(2025, 3, 6, 5, 30, tzinfo=dt.UTC)  # 9:30 pm on the 5th in Los Angeles
    assert local_date(evening) == D(2025, 3, 5)
    assert local_time(D(2025, 7, 1), 10) == dt.datetime(2025, 7, 1, 17, 0, tzinfo=dt.UTC)  # PDT
    assert local_day_end(D(2025, 1, 1)) == dt.datetime(2025, 1, 2, 8, 0, tzinfo=dt.UTC)  # PST


def test_past_due_is_the_balance_minus_charges_not_yet_due() -> None:
    ledger = [
        bs("a", E, 10_000, D(2025, 3, 24)),
        bs("b", W, 6_000, D(2025, 3, 24)),
        LedgerEntry("p", E, "PS", -4_000, None),
        bs("c", E, 8_000, D(2025, 5, 24)),
    ]
    assert balance_cents(ledger) == 20_000
    assert past_due_cents(ledger, D(2025, 3, 24)) == 0  # due today is not past due
    assert past_due_cents(ledger, D(2025, 3, 25)) == 12_000
    assert past_due_cents(ledger, D(2025, 5, 25)) == 20_000
    # An unbilled charge (no arrears date yet) is never past due; a canceled pair counts for nothing.
    more = [
        *ledger,
        LedgerEntry("adj", E, "AD", 500, None),
        LedgerEntry("x", E, "BS", 3_000, D(2025, 1, 1), canceled=True),
        LedgerEntry("bx", E, "BX", -3_000, D(2025, 1, 1)),
    ]
    assert past_due_cents(more, D(2025, 3, 25)) == 12_000
    # Credits beyond the debt: nothing is past due.
    assert past_due_cents([*ledger, LedgerEntry("q", E, "PS", -30_000, None)], D(2025, 6, 1)) == 0


def test_payments_pay_the_oldest_debt_first_across_sas() -> None:
    ledger = [
        bs("e1", E, 10_000, D(2025, 3, 24)),
        bs("w1", W, 6_000, D(2025, 3, 24)),
        bs("e2", E, 8_000, D(2025, 5, 24)),
        bs("w2", W, 5_000, D(2025, 5, 24)),
    ]
    assert distribute_payment(ledger, 12_000, [E, W]) == {E: 10_000, W: 2_000}
    assert distribute_payment(ledger, 12_000, [W, E]) == {W: 6_000, E: 6_000}  # tie broken by SA order
    # Earlier credits on an SA pay that SA's own oldest charges first.
    paid = [*ledger, LedgerEntry("p", E, "PS", -10_000, None)]
    assert [(i.ft_id, i.open_cents) for i in open_items(paid, [E, W])] == [
        ("w1", 6_000),
        ("e2", 8_000),
        ("w2", 5_000),
    ]
    assert distribute_payment(paid, 7_000, [E, W]) == {W: 6_000, E: 1_000}
    # Overpayment waits on the first SA; the split always adds up.
    split = distribute_payment(ledger, 30_000, [E, W])
    assert split == {E: 19_000, W: 11_000} and sum(split.values()) == 30_000
    with pytest.raises(ValueError):
        distribute_payment(ledger, 0, [E])


def test_identity_hashes_are_keyed_and_bound_to_person_and_factor() -> None:
    key = b"k" * 32
    stored = identity_hash(key, "ssn_last4", "1111111111", "1234")
    assert len(stored) == 64 and "1234" not in stored
    assert matches(key, "ssn_last4", "1111111111", "1234", stored)
    assert not matches(key, "ssn_last4", "2222222222", "1234", stored)  # another person's same digits
    assert not matches(key, "access_code", "1111111111", "1234", stored)
    assert not matches(b"j" * 32, "ssn_last4", "1111111111", "1234", stored)
    assert not matches(key, "ssn_last4", "1111111111", "1234", None)


def test_identity_factor_rules() -> None:
    assert check_access_code(" 482913 ") == "482913"
    for bad in ("12345", "123456", "777777", "12a456"):
        with pytest.raises(Invalid):
            check_access_code(bad)
    with pytest.raises(Invalid):
        check_access_code("550101", phone="(213) 555-0101")  # the phone number's last six digits
    with pytest.raises(Invalid):
        check_ssn_last4("123")
    assert normalize_phone("+1 (213) 555-0101") == "2135550101"
    with pytest.raises(Invalid):
        normalize_phone("555-0101")
