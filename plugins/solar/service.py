"""Pure Solar-team logic: program facts, FAQ matching, net-metering arithmetic, the callback SLA.

Nothing here touches HTTP, the bus or the database, so every rule is unit-tested on plain values.

Net energy metering (ccb-domain §4.1 "Net energy metering"): the bill shows **kWh Delivered** (from the
utility to the customer) and **kWh Received** (exported by the customer, read from a second register);
net = delivered − received. A positive net is priced through the ordinary R-1A tiers (§2.2, via
:func:`core.ccb.rates.calculate_electric`); a negative net becomes a credit that rolls to future bills.
Credits "cannot offset taxes, minimum or non-energy charges", so a credit only ever reduces energy: in
``kwh`` mode it reduces the next bill's net kWh before tiering, in ``export_rate`` mode it is valued at a
configured export rate and reduces the next bill's tier (usage) charges, never the fixed or minimum
charges. Leftover credit is forfeited when the account closes (not modelled: no close event reaches here).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec

from core.ccb.rates import BillCalculation, RateConfig, calculate_electric, format_cents

# The Solar team works the utility's business days (stored in UTC, counted in Los Angeles time).
LOCAL_TZ = ZoneInfo("America/Los_Angeles")
ACCOUNT_ID = r"^\d{10}$"
PHONE = r"^\d{10}$"


class Outcome(enum.StrEnum):
    """What happened when the team returned a voicemail (any attempt closes the message)."""

    REACHED = "reached"
    LEFT_MESSAGE = "left_message"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"


class ProgramStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


# -- config ----------------------------------------------------------------------------------------------
class Rebate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    item: str
    amount: str  # as published ("up to $1,000", "$0.25–0.30 per watt"): not always a fixed sum
    note: str | None = None


class Program(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
    name: str
    summary: str
    status: ProgramStatus
    status_note: str
    eligibility: tuple[str, ...] = ()
    rebates: tuple[Rebate, ...] = ()
    phone: str | None = None
    source: str = ""


class Answer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
    question: str
    answer: str
    keywords: tuple[str, ...]  # words or short phrases; plural "s" is ignored when matching
    program: str | None = None


# Program facts as the reference states them (ccb-domain §4.1, rows "Solar Incentive Program",
# "Net energy metering" and "Charge Up L.A.!"); deployments override them in config when they change.
DEFAULT_PROGRAMS: tuple[Program, ...] = (
    Program(
        id="solar_incentive",
        name="Solar Incentive Program (SIP)",
        summary="Rebates for grid-tied photovoltaic (PV) systems, offered from about 1999-2000.",
        status=ProgramStatus.CLOSED,
        status_note="Closed to new applications on 31 Dec 2018; existing installations keep net metering.",
        eligibility=(
            "Grid-tied PV system on a utility electric account",
            "Application received on or before 31 Dec 2018",
        ),
        rebates=(
            Rebate(
                item="Residential PV incentive",
                amount="about $0.25-0.30 per watt",
                note="the stepped-down level reached by 2016; earlier steps paid more",
            ),
        ),
        source="ccb-domain §4.1 (LADWP SIP page, energy.gov)",
    ),
    Program(
        id="net_metering",
        name="Net energy metering",
        summary=(
            "Bill credits for electricity a customer's system sends to the grid: the bill shows kWh "
            "Delivered and kWh Received, and the customer pays for the net."
        ),
        status=ProgramStatus.OPEN,
        status_note="Credits roll to future bills; leftover credit is forfeited when the account closes.",
        eligibility=("Interconnected customer generation on a utility electric account",),
        rebates=(),
        phone="1-866-484-0433",
        source="ccb-domain §4.1 (NEM bill reading guides)",
    ),
    Program(
        id="charge_up_la",
        name="Charge Up L.A.!",
        summary="Residential rebate for an electric-vehicle charger and a dedicated EV time-of-use meter.",
        status=ProgramStatus.OPEN,
        status_note=(
            "Open as last verified in the reference; older amounts were $750 (2013-15), $500 (to 2018)."
        ),
        eligibility=(
            "Utility account holder with an active residential electric meter",
            "One rebate per customer of record per residence",
            "Rebate is at most the actual cost minus other incentives",
        ),
        rebates=(
            Rebate(item="EV charger purchase and installation", amount="up to $1,000"),
            Rebate(item="Dedicated EV time-of-use meter", amount="$250"),
            Rebate(item="EZ-SAVE or Lifeline customers", amount="+$500", note="on top of the charger rebate"),
        ),
        source="ccb-domain §4.1 (ladwp.com EV charger rebate FAQ)",
    ),
)

DEFAULT_ANSWERS: tuple[Answer, ...] = (
    Answer(
        id="sip_open",
        question="Can I still apply for a solar rebate?",
        answer=(
            "No. The Solar Incentive Program closed to new applications on 31 Dec 2018. Customers with "
            "solar are still billed under net energy metering."
        ),
        keywords=("solar rebate", "solar incentive", "sip", "apply", "incentive", "rebate", "solar"),
        program="solar_incentive",
    ),
    Answer(
        id="sip_amount",
        question="How much did the solar incentive pay?",
        answer="By 2016 the residential incentive had stepped down to about $0.25-0.30 per watt installed.",
        keywords=("per watt", "how much", "amount", "incentive", "solar", "paid", "pay"),
        program="solar_incentive",
    ),
    Answer(
        id="nem_bill",
        question="How do I read my solar (net metered) bill?",
        answer=(
            "kWh Delivered is what the utility supplied, kWh Received is what your system sent to the "
            "grid. You pay for the net (delivered minus received) through the normal tiers; if you sent "
            "more than you used, the difference is a credit carried to your next bill."
        ),
        keywords=("delivered", "received", "net", "read my bill", "solar bill", "net metering", "nem"),
        program="net_metering",
    ),
    Answer(
        id="nem_credit",
        question="What happens to my solar credit?",
        answer=(
            "Excess credit rolls to future bills. It cannot pay taxes, the minimum charge or other "
            "non-energy charges, and any credit left when the account closes is forfeited."
        ),
        keywords=("credit", "carry", "carried", "roll", "forfeit", "close", "excess"),
        program="net_metering",
    ),
    Answer(
        id="solar_phone",
        question="What number is the solar billing line?",
        answer="The solar billing line is 1-866-484-0433.",
        keywords=("phone", "number", "call", "line", "contact"),
        program="net_metering",
    ),
    Answer(
        id="ev_rebate",
        question="How much is the EV charger rebate?",
        answer=(
            "Charge Up L.A.! pays up to $1,000 toward buying and installing a charger, $250 for a "
            "dedicated EV time-of-use meter, and $500 more for EZ-SAVE or Lifeline customers, never more "
            "than the actual cost minus other incentives."
        ),
        keywords=("ev", "electric vehicle", "charger", "charge up", "car", "rebate", "meter", "how much"),
        program="charge_up_la",
    ),
    Answer(
        id="ev_eligibility",
        question="Who qualifies for Charge Up L.A.!?",
        answer=(
            "An account holder with an active residential electric meter; one rebate per customer of "
            "record per residence."
        ),
        keywords=("qualify", "eligible", "eligibility", "who can", "ev", "charger", "charge up"),
        program="charge_up_la",
    ),
)


class SolarConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Plugin config; every field has a working default taken from the reference."""

    programs: tuple[Program, ...] = DEFAULT_PROGRAMS
    answers: tuple[Answer, ...] = DEFAULT_ANSWERS
    max_answers: Annotated[int, msgspec.Meta(ge=1, le=20)] = 3
    # "kwh": a surplus is carried in kWh and reduces the next net kWh before tiering (the reference's
    # reading: credits roll to future bills). "export_rate": the surplus is valued at export_rate per kWh.
    credit_mode: Literal["kwh", "export_rate"] = "kwh"
    # $/kWh; illustrative (the reference gives no export rate), used only in "export_rate" mode.
    export_rate: Decimal = Decimal("0.08")
    callback_business_days: Annotated[int, msgspec.Meta(ge=1, le=10)] = 1
    holidays: tuple[dt.date, ...] = ()  # no holiday calendar in the reference: weekends only by default

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.export_rate <= Decimal(5):
            raise ValueError("export_rate must be between 0 and 5 $/kWh")


