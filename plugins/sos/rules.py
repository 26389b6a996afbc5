"""Pure logic of Serving Our Seniors: config, the contact hints, the program-services review, SOS numbers
and the business-day service level.

Serving Our Seniors (docs/ccb-domain.md §4.1) dates from 1989: utility employees who meet an isolated or
struggling
senior, or one behind on bills, refer them to the City's Department of Aging. The hub keeps the referral
from the CSR's contact to the Customer Relations Office (CRO), which checks the need against what the
program serves, sends it on, and routes any other need to the section that handles it (issue 7 §1).

Nothing here touches HTTP, the bus or the database, so every rule is unit-tested on plain values.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec

# The utility's zone: business days and the service level are counted on the local calendar.
LOCAL_TZ = ZoneInfo("America/Los_Angeles")
EMAIL = r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$"


class Reason(enum.StrEnum):
    """Why a CSR refers the customer; the CRO checks each against the program's services (config)."""

    WELL_BEING_CHECK = "well_being_check"
    LONELINESS = "loneliness"
    UNABLE_TO_MANAGE_BILLS = "unable_to_manage_bills"
    MEALS = "meals"
    TRANSPORTATION = "transportation"
    # Needs the Department of Aging does not serve: they are routed to another section instead.
    SUSPECTED_LEAK = "suspected_leak"
    HOME_REPAIR = "home_repair"
    OTHER = "other"


class Mention(enum.StrEnum):
    """What the customer said during the contact, as the CSR flagged it."""

    CANNOT_PAY = "cannot_pay"
    ISOLATION = "isolation"


class RouteTarget(enum.StrEnum):
    """Where a need outside the program goes."""

    FIELD_INVESTIGATION = "field_investigation"  # a CCB case (and a leak-check field activity)
    HANDY_WORKER = "handy_worker"  # the City's handy-worker repair program, by e-mail
    OTHER_SECTION = "other_section"  # recorded only: the CRO hands it on by hand


class Status(enum.StrEnum):
    FILED = "filed"  # waiting for the CRO
    ACCEPTED = "accepted"  # the CRO checked it and gave it an SOS number
    SENT = "sent"  # e-mailed to the Department of Aging and noted in CCB
    ROUTED = "routed"  # nothing for the program: every need went to another section


OPEN_STATUSES = (Status.FILED, Status.ACCEPTED)

DEFAULT_SERVICES = (
    Reason.WELL_BEING_CHECK,
    Reason.LONELINESS,
    Reason.UNABLE_TO_MANAGE_BILLS,
    Reason.MEALS,
    Reason.TRANSPORTATION,
)


class SosConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The plugin's settings; every default works (the contract suite converts ``{}``)."""

    # Where accepted referrals are e-mailed (the City's Department of Aging intake mailbox).
    department_of_aging_email: Annotated[str, msgspec.Meta(pattern=EMAIL)] = "sos.referrals@aging.example.org"
    # The handy-worker repair program's mailbox; needs routed there are e-mailed to it.
    handy_worker_email: Annotated[str, msgspec.Meta(pattern=EMAIL)] = "handyworker@aging.example.org"
    # What the program serves: a referral whose reasons include none of these cannot be accepted.
    program_services: list[Reason] = msgspec.field(default_factory=lambda: list(DEFAULT_SERVICES))
    # Where each need outside the program goes by default (the CRO may choose another target).
    outside_routes: dict[Reason, RouteTarget] = msgspec.field(
        default_factory=lambda: {
            Reason.SUSPECTED_LEAK: RouteTarget.FIELD_INVESTIGATION,
            Reason.HOME_REPAIR: RouteTarget.HANDY_WORKER,
            Reason.OTHER: RouteTarget.OTHER_SECTION,
        }
    )
    # Service level (issue 7 §1): a referral may wait this many business days for the CRO.
    sla_business_days: Annotated[int, msgspec.Meta(ge=1, le=30)] = 2
    # City holidays, which are not business days (Mon-Fri otherwise).
    holidays: list[dt.date] = []


# -- contact hints ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HintText:
    kind: str
    text: str
    severity: str
    script: str | None = None


SOS_HINT = HintText(
    kind="sos",
    text="May be eligible for Serving Our Seniors: offer a referral to the Department of Aging.",
    severity="info",
    script="We have a program that connects seniors with the City's Department of Aging for help such as "
    "well-being checks and managing bills. May I refer you? They will contact you directly.",
)
# Lifeline is for seniors (62+) or the permanently disabled; HEAP and EZ-SAVE go by income
# (docs/ccb-domain.md §4.1).
ASSISTANCE_HINT = HintText(
    kind="assistance",
    text="Cannot pay: refer to HEAP (one-time payment), EZ-SAVE (low-income discount) "
    "and Lifeline (62+ or permanently disabled).",
    severity="info",
)


