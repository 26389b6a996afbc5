"""HTTP side of the cash window: JSON routes under /api/cash_handling and pages under /ui/cash_handling.

Each write validates everything first (422 naming the field; nothing is written on a refusal), then makes
its CCB call with an idempotency key derived from the caller's key, then records the local rows, events,
mails and audit in one transaction. The CCB call and the local transaction are two commits: a retry with the
same key replays the CCB answer (ccb-domain.md §1.9, ARCHITECTURE §7 "payments idempotent") and completes the
local record, so money is posted once and the receipt exists once, even when two submissions race.

Card tenders are taken only on a terminal that the pci_inspection plugin says is usable at this office; the
hub never sees a card number, only the last four digits and the approval code on the terminal's slip
(rules.md §1.5). Page forms post to /ui/cash_handling/…, carry the shell's CSRF token, work without
JavaScript, and re-render with the offending field named (422) on bad input.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb import port as p
from core.ccb.codes import BILLABLE_SA_STATUSES
from core.ccb.errors import CcbError, IllegalTransition, Invalid, NotFound
from core.clock import LOCAL_TZ, local
from core.contact import require_verified
from core.contract import PageSpec, PluginContext
from core.contract.inputs import field_of
from core.redact import redact
from core.security import current_staff, hub_of
from core.staff import Role, Staff
from core.web.pages import render
from plugins.cash_handling import events
from plugins.cash_handling.models import (
    CashCustody,
    CashDrawer,
    CashDropboxCollection,
    CashDropboxSlip,
    CashPayment,
    CashSeizedNote,
)
from plugins.cash_handling.service import (
    AUTHORIZATION_CODE,
    CARD_LAST4,
    COINS,
    FLOAT_DENOMINATIONS,
    NEVER_CARD_DATA,
    NOTES,
    UV_COLOURS,
    CardBrand,
    CardType,
    CashConfig,
    CashError,
    DrawerTotals,
    NoteCheck,
    NoteVerdict,
    PenResult,
    SlipLine,
    SlipType,
    TenderType,
    balance,
    business_days_between,
    card_data_in,
    check_note,
    counts_match,
    custody_time,
    denomination_title,
    drawer_totals,
    expected_uv,
    masked_pan,
    money,
    parse_counts,
    receipt_number,
    reconcile,
    total_of,
    window_cash,
)

# Who may do what (issue 6 §1): CSRs run their own drawer and take payments; the lead also collects the
# drop box, groups drawers into deposits and hears about variances; a supervisor takes custody of seized
# notes and records the Secret Service submission.
WINDOW = {"roles": ["csr", "lead"]}
LEAD = {"roles": ["lead", "supervisor"]}
SUPERVISOR = {"roles": ["supervisor"]}
CUSTODY = {"roles": ["csr", "lead", "supervisor"]}
VIEW = {"roles": ["csr", "lead", "supervisor", "admin"]}
FORM = {"exclude_from_csrf": True}
CONTACT_HEADER = "x-contact-id"
SEIZED_SCRIPT = (
    "I'm sorry, I can't accept this note: it shows features we are required to check, and I have to keep "
    "it and send it to the U.S. Secret Service. This doesn't mean we think you did anything wrong. If it "
    "turns out to be genuine it will be returned. Here is a copy of the record for you."
)
# What the CSR does while the customer is at the window (rules.md §2.3, steps 1-7, in our words).
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

Key = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:-]{8,100}$")]
AccountId = Annotated[str, msgspec.Meta(pattern=r"^\d{10}$")]
Cents = Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"\S")]
T = TypeVar("T")


# -- request bodies --------------------------------------------------------------------------------------
class OpenDrawerIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    float_counts: dict[str, int]  # denomination in cents → count (the change fund, counted)
    idempotency_key: Key


class CloseDrawerIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    counted_counts: dict[str, int]


class PasserIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The passer block of SSF 1604 (rules.md §2.4); write down only what was seen or shown."""

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
    idempotency_key: Key | None = None


class CardPaymentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A card tender at the window. The terminal reads the card; the CSR copies from its slip the last four
    digits and the approval code. There is no field for a card number, and none is accepted (rules.md §1.5).
    """

    account_id: AccountId
    amount_cents: Annotated[int, msgspec.Meta(ge=1, le=100_000_000)]
    card_type: CardType
    terminal_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]  # its id in the terminal inventory
    card_last4: Annotated[str, msgspec.Meta(pattern=CARD_LAST4)]
    authorization_code: Annotated[str, msgspec.Meta(pattern=AUTHORIZATION_CODE)]
    card_brand: CardBrand | None = None
    contact_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    idempotency_key: Key | None = None


class DepositIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    drawer_ids: Annotated[list[int], msgspec.Meta(min_length=1, max_length=200)]
    idempotency_key: Key


class CustodyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    to_holder: Name
    action: Annotated[str, msgspec.Meta(pattern=r"^(handed_over|surrendered)$")] = "handed_over"
    remarks: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    # When the note changed hands, if recorded afterwards (timezone-aware); now by default.
    at: dt.datetime | None = None
    # Surrender only to an identified officer or agent, and get the case number (rules.md §2.3 step 7).
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
    idempotency_key: Key
    # The lead opened every envelope and checked each payment's type against its slip.
    types_verified: bool = False


class SlipPostIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    account_id: AccountId  # read again from the slip by the posting CSR: it must match


# -- errors ----------------------------------------------------------------------------------------------


def _unprocessable(problems: Sequence[tuple[str, str]], status_code: int = 422) -> ClientException:
    return ClientException(
        status_code=status_code,
        detail="; ".join(f"{k}: {m}" for k, m in problems),
        extra=[{"key": k, "message": m} for k, m in problems],
    )


def decode(raw: bytes, type_: type[T]) -> T:
    """Malformed JSON → 400; a body that does not fit → 422 naming the field (a fractional cent included)."""
    if not raw.strip():
        raise ClientException(status_code=400, detail="body: a JSON object is required")
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        raise _unprocessable([(field_of(exc), str(exc).split(" - at ")[0])]) from None
    except msgspec.DecodeError as exc:
        raise ClientException(status_code=400, detail=f"body: malformed JSON ({exc})") from None


def decode_card(raw: bytes) -> CardPaymentIn:
    """Decode a card payment, refusing first any card number or card-data field anywhere in the body.

    The refusal names where the data was, never the data, so no response or log line can echo a PAN
    (rules.md §1.5: the hub never sees a full card number; PCI DSS 3.3.1, 3.4.1).
    """
    if not raw.strip():
        raise ClientException(status_code=400, detail="body: a JSON object is required")
    try:
        generic = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ClientException(status_code=400, detail=f"body: malformed JSON ({exc})") from None
    found = card_data_in(generic)
    if found:
        raise _unprocessable([(where, NEVER_CARD_DATA) for where in found])
    try:
        return msgspec.convert(generic, CardPaymentIn)
    except msgspec.ValidationError as exc:
        raise _unprocessable([(field_of(exc), str(exc).split(" - at ")[0])]) from None


def _ccb_http(exc: CcbError) -> ClientException:
    if isinstance(exc, NotFound):
        return NotFoundException(str(exc))
    if isinstance(exc, Invalid):
        return _unprocessable([(exc.field, exc.message)])
    if isinstance(exc, IllegalTransition):
        return ClientException(status_code=409, detail=str(exc))
    return ClientException(status_code=409, detail=str(exc))


def _conflict(message: str) -> ClientException:
    return ClientException(status_code=409, detail=message)


# -- the verified-contact guard --------------------------------------------------------------------------
async def _require_verified_contact(
    request: Request[Any, Any, Any], account_id: str, contact_id: str | None, purpose: str = "cash payment"
) -> str:
    """Customer data needs a contact verified for the account (ARCHITECTURE §6): the core's guard decides.

    The header ``X-Contact-Id`` or the form's ``contact_id`` names the CSR's verified contact; a lead may
    instead give ``X-Access-Reason``. Returns what is recorded on the payment: the contact id, or the reason.
    """
    access = await require_verified(
        request, account_id, purpose=purpose, topic="payment", change=True, contact_id=contact_id
    )
    return (access.contact_id or f"reason: {access.reason}")[:64]


# -- card terminals: the pci_inspection companion --------------------------------------------------------
# pci_inspection is an optional companion, deliberately not in the manifest's ``depends_on``: a dependency
# would block the whole cash window whenever the terminal inspection is off, and cash must still be taken
# then. Each card tender asks the companion at that moment, through its public read queries
# (``terminal_usable`` and ``assess`` in its models). Without it — not installed, not running, enabled for
# no section (so nobody records inspections), or its tables missing — no terminal can be shown to be safe,
# so cards are refused with the reason and cash is still taken (rules.md §1.4 step 1: move customers to
# another verified terminal or to cash).
PCI_PLUGIN = "pci_inspection"

STATUS_REASONS = {
    "out_of_service": "out of service (a failed inspection or a fault took it out of use)",
    "in_stock": "not deployed (in stock)",
    "quarantined": "quarantined",
    "in_repair": "in repair",
    "decommissioned": "decommissioned",
    "lost": "reported lost",
}


class TerminalsUnavailable(Exception):
    """Card terminals cannot be checked at this hub; the message says why."""


@dataclass(frozen=True)
class Terminal:
    """A card terminal at this office as the window sees it."""

    id: int
    make: str
    model: str
    serial_number: str
    site: str
    window: str
    status: str
    usable: bool

    @property
    def label(self) -> str:
        return f"#{self.id} {self.make} {self.model} · {self.window} · serial {self.serial_number}"

    @property
    def refusal(self) -> str:
        reason = STATUS_REASONS.get(self.status, self.status.replace("_", " "))
        return f"terminal {self.label} is {reason}"


def _pci_record(request: Request[Any, Any, Any]) -> Any:
    """The companion's plugin record when it can vouch for terminals; raises TerminalsUnavailable."""
    hub = hub_of(request)
    rec = hub.plugins.records.get(PCI_PLUGIN)
    if rec is None:
        raise TerminalsUnavailable("the PCI terminal inspection plugin (pci_inspection) is not installed")
    if not rec.running:
        raise TerminalsUnavailable(f"the PCI terminal inspection plugin is {rec.status.value}")
    if not hub.enablement.sections_for(PCI_PLUGIN):
        raise TerminalsUnavailable(
            "the PCI terminal inspection plugin is enabled for no section, so no one records inspections"
        )
    return rec


_NO_TABLES = "the card-terminal inventory tables are missing (the database needs `ccbhub db upgrade`)"


async def terminals_at(ctx: PluginContext, request: Request[Any, Any, Any], site: str) -> list[Terminal]:
    """Every terminal in the inventory at ``site``, usable or not; raises TerminalsUnavailable."""
    rec = _pci_record(request)
    try:
        from plugins.pci_inspection.models import assess
        from plugins.pci_inspection.service import DeviceStatus, usable
    except ImportError as exc:  # pragma: no cover - both ship in one distribution today
        raise TerminalsUnavailable(f"the PCI terminal inspection plugin cannot be loaded ({exc})") from None
    try:
        # A session of its own: on PostgreSQL a failed statement spoils the transaction it runs in.
        async with ctx.db.session() as session:
            found = await assess(session, rec.config, ctx.clock.now())
    except DBAPIError:
        raise TerminalsUnavailable(_NO_TABLES) from None
    return [
        Terminal(
            id=a.device.id,
            make=a.device.make,
            model=a.device.model,
            serial_number=a.device.serial_number,
            site=a.device.site,
            window=a.device.window,
            status=a.device.status,
            usable=usable(DeviceStatus(a.device.status)),
        )
        for a in found
        if a.device.site == site
    ]


def _terminal_refused(message: str) -> ClientException:
    return _unprocessable(
        [("terminal_id", message + ": do not take the card on it; use another terminal, or take cash")],
        status_code=409,
    )


