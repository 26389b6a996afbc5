"""Reads of the cash window's own tables, and the views built from its rows (each in the caller's session)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.contract.clock import local
from plugins.cash_handling.models import (
    CashCustody,
    CashDrawer,
    CashDropboxCollection,
    CashDropboxSlip,
    CashPayment,
    CashSeizedNote,
)
from plugins.cash_handling.rules import (
    SEIZED_SCRIPT,
    DrawerTotals,
    SlipLine,
    SlipType,
    TenderType,
    drawer_totals,
    masked_pan,
    reconcile,
)
from plugins.cash_handling.schemas import (
    CardView,
    CollectionView,
    CustodyView,
    DrawerView,
    NoteView,
    PaymentView,
    SeizedView,
    SlipIn,
    SlipView,
    TotalsView,
)

LIST_LIMIT = 200


# -- drawers ---------------------------------------------------------------------------------------------
async def open_drawer_of(session: AsyncSession, csr: str) -> CashDrawer | None:
    """The CSR's open drawer, if any (a CSR runs one drawer at a time)."""
    found: CashDrawer | None = await session.scalar(
        select(CashDrawer).where(CashDrawer.csr == csr, CashDrawer.status == "open")
    )
    return found


async def drawer_by_key(session: AsyncSession, key: str) -> CashDrawer | None:
    found: CashDrawer | None = await session.scalar(
        select(CashDrawer).where(CashDrawer.idempotency_key == key)
    )
    return found


async def recent_drawers(session: AsyncSession) -> Sequence[CashDrawer]:
    """Drawers, open ones first, newest first."""
    return (
        await session.scalars(
            select(CashDrawer).order_by(CashDrawer.status.desc(), CashDrawer.id.desc()).limit(LIST_LIMIT)
        )
    ).all()


async def drawer_csrs(session: AsyncSession) -> Sequence[str]:
    """Everyone who ever ran a drawer: the CSRs a lead hands drop-box slips to."""
    return (await session.scalars(select(CashDrawer.csr).distinct().order_by(CashDrawer.csr))).all()


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
        totals=TotalsView.of(totals) if totals is not None else None,
    )


async def drawer_with_totals(session: AsyncSession, drawer: CashDrawer) -> DrawerView:
    return drawer_view(drawer, (await drawer_totals_of(session, [drawer]))[drawer.id])


async def drawer_payments(session: AsyncSession, drawer_id: int) -> Sequence[CashPayment]:
    return (
        await session.scalars(
            select(CashPayment).where(CashPayment.drawer_id == drawer_id).order_by(CashPayment.id.desc())
        )
    ).all()


# -- payments --------------------------------------------------------------------------------------------
async def payment_by_key(session: AsyncSession, key: str) -> CashPayment | None:
    found: CashPayment | None = await session.scalar(
        select(CashPayment).where(CashPayment.idempotency_key == key)
    )
    return found


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


# -- seized notes ----------------------------------------------------------------------------------------
async def recent_seized(session: AsyncSession) -> Sequence[CashSeizedNote]:
    return (
        await session.scalars(select(CashSeizedNote).order_by(CashSeizedNote.id.desc()).limit(LIST_LIMIT))
    ).all()


async def latest_custody_at(session: AsyncSession, note: CashSeizedNote) -> dt.datetime:
    """When the note last changed hands (its seizure, when it never did): a hand-over cannot predate it."""
    last = await session.scalar(select(func.max(CashCustody.at)).where(CashCustody.seized_note_id == note.id))
    earliest: dt.datetime = note.seized_at if last is None else last
    # func.max loses the column type on SQLite, so the value may come back naive (stored as UTC).
    return earliest.replace(tzinfo=dt.UTC) if earliest.tzinfo is None else earliest


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


# -- the drop box ----------------------------------------------------------------------------------------
async def collection_by_key(session: AsyncSession, key: str) -> CashDropboxCollection | None:
    found: CashDropboxCollection | None = await session.scalar(
        select(CashDropboxCollection).where(CashDropboxCollection.idempotency_key == key)
    )
    return found


async def recent_collections(session: AsyncSession, limit: int = 20) -> Sequence[CashDropboxCollection]:
    return (
        await session.scalars(
            select(CashDropboxCollection).order_by(CashDropboxCollection.id.desc()).limit(limit)
        )
    ).all()


async def unposted_slips_of(session: AsyncSession, csr: str) -> Sequence[CashDropboxSlip]:
    """The slips handed to ``csr`` and not yet posted, in collection and slip order."""
    return (
        await session.scalars(
            select(CashDropboxSlip)
            .where(CashDropboxSlip.assigned_to == csr, CashDropboxSlip.payment_id.is_(None))
            .order_by(CashDropboxSlip.collection_id, CashDropboxSlip.slip_no)
        )
    ).all()


def slip_view(s: CashDropboxSlip) -> SlipView:
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
        slips=[slip_view(s) for s in slips],
    )


# -- writes ----------------------------------------------------------------------------------------------
def add_seized_note(
    session: AsyncSession,
    *,
    pay: CashPayment,
    denomination: int,
    note: dict[str, Any],
    receipt: dict[str, Any],
    passer: dict[str, Any],
    reporter: dict[str, Any],
    holder: str,
    now: dt.datetime,
) -> CashSeizedNote:
    """A seized note's SSF 1604 record, held by whoever seized it."""
    seized = CashSeizedNote(
        payment_id=pay.id,
        denomination=denomination,
        note=note,
        receipt=receipt,
        passer=passer,
        reporter=reporter,
        status="seized",
        holder=holder,
        seized_at=now,
        seized_on=local(now).date(),
        copy_offered=True,
    )
    session.add(seized)
    return seized


def add_custody(
    session: AsyncSession,
    note: CashSeizedNote,
    *,
    to_holder: str,
    action: str,
    at: dt.datetime,
    recorded_by: str,
    remarks: str = "",
) -> None:
    """One line of the chain of custody: from the note's current holder (none at seizure) to ``to_holder``."""
    session.add(
        CashCustody(
            seized_note_id=note.id,
            from_holder=None if action == "seized" else note.holder,
            to_holder=to_holder,
            action=action,
            at=at,
            recorded_by=recorded_by,
            remarks=remarks,
        )
    )


async def add_collection(
    session: AsyncSession,
    *,
    kind: str,
    envelopes: int,
    counter_cents: int,
    slips: Sequence[SlipIn],
    collected_by: str,
    types_verified: bool,
    key: str,
    now: dt.datetime,
) -> CashDropboxCollection:
    """A drop-box collection and its slips, each assigned to the CSR who will post it."""
    rec = reconcile(counter_cents, [SlipLine(s.amount_cents, s.slip_type, False) for s in slips])
    c = CashDropboxCollection(
        kind=kind,
        collected_at=now,
        collected_by=collected_by,
        envelopes=envelopes,
        counter_cents=counter_cents,
        slips_cents=rec.slips_cents,
        cash_slips_cents=rec.cash_slips_cents,
        idempotency_key=key,
        types_verified=types_verified,
    )
    session.add(c)
    await session.flush()
    for slip in slips:
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
    return c
