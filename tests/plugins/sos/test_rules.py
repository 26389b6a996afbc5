"""Serving Our Seniors rules on plain values: the hints, the program-services review, SOS numbers, the
business-day service level (weekends, holidays, daylight saving) and the referral e-mail."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from plugins.sos.rules import (
    LOCAL_TZ,
    ExtraContactLine,
    Reason,
    RouteTarget,
    SosConfig,
    add_business_days,
    all_routed,
    eligibility_hints,
    is_business_day,
    overdue,
    referral_mail,
    review,
    sos_number,
)


def local(y: int, m: int, d: int, h: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, minute, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize(
    ("senior", "mentions", "filed", "kinds"),
    [
        (True, ["isolation"], False, ["sos"]),
        (True, ["cannot_pay"], False, ["sos", "assistance"]),
        (True, [], False, []),
        (False, ["isolation"], False, []),
        (False, ["cannot_pay"], False, ["assistance"]),
        (True, ["cannot_pay", "isolation"], True, ["assistance"]),
    ],
)
def test_hints_follow_the_flags(senior: bool, mentions: list[str], filed: bool, kinds: list[str]) -> None:
    assert [h.kind for h in eligibility_hints(senior, mentions, filed)] == kinds


def test_the_assistance_hint_names_the_three_programs() -> None:
    (hint,) = eligibility_hints(False, ["cannot_pay"], False)
    assert all(name in hint.text for name in ("HEAP", "EZ-SAVE", "Lifeline"))


def test_review_splits_reasons_by_the_configured_services() -> None:
    config = SosConfig()
    r = review(["loneliness", "suspected_leak", "home_repair"], config)
    assert r.in_program == ("loneliness",) and r.acceptable
    assert dict(r.outside) == {"suspected_leak": "field_investigation", "home_repair": "handy_worker"}
    narrow = msgspec.convert({"program_services": ["well_being_check"]}, SosConfig)
    assert not review(["loneliness"], narrow).acceptable
    assert dict(review(["loneliness"], narrow).outside) == {"loneliness": "other_section"}


def test_a_referral_closes_as_routed_only_when_every_outside_need_is_routed() -> None:
    config = SosConfig()
    assert not all_routed(["suspected_leak", "home_repair"], ["suspected_leak"], config)
    assert all_routed(["suspected_leak", "home_repair"], ["home_repair", "suspected_leak"], config)
    assert not all_routed(["loneliness", "suspected_leak"], ["suspected_leak"], config)


def test_sos_numbers_use_the_local_year() -> None:
    # 07:30 UTC on Jan 1 is still Dec 31 in Los Angeles.
    assert sos_number(42, dt.datetime(2027, 1, 1, 7, 30, tzinfo=dt.UTC)) == "SOS-2026-00042"


def test_config_rejects_unknown_reasons_and_bad_addresses() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"program_services": ["bingo"]}, SosConfig)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"department_of_aging_email": "nobody"}, SosConfig)
    assert SosConfig().outside_routes[Reason.SUSPECTED_LEAK] is RouteTarget.FIELD_INVESTIGATION


def test_business_days_skip_weekends_and_holidays() -> None:
    assert not is_business_day(dt.date(2026, 12, 5))  # a Saturday
    friday = local(2026, 12, 4, 15)
    assert add_business_days(friday, 2) == local(2026, 12, 8, 15).astimezone(dt.UTC)  # Tuesday
    christmas = [dt.date(2026, 12, 25)]
    thursday = local(2026, 12, 24, 10)
    assert add_business_days(thursday, 2, christmas) == local(2026, 12, 29, 10).astimezone(dt.UTC)


def test_filed_on_a_weekend_the_clock_starts_on_monday() -> None:
    saturday = local(2026, 12, 5, 14)
    assert add_business_days(saturday, 2) == local(2026, 12, 9, 0).astimezone(dt.UTC)


def test_the_deadline_keeps_the_local_time_across_daylight_saving() -> None:
    # DST ends on Sunday Nov 1, 2026: Friday 9:00 PDT + 2 business days is Tuesday 9:00 PST.
    due = add_business_days(local(2026, 10, 30, 9), 2)
    assert due.astimezone(LOCAL_TZ).hour == 9 and due == dt.datetime(2026, 11, 3, 17, 0, tzinfo=dt.UTC)


def test_overdue_after_the_configured_business_days() -> None:
    config = msgspec.convert({"holidays": ["2026-12-07"]}, SosConfig)
    filed = local(2026, 12, 4, 9)  # Friday; Monday the 7th is a holiday here
    assert not overdue(filed, local(2026, 12, 9, 8, 59), config)
    assert overdue(filed, local(2026, 12, 9, 9, 1), config)


def test_the_referral_mail_carries_what_aging_needs_and_no_balance() -> None:
    subject, body = referral_mail(
        number="SOS-2026-00001",
        account_id="1234567890",
        customer_name="Rosa Diaz",
        service_address="100 Main St, Los Angeles 90012",
        contact_name="Rosa Diaz",
        contact_phone="213-555-0100",
        reasons=["loneliness"],
        details="Lives alone",
        consent_note="verbal",
        extra=[ExtraContactLine("Ana Diaz", "daughter", "213-555-0101", None)],
    )
    assert subject == "SOS referral SOS-2026-00001"
    assert "Ana Diaz (daughter), 213-555-0101" in body and "loneliness" in body and "agreed" in body
    assert "balance" not in body.lower()