def eligibility_hints(senior: bool, mentions: Iterable[str], referral_filed: bool) -> list[HintText]:
    """The hints for a flagged contact.

    SOS: a senior who mentions inability to pay or isolation (issue 7 §1), unless a referral is already
    filed from this contact. Assistance programs: anyone who cannot pay.
    """
    said = set(mentions)
    hints: list[HintText] = []
    if senior and said & {Mention.CANNOT_PAY, Mention.ISOLATION} and not referral_filed:
        hints.append(SOS_HINT)
    if Mention.CANNOT_PAY in said:
        hints.append(ASSISTANCE_HINT)
    return hints


# -- program services ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Review:
    """A referral's reasons split into what the program serves and what goes elsewhere (and where)."""

    in_program: tuple[str, ...]
    outside: tuple[tuple[str, str], ...]

    @property
    def acceptable(self) -> bool:
        return bool(self.in_program)


def review(reasons: Sequence[str], config: SosConfig) -> Review:
    services = {str(s) for s in config.program_services}
    inside = tuple(r for r in reasons if r in services)
    outside = tuple(
        (r, str(config.outside_routes.get(Reason(r), RouteTarget.OTHER_SECTION)))
        for r in reasons
        if r not in services
    )
    return Review(in_program=inside, outside=outside)


def sos_number(referral_id: int, accepted_at: dt.datetime) -> str:
    """``SOS-<local year>-<referral id, 5 digits>``: unique, and readable over the phone."""
    return f"SOS-{accepted_at.astimezone(LOCAL_TZ).year}-{referral_id:05d}"


def all_routed(reasons: Sequence[str], routed: Iterable[str], config: SosConfig) -> bool:
    """True when nothing is left for the program and every outside need has been routed."""
    r = review(reasons, config)
    done = set(routed)
    return not r.in_program and all(need in done for need, _ in r.outside)


# -- business days ---------------------------------------------------------------------------------------
def is_business_day(day: dt.date, holidays: Iterable[dt.date] = ()) -> bool:
    return day.weekday() < 5 and day not in set(holidays)


def add_business_days(
    start: dt.datetime, days: int, holidays: Iterable[dt.date] = (), tz: ZoneInfo = LOCAL_TZ
) -> dt.datetime:
    """The moment ``days`` business days after ``start``, at the same local time of day.

    Filed on a weekend or holiday, the clock starts at midnight of the next business day. Computed on the
    local calendar, so a daylight-saving change in between does not shift the deadline by an hour.
    """
    off = frozenset(holidays)
    local = start.astimezone(tz)
    day = local.date()
    clock = local.time()
    while not is_business_day(day, off):
        day += dt.timedelta(days=1)
        clock = dt.time(0)
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_business_day(day, off):
            counted += 1
    return dt.datetime.combine(day, clock, tzinfo=tz).astimezone(dt.UTC)


def overdue(filed_at: dt.datetime, now: dt.datetime, config: SosConfig) -> bool:
    """A referral still open after the configured number of business days."""
    return now > add_business_days(filed_at, config.sla_business_days, config.holidays)


# -- the e-mail to the Department of Aging --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ExtraContactLine:
    name: str
    relationship: str
    phone: str | None
    note: str | None


def referral_mail(
    *,
    number: str,
    account_id: str,
    customer_name: str,
    service_address: str,
    contact_name: str,
    contact_phone: str,
    reasons: Sequence[str],
    details: str | None,
    consent_note: str | None,
    extra: Sequence[ExtraContactLine],
) -> tuple[str, str]:
    """Subject and body of the referral e-mail.

    Only what the Department of Aging needs to reach the customer: the customer agreed to the referral
    (docs/rules.md §5.4: an assistance program needs the customer's consent), and no identity factor or
    balance
    is sent.
    """
    lines = [
        f"Serving Our Seniors referral {number}",
        "",
        f"Customer: {customer_name} (utility account {account_id})",
        f"Service address: {service_address}",
        f"Reach: {contact_name}, {contact_phone}",
        "Needs: " + ", ".join(r.replace("_", " ") for r in reasons),
        "Consent: the customer agreed to this referral"
        + (f" ({consent_note})" if consent_note else "")
        + ".",
    ]
    if details:
        lines += ["", "Details:", details]
    if extra:
        lines += ["", "Other contacts:"]
        for e in extra:
            phone = f", {e.phone}" if e.phone else ""
            note = f" - {e.note}" if e.note else ""
            lines.append(f"- {e.name} ({e.relationship}){phone}{note}")
    return f"SOS referral {number}", "\n".join(lines) + "\n"


def ccb_note(number: str, reasons: Sequence[str]) -> str:
    """The CCB customer-contact log text that records the referral on the account."""
    needs = ", ".join(r.replace("_", " ") for r in reasons)
    return f"Customer referred to the Department of Aging under Serving Our Seniors, {number} ({needs})."
