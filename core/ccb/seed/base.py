"""The seeder's fixed dates and shares, the seeded customer as returned, and the per-round row buffer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec

from core.ccb import models as m
from core.ccb.reads import ReadType

# The day the synthetic year ends when no ``as_of`` is given: fixed, so a seed always means the same data.
DEFAULT_AS_OF = dt.date(2025, 10, 31)
# Water prices in the rate config start in July 2023; a year of history must fit after that.
EARLIEST_AS_OF = dt.date(2024, 9, 1)
READS_PER_YEAR = 6  # bimonthly residential billing (docs/ccb-domain.md §2.4)
CYCLE_DAYS = 61
CHUNK = 100  # customers generated and inserted per round
# Share of seeded customers with rooftop solar on net metering: a demo-friendly share, not a statistic.
NET_METERED_SHARE = 0.08
# kWh sent to the grid per kWh the household drew from it, by the month the billing period is centred on:
# long sunny days export more than is used (a credit), winter days much less (the customer pays the net).
SUN_BY_MONTH = {1: 0.45, 2: 0.45, 3: 0.95, 4: 0.95, 5: 1.45, 6: 1.45, 7: 1.45, 8: 1.45, 9: 0.95, 10: 0.95}
SUN_BY_MONTH |= {11: 0.45, 12: 0.45}


class SeedAccount(msgspec.Struct, frozen=True, kw_only=True):
    """A seeded customer with its synthetic demo secrets (the only place they exist in the clear)."""

    account_id: str
    premise_id: str
    name: str
    phone: str
    access_code: str
    ssn_last4: str
    net_metered: bool = False


# ---------------------------------------------------------------------------------------------------
# Row building


@dataclass
class Rows:
    """Rows per table for one round, in insertion (foreign-key) order."""

    tables: dict[type[m.Base], list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, model: type[m.Base], row: dict[str, Any]) -> None:
        self.tables.setdefault(model, []).append(row)


# Parents before children, so foreign keys hold at every insert.
ORDER: tuple[type[Any], ...] = (
    m.Person,
    m.Account,
    m.AccountPerson,
    m.Premise,
    m.ServicePoint,
    m.Meter,
    m.Register,
    m.MeterInstall,
    m.MeterRead,
    m.ServiceAgreement,
    m.Bill,
    m.BillSegment,
    m.PaymentEvent,
    m.Tender,
    m.Payment,
    m.PaySegment,
    m.FinancialTransaction,
    m.Case,
    m.CaseLog,
    m.FieldActivity,
)


Read = tuple[str, dt.date, int, str]  # (read id, date, reading, read type code)


@dataclass
class Meter:
    service: str
    sp_id: str
    meter_id: str
    sa_id: str
    digits: int
    reads: list[Read]  # the delivered register
    received: list[Read] | None = None  # a net meter's received register, read on the same days
    credit_kwh: Decimal = Decimal(0)  # the net-metering kWh bank carried to the next bill


def trailing_estimates(reads: list[Read]) -> list[str]:
    out: list[str] = []
    for read_id, _day, _value, code in reversed(reads):
        if not ReadType(code).is_estimate:
            break
        out.append(read_id)
    return out