# -- FAQ matching ----------------------------------------------------------------------------------------
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    # Plural "s" is dropped so "rebates"/"rebate" and "credits"/"credit" match; short words are kept whole.
    return [
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
        for w in _WORD.findall(text.lower())
    ]


def answer_score(question: str, answer: Answer) -> int:
    """Keyword hits of ``question`` against ``answer``: a phrase counts once per word in it."""
    words = _words(question)
    text = f" {' '.join(words)} "
    score = 0
    for keyword in answer.keywords:
        kw = _words(keyword)
        if kw and f" {' '.join(kw)} " in text:
            score += len(kw)  # a matched phrase says more than a single word
    return score


def match_answers(question: str, answers: Sequence[Answer], limit: int = 3) -> list[tuple[Answer, int]]:
    """The best configured answers for a free-text question, best first; none when nothing matches."""
    scored = [(a, answer_score(question, a)) for a in answers]
    hits = [(a, s) for a, s in scored if s > 0]
    # Stable by configured order on ties, so the curated order decides between equal matches.
    hits.sort(key=lambda pair: -pair[1])
    return hits[:limit]


# -- net metering ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NemPeriodInput:
    start: dt.date
    end: dt.date  # exclusive: the end-read date, as in core.ccb.rates
    delivered_kwh: int
    received_kwh: int


