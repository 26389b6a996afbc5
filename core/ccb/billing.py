"""Pure billing arithmetic shared by the mock service and the synthetic-data generator.

Pricing a bill segment from two reads, the due date, the local business date of a timestamp, and the
two account-level money rules the hub defines on top of the reference (documented here once):

* **Past due** (as of a day): the part of the balance that is not made of charges still waiting for
  their due date. Charges are frozen, not canceled, positive bill-segment (``BS``) and adjustment (``AD``)
  FTs; a charge is "not yet due" while its arrears date (the due date of the bill it appeared on, the FT's
  ``ARS_DT`` of ccb-domain §1.1) is unknown (not billed yet) or not yet passed. So
  ``past_due = max(0, balance - not_yet_due_charges)``: every credit (payment, credit adjustment) is
  taken to pay the oldest debt first, which is the same rule as the distribution below. A charge becomes
  past due the day after its due date; LADWP's 8-day grace (§1.17) only delays the late fee, not this.
* **Payment distribution**: oldest debt first across the account's SAs. Each SA's open charges are found
  by applying the SA's own earlier credits to its charges in arrears-date order; the open items of all
  SAs are then paid in arrears-date order (unbilled charges last, ties in the caller's SA order). What is
  left after every open item is paid (an overpayment or a prepayment) goes to the first SA in the
  caller's order, where it waits as a credit for the next bill.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from core.ccb.rates import BillCalculation, RateConfig, calculate_electric, calculate_water
from core.ccb.reads import Register, dial_consumption
from core.clock import LOCAL_TZ

__all__ = [
    "CHARGE_FT_TYPES",
    "DUE_DAYS",
    "LedgerEntry",
    "OpenItem",
    "PricedSegment",
    "balance_cents",
    "calculation_json",
    "distribute_payment",
    "due_date_for",
    "local_date",
    "local_day_end",
    "local_time",
    "not_yet_due_cents",
    "open_items",
    "past_due_cents",
    "price_segment",
]

# LADWP bills are due 19 days after issue (ccb-domain §1.17 [S]); §1.7 gives CCB's bill a due date but
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
    """A segment priced from its start and end readings by the rate engine."""

    calculation: BillCalculation
    quantity: Decimal
    rolled_over: bool
    amount_cents: int
    tier_quantities: list[str]
    calc: dict[str, Any]


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
    """An account's (or SA's) balance: the sum of its frozen FTs (ccb-domain §1.1)."""
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
