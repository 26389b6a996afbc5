"""Pure claims logic: config, coverage rules, grant limits, the business-day SLA clock with pauses.

Nothing here touches HTTP, the bus or the database, so each rule is unit-tested on plain values.

Coverage: what a customer asks a credit for (the *loss*) is looked up in the configured rules; each rule
says whether it is covered, why (the reason is recorded on the claim and printed in a denial letter), the
adjustment type a grant posts and, for a loss tied to one service, which service agreement it lands on.

SLA clock: a claim must be decided within a number of business days (Monday to Friday on the utility's
local calendar, configured holidays left out). While the utility waits for the customer to send more
information the clock is paused, so the time counted is the business time the claim was in our hands.
Time is counted on the local wall calendar, so every business day is exactly 24 hours even when the
clocks change for daylight saving.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec

# Business days are the utility's (stored in UTC, counted locally).
LOCAL_TZ = ZoneInfo("America/Los_Angeles")
ACCOUNT_ID = r"^\d{10}$"
DAY_SECONDS = 24 * 60 * 60

ServiceKind = Literal["water", "electric"]
Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
Address = Annotated[str, msgspec.Meta(pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")]


class Status(enum.StrEnum):
    OPEN = "open"  # filed, waiting for review
    INFO_REQUESTED = "info_requested"  # waiting for the customer; the SLA clock is paused
    GRANTED = "granted"
    DENIED = "denied"
    FRAUD_REPORTED = "fraud_reported"  # handed to security; no credit is posted


# Statuses that still wait for a decision (and so are counted by the SLA check).
UNDECIDED = (Status.OPEN, Status.INFO_REQUESTED)


class CoverageRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One kind of loss and whether a bill credit covers it."""

    label: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    covered: bool
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=400)]
    # The service whose agreement is credited; None means "the service of the incident".
    service: ServiceKind | None = None
    adjustment_type: Annotated[str, msgspec.Meta(pattern=r"^[A-Z_]{2,20}$")] = "MISC_CREDIT"


def _default_coverage() -> dict[str, CoverageRule]:
    return {
        "water_lost": CoverageRule(
            label="Water lost from a utility main break or leak",
            covered=True,
            reason="Water lost because of a break or leak on the utility's side is credited.",
            service="water",
            adjustment_type="LEAK_CREDIT",
        ),
        "service_not_received": CoverageRule(
            label="Charges for service not received",
            covered=True,
            reason="Charges for service the customer did not receive because of utility work are credited.",
        ),
        "lawn_landscaping": CoverageRule(
            label="Lawn or landscaping damage",
            covered=False,
            reason="Damage to lawns or landscaping is not covered by a bill credit.",
        ),
        "property_damage": CoverageRule(
            label="Damage to property or belongings",
            covered=False,
            reason="Property damage is not settled as a bill credit; it goes to the City's claims process.",
        ),
    }


def _default_incidents() -> dict[str, ServiceKind]:
    return {
        "water_main_break": "water",
        "water_leak": "water",
        "water_outage": "water",
        "electric_outage": "electric",
    }


class ClaimsConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The claims plugin's settings; every default works (the contract suite converts ``{}``)."""

    # Loss code -> coverage rule (what the customer asks a credit for).
    coverage: dict[Code, CoverageRule] = msgspec.field(default_factory=_default_coverage)
    # Incident code -> the service it affected (which service agreement a credit lands on).
    incidents: dict[Code, ServiceKind] = msgspec.field(default_factory=_default_incidents)
    sla_business_days: Annotated[int, msgspec.Meta(ge=1, le=120)] = 10
    holidays: list[dt.date] = msgspec.field(default_factory=list)
    # Largest claim taken at intake; bigger losses belong to the City's claims process, not a bill credit.
    max_claim_cents: Annotated[int, msgspec.Meta(ge=1, le=100_000_000)] = 5_000_000
    # Documents: what an upload may be (sniffed from its bytes, not the declared type) and how big.
    document_types: list[str] = msgspec.field(
        default_factory=lambda: ["application/pdf", "image/jpeg", "image/png", "image/webp", "image/heic"]
    )
    max_document_bytes: Annotated[int, msgspec.Meta(ge=1_000, le=50_000_000)] = 10_000_000
    # Where an incident report goes when a claim looks fraudulent.
    security_address: Address = "security.incidents@utility.example"
    signature: Annotated[str, msgspec.Meta(max_length=200)] = "Customer Service, Claims"


# -- coverage and limits ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Coverage:
    """The outcome of a review against the rules: recorded on the claim."""

    loss: str
    covered: bool
    reason: str
    adjustment_type: str | None


