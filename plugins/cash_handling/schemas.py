"""Request and response Structs of the cash window: JSON bodies, the views the API answers, the page forms.

JSON bodies are strict (``forbid_unknown_fields``); money is integer cents. The page forms are the HTML
side of the same requests: staff type dollars (``Cents``) and the counts by denomination come from one input
per denomination, so those forms are built from the denomination tables in ``rules``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

from core.contract.inputs import Cents as Dollars
from plugins.cash_handling.rules import (
    AUTHORIZATION_CODE,
    CARD_LAST4,
    FLOAT_DENOMINATIONS,
    CardBrand,
    CardType,
    DrawerTotals,
    NoteCheck,
    SlipType,
    terminal_label,
    terminal_status_reason,
)
from plugins.pci_inspection.public import CardTerminal

# A client's idempotency key in a body; its shape is checked with the kit's ``check_key``.
BodyKey = Annotated[str, msgspec.Meta(max_length=200)]
AccountId = Annotated[str, msgspec.Meta(pattern=r"^\d{10}$")]
Cents = Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"\S")]


# -- request bodies --------------------------------------------------------------------------------------
class OpenDrawerIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    float_counts: dict[str, int]  # denomination in cents → count (the change fund, counted)
    idempotency_key: BodyKey


class CloseDrawerIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    counted_counts: dict[str, int]


class PasserIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The passer block of SSF 1604 (docs/rules.md §2.4); write down only what was seen or shown."""

    name: Short = ""
    address: Short = ""
    phone: Short = ""
    dob: Short = ""
    id_type: Short = ""
    id_number: Short = ""
    sex: Short = ""
    race: Short = ""
    age: Short = ""
    height: Short = ""
    weight: Short = ""
    hair: Short = ""
    eyes: Short = ""
    other_description: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    companions: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    vehicle: Short = ""


class SeizedNoteIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The note block of SSF 1604 for a suspect note, by its position in ``notes``."""

    note_index: Annotated[int, msgspec.Meta(ge=0)]
    series: Short = ""
    federal_reserve_bank: Short = ""
    check_letter_quadrant: Short = ""
    face_plate_no: Short = ""
    back_plate_no: Short = ""


class ReporterIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the reporter block of SSF 1604 takes from the window; the office's details come from config."""

    police_agency: Short = ""
    police_report_no: Short = ""


class PaymentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    account_id: AccountId
    amount_cents: Cents
    change_cents: Cents
    note_counts: dict[str, int]
    notes: Annotated[list[NoteCheck], msgspec.Meta(max_length=500)]
    coins_cents: Cents = 0
    contact_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    passer: PasserIn | None = None
    seized_notes: list[SeizedNoteIn] = []
    reporter: ReporterIn | None = None
    idempotency_key: BodyKey | None = None


class CardPaymentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A card tender at the window. The terminal reads the card; the CSR copies from its slip the last four
    digits and the approval code. There is no field for a card number, and none is accepted (docs/rules.md
    §1.5).
    """

    account_id: AccountId
    amount_cents: Annotated[int, msgspec.Meta(ge=1, le=100_000_000)]
    card_type: CardType
    terminal_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]  # its id in the terminal inventory
    card_last4: Annotated[str, msgspec.Meta(pattern=CARD_LAST4)]
    authorization_code: Annotated[str, msgspec.Meta(pattern=AUTHORIZATION_CODE)]
    card_brand: CardBrand | None = None
    contact_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    idempotency_key: BodyKey | None = None


class DepositIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    drawer_ids: Annotated[list[int], msgspec.Meta(min_length=1, max_length=200)]
    idempotency_key: BodyKey


class CustodyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    to_holder: Name
    action: Annotated[str, msgspec.Meta(pattern=r"^(handed_over|surrendered)$")] = "handed_over"
    remarks: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    # When the note changed hands, if recorded afterwards (timezone-aware); now by default.
    at: dt.datetime | None = None
    # Surrender only to an identified officer or agent, and get the case number (docs/rules.md §2.3 step 7).
    badge: Short = ""
    case_no: Short = ""


class SubmissionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    usss_submission_id: Annotated[str, msgspec.Meta(min_length=3, max_length=60, pattern=r"^[A-Za-z0-9-]+$")]
    police_report_no: Short = ""
    surrendered_to: Short = ""


class SlipIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    slip_no: Annotated[int, msgspec.Meta(ge=1)]
    account_id: AccountId
    amount_cents: Annotated[int, msgspec.Meta(ge=1, le=100_000_000)]
    slip_type: SlipType
    assigned_to: Name
    check_number: Annotated[str, msgspec.Meta(pattern=r"^\d{1,20}$")] | None = None


class CollectionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: Annotated[str, msgspec.Meta(pattern=r"^(morning|intraday)$")]
    envelopes: Annotated[int, msgspec.Meta(ge=0, le=10_000)]
    counter_cents: Cents  # the bill counter's total of the cash in the envelopes
    slips: Annotated[list[SlipIn], msgspec.Meta(max_length=2000)]
    idempotency_key: BodyKey
    # The lead opened every envelope and checked each payment's type against its slip.
    types_verified: bool = False


class SlipPostIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    account_id: AccountId  # read again from the slip by the posting CSR: it must match


# -- views -----------------------------------------------------------------------------------------------
class TotalsView(msgspec.Struct, kw_only=True):
    """A drawer's window payments by tender; cards are listed apart, they are not in the drawer."""

    cash_cents: int
    check_cents: int
    card_cents: int
    payments: int
    card_payments: int
    expected_in_drawer_cents: int

    @classmethod
    def of(cls, t: DrawerTotals) -> TotalsView:
        return cls(
            cash_cents=t.cash_cents,
            check_cents=t.check_cents,
            card_cents=t.card_cents,
            payments=t.payments,
            card_payments=t.card_payments,
            expected_in_drawer_cents=t.expected_cents,
        )


