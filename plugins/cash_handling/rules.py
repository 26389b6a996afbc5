"""Pure rules of the cash window: notes and their checks, change, balancing, cards, deadlines, drop box.

Nothing here touches the database, the CCB port or HTTP, so every rule is unit-tested on its own. Money is
integer cents everywhere (ARCHITECTURE §7: drawers balance to the cent); a denomination is named by its
face value in cents, written as a string key in JSON bodies (``"2000"`` is a $20 note).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import msgspec

from core.contract.ccb import CcbError, Invalid, NotFound
from core.contract.clock import local
from core.contract.redact import redact

if TYPE_CHECKING:
    from plugins.cash_handling.models import CashPayment

Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)]

# US notes in circulation (docs/rules.md §2.2) and the coins a change fund holds, in cents.
NOTES: tuple[int, ...] = (100, 200, 500, 1000, 2000, 5000, 10000)
COINS: tuple[int, ...] = (1, 5, 10, 25, 50)
# A float is counted by denomination; a $1 coin is counted with the $1 notes (same value in the drawer).
FLOAT_DENOMINATIONS: tuple[int, ...] = (*COINS, *NOTES)
# Nobody hands a window 10,000 notes of one kind; a bigger count is a typing slip, not money.
MAX_COUNT = 10_000

# UV glow of the security thread per denomination, current designs (docs/rules.md §2.2). $1 and $2 notes have
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
# Colour-shifting ink on the lower-right numeral: none on the $1, $2 and $5 (docs/rules.md §2.1).
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
    # Who takes custody of a seized note and reports it (docs/rules.md §2.3 step 5).
    supervisor_emails: Annotated[list[Email], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["cs-supervisor@utility.example"]
    )
    # Local time after which a drawer still open fails the drawers check.
    end_of_business: Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "17:30"
    # A seized note without a Secret Service submission after this many business days fails a check.
    submission_business_days: Annotated[int, msgspec.Meta(ge=1, le=30)] = 3
    # Office holidays (no business day); weekends never count.
    holidays: list[dt.date] = []
    # The reporter block of SSF 1604 (docs/rules.md §2.4).
    office_name: Annotated[str, msgspec.Meta(max_length=200)] = "Customer Service Center"
    office_address: Annotated[str, msgspec.Meta(max_length=300)] = "111 N Hope St, Los Angeles, CA 90012"
    office_phone: Annotated[str, msgspec.Meta(max_length=40)] = "(800) 555-0100"
    police_agency: Annotated[str, msgspec.Meta(max_length=120)] = "LAPD"
    # A starting float larger than this is refused as a typing slip.
    max_float_cents: Annotated[int, msgspec.Meta(ge=0)] = 100_000
    # The site code, in the card-terminal inventory (the pci_inspection plugin's ``sites``), of this
    # office's windows: a card is taken only on a terminal deployed here (PCI DSS 9.5.1.1 location).
    card_terminal_site: Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9][A-Z0-9-]{0,15}$")] = "MAIN"


# -- denomination arithmetic ---------------------------------------------------------------------------
class CashError(Exception):
    """A refusal naming the field(s) at fault: 422 with each (field, message) unless ``status_code`` says
    otherwise (403, 404, 409). A refusal about no field in particular names the field ``""``."""

    def __init__(self, problems: Sequence[tuple[str, str]], status_code: int = 422) -> None:
        super().__init__("; ".join(f"{k}: {m}" if k else m for k, m in problems))
        self.problems = list(problems)
        self.status_code = status_code

    @classmethod
    def refused(cls, message: str, status_code: int) -> CashError:
        """A refusal about no one field: 403 (not yours), 404 (no such row), 409 (not now)."""
        return cls([("", message)], status_code)


def ccb_refusal(exc: CcbError) -> CashError:
    """A CCB refusal as the window answers it: 404 unknown, 422 naming the field, else 409."""
    if isinstance(exc, NotFound):
        return CashError.refused(str(exc), 404)
    if isinstance(exc, Invalid):
        return CashError([(exc.field, exc.message)])
    return CashError.refused(str(exc), 409)


def json_counts(counts: Mapping[int, int]) -> dict[str, int]:
    """Counts by denomination as stored and shown: ``{"2000": 3}``, smallest first."""
    return {str(k): v for k, v in sorted(counts.items())}


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


# -- counterfeit checks (docs/rules.md §2)
# --------------------------------------------------------------------
class PenResult(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_DONE = "not_done"


class NoteCheck(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The checks performed on one note, in view of the customer (docs/rules.md §2.1)."""

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
    pen_only: bool  # only the pen disagreed: not enough to seize (docs/rules.md §2.1)


def expected_uv(denomination: int) -> str:
    """The thread colour expected under UV, or ``"none"`` for notes without a thread."""
    return UV_THREAD.get(denomination) or "none"


