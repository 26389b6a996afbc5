"""Unit tests for payment-plan quotes (docs/rules.md §6.2, §6.3)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from core.ccb.payplan import (
    Installment,
    PayPlanError,
    add_months,
    due_dates,
    max_installments,
    quote,
    split_cents,
)


def test_even_split() -> None:
    # docs/rules.md §6.3 test: $1,200 over 12 -> $100/month.
    plan = quote(120000, 12, date(2024, 3, 15))
    assert [i.amount_cents for i in plan] == [10000] * 12
    assert plan[0] == Installment(date(2024, 3, 15), 10000)
    assert plan[-1].due_date == date(2025, 2, 15)


def test_remainder_goes_to_the_first_installments() -> None:
    # docs/rules.md §6.3 test: $1,000 over 12 -> 100000 = 12 x 8333 + 4, so 4 x $83.34 then 8 x $83.33.
    plan = quote(100000, 12, date(2024, 1, 10))
    assert [i.amount_cents for i in plan] == [8334] * 4 + [8333] * 8
    assert sum(i.amount_cents for i in plan) == 100000


@pytest.mark.parametrize("total", [12, 13, 99, 100, 101, 12345, 100001, 999999])
@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 11, 12])
def test_sum_exact_and_amounts_differ_by_at_most_one_cent(total: int, n: int) -> None:
    amounts = [i.amount_cents for i in quote(total, n, date(2024, 1, 1))]
    assert amounts == split_cents(total, n)
    assert sum(amounts) == total
    assert max(amounts) - min(amounts) <= 1
    assert amounts == sorted(amounts, reverse=True)  # the larger ones come first
    assert amounts.count(total // n + 1) == total % n  # exactly the remainder carries the extra cent


def test_single_installment() -> None:
    assert quote(5000, 1, date(2024, 6, 1)) == [Installment(date(2024, 6, 1), 5000)]


def test_month_end_clamping_keeps_the_anchor_day() -> None:
    # Jan 31 -> Feb 29 (2024 is a leap year) -> Mar 31 -> Apr 30: always from the anchor, no drift.
    assert due_dates(date(2024, 1, 31), 4) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]
    # Day 30 across a non-leap February and the year end.
    assert [i.due_date for i in quote(400, 4, date(2022, 11, 30))] == [
        date(2022, 11, 30),
        date(2022, 12, 30),
        date(2023, 1, 30),
        date(2023, 2, 28),
    ]
    assert add_months(date(2023, 1, 29), 1) == date(2023, 2, 28)
    assert add_months(date(2023, 3, 31), -1) == date(2023, 2, 28)


def test_other_cadences() -> None:
    assert due_dates(date(2024, 1, 5), 3, "biweekly") == [
        date(2024, 1, 5),
        date(2024, 1, 19),
        date(2024, 2, 2),
    ]
    assert due_dates(date(2024, 1, 5), 2, "weekly") == [date(2024, 1, 5), date(2024, 1, 12)]
    assert due_dates(date(2023, 12, 31), 2, "bimonthly") == [date(2023, 12, 31), date(2024, 2, 29)]


def test_twelve_month_limit_for_residential_plans() -> None:
    # PUC 10010 / HSC 116900 ff. (docs/rules.md §6.1-6.2): at most 12 months. 12 monthly payments fit, 13 do
    # not.
    assert len(quote(130000, 12, date(2024, 1, 31))) == 12
    with pytest.raises(PayPlanError) as err:
        quote(130000, 13, date(2024, 1, 31))
    assert err.value.field == "installments"
    assert "12 months" in err.value.message
    # The same limit in other cadences: 6 bimonthly, 26 biweekly, 52 weekly.
    assert max_installments(date(2024, 1, 1), "monthly") == 12
    assert max_installments(date(2024, 1, 1), "bimonthly") == 6
    assert max_installments(date(2024, 1, 1), "biweekly") == 26
    assert max_installments(date(2024, 1, 1), "weekly") == 52
    quote(10000, 26, date(2024, 1, 1), "biweekly")
    with pytest.raises(PayPlanError):
        quote(10000, 27, date(2024, 1, 1), "biweekly")
    with pytest.raises(PayPlanError):
        quote(10000, 7, date(2024, 1, 1), "bimonthly")


def test_longer_plan_needs_a_hardship_reason_or_a_non_residential_account() -> None:
    # docs/rules.md §6.3 rule 2: term > 12 only with a hardship reason recorded.
    assert len(quote(180000, 18, date(2024, 1, 1), hardship_reason="medical certification on file")) == 18
    with pytest.raises(PayPlanError):
        quote(180000, 18, date(2024, 1, 1), hardship_reason="   ")
    assert len(quote(180000, 18, date(2024, 1, 1), residential=False)) == 18


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"total_cents": 0}, "total_cents"),
        ({"total_cents": -500}, "total_cents"),
        ({"total_cents": 100.0}, "total_cents"),
        ({"total_cents": True}, "total_cents"),
        ({"installments": 0}, "installments"),
        ({"installments": 2.0}, "installments"),
        ({"total_cents": 3, "installments": 4}, "installments"),
        ({"first_due": datetime(2024, 5, 1, 9, 0)}, "first_due"),
        ({"today": date(2024, 5, 2)}, "first_due"),
        ({"cadence": "daily"}, "cadence"),
    ],
)
def test_validation_names_the_field(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"total_cents": 10000, "installments": 4, "first_due": date(2024, 5, 1)}
    args.update(kwargs)
    with pytest.raises(PayPlanError) as err:
        quote(**args)  # type: ignore[arg-type]
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")


def test_first_due_today_is_allowed() -> None:
    assert quote(300, 3, date(2024, 5, 1), today=date(2024, 5, 1))[0].amount_cents == 100
