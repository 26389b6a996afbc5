"""Pure billing arithmetic shared by the mock service and the synthetic-data generator.

Pricing a bill segment from two reads, the due date, the local business date of a timestamp, and the
two account-level money rules the hub defines on top of the reference (documented here once):

* **Past due** (as of a day): the part of the balance that is not made of charges still waiting for
  their due date. Charges are frozen, not canceled, positive bill-segment (``BS``) and adjustment (``AD``)
  FTs; a charge is "not yet due" while its arrears date (the due date of the bill it appeared on, the FT's
  ``ARS_DT`` of docs/ccb-domain.md §1.1) is unknown (not billed yet) or not yet passed. So
  ``past_due = max(0, balance - not_yet_due_charges)``: every credit (payment, credit adjustment) is
  taken to pay the oldest debt first, which is the same rule as the distribution below. A charge becomes
  past due the day after its due date; LADWP's 8-day grace (§1.17) only delays the late fee, not this.
* **Payment distribution**: oldest debt first across the account's SAs. Each SA's open charges are found
  by applying the SA's own earlier credits to its charges in arrears-date order; the open items of all
  SAs are then paid in arrears-date order (unbilled charges last, ties in the caller's SA order). What is
  left after every open item is paid (an overpayment or a prepayment) goes to the first SA in the
  caller's order, where it waits as a credit for the next bill.
* **Net energy metering** (docs/ccb-domain.md §4.1 "Net energy metering"): a net meter has a delivered
register
  (kWh from the utility) and a received register (kWh the customer's system sent to the grid); the period's
  net = delivered - received. The reference says excess credits "roll to future bills but cannot offset
  taxes, minimum or non-energy charges" and that "leftover credit is forfeited on closing"; it does not say
  whether the credit is kept in kWh or in dollars. The mock keeps a **kWh bank**: a negative net adds
  -net kWh to the bank; on the next bill the bank is taken off a positive net *before tiering* (so it
  offsets the dearest kWh the customer would otherwise pay, and only ever energy: the Power Access Charge
  and the minimum charge are still billed in full). The bank rolls from bill to bill for as long as the SA
  bills, with no annual true-up (none is in the reference); on the final bill whatever is left is
  forfeited. Each net-metered bill segment records delivered, received, net, the credit carried in, used,
  earned and carried out, so every bill can be explained, and the next bill reads its bank from there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from core.ccb.rates import (
    QTY_QUANTUM,
    BillCalculation,
    RateConfig,
    calculate_electric,
    calculate_water,
    format_quantity,
    to_quantity,
)
from core.ccb.reads import DialConsumption, Register, dial_consumption
from core.clock import LOCAL_TZ

__all__ = [
    "CHARGE_FT_TYPES",
    "DUE_DAYS",
    "LedgerEntry",
    "NetMetering",
    "OpenItem",
    "PricedSegment",
    "balance_cents",
    "calculation_json",
    "distribute_payment",
    "due_date_for",
    "local_date",
    "local_day_end",
    "local_time",
    "net_metering_lines",
    "net_metering_of",
    "not_yet_due_cents",
    "open_items",
    "past_due_cents",
    "price_net_metered_segment",
    "price_segment",
    "settle_net_metering",
]

# LADWP bills are due 19 days after issue (docs/ccb-domain.md §1.17 [S]); §1.7 gives CCB's bill a due date but
# no term, and §2.4 only the bimonthly cadence. The 8-day grace of §1.17 delays the late fee, not the
# due date.
DUE_DAYS = 19

CHARGE_FT_TYPES = frozenset({"BS", "AD"})


def due_date_for(bill_date: dt.date) -> dt.date:
    return bill_date + dt.timedelta(days=DUE_DAYS)


def local_date(when: dt.datetime) -> dt.date:
    """The utility's business date (America/Los_Angeles) of a UTC timestamp."""
    return when.astimezone(LOCAL_TZ).date()


def local_time(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A wall-clock time on ``day`` in the utility's zone, as UTC."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TZ).astimezone(dt.UTC)


def local_day_end(day: dt.date) -> dt.datetime:
    """The first instant after ``day`` in the utility's zone, as UTC (an exclusive upper bound)."""
    nxt = day + dt.timedelta(days=1)
    return dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=LOCAL_TZ).astimezone(dt.UTC)


# ---------------------------------------------------------------------------------------------------
# Pricing one bill segment


@dataclass(frozen=True)
class PricedSegment:
    """A segment priced from its start and end readings by the rate engine.

    For a net-metered segment ``quantity`` is the kWh billed through the tiers and ``net_metering`` holds
    the two registers' figures and the credit (also stored in ``calc["net_metering"]``).
    """

    calculation: BillCalculation
    quantity: Decimal
    rolled_over: bool
    amount_cents: int
    tier_quantities: list[str]
    calc: dict[str, Any]
    net_metering: NetMetering | None = None