class DrawerView(msgspec.Struct, kw_only=True):
    id: int
    tender_control_id: str
    csr: str
    status: str
    starting_float_cents: int
    float_counts: dict[str, int]
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    counted_cents: int | None
    expected_cents: int | None
    over_under_cents: int | None
    deposit_control_id: str | None
    totals: TotalsView | None = None


class NoteView(msgspec.Struct, kw_only=True):
    denomination: int
    uv_expected: str
    uv_colour: str
    pen: str
    feel: bool
    watermark: bool
    colour_shift: bool | None
    suspect: bool
    reasons: list[str]


class CardView(msgspec.Struct, kw_only=True):
    """A card tender as agents may see it: last four digits only (docs/rules.md §1.5, PCI DSS 3.4.1)."""

    card_type: str
    card_brand: str | None
    card_last4: str
    masked_pan: str
    authorization_code: str
    terminal_id: int


class PaymentView(msgspec.Struct, kw_only=True):
    id: int
    receipt_no: str | None
    account_id: str
    tender_type: str
    amount_cents: int
    received_cents: int
    seized_cents: int
    change_cents: int
    payment_id: str | None
    balance_after_cents: int | None
    drawer_id: int
    taken_by: str
    taken_at: dt.datetime
    notes: list[NoteView]
    seized_note_ids: list[int]
    mailed_to_customer: bool
    customer_script: str | None
    card: CardView | None = None
    replayed: bool = False


class CustodyView(msgspec.Struct, kw_only=True):
    from_holder: str | None
    to_holder: str
    action: str
    at: dt.datetime
    recorded_by: str


class SeizedView(msgspec.Struct, kw_only=True):
    id: int
    payment_id: int | None
    denomination: int
    status: str
    holder: str
    seized_at: dt.datetime
    note: dict[str, Any]
    receipt: dict[str, Any]
    passer: dict[str, Any]
    reporter: dict[str, Any]
    usss_submission_id: str | None
    custody: list[CustodyView]


class SlipView(msgspec.Struct, kw_only=True):
    id: int
    slip_no: int
    account_id: str
    amount_cents: int
    slip_type: str
    assigned_to: str
    posted: bool
    payment_id: str | None


class CollectionView(msgspec.Struct, kw_only=True):
    id: int
    kind: str
    collected_at: dt.datetime
    collected_by: str
    envelopes: int
    types_verified: bool
    counter_cents: int
    slips_cents: int
    cash_slips_cents: int
    counter_variance_cents: int
    posted_cents: int
    unposted: int
    reconciled: bool
    slips: list[SlipView]


class DepositView(msgspec.Struct, kw_only=True):
    deposit_control_id: str
    total_cents: int
    drawer_ids: list[int]