async def check_terminal(ctx: PluginContext, request: Request[Any, Any, Any], terminal_id: int) -> Terminal:
    """The terminal, when a card may be taken on it now; else 409 naming ``terminal_id`` and why.

    Refused: the companion cannot vouch for terminals; the id is not in the inventory; the terminal is at
    another site; or ``terminal_usable`` says no (a failed inspection takes it out of service at once,
    rules.md §1.4 step 1; in stock, in repair, quarantined, lost and decommissioned are never usable).
    """
    config: CashConfig = ctx.config
    try:
        rec = _pci_record(request)
        from plugins.pci_inspection.models import assess, terminal_usable

        async with ctx.db.session() as session:
            usable_now = await terminal_usable(session, terminal_id)
            found = await assess(session, rec.config, ctx.clock.now(), device_id=terminal_id)
    except TerminalsUnavailable as exc:
        raise _unprocessable(
            [("terminal_id", f"card payments are unavailable: {exc}; take cash instead")], status_code=409
        ) from None
    except DBAPIError:
        raise _unprocessable(
            [("terminal_id", f"card payments are unavailable: {_NO_TABLES}; take cash instead")],
            status_code=409,
        ) from None
    if not found:
        raise _terminal_refused(f"there is no card terminal #{terminal_id} in the terminal inventory")
    device = found[0].device
    terminal = Terminal(
        id=device.id,
        make=device.make,
        model=device.model,
        serial_number=device.serial_number,
        site=device.site,
        window=device.window,
        status=device.status,
        usable=usable_now,
    )
    if device.site != config.card_terminal_site:
        raise _terminal_refused(
            f"terminal {terminal.label} is at site {device.site}, not at this office "
            f"({config.card_terminal_site})"
        )
    if not usable_now:
        raise _terminal_refused(terminal.refusal)
    return terminal


# -- views -----------------------------------------------------------------------------------------------
class TotalsView(msgspec.Struct, kw_only=True):
    """A drawer's window payments by tender; cards are listed apart, they are not in the drawer."""

    cash_cents: int
    check_cents: int
    card_cents: int
    payments: int
    card_payments: int
    expected_in_drawer_cents: int


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
    """A card tender as agents may see it: last four digits only (rules.md §1.5, PCI DSS 3.4.1)."""

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


def totals_view(t: DrawerTotals) -> TotalsView:
    return TotalsView(
        cash_cents=t.cash_cents,
        check_cents=t.check_cents,
        card_cents=t.card_cents,
        payments=t.payments,
        card_payments=t.card_payments,
        expected_in_drawer_cents=t.expected_cents,
    )


async def drawer_totals_of(session: AsyncSession, drawers: Sequence[CashDrawer]) -> dict[int, DrawerTotals]:
    """Each drawer's window payments by tender type, from this plugin's own payment rows (one query).

    Only payments that reached CCB count (a visit where every note was seized posts nothing).
    """
    ids = [d.id for d in drawers]
    lines: dict[int, list[tuple[str, int]]] = {i: [] for i in ids}
    if ids:
        rows = await session.execute(
            select(CashPayment.drawer_id, CashPayment.tender_type, CashPayment.amount_cents).where(
                CashPayment.drawer_id.in_(ids), CashPayment.payment_id.is_not(None)
            )
        )
        for drawer_id, tender, cents in rows.all():
            lines[drawer_id].append((tender, cents))
    return {d.id: drawer_totals(d.starting_float_cents, lines[d.id]) for d in drawers}


def drawer_view(d: CashDrawer, totals: DrawerTotals | None = None) -> DrawerView:
    return DrawerView(
        id=d.id,
        tender_control_id=d.tender_control_id,
        csr=d.csr,
        status=d.status,
        starting_float_cents=d.starting_float_cents,
        float_counts=d.float_counts,
        opened_at=d.opened_at,
        closed_at=d.closed_at,
        counted_cents=d.counted_cents,
        expected_cents=d.expected_cents,
        over_under_cents=d.over_under_cents,
        deposit_control_id=d.deposit_control_id,
        totals=totals_view(totals) if totals is not None else None,
    )


async def payment_view(session: AsyncSession, pay: CashPayment, *, replayed: bool = False) -> PaymentView:
    seized = (
        await session.scalars(select(CashSeizedNote.id).where(CashSeizedNote.payment_id == pay.id))
    ).all()
    card = None
    if pay.tender_type == TenderType.CARD and pay.card_last4 and pay.terminal_id is not None:
        card = CardView(
            card_type=pay.card_type or "",
            card_brand=pay.card_brand,
            card_last4=pay.card_last4,
            masked_pan=masked_pan(pay.card_last4),
            authorization_code=pay.authorization_code or "",
            terminal_id=pay.terminal_id,
        )
    return PaymentView(
        id=pay.id,
        receipt_no=pay.receipt_no,
        account_id=pay.account_id,
        tender_type=pay.tender_type,
        amount_cents=pay.amount_cents,
        received_cents=pay.received_cents,
        seized_cents=pay.seized_cents,
        change_cents=pay.change_cents,
        payment_id=pay.payment_id,
        balance_after_cents=pay.balance_after_cents,
        drawer_id=pay.drawer_id,
        taken_by=pay.taken_by,
        taken_at=pay.taken_at,
        notes=[msgspec.convert(n, NoteView) for n in pay.notes],
        seized_note_ids=list(seized),
        mailed_to_customer=pay.mailed_to is not None,
        customer_script=SEIZED_SCRIPT if seized else None,
        card=card,
        replayed=replayed,
    )


async def seized_view(session: AsyncSession, note: CashSeizedNote) -> SeizedView:
    rows = (
        await session.scalars(
            select(CashCustody).where(CashCustody.seized_note_id == note.id).order_by(CashCustody.id)
        )
    ).all()
    return SeizedView(
        id=note.id,
        payment_id=note.payment_id,
        denomination=note.denomination,
        status=note.status,
        holder=note.holder,
        seized_at=note.seized_at,
        note=note.note,
        receipt=note.receipt,
        passer=note.passer,
        reporter=note.reporter,
        usss_submission_id=note.usss_submission_id,
        custody=[
            CustodyView(
                from_holder=c.from_holder,
                to_holder=c.to_holder,
                action=c.action,
                at=c.at,
                recorded_by=c.recorded_by,
            )
            for c in rows
        ],
    )


async def collection_view(session: AsyncSession, c: CashDropboxCollection) -> CollectionView:
    slips = (
        await session.scalars(
            select(CashDropboxSlip)
            .where(CashDropboxSlip.collection_id == c.id)
            .order_by(CashDropboxSlip.slip_no)
        )
    ).all()
    rec = reconcile(
        c.counter_cents,
        [SlipLine(s.amount_cents, SlipType(s.slip_type), s.payment_id is not None) for s in slips],
    )
    return CollectionView(
        id=c.id,
        kind=c.kind,
        collected_at=c.collected_at,
        collected_by=c.collected_by,
        envelopes=c.envelopes,
        types_verified=c.types_verified,
        counter_cents=c.counter_cents,
        slips_cents=rec.slips_cents,
        cash_slips_cents=rec.cash_slips_cents,
        counter_variance_cents=rec.counter_variance_cents,
        posted_cents=rec.posted_cents,
        unposted=rec.unposted,
        reconciled=rec.reconciled,
        slips=[
            SlipView(
                id=s.id,
                slip_no=s.slip_no,
                account_id=s.account_id,
                amount_cents=s.amount_cents,
                slip_type=s.slip_type,
                assigned_to=s.assigned_to,
                posted=s.payment_id is not None,
                payment_id=s.payment_id,
            )
            for s in slips
        ],
    )


# -- operations ------------------------------------------------------------------------------------------
def _counts(raw: dict[str, int], allowed: Sequence[int], field: str) -> dict[int, int]:
    try:
        return parse_counts(raw, allowed, field)
    except CashError as exc:
        raise _unprocessable(exc.problems) from None


def _json_counts(counts: dict[int, int]) -> dict[str, int]:
    return {str(k): v for k, v in sorted(counts.items())}


async def _open_drawer_of(session: AsyncSession, csr: str) -> CashDrawer | None:
    found: CashDrawer | None = await session.scalar(
        select(CashDrawer).where(CashDrawer.csr == csr, CashDrawer.status == "open")
    )
    return found


async def open_drawer(ctx: PluginContext, staff: Staff, data: OpenDrawerIn) -> tuple[CashDrawer, bool]:
    """Open a tender control with the counted change fund (ccb-domain.md §1.9); once per key."""
    config: CashConfig = ctx.config
    key = f"cash:drawer:{data.idempotency_key}"
    counts = _counts(data.float_counts, FLOAT_DENOMINATIONS, "float_counts")
    total = total_of(counts)
    if total > config.max_float_cents:
        raise _unprocessable(
            [("float_counts", f"a float of {money(total)} is above {money(config.max_float_cents)}")]
        )
    async with ctx.db.session() as session:
        existing = await session.scalar(select(CashDrawer).where(CashDrawer.idempotency_key == key))
        if existing is not None:
            return existing, True
        if await _open_drawer_of(session, staff.name) is not None:
            raise _conflict(f"{staff.name} already has an open drawer: close it first")
    try:
        control = await ctx.ccb.open_tender_control(
            p.OpenTenderControl(csr=staff.name, starting_float_cents=total),
            actor=staff.actor,
            idempotency_key=key,
        )
    except CcbError as exc:
        raise _ccb_http(exc) from None
    now = ctx.clock.now()
    try:
        async with ctx.db.session() as session:
            drawer = CashDrawer(
                tender_control_id=control.tender_control_id,
                csr=staff.name,
                status="open",
                float_counts=_json_counts(counts),
                starting_float_cents=total,
                opened_at=now,
                opened_on=local(now).date(),
                idempotency_key=key,
            )
            session.add(drawer)
            await session.flush()
            await ctx.audit.append(
                session,
                actor=staff.actor,
                action="cash.drawer.opened",
                target=f"cash_drawer:{drawer.id}",
                detail={"tender_control": control.tender_control_id, "float_cents": total},
            )
    except IntegrityError:
        async with ctx.db.session() as session:
            again = await session.scalar(select(CashDrawer).where(CashDrawer.idempotency_key == key))
        if again is None:
            raise
        return again, True
    return drawer, False


