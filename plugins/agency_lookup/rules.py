"""Pure rules of the agency lookup: the directory, its search, the disclosure decision table, the log chain.

Nothing here touches the database, the CCB or the clock: the directory search is a scoring function over the
configured entries, and ``decide`` turns a recorded request into a decision from the table of docs/rules.md
§5.4
(default deny; bulk or threshold queries only on a court order; electric interval data only on legal
process or the customer's consent). ``limit_fields`` cuts a gathered record down to what the decision
allows, so the HTTP side cannot release more than the basis permits even by mistake. The disclosure log's
hash chain (``GENESIS``, ``entry_digest``, ``chain_entry``) is a pure function of the entries, so the service
that appends and the check that walks the log compute it the same way.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

# Telephony's external directory takes labels of at most 40 characters and dialable digits only.
DIAL = r"^\+?\d{3,20}$"
EntryId = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Phrase = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]


class EntryKind(enum.StrEnum):
    LADWP = "ladwp"
    CITY = "city"
    AGENCY = "agency"
    UTILITY = "utility"


class DirectoryEntry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One place a CSR can send a caller: who, the public number as printed, and what it is for."""

    id: EntryId
    name: Label
    organization: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    kind: EntryKind
    number: Annotated[str, msgspec.Meta(min_length=1, max_length=160)]
    dial: Annotated[str, msgspec.Meta(pattern=DIAL)]
    needs: list[Phrase] = []
    keywords: list[Phrase] = []
    notes: Annotated[str, msgspec.Meta(max_length=300)] = ""
    transfer: bool = True


def _entry(
    id: str,
    name: str,
    organization: str,
    kind: EntryKind,
    number: str,
    dial: str,
    needs: Iterable[str],
    keywords: Iterable[str],
    notes: str = "",
) -> DirectoryEntry:
    return DirectoryEntry(
        id=id,
        name=name,
        organization=organization,
        kind=kind,
        number=number,
        dial=dial,
        needs=list(needs),
        keywords=list(keywords),
        notes=notes,
    )


