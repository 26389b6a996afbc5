"""Pure rules of the cash window: denominations, counterfeit checks, change, balancing, deadlines, drop box.

Nothing here touches the database, the CCB port or HTTP, so every rule is unit-tested on its own. Money is
integer cents everywhere (ARCHITECTURE §7: drawers balance to the cent); a denomination is named by its
face value in cents, written as a string key in JSON bodies (``"2000"`` is a $20 note).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated

import msgspec

Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)]

# US notes in circulation (rules.md §2.2) and the coins a change fund holds, in cents.
NOTES: tuple[int, ...] = (100, 200, 500, 1000, 2000, 5000, 10000)
COINS: tuple[int, ...] = (1, 5, 10, 25, 50)
# A float is counted by denomination; a $1 coin is counted with the $1 notes (same value in the drawer).
FLOAT_DENOMINATIONS: tuple[int, ...] = (*COINS, *NOTES)
# Nobody hands a window 10,000 notes of one kind; a bigger count is a typing slip, not money.
MAX_COUNT = 10_000

# UV glow of the security thread per denomination, current designs (rules.md §2.2). $1 and $2 notes have
# no thread, so there is nothing to see under UV: the CSR relies on paper, printing, seals and serials.
UV_THREAD: dict[int, str | None] = {
    100: None,
    200: None,
    500: "blue",
    1000: "orange",
    2000: "green",
    5000: "yellow",
    10000: "pink",
}
# Colour-shifting ink on the lower-right numeral: none on the $1, $2 and $5 (rules.md §2.1).
COLOUR_SHIFT: frozenset[int] = frozenset({1000, 2000, 5000, 10000})
UV_COLOURS: tuple[str, ...] = ("blue", "orange", "green", "yellow", "pink", "none")


def money(cents: int) -> str:
    """``12345`` → ``$123.45`` (negative amounts keep their sign in front)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{part:02d}"


def denomination_title(cents: int) -> str:
    return f"${cents // 100}" if cents >= 100 else f"{cents}¢"


class CashConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``[plugins.cash_handling]`` in hub.toml; the defaults run a one-office hub with no config at all."""

    # Who hears about an unbalanced drawer (issue 6 §1: "escalated to the lead").
    lead_emails: Annotated[list[Email], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["csc-lead@utility.example"]
    )
    # Who takes custody of a seized note and reports it (rules.md §2.3 step 5).
    supervisor_emails: Annotated[list[Email], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["cs-supervisor@utility.example"]
    )
    # Local time after which a drawer still open fails the drawers check.
    end_of_business: Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "17:30"
    # A seized note without a Secret Service submission after this many business days fails a check.
    submission_business_days: Annotated[int, msgspec.Meta(ge=1, le=30)] = 3
    # Office holidays (no business day); weekends never count.
    holidays: list[dt.date] = []
    # The reporter block of SSF 1604 (rules.md §2.4).
    office_name: Annotated[str, msgspec.Meta(max_length=200)] = "Customer Service Center"
    office_address: Annotated[str, msgspec.Meta(max_length=300)] = "111 N Hope St, Los Angeles, CA 90012"
    office_phone: Annotated[str, msgspec.Meta(max_length=40)] = "(800) 555-0100"
    police_agency: Annotated[str, msgspec.Meta(max_length=120)] = "LAPD"
    # A starting float larger than this is refused as a typing slip.
    max_float_cents: Annotated[int, msgspec.Meta(ge=0)] = 100_000


# -- denomination arithmetic ---------------------------------------------------------------------------
class CashError(Exception):
    """Bad cash input naming the field(s) at fault; the API answers 422 with each (field, message)."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))
        self.problems = list(problems)


def parse_counts(raw: Mapping[str, int], allowed: Iterable[int], field: str) -> dict[int, int]:
    """Check a ``{"2000": 3}`` map: known denominations, whole non-negative counts. Raises CashError."""
    allowed_set = set(allowed)
    problems: list[tuple[str, str]] = []
    counts: dict[int, int] = {}
    for key, count in raw.items():
        name = f"{field}.{key}"
        if not key.isdigit() or int(key) not in allowed_set:
            known = ", ".join(str(d) for d in sorted(allowed_set))
            problems.append((name, f"unknown denomination (cents; one of {known})"))
            continue
        if isinstance(count, bool) or not isinstance(count, int) or count < 0 or count > MAX_COUNT:
            problems.append((name, f"a count must be a whole number from 0 to {MAX_COUNT}"))
            continue
        if count:
            counts[int(key)] = counts.get(int(key), 0) + count
    if problems:
        raise CashError(problems)
    return counts