async def close_drawer(ctx: PluginContext, staff: Staff, drawer_id: int, data: CloseDrawerIn) -> CashDrawer:
    """Count the drawer and balance its tender control to the cent; a variance goes to the lead."""
    config: CashConfig = ctx.config
    counts = _counts(data.counted_counts, FLOAT_DENOMINATIONS, "counted_counts")
    counted = total_of(counts)
    async with ctx.db.session() as session:
        drawer = await session.get(CashDrawer, drawer_id)
        if drawer is None:
            raise NotFoundException(f"no drawer {drawer_id}")
        if drawer.csr != staff.name and staff.role is Role.CSR:
            raise PermissionDeniedException(f"drawer {drawer_id} belongs to {drawer.csr}")
        if drawer.status != "open":
            raise _conflict(f"drawer {drawer_id} is already closed")
    base = f"cash:close:{drawer_id}"
    try:
        control = await ctx.ccb.get_tender_control(drawer.tender_control_id)
        if control.status == "open":
            await ctx.ccb.start_balancing(
                p.StartBalancing(tender_control_id=drawer.tender_control_id),
                actor=staff.actor,
                idempotency_key=f"{base}:start",
            )
        control = await ctx.ccb.balance_tender_control(
            p.BalanceTenderControl(tender_control_id=drawer.tender_control_id, counted_cents=counted),
            actor=staff.actor,
            idempotency_key=f"{base}:balance:{counted}",
        )
    except CcbError as exc:
        raise _ccb_http(exc) from None
    # The CCB's expected amount is authoritative (cash and checks in the drawer, cards settle elsewhere).
    result = balance(drawer.starting_float_cents, control.tenders_cents, counted)
    expected = control.expected_cents if control.expected_cents is not None else result.expected_cents
    over_under = counted - expected
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        row = await session.get(CashDrawer, drawer_id, with_for_update=True)
        assert row is not None
        if row.status != "open":  # a concurrent close got here first: its record stands
            return row
        row.status = "closed"
        row.closed_at = now
        row.counted_counts = _json_counts(counts)
        row.counted_cents = counted
        row.expected_cents = expected
        row.over_under_cents = over_under
        payload = events.DrawerClosed(
            drawer_id=row.id,
            tender_control_id=row.tender_control_id,
            csr=row.csr,
            expected_cents=expected,
            counted_cents=counted,
            over_under_cents=over_under,
            at=now,
        )
        ctx.events.emit(session, events.DRAWER_CLOSED, payload, actor=staff.actor)
        if over_under:
            ctx.events.emit(session, events.DRAWER_UNBALANCED, payload, actor=staff.actor)
            word = "over" if over_under > 0 else "short"
            await ctx.mail.queue(
                session,
                to=list(config.lead_emails),
                subject=f"Drawer #{row.id} of {row.csr} closed {word} {money(abs(over_under))}",
                body="\n".join(
                    [
                        f"Drawer #{row.id} (tender control {row.tender_control_id}) of {row.csr} was closed "
                        f"by {staff.name} at {local(now):%Y-%m-%d %H:%M %Z}.",
                        f"Starting float {money(row.starting_float_cents)}, expected {money(expected)}, "
                        f"counted {money(counted)}: {word} {money(abs(over_under))}.",
                        "",
                        "Recount with the CSR, then clear the amount to the over/under account in CCB.",
                        f"Drawer: /ui/cash_handling/drawers/{row.id}",
                    ]
                ),
                idempotency_key=f"cash_handling:unbalanced:{row.id}",
            )
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="cash.drawer.closed",
            target=f"cash_drawer:{row.id}",
            detail={"expected_cents": expected, "counted_cents": counted, "over_under_cents": over_under},
        )
        return row


@dataclass
class PaymentRequest:
    data: PaymentIn
    key: str


async def _replay_payment(
    session: AsyncSession, key: str, account_id: str, tender: TenderType = TenderType.CASH
) -> CashPayment | None:
    """The payment already recorded under ``key``; one key is one window payment, whatever its tender."""
    existing = await session.scalar(select(CashPayment).where(CashPayment.idempotency_key == key))
    if existing is not None and existing.account_id != account_id:
        raise _conflict(f"idempotency key already used for account {existing.account_id}")
    if existing is not None and existing.tender_type != tender:
        raise _conflict(f"idempotency key already used for a {existing.tender_type} payment")
    return existing


async def _announce_payment(
    ctx: PluginContext,
    session: AsyncSession,
    staff: Staff,
    pay: CashPayment,
    posted: p.PaymentResult,
    email: str | None,
    now: dt.datetime,
) -> None:
    """The event and the customer's mailed receipt of a posted window payment (in the payment's commit)."""
    ctx.events.emit(
        session,
        events.PAYMENT_POSTED,
        events.PaymentPosted(
            source="window",
            account_id=pay.account_id,
            amount_cents=pay.amount_cents,
            tender_type=pay.tender_type,
            payment_id=posted.payment_id,
            receipt_no=pay.receipt_no,
            drawer_id=pay.drawer_id,
            slip_id=None,
            taken_by=staff.name,
            at=now,
        ),
        actor=staff.actor,
    )
    if email:
        await ctx.mail.queue(
            session,
            to=[email],
            subject=f"Your payment receipt {pay.receipt_no}",
            body=_receipt_text(ctx.config, pay),
            idempotency_key=f"cash_handling:receipt:{pay.id}",
        )


async def _post_tender(
    ctx: PluginContext, staff: Staff, account_id: str, tender: p.TenderInput, drawer: CashDrawer, key: str
) -> p.PaymentResult:
    """One tender posted to CCB on the CSR's tender control, under the window payment's key."""
    try:
        return await ctx.ccb.post_payment(
            p.PostPayment(
                account_id=account_id, tenders=(tender,), tender_control_id=drawer.tender_control_id
            ),
            idempotency_key=key,
            actor=staff.actor,
        )
    except CcbError as exc:
        raise _ccb_http(exc) from None


async def _record_once(
    ctx: PluginContext,
    key: str,
    account_id: str,
    tender: TenderType,
    write: Callable[[AsyncSession], Awaitable[CashPayment]],
) -> tuple[CashPayment, bool]:
    """Run ``write`` in one transaction; returns (payment, replayed)."""
    try:
        async with ctx.db.session() as session:
            return await write(session), False
    except IntegrityError:
        # The same key committed first in a racing request: its record is the answer.
        async with ctx.db.session() as session:
            again = await _replay_payment(session, key, account_id, tender)
        if again is None:
            raise
        return again, True


async def take_payment(
    ctx: PluginContext, request: Request[Any, Any, Any], staff: Staff, req: PaymentRequest
) -> tuple[CashPayment, bool]:
    """A cash payment at the window: checks per note, seizure of suspects, one CCB post, a receipt."""
    data = req.data
    key = f"cash:pay:{req.key}"
    async with ctx.db.session() as session:
        existing = await _replay_payment(session, key, data.account_id)
        if existing is not None:
            return existing, True
    counts = _counts(data.note_counts, NOTES, "note_counts")
    problems = counts_match(counts, data.notes)
    if problems:
        raise _unprocessable(problems)
    try:
        cash = window_cash(data.notes, data.coins_cents, data.amount_cents, data.change_cents)
    except CashError as exc:
        raise _unprocessable(exc.problems) from None
    suspects = [i for i, v in enumerate(cash.verdicts) if v.suspect]
    if suspects and data.passer is None:
        raise _unprocessable([("passer", "a seized note needs the passer's description (SSF 1604)")])
    note_blocks = {s.note_index: s for s in data.seized_notes}
    for index in note_blocks:
        if index not in suspects:
            raise _unprocessable([(f"seized_notes.{index}", "names no suspect note")])
    if data.amount_cents == 0 and not suspects:
        raise _unprocessable([("amount_cents", "must be positive")])
    try:
        summary = await ctx.ccb.get_account_summary(data.account_id)
    except CcbError as exc:
        raise _ccb_http(exc) from None
    contact = await _require_verified_contact(request, data.account_id, data.contact_id)
    async with ctx.db.session() as session:
        drawer = await _open_drawer_of(session, staff.name)
    if drawer is None:
        raise _conflict(f"{staff.name} has no open drawer: open one with the counted float first")
    posted: p.PaymentResult | None = None
    if data.amount_cents:
        cash_tender = p.TenderInput(tender_type="cash", amount_cents=data.amount_cents)
        posted = await _post_tender(ctx, staff, data.account_id, cash_tender, drawer, key)
    now = ctx.clock.now()
    email = summary.main_customer.email

    async def write(session: AsyncSession) -> CashPayment:
        pay = CashPayment(
            drawer_id=drawer.id,
            account_id=data.account_id,
            contact_id=contact,
            tender_type=TenderType.CASH.value,
            amount_cents=data.amount_cents,
            received_cents=cash.received_cents,
            seized_cents=cash.seized_cents,
            change_cents=cash.change_cents,
            coins_cents=data.coins_cents,
            note_counts=_json_counts(counts),
            notes=[
                {
                    "denomination": n.denomination,
                    "uv_expected": expected_uv(n.denomination),
                    "uv_colour": n.uv_colour,
                    "pen": n.pen.value,
                    "feel": n.feel,
                    "watermark": n.watermark,
                    "colour_shift": n.colour_shift,
                    "suspect": v.suspect,
                    "reasons": list(v.reasons),
                }
                for n, v in zip(data.notes, cash.verdicts, strict=True)
            ],
            payment_id=posted.payment_id if posted else None,
            payment_event_id=posted.payment_event_id if posted else None,
            balance_after_cents=posted.balance_cents if posted else None,
            mailed_to=email if (email and posted) else None,
            taken_by=staff.name,
            taken_at=now,
            idempotency_key=key,
        )
        session.add(pay)
        await session.flush()
        if posted:
            pay.receipt_no = receipt_number(local(now).date(), pay.id)
        for index in suspects:
            await _seize(ctx, session, staff, pay, data, index, cash.verdicts[index].reasons, now)
        if posted:
            await _announce_payment(ctx, session, staff, pay, posted, email, now)
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="cash.payment.taken",
            target=f"account:{pay.account_id}",
            detail={
                "receipt": pay.receipt_no,
                "amount_cents": pay.amount_cents,
                "seized_cents": pay.seized_cents,
                "contact": contact,
                "payment": pay.payment_id,
            },
        )
        return pay

    return await _record_once(ctx, key, data.account_id, TenderType.CASH, write)


async def take_card_payment(
    ctx: PluginContext, request: Request[Any, Any, Any], staff: Staff, data: CardPaymentIn, req_key: str
) -> tuple[CashPayment, bool]:
    """A card tender at the window, on a usable terminal of this office, posted to CCB once per key.

    The card tender links to the CSR's open tender control like any tender (ccb-domain.md §1.9), but it is
    not in the drawer's expected cash: cards settle with the processor. Only the slip's last four digits,
    brand and approval code are kept (rules.md §1.5).
    """
    key = f"cash:pay:{req_key}"
    async with ctx.db.session() as session:
        existing = await _replay_payment(session, key, data.account_id, TenderType.CARD)
        if existing is not None:
            return existing, True
        drawer = await _open_drawer_of(session, staff.name)
    if drawer is None:
        raise _conflict(f"{staff.name} has no open drawer: open one with the counted float first")
    terminal = await check_terminal(ctx, request, data.terminal_id)
    try:
        summary = await ctx.ccb.get_account_summary(data.account_id)
    except CcbError as exc:
        raise _ccb_http(exc) from None
    contact = await _require_verified_contact(request, data.account_id, data.contact_id, "card payment")
    brand = data.card_brand.value if data.card_brand else None
    card_tender = p.TenderInput(
        tender_type=TenderType.CARD.value,
        amount_cents=data.amount_cents,
        card_last4=data.card_last4,
        card_brand=brand,
    )
    posted = await _post_tender(ctx, staff, data.account_id, card_tender, drawer, key)
    now = ctx.clock.now()
    email = summary.main_customer.email

    async def write(session: AsyncSession) -> CashPayment:
        pay = CashPayment(
            drawer_id=drawer.id,
            account_id=data.account_id,
            contact_id=contact,
            tender_type=TenderType.CARD.value,
            amount_cents=data.amount_cents,
            received_cents=data.amount_cents,
            seized_cents=0,
            change_cents=0,
            coins_cents=0,
            note_counts={},
            notes=[],
            payment_id=posted.payment_id,
            payment_event_id=posted.payment_event_id,
            balance_after_cents=posted.balance_cents,
            mailed_to=email or None,
            taken_by=staff.name,
            taken_at=now,
            idempotency_key=key,
            card_type=data.card_type.value,
            card_brand=brand,
            card_last4=data.card_last4,
            authorization_code=data.authorization_code.upper(),
            terminal_id=terminal.id,
        )
        session.add(pay)
        await session.flush()
        pay.receipt_no = receipt_number(local(now).date(), pay.id)
        await _announce_payment(ctx, session, staff, pay, posted, email, now)
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="cash.payment.taken",
            target=f"account:{pay.account_id}",
            detail={
                "receipt": pay.receipt_no,
                "tender": "card",
                "card_type": pay.card_type,
                "terminal": terminal.id,
                "amount_cents": pay.amount_cents,
                "contact": contact,
                "payment": pay.payment_id,
            },
        )
        return pay

    return await _record_once(ctx, key, data.account_id, TenderType.CARD, write)