def price_segment(
    config: RateConfig,
    service: Literal["electric", "water"],
    zone: str,
    lot_size_sqft: int,
    start: dt.date,
    end: dt.date,
    start_reading: int,
    end_reading: int,
    register_digits: int,
) -> PricedSegment:
    """Consumption between two subtractive readings (§1.4) priced for [start, end) (§2.5).

    The segment amount is the rate engine's total (usage + fixed charges + minimum top-up, before taxes),
    so a bill segment always equals ``rates.calculate`` for the same reads.
    """
    used = dial_consumption(start_reading, end_reading, Register(digits=register_digits))
    if service == "electric":
        calc = calculate_electric(config, zone, start, end, used.quantity)
    else:
        calc = calculate_water(config, zone, lot_size_sqft, start, end, used.quantity)
    return PricedSegment(
        calculation=calc,
        quantity=calc.quantity,
        rolled_over=used.rolled_over,
        amount_cents=calc.total_cents,
        tier_quantities=[str(q) for q in calc.tier_quantities],
        calc=calculation_json(calc, rolled_over=used.rolled_over),
    )


# ---------------------------------------------------------------------------------------------------
# Net energy metering (rule in the module docstring)


@dataclass(frozen=True)
class NetMetering:
    """One net-metered period settled; quantities in kWh, rounded to 0.01 like every metered quantity."""

    delivered: Decimal  # register 1: from the utility to the customer
    received: Decimal  # register 2: from the customer's system to the grid
    net: Decimal  # delivered - received; negative when more was sent than used
    credit_in: Decimal  # kWh bank carried in from the previous bill
    credit_used: Decimal  # part of the bank taken off a positive net before tiering
    billed: Decimal  # kWh priced through the tiers: max(net, 0) - credit_used
    credit_earned: Decimal  # kWh sent beyond use this period: max(-net, 0)
    credit_out: Decimal  # bank carried forward to the next bill
    credit_forfeited: Decimal  # bank left when the SA is final-billed (§4.1: forfeited on closing)


def settle_net_metering(
    delivered: int | Decimal,
    received: int | Decimal,
    credit_in: int | Decimal = 0,
    *,
    final: bool = False,
) -> NetMetering:
    """Net kWh and the kWh bank for one period (docs/ccb-domain.md §4.1; the rule is in the module
    docstring)."""
    d = to_quantity(delivered, "delivered kWh")
    r = to_quantity(received, "received kWh")
    bank = to_quantity(credit_in, "credit carried in")
    net = d - r
    used = min(max(net, Decimal(0)), bank)
    billed = max(net, Decimal(0)) - used
    earned = max(-net, Decimal(0))
    out = bank - used + earned
    forfeited = Decimal(0)
    if final:
        forfeited, out = out, Decimal(0)
    q = QTY_QUANTUM
    return NetMetering(
        delivered=d,
        received=r,
        net=net.quantize(q),
        credit_in=bank,
        credit_used=used.quantize(q),
        billed=billed.quantize(q),
        credit_earned=earned.quantize(q),
        credit_out=out.quantize(q),
        credit_forfeited=forfeited.quantize(q),
    )


def price_net_metered_segment(
    config: RateConfig,
    zone: str,
    start: dt.date,
    end: dt.date,
    *,
    delivered_readings: tuple[int, int],
    received_readings: tuple[int, int],
    register_digits: int,
    credit_in_kwh: int | Decimal = 0,
    final: bool = False,
) -> PricedSegment:
    """A net-metered electric segment for [start, end): both registers' consumption (§1.4), the net
    and the kWh bank (§4.1), and the billed kWh priced on the electric schedule like any other kWh
    (30-day tier proration and season split, §2.5)."""
    register = Register(digits=register_digits)
    delivered = dial_consumption(*delivered_readings, register)
    received = dial_consumption(*received_readings, register)
    nem = settle_net_metering(delivered.quantity, received.quantity, credit_in_kwh, final=final)
    calc = calculate_electric(config, zone, start, end, nem.billed)
    stored = calculation_json(calc, rolled_over=delivered.rolled_over)
    stored["net_metering"] = _net_metering_json(
        nem, delivered_readings, received_readings, delivered, received
    )
    stored["explain"] = [*net_metering_lines(stored["net_metering"]), *stored["explain"]]
    return PricedSegment(
        calculation=calc,
        quantity=calc.quantity,
        rolled_over=delivered.rolled_over,
        amount_cents=calc.total_cents,
        tier_quantities=[str(q) for q in calc.tier_quantities],
        calc=stored,
        net_metering=nem,
    )