def total_of(counts: Mapping[int, int]) -> int:
    """The value of a count in cents."""
    return sum(denomination * count for denomination, count in counts.items())


def change_due(tendered_cents: int, amount_cents: int) -> int:
    """Change handed back; the cash must cover the amount (a shortfall is not change)."""
    if amount_cents < 0 or tendered_cents < 0:
        raise CashError([("amount_cents", "must not be negative")])
    if tendered_cents < amount_cents:
        raise CashError(
            [
                (
                    "amount_cents",
                    f"the cash received ({money(tendered_cents)}) does not cover {money(amount_cents)}",
                )
            ]
        )
    return tendered_cents - amount_cents


# -- counterfeit checks (rules.md §2) --------------------------------------------------------------------
class PenResult(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_DONE = "not_done"


class NoteCheck(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The checks performed on one note, in view of the customer (rules.md §2.1)."""

    denomination: int
    uv_colour: str  # what the thread glowed under UV, or "none"
    pen: PenResult = PenResult.NOT_DONE
    feel: bool  # raised intaglio print, cotton/linen paper, embedded fibres
    watermark: bool  # present, seen from both sides, matches the denomination
    colour_shift: bool | None = None  # only asked where the design has colour-shifting ink
    serial_number: Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9*]{8,14}$")] | None = None
    remarks: Annotated[str, msgspec.Meta(max_length=500)] = ""


@dataclass(frozen=True)
class NoteVerdict:
    suspect: bool
    reasons: tuple[str, ...]
    pen_only: bool  # only the pen disagreed: not enough to seize (rules.md §2.1)


def expected_uv(denomination: int) -> str:
    """The thread colour expected under UV, or ``"none"`` for notes without a thread."""
    return UV_THREAD.get(denomination) or "none"


def check_note(index: int, note: NoteCheck) -> NoteVerdict:
    """Judge one note. Raises CashError for an unknown denomination or a check that was skipped.

    A note is suspect when a physical feature is wrong: the UV thread colour differs from the reference
    table, the feel or watermark fails, or the colour-shifting ink does not shift. A detector pen alone
    never decides (rules.md §2.1: "never accept/reject on pen result alone").
    """
    where = f"notes[{index}]"
    if note.denomination not in UV_THREAD:
        raise CashError([(f"{where}.denomination", "unknown denomination (cents of a US note)")])
    if note.uv_colour not in UV_COLOURS:
        raise CashError([(f"{where}.uv_colour", f"one of {', '.join(UV_COLOURS)}")])
    has_shift = note.denomination in COLOUR_SHIFT
    if has_shift and note.colour_shift is None:
        raise CashError([(f"{where}.colour_shift", "check the colour-shifting numeral (tilt the note)")])
    reasons: list[str] = []
    expected = expected_uv(note.denomination)
    if note.uv_colour != expected:
        reasons.append(f"UV thread {note.uv_colour}, expected {expected}")
    if not note.feel:
        reasons.append("paper/print feel wrong")
    if not note.watermark:
        reasons.append("watermark missing or wrong")
    if has_shift and note.colour_shift is False:
        reasons.append("numeral does not shift colour")
    pen_failed = note.pen is PenResult.FAIL
    return NoteVerdict(suspect=bool(reasons), reasons=tuple(reasons), pen_only=pen_failed and not reasons)


def tally(notes: Sequence[NoteCheck]) -> dict[int, int]:
    found: dict[int, int] = {}
    for note in notes:
        found[note.denomination] = found.get(note.denomination, 0) + 1
    return found


def counts_match(counts: Mapping[int, int], notes: Sequence[NoteCheck]) -> list[tuple[str, str]]:
    """The notes counted by denomination must be exactly the notes checked one by one."""
    checked = tally(notes)
    problems: list[tuple[str, str]] = []
    for denomination in sorted(set(counts) | set(checked)):
        if counts.get(denomination, 0) != checked.get(denomination, 0):
            problems.append(
                (
                    f"note_counts.{denomination}",
                    f"{counts.get(denomination, 0)} counted but {checked.get(denomination, 0)} checked",
                )
            )
    return problems


@dataclass(frozen=True)
class WindowCash:
    """What a window payment comes to once the suspect notes are set aside."""

    received_cents: int  # everything the customer handed over
    seized_cents: int  # suspect notes, seized and never credited (rules.md §2.3 step 8)
    genuine_cents: int
    change_cents: int
    verdicts: tuple[NoteVerdict, ...]


def window_cash(
    notes: Sequence[NoteCheck], coins_cents: int, amount_cents: int, change_entered: int
) -> WindowCash:
    """Validate a window payment's cash: what is credited, what is seized, and that the change is right."""
    if coins_cents < 0:
        raise CashError([("coins_cents", "must not be negative")])
    verdicts = tuple(check_note(i, n) for i, n in enumerate(notes))
    received = sum(n.denomination for n in notes) + coins_cents
    seized = sum(n.denomination for n, v in zip(notes, verdicts, strict=True) if v.suspect)
    genuine = received - seized
    if amount_cents > genuine:
        what = "the genuine cash" if seized else "the cash received"
        raise CashError([("amount_cents", f"{what} ({money(genuine)}) does not cover {money(amount_cents)}")])
    change = genuine - amount_cents
    if change_entered != change:
        raise CashError([("change_cents", f"change due is {money(change)}, not {money(change_entered)}")])
    return WindowCash(received, seized, genuine, change, verdicts)


# -- balancing (ccb-domain.md §1.9) ----------------------------------------------------------------------
@dataclass(frozen=True)
class Balance:
    expected_cents: int
    counted_cents: int
    over_under_cents: int  # counted − expected: positive is over, negative is short

    @property
    def balanced(self) -> bool:
        return self.over_under_cents == 0


def balance(starting_float_cents: int, tenders_cents: int, counted_cents: int) -> Balance:
    """Counted drawer against float + drawer tenders, to the cent."""
    expected = starting_float_cents + tenders_cents
    return Balance(expected, counted_cents, counted_cents - expected)


# -- business days (counterfeit submission deadline) -----------------------------------------------------
def business_days_between(start: dt.date, end: dt.date, holidays: Iterable[dt.date] = ()) -> int:
    """Business days after ``start`` up to and including ``end`` (Mon–Fri, not a holiday)."""
    off = set(holidays)
    days = 0
    day = start + dt.timedelta(days=1)
    while day <= end:
        if day.weekday() < 5 and day not in off:
            days += 1
        day += dt.timedelta(days=1)
    return days


def submission_overdue(
    seized_on: dt.date, today: dt.date, limit: int, holidays: Iterable[dt.date] = ()
) -> bool:
    return business_days_between(seized_on, today, holidays) > limit


def drawer_overdue(opened_on: dt.date, now_local: dt.datetime, end_of_business: str) -> bool:
    """A drawer must be closed by end of business on the day it was opened."""
    hour, minute = (int(x) for x in end_of_business.split(":"))
    if now_local.date() > opened_on:
        return True
    return now_local.date() == opened_on and now_local.time() >= dt.time(hour, minute)


# -- drop box (tasks 20, 22) -----------------------------------------------------------------------------
class SlipType(enum.StrEnum):
    CASH = "cash"
    CHECK = "check"
    MONEY_ORDER = "money_order"


@dataclass(frozen=True)
class SlipLine:
    amount_cents: int
    slip_type: SlipType
    posted: bool


@dataclass(frozen=True)
class Reconciliation:
    slips_cents: int
    cash_slips_cents: int
    counter_cents: int
    counter_variance_cents: int  # bill counter − cash slips
    posted_cents: int
    unposted: int
    reconciled: bool  # counter agrees with the cash slips and every slip is posted


def reconcile(counter_cents: int, slips: Sequence[SlipLine]) -> Reconciliation:
    """Compare the bill-counter total with the cash slips, and the postings with the slips."""
    total = sum(s.amount_cents for s in slips)
    cash = sum(s.amount_cents for s in slips if s.slip_type is SlipType.CASH)
    posted = sum(s.amount_cents for s in slips if s.posted)
    unposted = sum(1 for s in slips if not s.posted)
    variance = counter_cents - cash
    return Reconciliation(
        total, cash, counter_cents, variance, posted, unposted, variance == 0 and posted == total
    )


def receipt_number(day: dt.date, row_id: int) -> str:
    """A receipt number the customer can read out: office day plus a sequence."""
    return f"CR{day:%y%m%d}-{row_id:06d}"
