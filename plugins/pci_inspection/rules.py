"""Pure rules of the card-terminal inspection: checklist, due dates, status changes, review age, CSV, mail.

Nothing here touches HTTP, the bus or the database, so every rule is unit-tested on plain values. The
rules come from PCI DSS v4.0.1 requirement 9.5.1 as summarised in the project's reference (docs/rules.md §1).
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import enum
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec

from core.contract.clock import LOCAL_TZ as CORE_LOCAL_TZ

# "Daily" means once per local business day: PCI sets no frequency, the targeted risk analysis does, and
# for attended lobby terminals that is a start-of-shift check (docs/rules.md §1.3). So "today" is the calendar
# day in the utility's zone, not a UTC day or a rolling 24 hours; times are stored in UTC and reasoned
# about in America/Los_Angeles (ARCHITECTURE §5).
LOCAL_TZ: ZoneInfo = CORE_LOCAL_TZ

SITE_CODE = r"^[A-Z0-9][A-Z0-9-]{0,15}$"
EMAIL = r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$"
# Serial numbers and asset tags as printed on terminal labels: letters, digits and a few separators.
SERIAL = r"^[A-Za-z0-9][A-Za-z0-9._/-]{2,63}$"

# The largest photo a deployment may allow (``max_photo_bytes``): it bounds every upload's body.
MAX_PHOTO_BYTES = 8_000_000

SiteCode = Annotated[str, msgspec.Meta(pattern=SITE_CODE)]
SiteTitle = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Email = Annotated[str, msgspec.Meta(pattern=EMAIL, max_length=200)]


def _default_sites() -> dict[str, str]:
    return {"MAIN": "Main customer service center"}


class PciConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``[plugins.pci_inspection]`` in hub.toml; the defaults run a one-site hub with no config at all."""

    # Site code → title; a terminal's location is one of these sites plus a window or lane (9.5.1.1).
    sites: Annotated[dict[SiteCode, SiteTitle], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=_default_sites
    )
    # Who hears at once when an item fails (docs/rules.md §1.4 step 3: supervisor and IT/security).
    security_emails: Annotated[list[Email], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["pci-security@utility.example"]
    )
    supervisor_emails: Annotated[list[Email], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["cs-supervisor@utility.example"]
    )
    # Used only for a terminal with no targeted risk analysis yet; the risk-analysis check flags those.
    default_frequency_days: Annotated[int, msgspec.Meta(ge=1, le=31)] = 1
    # Local hour by which the day's inspection must be on record: 0 means "within the calendar day", a
    # later hour gives the start-of-shift team until then before the compliance check fails.
    due_by_hour: Annotated[int, msgspec.Meta(ge=0, le=23)] = 0
    # PCI DSS 12.3.1: a targeted risk analysis is reviewed at least every 12 months, so no more than 12.
    review_interval_months: Annotated[int, msgspec.Meta(ge=1, le=12)] = 12
    review_warning_days: Annotated[int, msgspec.Meta(ge=0, le=120)] = 30
    max_photo_bytes: Annotated[int, msgspec.Meta(ge=10_000, le=MAX_PHOTO_BYTES)] = 5_000_000


# -- inventory status ------------------------------------------------------------------------------------
class DeviceStatus(enum.StrEnum):
    """Where a terminal is in its life (docs/rules.md §1.2)."""

    IN_STOCK = "in_stock"
    DEPLOYED = "deployed"
    OUT_OF_SERVICE = "out_of_service"
    QUARANTINED = "quarantined"
    IN_REPAIR = "in_repair"
    DECOMMISSIONED = "decommissioned"
    LOST = "lost"