@dataclass(frozen=True, slots=True)
class NemResult:
    """One net-metered billing period, worked out."""

    start: dt.date
    end: dt.date
    delivered_kwh: int
    received_kwh: int
    net_kwh: int  # delivered - received; negative when the customer exported more than they used
    credit_in_kwh: int  # carried in from earlier periods (kwh mode)
    credit_in_cents: int  # carried in from earlier periods (export_rate mode)
    billed_kwh: int  # what went through the tiers
    credit_used_kwh: int
    credit_used_cents: int
    credit_out_kwh: int  # carried forward to the next period
    credit_out_cents: int
    calculation: BillCalculation
    energy_cents: int  # tier charges after any cents credit
    total_cents: int  # energy + fixed/minimum charges, before taxes


def net_kwh(delivered_kwh: int, received_kwh: int) -> int:
    """ccb-domain §4.1: net = kWh Delivered − kWh Received."""
    if delivered_kwh < 0 or received_kwh < 0:
        raise ValueError("register quantities cannot be negative")
    return delivered_kwh - received_kwh


def settle_period(
    rates: RateConfig,
    zone: str,
    period: NemPeriodInput,
    *,
    credit_in_kwh: int = 0,
    credit_in_cents: int = 0,
    mode: Literal["kwh", "export_rate"] = "kwh",
    export_rate: Decimal = Decimal("0.08"),
) -> NemResult:
    """Price one period: net through the tiers, or a surplus carried forward (ccb-domain §4.1, §2.2)."""
    net = net_kwh(period.delivered_kwh, period.received_kwh)
    used_kwh = used_cents = 0
    out_kwh, out_cents = credit_in_kwh, credit_in_cents
    billed = max(net, 0)
    if mode == "kwh":
        # A kWh credit offsets consumption before tiering, so it comes off the most expensive tiers first.
        used_kwh = min(billed, credit_in_kwh)
        billed -= used_kwh
        out_kwh = credit_in_kwh - used_kwh + max(-net, 0)
    calc = calculate_electric(rates, zone, period.start, period.end, billed)
    energy = calc.usage_cents
    if mode == "export_rate":
        # Valued credit offsets the energy (tier) charges only, never fixed or minimum charges (§4.1).
        used_cents = min(energy, credit_in_cents)
        energy -= used_cents
        surplus = Decimal(max(-net, 0)) * export_rate * 100
        out_cents = credit_in_cents - used_cents + int(surplus.to_integral_value(rounding="ROUND_HALF_UP"))
    return NemResult(
        start=period.start,
        end=period.end,
        delivered_kwh=period.delivered_kwh,
        received_kwh=period.received_kwh,
        net_kwh=net,
        credit_in_kwh=credit_in_kwh,
        credit_in_cents=credit_in_cents,
        billed_kwh=billed,
        credit_used_kwh=used_kwh,
        credit_used_cents=used_cents,
        credit_out_kwh=out_kwh,
        credit_out_cents=out_cents,
        calculation=calc,
        energy_cents=energy,
        total_cents=energy + calc.charges_cents,
    )


