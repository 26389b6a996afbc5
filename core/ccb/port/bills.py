"""Bills and bill segments, cancel / rebill and explanations (docs/ccb-domain.md §1.7), and the net-metering
view
of a net-metered electric SA (§4.1)."""

from __future__ import annotations

import datetime as dt

from core.ccb.port.base import Model

__all__ = [
    "BillAccount",
    "BillBrief",
    "BillExplanation",
    "BillSegmentView",
    "BillView",
    "CancelBillSegment",
    "FreezeBillSegment",
    "NetMeteringCharge",
    "NetMeteringPeriod",
    "NetMeteringTierLine",
    "NetMeteringView",
    "Rebill",
    "RebillResult",
    "SegmentExplanation",
]


class BillAccount(Model, frozen=True):
    """Bill each billable SA with a new read up to ``cut_off``; ``freeze=False`` leaves them freezable."""

    account_id: str
    cut_off: dt.date
    bill_date: dt.date | None = None
    freeze: bool = True


class BillSegmentView(Model, frozen=True):
    bill_segment_id: str
    bill_id: str
    sa_id: str
    sa_type: str
    status: str
    period_start: dt.date
    period_end: dt.date
    start_reading: int | None
    end_reading: int | None
    estimated: bool
    quantity: str
    unit: str | None
    tier_quantities: list[str]
    amount_cents: int
    rebill_of: str | None


class BillView(Model, frozen=True):
    bill_id: str
    account_id: str
    status: str
    bill_date: dt.date
    due_date: dt.date
    is_final: bool
    previous_balance_cents: int
    payments_cents: int
    adjustments_cents: int
    current_charges_cents: int
    amount_due_cents: int
    segments: list[BillSegmentView]
    corrected: bool


class BillBrief(Model, frozen=True):
    bill_id: str
    status: str
    bill_date: dt.date
    due_date: dt.date
    current_charges_cents: int
    amount_due_cents: int
    is_final: bool


class SegmentExplanation(Model, frozen=True):
    bill_segment_id: str
    sa_type: str
    status: str
    illustrative: bool
    lines: list[str]


class BillExplanation(Model, frozen=True):
    bill_id: str
    lines: list[str]
    segments: list[SegmentExplanation]


class FreezeBillSegment(Model, frozen=True):
    bill_segment_id: str


class CancelBillSegment(Model, frozen=True):
    bill_segment_id: str
    reason: str


class Rebill(Model, frozen=True):
    """Cancel a frozen segment and bill it again, optionally with a corrected end reading (§1.7)."""

    bill_segment_id: str
    reason: str
    corrected_reading: int | None = None


class RebillResult(Model, frozen=True):
    canceled_segment_id: str
    new_segment: BillSegmentView


class NetMeteringTierLine(Model, frozen=True):
    """One priced tier line of a net-metered segment: ``kwh`` of ``tier`` in one season part."""

    start: dt.date
    end: dt.date  # exclusive
    season: str
    tier: int
    kwh: str
    unit_price: str  # $ per kWh
    amount_cents: int


class NetMeteringCharge(Model, frozen=True):
    """A non-energy charge on the segment (Power Access Charge, minimum top-up): no credit touches it."""

    name: str
    description: str
    amount_cents: int


class NetMeteringPeriod(Model, frozen=True):
    """One frozen bill segment of a net-metered SA: both registers, the net and the kWh credit (§4.1).

    Quantities are kWh as exact decimal text ("600.00"). ``billed_kwh`` = max(net, 0) - credit used, priced
    through the tiers; ``credit_out_kwh`` is what the next bill starts with.
    """

    bill_id: str
    bill_date: dt.date
    bill_segment_id: str
    period_start: dt.date
    period_end: dt.date  # the end-read date, exclusive
    days: int
    zone: str
    estimated: bool
    delivered_start_reading: int
    delivered_end_reading: int
    received_start_reading: int
    received_end_reading: int
    delivered_kwh: str
    received_kwh: str
    net_kwh: str
    credit_in_kwh: str
    credit_used_kwh: str
    billed_kwh: str
    credit_earned_kwh: str
    credit_out_kwh: str
    credit_forfeited_kwh: str
    tier_kwh: list[str]
    tier_lines: list[NetMeteringTierLine]
    charges: list[NetMeteringCharge]
    energy_cents: int
    charges_cents: int
    amount_cents: int
    lines: list[str]  # the segment in plain words, as the bill explanation prints it


class NetMeteringView(Model, frozen=True):
    """An account's net-metered electric SA, its meter and its latest billed periods, newest first."""

    account_id: str
    sa_id: str
    sa_type: str
    sa_status: str
    sa_status_label: str
    rate_schedule: str | None
    zone: str | None
    premise_id: str | None
    meter_id: str | None
    badge_number: str | None
    credit_bank_kwh: str  # carried forward by the latest bill: what the next bill takes off its net
    periods: list[NetMeteringPeriod]