S = DeviceStatus
# Allowed moves. A terminal comes back into service only by being deployed again, which restarts its
# inspection clock; nothing leaves "decommissioned"; a lost terminal that turns up goes back to stock to
# be checked against the inventory before any reuse (docs/rules.md §1.4 steps 6-7).
TRANSITIONS: dict[DeviceStatus, frozenset[DeviceStatus]] = {
    S.IN_STOCK: frozenset({S.DEPLOYED, S.QUARANTINED, S.IN_REPAIR, S.DECOMMISSIONED, S.LOST}),
    S.DEPLOYED: frozenset({S.IN_STOCK, S.OUT_OF_SERVICE, S.QUARANTINED, S.IN_REPAIR, S.LOST}),
    S.OUT_OF_SERVICE: frozenset(
        {S.DEPLOYED, S.IN_STOCK, S.QUARANTINED, S.IN_REPAIR, S.DECOMMISSIONED, S.LOST}
    ),
    S.QUARANTINED: frozenset({S.IN_STOCK, S.IN_REPAIR, S.DECOMMISSIONED, S.LOST}),
    S.IN_REPAIR: frozenset({S.IN_STOCK, S.QUARANTINED, S.DECOMMISSIONED, S.LOST}),
    S.LOST: frozenset({S.IN_STOCK, S.DECOMMISSIONED}),
    S.DECOMMISSIONED: frozenset(),
}
# Statuses in which a terminal may be inspected: before deployment, in service, or re-checked after a fail.
INSPECTABLE = frozenset({S.IN_STOCK, S.DEPLOYED, S.OUT_OF_SERVICE})


class TransitionError(ValueError):
    """A status change the inventory rules do not allow."""


def check_transition(old: DeviceStatus, new: DeviceStatus) -> None:
    """Raise :class:`TransitionError` unless ``old`` may become ``new`` (no-op changes are refused too)."""
    if old == new:
        raise TransitionError(f"the terminal is already {new.value}")
    if new not in TRANSITIONS[old]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[old])) or "nothing (final)"
        raise TransitionError(f"a terminal that is {old.value} can become: {allowed}")


def usable(status: DeviceStatus, due: Due | None, *, open_incident: bool) -> bool:
    """Whether a terminal may take cards now: the one rule every view and the cash windows share.

    Only a deployed terminal (a fail takes it out of service at once, docs/rules.md §1.4 step 1), whose last
    passing inspection since it was deployed still covers today by its risk analysis's frequency (``due``
    from :func:`inspection_due`; a terminal never inspected, or due again, has not been vouched for), and
    with no incident opened since it was deployed (the incident is open until the terminal is taken out
    of service and deployed again, which restarts its inspection clock).
    """
    return status is S.DEPLOYED and due is not None and due.state is DueState.OK and not open_incident


# -- the checklist ---------------------------------------------------------------------------------------
class ItemResult(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NA = "na"


@dataclass(frozen=True)
class ChecklistItem:
    number: int
    title: str
    guidance: str


# The start-of-shift checklist of docs/rules.md §1.3, in our own words; the numbers are stable because CSV
# exports and stored results refer to them.
CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem(
        1,
        "Location and count",
        "At its assigned window; the number of terminals at this site matches the inventory.",
    ),
    ChecklistItem(
        2, "Serial number", "The label's serial (and the on-screen one, if shown) matches the inventory."
    ),
    ChecklistItem(
        3, "Make, model, look", "Make, model, colour, logo, shape and size match the reference photos."
    ),
    ChecklistItem(
        4,
        "Seals and labels",
        "Tamper seals and labels present, unbroken, not re-stuck; seal numbers match; UV marks show.",
    ),
    ChecklistItem(
        5, "Casing", "No cracks, pry or scratch marks, gaps, odd seams, or missing, extra or stripped screws."
    ),
    ChecklistItem(
        6,
        "Card slot",
        "No overlay, extra bezel, glue or odd depth; nothing loose when wiggled; a test card goes in.",
    ),
    ChecklistItem(7, "Contactless area", "No added layer or extra thickness over the tap zone."),
    ChecklistItem(
        8, "PIN pad", "No overlay; keys not raised, spongy or sticking; the privacy shield is in place."
    ),
    ChecklistItem(
        9,
        "Cables and ports",
        "Only the expected cables: no inline adapter, extra box, USB stick or re-routed cable.",
    ),
    ChecklistItem(
        10, "Surroundings", "No pinhole camera, new sticker, mirror, display or holder aimed at the PIN pad."
    ),
    ChecklistItem(
        11,
        "Behaviour",
        "Normal start-up and idle screen; no tamper alert or odd prompt (swipe a chip card, PIN asked "
        "twice); the expected software version.",
    ),
    ChecklistItem(
        12,
        "Mount and storage",
        "Mount, tether or lock intact; if stored overnight, it was locked away with the storage seal intact.",
    ),
    ChecklistItem(
        13,
        "Service visits",
        "Any service visit or swap since the last check has a verified, logged work order.",
    ),
    ChecklistItem(
        14,
        "Record complete",
        "This record names you, the time, the terminal and every item's result, with a photo for each fail.",
    ),
)
ITEM_NUMBERS = tuple(item.number for item in CHECKLIST)
ITEMS_BY_NUMBER = {item.number: item for item in CHECKLIST}


