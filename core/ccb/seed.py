"""Synthetic residential customers for the CCB mock: a year of reads, bills and payments, fast and repeatable.

Everything comes from two seeded random generators (one for ids, one for data) and from ``as_of``; no wall
clock is read, so the same seed on an empty database always gives the same ids and amounts. Rows are
built as dicts and inserted in bulk with Core ``insert()`` (thousands of customers a minute on SQLite).

What a seeded customer looks like (ccb-domain §1): a person who is main customer of an account, a premise
in an LA ZIP with its service-area code and rate zones, an electric and a water SP each with a meter and
an active SA, bimonthly reads for 12 months (some estimated, a few meters with three or more estimates in a
row, which carry the investigation case and field activity the mock would have opened), a bill per read
cycle priced by the rate engine, and payments distributed oldest debt first — most customers pay on time,
some late, some not at all lately (past due).

A share of customers (``net_metered_share``, deterministic with the seed) have rooftop solar: their electric
meter is a net meter with a received register beside the delivered one, their electric SA is net-metered
(E-NEM) and their bills net the two registers with a kWh credit carried from bill to bill (billing.py,
ccb-domain §4.1). Exports follow the sun, so each of them has export (credit) bills in summer and import
bills in winter. Solar decisions and export amounts come from a third generator, so the other customers'
data (not their ids) are the same as without solar.

The clear access codes and SSN last four are returned only in ``SeedAccount`` (they are synthetic demo
secrets); the database keeps keyed hashes. Verification of seeded customers therefore works only while the
hub uses the same key: set a fixed ``HUB_SECRET_KEY`` (without one each process draws a random key).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import click
import msgspec
from sqlalchemy import inspect, select

from core.ccb import codes
from core.ccb import models as m
from core.ccb.billing import (
    LedgerEntry,
    PricedSegment,
    balance_cents,
    distribute_payment,
    due_date_for,
    local_time,
    price_net_metered_segment,
    price_segment,
)
from core.ccb.errors import Invalid
from core.ccb.identity import check_access_code, identity_hash
from core.ccb.ids import IdGenerator
from core.ccb.keys import install_id, twelve_digit_id
from core.ccb.rates import RateConfig, load_default_config
from core.ccb.reads import MeterRead, ReadError, ReadType, Register
from core.ccb.reads import estimate as estimate_read
from core.db import Database

__all__ = ["DEFAULT_AS_OF", "SeedAccount", "seed_command", "seed_customers"]

# The day the synthetic year ends when no ``as_of`` is given: fixed, so a seed always means the same data.
DEFAULT_AS_OF = dt.date(2025, 10, 31)
# Water prices in the rate config start in July 2023; a year of history must fit after that.
EARLIEST_AS_OF = dt.date(2024, 9, 1)
READS_PER_YEAR = 6  # bimonthly residential billing (ccb-domain §2.4)
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
# Word lists (made up for this mock)

# Whitespace-separated lists keep the data compact; a multi-word street uses an underscore.
FIRST_NAMES = tuple(
    """
    Maria Jose James Linda Carlos Patricia Luis Jennifer David Elizabeth Juan Susan Robert Guadalupe
    Michael Karen Daniel Nancy Kevin Lisa Miguel Sandra Jorge Ashley Anthony Kimberly Christopher Rosa
    Brian Ana Steven Veronica Eric Angela Oscar Michelle Thomas Laura Edgar Grace Hiroshi Mei Minh Ji-woo
    Arman Tamar Samuel Ruth Isaac Leticia Andre Keisha Marcus Tanya Ramon Irma Victor Yolanda Ernesto Alma
    """.split()
)
LAST_NAMES = tuple(
    """
    Garcia Hernandez Martinez Lopez Gonzalez Rodriguez Perez Sanchez Ramirez Flores Smith Johnson Williams
    Brown Jones Davis Miller Wilson Anderson Taylor Kim Lee Park Nguyen Tran Chen Wong Santos Cruz Reyes
    Morales Ortiz Gutierrez Chavez Vasquez Castillo Jackson White Harris Thompson Petrosyan Sarkisian
    Cohen Levy Tanaka Yamamoto Okafor Mendoza Aguilar Romero
    """.split()
)
STREETS = tuple(
    name.replace("_", " ")
    for name in """
    Sunset Figueroa Vermont Western Crenshaw La_Brea Fairfax Pico Olympic Venice Washington Adams
    Jefferson Slauson Florence Manchester Sepulveda Ventura Victory Vanowen Sherman Roscoe Nordhoff
    Devonshire Reseda Tampa Balboa Woodley Laurel_Canyon Lankershim Colfax Tujunga Glenoaks Foothill
    Eagle_Rock York Alvarado Hoover Normandie Gaffey Anaheim
    """.split()
)
STREET_KINDS = ("St", "Ave", "Blvd", "Dr", "Pl", "Way")
AREA_CODES = ("213", "323", "310", "424", "818", "747")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

# ZIP, mailing city, service-area code, electric temperature zone (§2.2), water temperature zone (§2.3).
# Zone 1 is coastal/downtown, zone 2 mostly the Valley; water zones run low at the coast to high inland.
ZIPS = (
    ("90012", "Los Angeles", "MET", "1", "medium"),
    ("90026", "Los Angeles", "MET", "1", "medium"),
    ("90027", "Los Angeles", "MET", "1", "medium"),
    ("90028", "Los Angeles", "MET", "1", "medium"),
    ("90004", "Los Angeles", "MET", "1", "medium"),
    ("90019", "Los Angeles", "MID", "1", "medium"),
    ("90034", "Los Angeles", "WLA", "1", "low"),
    ("90049", "Los Angeles", "WLA", "1", "low"),
    ("90066", "Los Angeles", "WLA", "1", "low"),
    ("90272", "Pacific Palisades", "WLA", "1", "low"),
    ("90291", "Venice", "WLA", "1", "low"),
    ("90045", "Los Angeles", "WLA", "1", "low"),
    ("90731", "San Pedro", "HAR", "1", "low"),
    ("90744", "Wilmington", "HAR", "1", "low"),
    ("90003", "Los Angeles", "SLA", "1", "medium"),
    ("90044", "Los Angeles", "SLA", "1", "medium"),
    ("90042", "Los Angeles", "NEA", "1", "medium"),
    ("90065", "Los Angeles", "NEA", "1", "medium"),
    ("91401", "Van Nuys", "SFV", "2", "high"),
    ("91405", "Van Nuys", "SFV", "2", "high"),
    ("91343", "North Hills", "SFV", "2", "high"),
    ("91324", "Northridge", "SFV", "2", "high"),
    ("91364", "Woodland Hills", "SFV", "2", "high"),
    ("91331", "Pacoima", "SFV", "2", "high"),
    ("91352", "Sun Valley", "SFV", "2", "high"),
    ("91604", "Studio City", "SFV", "2", "high"),
    ("91606", "North Hollywood", "SFV", "2", "high"),
    ("91042", "Tujunga", "SFV", "2", "high"),
)


# ---------------------------------------------------------------------------------------------------
# Row building


@dataclass
class _Rows:
    """Rows per table for one round, in insertion (foreign-key) order."""

    tables: dict[type[m.Base], list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, model: type[m.Base], row: dict[str, Any]) -> None:
        self.tables.setdefault(model, []).append(row)


# Parents before children, so foreign keys hold at every insert.
_ORDER: tuple[type[Any], ...] = (
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


_Read = tuple[str, dt.date, int, str]  # (read id, date, reading, read type code)


@dataclass
class _Meter:
    service: str
    sp_id: str
    meter_id: str
    sa_id: str
    digits: int
    reads: list[_Read]  # the delivered register
    received: list[_Read] | None = None  # a net meter's received register, read on the same days
    credit_kwh: Decimal = Decimal(0)  # the net-metering kWh bank carried to the next bill


class _Generator:
    """Builds one customer at a time; the call order on the two generators is the whole determinism."""

    def __init__(
        self, seed: int, hash_key: bytes, as_of: dt.date, rates: RateConfig, net_metered_share: float
    ) -> None:
        self.ids = IdGenerator(random.Random(seed))
        self.rng = random.Random(f"ccb-seed-data:{seed}")
        self.solar_rng = random.Random(f"ccb-seed-solar:{seed}")
        self.net_metered_share = net_metered_share
        self.key = hash_key
        self.as_of = as_of
        self.rates = rates
        self.phones: set[str] = set()

    def _phone(self) -> str:
        while True:
            number = f"{self.rng.choice(AREA_CODES)}555{self.rng.randrange(10_000):04d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def _access_code(self, phone: str) -> str:
        while True:
            code = f"{self.rng.randrange(100_000, 1_000_000)}"
            try:
                return check_access_code(code, phone=phone)
            except Invalid:
                continue

    def customer(self, rows: _Rows) -> SeedAccount:
        rng, ids = self.rng, self.ids
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        zip_code, city, area, e_zone, w_zone = rng.choice(ZIPS)
        street = (
            f"{rng.randrange(100, 19_999)} {rng.choice(('N ', 'S ', 'E ', 'W ', ''))}{rng.choice(STREETS)} "
        )
        street += rng.choice(STREET_KINDS)
        phone = self._phone()
        access_code = self._access_code(phone)
        ssn4 = f"{rng.randrange(10_000):04d}"
        # Read cycle: the last read of the year falls 3 to 62 days before as_of, the first ~a year earlier.
        last_read = self.as_of - dt.timedelta(days=rng.randint(3, 62))
        read_days = [
            last_read - dt.timedelta(days=CYCLE_DAYS * (READS_PER_YEAR - k))
            for k in range(READS_PER_YEAR + 1)
        ]
        setup = read_days[0] - dt.timedelta(days=rng.randint(0, 3650))
        created = local_time(setup, 9)

        person_id, account_id, premise_id = ids.person_id(), ids.account_id(), ids.premise_id()
        rows.add(
            m.Person,
            {
                "id": person_id,
                "first_name": first,
                "last_name": last,
                "phone": phone,
                "alt_phone": None,
                "email": f"{first.lower()}.{last.lower()}{rng.randrange(100)}@{rng.choice(EMAIL_DOMAINS)}"
                if rng.random() < 0.7
                else None,
                "mail_line1": street,
                "mail_line2": None,
                "mail_city": city,
                "mail_state": "CA",
                "mail_zip": zip_code,
                "language": rng.choices(("en", "es", "ko", "zh", "hy", "tl"), (70, 20, 3, 3, 2, 2))[0],
                "life_support": rng.random() < 0.01,
                "access_code_hash": identity_hash(self.key, "access_code", person_id, access_code),
                "ssn_last4_hash": identity_hash(self.key, "ssn_last4", person_id, ssn4),
                "identity_key_version": 1,
                "created_at": created,
            },
        )
        rows.add(
            m.Account,
            {
                "id": account_id,
                "customer_class": "RES",
                "bill_cycle": f"{int(account_id) % 20 + 1:02d}",
                "cis_division": "LADWP",
                "setup_date": setup,
                "mail_line1": None,
                "mail_line2": None,
                "mail_city": None,
                "mail_state": None,
                "mail_zip": None,
                "verify_failures": 0,
                "verify_window_start": None,
                "verify_locked": False,
                "verify_locked_at": None,
                "created_at": created,
            },
        )
        rows.add(
            m.AccountPerson,
            {
                "account_id": account_id,
                "person_id": person_id,
                "is_main_customer": True,
                "financially_responsible": True,
                "relationship": "MAIN",
                "receives_bill_copy": True,
            },
        )
        zones = {"electric": e_zone, "water": w_zone}
        lot = int(rng.lognormvariate(8.9 if e_zone == "2" else 8.6, 0.35))
        rows.add(
            m.Premise,
            {
                "id": premise_id,
                "premise_type": "SFR",
                "line1": street,
                "line2": None,
                "city": city,
                "state": "CA",
                "zip": zip_code,
                "service_area_code": area,
                "electric_zone": e_zone,
                "water_temperature_zone": w_zone,
                "lot_size_sqft": max(2000, min(lot, 60_000)),
                "gate_code": f"#{rng.randrange(1000, 9999)}" if rng.random() < 0.1 else None,
                "has_dog": rng.random() < 0.15,
                "hazards": None,
                "reader_notes": None,
                "access_updated_at": None,
                "created_at": created,
            },
        )
        lot_size = max(2000, min(lot, 60_000))
        streak_service = rng.choice(("electric", "water")) if rng.random() < 0.02 else None
        solar = self.solar_rng.random() < self.net_metered_share
        meters = [
            self._meter(
                rows,
                service,
                zones,
                premise_id,
                account_id,
                setup,
                created,
                read_days,
                streak_service,
                net_metered=solar and service == "electric",
            )
            for service in ("electric", "water")
        ]
        self._bills_and_payments(rows, account_id, meters, read_days, zones, lot_size)
        return SeedAccount(
            account_id=account_id,
            premise_id=premise_id,
            name=f"{first} {last}",
            phone=phone,
            access_code=access_code,
            ssn_last4=ssn4,
            net_metered=solar,
        )

    def _meter(
        self,
        rows: _Rows,
        service: str,
        zones: dict[str, str],
        premise_id: str,
        account_id: str,
        setup: dt.date,
        created: dt.datetime,
        read_days: list[dt.date],
        streak_service: str | None,
        *,
        net_metered: bool = False,
    ) -> _Meter:
        rng, ids = self.rng, self.ids
        digits = codes.SERVICE_DIGITS[service]
        sp_id, meter_id = ids.sp_id(), ids.meter_id()
        rows.add(
            m.ServicePoint,
            {
                "id": sp_id,
                "premise_id": premise_id,
                "service": service,
                "sp_type": codes.SERVICE_SA_TYPE[service],
                "connected": True,
                "created_at": created,
            },
        )
        rows.add(
            m.Meter,
            {
                "id": meter_id,
                "badge_number": f"{service[0].upper()}{meter_id}",
                "meter_type": "dial" if rng.random() < 0.3 else "digital",
                "service": service,
                "unit": codes.SERVICE_UNIT[service],
                "register_digits": digits,
                "created_at": created,
            },
        )
        flows = (
            [codes.REGISTER_DELIVERED, codes.REGISTER_RECEIVED] if net_metered else [codes.REGISTER_DELIVERED]
        )
        for flow in flows:
            rows.add(
                m.Register,
                {
                    "meter_id": meter_id,
                    "seq": codes.REGISTER_FLOWS[flow],
                    "flow": flow,
                    "unit": codes.SERVICE_UNIT[service],
                    "digits": digits,
                },
            )
        install_reading = rng.randrange(10**digits)
        rows.add(
            m.MeterInstall,
            {
                "id": install_id(ids),
                "sp_id": sp_id,
                "meter_id": meter_id,
                "installed_at": created,
                "install_reading": install_reading,
                "removed_at": None,
                "removal_reading": None,
            },
        )
        # Daily use with a summer bump (more in the hotter Valley); the dials roll over past all nines.
        if service == "electric":
            coastal = zones["electric"] == "1"
            daily, summer = rng.lognormvariate(2.55 if coastal else 2.9, 0.35), (1.3 if coastal else 1.7)
        else:
            daily, summer = rng.lognormvariate(-1.2, 0.35), 1.35
        capacity = 10**digits
        reading = rng.randrange(capacity)
        register = Register(digits=digits)
        reads: list[_Read] = []
        history: list[MeterRead] = []
        usage = [0]  # true use per period, before any estimate (a net meter's exports follow it)
        for k, day in enumerate(read_days):
            if k:
                days = (day - read_days[k - 1]).days
                factor = summer if 6 <= day.month <= 10 else 1.0
                usage.append(round(daily * factor * days * rng.uniform(0.85, 1.15)))
                reading = (reading + usage[-1]) % capacity
            read_type = ReadType.REGULAR
            value = reading
            estimated = (streak_service == service and k >= READS_PER_YEAR - 2) or (
                k > 0 and rng.random() < 0.03
            )
            if estimated:
                try:
                    start = reads[-1]
                    guess = estimate_read(history, start[1], day, register, start_reading=start[2])
                    assert guess.reading is not None
                    value, read_type = int(guess.reading), ReadType.SYSTEM_ESTIMATE
                except ReadError:
                    pass  # not enough measured history yet: the reader got in after all
            read_id = ids.meter_read_id()
            reads.append((read_id, day, value, read_type.value))
            history.append(MeterRead(day, value, read_type))
            rows.add(
                m.MeterRead,
                {
                    "id": read_id,
                    "meter_id": meter_id,
                    "register_seq": codes.REGISTER_FLOWS[codes.REGISTER_DELIVERED],
                    "read_at": local_time(day, 10),
                    "reading": value,
                    "read_type": read_type.value,
                    "use_on_bill": True,
                    "source": "system" if read_type.is_estimate else "field",
                    "high_low": None,
                    "remarks": None,
                    "created_by": "seed",
                    "created_at": local_time(day, 16),
                },
            )
            if read_type.is_estimate:
                reading = value  # an estimate bills what it says; the next actual read trues it up
        received = self._received_reads(rows, meter_id, reads, usage, digits) if net_metered else None
        sa_id = ids.sa_id()
        sa_type = codes.SA_TYPES[codes.NET_METERED_SA_TYPE if net_metered else codes.SERVICE_SA_TYPE[service]]
        rows.add(
            m.ServiceAgreement,
            {
                "id": sa_id,
                "account_id": account_id,
                "premise_id": premise_id,
                "sp_id": sp_id,
                "sa_type": sa_type.code,
                "status": codes.SaStatus.ACTIVE.value,
                "start_date": setup,
                "end_date": None,
                "rate_schedule": sa_type.rate_schedule,
                "zone": zones[service],
                "start_read_id": reads[0][0],
                "stop_read_id": None,
                "final_billed": False,
                "created_at": created,
                "updated_at": created,
            },
        )
        meter = _Meter(service, sp_id, meter_id, sa_id, digits, reads, received)
        streak = sum(1 for _ in _trailing_estimates(reads))
        if streak >= 3:
            self._investigation(rows, meter, premise_id, account_id, streak)
        return meter

    def _received_reads(
        self, rows: _Rows, meter_id: str, delivered: list[_Read], usage: list[int], digits: int
    ) -> list[_Read]:
        """The received register, read on the delivered register's visits (estimated when it was)."""
        rng, capacity = self.solar_rng, 10**digits
        register = Register(digits=digits)
        ratio = rng.uniform(0.85, 1.15)  # this system's size against the household's use
        reading = rng.randrange(capacity)
        reads: list[_Read] = []
        history: list[MeterRead] = []
        for k, (_delivered_id, day, _value, code) in enumerate(delivered):
            if k:
                previous = delivered[k - 1][1]
                centre = previous + (day - previous) / 2
                reading = (reading + round(usage[k] * SUN_BY_MONTH[centre.month] * ratio)) % capacity
            read_type, value = ReadType(code), reading
            if read_type.is_estimate:  # the reader did not get to the meter: both registers estimated
                try:
                    guess = estimate_read(history, reads[-1][1], day, register, start_reading=reads[-1][2])
                    assert guess.reading is not None
                    value = reading = int(guess.reading)
                except ReadError:
                    read_type = ReadType.REGULAR
            read_id = self.ids.meter_read_id()
            reads.append((read_id, day, value, read_type.value))
            history.append(MeterRead(day, value, read_type))
            rows.add(
                m.MeterRead,
                {
                    "id": read_id,
                    "meter_id": meter_id,
                    "register_seq": codes.REGISTER_FLOWS[codes.REGISTER_RECEIVED],
                    "read_at": local_time(day, 10),
                    "reading": value,
                    "read_type": read_type.value,
                    "use_on_bill": True,
                    "source": "system" if read_type.is_estimate else "field",
                    "high_low": None,
                    "remarks": None,
                    "created_by": "seed",
                    "created_at": local_time(day, 16),
                },
            )
        return reads

    def _investigation(
        self, rows: _Rows, meter: _Meter, premise_id: str, account_id: str, streak: int
    ) -> None:
        """The case and FA the mock opens at the third estimate in a row (``core.ccb.local`` does it live)."""
        day = meter.reads[-1][1]
        when = local_time(day, 17)
        badge = f"{meter.service[0].upper()}{meter.meter_id}"
        case_id = self.ids.case_id()
        rows.add(
            m.Case,
            {
                "id": case_id,
                "case_type": "ESTIMATED_READS",
                "status": "OPEN",
                "account_id": account_id,
                "person_id": None,
                "premise_id": premise_id,
                "contact_id": None,
                "meter_id": meter.meter_id,
                "summary": f"Meter {badge} has {streak} estimated reads in a row",
                "created_by": "seed",
                "created_at": when,
                "updated_at": when,
                "closed_at": None,
            },
        )
        rows.add(
            m.CaseLog,
            {
                "case_id": case_id,
                "seq": 1,
                "status": "OPEN",
                "note": "opened",
                "created_by": "seed",
                "created_at": when,
            },
        )
        rows.add(
            m.FieldActivity,
            {
                "id": self.ids.field_activity_id(),
                "fa_type": "READ_INVESTIGATION",
                "priority": codes.FA_TYPES["READ_INVESTIGATION"].default_priority,
                "status": codes.FaStatus.PENDING.value,
                "premise_id": premise_id,
                "sp_id": meter.sp_id,
                "sa_id": meter.sa_id,
                "case_id": case_id,
                "scheduled_on": day + dt.timedelta(days=7),
                "instructions": f"Meter not read {streak} times in a row: find out why and read it",
                "read_id": None,
                "remarks": None,
                "created_by": "seed",
                "created_at": when,
                "completed_at": None,
            },
        )

    def _bills_and_payments(
        self,
        rows: _Rows,
        account_id: str,
        meters: list[_Meter],
        read_days: list[dt.date],
        zones: dict[str, str],
        lot_size: int,
    ) -> None:
        rng, ids = self.rng, self.ids
        # How this customer pays: on time, late, half, or (lately) not at all -> past due.
        habit = rng.choices(("prompt", "late", "partial", "delinquent"), (72, 14, 6, 8))[0]
        stop_paying_after = rng.randint(3, 5) if habit == "delinquent" else READS_PER_YEAR + 1
        ledger: list[LedgerEntry] = []
        order = [meter.sa_id for meter in meters]
        unbilled: list[dict[str, Any]] = []  # payment FTs waiting for the next bill
        for k in range(1, READS_PER_YEAR + 1):
            bill_day = read_days[k] + dt.timedelta(days=2)
            if bill_day > self.as_of:
                break
            due = due_date_for(bill_day)
            bill_id = ids.bill_id()
            at = local_time(bill_day, 6)
            current = 0
            segments: list[dict[str, Any]] = []
            fts: list[dict[str, Any]] = []
            for meter in meters:
                start_id, start_day, start_reading, _ = meter.reads[k - 1]
                end_id, end_day, end_reading, end_type = meter.reads[k]
                estimated = ReadType(end_type).is_estimate
                priced: PricedSegment
                if meter.received is not None:
                    received_start, received_end = meter.received[k - 1][2], meter.received[k][2]
                    priced = price_net_metered_segment(
                        self.rates,
                        zones[meter.service],
                        start_day,
                        end_day,
                        delivered_readings=(start_reading, end_reading),
                        received_readings=(received_start, received_end),
                        register_digits=meter.digits,
                        credit_in_kwh=meter.credit_kwh,
                    )
                    assert priced.net_metering is not None
                    meter.credit_kwh = priced.net_metering.credit_out
                    estimated = estimated or ReadType(meter.received[k][3]).is_estimate
                else:
                    priced = price_segment(
                        self.rates,
                        "electric" if meter.service == "electric" else "water",
                        zones[meter.service],
                        lot_size,
                        start_day,
                        end_day,
                        start_reading,
                        end_reading,
                        meter.digits,
                    )
                seg_id = ids.bill_segment_id()
                segments.append(
                    {
                        "id": seg_id,
                        "bill_id": bill_id,
                        "sa_id": meter.sa_id,
                        "status": codes.BsegStatus.FROZEN.value,
                        "period_start": start_day,
                        "period_end": end_day,
                        "start_read_id": start_id,
                        "end_read_id": end_id,
                        "start_reading": start_reading,
                        "end_reading": end_reading,
                        "estimated": estimated,
                        "quantity": str(priced.calculation.quantity),
                        "tier_quantities": priced.tier_quantities,
                        "calc": priced.calc,
                        "amount_cents": priced.amount_cents,
                        "rebill_of": None,
                        "cancel_reason": None,
                        "created_at": at,
                        "frozen_at": at,
                        "canceled_at": None,
                    }
                )
                ft_id = ids.ft_id()
                fts.append(
                    self._ft(ft_id, account_id, meter.sa_id, "BS", seg_id, priced.amount_cents, at, bill_day)
                )
                fts[-1].update(arrears_date=due, bill_id=bill_id)
                ledger.append(LedgerEntry(ft_id, meter.sa_id, "BS", priced.amount_cents, due))
                current += priced.amount_cents
            payments = 0
            for row in unbilled:
                row["bill_id"] = bill_id
                payments += row["amount_cents"]
            unbilled = []
            amount_due = balance_cents(ledger)
            rows.add(
                m.Bill,
                {
                    "id": bill_id,
                    "account_id": account_id,
                    "status": codes.BillStatus.COMPLETE.value,
                    "bill_date": bill_day,
                    "due_date": due,
                    "cut_off": bill_day,
                    "is_final": False,
                    "previous_balance_cents": amount_due - current - payments,
                    "payments_cents": payments,
                    "adjustments_cents": 0,
                    "current_charges_cents": current,
                    "amount_due_cents": amount_due,
                    "created_at": at,
                    "completed_at": at,
                },
            )
            for seg in segments:
                rows.add(m.BillSegment, seg)
            for ft in fts:
                rows.add(m.FinancialTransaction, ft)

            if k > stop_paying_after:
                continue
            delay = {"prompt": (4, 18), "late": (21, 45), "partial": (8, 18), "delinquent": (5, 30)}[habit]
            pay_day = bill_day + dt.timedelta(days=rng.randint(*delay))
            if pay_day > self.as_of or amount_due <= 0:
                continue
            amount = amount_due if habit != "partial" else max(100, amount_due // 2)
            unbilled.extend(self._payment(rows, ledger, order, account_id, amount, pay_day))

    def _payment(
        self,
        rows: _Rows,
        ledger: list[LedgerEntry],
        order: list[str],
        account_id: str,
        amount: int,
        day: dt.date,
    ) -> list[dict[str, Any]]:
        rng, ids = self.rng, self.ids
        at = local_time(day, rng.randint(8, 19), rng.randrange(60))
        event_id, payment_id = ids.payment_event_id(), ids.payment_id()
        kind = rng.choices(("cash", "check", "card"), (10, 25, 65))[0]
        rows.add(
            m.PaymentEvent,
            {
                "id": event_id,
                "received_at": at,
                "amount_cents": amount,
                "created_by": "seed",
                "created_at": at,
            },
        )
        rows.add(
            m.Tender,
            {
                "id": ids.tender_id(),
                "payment_event_id": event_id,
                "tender_type": kind,
                "amount_cents": amount,
                "status": codes.TenderStatus.VALID.value,
                "check_number": f"{rng.randrange(100, 99_999)}" if kind == "check" else None,
                "masked_pan": f"************{rng.randrange(10_000):04d}" if kind == "card" else None,
                "card_brand": rng.choice(("VISA", "MC", "AMEX", "DISC")) if kind == "card" else None,
                "tender_control_id": None,
                "cancel_reason": None,
                "created_at": at,
            },
        )
        rows.add(
            m.Payment,
            {
                "id": payment_id,
                "payment_event_id": event_id,
                "account_id": account_id,
                "amount_cents": amount,
                "status": codes.PaymentStatus.FROZEN.value,
                "cancel_reason": None,
                "frozen_at": at,
                "canceled_at": None,
            },
        )
        posted: list[dict[str, Any]] = []
        split = distribute_payment(ledger, amount, order)
        for sa_id in order:
            part = split.get(sa_id, 0)
            if not part:
                continue
            seg_id = twelve_digit_id(ids)
            rows.add(
                m.PaySegment, {"id": seg_id, "payment_id": payment_id, "sa_id": sa_id, "amount_cents": part}
            )
            ft_id = ids.ft_id()
            ft = self._ft(ft_id, account_id, sa_id, "PS", seg_id, -part, at, day)
            rows.add(m.FinancialTransaction, ft)
            ledger.append(LedgerEntry(ft_id, sa_id, "PS", -part, None))
            posted.append(ft)
        return posted

    @staticmethod
    def _ft(
        ft_id: str,
        account_id: str,
        sa_id: str,
        ft_type: str,
        parent: str,
        cents: int,
        at: dt.datetime,
        day: dt.date,
    ) -> dict[str, Any]:
        return {
            "id": ft_id,
            "account_id": account_id,
            "sa_id": sa_id,
            "ft_type": ft_type,
            "parent_id": parent,
            "amount_cents": cents,
            "frozen": True,
            "cancels_ft_id": None,
            "accounting_date": day,
            "arrears_date": None,
            "bill_id": None,
            "created_at": at,
        }


def _trailing_estimates(reads: list[tuple[str, dt.date, int, str]]) -> list[str]:
    out: list[str] = []
    for read_id, _day, _value, code in reversed(reads):
        if not ReadType(code).is_estimate:
            break
        out.append(read_id)
    return out


# ---------------------------------------------------------------------------------------------------
# Entry points


async def seed_customers(
    db: Database,
    n: int,
    seed: int,
    hash_key: bytes,
    *,
    progress: Callable[[int, int], None] | None = None,
    as_of: dt.date = DEFAULT_AS_OF,
    rates: RateConfig | None = None,
    net_metered_share: float = NET_METERED_SHARE,
) -> list[SeedAccount]:
    """Create ``n`` residential customers in one transaction; returns them with their demo secrets.

    Deterministic: the same ``seed``, ``as_of`` and ``net_metered_share`` on an empty database give the
    same ids and amounts. Seeding the same seed twice into one database is refused (the ids would collide).
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    if not 0.0 <= net_metered_share <= 1.0:
        raise ValueError("net_metered_share must be between 0 and 1")
    if as_of < EARLIEST_AS_OF:
        raise ValueError(f"as_of must be on or after {EARLIEST_AS_OF.isoformat()} (rates start mid-2023)")
    generator = _Generator(seed, hash_key, as_of, rates or load_default_config(), net_metered_share)
    accounts: list[SeedAccount] = []
    async with db.session() as session:
        for start in range(0, n, CHUNK):
            rows = _Rows()
            batch = [generator.customer(rows) for _ in range(min(CHUNK, n - start))]
            if start == 0:
                taken = await session.scalar(select(m.Account.id).where(m.Account.id == batch[0].account_id))
                if taken is not None:
                    raise ValueError(f"seed {seed} is already loaded in this database (account {taken})")
            conn = await session.connection()
            for model in _ORDER:
                table_rows = rows.tables.get(model)
                if table_rows:
                    await conn.execute(model.__table__.insert(), table_rows)
            accounts.extend(batch)
            if progress is not None:
                progress(len(accounts), n)
    return accounts


def identity_key(secret_key: str) -> bytes:
    """The identity-hash key derived from the hub's secret key (a separate key for a separate purpose)."""
    return hashlib.sha256(("ccb-identity:" + secret_key).encode()).digest()


@click.command("seed")
@click.option("--customers", type=click.IntRange(min=1), required=True, help="How many customers to create.")
@click.option("--seed", "seed_value", type=int, default=1, show_default=True, help="Random seed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per account per line.")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help=f"Last day of the synthetic year (default {DEFAULT_AS_OF.isoformat()}).",
)
def seed_command(customers: int, seed_value: int, as_json: bool, as_of: dt.datetime | None) -> None:
    """Load synthetic residential customers into the CCB mock.

    The demo access codes and SSN last four are verifiable only while the hub runs with the same
    HUB_SECRET_KEY; without one set, every process draws a random key.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from core.settings import SettingsError, load_settings

    err = Console(stderr=True)
    try:
        settings = load_settings()
        # An unset key is replaced by a random one on every load: two loads that differ reveal it.
        random_key = settings.secret_key != load_settings().secret_key
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    if random_key:
        err.print(
            "[yellow]HUB_SECRET_KEY is not set: the seeded access codes and SSN last four will not verify "
            "in any other process. Set a fixed HUB_SECRET_KEY and seed again for a usable demo.[/yellow]"
        )
    day = as_of.date() if as_of is not None else DEFAULT_AS_OF
    key = identity_key(settings.secret_key)

    async def run() -> tuple[list[SeedAccount], float]:
        db = Database(settings.database_url)
        try:
            async with db.engine.connect() as conn:
                tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            if "ccb_account" not in tables:
                raise click.UsageError("the database has no CCB tables: run `ccbhub db upgrade` first")
            with Progress(
                TextColumn("seeding customers"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=as_json,
            ) as bar:
                task = bar.add_task("seed", total=customers)
                started = time.perf_counter()
                try:
                    accounts = await seed_customers(
                        db,
                        customers,
                        seed_value,
                        key,
                        as_of=day,
                        progress=lambda done, _total: bar.update(task, completed=done),
                    )
                except ValueError as exc:
                    raise click.UsageError(str(exc)) from None
                return accounts, time.perf_counter() - started
        finally:
            await db.dispose()

    accounts, seconds = asyncio.run(run())
    if as_json:
        out = sys.stdout
        for account in accounts:
            out.write(json.dumps(msgspec.to_builtins(account)) + "\n")
    rate = len(accounts) / seconds if seconds > 0 else float("inf")
    err.print(
        f"seeded {len(accounts)} customers (seed {seed_value}, as of {day.isoformat()}) in {seconds:.1f}s "
        f"({rate:.0f} customers/s)"
    )