def settle_chain(
    rates: RateConfig,
    zone: str,
    periods: Iterable[NemPeriodInput],
    *,
    opening_credit_kwh: int = 0,
    opening_credit_cents: int = 0,
    mode: Literal["kwh", "export_rate"] = "kwh",
    export_rate: Decimal = Decimal("0.08"),
) -> list[NemResult]:
    """Settle periods in date order, each carrying its leftover credit into the next."""
    out: list[NemResult] = []
    kwh, cents = opening_credit_kwh, opening_credit_cents
    for period in sorted(periods, key=lambda p: p.start):
        result = settle_period(
            rates, zone, period, credit_in_kwh=kwh, credit_in_cents=cents, mode=mode, export_rate=export_rate
        )
        out.append(result)
        kwh, cents = result.credit_out_kwh, result.credit_out_cents
    return out


def explain_nem(result: NemResult) -> list[str]:
    """The period in plain words, for a CSR to read to the customer."""
    last_day = result.end - dt.timedelta(days=1)
    lines = [
        f"Billing period {result.start.isoformat()} to {last_day.isoformat()} "
        f"({result.calculation.days} days, zone {result.calculation.zone}).",
        f"Energy delivered to you by the utility: {result.delivered_kwh} kWh.",
        f"Energy your system sent to the grid (received): {result.received_kwh} kWh.",
    ]
    if result.net_kwh > 0:
        lines.append(f"Net: you used {result.net_kwh} kWh more than you sent.")
    elif result.net_kwh < 0:
        lines.append(f"Net: you sent {-result.net_kwh} kWh more than you used, so no energy is charged.")
    else:
        lines.append("Net: you sent exactly as much as you used.")
    if result.credit_in_kwh:
        lines.append(
            f"Credit carried in: {result.credit_in_kwh} kWh; {result.credit_used_kwh} kWh used this period."
        )
    if result.credit_in_cents:
        lines.append(
            f"Credit carried in: {format_cents(result.credit_in_cents)}; "
            f"{format_cents(result.credit_used_cents)} used against energy charges."
        )
    lines.append(f"Net kWh charged through the tiers: {result.billed_kwh} kWh.")
    lines.extend(result.calculation.explain())
    if result.credit_used_cents:
        lines.append(
            f"Less solar credit on energy charges: -{format_cents(result.credit_used_cents)}; "
            f"total before taxes {format_cents(result.total_cents)}."
        )
    if result.credit_out_kwh:
        lines.append(f"Credit carried forward to your next bill: {result.credit_out_kwh} kWh.")
    if result.credit_out_cents:
        lines.append(f"Credit carried forward to your next bill: {format_cents(result.credit_out_cents)}.")
    lines.append(
        "Credits cannot pay taxes, the minimum charge or other non-energy charges, and are forfeited "
        "when the account closes."
    )
    return lines


# -- callback SLA ----------------------------------------------------------------------------------------
def is_business_day(day: dt.date, holidays: Iterable[dt.date] = ()) -> bool:
    return day.weekday() < 5 and day not in set(holidays)


def callback_due(
    left_at: dt.datetime, business_days: int = 1, holidays: Sequence[dt.date] = ()
) -> dt.datetime:
    """When a voicemail must be returned: ``business_days`` business days after it was left (LA time).

    A message left on a weekend or holiday starts its clock at the next business day's midnight, so a
    Saturday message is due by the end of Monday; otherwise the deadline keeps the time of day it was left.
    """
    local = left_at.astimezone(LOCAL_TZ)
    day, time_of_day = local.date(), local.timetz().replace(tzinfo=None)
    if not is_business_day(day, holidays):
        while not is_business_day(day, holidays):
            day += dt.timedelta(days=1)
        time_of_day = dt.time(0, 0)
    remaining = business_days
    while remaining:
        day += dt.timedelta(days=1)
        if is_business_day(day, holidays):
            remaining -= 1
    return dt.datetime.combine(day, time_of_day, LOCAL_TZ).astimezone(dt.UTC)


def callback_overdue(
    left_at: dt.datetime,
    returned_at: dt.datetime | None,
    now: dt.datetime,
    business_days: int = 1,
    holidays: Sequence[dt.date] = (),
) -> bool:
    return returned_at is None and now > callback_due(left_at, business_days, holidays)