@dataclass(frozen=True)
class ItemSubmission:
    """One answered item as submitted, whatever the transport (JSON or the phone form)."""

    number: int
    result: ItemResult
    note: str = ""
    has_photo: bool = False


@dataclass(frozen=True)
class ChecklistProblem:
    """What is wrong with a submission.

    ``item`` is the checklist item concerned and ``position`` the index of the answer at fault in the
    submission (None for an item that was not answered at all), so each transport can name its own field.
    """

    item: int
    position: int | None
    field: str  # "item", "result", "note" or "photo"
    message: str


def validate_checklist(submitted: Sequence[ItemSubmission]) -> list[ChecklistProblem]:
    """Every item exactly once; a fail carries a note and a photo (docs/rules.md §1.3 item 14, §1.4 step
    2)."""
    problems: list[ChecklistProblem] = []
    seen: set[int] = set()
    for position, sub in enumerate(submitted):
        if sub.number not in ITEMS_BY_NUMBER:
            problems.append(
                ChecklistProblem(sub.number, position, "item", f"there is no checklist item {sub.number}")
            )
            continue
        if sub.number in seen:
            problems.append(
                ChecklistProblem(sub.number, position, "item", f"item {sub.number} is answered twice")
            )
            continue
        seen.add(sub.number)
        if sub.result is ItemResult.FAIL:
            title = ITEMS_BY_NUMBER[sub.number].title
            if not sub.note.strip():
                problems.append(
                    ChecklistProblem(
                        sub.number, position, "note", f"item {sub.number} ({title}) failed: say what you saw"
                    )
                )
            if not sub.has_photo:
                problems.append(
                    ChecklistProblem(
                        sub.number,
                        position,
                        "photo",
                        f"item {sub.number} ({title}) failed: a photo as found is required",
                    )
                )
    for number in ITEM_NUMBERS:
        if number not in seen:
            title = ITEMS_BY_NUMBER[number].title
            problems.append(
                ChecklistProblem(
                    number, None, "result", f"item {number} ({title}) is missing: pass, fail or n.a."
                )
            )
    return problems


@dataclass
class InspectionInput:
    """A checklist submission from either transport, with how that transport names a field in errors."""

    items: list[ItemSubmission]
    photo_ids: dict[int, int]  # item number → photo id
    key: str | None
    # (item number, answer position or None, "item"/"result"/"note"/"photo") → the field's name
    field_name: Callable[[int, int | None, str], str]
    key_field: str = "idempotency_key"

    def problems(self) -> list[tuple[str, str]]:
        return [
            (self.field_name(p.item, p.position, p.field), p.message) for p in validate_checklist(self.items)
        ]


def outcome(submitted: Iterable[ItemSubmission]) -> str:
    """``fail`` when any item failed, else ``pass`` (n.a. items neither pass nor fail the terminal)."""
    return "fail" if any(s.result is ItemResult.FAIL for s in submitted) else "pass"


# -- due dates -------------------------------------------------------------------------------------------
class DueState(enum.StrEnum):
    OK = "ok"  # a passing inspection covers today
    DUE = "due"  # today's inspection is not on record yet, but the due-by hour has not passed
    OVERDUE = "overdue"  # the compliance check fails


@dataclass(frozen=True)
class Due:
    state: DueState
    due_on: dt.date  # the local day the next inspection belongs to
    last_pass_on: dt.date | None