def review(loss: str, config: ClaimsConfig) -> Coverage:
    """Look ``loss`` up in the coverage rules; an unknown loss is not covered (fail closed)."""
    rule = config.coverage.get(loss)
    if rule is None:
        return Coverage(loss, False, f"no coverage rule for {loss!r}", None)
    return Coverage(loss, rule.covered, rule.reason, rule.adjustment_type if rule.covered else None)


def credit_service(loss: str, incident: str, config: ClaimsConfig) -> ServiceKind | None:
    """The service whose agreement a grant credits: the loss's own service, else the incident's."""
    rule = config.coverage.get(loss)
    if rule is not None and rule.service is not None:
        return rule.service
    return config.incidents.get(incident)


class GrantError(ValueError):
    """A grant the rules refuse, naming the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_grant(amount_cents: int, claimed_cents: int, coverage: Coverage) -> None:
    """Refuse a grant that is not a positive credit within the amount claimed, or of an uncovered loss."""
    if amount_cents <= 0:
        raise GrantError("amount_cents", "a credit must be a positive amount of cents")
    if amount_cents > claimed_cents:
        raise GrantError("amount_cents", f"is above the {claimed_cents} cents claimed")
    if not coverage.covered:
        raise GrantError("loss", f"is not covered: {coverage.reason}")


def letter_decision(amount_cents: int, claimed_cents: int) -> str:
    """The ``decision`` word of the decision letter for a grant."""
    return "approved" if amount_cents >= claimed_cents else "partially approved"


_DOLLARS = re.compile(r"(-?)\$?(\d{1,9})(?:\.(\d{1,2}))?")


def dollars_to_cents(text: str) -> int | str:
    """Dollars as staff type them (``"125"``, ``"$1,090.5"``, ``"-1.00"``) to integer cents, never through a
    float. Anything else comes back unchanged, so the request Struct refuses it naming the field."""
    m = _DOLLARS.fullmatch(text.strip().replace(",", ""))
    if not m:
        return text
    cents = int(m.group(2)) * 100 + int((m.group(3) or "0").ljust(2, "0"))
    return -cents if m.group(1) else cents


# -- the SLA clock ---------------------------------------------------------------------------------------
def is_business_day(day: dt.date, holidays: frozenset[dt.date] = frozenset()) -> bool:
    return day.weekday() < 5 and day not in holidays


def business_seconds(
    start: dt.datetime, end: dt.datetime, holidays: Iterable[dt.date] = (), tz: ZoneInfo = LOCAL_TZ
) -> int:
    """Seconds between ``start`` and ``end`` that fall on business days, on the local wall calendar."""
    off = frozenset(holidays)
    a = start.astimezone(tz).replace(tzinfo=None)
    b = end.astimezone(tz).replace(tzinfo=None)
    if b <= a:
        return 0
    total = 0
    day = a.date()
    while day <= b.date():
        if is_business_day(day, off):
            lo = max(a, dt.datetime.combine(day, dt.time(0)))
            hi = min(b, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0)))
            if hi > lo:
                total += int((hi - lo).total_seconds())
        day += dt.timedelta(days=1)
    return total


def sla_elapsed(
    filed_at: dt.datetime,
    now: dt.datetime,
    *,
    paused_seconds: int,
    paused_since: dt.datetime | None,
    holidays: Iterable[dt.date] = (),
) -> int:
    """Business seconds the claim has been in the utility's hands: filed until now, less every pause."""
    off = list(holidays)
    elapsed = business_seconds(filed_at, now, off) - paused_seconds
    if paused_since is not None:
        elapsed -= business_seconds(paused_since, now, off)
    return max(elapsed, 0)


def is_overdue(
    status: str,
    filed_at: dt.datetime,
    now: dt.datetime,
    *,
    paused_seconds: int,
    paused_since: dt.datetime | None,
    config: ClaimsConfig,
) -> bool:
    """Undecided and past the configured business days, not counting the time spent waiting."""
    if status not in UNDECIDED:
        return False
    used = sla_elapsed(
        filed_at, now, paused_seconds=paused_seconds, paused_since=paused_since, holidays=config.holidays
    )
    return used > config.sla_business_days * DAY_SECONDS


def claim_number(claim_id: int, filed_at: dt.datetime) -> str:
    """The number printed on letters: the local year and the row id, e.g. ``CLM-2026-000042``."""
    return f"CLM-{filed_at.astimezone(LOCAL_TZ).year}-{claim_id:06d}"


# -- documents -------------------------------------------------------------------------------------------
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF-", 0, "application/pdf"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
)


def sniff(head: bytes) -> str | None:
    """The type of a document from its first bytes; the declared type of an upload is not trusted."""
    for magic, offset, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1"):
        return "image/heic"
    return None