async def _seize(
    ctx: PluginContext,
    session: AsyncSession,
    staff: Staff,
    pay: CashPayment,
    data: PaymentIn,
    index: int,
    reasons: Sequence[str],
    now: dt.datetime,
) -> None:
    """Keep the note, write the SSF 1604 record and start its custody log (rules.md §2.3, §2.4)."""
    config: CashConfig = ctx.config
    note = data.notes[index]
    block = next((s for s in data.seized_notes if s.note_index == index), None)
    # Free text is scanned before storage: a card number or SSN written down by mistake is masked
    # (ARCHITECTURE §6).
    passer = {k: redact(v) for k, v in msgspec.to_builtins(data.passer).items()} if data.passer else {}
    reporter = data.reporter or ReporterIn()
    seized = CashSeizedNote(
        payment_id=pay.id,
        denomination=note.denomination,
        note={
            "denomination": note.denomination,
            "serial_number": note.serial_number,
            "series": block.series if block else "",
            "federal_reserve_bank": block.federal_reserve_bank if block else "",
            "check_letter_quadrant": block.check_letter_quadrant if block else "",
            "face_plate_no": block.face_plate_no if block else "",
            "back_plate_no": block.back_plate_no if block else "",
            "note_count": 1,
            "suspect_features": list(reasons),
        },
        receipt={
            "date_received": local(now).date().isoformat(),
            "time": local(now).strftime("%H:%M"),
            "location": config.office_name,
            "how_received": "window payment",
            "employee_receiving": staff.name,
            "customer_account_no": pay.account_id,
            "amount_tendered": pay.received_cents,
        },
        passer=passer,
        reporter={
            "institution": config.office_name,
            "address": config.office_address,
            "phone": config.office_phone,
            "contact_person": staff.name,
            "police_agency": reporter.police_agency.strip() or config.police_agency,
            "police_report_no": reporter.police_report_no.strip(),
            "usss_submission_id": None,
            "date_surrendered": None,
            "surrendered_to": "",
        },
        status="seized",
        holder=staff.name,
        seized_at=now,
        seized_on=local(now).date(),
        copy_offered=True,
    )
    session.add(seized)
    await session.flush()
    session.add(
        CashCustody(
            seized_note_id=seized.id,
            from_holder=None,
            to_holder=staff.name,
            action="seized",
            at=now,
            recorded_by=staff.name,
        )
    )
    ctx.events.emit(
        session,
        events.COUNTERFEIT_SEIZED,
        events.CounterfeitSeized(
            seized_note_id=seized.id,
            denomination=note.denomination,
            payment_id=pay.id,
            reasons=list(reasons),
            seized_by=staff.name,
            at=now,
        ),
        actor=staff.actor,
    )
    await ctx.mail.queue(
        session,
        to=list(config.supervisor_emails),
        subject=f"Suspected counterfeit {denomination_title(note.denomination)} note seized by {staff.name}",
        body="\n".join(
            [
                f"{staff.name} seized a suspected counterfeit {denomination_title(note.denomination)} note "
                f"at {local(now):%Y-%m-%d %H:%M %Z} (record #{seized.id}): {'; '.join(reasons)}.",
                "Take custody of the note and record the hand-over, call the police or the Secret Service",
                "field office, and record the Secret Service submission id once reported.",
                f"Record: /ui/cash_handling/seized/{seized.id}",
            ]
        ),
        idempotency_key=f"cash_handling:seized:{seized.id}",
    )


def card_words(pay: CashPayment) -> str:
    """``credit card (visa) ************1234, approval AB12CD`` — last four digits only (rules.md §1.5)."""
    brand = f" ({pay.card_brand})" if pay.card_brand else ""
    last4 = masked_pan(pay.card_last4 or "")
    return f"{pay.card_type} card{brand} {last4}, approval {pay.authorization_code}"


def _receipt_text(config: CashConfig, pay: CashPayment) -> str:
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


async def record_custody(ctx: PluginContext, staff: Staff, note_id: int, data: CustodyIn) -> CashSeizedNote:
    """Log a hand-over; only the current holder (or a supervisor) may hand the note on (rules.md §2.3).

    A surrender goes only to an identified police officer or Secret Service agent, with the badge and the
    case number (step 7); both are written into the SSF 1604 reporter block.
    """
    if data.action == "surrendered":
        missing = [
            (name, f"a surrender needs the officer's or agent's {what} (rules.md §2.3 step 7)")
            for name, what in (("badge", "badge or ID number"), ("case_no", "case or report number"))
            if not getattr(data, name).strip()
        ]
        if missing:
            raise _unprocessable(missing)
    async with ctx.db.session() as session:
        note = await session.get(CashSeizedNote, note_id, with_for_update=True)
        if note is None:
            raise NotFoundException(f"no seized note {note_id}")
        if note.status == "surrendered":
            raise _conflict(f"seized note {note_id} was already surrendered")
        if note.holder != staff.name and staff.role is not Role.SUPERVISOR:
            raise PermissionDeniedException(f"seized note {note_id} is held by {note.holder}")
        last = await session.scalar(
            select(func.max(CashCustody.at)).where(CashCustody.seized_note_id == note.id)
        )
        earliest = note.seized_at if last is None else last
        # func.max loses the column type on SQLite, so the value may come back naive (stored as UTC).
        earliest = earliest.replace(tzinfo=dt.UTC) if earliest.tzinfo is None else earliest
        try:
            at = custody_time(data.at, ctx.clock.now(), earliest)
        except CashError as exc:
            raise _unprocessable(exc.problems) from None
        to_holder = data.to_holder.strip()
        remarks = redact(data.remarks.strip())
        if data.action == "surrendered":
            identified = f"badge {data.badge.strip()}, case {data.case_no.strip()}"
            remarks = f"{identified}. {remarks}".strip() if remarks else identified
            note.reporter = {
                **note.reporter,
                "surrendered_to": f"{to_holder} (badge {data.badge.strip()})",
                "date_surrendered": local(at).date().isoformat(),
                "police_report_no": note.reporter.get("police_report_no") or data.case_no.strip(),
            }
        session.add(
            CashCustody(
                seized_note_id=note.id,
                from_holder=note.holder,
                to_holder=to_holder,
                action=data.action,
                at=at,
                recorded_by=staff.name,
                remarks=remarks,
            )
        )
        note.holder = to_holder
        note.status = "surrendered" if data.action == "surrendered" else "handed_over"
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="cash.counterfeit.custody",
            target=f"cash_seized_note:{note.id}",
            detail={"to": note.holder, "action": data.action, "at": at.isoformat()},
        )
        return note


async def record_submission(
    ctx: PluginContext, staff: Staff, note_id: int, data: SubmissionIn
) -> CashSeizedNote:
    async with ctx.db.session() as session:
        note = await session.get(CashSeizedNote, note_id, with_for_update=True)
        if note is None:
            raise NotFoundException(f"no seized note {note_id}")
        if note.usss_submission_id is not None and note.usss_submission_id != data.usss_submission_id:
            raise _conflict(f"seized note {note_id} was already submitted as {note.usss_submission_id}")
        now = ctx.clock.now()
        note.usss_submission_id = data.usss_submission_id
        note.submitted_at = now
        note.submitted_by = staff.name
        note.reporter = {
            **note.reporter,
            "usss_submission_id": data.usss_submission_id,
            "police_report_no": data.police_report_no or note.reporter.get("police_report_no", ""),
            "surrendered_to": data.surrendered_to or note.reporter.get("surrendered_to", ""),
            "date_surrendered": local(now).date().isoformat() if data.surrendered_to else None,
        }
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="cash.counterfeit.submitted",
            target=f"cash_seized_note:{note.id}",
            detail={"usss_submission_id": data.usss_submission_id},
        )
        return note


async def create_deposit(ctx: PluginContext, staff: Staff, data: DepositIn) -> tuple[str, int, list[int]]:
    """Group closed drawers into one CCB deposit control (ccb-domain.md §1.9)."""
    ids = list(dict.fromkeys(data.drawer_ids))
    async with ctx.db.session() as session:
        drawers = [await session.get(CashDrawer, i) for i in ids]
    controls: list[str] = []
    for i, d in zip(ids, drawers, strict=True):
        if d is None:
            raise _unprocessable([("drawer_ids", f"no drawer {i}")])
        if d.status != "closed":
            raise _unprocessable([("drawer_ids", f"drawer {i} is not closed")])
        if d.deposit_control_id is not None:
            raise _unprocessable([("drawer_ids", f"drawer {i} is already in deposit {d.deposit_control_id}")])
        controls.append(d.tender_control_id)
    try:
        deposit = await ctx.ccb.create_deposit_control(
            p.CreateDepositControl(tender_control_ids=tuple(controls)),
            actor=staff.actor,
            idempotency_key=f"cash:deposit:{data.idempotency_key}",
        )
    except CcbError as exc:
        raise _ccb_http(exc) from None
    async with ctx.db.session() as session:
        for i in ids:
            row = await session.get(CashDrawer, i)
            assert row is not None
            row.deposit_control_id = deposit.deposit_control_id
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="cash.deposit.created",
            target=f"deposit_control:{deposit.deposit_control_id}",
            detail={"drawers": ids, "total_cents": deposit.total_cents},
        )
    return deposit.deposit_control_id, deposit.total_cents, ids


async def record_collection(
    ctx: PluginContext, staff: Staff, data: CollectionIn
) -> tuple[CashDropboxCollection, bool]:
    """A drop-box collection with its slips, distributed to CSRs for posting (tasks 20, 22)."""
    key = f"cash:dropbox:{data.idempotency_key}"
    problems: list[tuple[str, str]] = []
    seen: set[int] = set()
    for i, slip in enumerate(data.slips):
        if slip.slip_no in seen:
            problems.append((f"slips[{i}].slip_no", f"slip {slip.slip_no} appears twice"))
        seen.add(slip.slip_no)
        if slip.slip_type is SlipType.CHECK and not slip.check_number:
            problems.append((f"slips[{i}].check_number", "a check slip needs its check number"))
    if data.slips and data.envelopes == 0:
        problems.append(("envelopes", "slips came from at least one envelope"))
    if problems:
        raise _unprocessable(problems)
    now = ctx.clock.now()
    lines = [SlipLine(s.amount_cents, s.slip_type, False) for s in data.slips]
    rec = reconcile(data.counter_cents, lines)
    try:
        async with ctx.db.session() as session:
            existing = await session.scalar(
                select(CashDropboxCollection).where(CashDropboxCollection.idempotency_key == key)
            )
            if existing is not None:
                return existing, True
            c = CashDropboxCollection(
                kind=data.kind,
                collected_at=now,
                collected_by=staff.name,
                envelopes=data.envelopes,
                counter_cents=data.counter_cents,
                slips_cents=rec.slips_cents,
                cash_slips_cents=rec.cash_slips_cents,
                idempotency_key=key,
                types_verified=data.types_verified,
            )
            session.add(c)
            await session.flush()
            for slip in data.slips:
                session.add(
                    CashDropboxSlip(
                        collection_id=c.id,
                        slip_no=slip.slip_no,
                        account_id=slip.account_id,
                        amount_cents=slip.amount_cents,
                        slip_type=slip.slip_type.value,
                        check_number=slip.check_number,
                        assigned_to=slip.assigned_to.strip(),
                    )
                )
            ctx.events.emit(
                session,
                events.DROPBOX_COLLECTED,
                events.DropboxCollected(
                    collection_id=c.id,
                    kind=c.kind,
                    envelopes=c.envelopes,
                    slips=len(data.slips),
                    counter_cents=c.counter_cents,
                    cash_slips_cents=rec.cash_slips_cents,
                    counter_variance_cents=rec.counter_variance_cents,
                    collected_by=staff.name,
                    at=now,
                ),
                actor=staff.actor,
            )
            await ctx.audit.append(
                session,
                actor=staff.actor,
                action="cash.dropbox.collected",
                target=f"cash_dropbox_collection:{c.id}",
                detail={
                    "slips": len(data.slips),
                    "counter_variance_cents": rec.counter_variance_cents,
                    "types_verified": data.types_verified,
                },
            )
    except IntegrityError:
        async with ctx.db.session() as session:
            again = await session.scalar(
                select(CashDropboxCollection).where(CashDropboxCollection.idempotency_key == key)
            )
        if again is None:
            raise
        return again, True
    return c, False


