"""One synthetic customer at a time: person, account, premise, meters and a year of reads.

The call order on the generators (ids, data, solar) is the whole determinism: changing the order of any
draw changes every later id and amount of the seed.
"""

from __future__ import annotations

import datetime as dt
import random

from core.ccb import codes
from core.ccb import models as m
from core.ccb.billing import (
    local_time,
)
from core.ccb.errors import Invalid
from core.ccb.identity import check_access_code, identity_hash
from core.ccb.ids import IdGenerator
from core.ccb.keys import install_id
from core.ccb.rates import RateConfig
from core.ccb.reads import MeterRead, ReadError, ReadType, Register
from core.ccb.reads import estimate as estimate_read
from core.ccb.seed.base import (
    CYCLE_DAYS,
    READS_PER_YEAR,
    SUN_BY_MONTH,
    Meter,
    Read,
    Rows,
    SeedAccount,
    trailing_estimates,
)
from core.ccb.seed.history import History
from core.ccb.seed.words import (
    AREA_CODES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    STREET_KINDS,
    STREETS,
    ZIPS,
)


class Generator(History):
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

    def customer(self, rows: Rows) -> SeedAccount:
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
        rows: Rows,
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
    ) -> Meter:
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
        reads: list[Read] = []
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
        meter = Meter(service, sp_id, meter_id, sa_id, digits, reads, received)
        streak = sum(1 for _ in trailing_estimates(reads))
        if streak >= 3:
            self._investigation(rows, meter, premise_id, account_id, streak)
        return meter

    def _received_reads(
        self, rows: Rows, meter_id: str, delivered: list[Read], usage: list[int], digits: int
    ) -> list[Read]:
        """The received register, read on the delivered register's visits (estimated when it was)."""
        rng, capacity = self.solar_rng, 10**digits
        register = Register(digits=digits)
        ratio = rng.uniform(0.85, 1.15)  # this system's size against the household's use
        reading = rng.randrange(capacity)
        reads: list[Read] = []
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

    def _investigation(self, rows: Rows, meter: Meter, premise_id: str, account_id: str, streak: int) -> None:
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
