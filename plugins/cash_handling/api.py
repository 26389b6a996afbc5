"""HTTP side of the cash window: JSON routes under /api/cash_handling and pages under /ui/cash_handling.

Each write validates everything first (422 naming the field; nothing is written on a refusal), then makes
its CCB call with an idempotency key derived from the caller's key, then records the local rows, events,
mails and audit in one transaction. The CCB call and the local transaction are two commits: a retry with the
same key replays the CCB answer (ccb-domain.md §1.9, ARCHITECTURE §7 "payments idempotent") and completes the
local record, so money is posted once and the receipt exists once, even when two submissions race.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb import port as p
from core.ccb.codes import BILLABLE_SA_STATUSES
from core.ccb.errors import CcbError, IllegalTransition, Invalid, NotFound
from core.clock import local
from core.contact import require_verified
from core.contract import PageSpec, PluginContext
from core.security import current_staff
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
    FLOAT_DENOMINATIONS,
    NOTES,
    UV_COLOURS,
    CashConfig,
    CashError,
    NoteCheck,
    PenResult,
    SlipLine,
    SlipType,
    balance,
    counts_match,
    denomination_title,
    expected_uv,
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
    idempotency_key: Key | None = None


class DepositIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    drawer_ids: Annotated[list[int], msgspec.Meta(min_length=1, max_length=200)]
    idempotency_key: Key


class CustodyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    to_holder: Name
    action: Annotated[str, msgspec.Meta(pattern=r"^(handed_over|surrendered)$")] = "handed_over"
    remarks: Annotated[str, msgspec.Meta(max_length=1000)] = ""


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


class SlipPostIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    account_id: AccountId  # read again from the slip by the posting CSR: it must match


# -- errors ----------------------------------------------------------------------------------------------
_AT_PATH = re.compile(r" - at `\$\.?([^`]*)`")
_NAMED = re.compile(r"(?:missing required|unknown) field `([^`]+)`")


def _unprocessable(problems: Sequence[tuple[str, str]], status_code: int = 422) -> ClientException:
    return ClientException(
        status_code=status_code,
        detail="; ".join(f"{k}: {m}" for k, m in problems),
        extra=[{"key": k, "message": m} for k, m in problems],
    )


def _field_of(error: msgspec.ValidationError) -> str:
    message = str(error)
    at = _AT_PATH.search(message)
    path = at.group(1) if at else ""
    named = _NAMED.search(message)
    if named:
        return f"{path}.{named.group(1)}" if path else named.group(1)
    return path or "body"


def decode(raw: bytes, type_: type[T]) -> T:
    """Malformed JSON → 400; a body that does not fit → 422 naming the field (a fractional cent included)."""
    if not raw.strip():
        raise ClientException(status_code=400, detail="body: a JSON object is required")
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        raise _unprocessable([(_field_of(exc), str(exc).split(" - at ")[0])]) from None
    except msgspec.DecodeError as exc:
        raise ClientException(status_code=400, detail=f"body: malformed JSON ({exc})") from None


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
    request: Request[Any, Any, Any], account_id: str, contact_id: str | None
) -> str:
    """Customer data needs a contact verified for the account (ARCHITECTURE §6): the core's guard decides.

    The header ``X-Contact-Id`` or the form's ``contact_id`` names the CSR's verified contact; a lead may
    instead give ``X-Access-Reason``. Returns what is recorded on the payment: the contact id, or the reason.
    """
    access = await require_verified(
        request, account_id, purpose="cash payment", topic="payment", change=True, contact_id=contact_id
    )
    return (access.contact_id or f"reason: {access.reason}")[:64]


# -- views -----------------------------------------------------------------------------------------------
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


class PaymentView(msgspec.Struct, kw_only=True):
    id: int
    receipt_no: str | None
    account_id: str
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
    counter_cents: int
    slips_cents: int
    cash_slips_cents: int
    counter_variance_cents: int
    posted_cents: int
    unposted: int
    reconciled: bool
    slips: list[SlipView]


def drawer_view(d: CashDrawer) -> DrawerView:
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
    )


async def payment_view(session: AsyncSession, pay: CashPayment, *, replayed: bool = False) -> PaymentView:
    seized = (
        await session.scalars(select(CashSeizedNote.id).where(CashSeizedNote.payment_id == pay.id))
    ).all()
    return PaymentView(
        id=pay.id,
        receipt_no=pay.receipt_no,
        account_id=pay.account_id,
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


async def _replay_payment(session: AsyncSession, key: str, account_id: str) -> CashPayment | None:
    existing = await session.scalar(select(CashPayment).where(CashPayment.idempotency_key == key))
    if existing is not None and existing.account_id != account_id:
        raise _conflict(f"idempotency key already used for account {existing.account_id}")
    return existing


async def take_payment(
    ctx: PluginContext, request: Request[Any, Any, Any], staff: Staff, req: PaymentRequest
) -> tuple[CashPayment, bool]:
    """A cash payment at the window: checks per note, seizure of suspects, one CCB post, a receipt."""
    config: CashConfig = ctx.config
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
        try:
            posted = await ctx.ccb.post_payment(
                p.PostPayment(
                    account_id=data.account_id,
                    tenders=(p.TenderInput(tender_type="cash", amount_cents=data.amount_cents),),
                    tender_control_id=drawer.tender_control_id,
                ),
                idempotency_key=key,
                actor=staff.actor,
            )
        except CcbError as exc:
            raise _ccb_http(exc) from None
    now = ctx.clock.now()
    email = summary.main_customer.email
    try:
        async with ctx.db.session() as session:
            pay = CashPayment(
                drawer_id=drawer.id,
                account_id=data.account_id,
                contact_id=contact,
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
                ctx.events.emit(
                    session,
                    events.PAYMENT_POSTED,
                    events.PaymentPosted(
                        source="window",
                        account_id=pay.account_id,
                        amount_cents=pay.amount_cents,
                        payment_id=posted.payment_id,
                        receipt_no=pay.receipt_no,
                        drawer_id=drawer.id,
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
                        body=_receipt_text(config, pay),
                        idempotency_key=f"cash_handling:receipt:{pay.id}",
                    )
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
    except IntegrityError:
        # The same key committed first in a racing request: its record is the answer.
        async with ctx.db.session() as session:
            again = await _replay_payment(session, key, data.account_id)
        if again is None:
            raise
        return again, True
    return pay, False


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
    passer = msgspec.to_builtins(data.passer) if data.passer else {}
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
            "police_agency": config.police_agency,
            "police_report_no": "",
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


def _receipt_text(config: CashConfig, pay: CashPayment) -> str:
    lines = [
        f"{config.office_name} — payment receipt {pay.receipt_no}",
        f"Account {pay.account_id}, {local(pay.taken_at):%Y-%m-%d %H:%M %Z}",
        f"Paid in cash: {money(pay.amount_cents)}",
        f"Cash received: {money(pay.received_cents)}; change given: {money(pay.change_cents)}",
    ]
    if pay.seized_cents:
        lines.append(f"Notes kept for the Secret Service (not credited): {money(pay.seized_cents)}")
    if pay.balance_after_cents is not None:
        lines.append(f"Account balance after this payment: {money(pay.balance_after_cents)}")
    lines.append(f"Received by {pay.taken_by}.")
    return "\n".join(lines)


async def record_custody(ctx: PluginContext, staff: Staff, note_id: int, data: CustodyIn) -> CashSeizedNote:
    """Log a hand-over; only the current holder (or a supervisor) may hand the note on (rules.md §2.3)."""
    async with ctx.db.session() as session:
        note = await session.get(CashSeizedNote, note_id, with_for_update=True)
        if note is None:
            raise NotFoundException(f"no seized note {note_id}")
        if note.status == "surrendered":
            raise _conflict(f"seized note {note_id} was already surrendered")
        if note.holder != staff.name and staff.role is not Role.SUPERVISOR:
            raise PermissionDeniedException(f"seized note {note_id} is held by {note.holder}")
        now = ctx.clock.now()
        session.add(
            CashCustody(
                seized_note_id=note.id,
                from_holder=note.holder,
                to_holder=data.to_holder.strip(),
                action=data.action,
                at=now,
                recorded_by=staff.name,
                remarks=data.remarks.strip(),
            )
        )
        note.holder = data.to_holder.strip()
        note.status = "surrendered" if data.action == "surrendered" else "handed_over"
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="cash.counterfeit.custody",
            target=f"cash_seized_note:{note.id}",
            detail={"to": note.holder, "action": data.action},
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
                detail={"slips": len(data.slips), "counter_variance_cents": rec.counter_variance_cents},
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
        return [drawer_view(d) for d in rows]

    @get("/drawers/{drawer_id:int}", opt=VIEW, summary="One drawer")
    async def get_drawer(drawer_id: FromPath[int]) -> DrawerView:
        async with ctx.db.session() as session:
            d = await session.get(CashDrawer, drawer_id)
        if d is None:
            raise NotFoundException(f"no drawer {drawer_id}")
        return drawer_view(d)

    @post("/drawers/{drawer_id:int}/close", opt=WINDOW, summary="Close a drawer with the counted cash")
    async def close_drawer_route(
        request: Request[Any, Any, Any], drawer_id: FromPath[int]
    ) -> Response[DrawerView]:
        data = decode(await request.body(), CloseDrawerIn)
        drawer = await close_drawer(ctx, current_staff(request), drawer_id, data)
        return Response(drawer_view(drawer), status_code=200)

    @post("/payments", opt=WINDOW, summary="Take a cash payment at the window")
    async def pay(request: Request[Any, Any, Any]) -> Response[PaymentView]:
        """Body: ``PaymentIn``; ``Idempotency-Key`` header or ``idempotency_key``: a retry answers 200."""
        data = decode(await request.body(), PaymentIn)
        key = _key_of(request, data.idempotency_key)
        pay, replayed = await take_payment(ctx, request, current_staff(request), PaymentRequest(data, key))
        async with ctx.db.session() as session:
            view = await payment_view(session, pay, replayed=replayed)
        return Response(view, status_code=200 if replayed else 201)

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
async def _form(request: Request[Any, Any, Any]) -> Any:
    """The posted form once its CSRF token matches (the same double-submit rule as the shell's forms)."""
    from plugins.pci_inspection.api import form_of  # one implementation of the check for every plugin page

    return await form_of(request)


def _int(form: Any, name: str) -> int | str:
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    return int(text) if re.fullmatch(r"\d{1,9}", text) else text


def _cents(form: Any, name: str) -> int | str:
    """``"12.34"`` → 1234; anything that is not dollars with at most two decimals stays as text (→ 422)."""
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    m = re.fullmatch(r"(\d{1,7})(?:\.(\d{1,2}))?", text)
    if not m:
        return text or 0
    return int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))