async def post_slip(ctx: PluginContext, staff: Staff, slip_id: int, data: SlipPostIn) -> CashDropboxSlip:
    """Post one slip to the account written on it; posted once whatever the retries (ARCHITECTURE §7)."""
    async with ctx.db.session() as session:
        slip = await session.get(CashDropboxSlip, slip_id)
    if slip is None:
        raise NotFoundException(f"no slip {slip_id}")
    if slip.assigned_to != staff.name and staff.role is Role.CSR:
        raise PermissionDeniedException(f"slip {slip_id} was given to {slip.assigned_to}")
    if data.account_id != slip.account_id:
        raise _unprocessable([("account_id", f"does not match the slip's account {slip.account_id}")])
    if slip.payment_id is not None:
        return slip
    try:
        summary = await ctx.ccb.get_account_summary(slip.account_id)
    except NotFound:
        raise _unprocessable([("account_id", f"no account {slip.account_id}")]) from None
    except CcbError as exc:
        raise _ccb_http(exc) from None
    if not any(sa.status in BILLABLE_SA_STATUSES for sa in summary.service_agreements):
        raise _unprocessable([("account_id", f"account {slip.account_id} has no active service")])
    tender = p.TenderInput(
        tender_type="check" if slip.slip_type in ("check", "money_order") else "cash",
        amount_cents=slip.amount_cents,
        # A money order carries a serial number, posted like a check number; slips without one use the slip.
        check_number=(slip.check_number or str(slip.slip_no)) if slip.slip_type != "cash" else None,
    )
    try:
        posted = await ctx.ccb.post_payment(
            p.PostPayment(account_id=slip.account_id, tenders=(tender,)),
            idempotency_key=f"cash:slip:{slip.id}",
            actor=staff.actor,
        )
    except CcbError as exc:
        raise _ccb_http(exc) from None
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        row = await session.get(CashDropboxSlip, slip_id, with_for_update=True)
        assert row is not None
        if row.payment_id is None:
            row.payment_id = posted.payment_id
            row.posted_at = now
            row.posted_by = staff.name
            ctx.events.emit(
                session,
                events.PAYMENT_POSTED,
                events.PaymentPosted(
                    source="dropbox",
                    account_id=row.account_id,
                    amount_cents=row.amount_cents,
                    tender_type=tender.tender_type,
                    payment_id=posted.payment_id,
                    receipt_no=None,
                    drawer_id=None,
                    slip_id=row.id,
                    taken_by=staff.name,
                    at=now,
                ),
                actor=staff.actor,
            )
            await ctx.audit.append(
                session,
                actor=staff.actor,
                action="cash.dropbox.posted",
                target=f"account:{row.account_id}",
                detail={"slip": row.id, "payment": posted.payment_id, "amount_cents": row.amount_cents},
            )
        return row


# -- routes ----------------------------------------------------------------------------------------------
def _key_of(request: Request[Any, Any, Any], body_key: str | None) -> str:
    key = request.headers.get("idempotency-key") or body_key
    if not key or not re.fullmatch(r"[A-Za-z0-9._:-]{8,100}", key):
        raise _unprocessable([("idempotency_key", "8-100 letters, digits or ._:- (body or Idempotency-Key)")])
    return key


def routes(ctx: PluginContext) -> list[Any]:
    @post("/drawers", opt=WINDOW, summary="Open my drawer with the counted float")
    async def open_drawer_route(request: Request[Any, Any, Any]) -> Response[DrawerView]:
        data = decode(await request.body(), OpenDrawerIn)
        drawer, replayed = await open_drawer(ctx, current_staff(request), data)
        return Response(drawer_view(drawer), status_code=200 if replayed else 201)

    @get("/drawers", opt=VIEW, summary="Drawers (open first)")
    async def list_drawers() -> list[DrawerView]:
        async with ctx.db.session() as session:
            rows = (
                await session.scalars(
                    select(CashDrawer).order_by(CashDrawer.status.desc(), CashDrawer.id.desc()).limit(200)
                )
            ).all()
            totals = await drawer_totals_of(session, rows)
        return [drawer_view(d, totals[d.id]) for d in rows]

    @get("/drawers/{drawer_id:int}", opt=VIEW, summary="One drawer, with its payments by tender")
    async def get_drawer(drawer_id: FromPath[int]) -> DrawerView:
        async with ctx.db.session() as session:
            d = await session.get(CashDrawer, drawer_id)
            if d is None:
                raise NotFoundException(f"no drawer {drawer_id}")
            totals = await drawer_totals_of(session, [d])
        return drawer_view(d, totals[d.id])

    @post("/drawers/{drawer_id:int}/close", opt=WINDOW, summary="Close a drawer with the counted cash")
    async def close_drawer_route(
        request: Request[Any, Any, Any], drawer_id: FromPath[int]
    ) -> Response[DrawerView]:
        data = decode(await request.body(), CloseDrawerIn)
        drawer = await close_drawer(ctx, current_staff(request), drawer_id, data)
        async with ctx.db.session() as session:
            totals = await drawer_totals_of(session, [drawer])
        return Response(drawer_view(drawer, totals[drawer.id]), status_code=200)

    @post("/payments", opt=WINDOW, summary="Take a cash payment at the window")
    async def pay(request: Request[Any, Any, Any]) -> Response[PaymentView]:
        """Body: ``PaymentIn``; ``Idempotency-Key`` header or ``idempotency_key``: a retry answers 200."""
        data = decode(await request.body(), PaymentIn)
        key = _key_of(request, data.idempotency_key)
        pay, replayed = await take_payment(ctx, request, current_staff(request), PaymentRequest(data, key))
        async with ctx.db.session() as session:
            view = await payment_view(session, pay, replayed=replayed)
        return Response(view, status_code=200 if replayed else 201)

    @post("/card-payments", opt=WINDOW, summary="Take a credit or debit card payment at the window")
    async def pay_by_card(request: Request[Any, Any, Any]) -> Response[PaymentView]:
        """Body: ``CardPaymentIn``; ``Idempotency-Key`` header or ``idempotency_key``: a retry answers 200.

        The terminal (``terminal_id``) must be usable by the PCI terminal inspection: otherwise 409 naming
        ``terminal_id``. A card number, CVV or PIN anywhere in the body is refused (422) and never echoed.
        """
        data = decode_card(await request.body())
        key = _key_of(request, data.idempotency_key)
        pay, replayed = await take_card_payment(ctx, request, current_staff(request), data, key)
        async with ctx.db.session() as session:
            view = await payment_view(session, pay, replayed=replayed)
        return Response(view, status_code=200 if replayed else 201)

    @get("/terminals", opt=VIEW, summary="Card terminals at this office and whether each may take cards")
    async def list_terminals(request: Request[Any, Any, Any]) -> dict[str, Any]:
        site = ctx.config.card_terminal_site
        try:
            found = await terminals_at(ctx, request, site)
        except TerminalsUnavailable as exc:
            return {"site": site, "available": False, "reason": str(exc), "terminals": []}
        return {
            "site": site,
            "available": True,
            "reason": None,
            "terminals": [
                {
                    "terminal_id": t.id,
                    "label": t.label,
                    "window": t.window,
                    "status": t.status,
                    "usable": t.usable,
                }
                for t in found
            ],
        }

    @get("/payments/{payment_id:int}", opt=VIEW, summary="One window payment (the receipt)")
    async def get_payment(payment_id: FromPath[int]) -> PaymentView:
        async with ctx.db.session() as session:
            pay = await session.get(CashPayment, payment_id)
            if pay is None:
                raise NotFoundException(f"no payment {payment_id}")
            return await payment_view(session, pay)

    @get("/seized/{note_id:int}", opt=CUSTODY, summary="A seized note's SSF 1604 record and custody log")
    async def get_seized(note_id: FromPath[int]) -> SeizedView:
        async with ctx.db.session() as session:
            note = await session.get(CashSeizedNote, note_id)
            if note is None:
                raise NotFoundException(f"no seized note {note_id}")
            return await seized_view(session, note)

    @post("/seized/{note_id:int}/custody", opt=CUSTODY, status_code=200, summary="Hand a seized note over")
    async def custody(request: Request[Any, Any, Any], note_id: FromPath[int]) -> SeizedView:
        data = decode(await request.body(), CustodyIn)
        note = await record_custody(ctx, current_staff(request), note_id, data)
        async with ctx.db.session() as session:
            return await seized_view(session, note)

    @post(
        "/seized/{note_id:int}/submission",
        opt=SUPERVISOR,
        status_code=200,
        summary="Record the USSS submission",
    )
    async def submission(request: Request[Any, Any, Any], note_id: FromPath[int]) -> SeizedView:
        data = decode(await request.body(), SubmissionIn)
        note = await record_submission(ctx, current_staff(request), note_id, data)
        async with ctx.db.session() as session:
            return await seized_view(session, note)

    @post("/deposits", opt=LEAD, status_code=201, summary="Group closed drawers into a deposit control")
    async def deposit(request: Request[Any, Any, Any]) -> dict[str, Any]:
        data = decode(await request.body(), DepositIn)
        deposit_id, total, ids = await create_deposit(ctx, current_staff(request), data)
        return {"deposit_control_id": deposit_id, "total_cents": total, "drawer_ids": ids}

    @post("/dropbox/collections", opt=LEAD, summary="Record a drop-box collection and its slips")
    async def collect(request: Request[Any, Any, Any]) -> Response[CollectionView]:
        data = decode(await request.body(), CollectionIn)
        c, replayed = await record_collection(ctx, current_staff(request), data)
        async with ctx.db.session() as session:
            view = await collection_view(session, c)
        return Response(view, status_code=200 if replayed else 201)

    @get("/dropbox/collections/{collection_id:int}", opt=VIEW, summary="A collection and its reconciliation")
    async def get_collection(collection_id: FromPath[int]) -> CollectionView:
        async with ctx.db.session() as session:
            c = await session.get(CashDropboxCollection, collection_id)
            if c is None:
                raise NotFoundException(f"no collection {collection_id}")
            return await collection_view(session, c)

    @post(
        "/dropbox/slips/{slip_id:int}/post", opt=WINDOW, status_code=200, summary="Post a slip to its account"
    )
    async def post_slip_route(request: Request[Any, Any, Any], slip_id: FromPath[int]) -> SlipView:
        data = decode(await request.body(), SlipPostIn)
        s = await post_slip(ctx, current_staff(request), slip_id, data)
        return SlipView(
            id=s.id,
            slip_no=s.slip_no,
            account_id=s.account_id,
            amount_cents=s.amount_cents,
            slip_type=s.slip_type,
            assigned_to=s.assigned_to,
            posted=s.payment_id is not None,
            payment_id=s.payment_id,
        )

    return [
        open_drawer_route,
        list_drawers,
        get_drawer,
        close_drawer_route,
        pay,
        pay_by_card,
        list_terminals,
        get_payment,
        get_seized,
        custody,
        submission,
        deposit,
        collect,
        get_collection,
        post_slip_route,
    ]


# -- pages -----------------------------------------------------------------------------------------------
# Every form works without JavaScript: a good post redirects (303) to the page showing the result; bad
# input re-renders the same page with status 422 and each problem named by its form field
# (``data-field``), so nothing is lost and nothing is half-written. Form tokens make resubmissions of one
# rendered form idempotent, like the JSON routes' keys.
Problems = list[tuple[str, str]]

