"""Solar plugin pure logic: net-metering arithmetic worked by hand, the callback SLA, FAQ matching."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import msgspec
import pytest

from core.ccb.rates import load_default_config
from plugins.solar.service import (
    DEFAULT_ANSWERS,
    LOCAL_TZ,
    NemPeriodInput,
    SolarConfig,
    callback_due,
    callback_overdue,
    match_answers,
    net_kwh,
    settle_chain,
    settle_period,
)

RATES = load_default_config()
# 30-day low-season periods inside the 2024 Jan-Mar prices (ccb-domain §2.2): zone 1 tier 1 = 350 kWh
# at 20.042¢/kWh, tier 2 at 25.901¢/kWh.
JAN = NemPeriodInput(dt.date(2024, 1, 1), dt.date(2024, 1, 31), delivered_kwh=900, received_kwh=400)
FEB = NemPeriodInput(dt.date(2024, 1, 31), dt.date(2024, 3, 1), delivered_kwh=300, received_kwh=420)
MAR = NemPeriodInput(dt.date(2024, 3, 1), dt.date(2024, 3, 31), delivered_kwh=500, received_kwh=200)


def test_net_is_delivered_minus_received() -> None:
    assert net_kwh(900, 400) == 500
    assert net_kwh(300, 420) == -120
    with pytest.raises(ValueError):
        net_kwh(-1, 0)


def test_positive_net_is_priced_through_the_tiers() -> None:
    r = settle_period(RATES, "1", JAN)
    # 500 net kWh: 350 in tier 1 + 150 in tier 2.
    assert (r.net_kwh, r.billed_kwh, r.credit_out_kwh) == (500, 500, 0)
    assert [str(q) for q in r.calculation.tier_quantities] == ["350.00", "150.00", "0.00"]
    # 350 x 0.20042 = 70.147 -> $70.15; 150 x 0.25901 = 38.8515 -> $38.85.
    assert r.energy_cents == 7015 + 3885
    assert r.total_cents == r.energy_cents + r.calculation.charges_cents


def test_negative_net_is_carried_forward_and_used_next_period() -> None:
    feb, mar = settle_chain(RATES, "1", [MAR, FEB])  # given out of order: settled by date
    assert (feb.net_kwh, feb.billed_kwh, feb.energy_cents, feb.credit_out_kwh) == (-120, 0, 0, 120)
    # The minimum/fixed charges remain: a credit never pays non-energy charges (ccb-domain §4.1).
    assert feb.total_cents == feb.calculation.charges_cents > 0
    # March: net 300, less the 120 kWh carried in = 180 kWh, all in tier 1: 180 x 0.20042 = $36.08.
    assert (mar.credit_in_kwh, mar.credit_used_kwh, mar.billed_kwh, mar.credit_out_kwh) == (120, 120, 180, 0)
    assert mar.energy_cents == 3608


def test_a_large_credit_outlasts_a_small_net() -> None:
    (r,) = settle_chain(RATES, "1", [JAN], opening_credit_kwh=800)
    assert (r.billed_kwh, r.credit_used_kwh, r.credit_out_kwh, r.energy_cents) == (0, 500, 300, 0)


def test_export_rate_credit_offsets_energy_charges_only() -> None:
    feb, mar = settle_chain(RATES, "1", [FEB, MAR], mode="export_rate", export_rate=Decimal("0.08"))
    assert feb.credit_out_cents == 960  # 120 kWh x $0.08
    # March: 300 kWh in tier 1 = 300 x 0.20042 = $60.13, less the $9.60 credit.
    assert (mar.billed_kwh, mar.credit_used_cents, mar.energy_cents) == (300, 960, 6013 - 960)
    assert mar.credit_out_cents == 0


def local(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=LOCAL_TZ)


def test_a_voicemail_is_due_one_business_day_later() -> None:
    # 2024-03-04 is a Monday.
    assert callback_due(local(2024, 3, 4)) == local(2024, 3, 5)
    assert callback_due(local(2024, 3, 8, 15)) == local(2024, 3, 11, 15)  # Friday -> Monday
    assert callback_due(local(2024, 3, 9, 11)) == local(2024, 3, 12, 0)  # Saturday -> end of Monday
    assert callback_due(local(2024, 3, 4), holidays=[dt.date(2024, 3, 5)]) == local(2024, 3, 6)
    left = local(2024, 3, 8, 15)
    assert not callback_overdue(left, None, local(2024, 3, 11, 14))
    assert callback_overdue(left, None, local(2024, 3, 11, 16))
    assert not callback_overdue(left, local(2024, 3, 11, 9), local(2024, 3, 20))


def test_faq_matching_finds_the_right_answer() -> None:
    best = match_answers("How much is the rebate for an EV charger?", DEFAULT_ANSWERS)
    assert best[0][0].id == "ev_rebate"
    assert match_answers("Can I still apply for a solar rebate?", DEFAULT_ANSWERS)[0][0].id == "sip_open"
    assert match_answers("what happens to my credits when I close", DEFAULT_ANSWERS)[0][0].id == "nem_credit"
    assert match_answers("kWh delivered and received?", DEFAULT_ANSWERS)[0][0].id == "nem_bill"
    assert match_answers("zzz qqq", DEFAULT_ANSWERS) == []
    assert len(match_answers("solar rebate charger ev credit", DEFAULT_ANSWERS, limit=2)) == 2


def test_config_defaults_work_and_unknown_fields_are_refused() -> None:
    cfg = msgspec.convert({}, SolarConfig)
    assert {p.id for p in cfg.programs} == {"solar_incentive", "net_metering", "charge_up_la"}
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"nope": 1}, SolarConfig)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"export_rate": "-1"}, SolarConfig)
