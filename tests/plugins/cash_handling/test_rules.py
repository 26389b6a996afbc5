"""Pure rules of the cash window: denominations, change, the UV table, balancing, cards, custody, drop box."""

from __future__ import annotations

import datetime as dt

import pytest

from plugins.cash_handling.rules import (
    NOTES,
    CashConfig,
    CashError,
    NoteCheck,
    PenResult,
    SlipLine,
    SlipType,
    TenderType,
    balance,
    business_days_between,
    card_data_in,
    change_due,
    check_note,
    counts_match,
    custody_time,
    drawer_overdue,
    drawer_totals,
    expected_uv,
    looks_like_pan,
    masked_pan,
    money,
    parse_counts,
    receipt_number,
    reconcile,
    submission_overdue,
    total_of,
    window_cash,
)


def good(denomination: int, **changes: object) -> NoteCheck:
    fields: dict[str, object] = {
        "denomination": denomination,
        "uv_colour": expected_uv(denomination),
        "feel": True,
        "watermark": True,
        "colour_shift": True if denomination >= 1000 else None,
    }
    fields.update(changes)
    return NoteCheck(**fields)  # type: ignore[arg-type]


def test_counts_total_and_refusals() -> None:
    counts = parse_counts({"2000": 3, "500": 1, "25": 4}, (25, 500, 2000), "float_counts")
    assert total_of(counts) == 6600
    with pytest.raises(CashError) as bad:
        parse_counts({"300": 1}, NOTES, "note_counts")
    assert bad.value.problems[0][0] == "note_counts.300"
    with pytest.raises(CashError) as neg:
        parse_counts({"2000": -1}, NOTES, "note_counts")
    assert neg.value.problems[0][0] == "note_counts.2000"


def test_change_due() -> None:
    assert change_due(6000, 5321) == 679
    with pytest.raises(CashError):
        change_due(5000, 5321)


@pytest.mark.parametrize(
    ("note", "colour"),
    [
        (100, "none"),
        (200, "none"),
        (500, "blue"),
        (1000, "orange"),
        (2000, "green"),
        (5000, "yellow"),
        (10000, "pink"),
    ],
)
def test_uv_table_per_denomination(note: int, colour: str) -> None:
    assert expected_uv(note) == colour
    assert not check_note(0, good(note)).suspect
    wrong = "blue" if colour != "blue" else "green"
    verdict = check_note(0, good(note, uv_colour=wrong))
    assert verdict.suspect and f"expected {colour}" in verdict.reasons[0]


def test_pen_alone_never_decides_and_shift_is_required() -> None:
    verdict = check_note(0, good(2000, pen=PenResult.FAIL))
    assert not verdict.suspect and verdict.pen_only
    assert check_note(0, good(10000, colour_shift=False)).suspect
    with pytest.raises(CashError) as missing:
        check_note(2, good(2000, colour_shift=None))
    assert missing.value.problems[0][0] == "notes[2].colour_shift"
    with pytest.raises(CashError):
        check_note(0, good(300))


def test_counts_must_match_checked_notes() -> None:
    assert counts_match({2000: 2}, [good(2000), good(2000)]) == []
    assert counts_match({2000: 3}, [good(2000), good(2000)])[0][0] == "note_counts.2000"


def test_window_cash_seizes_suspects_and_checks_change() -> None:
    notes = [good(2000), good(2000), good(2000, watermark=False)]
    cash = window_cash(notes, 0, 3500, 500)
    assert (cash.received_cents, cash.seized_cents, cash.genuine_cents, cash.change_cents) == (
        6000,
        2000,
        4000,
        500,
    )
    with pytest.raises(CashError) as short:
        window_cash(notes, 0, 5000, 1000)
    assert short.value.problems[0][0] == "amount_cents"
    with pytest.raises(CashError) as change:
        window_cash(notes, 0, 3500, 400)
    assert change.value.problems[0][0] == "change_cents"


def test_balancing_to_the_cent() -> None:
    assert balance(20000, 5321, 25321).balanced
    short = balance(20000, 5321, 25320)
    assert short.over_under_cents == -1 and not short.balanced
    assert money(-1) == "-$0.01" and money(123456) == "$1,234.56"