SUSPECT_ROWS = 3  # suspect notes set aside in one visit; more is a matter for the supervisor, not a form
SLIP_ROWS = 8
MAX_SLIP_ROWS = 100
FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
PASSER_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "Name (if known)"),
    ("address", "Address"),
    ("phone", "Phone"),
    ("dob", "Date of birth"),
    ("id_type", "ID shown (type)"),
    ("id_number", "ID number"),
    ("sex", "Sex"),
    ("race", "Race"),
    ("age", "Approximate age"),
    ("height", "Height"),
    ("weight", "Weight"),
    ("hair", "Hair"),
    ("eyes", "Eyes"),
    ("other_description", "Other description (clothing, marks, manner)"),
    ("companions", "Companions"),
    ("vehicle", "Vehicle (make, model, colour, plate, state)"),
)
# The passer's appearance: at least one of these is written down (rules.md §2.3 step 4).
DESCRIPTION_FIELDS = ("sex", "race", "age", "height", "weight", "hair", "eyes", "other_description")
# The note block of SSF 1604 (rules.md §2.4); the serial number is required to report the note.
NOTE_BLOCK: tuple[tuple[str, str], ...] = (
    ("serial_number", "Serial number"),
    ("series", "Series (year and letter)"),
    ("federal_reserve_bank", "Federal Reserve Bank (letter and number)"),
    ("check_letter_quadrant", "Check letter / quadrant (e.g. C4)"),
    ("face_plate_no", "Face plate number"),
    ("back_plate_no", "Back plate number"),
)
_NOTE_FIELD = {"uv_colour": "uv", "colour_shift": "shift"}
_MONEY_FIELD = {"amount_cents": "amount", "change_cents": "change", "coins_cents": "coins"}
_SLIP_FIELD = {
    "slip_no": "no",
    "account_id": "account",
    "amount_cents": "amount",
    "slip_type": "type",
    "check_number": "check",
    "assigned_to": "assigned",
}


async def _form(request: Request[Any, Any, Any]) -> Any:
    """The posted form once its CSRF token matches (the same double-submit rule as the shell's forms)."""
    from plugins.pci_inspection.api import form_of  # one implementation of the check for every plugin page

    return await form_of(request)


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _int(form: Any, name: str) -> int | str:
    text = _text(form, name)
    return int(text) if re.fullmatch(r"\d{1,9}", text) else text


def _cents(form: Any, name: str) -> int | str:
    """``"12.34"`` → 1234; anything that is not dollars with at most two decimals stays as text (→ 422)."""
    text = _text(form, name).replace(",", "").removeprefix("$")
    m = re.fullmatch(r"(\d{1,7})(?:\.(\d{1,2}))?", text)
    if not m:
        return text or 0
    return int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))


def _counted(form: Any, prefix: str, denominations: Sequence[int]) -> dict[str, int]:
    """Counts by denomination from ``<prefix><cents>`` inputs; a box that is not a whole number is named."""
    counts: dict[str, int] = {}
    problems: Problems = []
    for d in denominations:
        value = _int(form, f"{prefix}{d}")
        if isinstance(value, int):
            counts[str(d)] = value
        elif value:
            problems.append((f"{prefix}{d}", f"a count of {denomination_title(d)} must be a whole number"))
    if problems:
        raise _unprocessable(problems)
    return counts


def _form_key(form: Any, kind: str) -> str:
    """The idempotency key of one rendered form; a post without its token is refused (422)."""
    token = _text(form, "form_token")
    if not FORM_TOKEN.fullmatch(token):
        raise _unprocessable([("form_token", "this form has expired: reload the page and enter it again")])
    return f"form-{kind}-{token}"


def _problems(exc: Exception) -> tuple[int, Problems]:
    """A refusal as (status, [(field, message)]); a form never turns one into a 500."""
    if isinstance(exc, msgspec.ValidationError):
        return 422, [(field_of(exc), str(exc).split(" - at ")[0])]
    if isinstance(exc, CashError):
        return 422, list(exc.problems)
    if isinstance(exc, ClientException):
        extra = exc.extra
        if isinstance(extra, list) and extra and all(isinstance(e, dict) and "key" in e for e in extra):
            return exc.status_code, [(str(e["key"]), str(e["message"])) for e in extra]
        detail = str(exc.detail)
        if exc.status_code == 404:
            # On a form, an unknown account or contact is a bad field, not a missing page.
            field_name = "contact_id" if "contact" in detail else "account_id"
            return 422, [(field_name, detail)]
        return exc.status_code, [("", detail)]
    raise exc


@dataclass
class WindowNotes:
    """The notes of a window form as the JSON body takes them, and where each came from on the form."""

    counts: dict[str, Any]
    notes: list[dict[str, Any]]
    origins: list[str]  # per note: "r2000-1" (the second note of the $20 row) or "s0" (suspect row 0)


def _window_notes(form: Any) -> WindowNotes:
    """Notes counted by denomination take that row's checks, each; a suspect note set aside has its own."""
    counts: dict[str, Any] = {}
    notes: list[dict[str, Any]] = []
    origins: list[str] = []
    for d in NOTES:
        n = _int(form, f"count_{d}")
        if n in ("", 0):
            continue
        counts[str(d)] = n
        if isinstance(n, int):
            for k in range(min(n, 500)):
                notes.append(
                    {
                        "denomination": d,
                        "uv_colour": _text(form, f"uv_{d}"),
                        "pen": _text(form, f"pen_{d}") or PenResult.NOT_DONE.value,
                        "feel": form.get(f"feel_{d}") == "on",
                        "watermark": form.get(f"watermark_{d}") == "on",
                        "colour_shift": (form.get(f"shift_{d}") == "on") if d >= 1000 else None,
                    }
                )
                origins.append(f"r{d}-{k}")
    for i in range(SUSPECT_ROWS):
        face = _int(form, f"suspect_{i}_denomination")
        if face in ("", 0):
            continue
        if isinstance(face, int):
            so_far = counts.get(str(face), 0)
            counts[str(face)] = so_far + 1 if isinstance(so_far, int) else so_far
        notes.append(
            {
                "denomination": face,
                "uv_colour": _text(form, f"suspect_{i}_uv"),
                "pen": _text(form, f"suspect_{i}_pen") or PenResult.NOT_DONE.value,
                "feel": form.get(f"suspect_{i}_feel") == "on",
                "watermark": form.get(f"suspect_{i}_watermark") == "on",
                "colour_shift": (form.get(f"suspect_{i}_shift") == "on")
                if isinstance(face, int) and face >= 1000
                else None,
            }
        )
        origins.append(f"s{i}")
    for note, origin in zip(notes, origins, strict=True):
        serial = _text(form, f"ssf_{origin}_serial_number").upper().replace(" ", "")
        if serial:
            note["serial_number"] = serial
    return WindowNotes(counts, notes, origins)


def _pay_field(api_field: str, origins: Sequence[str]) -> str:
    """The form field behind a JSON path of a window payment, so the page can point at it."""
    note = re.fullmatch(r"notes\[(\d+)\]\.?(\w*)", api_field)
    if note:
        index, attr = int(note.group(1)), note.group(2)
        origin = origins[index] if index < len(origins) else ""
        if attr == "serial_number":
            return f"ssf_{origin}_serial_number"
        attr = _NOTE_FIELD.get(attr, attr)
        if origin.startswith("s"):
            return f"suspect_{origin[1:]}_{attr}"
        return f"{attr}_{origin[1:].split('-')[0]}" if origin else api_field
    counted = re.fullmatch(r"note_counts\.(\d+)", api_field)
    if counted:
        return f"count_{counted.group(1)}"
    block = re.fullmatch(r"seized_notes\.(\d+)", api_field)
    if block and int(block.group(1)) < len(origins):
        return f"ssf_{origins[int(block.group(1))]}_serial_number"
    nested = re.fullmatch(r"(passer|reporter)\.(\w+)", api_field)
    if nested:
        return f"{nested.group(1)}_{nested.group(2)}"
    return _MONEY_FIELD.get(api_field, api_field)


def _seize_context(
    data: PaymentIn, verdicts: Sequence[NoteVerdict], origins: Sequence[str]
) -> dict[str, Any]:
    """What the counterfeit step shows: each suspect note and why, and the cash that remains genuine."""
    received = sum(n.denomination for n in data.notes) + data.coins_cents
    seized = sum(n.denomination for n, v in zip(data.notes, verdicts, strict=True) if v.suspect)
    genuine = received - seized
    return {
        "suspects": [
            {
                "origin": origins[i],
                "title": denomination_title(n.denomination),
                "reasons": list(v.reasons),
            }
            for i, (n, v) in enumerate(zip(data.notes, verdicts, strict=True))
            if v.suspect
        ],
        "received_cents": received,
        "seized_cents": seized,
        "genuine_cents": genuine,
        "amount_cents": data.amount_cents,
        "change_due_cents": genuine - data.amount_cents if genuine >= data.amount_cents else None,
    }


def _local_time(text: str) -> dt.datetime | str | None:
    """A ``datetime-local`` field in the utility's zone → aware datetime; empty → None; bad → the text."""
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)
    except ValueError:
        return text


def _slip_rows(form: Any, rows: int) -> tuple[list[dict[str, Any]], list[int]]:
    """The filled slip rows of a collection form (an untouched row is skipped), and each one's row number."""
    slips: list[dict[str, Any]] = []
    where: list[int] = []
    for i in range(rows):
        cells = {name: _text(form, f"slip_{i}_{name}") for name in ("account", "amount", "check", "assigned")}
        if not any(cells.values()):
            continue
        slips.append(
            {
                "slip_no": _int(form, f"slip_{i}_no"),
                "account_id": cells["account"],
                "amount_cents": _cents(form, f"slip_{i}_amount"),
                "slip_type": _text(form, f"slip_{i}_type") or SlipType.CASH.value,
                "check_number": cells["check"] or None,
                "assigned_to": cells["assigned"],
            }
        )
        where.append(i)
    return slips, where


def _slip_field(api_field: str, where: Sequence[int]) -> str:
    m = re.fullmatch(r"slips\[(\d+)\]\.?(\w*)", api_field)
    if m and int(m.group(1)) < len(where):
        row = where[int(m.group(1))]
        return f"slip_{row}_{_SLIP_FIELD.get(m.group(2), m.group(2))}"
    return {"counter_cents": "counter", "slips": "slip_0_account"}.get(api_field, api_field)


def _rename(problems: Problems, rename: Any) -> Problems:
    return [(rename(k) if k else k, m) for k, m in problems]