def local_day(when: dt.datetime, tz: ZoneInfo = LOCAL_TZ) -> dt.date:
    """The calendar day in the utility's zone of an aware instant (a naive value is a programming error)."""
    if when.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC time")
    return when.astimezone(tz).date()


def inspection_due(
    now: dt.datetime,
    last_pass_at: dt.datetime | None,
    frequency_days: int,
    *,
    due_by_hour: int = 0,
    tz: ZoneInfo = LOCAL_TZ,
) -> Due:
    """Whether a terminal's last passing inspection still covers ``now``.

    Frequency counts local calendar days (9.5.1.2.1: the targeted risk analysis sets it): with 1, an
    inspection covers the day it was made; with 7, that day and the six after. Midnight in Los Angeles
    starts a new day whatever the UTC offset, so a DST day of 23 or 25 hours is still one day. A terminal
    never inspected since it was deployed is due the day it is deployed.
    """
    if frequency_days < 1:
        raise ValueError("frequency_days must be at least 1")
    today = local_day(now, tz)
    # Compare instants in UTC: two times in the same zone compare by wall clock, which is ambiguous in
    # the repeated hour when the clocks go back.
    now = now.astimezone(dt.UTC)
    if last_pass_at is None:
        last_on, due_on = None, today
    else:
        last_on = local_day(last_pass_at, tz)
        due_on = last_on + dt.timedelta(days=frequency_days)
        if today < due_on:
            return Due(DueState.OK, due_on, last_on)
    if today > due_on:
        return Due(DueState.OVERDUE, due_on, last_on)
    deadline = dt.datetime.combine(due_on, dt.time(due_by_hour), tzinfo=tz)
    return Due(DueState.OVERDUE if now >= deadline else DueState.DUE, due_on, last_on)


# -- targeted risk analysis review -----------------------------------------------------------------------
class ReviewState(enum.StrEnum):
    CURRENT = "current"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's end (a review on 29 Feb is due 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Review:
    state: ReviewState
    due_on: dt.date
    age_days: int


def review_state(
    now: dt.datetime,
    reviewed_at: dt.datetime,
    *,
    interval_months: int = 12,
    warning_days: int = 30,
    tz: ZoneInfo = LOCAL_TZ,
) -> Review:
    """A risk analysis reviewed on day D is due for review by D + 12 months and overdue the day after.

    PCI DSS 12.3.1 asks for a review "at least once every 12 months"; counting calendar months in local
    days keeps a review made on 15 March 2026 current through 15 March 2027, leap years included.
    """
    today = local_day(now, tz)
    reviewed_on = local_day(reviewed_at, tz)
    due_on = add_months(reviewed_on, interval_months)
    age = (today - reviewed_on).days
    if today > due_on:
        return Review(ReviewState.OVERDUE, due_on, age)
    if (due_on - today).days <= warning_days:
        return Review(ReviewState.DUE_SOON, due_on, age)
    return Review(ReviewState.CURRENT, due_on, age)


# -- CSV export for assessors ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CsvInspection:
    inspection_id: int
    device_id: int
    serial_number: str
    make: str
    model: str
    site: str
    window: str
    inspected_at: dt.datetime
    inspector: str
    outcome: str
    results: dict[int, str]  # item number → pass/fail/na
    notes: dict[int, str]  # item number → note (already redacted when stored)


