"""Meter reads (docs/ccb-domain.md §1.4): a read to add, a read as stored, and what adding one did."""

from __future__ import annotations

import datetime as dt

from core.ccb.codes import RegisterFlow
from core.ccb.port.base import Model

__all__ = ["AddMeterRead", "ReadResult", "ReadView"]


class AddMeterRead(Model, frozen=True):
    """A meter read. ``read_type`` is a ``reads.ReadType`` code; a No Read ("20") has no reading and,
    when history allows, is followed by a system estimate for the same date.

    ``reading`` is the delivered register's. On a net meter ``received_reading`` is the received
    register's, read at the same time; left out, that register is estimated from its own history (§1.4).
    """

    meter_id: str
    read_at: dt.datetime
    read_type: str = "60"
    reading: int | None = None
    use_on_bill: bool = True
    source: str = "field"
    remarks: str | None = None
    estimate_on_no_read: bool = True
    received_reading: int | None = None


class ReadView(Model, frozen=True):
    read_id: str
    meter_id: str
    read_at: dt.datetime
    read_on: dt.date
    reading: int | None
    read_type: str
    read_type_name: str
    use_on_bill: bool
    source: str
    high_low: str | None
    remarks: str | None
    register: RegisterFlow = "delivered"


class ReadResult(Model, frozen=True):
    """``read`` and ``estimate`` are the delivered register's; ``received`` the received register's read
    (or estimate) taken with them on a net meter."""

    read: ReadView
    estimate: ReadView | None
    high_low: str | None
    consecutive_estimates: int
    case_id: str | None
    field_activity_id: str | None
    received: ReadView | None = None
