"""Solar plugin pure logic: a net-metered bill from the CCB put in words, the callback SLA, FAQ matching."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from core.ccb.port import NetMeteringCharge, NetMeteringPeriod, NetMeteringTierLine, NetMeteringView
from plugins.solar.rules import (
    CREDIT_RULE,
    DEFAULT_ANSWERS,
    LOCAL_TZ,
    PeriodNotBilled,
    SolarConfig,
    callback_due,
    callback_overdue,
    explain_net_metering,
    match_answers,
    pick_period,
)


def period(
    start: dt.date,
    end: dt.date,
    *,
    bill_id: str,
    delivered: tuple[int, int],
    received: tuple[int, int],
    credit_in: str = "0.00",
    credit_used: str = "0.00",
    billed: str = "0.00",
    credit_out: str = "0.00",
    tier_lines: tuple[NetMeteringTierLine, ...] = (),
    energy_cents: int = 0,
    charges: tuple[NetMeteringCharge, ...] = (),
    estimated: bool = False,
) -> NetMeteringPeriod:
    """A billed period as the CCB port gives it (figures worked out by hand in each test)."""
    d, r = delivered[1] - delivered[0], received[1] - received[0]
    charges_cents = sum(c.amount_cents for c in charges)
    return NetMeteringPeriod(
        bill_id=bill_id,
        bill_date=end + dt.timedelta(days=2),
        bill_segment_id="9" + bill_id[1:],
        period_start=start,
        period_end=end,
        days=(end - start).days,
        zone="1",
        estimated=estimated,
        delivered_start_reading=delivered[0],
        delivered_end_reading=delivered[1],
        received_start_reading=received[0],
        received_end_reading=received[1],
        delivered_kwh=f"{d}.00",
        received_kwh=f"{r}.00",
        net_kwh=f"{d - r}.00",
        credit_in_kwh=credit_in,
        credit_used_kwh=credit_used,
        billed_kwh=billed,
        credit_earned_kwh=f"{max(r - d, 0)}.00",
        credit_out_kwh=credit_out,
        credit_forfeited_kwh="0.00",
        tier_kwh=[billed, "0.00", "0.00"],
        tier_lines=list(tier_lines),
        charges=list(charges),
        energy_cents=energy_cents,
        charges_cents=charges_cents,
        amount_cents=energy_cents + charges_cents,
        lines=[],
    )


PAC = NetMeteringCharge(
    name="power_access_charge", description="Power Access Charge (tier 1)", amount_cents=460
)
MINIMUM = NetMeteringCharge(name="minimum_charge", description="Minimum charge top-up", amount_cents=1540)
# Jan 2 -> Mar 3 2025: 900 delivered, 1,300 received: net -400 kWh, a 400 kWh credit; only the minimum.
EXPORT = period(
    dt.date(2025, 1, 2),
    dt.date(2025, 3, 3),
    bill_id="100000000001",
    delivered=(0, 900),
    received=(0, 1300),
    credit_out="400.00",
    charges=(PAC, MINIMUM),
)
# Mar 3 -> May 2 2025: 1,000 delivered, 300 received: net 700 - 400 carried = 300 kWh in tier 1 at
# 19.645¢ = 58.935 -> $58.94, + the Power Access Charge $4.60 = $63.54.
IMPORT = period(
    dt.date(2025, 3, 3),
    dt.date(2025, 5, 2),
    bill_id="100000000002",
    delivered=(900, 1900),
    received=(1300, 1600),
    credit_in="400.00",
    credit_used="400.00",
    billed="300.00",
    tier_lines=(
        NetMeteringTierLine(
            start=dt.date(2025, 3, 3),
            end=dt.date(2025, 5, 2),
            season="low",
            tier=1,
            kwh="300.00",
            unit_price="0.19645",
            amount_cents=5894,
        ),
    ),
    energy_cents=5894,
    charges=(PAC,),
)
VIEW = NetMeteringView(
    account_id="1234567890",
    sa_id="2345678901",
    sa_type="E-NEM",
    sa_status="20",
    sa_status_label="active",
    rate_schedule="R-1A",
    zone="1",
    premise_id="3456789012",
    meter_id="4567890123",
    badge_number="E4567890123",
    credit_bank_kwh="0.00",
    periods=[IMPORT, EXPORT],
)


def test_a_bill_using_the_carried_credit_is_explained_in_plain_words() -> None:
    lines = explain_net_metering(VIEW, IMPORT)
    assert lines[0] == (
        "Bill 100000000002 of 2025-05-04: electricity from 2025-03-03 to 2025-05-01 (60 days, "
        "temperature zone 1, meter E4567890123)."
    )
    assert lines[1:] == [
        "Energy delivered to you by the utility: 1,000 kWh (delivered register 900 -> 1900).",
        "Energy your solar system sent to the grid (received): 300 kWh (received register 1300 -> 1600).",
        "Net: you used 700 kWh more than you sent.",
        "Solar credit carried in from your last bill: 400 kWh; 400 kWh of it was taken off your net.",
        "Net kWh charged through the tiers: 300 kWh.",
        "  Tier 1 (low season, 2025-03-03 to 2025-05-01): 300 kWh at 19.645¢/kWh = $58.94",
        "  Power Access Charge (tier 1): $4.60",
        "Energy charges $58.94 + other charges $4.60 = $63.54 before taxes.",
        "Solar credit carried forward to your next bill: 0 kWh.",
        CREDIT_RULE,
    ]


def test_an_export_bill_says_nothing_is_charged_for_energy_and_what_is_carried() -> None:
    lines = explain_net_metering(VIEW, msgspec.structs.replace(EXPORT, estimated=True))
    assert "Net: you sent 400 kWh more than you used, so no energy is charged." in lines
    assert "Net kWh charged through the tiers: 0 kWh." in lines
    assert "Energy charges $0.00 + other charges $20.00 = $20.00 before taxes." in lines
    assert "Solar credit earned on this bill: 400 kWh." in lines
    assert "Solar credit carried forward to your next bill: 400 kWh." in lines
    assert any("estimates" in line for line in lines)
    assert not any("carried in" in line for line in lines)


def test_a_period_is_picked_by_bill_month_start_date_or_bill_id() -> None:
    periods = VIEW.periods
    assert pick_period(periods, None) is IMPORT  # the latest bill
    assert pick_period(periods, "2025-03") is EXPORT  # bill of 2025-03-05
    assert pick_period(periods, "2025-03-03") is IMPORT  # the period starting then
    assert pick_period(periods, "100000000001") is EXPORT
    for junk in ("soon", "2025-13", "2025-02-30", "12345"):
        with pytest.raises(ValueError):
            pick_period(periods, junk)
    with pytest.raises(PeriodNotBilled):
        pick_period(periods, "2024-01")
    with pytest.raises(PeriodNotBilled):
        pick_period([], None)


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
        # The credit rule is the CCB's now (core.ccb.billing): the plugin no longer configures one.
        msgspec.convert({"credit_mode": "kwh"}, SolarConfig)
