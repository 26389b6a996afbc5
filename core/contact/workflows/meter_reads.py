"""Meters and reads (docs/ccb-domain.md §1.4): read instructions per meter type, a reading the customer gives
(after the high/low check), a meter reader's read or No Read, and the CSR To Do a No Read raises.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

import msgspec

from core.bus import Envelope
from core.ccb import port as p
from core.ccb.errors import Invalid
from core.ccb.reads import HighLowStatus, MeterRead, ReadError, ReadType, Register, high_low_check
from core.contact import events as ev
from core.contact.common import View
from core.contact.guard import ContactAccess, Guard
from core.redact import redact

__all__ = ["CustomerReadResult", "MeterInfo", "MeterReads", "ReadAccessFailedPayload", "read_instructions"]


class MeterInfo(View, frozen=True):
    meter_id: str
    badge_number: str
    premise_id: str
    sa_id: str
    service: str
    meter_type: str
    unit: str
    register_digits: int
    last_read_on: dt.date | None
    last_read_type: str | None
    instructions: list[str]


class CustomerReadResult(View, frozen=True):
    read: p.ReadView
    high_low: str | None
    replaced_estimate_read_id: str | None
    consecutive_estimates: int
    case_id: str | None


class ReadAccessFailedPayload(msgspec.Struct, frozen=True, kw_only=True):
    """The fields of ``hub.ccb.read.access_failed`` the contact layer uses."""

    meter_id: str
    premise_id: str | None
    read_id: str


def read_instructions(meter_type: str, service: str, unit: str, digits: int) -> list[str]:
    """How a customer reads their own meter, by meter type and service, in plain words."""
    steps: list[str] = []
    if service == "electric" and meter_type == "dial":
        steps += [
            f"The meter has {digits} small clock-like dials in a row. Read them from left to right and "
            "write down one digit for each dial.",
            "Neighbouring dials turn in opposite directions: follow the direction of the numbers.",
            "If a pointer is between two numbers, write down the smaller one (between 9 and 0, write 9).",
            "If a pointer seems to sit exactly on a number, look at the dial to its right: if that pointer "
            "has not yet passed 0, write down the number below.",
        ]
    elif service == "electric":
        steps += [
            "The display changes every few seconds. Wait for the screen that shows kWh (a screen of all "
            "8s is a display test).",
            f"Write down the {digits} digits shown with kWh; ignore any digit after a decimal point.",
        ]
    elif meter_type == "dial":
        steps += [
            "Lift the lid of the meter box (in the ground near the curb) and the cover of the register.",
            f"Write down the {digits} digits on the number wheels, left to right. Ignore the large sweep "
            "hand and any fixed zeros printed after the wheels: they count less than one unit.",
        ]
    else:
        steps += [
            "Lift the lid of the meter box and shine light on the display to wake it.",
            f"The display alternates between the reading and the flow rate: write down the {digits} "
            "digits of the reading and ignore any digit after a decimal point.",
        ]
    unit_words = "kilowatt-hours" if unit == "KWH" else "hundred cubic feet (748 gallons)"
    steps += [
        f"The reading is in {unit} ({unit_words}).",
        "Do not open a box with bees, standing water or a loose dog, and never break a seal. Give the "
        "digits to the representative; the reading is checked against your past use.",
    ]
    return steps


class MeterReads(Guard):
    """The account's meters, customer and field reads, and the No Read To Do."""

    async def meters(self, account_id: str) -> list[MeterInfo]:
        """The meters of the account's open service agreements, with read instructions per meter type."""
        summary = await self.ccb.get_account_summary(account_id)
        found: list[MeterInfo] = []
        premises: dict[str, p.PremiseView] = {}
        for sa in summary.service_agreements:
            if sa.premise_id is None or sa.sp_id is None or sa.status not in ("10", "20", "30", "50"):
                continue
            if sa.premise_id not in premises:
                premises[sa.premise_id] = await self.ccb.get_premise(sa.premise_id)
            for sp in premises[sa.premise_id].service_points:
                if sp.sp_id != sa.sp_id or sp.meter is None:
                    continue
                meter = sp.meter
                reads = await self.ccb.list_reads(meter.meter_id)
                last = reads[-1] if reads else None
                found.append(
                    MeterInfo(
                        meter_id=meter.meter_id,
                        badge_number=meter.badge_number,
                        premise_id=sa.premise_id,
                        sa_id=sa.sa_id,
                        service=meter.service,
                        meter_type=meter.meter_type,
                        unit=meter.unit,
                        register_digits=meter.register_digits,
                        last_read_on=last.read_on if last else None,
                        last_read_type=last.read_type_name if last else None,
                        instructions=read_instructions(
                            meter.meter_type, meter.service, meter.unit, meter.register_digits
                        ),
                    )
                )
        return found

    async def _meter_of_account(self, account_id: str, meter_id: str) -> MeterInfo:
        for meter in await self.meters(account_id):
            if meter.meter_id == meter_id:
                return meter
        raise Invalid("meter_id", f"meter {meter_id} is not on an open service of account {account_id}")

    async def enter_customer_read(
        self,
        access: ContactAccess,
        account_id: str,
        meter_id: str,
        reading: int,
        confirm: bool,
        key: str | None,
    ) -> CustomerReadResult:
        """Record a reading the customer gives, after the high/low check (§1.4).

        A reading outside the expected range is refused unless ``confirm`` says the customer read it again;
        a confirmed one is stored and the port puts it on the high/low To Do list. An accepted reading is the
        newest read on the meter, so the next bill ends on it rather than on an estimate of the open period.
        """
        meter = await self._meter_of_account(account_id, meter_id)
        register = Register(digits=meter.register_digits)
        try:
            register.check_reading(reading)
        except ReadError as exc:
            raise Invalid("reading", str(exc)) from None
        history = await self.ccb.list_reads(meter_id)
        today = self.today()
        status: HighLowStatus | None = None
        try:
            check = high_low_check(
                [
                    MeterRead(r.read_on, r.reading, ReadType.from_code(r.read_type), r.use_on_bill)
                    for r in history
                ],
                MeterRead(today, reading, ReadType.CUSTOMER_READ),
                register,
            )
            status = check.status
        except ReadError:
            check = None  # no earlier read to compare with: nothing to flag
        if check is not None and status in (HighLowStatus.HIGH, HighLowStatus.LOW) and not confirm:
            raise Invalid(
                "reading",
                f"{reading} means {check.consumption} {meter.unit} in {check.days} days, "
                f"{'above' if status is HighLowStatus.HIGH else 'below'} the expected "
                f"{check.low_limit}-{check.high_limit}: ask the customer to read the meter again, then send "
                "confirm=true to record it anyway",
            )
        replaced = await self._open_period_estimate(account_id, meter.sa_id, history)
        result = await self.ccb.add_meter_read(
            p.AddMeterRead(
                meter_id=meter_id,
                read_at=self.clock.now(),
                read_type=ReadType.CUSTOMER_READ.value,
                reading=reading,
                source="customer",
                remarks="reading given by the customer",
            ),
            actor=access.actor,
            idempotency_key=key,
        )
        async with self.db.session() as s:
            if access.contact_id is not None:
                self._add_action(
                    s,
                    access.contact_id,
                    access.actor,
                    "change.meter",
                    f"customer read {reading} entered on meter {meter.badge_number}",
                    access.account_id,
                )
            self.events.emit(
                s,
                ev.CUSTOMER_READ_ENTERED,
                ev.CustomerReadEntered(
                    meter_id=meter_id,
                    read_id=result.read.read_id,
                    high_low=result.high_low,
                    replaced_estimate_read_id=replaced,
                    contact_id=access.contact_id,
                ),
                actor=access.actor,
            )
        return CustomerReadResult(
            read=result.read,
            high_low=result.high_low,
            replaced_estimate_read_id=replaced,
            consecutive_estimates=result.consecutive_estimates,
            case_id=result.case_id,
        )

    async def _open_period_estimate(
        self, account_id: str, sa_id: str, history: Sequence[p.ReadView]
    ) -> str | None:
        """The estimate the next bill would end on, if the newest billable read of the open period is one."""
        billed_to = max(
            (
                seg.period_end
                for bill in await self.ccb.list_bills(account_id, limit=12)
                for seg in bill.segments
                if seg.sa_id == sa_id and seg.status == "50"
            ),
            default=None,
        )
        usable = [r for r in history if r.use_on_bill and r.reading is not None]
        if not usable:
            return None
        newest = usable[-1]
        if billed_to is not None and newest.read_on <= billed_to:
            return None
        return newest.read_id if ReadType.from_code(newest.read_type).is_estimate else None

    async def field_read(
        self,
        access: ContactAccess,
        meter_id: str,
        read_type: Literal["regular", "no_read"],
        reading: int | None,
        remarks: str | None,
        key: str | None,
    ) -> p.ReadResult:
        """A meter reader's read or No Read; a No Read is announced (access_failed) and estimated."""
        code = ReadType.REGULAR if read_type == "regular" else ReadType.NO_READ
        result = await self.ccb.add_meter_read(
            p.AddMeterRead(
                meter_id=meter_id,
                read_at=self.clock.now(),
                read_type=code.value,
                reading=reading,
                source="field",
                remarks=redact(remarks) if remarks else None,
            ),
            actor=access.actor,
            idempotency_key=key,
        )
        await self.note_change(access, "meter", f"{read_type.replace('_', ' ')} recorded on meter {meter_id}")
        return result

    async def on_access_failed(self, env: Envelope) -> None:
        """A reader's No Read: a To Do for a CSR to call the customer about meter access."""
        failed = env.payload(ReadAccessFailedPayload)
        where = f" at premise {failed.premise_id}" if failed.premise_id else ""
        await self.ccb.create_todo(
            p.CreateToDo(
                role=self.config.access_todo_role,
                todo_type="METER_ACCESS",
                message=(
                    f"Meter {failed.meter_id}{where} could not be read (read {failed.read_id}, no access): "
                    "call the customer to arrange access and update the property access notes"
                ),
                related_kind="premise" if failed.premise_id else "meter",
                related_id=failed.premise_id or failed.meter_id,
                priority=3,
            ),
            actor="system:contact",
            # The bus delivers at least once: the event id makes a redelivery replay, not repeat.
            idempotency_key=f"access-failed:{env.id}",
        )