def default_directory() -> list[DirectoryEntry]:
    """The public numbers of docs/ccb-domain.md §4.2, each with the needs callers describe in their own
    words."""
    L, C, A, U = EntryKind.LADWP, EntryKind.CITY, EntryKind.AGENCY, EntryKind.UTILITY
    return [
        _entry(
            "ladwp_residential",
            "LADWP residential",
            "LADWP",
            L,
            "1-800-DIAL-DWP (1-800-342-5397)",
            "18003425397",
            ["start service", "stop service", "residential bill question", "move in", "move out"],
            ["ladwp", "residential", "account", "bill"],
        ),
        _entry(
            "ladwp_tty",
            "LADWP TDD/TTY",
            "LADWP",
            L,
            "1-800-HEAR-DWP (1-800-432-7397)",
            "18004327397",
            ["deaf caller", "hearing impaired", "text telephone"],
            ["tty", "tdd", "deaf", "hearing"],
        ),
        _entry(
            "ladwp_commercial",
            "LADWP commercial",
            "LADWP",
            L,
            "1-800-499-8840",
            "18004998840",
            ["business account", "commercial service", "commercial bill"],
            ["commercial", "business", "company"],
        ),
        _entry(
            "ladwp_pay_by_phone",
            "LADWP pay by phone",
            "LADWP",
            L,
            "1-877-MYPAYDWP (1-877-697-2939)",
            "18776972939",
            ["pay bill by phone", "make a payment", "automated payment"],
            ["pay", "payment", "card"],
        ),
        _entry(
            "ladwp_solar_billing",
            "LADWP solar/EV billing",
            "LADWP",
            L,
            "1-866-484-0433",
            "18664840433",
            ["solar bill", "net metering credit", "electric vehicle rate", "ev billing"],
            ["solar", "net", "metering", "ev", "vehicle"],
        ),
        _entry(
            "ladwp_solar_interconnection",
            "LADWP solar interconnection",
            "LADWP",
            L,
            "(213) EMPOWER / (213) 367-6937",
            "2133676937",
            ["solar meter", "solar interconnection", "connect solar panels"],
            ["interconnection", "solar", "panel", "inverter"],
        ),
        _entry(
            "city_311",
            "City of LA 311 (MyLA311)",
            "City of Los Angeles",
            C,
            "3-1-1 in the city; (213) 473-3231 outside; (866) 4LA-CITY / (866) 452-2489 in LA County",
            "311",
            ["bulky item pickup", "graffiti removal", "pothole", "streetlight out", "city service"],
            ["311", "city", "graffiti", "pothole", "streetlight", "myla311"],
            "Mon-Fri 7-7, weekends 8-4:45",
        ),
        _entry(
            "ladbs",
            "LA Building and Safety (LADBS)",
            "City of Los Angeles",
            C,
            "via 311; automated inspections 1-888-LA-4-BUILD (1-888-524-2845); "
            "outside LA County (213) 482-0000",
            "311",
            ["permit for new construction", "building permit", "building inspection", "remodel permit"],
            ["permit", "construction", "building", "inspection", "ladbs", "remodel", "addition"],
            "Reached through 311; inspections line 1-888-524-2845.",
        ),
        _entry(
            "lasan",
            "LA Sanitation (LASAN)",
            "City of Los Angeles",
            C,
            "1-800-773-2489 (24/7)",
            "18007732489",
            ["trash pickup", "bulky item", "sewer service charge", "solid resources fee", "missed trash"],
            ["trash", "sanitation", "sewer", "recycling", "garbage", "lasan"],
            "City charges collected on the LADWP bill.",
        ),
        _entry(
            "sce",
            "Southern California Edison",
            "Southern California Edison",
            U,
            "1-800-655-4555",
            "18006554555",
            ["edison bill", "electric service outside la city", "sce account"],
            ["edison", "sce"],
        ),
        _entry(
            "sce_outages",
            "Southern California Edison outages",
            "Southern California Edison",
            U,
            "1-800-611-1911",
            "18006111911",
            ["edison power outage", "sce outage"],
            ["edison", "sce", "outage"],
        ),
        _entry(
            "socalgas",
            "SoCalGas",
            "SoCalGas",
            U,
            "1-877-238-0092",
            "18772380092",
            ["gas bill", "start gas service", "gas service"],
            ["gas", "socalgas", "pilot"],
        ),
        _entry(
            "socalgas_emergency",
            "SoCalGas gas leak/emergency",
            "SoCalGas",
            U,
            "1-800-427-2200",
            "18004272200",
            ["gas leak", "smell gas", "gas emergency", "gas odor"],
            ["gas", "leak", "smell", "odor", "socalgas"],
            "Tell the caller to leave the building first and call from outside.",
        ),
        _entry(
            "cpuc",
            "CPUC Consumer Affairs",
            "California Public Utilities Commission",
            A,
            "1-800-649-7570",
            "18006497570",
            ["complaint about edison", "complaint about socalgas"],
            ["cpuc", "complaint", "commission"],
            "Not for LADWP complaints: LADWP is not regulated by the CPUC.",
        ),
        _entry(
            "la211",
            "211 LA County",
            "211 LA County",
            A,
            "2-1-1 / 1-800-339-6993",
            "211",
            ["social services referral", "food assistance", "shelter", "rent help"],
            ["211", "social", "food", "shelter", "housing", "assistance"],
        ),
    ]


class AgencyConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``[plugins.agency_lookup]``: the directory (defaults: docs/ccb-domain.md §4.2) and the disclosure
    limits.

    ``bulk_account_limit``: a request naming more accounts than this is a bulk query (docs/rules.md §5.2,
    SMUD).
    ``retention_years``: how long a disclosure-log entry is kept (its ``retention_until``, §5.5).
    """

    directory: list[DirectoryEntry] = msgspec.field(default_factory=default_directory)
    max_results: Annotated[int, msgspec.Meta(ge=1, le=50)] = 5
    bulk_account_limit: Annotated[int, msgspec.Meta(ge=1, le=50)] = 3
    retention_years: Annotated[int, msgspec.Meta(ge=1, le=30)] = 5

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for entry in self.directory:
            if entry.id in seen:
                raise ValueError(f"duplicate directory id {entry.id!r}")
            seen.add(entry.id)


# -- directory search ------------------------------------------------------------------------------------
_STOP = frozenset(
    "a an and the for of to in on at my our is it i we need want about with from new get have has do".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    # Plurals are the only inflection callers vary much ("permits", "leaks"); more would over-match.
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def tokens(text: str, *, keep_stop: bool = False) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower()) if keep_stop or w not in _STOP]


@dataclass(frozen=True, slots=True)
class Match:
    entry: DirectoryEntry
    score: int
    matched: tuple[str, ...]


def score(entry: DirectoryEntry, query: str) -> Match:
    """How well an entry fits what the caller needs: a whole need phrase weighs most, then keywords."""
    words = set(tokens(query))
    points = 0
    matched: list[str] = []
    for need in entry.needs:
        need_words = set(tokens(need))
        if need_words and need_words <= words:
            points += 5 * len(need_words)
            matched.append(need)
        else:
            points += len(need_words & words)
    for keyword in entry.keywords:
        if set(tokens(keyword)) & words:
            points += 2
    points += len(set(tokens(entry.name)) & words)
    return Match(entry=entry, score=points, matched=tuple(matched))


def search(directory: Iterable[DirectoryEntry], query: str, limit: int) -> list[Match]:
    """Entries that fit the query, best first; ties keep the directory's order. An empty query lists all."""
    entries = list(directory)
    if not tokens(query):
        return [Match(entry=e, score=0, matched=()) for e in entries][:limit]
    scored = [score(e, query) for e in entries]
    ranked = sorted((m for m in scored if m.score > 0), key=lambda m: (-m.score, entries.index(m.entry)))
    return ranked[:limit]


def transfer_targets(directory: Iterable[DirectoryEntry]) -> dict[str, str]:
    """Label → digits, the shape of telephony's ``external_directory`` (first label wins on a clash)."""
    found: dict[str, str] = {}
    for entry in directory:
        if entry.transfer:
            found.setdefault(entry.name, entry.dial)
    return found


# -- disclosures (docs/rules.md §5)
# ---------------------------------------------------------------------------
class RequesterKind(enum.StrEnum):
    LAW_ENFORCEMENT = "law_enforcement"  # LAPD, FBI, other police
    GOVERNMENT_AGENCY = "government_agency"  # LAHD, other City or County agency
    ASSISTANCE_PROGRAM = "assistance_program"  # HEAP/LIHEAP administrators, nonprofits
    AUTHORIZED_AGENT = "authorized_agent"  # landlord, relative, agent of the customer
    PRA_REQUESTER = "pra_requester"  # Public Records Act requester


class Basis(enum.StrEnum):
    """The ``legal_basis`` enum of docs/rules.md §5.5."""

    GC_A = "GC7927.410_a"
    GC_B = "GC7927.410_b"
    GC_C = "GC7927.410_c"
    GC_D = "GC7927.410_d"
    GC_E = "GC7927.410_e"
    GC_F = "GC7927.410_f"
    PUC_CONSENT = "PUC8381_consent"
    PUC_EXCEPTION = "PUC8381_exception"
    WARRANT = "warrant"
    SUBPOENA = "subpoena"
    COURT_ORDER = "court_order"
    EXIGENT = "exigent"


class Element(enum.StrEnum):
    """The ``elements_disclosed`` values of docs/rules.md §5.5."""

    NAME = "name"
    ADDRESS = "address"
    PHONE = "phone"
    CREDIT = "credit"
    BILLING_USAGE = "billing_usage"
    AMI_INTERVAL = "ami_interval"
    PAYMENTS = "payments"