def _net_metering_json(
    nem: NetMetering,
    delivered_readings: tuple[int, int],
    received_readings: tuple[int, int],
    delivered: DialConsumption,
    received: DialConsumption,
) -> dict[str, Any]:
    return {
        "delivered_start_reading": delivered_readings[0],
        "delivered_end_reading": delivered_readings[1],
        "delivered_rolled_over": delivered.rolled_over,
        "received_start_reading": received_readings[0],
        "received_end_reading": received_readings[1],
        "received_rolled_over": received.rolled_over,
        "delivered_kwh": str(nem.delivered),
        "received_kwh": str(nem.received),
        "net_kwh": str(nem.net),
        "credit_in_kwh": str(nem.credit_in),
        "credit_used_kwh": str(nem.credit_used),
        "billed_kwh": str(nem.billed),
        "credit_earned_kwh": str(nem.credit_earned),
        "credit_out_kwh": str(nem.credit_out),
        "credit_forfeited_kwh": str(nem.credit_forfeited),
    }


def net_metering_of(calc: dict[str, Any] | None) -> NetMetering | None:
    """The settled figures stored on a net-metered segment's calculation, or None for any other segment."""
    block = (calc or {}).get("net_metering")
    if not block:
        return None
    return NetMetering(
        delivered=Decimal(block["delivered_kwh"]),
        received=Decimal(block["received_kwh"]),
        net=Decimal(block["net_kwh"]),
        credit_in=Decimal(block["credit_in_kwh"]),
        credit_used=Decimal(block["credit_used_kwh"]),
        billed=Decimal(block["billed_kwh"]),
        credit_earned=Decimal(block["credit_earned_kwh"]),
        credit_out=Decimal(block["credit_out_kwh"]),
        credit_forfeited=Decimal(block["credit_forfeited_kwh"]),
    )


def net_metering_lines(block: dict[str, Any]) -> list[str]:
    """The registers, the net and the credit in plain words (what the bill prints above the tier lines)."""

    def kwh(key: str) -> str:
        return f"{format_quantity(Decimal(block[key]))} kWh"

    def dials(flow: str) -> str:
        rolled = " (the dials rolled over)" if block[f"{flow}_rolled_over"] else ""
        return f"{block[f'{flow}_start_reading']} -> {block[f'{flow}_end_reading']}{rolled}"

    net = Decimal(block["net_kwh"])
    lines = [
        f"kWh delivered (from the utility): register {dials('delivered')} = {kwh('delivered_kwh')}",
        f"kWh received (sent to the grid): register {dials('received')} = {kwh('received_kwh')}",
    ]
    if net > 0:
        lines.append(f"Net: {kwh('delivered_kwh')} - {kwh('received_kwh')} = {kwh('net_kwh')} used")
    elif net < 0:
        lines.append(
            f"Net: {kwh('delivered_kwh')} - {kwh('received_kwh')} = {format_quantity(net)} kWh: "
            f"{format_quantity(-net)} kWh more sent than used"
        )
    else:
        lines.append("Net: 0 kWh (as much sent as used)")
    if Decimal(block["credit_in_kwh"]):
        used = Decimal(block["credit_used_kwh"])
        taken = f"{kwh('credit_used_kwh')} of it taken off the net before tiering" if used else "none needed"
        lines.append(f"Solar credit carried in: {kwh('credit_in_kwh')}; {taken}")
    lines.append(f"Net kWh billed through the tiers: {kwh('billed_kwh')}")
    if Decimal(block["credit_earned_kwh"]):
        lines.append(f"Solar credit earned this period: {kwh('credit_earned_kwh')}")
    lines.append(f"Solar credit carried forward to the next bill: {kwh('credit_out_kwh')}")
    if Decimal(block["credit_forfeited_kwh"]):
        lines.append(f"Solar credit forfeited on the final bill: {kwh('credit_forfeited_kwh')}")
    return lines


