"""Pure Solar-team logic: program facts, FAQ matching, net-metered bill wording, the callback SLA.

Nothing here touches HTTP, the bus or the database, so every rule is unit-tested on plain values.

Net energy metering (docs/ccb-domain.md §4.1 "Net energy metering"): the bill shows **kWh Delivered** (from
the
utility to the customer) and **kWh Received** (exported by the customer, read from a second register);
net = delivered − received. The CCB bills it (a positive net through the R-1A tiers, a surplus kept as a
kWh credit for the next bills, forfeited on closing) and returns each billed period through the port;
this module only words a period for the customer.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec

from core.contract.ccb import format_cents, format_price, format_quantity, port

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


# Program facts as the reference states them (docs/ccb-domain.md §4.1, rows "Solar Incentive Program",
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
        source="docs/ccb-domain.md §4.1 (LADWP SIP page, energy.gov)",
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
        source="docs/ccb-domain.md §4.1 (NEM bill reading guides)",
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
        source="docs/ccb-domain.md §4.1 (ladwp.com EV charger rebate FAQ)",
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
    callback_business_days: Annotated[int, msgspec.Meta(ge=1, le=10)] = 1
    holidays: tuple[dt.date, ...] = ()  # no holiday calendar in the reference: weekends only by default


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


# -- net-metered bill explanation ------------------------------------------------------------------------
# The arithmetic is the CCB's: the mock bills a net meter's two registers (net kWh through the R-1A tiers,
# a kWh credit carried to the next bill, forfeited on the final bill; core.ccb.billing, docs/ccb-domain.md
# §4.1)
# and the port hands back each billed period. Here a period is picked and put in words for the customer.
PERIOD = r"^(\d{4}-\d{2}|\d{4}-\d{2}-\d{2}|\d{12})$"
PERIOD_HINT = "give a bill month YYYY-MM, a period start date YYYY-MM-DD or a 12-digit bill id"
CREDIT_RULE = (
    "Solar credit is kept in kWh and taken off the net kWh of your next bills before the tiers are "
    "applied. It never pays the Power Access Charge, the minimum charge, taxes or other non-energy "
    "charges, and any credit left when the account closes is forfeited."
)


class PeriodNotBilled(LookupError):
    """No billed net-metered period matches what was asked for (HTTP 404)."""


def pick_period(periods: Sequence[port.NetMeteringPeriod], wanted: str | None) -> port.NetMeteringPeriod:
    """The period to explain: the latest bill by default, else by bill id (12 digits), bill month
    (``YYYY-MM``, the month of the bill date) or period start date (``YYYY-MM-DD``).

    Raises ``ValueError`` for a malformed ``wanted`` and ``PeriodNotBilled`` when nothing matches.
    """
    if wanted is not None and re.fullmatch(PERIOD, wanted) is None:
        raise ValueError(PERIOD_HINT)
    if not periods:
        raise PeriodNotBilled("no net-metered bill has been issued on this account yet")
    newest_first = sorted(periods, key=lambda x: (x.period_end, x.bill_date), reverse=True)
    if wanted is None:
        return newest_first[0]
    if len(wanted) == 12:
        found = [x for x in newest_first if x.bill_id == wanted]
    elif len(wanted) == 7:
        try:
            month = dt.date.fromisoformat(wanted + "-01")
        except ValueError:
            raise ValueError(f"{wanted} is not a month") from None
        found = [
            x for x in newest_first if (x.bill_date.year, x.bill_date.month) == (month.year, month.month)
        ]
    else:
        try:
            day = dt.date.fromisoformat(wanted)
        except ValueError:
            raise ValueError(f"{wanted} is not a date") from None
        found = [x for x in newest_first if x.period_start == day]
    if not found:
        raise PeriodNotBilled(f"no net-metered bill matches {wanted}")
    return found[0]


def kwh_text(text: str) -> str:
    """A kWh figure as the port gives it (``"1500.00"``) as a customer reads it (``"1,500 kWh"``)."""
    return f"{format_quantity(Decimal(text))} kWh"


def explain_net_metering(view: port.NetMeteringView, period: port.NetMeteringPeriod) -> list[str]:
    """One net-metered bill in plain words, for a Solar team member to read to the customer."""
    last_day = period.period_end - dt.timedelta(days=1)
    net = Decimal(period.net_kwh)
    meter = f", meter {view.badge_number}" if view.badge_number else ""
    lines = [
        f"Bill {period.bill_id} of {period.bill_date.isoformat()}: electricity from "
        f"{period.period_start.isoformat()} to {last_day.isoformat()} ({period.days} days, temperature "
        f"zone {period.zone}{meter}).",
        f"Energy delivered to you by the utility: {kwh_text(period.delivered_kwh)} "
        f"(delivered register {period.delivered_start_reading} -> {period.delivered_end_reading}).",
        f"Energy your solar system sent to the grid (received): {kwh_text(period.received_kwh)} "
        f"(received register {period.received_start_reading} -> {period.received_end_reading}).",
    ]
    if net > 0:
        lines.append(f"Net: you used {kwh_text(period.net_kwh)} more than you sent.")
    elif net < 0:
        lines.append(
            f"Net: you sent {format_quantity(-net)} kWh more than you used, so no energy is charged."
        )
    else:
        lines.append("Net: you sent exactly as much as you used.")
    if Decimal(period.credit_in_kwh):
        used = Decimal(period.credit_used_kwh)
        taken = (
            f"{kwh_text(period.credit_used_kwh)} of it was taken off your net" if used else "none was needed"
        )
        lines.append(
            f"Solar credit carried in from your last bill: {kwh_text(period.credit_in_kwh)}; {taken}."
        )
    lines.append(f"Net kWh charged through the tiers: {kwh_text(period.billed_kwh)}.")
    for t in period.tier_lines:
        season_last = t.end - dt.timedelta(days=1)
        lines.append(
            f"  Tier {t.tier} ({t.season} season, {t.start.isoformat()} to {season_last.isoformat()}): "
            f"{format_quantity(Decimal(t.kwh))} kWh at {format_price(Decimal(t.unit_price), 'kWh')} "
            f"= {format_cents(t.amount_cents)}"
        )
    for c in period.charges:
        lines.append(f"  {c.description}: {format_cents(c.amount_cents)}")
    lines.append(
        f"Energy charges {format_cents(period.energy_cents)} + other charges "
        f"{format_cents(period.charges_cents)} = {format_cents(period.amount_cents)} before taxes."
    )
    if Decimal(period.credit_earned_kwh):
        lines.append(f"Solar credit earned on this bill: {kwh_text(period.credit_earned_kwh)}.")
    if Decimal(period.credit_forfeited_kwh):
        lines.append(
            f"This was the final bill: the {kwh_text(period.credit_forfeited_kwh)} of credit left "
            "is forfeited."
        )
    else:
        lines.append(f"Solar credit carried forward to your next bill: {kwh_text(period.credit_out_kwh)}.")
    if period.estimated:
        lines.append("The meter was not read this time: the reads are estimates, corrected by the next read.")
    lines.append(CREDIT_RULE)
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