class TerminalChoice(msgspec.Struct, kw_only=True):
    """A card terminal as the window page offers it: usable ones to pick, the others with the reason."""

    id: int
    label: str
    window: str
    status: str
    usable: bool
    refusal: str

    @classmethod
    def of(cls, t: CardTerminal) -> TerminalChoice:
        label = terminal_label(t.id, t.make, t.model, t.window, t.serial_number)
        refusal = f"terminal {label} is {terminal_status_reason(t.status)}"
        return cls(id=t.id, label=label, window=t.window, status=t.status, usable=t.usable, refusal=refusal)


class TerminalLine(msgspec.Struct, kw_only=True):
    terminal_id: int
    label: str
    window: str
    status: str
    usable: bool


class TerminalsView(msgspec.Struct, kw_only=True):
    """The card terminals at this office; without ``available``, ``reason`` says why none can be trusted."""

    site: str
    available: bool
    reason: str | None
    terminals: list[TerminalLine]


# -- page forms ------------------------------------------------------------------------------------------
# Every form carries ``form_token``: drawn when the page renders, it is the idempotency key of that one
# rendered form, so a double-clicked or resubmitted form writes once, like the JSON routes' keys.
class FormToken(msgspec.Struct, kw_only=True):
    form_token: str = ""


def _counts_form(name: str, prefix: str, denominations: tuple[int, ...]) -> type[msgspec.Struct]:
    """A form with one whole-number box per denomination, named ``<prefix><cents>``."""
    fields: list[tuple[str, Any, Any]] = [(f"{prefix}{d}", int | None, None) for d in denominations]
    return msgspec.defstruct(name, fields, bases=(FormToken,), kw_only=True)


FloatForm = _counts_form("FloatForm", "float_", FLOAT_DENOMINATIONS)
CountedForm = _counts_form("CountedForm", "counted_", FLOAT_DENOMINATIONS)


class NoteRowForm(msgspec.Struct, kw_only=True):
    """One row of the window's note table (``<name>_<cents>``) or one suspect row (``suspect_<i>_<name>``)."""

    count: int | None = None  # the notes of that denomination (rows only)
    denomination: int | None = None  # the suspect note's face value in cents (suspect rows only)
    uv: str = ""
    pen: str = ""
    feel: bool = False
    watermark: bool = False
    shift: bool = False


class NoteBlockForm(msgspec.Struct, kw_only=True):
    """The SSF 1604 note block a seized note's row carries (``ssf_<origin>_<name>``)."""

    serial_number: str = ""
    series: str = ""
    federal_reserve_bank: str = ""
    check_letter_quadrant: str = ""
    face_plate_no: str = ""
    back_plate_no: str = ""


class PayForm(FormToken, kw_only=True):
    """The window's cash payment form; the note rows, the suspect rows and the SSF blocks are read apart."""

    account_id: str = ""
    contact_id: str = ""
    amount: Dollars = 0
    change: Dollars = 0
    coins: Dollars = 0
    step: str = ""


class CardForm(FormToken, kw_only=True):
    """The window's card form, as typed: checked for card data before anything is decoded further."""

    account_id: str = ""
    contact_id: str = ""
    amount: str = ""
    card_type: str = ""
    card_brand: str = ""
    terminal_id: str = ""
    card_last4: str = ""
    authorization_code: str = ""


class AmountForm(msgspec.Struct, kw_only=True):
    amount: Dollars = 0


class DepositForm(FormToken, kw_only=True):
    drawer_id: list[str] = []


class CustodyForm(msgspec.Struct, kw_only=True):
    to_holder: str = ""
    action: str = ""
    at: str = ""
    badge: str = ""
    case_no: str = ""
    remarks: str = ""


class SubmissionForm(msgspec.Struct, kw_only=True):
    usss_submission_id: str = ""
    police_report_no: str = ""
    surrendered_to: str = ""


class CollectionForm(FormToken, kw_only=True):
    kind: str = ""
    envelopes: int | None = None
    counter: Dollars = 0
    types_verified: bool = False
    rows: int | None = None


class SlipRowForm(msgspec.Struct, kw_only=True):
    """One slip row of the collection form (``slip_<i>_<name>``); an untouched row is skipped."""

    no: int | None = None
    account: str = ""
    amount: Dollars | None = None
    type: str = ""
    check: str = ""
    assigned: str = ""

    @property
    def touched(self) -> bool:
        return bool(self.account or self.amount is not None or self.check or self.assigned)


class SlipPostForm(msgspec.Struct, kw_only=True):
    account_id: str = ""
    back: str = ""