def pages(ctx: PluginContext) -> list[PageSpec]:
    config: CashConfig = ctx.config

    def invalid(problems: Problems | None) -> set[str]:
        return {k for k, _ in problems or []}

    # -- the window: drawer, cash payments and the counterfeit step, card payments ------------------------
    async def window_page(
        request: Request[Any, Any, Any],
        *,
        status_code: int = 200,
        errors: Problems | None = None,
        form: str = "",
        values: Mapping[str, Any] | None = None,
        seize: dict[str, Any] | None = None,
    ) -> Response[Any]:
        staff = current_staff(request)
        async with ctx.db.session() as session:
            drawer = await _open_drawer_of(session, staff.name)
            totals = (await drawer_totals_of(session, [drawer]))[drawer.id] if drawer else None
        terminals: list[Terminal] = []
        card_unavailable = None
        if drawer is not None:
            try:
                terminals = await terminals_at(ctx, request, config.card_terminal_site)
            except TerminalsUnavailable as exc:
                card_unavailable = str(exc)
        return render(
            request,
            "cash_handling/window.html",
            status_code=status_code,
            drawer=drawer,
            totals=totals,
            errors=errors or [],
            bad=invalid(errors),
            form=form,
            values=values or {},
            seize=seize,
            notes=list(NOTES),
            coins=list(COINS),
            suspect_rows=range(SUSPECT_ROWS),
            uv_colours=UV_COLOURS,
            expected_uv=expected_uv,
            title_of=denomination_title,
            money=money,
            script=SEIZED_SCRIPT,
            steps=SEIZED_STEPS,
            passer_fields=PASSER_FIELDS,
            note_block=NOTE_BLOCK,
            police_agency=config.police_agency,
            terminals=terminals,
            card_unavailable=card_unavailable,
            card_types=[c.value for c in CardType],
            card_brands=[b.value for b in CardBrand],
            form_token=secrets.token_urlsafe(18),
            card_token=secrets.token_urlsafe(18),
            can_take=staff.role.value in WINDOW["roles"],
        )

    @get("/", opt=VIEW)
    async def window(request: Request[Any, Any, Any]) -> Response[Any]:
        return await window_page(request)

    @post("/drawer", opt={**WINDOW, **FORM})
    async def open_drawer_form(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await _form(request)
        values = {k: v for k, v in form.items() if isinstance(v, str) and k.startswith("float_")}
        try:
            counts = _counted(form, "float_", FLOAT_DENOMINATIONS)
            data = msgspec.convert(
                {"float_counts": counts, "idempotency_key": _form_key(form, "drawer")}, OpenDrawerIn
            )
            await open_drawer(ctx, current_staff(request), data)
        except (msgspec.ValidationError, ClientException) as exc:
            status, problems = _problems(exc)
            problems = _rename(problems, lambda k: k.replace("float_counts.", "float_"))
            return await window_page(
                request, status_code=status, errors=problems, form="drawer", values=values
            )
        return Redirect("/ui/cash_handling/", status_code=303)

    @post("/pay", opt={**WINDOW, **FORM})
    async def pay_form(request: Request[Any, Any, Any]) -> Response[Any]:
        """Step 1 checks the notes; a suspect one leads to step 2 (the counterfeit step) on the same form.

        Step 2 shows the script for the customer and the procedure (rules.md §2.3), captures the SSF 1604
        note block, the passer and the reporter details (§2.4), then seizes the note (never credited) and
        posts what remains genuine. A refusal at either step re-renders the form with the field named.
        """
        form = await _form(request)
        values = {k: v for k, v in form.items() if isinstance(v, str) and k != "_csrf_token"}
        found = _window_notes(form)
        seize: dict[str, Any] | None = None

        def refused(status: int, problems: Problems) -> Any:
            named = _rename(problems, lambda k: _pay_field(k, found.origins))
            return window_page(
                request, status_code=status, errors=named, form="pay", values=values, seize=seize
            )

        try:
            key = _form_key(form, "pay")
            data = msgspec.convert(
                {
                    "account_id": _text(form, "account_id"),
                    "contact_id": _text(form, "contact_id") or None,
                    "amount_cents": _cents(form, "amount"),
                    "change_cents": _cents(form, "change"),
                    "coins_cents": _cents(form, "coins"),
                    "note_counts": found.counts,
                    "notes": found.notes,
                    "idempotency_key": key,
                },
                PaymentIn,
                strict=False,
            )
            verdicts = [check_note(i, n) for i, n in enumerate(data.notes)]
        except (msgspec.ValidationError, CashError, ClientException) as exc:
            return await refused(*_problems(exc))
        suspects = [i for i, v in enumerate(verdicts) if v.suspect]
        if suspects:
            seize = _seize_context(data, verdicts, found.origins)
            if values.get("step") != "seize":
                # Nothing is written yet: the CSR tells the customer and fills in the record first.
                return await window_page(request, form="pay", values=values, seize=seize)
            passer = {name: _text(form, f"passer_{name}") for name, _ in PASSER_FIELDS}
            problems: Problems = [
                (
                    f"ssf_{found.origins[i]}_serial_number",
                    "write down the seized note's serial number (SSF 1604)",
                )
                for i in suspects
                if not data.notes[i].serial_number
            ]
            if not any(passer[name] for name in DESCRIPTION_FIELDS):
                problems.append(
                    ("passer_other_description", "describe the passer: at least one detail (rules.md §2.3)")
                )
            if problems:
                return await refused(422, problems)
            # Each block is converted on its own, so a refusal names the very form field (prefix + name).
            blocks: list[tuple[str, dict[str, Any], type[msgspec.Struct]]] = [
                ("passer_", passer, PasserIn),
                (
                    "reporter_",
                    {
                        "police_agency": _text(form, "reporter_police_agency"),
                        "police_report_no": _text(form, "reporter_police_report_no"),
                    },
                    ReporterIn,
                ),
            ]
            for i in suspects:
                prefix = f"ssf_{found.origins[i]}_"
                raw = {name: _text(form, prefix + name) for name, _ in NOTE_BLOCK if name != "serial_number"}
                blocks.append((prefix, {"note_index": i, **raw}, SeizedNoteIn))
            converted: list[Any] = []
            for prefix, raw, kind in blocks:
                try:
                    converted.append(msgspec.convert(raw, kind))
                except msgspec.ValidationError as exc:
                    problems.append((prefix + field_of(exc), str(exc).split(" - at ")[0]))
            if problems:
                return await refused(422, problems)
            data = msgspec.structs.replace(
                data, passer=converted[0], reporter=converted[1], seized_notes=converted[2:]
            )
        try:
            pay, _replayed = await take_payment(
                ctx, request, current_staff(request), PaymentRequest(data, key)
            )
        except (msgspec.ValidationError, ClientException) as exc:
            return await refused(*_problems(exc))
        return Redirect(f"/ui/cash_handling/receipts/{pay.id}", status_code=303)

    @post("/card", opt={**WINDOW, **FORM})
    async def card_form(request: Request[Any, Any, Any]) -> Response[Any]:
        """A card tender: refused on a terminal the PCI inspection does not clear (shown on the page)."""
        form = await _form(request)
        names = ("account_id", "contact_id", "amount", "card_type", "card_brand", "terminal_id")
        values = {name: _text(form, name) for name in (*names, "card_last4", "authorization_code")}
        # Whatever was typed, a card number is never echoed back into the page or kept (rules.md §1.5).
        leaked = [name for name, value in values.items() if card_data_in(value)]
        shown = {name: values[name] for name in names if name not in leaked}
        for name, pattern in (("card_last4", CARD_LAST4), ("authorization_code", AUTHORIZATION_CODE)):
            if re.fullmatch(pattern, values[name]):
                shown[name] = values[name]
        if leaked:
            return await window_page(
                request,
                status_code=422,
                errors=[(name, NEVER_CARD_DATA) for name in leaked],
                form="card",
                values=shown,
            )
        try:
            key = _form_key(form, "card")
            data = msgspec.convert(
                {
                    "account_id": values["account_id"],
                    "contact_id": values["contact_id"] or None,
                    "amount_cents": _cents(form, "amount"),
                    "card_type": values["card_type"],
                    "card_brand": values["card_brand"] or None,
                    "terminal_id": _int(form, "terminal_id"),
                    "card_last4": values["card_last4"],
                    "authorization_code": values["authorization_code"],
                    "idempotency_key": key,
                },
                CardPaymentIn,
                strict=False,
            )
            pay, _replayed = await take_card_payment(ctx, request, current_staff(request), data, key)
        except (msgspec.ValidationError, ClientException) as exc:
            status, problems = _problems(exc)
            return await window_page(
                request,
                status_code=status,
                errors=_rename(problems, lambda k: _MONEY_FIELD.get(k, k)),
                form="card",
                values=shown,
            )
        return Redirect(f"/ui/cash_handling/receipts/{pay.id}", status_code=303)

    @get("/receipts/{payment_id:int}", opt=VIEW)
    async def receipt(request: Request[Any, Any, Any], payment_id: FromPath[int]) -> Response[Any]:
        async with ctx.db.session() as session:
            pay = await session.get(CashPayment, payment_id)
            if pay is None:
                raise NotFoundException(f"no payment {payment_id}")
            view = await payment_view(session, pay)
        return render(
            request,
            "cash_handling/receipt.html",
            pay=view,
            office=config.office_name,
            money=money,
            title_of=denomination_title,
            taken_at=local(pay.taken_at),
            steps=SEIZED_STEPS,
        )

    # -- drawers: close with the count, deposit controls ------------------------------------------------
    async def drawers_page(
        request: Request[Any, Any, Any],
        *,
        status_code: int = 200,
        errors: Problems | None = None,
        deposit: str | None = None,
    ) -> Response[Any]:
        staff = current_staff(request)
        async with ctx.db.session() as session:
            rows = (
                await session.scalars(
                    select(CashDrawer).order_by(CashDrawer.status.desc(), CashDrawer.id.desc()).limit(200)
                )
            ).all()
            totals = await drawer_totals_of(session, rows)
        deposits: dict[str, dict[str, Any]] = {}
        for d in rows:
            if d.deposit_control_id is not None:
                group = deposits.setdefault(d.deposit_control_id, {"drawers": [], "total_cents": 0})
                group["drawers"].append(d.id)
                # The change fund stays in the drawer; the bank gets the count above it (as CCB totals it).
                group["total_cents"] += (d.counted_cents or 0) - d.starting_float_cents
        return render(
            request,
            "cash_handling/drawers.html",
            status_code=status_code,
            drawers=rows,
            totals=totals,
            deposits=deposits,
            highlight=deposit,
            errors=errors or [],
            money=money,
            can_deposit=staff.role.value in LEAD["roles"],
            form_token=secrets.token_urlsafe(18),
        )

    @get("/drawers", opt=VIEW)
    async def drawers(
        request: Request[Any, Any, Any], deposit: FromQuery[str | None] = None
    ) -> Response[Any]:
        return await drawers_page(request, deposit=deposit if deposit and deposit.isdigit() else None)

    @post("/deposits", opt={**LEAD, **FORM})
    async def deposit_form(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await _form(request)
        ticked = [v.strip() for v in form.getall("drawer_id", []) if isinstance(v, str)]
        try:
            if not ticked:
                raise _unprocessable([("drawer_id", "tick at least one closed drawer for the deposit")])
            data = msgspec.convert(
                {
                    "drawer_ids": [int(v) if v.isdigit() else v for v in ticked],
                    "idempotency_key": _form_key(form, "deposit"),
                },
                DepositIn,
            )
            deposit_id, _total, _ids = await create_deposit(ctx, current_staff(request), data)
        except (msgspec.ValidationError, ClientException) as exc:
            status, problems = _problems(exc)
            renamed = _rename(problems, lambda k: "drawer_id" if k.startswith("drawer_ids") else k)
            return await drawers_page(request, status_code=status, errors=renamed)
        return Redirect(f"/ui/cash_handling/drawers?deposit={deposit_id}", status_code=303)

    async def drawer_page(
        request: Request[Any, Any, Any],
        drawer_id: int,
        *,
        status_code: int = 200,
        errors: Problems | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> Response[Any]:
        staff = current_staff(request)
        async with ctx.db.session() as session:
            d = await session.get(CashDrawer, drawer_id)
            if d is None:
                raise NotFoundException(f"no drawer {drawer_id}")
            totals = (await drawer_totals_of(session, [d]))[d.id]
            payments = (
                await session.scalars(
                    select(CashPayment).where(CashPayment.drawer_id == d.id).order_by(CashPayment.id.desc())
                )
            ).all()
        mine = d.csr == staff.name or staff.role is not Role.CSR
        return render(
            request,
            "cash_handling/drawer.html",
            status_code=status_code,
            drawer=d,
            totals=totals,
            payments=payments,
            errors=errors or [],
            bad=invalid(errors),
            values=values or {},
            denominations=list(FLOAT_DENOMINATIONS),
            title_of=denomination_title,
            money=money,
            card_words=card_words,
            can_close=d.status == "open" and staff.role.value in WINDOW["roles"] and mine,
        )

    @get("/drawers/{drawer_id:int}", opt=VIEW)
    async def drawer(request: Request[Any, Any, Any], drawer_id: FromPath[int]) -> Response[Any]:
        return await drawer_page(request, drawer_id)

    @post("/drawers/{drawer_id:int}/close", opt={**WINDOW, **FORM})
    async def close_drawer_form(request: Request[Any, Any, Any], drawer_id: FromPath[int]) -> Response[Any]:
        """The CSR counts blind (the expected amount shows only after the close), then sees the variance."""
        form = await _form(request)
        values = {k: v for k, v in form.items() if isinstance(v, str) and k.startswith("counted_")}
        try:
            counts = _counted(form, "counted_", FLOAT_DENOMINATIONS)
            if not any(counts.values()):
                # An empty count would close the drawer short by everything in it: surely a slip.
                raise _unprocessable([("counted_counts", "count the drawer: no denomination was entered")])
            data = msgspec.convert({"counted_counts": counts}, CloseDrawerIn)
            await close_drawer(ctx, current_staff(request), drawer_id, data)
        except (msgspec.ValidationError, ClientException) as exc:
            status, problems = _problems(exc)
            renamed = _rename(problems, lambda k: k.replace("counted_counts.", "counted_"))
            return await drawer_page(request, drawer_id, status_code=status, errors=renamed, values=values)
        return Redirect(f"/ui/cash_handling/drawers/{drawer_id}", status_code=303)

    # -- seized notes: the record, its custody, the Secret Service submission ---------------------------
    @get("/seized", opt=VIEW)
    async def seized_list(request: Request[Any, Any, Any]) -> Response[Any]:
        today = local(ctx.clock.now()).date()
        async with ctx.db.session() as session:
            rows = (
                await session.scalars(select(CashSeizedNote).order_by(CashSeizedNote.id.desc()).limit(200))
            ).all()
        return render(
            request,
            "cash_handling/seized_list.html",
            notes=rows,
            title_of=denomination_title,
            overdue={
                n.id
                for n in rows
                if n.usss_submission_id is None
                and business_days_between(n.seized_on, today, config.holidays)
                > config.submission_business_days
            },
            limit=config.submission_business_days,
        )

    async def seized_page(
        request: Request[Any, Any, Any],
        note_id: int,
        *,
        status_code: int = 200,
        errors: Problems | None = None,
        form: str = "",
        values: Mapping[str, Any] | None = None,
    ) -> Response[Any]:
        staff = current_staff(request)
        async with ctx.db.session() as session:
            note = await session.get(CashSeizedNote, note_id)
            if note is None:
                raise NotFoundException(f"no seized note {note_id}")
            view = await seized_view(session, note)
        return render(
            request,
            "cash_handling/seized.html",
            status_code=status_code,
            note=view,
            script=SEIZED_SCRIPT,
            title_of=denomination_title,
            errors=errors or [],
            bad=invalid(errors),
            form=form,
            values=values or {},
            can_hand_over=view.status != "surrendered"
            and (view.holder == staff.name or staff.role is Role.SUPERVISOR),
            can_submit=staff.role.value in SUPERVISOR["roles"],
        )

    @get("/seized/{note_id:int}", opt=CUSTODY)
    async def seized(request: Request[Any, Any, Any], note_id: FromPath[int]) -> Response[Any]:
        return await seized_page(request, note_id)

    @get("/seized/{note_id:int}/copy", opt=CUSTODY)
    async def seized_copy(request: Request[Any, Any, Any], note_id: FromPath[int]) -> Response[Any]:
        """The copy of the record offered to the customer (rules.md §2.3): the note, when and where it was
        kept, and what happens next. The passer's description is for the police and stays off this copy."""
        async with ctx.db.session() as session:
            note = await session.get(CashSeizedNote, note_id)
            if note is None:
                raise NotFoundException(f"no seized note {note_id}")
            view = await seized_view(session, note)
        return render(
            request,
            "cash_handling/seized_copy.html",
            note=view,
            office=config.office_name,
            address=config.office_address,
            phone=config.office_phone,
            title_of=denomination_title,
            money=money,
        )

    @post("/seized/{note_id:int}/custody", opt={**CUSTODY, **FORM})
    async def custody_form(request: Request[Any, Any, Any], note_id: FromPath[int]) -> Response[Any]:
        form = await _form(request)
        names = ("to_holder", "action", "at", "badge", "case_no", "remarks")
        values = {name: _text(form, name) for name in names}
        try:
            data = msgspec.convert(
                {
                    "to_holder": values["to_holder"],
                    "action": values["action"] or "handed_over",
                    "remarks": values["remarks"],
                    "at": _local_time(values["at"]),
                    "badge": values["badge"],
                    "case_no": values["case_no"],
                },
                CustodyIn,
            )
            await record_custody(ctx, current_staff(request), note_id, data)
        except (msgspec.ValidationError, ClientException) as exc:
            status, problems = _problems(exc)
            return await seized_page(
                request, note_id, status_code=status, errors=problems, form="custody", values=values
            )
        return Redirect(f"/ui/cash_handling/seized/{note_id}", status_code=303)

    @post("/seized/{note_id:int}/submission", opt={**SUPERVISOR, **FORM})
    async def submission_form(request: Request[Any, Any, Any], note_id: FromPath[int]) -> Response[Any]:
        form = await _form(request)
        values = {
            name: _text(form, name) for name in ("usss_submission_id", "police_report_no", "surrendered_to")
        }
        try:
            data = msgspec.convert(values, SubmissionIn)
            await record_submission(ctx, current_staff(request), note_id, data)
        except (msgspec.ValidationError, ClientException) as exc:
            status, problems = _problems(exc)
            return await seized_page(
                request, note_id, status_code=status, errors=problems, form="submission", values=values
            )
        return Redirect(f"/ui/cash_handling/seized/{note_id}", status_code=303)

    # -- the drop box: collections, slips per CSR, reconciliation ---------------------------------------
    async def dropbox_page(
        request: Request[Any, Any, Any],
        *,
        status_code: int = 200,
        errors: Problems | None = None,
        form: str = "",
        values: Mapping[str, Any] | None = None,
        rows: int = SLIP_ROWS,
        slip_id: int | None = None,
    ) -> Response[Any]:
        staff = current_staff(request)
        async with ctx.db.session() as session:
            mine = (
                await session.scalars(
                    select(CashDropboxSlip)
                    .where(CashDropboxSlip.assigned_to == staff.name, CashDropboxSlip.payment_id.is_(None))
                    .order_by(CashDropboxSlip.collection_id, CashDropboxSlip.slip_no)
                )
            ).all()
            recent = (
                await session.scalars(
                    select(CashDropboxCollection).order_by(CashDropboxCollection.id.desc()).limit(20)
                )
            ).all()
            collections = [await collection_view(session, c) for c in recent]
            # The CSRs who ran a drawer are the ones a lead hands slips to: offered as suggestions.
            names = (await session.scalars(select(CashDrawer.csr).distinct().order_by(CashDrawer.csr))).all()
        return render(
            request,
            "cash_handling/dropbox.html",
            status_code=status_code,
            my_slips=mine,
            collections=collections,
            csr_names=names,
            errors=errors or [],
            bad=invalid(errors),
            form=form,
            values=values or {},
            rows=range(rows),
            more_rows=min(rows + SLIP_ROWS, MAX_SLIP_ROWS),
            slip_types=[t.value for t in SlipType],
            failed_slip=slip_id,
            money=money,
            can_collect=staff.role.value in LEAD["roles"],
            can_post=staff.role.value in WINDOW["roles"],
            form_token=secrets.token_urlsafe(18),
        )

    @get("/dropbox", opt=VIEW)
    async def dropbox(request: Request[Any, Any, Any], rows: FromQuery[int] = SLIP_ROWS) -> Response[Any]:
        return await dropbox_page(request, rows=max(1, min(rows, MAX_SLIP_ROWS)))

    @post("/dropbox/collections", opt={**LEAD, **FORM})
    async def collection_form(request: Request[Any, Any, Any]) -> Response[Any]:
        """The lead's record of a collection: envelopes opened, types verified, counter total, slips."""
        form = await _form(request)
        values = {k: v for k, v in form.items() if isinstance(v, str) and k != "_csrf_token"}
        rows = _int(form, "rows")
        rows = max(1, min(rows, MAX_SLIP_ROWS)) if isinstance(rows, int) else SLIP_ROWS
        slips, where = _slip_rows(form, rows)
        try:
            if form.get("types_verified") != "on":
                raise _unprocessable(
                    [("types_verified", "open every envelope and check each payment's type against its slip")]
                )
            data = msgspec.convert(
                {
                    "kind": _text(form, "kind"),
                    "envelopes": _int(form, "envelopes"),
                    "counter_cents": _cents(form, "counter"),
                    "slips": slips,
                    "types_verified": True,
                    "idempotency_key": _form_key(form, "dropbox"),
                },
                CollectionIn,
                strict=False,
            )
            c, _replayed = await record_collection(ctx, current_staff(request), data)
        except (msgspec.ValidationError, ClientException) as exc:
            status, problems = _problems(exc)
            return await dropbox_page(
                request,
                status_code=status,
                errors=_rename(problems, lambda k: _slip_field(k, where)),
                form="collection",
                values=values,
                rows=rows,
            )
        return Redirect(f"/ui/cash_handling/dropbox/{c.id}", status_code=303)

    async def collection_page(
        request: Request[Any, Any, Any],
        collection_id: int,
        *,
        status_code: int = 200,
        errors: Problems | None = None,
        slip_id: int | None = None,
    ) -> Response[Any]:
        staff = current_staff(request)
        async with ctx.db.session() as session:
            c = await session.get(CashDropboxCollection, collection_id)
            if c is None:
                raise NotFoundException(f"no collection {collection_id}")
            view = await collection_view(session, c)
        return render(
            request,
            "cash_handling/collection.html",
            status_code=status_code,
            c=view,
            errors=errors or [],
            failed_slip=slip_id,
            money=money,
            me=staff.name,
            can_post=staff.role.value in WINDOW["roles"],
            lead=staff.role is not Role.CSR,
        )

    @get("/dropbox/{collection_id:int}", opt=VIEW)
    async def collection(request: Request[Any, Any, Any], collection_id: FromPath[int]) -> Response[Any]:
        return await collection_page(request, collection_id)

    @post("/dropbox/slips/{slip_id:int}/post", opt={**WINDOW, **FORM})
    async def post_slip_form(request: Request[Any, Any, Any], slip_id: FromPath[int]) -> Response[Any]:
        """The CSR reads the account off the slip again; it must match, exist and have active service."""
        form = await _form(request)
        back = _text(form, "back")
        try:
            data = msgspec.convert({"account_id": _text(form, "account_id")}, SlipPostIn)
            slip = await post_slip(ctx, current_staff(request), slip_id, data)
        except (msgspec.ValidationError, ClientException) as exc:
            if isinstance(exc, NotFoundException) and f"no slip {slip_id}" in str(exc.detail):
                raise  # a slip that does not exist is a missing page, not a bad field
            status, problems = _problems(exc)
            if back.isdigit():
                return await collection_page(
                    request, int(back), status_code=status, errors=problems, slip_id=slip_id
                )
            return await dropbox_page(
                request, status_code=status, errors=problems, form="slip", slip_id=slip_id
            )
        target = (
            f"/ui/cash_handling/dropbox/{slip.collection_id}"
            if back.isdigit()
            else "/ui/cash_handling/dropbox"
        )
        return Redirect(target, status_code=303)

    return [
        PageSpec(handler=window, nav_title="Cash window"),
        PageSpec(handler=open_drawer_form),
        PageSpec(handler=pay_form),
        PageSpec(handler=card_form),
        PageSpec(handler=receipt),
        PageSpec(handler=drawers, nav_title="Drawers"),
        PageSpec(handler=deposit_form),
        PageSpec(handler=drawer),
        PageSpec(handler=close_drawer_form),
        PageSpec(handler=seized_list, nav_title="Seized notes"),
        PageSpec(handler=seized),
        PageSpec(handler=seized_copy),
        PageSpec(handler=custody_form),
        PageSpec(handler=submission_form),
        PageSpec(handler=dropbox, nav_title="Drop box"),
        PageSpec(handler=collection_form),
        PageSpec(handler=collection),
        PageSpec(handler=post_slip_form),
    ]
