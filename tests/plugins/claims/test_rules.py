"""Pure rules of the claims plugin: coverage, grant limits, the business-day SLA clock and its pauses."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from plugins.claims.rules import (
    DAY_SECONDS,
    LOCAL_TZ,
    ClaimsConfig,
    GrantError,
    business_seconds,
    check_grant,
    credit_service,
    dollars_to_cents,
    is_overdue,
    letter_decision,
    review,
    sla_elapsed,
    sniff,
)

CONFIG = ClaimsConfig()


def local(y: int, m: int, d: int, h: int = 9) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=LOCAL_TZ)


def test_coverage_rules_record_a_reason() -> None:
    water = review("water_lost", CONFIG)
    assert water.covered and water.adjustment_type == "LEAK_CREDIT" and "leak" in water.reason
    lawn = review("lawn_landscaping", CONFIG)
    assert not lawn.covered and "landscaping" in lawn.reason and lawn.adjustment_type is None
    unknown = review("spaceship", CONFIG)
    assert not unknown.covered and "no coverage rule" in unknown.reason


def test_the_credit_lands_on_the_loss_or_incident_service() -> None:
    assert credit_service("water_lost", "electric_outage", CONFIG) == "water"
    assert credit_service("service_not_received", "electric_outage", CONFIG) == "electric"
    assert credit_service("service_not_received", "water_outage", CONFIG) == "water"


def test_config_is_strict_and_works_empty() -> None:
    assert isinstance(msgspec.convert({}, ClaimsConfig), ClaimsConfig)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"sla_business_days": 0}, ClaimsConfig)
    custom = msgspec.convert(
        {"coverage": {"lawn_landscaping": {"label": "Lawn", "covered": True, "reason": "Board decision"}}},
        ClaimsConfig,
    )
    assert review("lawn_landscaping", custom).covered


@pytest.mark.parametrize(
    ("amount", "field"),
    [(0, "amount_cents"), (-500, "amount_cents"), (10_001, "amount_cents")],
)
def test_grants_are_positive_and_within_the_claim(amount: int, field: str) -> None:
    with pytest.raises(GrantError) as err:
        check_grant(amount, 10_000, review("water_lost", CONFIG))
    assert err.value.field == field


def test_an_uncovered_loss_cannot_be_granted() -> None:
    with pytest.raises(GrantError) as err:
        check_grant(100, 10_000, review("lawn_landscaping", CONFIG))
    assert err.value.field == "loss"
    check_grant(10_000, 10_000, review("water_lost", CONFIG))  # the full amount is fine
    assert letter_decision(10_000, 10_000) == "approved"
    assert letter_decision(4_000, 10_000) == "partially approved"


def test_business_seconds_skip_weekends_and_holidays() -> None:
    friday, monday = local(2026, 3, 6), local(2026, 3, 9)
    # Friday 09:00-24:00 and Monday 00:00-09:00: the weekend does not count.
    assert business_seconds(friday, monday) == DAY_SECONDS
    assert business_seconds(monday, friday) == 0
    assert business_seconds(friday, monday, [dt.date(2026, 3, 6)]) == 9 * 3600
    # Across the spring-forward Sunday (8 March 2026), a business day is still 24 hours.
    assert business_seconds(local(2026, 3, 6, 0), local(2026, 3, 10, 0)) == 2 * DAY_SECONDS


def test_the_sla_clock_pauses_while_waiting_for_information() -> None:
    filed = local(2026, 3, 2)  # a Monday
    now = local(2026, 3, 16)  # two weeks later: ten business days
    assert sla_elapsed(filed, now, paused_seconds=0, paused_since=None) == 10 * DAY_SECONDS
    # Paused since Wednesday the 4th: only Monday and Tuesday count.
    assert sla_elapsed(filed, now, paused_seconds=0, paused_since=local(2026, 3, 4)) == 2 * DAY_SECONDS
    # A closed pause of three business days is left out as well.
    assert sla_elapsed(filed, now, paused_seconds=3 * DAY_SECONDS, paused_since=None) == 7 * DAY_SECONDS

    def overdue(status: str, at: dt.datetime, paused_since: dt.datetime | None = None) -> bool:
        return is_overdue(status, filed, at, paused_seconds=0, paused_since=paused_since, config=CONFIG)

    assert not overdue("open", now)  # exactly ten business days is not beyond
    assert overdue("open", now + dt.timedelta(seconds=1))
    assert not overdue("granted", now + dt.timedelta(days=30))
    assert not overdue("info_requested", now + dt.timedelta(days=60), paused_since=local(2026, 3, 3))


def test_documents_are_recognised_by_their_bytes() -> None:
    assert sniff(b"%PDF-1.7\n") == "application/pdf"
    assert sniff(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert sniff(b"MZ\x90\x00 an executable") is None


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("125", 12_500),
        ("125.00", 12_500),
        ("90.5", 9_050),
        ("$1,090.05", 109_005),
        (" 0.01 ", 1),
        ("-1.00", -100),
        ("", ""),
        ("ninety", "ninety"),
        ("1.005", "1.005"),
        ("1e3", "1e3"),
    ],
)
def test_typed_dollars_become_cents_or_stay_text_for_the_schema_to_refuse(
    typed: str, cents: int | str
) -> None:
    assert dollars_to_cents(typed) == cents