class Outcome(enum.StrEnum):
    GRANTED = "granted"
    PARTIAL = "partial"
    DENIED = "denied"


ALL_ELEMENTS = frozenset(Element)
# §5.1: name, usage data and home address "shall" be made available; phone and credit history are not in
# that list, and AMI interval data is governed by PUC 8381 (§5.2), not by the Records Act.
GC_ELEMENTS = frozenset({Element.NAME, Element.ADDRESS, Element.BILLING_USAGE})
LEGAL_PROCESS = frozenset({Basis.WARRANT, Basis.SUBPOENA, Basis.COURT_ORDER})
# Elements each basis can carry. Legal process and the customer's consent reach everything, including AMI
# interval data (§5.2, §5.4); an exigent request gets only what locates a person.
ELEMENTS_BY_BASIS: Mapping[Basis, frozenset[Element]] = {
    Basis.GC_A: GC_ELEMENTS,
    Basis.GC_B: GC_ELEMENTS,
    Basis.GC_C: GC_ELEMENTS,
    Basis.GC_D: GC_ELEMENTS,
    Basis.GC_E: GC_ELEMENTS,
    Basis.GC_F: GC_ELEMENTS,
    Basis.PUC_CONSENT: ALL_ELEMENTS,
    Basis.PUC_EXCEPTION: frozenset({Element.BILLING_USAGE, Element.AMI_INTERVAL}),
    Basis.WARRANT: ALL_ELEMENTS,
    Basis.SUBPOENA: ALL_ELEMENTS,
    Basis.COURT_ORDER: ALL_ELEMENTS,
    Basis.EXIGENT: frozenset({Element.NAME, Element.ADDRESS, Element.PHONE}),
}
# Which bases each requester may rely on (the rows of §5.4); a court order serves any requester.
BASES_BY_REQUESTER: Mapping[RequesterKind, frozenset[Basis]] = {
    RequesterKind.LAW_ENFORCEMENT: frozenset({Basis.GC_C, Basis.EXIGENT, Basis.PUC_CONSENT} | LEGAL_PROCESS),
    RequesterKind.GOVERNMENT_AGENCY: frozenset({Basis.GC_B, Basis.PUC_CONSENT} | LEGAL_PROCESS),
    RequesterKind.ASSISTANCE_PROGRAM: frozenset({Basis.PUC_CONSENT, Basis.COURT_ORDER}),
    RequesterKind.AUTHORIZED_AGENT: frozenset({Basis.GC_A, Basis.PUC_CONSENT, Basis.COURT_ORDER}),
    RequesterKind.PRA_REQUESTER: frozenset({Basis.GC_D, Basis.GC_E, Basis.GC_F, Basis.COURT_ORDER}),
}


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the decision needs to know about a recorded request (no customer data)."""

    requester: RequesterKind
    basis: Basis | None
    elements: frozenset[Element]
    bulk: bool
    case_or_incident_no: str | None = None
    instrument_ref: str | None = None
    stated_purpose: str | None = None
    consent_ref: str | None = None
    determination: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    allowed: frozenset[Element]
    reason: str | None
    needs_approval: bool

    @property
    def released(self) -> bool:
        return self.outcome is not Outcome.DENIED


def _deny(reason: str) -> Decision:
    return Decision(outcome=Outcome.DENIED, allowed=frozenset(), reason=reason, needs_approval=False)


def _missing_support(f: RequestFacts) -> str | None:
    """The document a basis rests on, when the request does not record it (docs/rules.md §5.4)."""
    basis = f.basis
    if basis in LEGAL_PROCESS and not f.instrument_ref:
        return f"{basis} needs the instrument reference (court, docket or warrant number, date)"
    if basis is Basis.GC_C and not f.case_or_incident_no:
        return "GC7927.410_c needs a written request naming the subject and the case or incident number"
    if basis is Basis.GC_B and not f.stated_purpose:
        return "GC7927.410_b needs the agency's statement of the official duty"
    if basis in (Basis.GC_A, Basis.PUC_CONSENT) and not f.consent_ref:
        return f"{basis} needs the customer's documented authorization or consent"
    if basis in (Basis.GC_D, Basis.GC_E, Basis.GC_F) and not f.determination:
        return f"{basis} needs the custodian's or counsel's written determination"
    if basis is Basis.PUC_EXCEPTION and not f.instrument_ref:
        return "PUC8381_exception needs the law or contract it rests on"
    if basis is Basis.EXIGENT and not f.stated_purpose:
        return "exigent needs the emergency stated"
    return None


def decide(f: RequestFacts) -> Decision:
    """The decision table of docs/rules.md §5.4, applied in order; the first rule that denies wins."""
    if f.basis is None:
        return _deny("no legal basis recorded (default deny, docs/rules.md §5.4)")
    if not f.elements:
        return _deny("no data elements requested")
    if f.bulk and f.basis is not Basis.COURT_ORDER:
        # §5.2 (SMUD): threshold or area queries are not an "ongoing investigation".
        return _deny("bulk or threshold queries need a court order (docs/rules.md §5.2, §5.4)")
    if f.basis not in BASES_BY_REQUESTER[f.requester]:
        return _deny(f"{f.basis} is not a basis a {f.requester.value.replace('_', ' ')} can rely on (§5.4)")
    missing = _missing_support(f)
    if missing:
        return _deny(missing)
    allowed = f.elements & ELEMENTS_BY_BASIS[f.basis]
    if not allowed:
        return _deny(f"{f.basis} allows none of the requested elements")
    withheld = f.elements - allowed
    reason = None
    if withheld:
        names = ", ".join(sorted(withheld))
        reason = f"withheld: {names} (not covered by {f.basis}"
        reason += (
            "; AMI interval data needs legal process or consent, §5.2)"
            if (Element.AMI_INTERVAL in withheld)
            else ")"
        )
    # Two people decide bulk releases and AMI interval data (§5.5 approved_by, two-person rule).
    needs_approval = f.bulk or Element.AMI_INTERVAL in allowed
    return Decision(
        outcome=Outcome.PARTIAL if withheld else Outcome.GRANTED,
        allowed=allowed,
        reason=reason,
        needs_approval=needs_approval,
    )


def is_bulk(account_count: int, criteria: str | None, limit: int) -> bool:
    """A request is bulk when it selects by criteria (threshold, area) or names more than ``limit``."""
    return bool(criteria and criteria.strip()) or account_count > limit


def limit_fields(record: Mapping[str, Any], allowed: Iterable[Element]) -> dict[str, Any]:
    """Only the allowed elements of a gathered record, whatever else the record holds."""
    keep = {str(e) for e in allowed}
    return {k: v for k, v in record.items() if k in keep}


def retention_until(received: dt.datetime, years: int) -> dt.date:
    day = received.date()
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def month_bounds(month: str, tz: dt.tzinfo = dt.UTC) -> tuple[dt.datetime, dt.datetime]:
    """``YYYY-MM`` in ``tz`` → the month's first instant and the next month's, as UTC times."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ValueError("month must be YYYY-MM")
    year, mon = int(month[:4]), int(month[5:])
    start = dt.datetime(year, mon, 1, tzinfo=tz)
    end = dt.datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


# -- the disclosure log's hash chain (docs/rules.md §5.5 prev_entry_hash)
# ---------------------------------------
GENESIS = "0" * 64


def entry_digest(entry: Mapping[str, Any]) -> str:
    """The hash of one log entry's fields alone (what the audit record carries)."""
    return hashlib.sha256(msgspec.json.encode(dict(entry), order="sorted")).hexdigest()


def chain_entry(prev_hash: str, step: str, digest: str) -> str:
    """The entry's link: covers the previous link, the step and the entry's fields."""
    return hashlib.sha256(f"{prev_hash}|{step}|{digest}".encode()).hexdigest()