def calculation_json(calc: BillCalculation, *, rolled_over: bool = False) -> dict[str, Any]:
    """The calculation as stored on the segment: what was billed stays explainable without re-pricing."""
    return {
        "schedule": calc.schedule_code,
        "service": calc.service,
        "unit": calc.unit,
        "illustrative": calc.illustrative,
        "zone": calc.zone,
        "lot_size": calc.lot_size,
        "start": calc.start.isoformat(),
        "end": calc.end.isoformat(),
        "days": calc.days,
        "quantity": str(calc.quantity),
        "daily_average": str(calc.daily_average),
        "rolled_over": rolled_over,
        "tier_limits": [str(x) for x in calc.tier_limits],
        "tier_quantities": [str(x) for x in calc.tier_quantities],
        "highest_tier": calc.highest_tier,
        "lines": [
            {
                "start": line.start.isoformat(),
                "end": line.end.isoformat(),
                "season": line.season,
                "tier": line.tier,
                "quantity": str(line.quantity),
                "unit_price": str(line.unit_price),
                "amount_cents": line.amount_cents,
            }
            for line in calc.lines
        ],
        "charges": [
            {
                "kind": c.kind,
                "name": c.name,
                "description": c.description,
                "days": c.days,
                "amount_cents": c.amount_cents,
            }
            for c in calc.charges
        ],
        "usage_cents": calc.usage_cents,
        "charges_cents": calc.charges_cents,
        "total_cents": calc.total_cents,
        "explain": list(calc.explain()),
    }


# ---------------------------------------------------------------------------------------------------
# Balances, past due and payment distribution (definitions in the module docstring)


@dataclass(frozen=True)
class LedgerEntry:
    """One frozen FT as the money rules see it; pass entries in posting order."""

    ft_id: str
    sa_id: str
    ft_type: str
    amount_cents: int
    arrears_date: dt.date | None
    canceled: bool = False  # a reversing FT (BX/AX/PX) points at this one


@dataclass(frozen=True)
class OpenItem:
    """The unpaid part of one charge."""

    sa_id: str
    ft_id: str
    arrears_date: dt.date | None
    open_cents: int


def _is_charge(entry: LedgerEntry) -> bool:
    return entry.ft_type in CHARGE_FT_TYPES and entry.amount_cents > 0 and not entry.canceled


def balance_cents(entries: Sequence[LedgerEntry]) -> int:
    """An account's (or SA's) balance: the sum of its frozen FTs (docs/ccb-domain.md §1.1)."""
    return sum(e.amount_cents for e in entries)


def not_yet_due_cents(entries: Sequence[LedgerEntry], as_of: dt.date) -> int:
    return sum(
        e.amount_cents
        for e in entries
        if _is_charge(e) and (e.arrears_date is None or e.arrears_date >= as_of)
    )


def past_due_cents(entries: Sequence[LedgerEntry], as_of: dt.date) -> int:
    """Balance minus the charges not yet due, never below zero."""
    return max(0, balance_cents(entries) - not_yet_due_cents(entries, as_of))


def _age_key(arrears: dt.date | None) -> dt.date:
    return arrears if arrears is not None else dt.date.max


def open_items(entries: Sequence[LedgerEntry], sa_order: Sequence[str] = ()) -> list[OpenItem]:
    """Unpaid charges of all SAs, oldest first (see the distribution rule in the module docstring)."""
    by_sa: dict[str, list[tuple[int, LedgerEntry]]] = {}
    balances: dict[str, int] = {}
    for index, entry in enumerate(entries):
        balances[entry.sa_id] = balances.get(entry.sa_id, 0) + entry.amount_cents
        if _is_charge(entry):
            by_sa.setdefault(entry.sa_id, []).append((index, entry))
    rank = {sa: i for i, sa in enumerate(sa_order)}
    items: list[tuple[tuple[dt.date, int, int], OpenItem]] = []
    for sa_id, charges in by_sa.items():
        charges.sort(key=lambda pair: (_age_key(pair[1].arrears_date), pair[0]))
        credit = sum(e.amount_cents for _, e in charges) - balances[sa_id]
        for index, entry in charges:
            applied = min(max(credit, 0), entry.amount_cents)
            credit -= applied
            if entry.amount_cents - applied > 0:
                key = (_age_key(entry.arrears_date), rank.get(sa_id, len(rank)), index)
                items.append(
                    (key, OpenItem(sa_id, entry.ft_id, entry.arrears_date, entry.amount_cents - applied))
                )
    items.sort(key=lambda pair: pair[0])
    return [item for _, item in items]


def distribute_payment(
    entries: Sequence[LedgerEntry], amount_cents: int, sa_order: Sequence[str]
) -> dict[str, int]:
    """Split a payment over SAs, oldest debt first; the rest goes to ``sa_order[0]``. Sums exactly."""
    if amount_cents <= 0:
        raise ValueError("a payment amount must be positive")
    if not sa_order:
        raise ValueError("an account needs at least one SA to take a payment")
    split: dict[str, int] = {}
    remaining = amount_cents
    for item in open_items(entries, sa_order):
        if remaining == 0:
            break
        take = min(remaining, item.open_cents)
        split[item.sa_id] = split.get(item.sa_id, 0) + take
        remaining -= take
    if remaining:
        split[sa_order[0]] = split.get(sa_order[0], 0) + remaining
    return split