def test_business_days_skip_weekends_and_holidays() -> None:
    friday = dt.date(2026, 12, 4)
    assert business_days_between(friday, dt.date(2026, 12, 7)) == 1  # Monday
    assert business_days_between(friday, dt.date(2026, 12, 9), [dt.date(2026, 12, 8)]) == 2
    assert not submission_overdue(friday, dt.date(2026, 12, 9), 3)
    assert submission_overdue(friday, dt.date(2026, 12, 10), 3)


def test_drawer_overdue_after_end_of_business() -> None:
    day = dt.date(2026, 12, 4)
    assert not drawer_overdue(day, dt.datetime(2026, 12, 4, 17, 0), "17:30")
    assert drawer_overdue(day, dt.datetime(2026, 12, 4, 17, 30), "17:30")
    assert drawer_overdue(day, dt.datetime(2026, 12, 5, 8, 0), "17:30")


def test_dropbox_reconciliation() -> None:
    slips = [
        SlipLine(5000, SlipType.CASH, True),
        SlipLine(12000, SlipType.CHECK, True),
        SlipLine(2500, SlipType.CASH, False),
    ]
    rec = reconcile(7500, slips)
    assert rec.counter_variance_cents == 0 and rec.unposted == 1 and not rec.reconciled
    done = reconcile(7500, [SlipLine(s.amount_cents, s.slip_type, True) for s in slips])
    assert done.reconciled and done.posted_cents == 19500
    assert reconcile(7000, slips).counter_variance_cents == -500
    assert receipt_number(dt.date(2026, 12, 4), 7) == "CR261204-000007"


def test_card_tenders_stay_out_of_the_drawer_count() -> None:
    """Cards settle with the processor: the drawer expects float + cash + checks only (docs/ccb-domain.md
    §1.9)."""
    totals = drawer_totals(
        20000, [("cash", 5321), ("card", 10000), ("check", 12345), ("card", 2500), ("cash", 79)]
    )
    assert (totals.cash_cents, totals.check_cents, totals.card_cents) == (5400, 12345, 12500)
    assert totals.expected_cents == 20000 + 5400 + 12345
    assert (totals.payments, totals.card_payments) == (5, 2)
    # The count of a drawer that took only cards is its float, to the cent.
    only_cards = drawer_totals(15000, [(TenderType.CARD, 9999)])
    assert only_cards.expected_cents == 15000 and balance(15000, 0, 15000).balanced
    assert drawer_totals(0, []).expected_cents == 0
    with pytest.raises(ValueError):
        drawer_totals(0, [("voucher", 1)])


def test_card_numbers_are_recognised_wherever_they_are_and_never_echoed() -> None:
    pan = "4111111111111111"
    for written in (pan, "4111 1111 1111 1111", "5500-0000-0000-0004"):
        assert looks_like_pan(written)
    assert not looks_like_pan("4111111111111112")  # fails Luhn
    assert not looks_like_pan("1111") and not looks_like_pan("AB12CD") and not looks_like_pan("0123456789")
    body = {
        "account_id": "0123456789",
        "card_last4": pan,
        "card_number": "whatever",
        "nested": [{"note": f"card {pan} declined"}],
        "cvv": "123",
        "amount_cents": 4111111111111111,
    }
    found = card_data_in(body)
    assert sorted(found) == ["amount_cents", "card_last4", "card_number", "cvv", "nested[0].note"]
    assert all(pan not in where for where in found)
    assert card_data_in({"card_last4": "1111", "authorization_code": "AB12CD", "terminal_id": 3}) == []
    assert masked_pan("1111") == "************1111"


def test_custody_time_keeps_the_chain_in_order() -> None:
    now = dt.datetime(2026, 12, 4, 20, 0, tzinfo=dt.UTC)
    seized = now - dt.timedelta(hours=2)
    assert custody_time(None, now, seized) == now
    earlier = now - dt.timedelta(minutes=30)
    assert custody_time(earlier, now, seized) == earlier
    for bad in (now + dt.timedelta(hours=1), seized - dt.timedelta(minutes=1), dt.datetime(2026, 12, 4, 19)):
        with pytest.raises(CashError) as refused:
            custody_time(bad, now, seized)
        assert refused.value.problems[0][0] == "at"


def test_card_terminal_site_is_a_site_code() -> None:
    import msgspec

    assert msgspec.convert({}, CashConfig).card_terminal_site == "MAIN"
    assert msgspec.convert({"card_terminal_site": "EAST-2"}, CashConfig).card_terminal_site == "EAST-2"
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"card_terminal_site": "east lobby"}, CashConfig)