CSV_HEADER = (
    "inspection_id",
    "device_id",
    "serial_number",
    "make",
    "model",
    "site",
    "window",
    "inspected_at_utc",
    "inspected_at_local",
    "local_date",
    "inspector",
    "outcome",
    *(f"item_{n}" for n in ITEM_NUMBERS),
    "notes",
)
# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def inspections_csv(rows: Iterable[CsvInspection], tz: ZoneInfo = LOCAL_TZ) -> str:
    """One line per inspection with each item's result, times in UTC and local time (RFC 4180 quoting)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        at_local = row.inspected_at.astimezone(tz)
        notes = "; ".join(f"{n}: {row.notes[n]}" for n in sorted(row.notes) if row.notes[n])
        writer.writerow(
            [
                str(row.inspection_id),
                str(row.device_id),
                _cell(row.serial_number),
                _cell(row.make),
                _cell(row.model),
                _cell(row.site),
                _cell(row.window),
                row.inspected_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
                at_local.isoformat(timespec="seconds"),
                at_local.date().isoformat(),
                _cell(row.inspector),
                row.outcome,
                *(row.results.get(n, "") for n in ITEM_NUMBERS),
                _cell(notes),
            ]
        )
    return out.getvalue()


# -- photos ----------------------------------------------------------------------------------------------
# Accepted image types, recognised by their first bytes rather than the browser's claim.
_SIGNATURES: tuple[tuple[str, bytes, int], ...] = (
    ("image/jpeg", b"\xff\xd8\xff", 0),
    ("image/png", b"\x89PNG\r\n\x1a\n", 0),
    ("image/webp", b"WEBP", 8),
    ("image/gif", b"GIF8", 0),
)


def image_type(head: bytes) -> str | None:
    """The content type of an image from its leading bytes, or None when it is not one we accept."""
    for content_type, magic, offset in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            if content_type == "image/webp" and head[:4] != b"RIFF":
                continue
            return content_type
    # HEIC/HEIF, which phones produce by default: an ISO-BMFF "ftyp" box with a HEIF brand.
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        return "image/heic"
    return None


# -- export periods ----------------------------------------------------------------------------------------
def local_bounds(
    start: dt.date | None, end: dt.date | None, tz: ZoneInfo = LOCAL_TZ
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Local calendar days (inclusive) as a half-open UTC interval; midnight is taken in Los Angeles."""
    lo = dt.datetime.combine(start, dt.time(), tzinfo=tz).astimezone(dt.UTC) if start else None
    hi = (
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
        if end
        else None
    )
    return lo, hi


# -- naming a checklist's fields per transport -------------------------------------------------------------
def json_field(number: int, position: int | None, kind: str) -> str:
    """How the JSON body names an answer: ``items[2].note`` (``items`` for an item not answered at all)."""
    if position is None:
        return "items"
    return f"items[{position}]." + {"photo": "photo_id", "result": "item"}.get(kind, kind)


def form_field(number: int, position: int | None, kind: str) -> str:
    """How the phone form names an answer: ``item_5``, ``note_5``, ``photo_5``."""
    return {"note": "note_", "photo": "photo_"}.get(kind, "item_") + str(number)


# -- the failed-inspection mail --------------------------------------------------------------------------
@dataclass(frozen=True)
class FailedTerminal:
    """What the failure mail says about the terminal and the inspection that failed it."""

    device_id: int
    make: str
    model: str
    serial_number: str
    site: str
    site_title: str
    window: str
    inspection_id: int
    inspector: str
    inspected_at: dt.datetime


def failure_mail(failed: FailedTerminal, notes: dict[int, str], tz: ZoneInfo = LOCAL_TZ) -> str:
    """The mail to security and the supervisor: which terminal, which items, what to do now (12.10.1)."""
    at = failed.inspected_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    lines = [
        f"Terminal {failed.make} {failed.model}, serial {failed.serial_number} "
        f"(terminal #{failed.device_id})",
        f"at {failed.site_title} ({failed.site}), {failed.window},",
        f"failed its inspection #{failed.inspection_id} by {failed.inspector} at {at}.",
        "",
        "Failed items:",
        *(f"  {n}. {ITEMS_BY_NUMBER[n].title}: {note}" for n, note in sorted(notes.items())),
        "",
        "The terminal is now OUT OF SERVICE in the inventory; the cash/card pages refuse it.",
        "What to do now (PCI DSS 9.5.1, incident response 12.10.1):",
        "  - Do not power it off, unplug, clean or remove anything unless the acquirer or police say so.",
        "  - Keep others away and preserve CCTV for the period since it was last verified clean.",
        "  - Open an incident record for the terminal in the hub, then notify the acquirer and vendor.",
        "  - Inspect every other terminal at this site.",
        "",
        f"History: /ui/pci_inspection/devices/{failed.device_id}",
    ]
    return "\n".join(lines)
