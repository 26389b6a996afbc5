"""Unit tests for the tiered rate engine: hand-worked R-1A electric and Schedule A water bills."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from core.ccb.rates import (
    RateConfig,
    RateError,
    calculate,
    calculate_electric,
    calculate_water,
    format_cents,
    load_default_config,
    lot_size_class,
    parse_config,
    price_tier_split,
    prorated_tier_limits,
    round_half_up,
    season_of,
    to_cents,
    to_quantity,
)

D = Decimal


@pytest.fixture(scope="module")
def config() -> RateConfig:
    return load_default_config()


def amounts(calc: object) -> list[tuple[int, str, int]]:
    return [(line.tier, str(line.quantity), line.amount_cents) for line in calc.lines]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------------
# Rounding helpers


def test_round_half_up_not_half_even() -> None:
    # 94.285 -> 94.29 half up (half even would give 94.28).
    assert round_half_up(D("94.285"), D("0.01")) == D("94.29")
    assert round_half_up(D("94.275"), D("0.01")) == D("94.28")
    assert round_half_up(D("-2.5"), D("1")) == D("-3")  # halves go away from zero
    assert round_half_up(Fraction(2135, 3)) == D("711.67")  # 350 x 61 / 30 = 711.666...
    assert to_cents(D("65.9995")) == 6600
    assert to_cents(Fraction(1, 200)) == 1  # half a cent rounds up


def test_to_quantity_is_strict() -> None:
    assert to_quantity(1500) == D("1500.00")
    assert to_quantity(D("12.5")) == D("12.50")
    for bad in (1.5, True, D("-1"), D("1.005"), D("NaN")):
        with pytest.raises(RateError):
            to_quantity(bad)  # type: ignore[arg-type]


def test_format_cents() -> None:
    assert format_cents(5915) == "$59.15"
    assert format_cents(123456789) == "$1,234,567.89"
    assert format_cents(-7) == "-$0.07"


# ---------------------------------------------------------------------------------------------------
# Electric, single season


def test_zone1_30_days_two_tiers(config: RateConfig) -> None:
    # 2023-01-01 -> 2023-01-31 = 30 days, low season, "2023 Jan-Mar" prices 0.18857 / 0.24716.
    # Limits 350 x 30/30 = 350, 700 x 30/30 = 700. 500 kWh -> 350 in T1, 150 in T2.
    # T1 350 x 0.18857 = 65.9995 -> $66.00; T2 150 x 0.24716 = 37.074 -> $37.07.
    # Power Access Charge, tier 2: $7.90 x 30/30 = $7.90. Total 66.00 + 37.07 + 7.90 = $110.97.
    calc = calculate_electric(config, 1, date(2023, 1, 1), date(2023, 1, 31), 500)
    assert calc.days == 30
    assert calc.tier_limits == (D("350.00"), D("700.00"))
    assert amounts(calc) == [(1, "350.00", 6600), (2, "150.00", 3707)]
    assert [(c.name, c.amount_cents) for c in calc.charges] == [("power_access_charge", 790)]
    assert calc.highest_tier == 2
    assert (calc.usage_cents, calc.charges_cents, calc.total_cents) == (10307, 790, 11097)


def test_zone2_has_bigger_blocks_and_rounds_half_up(config: RateConfig) -> None:
    # Same 500 kWh in Zone 2: T1 limit 500 x 30/30 = 500, so everything is tier 1.
    # 500 x 0.18857 = 94.285 -> $94.29 (half up). PAC tier 1 $2.30. Total $96.59.
    calc = calculate_electric(config, "2", date(2023, 1, 1), date(2023, 1, 31), 500)
    assert calc.tier_limits == (D("500.00"), D("1000.00"))
    assert amounts(calc) == [(1, "500.00", 9429)]
    assert calc.highest_tier == 1
    assert calc.total_cents == 9659


def test_one_day_period(config: RateConfig) -> None:
    # 2023-02-10 -> 2023-02-11 = 1 day. Limits 350/30 = 11.666 -> 11.67, 700/30 = 23.333 -> 23.33.
    # 20 kWh: T1 11.67 x 0.18857 = 2.2006 -> $2.20; T2 8.33 x 0.24716 = 2.0588 -> $2.06.
    # PAC tier 2: 790 x 1/30 = 26.33 -> 26 cents. Minimum $10 x 1/30 = 33 cents: not reached.
    calc = calculate_electric(config, 1, date(2023, 2, 10), date(2023, 2, 11), 20)
    assert calc.days == 1
    assert calc.tier_limits == (D("11.67"), D("23.33"))
    assert amounts(calc) == [(1, "11.67", 220), (2, "8.33", 206)]
    assert [c.amount_cents for c in calc.charges] == [26]
    assert calc.total_cents == 452


def test_62_day_period_reaches_tier_3(config: RateConfig) -> None:
    # 2023-10-01 -> 2023-12-02 = 31 + 30 + 1 = 62 days, all "2023 Oct-Dec", low season.
    # Limits 350 x 62/30 = 723.333 -> 723.33; 700 x 62/30 = 1446.667 -> 1446.67.
    # 2,500 kWh: T3 = 2500 - 723.33 - 1446.67 = 330.00.
    # T1 723.33 x 0.20644 = 149.3242 -> $149.32; T2 1446.67 x 0.26503 = 383.4110 -> $383.41;
    # T3 330 x 0.26503 = 87.4599 -> $87.46 (low season: T3 price = T2 price).
    # PAC tier 3: $22.70 x 62/30 = 46.9133 -> $46.91. Total 149.32 + 383.41 + 87.46 + 46.91 = $667.10.
    calc = calculate_electric(config, 1, date(2023, 10, 1), date(2023, 12, 2), 2500)
    assert calc.days == 62
    assert calc.tier_limits == (D("723.33"), D("1446.67"))
    assert amounts(calc) == [(1, "723.33", 14932), (2, "1446.67", 38341), (3, "330.00", 8746)]
    assert [c.amount_cents for c in calc.charges] == [4691]
    assert calc.total_cents == 66710


def test_high_season_tier_3_costs_more_than_low_season(config: RateConfig) -> None:
    # 60 days, 2,500 kWh, Zone 1: limits 700 / 1400, so T1 700, T2 1400, T3 400.
    # High (2023-07-01 -> 08-30, "Jul-Sep" 0.20782/0.26641/0.35342):
    #   700 x 0.20782 = 145.474 -> 145.47; 1400 x 0.26641 = 372.974 -> 372.97;
    #   400 x 0.35342 = 141.368 -> 141.37
    #   + PAC 22.70 x 2 = 45.40 -> $705.21
    # Low (2023-01-01 -> 03-02, "Jan-Mar" 0.18857/0.24716/0.24716):
    #   700 x 0.18857 = 131.999 -> 132.00; 1400 x 0.24716 = 346.024 -> 346.02; 400 x 0.24716 = 98.864 -> 98.86
    #   + 45.40 -> $622.28
    high = calculate_electric(config, 1, date(2023, 7, 1), date(2023, 8, 30), 2500)
    low = calculate_electric(config, 1, date(2023, 1, 1), date(2023, 3, 2), 2500)
    assert amounts(high) == [(1, "700.00", 14547), (2, "1400.00", 37297), (3, "400.00", 14137)]
    assert amounts(low) == [(1, "700.00", 13200), (2, "1400.00", 34602), (3, "400.00", 9886)]
    assert (high.total_cents, low.total_cents) == (70521, 62228)
    assert high.sub_periods[0].season == "high" and low.sub_periods[0].season == "low"


def test_minimum_charge_tops_up(config: RateConfig) -> None:
    # 10 kWh in 30 days: 10 x 0.18857 = 1.8857 -> $1.89; PAC tier 1 $2.30; 4.19 < $10 minimum
    # -> top-up $5.81 so the bill is exactly $10.00 (docs/ccb-domain.md §2.2).
    calc = calculate_electric(config, 1, date(2023, 1, 1), date(2023, 1, 31), 10)
    assert [(c.kind, c.amount_cents) for c in calc.charges] == [("fixed", 230), ("minimum", 581)]
    assert calc.total_cents == 1000
    # No usage at all: PAC tier 1 $2.30 + top-up $7.70.
    empty = calculate_electric(config, 1, date(2023, 1, 1), date(2023, 1, 31), 0)
    assert empty.lines == () and empty.highest_tier == 1
    assert [c.amount_cents for c in empty.charges] == [230, 770]
    assert empty.total_cents == 1000


# ---------------------------------------------------------------------------------------------------
# Electric, periods split by season and by price period


def test_reference_worked_example_season_split(config: RateConfig) -> None:
    # docs/ccb-domain.md §2.5: Zone 1, May 15 -> July 15 2023 = 61 days, 1,500 kWh, 17 low + 44 high days.
    # Prices also change on July 1 ("Jun" -> "Jul-Sep"), so three parts: 17 + 30 + 14 days.
    # Usage by days (cumulative rounding): 1500x17/61 = 418.03; 1500x47/61 = 1155.74 -> 737.71; rest 344.26.
    # T1 limits: 350x17/30 = 198.33; 350x47/30 = 548.33 -> 350.00; 350x61/30 = 711.67 -> 163.34.
    # T2 limits: 700x17/30 = 396.67; 700x47/30 = 1096.67 -> 700.00; 700x61/30 = 1423.33 -> 326.66.
    # Part 1 (low, Apr-May prices): 198.33 x 0.18957 = 37.5974 -> 37.60; 219.70 x 0.24816 = 54.5208 -> 54.52
    # Part 2 (high, Jun prices):    350 x 0.18957 = 66.3495 -> 66.35; 387.71 x 0.24816 = 96.2141 -> 96.21
    # Part 3 (high, Jul-Sep):       163.34 x 0.20782 = 33.9453 -> 33.95; 180.92 x 0.26641 = 48.1989 -> 48.20
    # Usage $336.83; PAC tier 2: 7.90 x 61/30 = 16.0633 -> $16.06; total $352.89.
    calc = calculate_electric(config, 1, date(2023, 5, 15), date(2023, 7, 15), 1500)
    assert calc.days == 61
    assert [(sp.days, sp.season) for sp in calc.sub_periods] == [(17, "low"), (30, "high"), (14, "high")]
    assert [sp.quantity for sp in calc.sub_periods] == [D("418.03"), D("737.71"), D("344.26")]
    assert [sp.tier_limits for sp in calc.sub_periods] == [
        (D("198.33"), D("396.67")),
        (D("350.00"), D("700.00")),
        (D("163.34"), D("326.66")),
    ]
    assert amounts(calc) == [
        (1, "198.33", 3760),
        (2, "219.70", 5452),
        (1, "350.00", 6635),
        (2, "387.71", 9621),
        (1, "163.34", 3395),
        (2, "180.92", 4820),
    ]
    # The reference's totals: T1 711.7 (= 350 x 61/30), T2 788.3, T3 0; u = 24.59 kWh/day -> tier 2.
    assert calc.tier_limits == (D("711.67"), D("1423.33"))
    assert calc.tier_quantities == (D("711.67"), D("788.33"), D("0.00"))
    assert calc.daily_average == D("24.59")
    assert calc.highest_tier == 2
    assert calc.usage_cents == 33683
    assert [c.amount_cents for c in calc.charges] == [1606]
    assert calc.total_cents == 35289
    assert sum(sp.quantity for sp in calc.sub_periods) == D("1500.00")


def test_price_change_inside_period_splits_lines(config: RateConfig) -> None:
    # 2023-03-17 -> 2023-04-16 = 15 days at "Jan-Mar" + 15 days at "Apr-May" (both low season), 300 kWh.
    # Usage 150 / 150; T1 limits 350 x 15/30 = 175 each, so all tier 1.
    # 150 x 0.18857 = 28.2855 -> $28.29; 150 x 0.18957 = 28.4355 -> $28.44. PAC $2.30. Total $59.03.
    calc = calculate_electric(config, 1, date(2023, 3, 17), date(2023, 4, 16), 300)
    assert [(sp.price_label, sp.days) for sp in calc.sub_periods] == [
        ("2023 Jan-Mar", 15),
        ("2023 Apr-May", 15),
    ]
    assert amounts(calc) == [(1, "150.00", 2829), (1, "150.00", 2844)]
    assert calc.total_cents == 5903


def test_zone_difference_on_a_season_split(config: RateConfig) -> None:
    # Same 61-day bill in Zone 2: T1 500 x 61/30 = 1016.67, so 1,500 kWh = 1016.67 T1 + 483.33 T2.
    calc = calculate_electric(config, 2, date(2023, 5, 15), date(2023, 7, 15), 1500)
    assert calc.tier_limits == (D("1016.67"), D("2033.33"))
    assert calc.tier_quantities == (D("1016.67"), D("483.33"), D("0.00"))


def test_prorated_limits_helper(config: RateConfig) -> None:
    schedule = config.schedule("R-1A")
    # 350 x 61/30 = 711.67 and 700 x 61/30 = 1423.33, whatever the season split.
    assert prorated_tier_limits(schedule, 1, date(2023, 5, 15), date(2023, 7, 15)) == (
        D("711.67"),
        D("1423.33"),
    )


def test_open_ended_last_price_period_is_carried_forward(config: RateConfig) -> None:
    # The reference stops at June 2024; the last period stays in force, so 2025 prices are 2024's.
    # 2025-01-01 -> 2025-01-31, 100 kWh: 100 x 0.19645 = $19.645 -> $19.65; PAC $2.30; minimum $10 met.
    calc = calculate_electric(config, 1, date(2025, 1, 1), date(2025, 1, 31), 100)
    assert amounts(calc) == [(1, "100.00", 1965)]
    assert calc.total_cents == 2195


def test_explain_reads_in_plain_words(config: RateConfig) -> None:
    calc = calculate_electric(config, 1, date(2023, 1, 1), date(2023, 1, 31), 500)
    assert calc.explain() == (
        "2023-01-01 to 2023-01-30 (30 days, low season, 500.00 kWh):",
        "  tier 1: first 350 kWh at 18.857¢/kWh = $66.00",
        "  tier 2: next 150 kWh at 24.716¢/kWh = $37.07",
        "Power Access Charge (tier 2): $7.90 per 30 days x 30 days = $7.90",
        "Total before taxes: $110.97",
    )


# ---------------------------------------------------------------------------------------------------
# Water (Schedule A, illustrative figures)


def test_water_schedule_is_marked_illustrative(config: RateConfig) -> None:
    assert config.schedule("A").illustrative is True
    assert config.schedule("R-1A").illustrative is False


def test_lot_size_classes(config: RateConfig) -> None:
    schedule = config.schedule("A")
    # docs/ccb-domain.md §2.3: <7,500; 7,500-10,999; 11,000-17,499; 17,500-43,559; >43,559.
    assert lot_size_class(schedule, 7499) == "under-7500"
    assert lot_size_class(schedule, 7500) == "7500-10999"
    assert lot_size_class(schedule, 17499) == "11000-17499"
    assert lot_size_class(schedule, 43559) == "17500-43559"
    assert lot_size_class(schedule, 43560) == "over-43559"
    with pytest.raises(RateError):
        lot_size_class(schedule, -1)


def test_water_summer_four_tiers(config: RateConfig) -> None:
    # 2024-07-01 -> 2024-08-30 = 60 days, summer, high zone, 8,000 sq ft: blocks 16 / 24 / 17 HCF per 60 days.
    # 50 HCF -> 16 + 24 + 10. Prices (2024 Jul-): 16 x 7.10 = 113.60; 24 x 8.62 = 206.88; 10 x 9.93 = 99.30.
    calc = calculate_water(config, "high", 8000, date(2024, 7, 1), date(2024, 8, 30), 50)
    assert calc.unit == "HCF" and calc.illustrative
    assert amounts(calc) == [(1, "16.00", 11360), (2, "24.00", 20688), (3, "10.00", 9930)]
    assert calc.charges == ()
    assert calc.total_cents == 41978


def test_water_temperature_zone_matters_in_summer_only(config: RateConfig) -> None:
    # Summer, low zone, 8,000 sq ft: blocks 16 / 18 / 13 -> 50 HCF = 16 + 18 + 13 + 3 (tier 4).
    low_summer = calculate_water(config, "low", 8000, date(2024, 7, 1), date(2024, 8, 30), 50)
    assert low_summer.tier_quantities == (D("16.00"), D("18.00"), D("13.00"), D("3.00"))
    # Winter (2024-11-01 -> 12-31 = 60 days): one block set for every zone, 16 / 12 / 9.
    # 50 HCF = 16 + 12 + 9 + 13: 113.60 + 103.44 + 89.37 + 13 x 13.11 = 170.43 -> $476.84.
    high_winter = calculate_water(config, "high", 8000, date(2024, 11, 1), date(2024, 12, 31), 50)
    low_winter = calculate_water(config, "low", 8000, date(2024, 11, 1), date(2024, 12, 31), 50)
    assert high_winter.tier_quantities == (D("16.00"), D("12.00"), D("9.00"), D("13.00"))
    assert high_winter.total_cents == low_winter.total_cents == 47684


def test_water_season_split_uses_daily_average(config: RateConfig) -> None:
    # 2024-09-01 -> 2024-10-31 = 30 summer + 30 winter days, high zone, 5,000 sq ft, 40 HCF -> 20 / 20.
    # Summer blocks 16/16/12 per 60 days -> 8 / 8 / 6 for 30 days; winter 16/8/6 -> 8 / 4 / 3.
    # Summer part 20 = 8 + 8 + 4; winter part 20 = 8 + 4 + 3 + 5: the customer reaches tier 4 in the
    # winter part while staying in tier 3 in the summer part (docs/ccb-domain.md §2.3).
    # $: 56.80 + 68.96 + 39.72 | 56.80 + 34.48 + 29.79 + 65.55 = $352.10.
    calc = calculate_water(config, "high", 5000, date(2024, 9, 1), date(2024, 10, 31), 40)
    assert [(sp.season, sp.days, sp.quantity) for sp in calc.sub_periods] == [
        ("summer", 30, D("20.00")),
        ("winter", 30, D("20.00")),
    ]
    assert calc.sub_periods[1].tier_limits == (D("8.00"), D("4.00"), D("3.00"))
    assert calc.tier_quantities == (D("16.00"), D("12.00"), D("7.00"), D("5.00"))
    assert calc.total_cents == 35210


# ---------------------------------------------------------------------------------------------------
# Re-pricing a given split


def test_price_tier_split_spreads_tiers_by_days(config: RateConfig) -> None:
    # A 60-day bill 2023-03-02 -> 05-01 (30 days Jan-Mar + 30 days Apr-May) billed as 350 / 700 / 150.
    # Each tier splits 50/50: 175/175, 350/350, 75/75.
    # 175 x 0.18857 = 32.99975 -> 33.00; 350 x 0.24716 = 86.506 -> 86.51; 75 x 0.24716 = 18.537 -> 18.54;
    # 175 x 0.18957 = 33.17475 -> 33.17; 350 x 0.24816 = 86.856 -> 86.86; 75 x 0.24816 = 18.612 -> 18.61.
    # Usage $276.69; PAC tier 3 22.70 x 60/30 = $45.40; total $322.09.
    schedule = config.schedule("R-1A")
    calc = price_tier_split(schedule, 1, date(2023, 3, 2), date(2023, 5, 1), [350, 700, 150])
    assert amounts(calc) == [
        (1, "175.00", 3300),
        (2, "350.00", 8651),
        (3, "75.00", 1854),
        (1, "175.00", 3317),
        (2, "350.00", 8686),
        (3, "75.00", 1861),
    ]
    assert calc.total_cents == 32209


# ---------------------------------------------------------------------------------------------------
# Validation


def test_bad_requests_are_rejected(config: RateConfig) -> None:
    start, end = date(2023, 1, 1), date(2023, 1, 31)
    with pytest.raises(RateError):
        calculate_electric(config, 1, start, start, 10)  # zero days
    with pytest.raises(RateError):
        calculate_electric(config, 1, end, start, 10)  # reversed
    with pytest.raises(RateError):
        calculate_electric(config, 3, start, end, 10)  # no zone 3
    with pytest.raises(RateError):
        calculate_electric(config, 1, start, end, 10.5)  # type: ignore[arg-type]
    with pytest.raises(RateError):
        calculate_electric(config, 1, datetime(2023, 1, 1), end, 10)
    with pytest.raises(RateError):
        calculate_electric(config, 1, date(2022, 12, 1), date(2022, 12, 31), 10)  # no prices in 2022
    with pytest.raises(RateError):
        calculate(config.schedule("A"), "high", date(2024, 7, 1), date(2024, 8, 30), 5)  # lot size missing
    with pytest.raises(RateError):
        calculate(config.schedule("R-1A"), 1, start, end, 5, lot_size="under-7500")


def test_season_of_wraps_around_new_year(config: RateConfig) -> None:
    schedule = config.schedule("R-1A")
    assert season_of(schedule, date(2023, 5, 31)) == "low"
    assert season_of(schedule, date(2023, 6, 1)) == "high"
    assert season_of(schedule, date(2023, 9, 30)) == "high"
    assert season_of(schedule, date(2023, 10, 1)) == "low"
    assert season_of(schedule, date(2024, 1, 1)) == "low"


_MINIMAL = """
[[schedules]]
code = "X"
title = "test"
service = "electric"
unit = "kWh"
source = "test"
illustrative = true
basis_days = 30
tiers = 2
zones = ["1"]
[[schedules.seasons]]
name = "all"
start_month = 1
start_day = 1
[[schedules.tier_blocks]]
blocks = ["100"]
[[schedules.price_periods]]
label = "p1"
source_year = 2024
effective_from = 2024-01-01
effective_to = 2024-06-30
prices.all = ["0.10", "0.20"]
[[schedules.price_periods]]
label = "p2"
source_year = 2024
effective_from = 2024-07-01
prices.all = ["0.30", "0.40"]
"""


def test_minimal_config_parses_and_prices() -> None:
    config = parse_config('electric_schedule = "X"\nwater_schedule = "X"\n' + _MINIMAL)
    # 2024-06-16 -> 2024-07-16: 15 days at p1 + 15 days at p2; 300 kWh -> 150 / 150; limits 50 / 50.
    # p1: 50 x 0.10 = 5.00, 100 x 0.20 = 20.00; p2: 50 x 0.30 = 15.00, 100 x 0.40 = 40.00. Total $80.00.
    calc = calculate_electric(config, "1", date(2024, 6, 16), date(2024, 7, 16), 300)
    assert amounts(calc) == [(1, "50.00", 500), (2, "100.00", 2000), (1, "50.00", 1500), (2, "100.00", 4000)]
    assert calc.total_cents == 8000


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("effective_to = 2024-06-30", "effective_to = 2024-07-01"),  # overlapping price periods
        ('blocks = ["100"]', 'blocks = ["100", "200"]'),  # wrong number of blocks for 2 tiers
        ('prices.all = ["0.10", "0.20"]', 'prices.none = ["0.10", "0.20"]'),  # unknown season
        ("start_month = 1\nstart_day = 1\n", "start_month = 2\nstart_day = 30\n"),  # no Feb 30
        ("tiers = 2", "tiers = 2\ntiers = 3"),  # TOML syntax error (duplicate key)
        ("effective_to = 2024-06-30\n", ""),  # open-ended period followed by another
        ("tiers = 2", "tiers = 2\nbogus = 1"),  # unknown field
    ],
)
def test_invalid_configs_are_rejected(old: str, new: str) -> None:
    text = 'electric_schedule = "X"\nwater_schedule = "X"\n' + _MINIMAL.replace(old, new, 1)
    with pytest.raises(RateError):
        parse_config(text)


def test_config_without_a_matching_tier_block_is_rejected() -> None:
    text = 'electric_schedule = "X"\nwater_schedule = "X"\n' + _MINIMAL.replace(
        'zones = ["1"]', 'zones = ["1", "2"]'
    ).replace("[[schedules.tier_blocks]]\n", '[[schedules.tier_blocks]]\nzone = "1"\n')
    with pytest.raises(RateError, match="exactly one"):
        parse_config(text)