def check_note(index: int, note: NoteCheck) -> NoteVerdict:
    """Judge one note. Raises CashError for an unknown denomination or a check that was skipped.

    A note is suspect when a physical feature is wrong: the UV thread colour differs from the reference
    table, the feel or watermark fails, or the colour-shifting ink does not shift. A detector pen alone
    never decides (docs/rules.md §2.1: "never accept/reject on pen result alone").
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
    seized_cents: int  # suspect notes, seized and never credited (docs/rules.md §2.3 step 8)
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


# -- balancing (docs/ccb-domain.md §1.9)
# ----------------------------------------------------------------------
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


class TenderType(enum.StrEnum):
    """The CCB tender types the window takes (docs/ccb-domain.md §1.9: cash, check, card)."""

    CASH = "cash"
    CHECK = "check"
    CARD = "card"


# What is physically in the drawer at the count: cash and checks. A card tender links to the CSR's tender
# control like any other, but the money settles with the card processor, never in the drawer
# (docs/ccb-domain.md §1.9; the CCB mock's expected amount leaves cards out the same way).
IN_DRAWER: frozenset[TenderType] = frozenset({TenderType.CASH, TenderType.CHECK})


@dataclass(frozen=True)
class DrawerTotals:
    """One drawer's tenders by type: what the count must find, and what settles elsewhere."""

    starting_float_cents: int
    cash_cents: int
    check_cents: int
    card_cents: int
    payments: int
    card_payments: int

    @property
    def expected_cents(self) -> int:
        """The float plus the cash and checks taken: what a balanced drawer counts."""
        return self.starting_float_cents + self.cash_cents + self.check_cents


def drawer_totals(starting_float_cents: int, tenders: Iterable[tuple[str, int]]) -> DrawerTotals:
    """Sum a drawer's ``(tender type, cents)`` lines; card tenders are kept apart from the cash expected."""
    sums = dict.fromkeys(TenderType, 0)
    payments = cards = 0
    for kind, cents in tenders:
        tender = TenderType(kind)  # an unknown type is a bug upstream, not input: let it raise
        sums[tender] += cents
        payments += 1
        cards += tender is TenderType.CARD
    return DrawerTotals(
        starting_float_cents=starting_float_cents,
        cash_cents=sums[TenderType.CASH],
        check_cents=sums[TenderType.CHECK],
        card_cents=sums[TenderType.CARD],
        payments=payments,
        card_payments=cards,
    )


