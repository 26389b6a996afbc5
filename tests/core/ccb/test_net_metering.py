"""Net energy metering in the CCB's billing (docs/ccb-domain.md §4.1), worked by hand.

Prices are the default R-1A config (docs/ccb-domain.md §2.2): 2024 Jan-Mar low season T1 20.042¢, T2 25.901¢;
from April 2024 low T1 19.645¢, T2 25.504¢ and high T1 19.645¢, T2 25.504¢, T3 34.205¢. Zone 1 blocks are
350 / 700 kWh per 30 days. Power Access Charge $2.30 / $7.90 / $22.70 per 30 days by highest tier reached;
minimum charge $10 per 30 days. Every line rounds half up to the cent.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core.ccb.billing import (
    NetMetering,
    PricedSegment,
    net_metering_of,
    price_net_metered_segment,
    settle_net_metering,
)
from core.ccb.rates import RateError, load_default_config

RATES = load_default_config()
D = Decimal


def nem(
    start: dt.date,
    end: dt.date,
    delivered: tuple[int, int],
    received: tuple[int, int],
    credit: int | Decimal = 0,
    *,
    final: bool = False,
) -> tuple[PricedSegment, NetMetering]:
    seg = price_net_metered_segment(
        RATES,
        "1",
        start,
        end,
        delivered_readings=delivered,
        received_readings=received,
        register_digits=5,
        credit_in_kwh=credit,
        final=final,
    )
    assert seg.net_metering is not None
    return seg, seg.net_metering


def test_a_positive_net_crossing_a_tier_is_billed_through_the_tiers() -> None:
    # Jan 1 -> Jan 31 2024: 30 low-season days. Delivered 10,000 -> 10,900 = 900 kWh; received
    # 2,000 -> 2,400 = 400 kWh; net 500 kWh: 350 in tier 1 + 150 in tier 2.
    seg, n = nem(dt.date(2024, 1, 1), dt.date(2024, 1, 31), (10_000, 10_900), (2_000, 2_400))
    assert (n.delivered, n.received, n.net, n.billed, n.credit_out) == (D(900), D(400), D(500), D(500), D(0))
    assert seg.tier_quantities == ["350.00", "150.00", "0.00"]
    # 350 x 0.20042 = 70.147 -> $70.15; 150 x 0.25901 = 38.8515 -> $38.85; PAC tier 2 $7.90 x 30/30.
    calc = seg.calculation
    assert [line.amount_cents for line in calc.lines] == [7015, 3885]
    assert [c.amount_cents for c in calc.charges] == [790]
    assert seg.amount_cents == 7015 + 3885 + 790 == 11_690


def test_a_negative_net_is_a_kwh_credit_carried_forward_and_never_pays_the_minimum() -> None:
    # Jan 31 -> Mar 1 2024 (30 days): 300 delivered, 420 received: net -120 kWh.
    seg, n = nem(dt.date(2024, 1, 31), dt.date(2024, 3, 1), (10_900, 11_200), (2_400, 2_820))
    assert (n.net, n.billed, n.credit_earned, n.credit_out) == (D(-120), D(0), D(120), D(120))
    # No kWh billed: PAC tier 1 $2.30, topped up to the $10.00 minimum (+$7.70). The credit is kWh
    # for the next bills' energy: it does not pay the minimum (§4.1).
    calc = seg.calculation
    assert calc.lines == ()
    assert [(c.kind, c.amount_cents) for c in calc.charges] == [("fixed", 230), ("minimum", 770)]
    assert seg.amount_cents == 1000
    stored = seg.calc["net_metering"]
    assert (stored["net_kwh"], stored["credit_out_kwh"]) == ("-120.00", "120.00")
    assert net_metering_of(seg.calc) == n
    assert any("120 kWh more sent than used" in line for line in seg.calc["explain"])


def test_the_next_bill_takes_the_carried_credit_off_the_net_before_tiering() -> None:
    # Mar 1 -> Mar 31 2024 (30 days): 500 delivered, 200 received: net 300; the 120 kWh carried in
    # come off first, so 180 kWh are billed, all in tier 1: 180 x 0.20042 = 36.0756 -> $36.08.
    seg, n = nem(dt.date(2024, 3, 1), dt.date(2024, 3, 31), (11_200, 11_700), (2_820, 3_020), credit=120)
    assert (n.net, n.credit_in, n.credit_used, n.billed, n.credit_out) == (
        D(300),
        D(120),
        D(120),
        D(180),
        D(0),
    )
    assert seg.tier_quantities == ["180.00", "0.00", "0.00"]
    assert seg.amount_cents == 3608 + 230  # PAC tier 1 only
    assert (
        "Solar credit carried in: 120 kWh; 120 kWh of it taken off the net before tiering"
        in (seg.calc["explain"])
    )


def test_a_large_credit_outlasts_a_small_net() -> None:
    n = settle_net_metering(900, 400, 800)
    assert (n.net, n.credit_used, n.billed, n.credit_out) == (D(500), D(500), D(0), D(300))


def test_a_season_split_period_bills_the_net_like_the_reference_worked_example() -> None:
    # docs/ccb-domain.md §2.5's example on a net meter: May 15 -> Jul 15 2024 = 61 days (17 low + 44 high),
    # zone 1,
    # 1,900 delivered - 400 received = 1,500 kWh net. Usage by days: low 1500 x 17/61 = 418.03, high
    # 1,081.97. Tier 1: low 350 x 17/30 = 198.33, whole period 350 x 61/30 = 711.67 -> high 513.34.
    # Tier 2: low 700 x 17/30 = 396.67, whole 1,423.33 -> high 1,026.66. So low 198.33 + 219.70,
    # high 513.34 + 568.63 (tier 3 empty): T1 711.67, T2 788.33, as in the reference (711.7 / 788.3).
    seg, _ = nem(dt.date(2024, 5, 15), dt.date(2024, 7, 15), (98_000, 99_900), (500, 900))
    calc = seg.calculation
    assert seg.quantity == D("1500.00")
    assert [(line.season, line.tier, str(line.quantity)) for line in calc.lines] == [
        ("low", 1, "198.33"),
        ("low", 2, "219.70"),
        ("high", 1, "513.34"),
        ("high", 2, "568.63"),
    ]
    assert seg.tier_quantities == ["711.67", "788.33", "0.00"]
    # 198.33 x 0.19645 = 38.96; 219.70 x 0.25504 = 56.03; 513.34 x 0.19645 = 100.85;
    # 568.63 x 0.25504 = 145.02; PAC tier 2: $7.90 x 61/30 = 16.0633 -> $16.06.
    assert [line.amount_cents for line in calc.lines] == [3896, 5603, 10_085, 14_502]
    assert seg.amount_cents == 3896 + 5603 + 10_085 + 14_502 + 1606 == 35_692


def test_rolled_dials_and_a_final_bill_forfeiting_the_credit() -> None:
    # Received register rolls past 99,999: 99,900 -> 300 = 400 kWh.
    seg, n = nem(dt.date(2024, 4, 1), dt.date(2024, 5, 1), (500, 800), (99_900, 300), credit=50, final=True)
    assert (n.delivered, n.received, n.net) == (D(300), D(400), D(-100))
    assert (n.credit_out, n.credit_forfeited) == (D(0), D(150))  # 50 carried + 100 earned, forfeited
    assert seg.calc["net_metering"]["received_rolled_over"] is True
    assert any("forfeited on the final bill: 150 kWh" in line for line in seg.calc["explain"])


def test_settling_refuses_impossible_quantities() -> None:
    with pytest.raises(RateError):
        settle_net_metering(-1, 0)
    with pytest.raises(RateError):
        settle_net_metering(1, 0, Decimal("0.001"))
    assert net_metering_of({"schedule": "R-1A"}) is None