def pages(ctx: PluginContext) -> list[PageSpec]:
    async def window_page(
        request: Request[Any, Any, Any],
        *,
        status_code: int = 200,
        error: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> Response[Any]:
        staff = current_staff(request)
        async with ctx.db.session() as session:
            drawer = await _open_drawer_of(session, staff.name)
        return render(
            request,
            "cash_handling/window.html",
            status_code=status_code,
            drawer=drawer,
            error=error,
            values=values or {},
            notes=list(NOTES),
            coins=[d for d in FLOAT_DENOMINATIONS if d < 100],
            uv_colours=UV_COLOURS,
            expected_uv=expected_uv,
            title_of=denomination_title,
            money=money,
            form_token=secrets.token_urlsafe(18),
            can_take=staff.role.value in WINDOW["roles"],
        )

    @get("/", opt=VIEW)
    async def window(request: Request[Any, Any, Any]) -> Response[Any]:
        return await window_page(request)

    @post("/drawer", opt={**WINDOW, **FORM})
    async def open_drawer_form(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await _form(request)
        counts = {str(d): _int(form, f"float_{d}") for d in FLOAT_DENOMINATIONS if form.get(f"float_{d}")}
        try:
            data = msgspec.convert(
                {"float_counts": counts, "idempotency_key": f"form-{form.get('form_token', '')}"},
                OpenDrawerIn,
            )
            await open_drawer(ctx, current_staff(request), data)
        except (msgspec.ValidationError, ClientException) as exc:
            return await window_page(request, status_code=422, error=str(getattr(exc, "detail", exc)))
        return Redirect("/ui/cash_handling/", status_code=303)

    @post("/pay", opt={**WINDOW, **FORM})
    async def pay_form(request: Request[Any, Any, Any]) -> Response[Any]:
        """Notes are counted by denomination; the checks ticked on a row apply to each note of that row."""
        form = await _form(request)
        values = {k: v for k, v in form.items() if isinstance(v, str) and k != "_csrf_token"}
        counts: dict[str, Any] = {}
        notes: list[dict[str, Any]] = []
        for d in NOTES:
            n = _int(form, f"count_{d}")
            if n == "" or n == 0:
                continue
            counts[str(d)] = n
            if isinstance(n, int):
                for _ in range(min(n, 500)):
                    notes.append(
                        {
                            "denomination": d,
                            "uv_colour": values.get(f"uv_{d}", ""),
                            "pen": values.get(f"pen_{d}", PenResult.NOT_DONE.value),
                            "feel": form.get(f"feel_{d}") == "on",
                            "watermark": form.get(f"watermark_{d}") == "on",
                            "colour_shift": (form.get(f"shift_{d}") == "on") if d >= 1000 else None,
                        }
                    )
        raw = {
            "account_id": values.get("account_id", ""),
            "contact_id": values.get("contact_id") or None,
            "amount_cents": _cents(form, "amount"),
            "change_cents": _cents(form, "change"),
            "coins_cents": _cents(form, "coins"),
            "note_counts": counts,
            "notes": notes,
            "idempotency_key": f"form-{values.get('form_token', '')}",
        }
        try:
            data = msgspec.convert(raw, PaymentIn, strict=False)
            pay, _replayed = await take_payment(
                ctx, request, current_staff(request), PaymentRequest(data, data.idempotency_key or "")
            )
        except msgspec.ValidationError as exc:
            message = f"{_field_of(exc)}: {str(exc).split(' - at ')[0]}"
            return await window_page(request, status_code=422, error=message, values=values)
        except (ClientException, PermissionDeniedException, NotFoundException) as exc:
            return await window_page(
                request, status_code=exc.status_code, error=str(exc.detail), values=values
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
            office=ctx.config.office_name,
            money=money,
            title_of=denomination_title,
            taken_at=local(pay.taken_at),
        )

    @get("/seized/{note_id:int}", opt=CUSTODY)
    async def seized(request: Request[Any, Any, Any], note_id: FromPath[int]) -> Response[Any]:
        async with ctx.db.session() as session:
            note = await session.get(CashSeizedNote, note_id)
            if note is None:
                raise NotFoundException(f"no seized note {note_id}")
            view = await seized_view(session, note)
        return render(
            request, "cash_handling/seized.html", note=view, script=SEIZED_SCRIPT, title_of=denomination_title
        )

    return [
        PageSpec(handler=window, nav_title="Cash window"),
        PageSpec(handler=open_drawer_form),
        PageSpec(handler=pay_form),
        PageSpec(handler=receipt),
        PageSpec(handler=seized),
    ]