# -- card tenders at the window (docs/rules.md §1.5)
# ----------------------------------------------------------
class CardType(enum.StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"


class CardBrand(enum.StrEnum):
    """As printed on the terminal's slip; the CCB tender keeps it beside the last four digits."""

    VISA = "visa"
    MASTERCARD = "mastercard"
    AMEX = "amex"
    DISCOVER = "discover"
    OTHER = "other"


# The only card data the hub ever sees: the last four digits and the processor's approval code, both copied
# from the terminal's slip. The terminal reads the card; the full number (PAN), the CVV and the PIN are
# never typed, sent or kept (PCI DSS 3.3.1, 3.4.1, 3.5.1 as summarised in docs/rules.md §1.5).
CARD_LAST4 = r"^\d{4}$"
# Approval codes are six characters on most slips (ISO 8583 field 38); four to eight letters or digits
# covers every processor, and nothing that short can hold a card number.
AUTHORIZATION_CODE = r"^[A-Za-z0-9]{4,8}$"
# Field names that can only mean card data a hub must never receive; a body carrying one is refused with a
# message saying why, rather than the generic "unknown field".
CARD_DATA_FIELDS: frozenset[str] = frozenset(
    {
        "card_number",
        "cardnumber",
        "pan",
        "primary_account_number",
        "cvv",
        "cvv2",
        "cvc",
        "cvc2",
        "cid",
        "security_code",
        "track",
        "track1",
        "track2",
        "track_data",
        "pin",
        "pin_block",
        "expiry",
        "expiration",
        "exp_date",
        "expiration_date",
    }
)
NEVER_CARD_DATA = (
    "card numbers, security codes and PINs are never entered here: the terminal reads the card; copy only "
    "the last four digits and the approval code from its slip"
)


def looks_like_pan(text: str) -> bool:
    """A Luhn-valid run of 13–19 digits (spaces or hyphens between groups allowed): a card number.

    The core's redaction decides what a card number is, so the hub has one definition of it.
    """
    return "[card ****" in redact(text)


def card_data_in(value: object, path: str = "") -> list[str]:
    """The paths inside a decoded JSON value that carry card data: a card-data field name or a PAN.

    Returned paths name the place, never the value, so an error message can never echo a card number.
    """
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if str(key).lower() in CARD_DATA_FIELDS:
                found.append(where)
                continue
            found.extend(card_data_in(item, where))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(card_data_in(item, f"{path}[{index}]"))
    elif isinstance(value, str | int) and not isinstance(value, bool):
        if looks_like_pan(str(value)):
            found.append(path or "body")
    return found


def masked_pan(last4: str) -> str:
    """How a card shows to agents: the last four digits only (docs/rules.md §1.5, PCI DSS 3.4.1)."""
    return "************" + last4


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


def custody_time(
    at: dt.datetime | None, now: dt.datetime, earliest: dt.datetime, field: str = "at"
) -> dt.datetime:
    """When a hand-over happened: now by default; a time given later may not be in the future or before
    the note's last custody entry, so the chain of custody stays in order (docs/rules.md §2.3 steps 5-7)."""
    if at is None:
        return now
    if at.tzinfo is None:
        raise CashError([(field, "give the time with its zone (or leave it empty for now)")])
    if at > now + dt.timedelta(minutes=1):
        raise CashError([(field, "a hand-over cannot be recorded in the future")])
    if at < earliest:
        raise CashError([(field, "is before the note's last custody entry")])
    return at


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


# -- what the window says and writes down (docs/rules.md §2.3, §2.4)
# -------------------------------------------
SEIZED_SCRIPT = (
    "I'm sorry, I can't accept this note: it shows features we are required to check, and I have to keep "
    "it and send it to the U.S. Secret Service. This doesn't mean we think you did anything wrong. If it "
    "turns out to be genuine it will be returned. Here is a copy of the record for you."
)
# What the CSR does while the customer is at the window (docs/rules.md §2.3, steps 1-7, in our words).
SEIZED_STEPS: tuple[str, ...] = (
    "Stay calm and polite; do not accuse: the customer may not know the note is bad.",
    "Do not hand the note back. If the customer becomes aggressive, your safety comes first.",
    "Never try to stop anyone physically; delay them on a pretext only if it is safe.",
    "Note the passer's description, any companions, and a vehicle and its licence plate if seen.",
    "Tell your supervisor; the police or the Secret Service field office is called from the office.",
    "Write your initials and today's date in the white border; handle the note as little as possible and "
    "put it in an envelope or sleeve.",
    "Hand it over only to your supervisor, or to an identified police officer or Secret Service agent "
    "(get the badge and case number).",
)


def note_record(note: NoteCheck, verdict: NoteVerdict) -> dict[str, Any]:
    """One checked note as the payment row keeps it (and the receipt shows it)."""
    return {
        "denomination": note.denomination,
        "uv_expected": expected_uv(note.denomination),
        "uv_colour": note.uv_colour,
        "pen": note.pen.value,
        "feel": note.feel,
        "watermark": note.watermark,
        "colour_shift": note.colour_shift,
        "suspect": verdict.suspect,
        "reasons": list(verdict.reasons),
    }


def seized_note_block(note: NoteCheck, block: Mapping[str, str], reasons: Sequence[str]) -> dict[str, Any]:
    """The note block of SSF 1604: what the window checked and what the CSR read off the note."""
    return {
        "denomination": note.denomination,
        "serial_number": note.serial_number,
        "series": block.get("series", ""),
        "federal_reserve_bank": block.get("federal_reserve_bank", ""),
        "check_letter_quadrant": block.get("check_letter_quadrant", ""),
        "face_plate_no": block.get("face_plate_no", ""),
        "back_plate_no": block.get("back_plate_no", ""),
        "note_count": 1,
        "suspect_features": list(reasons),
    }


def seized_receipt_block(
    config: CashConfig, now: dt.datetime, staff_name: str, account_id: str, received_cents: int
) -> dict[str, Any]:
    """The receipt block of SSF 1604: when, where and from whom the note was taken."""
    return {
        "date_received": local(now).date().isoformat(),
        "time": local(now).strftime("%H:%M"),
        "location": config.office_name,
        "how_received": "window payment",
        "employee_receiving": staff_name,
        "customer_account_no": account_id,
        "amount_tendered": received_cents,
    }


def seized_reporter_block(
    config: CashConfig, staff_name: str, police_agency: str, police_report_no: str
) -> dict[str, Any]:
    """The reporter block of SSF 1604: the office from config, the police details from the window."""
    return {
        "institution": config.office_name,
        "address": config.office_address,
        "phone": config.office_phone,
        "contact_person": staff_name,
        "police_agency": police_agency.strip() or config.police_agency,
        "police_report_no": police_report_no.strip(),
        "usss_submission_id": None,
        "date_surrendered": None,
        "surrendered_to": "",
    }


def redacted_passer(passer: Mapping[str, str]) -> dict[str, str]:
    """Free text is scanned before storage: a card number or SSN written down by mistake is masked."""
    return {k: redact(v) for k, v in passer.items()}


def seized_mail(
    staff_name: str, denomination: int, record_id: int, reasons: Sequence[str], now: dt.datetime
) -> tuple[str, str]:
    """The supervisor's mail about a seized note: (subject, body)."""
    title = denomination_title(denomination)
    subject = f"Suspected counterfeit {title} note seized by {staff_name}"
    body = "\n".join(
        [
            f"{staff_name} seized a suspected counterfeit {title} note "
            f"at {local(now):%Y-%m-%d %H:%M %Z} (record #{record_id}): {'; '.join(reasons)}.",
            "Take custody of the note and record the hand-over, call the police or the Secret Service",
            "field office, and record the Secret Service submission id once reported.",
            f"Record: /ui/cash_handling/seized/{record_id}",
        ]
    )
    return subject, body


def unbalanced_mail(
    drawer_id: int,
    tender_control_id: str,
    csr: str,
    closed_by: str,
    now: dt.datetime,
    starting_float_cents: int,
    expected: int,
    counted: int,
) -> tuple[str, str]:
    """The lead's mail about a drawer closed over or short: (subject, body)."""
    over_under = counted - expected
    word = "over" if over_under > 0 else "short"
    subject = f"Drawer #{drawer_id} of {csr} closed {word} {money(abs(over_under))}"
    body = "\n".join(
        [
            f"Drawer #{drawer_id} (tender control {tender_control_id}) of {csr} was closed "
            f"by {closed_by} at {local(now):%Y-%m-%d %H:%M %Z}.",
            f"Starting float {money(starting_float_cents)}, expected {money(expected)}, "
            f"counted {money(counted)}: {word} {money(abs(over_under))}.",
            "",
            "Recount with the CSR, then clear the amount to the over/under account in CCB.",
            f"Drawer: /ui/cash_handling/drawers/{drawer_id}",
        ]
    )
    return subject, body


def card_words(pay: CashPayment) -> str:
    """``credit card (visa) ************1234, approval AB12CD`` — last four digits only (docs/rules.md
    §1.5)."""
    brand = f" ({pay.card_brand})" if pay.card_brand else ""
    last4 = masked_pan(pay.card_last4 or "")
    return f"{pay.card_type} card{brand} {last4}, approval {pay.authorization_code}"


def receipt_text(config: CashConfig, pay: CashPayment) -> str:
    """The customer's mailed receipt."""
    lines = [
        f"{config.office_name} — payment receipt {pay.receipt_no}",
        f"Account {pay.account_id}, {local(pay.taken_at):%Y-%m-%d %H:%M %Z}",
    ]
    if pay.tender_type == TenderType.CARD:
        lines.append(f"Paid by {card_words(pay)}: {money(pay.amount_cents)}")
    else:
        lines.append(f"Paid in cash: {money(pay.amount_cents)}")
        lines.append(f"Cash received: {money(pay.received_cents)}; change given: {money(pay.change_cents)}")
    if pay.seized_cents:
        lines.append(f"Notes kept for the Secret Service (not credited): {money(pay.seized_cents)}")
    if pay.balance_after_cents is not None:
        lines.append(f"Account balance after this payment: {money(pay.balance_after_cents)}")
    lines.append(f"Received by {pay.taken_by}.")
    return "\n".join(lines)


# -- card terminals as the window sees them ---------------------------------------------------------------
TERMINAL_STATUS_REASONS = {
    # Deployed yet refused: the inventory's rule also wants a passing inspection within the terminal's
    # frequency and no open incident.
    "deployed": (
        "deployed but not vouched for (no passing inspection within its frequency, or an open incident)"
    ),
    "out_of_service": "out of service (a failed inspection or a fault took it out of use)",
    "in_stock": "not deployed (in stock)",
    "quarantined": "quarantined",
    "in_repair": "in repair",
    "decommissioned": "decommissioned",
    "lost": "reported lost",
}


def terminal_label(terminal_id: int, make: str, model: str, window: str, serial_number: str) -> str:
    return f"#{terminal_id} {make} {model} · {window} · serial {serial_number}"


def terminal_status_reason(status: str) -> str:
    return TERMINAL_STATUS_REASONS.get(status, status.replace("_", " "))


def terminal_refused(message: str) -> CashError:
    """A card not to be taken on this terminal: 409 naming ``terminal_id``, with what to do instead."""
    return CashError(
        [("terminal_id", message + ": do not take the card on it; use another terminal, or take cash")],
        status_code=409,
    )


def cards_unavailable(reason: str) -> CashError:
    """No terminal can be vouched for at all: 409 naming ``terminal_id``; cash is still taken."""
    return CashError(
        [("terminal_id", f"card payments are unavailable: {reason}; take cash instead")], status_code=409
    )
