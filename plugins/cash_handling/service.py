"""Use cases of the cash window: drawers, cash and card payments, seized notes, deposits and the drop box.

Each write validates everything first (a :class:`~plugins.cash_handling.rules.CashError` naming the field;
nothing is written on a refusal), then makes its CCB call with an idempotency key derived from the caller's
key, then records the local rows, events, mails and audit in one transaction. The CCB call and the local
transaction are two commits: a retry with the same key replays the CCB answer (docs/ccb-domain.md §1.9,
ARCHITECTURE §7 "payments idempotent") and completes the local record, so money is posted once and the
receipt exists once, even when two submissions race (the keys are unique columns of this plugin's rows).

Card tenders are taken only on a terminal that the card-terminal inventory (the pci_inspection plugin's
:class:`CardTerminals` service) says is usable at this office. That plugin is an optional companion
(``after_depends_on``): without it no terminal can be shown to be safe, so cards are refused with the reason
and cash is still taken (docs/rules.md §1.4 step 1: move customers to another verified terminal or to cash).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.contract import PluginContext
from core.contract.ccb import CcbError
from core.contract.ccb import port as p
from core.contract.clock import local
from core.contract.contact import ContactGuard
from core.contract.staff import Role, Staff
from plugins.cash_handling import events, queries
from plugins.cash_handling.models import (
    CashDrawer,
    CashPayment,
)
from plugins.cash_handling.rules import (
    FLOAT_DENOMINATIONS,
    NOTES,
    CashConfig,
    CashError,
    TenderType,
    balance,
    cards_unavailable,
    ccb_refusal,
    counts_match,
    json_counts,
    money,
    note_record,
    parse_counts,
    receipt_number,
    receipt_text,
    redacted_passer,
    seized_mail,
    seized_note_block,
    seized_receipt_block,
    seized_reporter_block,
    terminal_label,
    terminal_refused,
    terminal_status_reason,
    total_of,
    unbalanced_mail,
    window_cash,
)
from plugins.cash_handling.schemas import (
    CardPaymentIn,
    CloseDrawerIn,
    DepositIn,
    DepositView,
    OpenDrawerIn,
    PaymentIn,
)
from plugins.cash_handling.service_backoffice import BackOffice
from plugins.pci_inspection.public import CardTerminal, CardTerminals

NOT_INSTALLED = "the PCI terminal inspection plugin (pci_inspection) is not installed"
NO_TABLES = "the card-terminal inventory tables are missing (the database needs `ccbhub db upgrade`)"


class TerminalsUnavailable(Exception):
    """Card terminals cannot be checked at this hub; the message says why."""


def _cannot_answer(exc: Exception) -> str:
    """Why the inventory could not answer: it raises ``RuntimeError`` naming the reason (its tables missing);
    a database error reaching here means the same."""
    return NO_TABLES if isinstance(exc, DBAPIError) else str(exc)


class CashService(BackOffice):
    """The window's use cases over one plugin context and, when it runs, the card-terminal inventory."""

    def __init__(self, ctx: PluginContext, terminals: CardTerminals | None) -> None:
        self.ctx = ctx
        self.config: CashConfig = ctx.config
        self.terminals = terminals

    # -- card terminals ----------------------------------------------------------------------------------
    def _inventory(self) -> CardTerminals:
        if self.terminals is None:
            raise TerminalsUnavailable(NOT_INSTALLED)
        reason = self.terminals.unavailable_reason()
        if reason is not None:
            raise TerminalsUnavailable(reason)
        return self.terminals

    async def terminals_here(self) -> list[CardTerminal]:
        """Every terminal at this office, usable or not; raises :class:`TerminalsUnavailable`."""
        inventory = self._inventory()
        try:
            return await inventory.at_site(self.config.card_terminal_site)
        except (RuntimeError, DBAPIError) as exc:
            raise TerminalsUnavailable(_cannot_answer(exc)) from None

    async def check_terminal(self, terminal_id: int) -> CardTerminal:
        """The terminal, when a card may be taken on it now; else 409 naming ``terminal_id`` and why.

        Refused: the inventory cannot vouch for terminals; the id is not in it; the terminal is at another
        site; or it is not usable (a failed inspection takes it out of service at once, docs/rules.md §1.4
        step
        1; in stock, in repair, quarantined, lost and decommissioned are never usable).
        """
        site = self.config.card_terminal_site
        try:
            found = await self._inventory().get(terminal_id)
        except TerminalsUnavailable as exc:
            raise cards_unavailable(str(exc)) from None
        except (RuntimeError, DBAPIError) as exc:
            raise cards_unavailable(_cannot_answer(exc)) from None
        if found is None:
            raise terminal_refused(f"there is no card terminal #{terminal_id} in the terminal inventory")
        label = terminal_label(found.id, found.make, found.model, found.window, found.serial_number)
        if found.site != site:
            raise terminal_refused(f"terminal {label} is at site {found.site}, not at this office ({site})")
        if not found.usable:
            raise terminal_refused(f"terminal {label} is {terminal_status_reason(found.status)}")
        return found

    # -- drawers -----------------------------------------------------------------------------------------
    async def open_drawer(self, staff: Staff, data: OpenDrawerIn, key: str) -> tuple[CashDrawer, bool]:
        """Open a tender control with the counted change fund (docs/ccb-domain.md §1.9); once per key."""
        ctx = self.ctx
        key = f"cash:drawer:{key}"
        counts = parse_counts(data.float_counts, FLOAT_DENOMINATIONS, "float_counts")
        total = total_of(counts)
        if total > self.config.max_float_cents:
            limit = money(self.config.max_float_cents)
            raise CashError([("float_counts", f"a float of {money(total)} is above {limit}")])
        async with ctx.db.session() as session:
            existing = await queries.drawer_by_key(session, key)
            if existing is not None:
                return existing, True
            if await queries.open_drawer_of(session, staff.name) is not None:
                raise CashError.refused(f"{staff.name} already has an open drawer: close it first", 409)
        try:
            control = await ctx.ccb.open_tender_control(
                p.OpenTenderControl(csr=staff.name, starting_float_cents=total),
                actor=staff.actor,
                idempotency_key=key,
            )
        except CcbError as exc:
            raise ccb_refusal(exc) from None
        now = ctx.clock.now()
        try:
            async with ctx.db.session() as session:
                drawer = CashDrawer(
                    tender_control_id=control.tender_control_id,
                    csr=staff.name,
                    status="open",
                    float_counts=json_counts(counts),
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
                again = await queries.drawer_by_key(session, key)
            if again is None:
                raise
            return again, True
        return drawer, False

    async def close_drawer(self, staff: Staff, drawer_id: int, data: CloseDrawerIn) -> CashDrawer:
        """Count the drawer and balance its tender control to the cent; a variance goes to the lead."""
        ctx = self.ctx
        counts = parse_counts(data.counted_counts, FLOAT_DENOMINATIONS, "counted_counts")
        counted = total_of(counts)
        async with ctx.db.session() as session:
            drawer = await session.get(CashDrawer, drawer_id)
        if drawer is None:
            raise CashError.refused(f"no drawer {drawer_id}", 404)
        if drawer.csr != staff.name and staff.role is Role.CSR:
            raise CashError.refused(f"drawer {drawer_id} belongs to {drawer.csr}", 403)
        if drawer.status != "open":
            raise CashError.refused(f"drawer {drawer_id} is already closed", 409)
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
            raise ccb_refusal(exc) from None
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
            row.counted_counts = json_counts(counts)
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
                subject, body = unbalanced_mail(
                    row.id,
                    row.tender_control_id,
                    row.csr,
                    staff.name,
                    now,
                    row.starting_float_cents,
                    expected,
                    counted,
                )
                await ctx.mail.queue(
                    session,
                    to=list(self.config.lead_emails),
                    subject=subject,
                    body=body,
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

    async def create_deposit(self, staff: Staff, data: DepositIn, key: str) -> DepositView:
        """Group closed drawers into one CCB deposit control (docs/ccb-domain.md §1.9)."""
        ctx = self.ctx
        ids = list(dict.fromkeys(data.drawer_ids))
        async with ctx.db.session() as session:
            drawers = [await session.get(CashDrawer, i) for i in ids]
        controls: list[str] = []
        for i, d in zip(ids, drawers, strict=True):
            if d is None:
                raise CashError([("drawer_ids", f"no drawer {i}")])
            if d.status != "closed":
                raise CashError([("drawer_ids", f"drawer {i} is not closed")])
            if d.deposit_control_id is not None:
                raise CashError([("drawer_ids", f"drawer {i} is already in deposit {d.deposit_control_id}")])
            controls.append(d.tender_control_id)
        try:
            deposit = await ctx.ccb.create_deposit_control(
                p.CreateDepositControl(tender_control_ids=tuple(controls)),
                actor=staff.actor,
                idempotency_key=f"cash:deposit:{key}",
            )
        except CcbError as exc:
            raise ccb_refusal(exc) from None
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
        return DepositView(
            deposit_control_id=deposit.deposit_control_id, total_cents=deposit.total_cents, drawer_ids=ids
        )

    # -- window payments ---------------------------------------------------------------------------------
    async def _replay(
        self, session: AsyncSession, key: str, account_id: str, tender: TenderType = TenderType.CASH
    ) -> CashPayment | None:
        """The payment already recorded under ``key``; one key is one window payment, whatever its tender."""
        existing = await queries.payment_by_key(session, key)
        if existing is not None and existing.account_id != account_id:
            raise CashError.refused(f"idempotency key already used for account {existing.account_id}", 409)
        if existing is not None and existing.tender_type != tender:
            raise CashError.refused(f"idempotency key already used for a {existing.tender_type} payment", 409)
        return existing

    async def _verified(
        self, guard: ContactGuard, account_id: str, contact_id: str | None, purpose: str
    ) -> str:
        """Customer data needs a contact verified for the account (ARCHITECTURE §6): the core's guard decides.

        Returns what is recorded on the payment: the contact id, or the lead's recorded reason.
        """
        access = await guard.account(
            account_id, purpose=purpose, topic="payment", change=True, contact_id=contact_id
        )
        return (access.contact_id or f"reason: {access.reason}")[:64]

    async def _summary(self, account_id: str) -> p.AccountSummary:
        try:
            return await self.ctx.ccb.get_account_summary(account_id)
        except CcbError as exc:
            raise ccb_refusal(exc) from None

    async def _open_drawer(self, staff: Staff) -> CashDrawer:
        async with self.ctx.db.session() as session:
            drawer = await queries.open_drawer_of(session, staff.name)
        if drawer is None:
            raise CashError.refused(
                f"{staff.name} has no open drawer: open one with the counted float first", 409
            )
        return drawer

    async def _post_tender(
        self, staff: Staff, account_id: str, tender: p.TenderInput, drawer: CashDrawer, key: str
    ) -> p.PaymentResult:
        """One tender posted to CCB on the CSR's tender control, under the window payment's key."""
        try:
            return await self.ctx.ccb.post_payment(
                p.PostPayment(
                    account_id=account_id, tenders=(tender,), tender_control_id=drawer.tender_control_id
                ),
                idempotency_key=key,
                actor=staff.actor,
            )
        except CcbError as exc:
            raise ccb_refusal(exc) from None

    async def _announce(
        self,
        session: AsyncSession,
        staff: Staff,
        pay: CashPayment,
        posted: p.PaymentResult,
        email: str | None,
        now: dt.datetime,
    ) -> None:
        """The event and the customer's mailed receipt of a posted payment (in the payment's commit)."""
        self.ctx.events.emit(
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
            await self.ctx.mail.queue(
                session,
                to=[email],
                subject=f"Your payment receipt {pay.receipt_no}",
                body=receipt_text(self.config, pay),
                idempotency_key=f"cash_handling:receipt:{pay.id}",
            )

    async def _record(
        self,
        staff: Staff,
        pay: CashPayment,
        posted: p.PaymentResult | None,
        email: str | None,
        detail: dict[str, Any],
        seize: Callable[[AsyncSession, CashPayment], Awaitable[None]] | None = None,
    ) -> tuple[CashPayment, bool]:
        """Record a window payment, its receipt, seizures, event, mail and audit in one transaction.

        Returns (payment, replayed): when the same key committed first in a racing request, its record is
        the answer.
        """
        try:
            async with self.ctx.db.session() as session:
                session.add(pay)
                await session.flush()
                if posted:
                    pay.receipt_no = receipt_number(local(pay.taken_at).date(), pay.id)
                if seize is not None:
                    await seize(session, pay)
                if posted:
                    await self._announce(session, staff, pay, posted, email, pay.taken_at)
                await self.ctx.audit.append(
                    session,
                    actor=staff.actor,
                    action="cash.payment.taken",
                    target=f"account:{pay.account_id}",
                    detail={"receipt": pay.receipt_no, **detail, "payment": pay.payment_id},
                )
                return pay, False
        except IntegrityError:
            async with self.ctx.db.session() as session:
                again = await self._replay(
                    session, pay.idempotency_key, pay.account_id, TenderType(pay.tender_type)
                )
            if again is None:
                raise
            return again, True

    async def take_payment(
        self, staff: Staff, guard: ContactGuard, data: PaymentIn, client_key: str
    ) -> tuple[CashPayment, bool]:
        """A cash payment at the window: checks per note, seizure of suspects, one CCB post, a receipt."""
        key = f"cash:pay:{client_key}"
        async with self.ctx.db.session() as session:
            existing = await self._replay(session, key, data.account_id)
            if existing is not None:
                return existing, True
        counts = parse_counts(data.note_counts, NOTES, "note_counts")
        problems = counts_match(counts, data.notes)
        if problems:
            raise CashError(problems)
        cash = window_cash(data.notes, data.coins_cents, data.amount_cents, data.change_cents)
        suspects = [i for i, v in enumerate(cash.verdicts) if v.suspect]
        if suspects and data.passer is None:
            raise CashError([("passer", "a seized note needs the passer's description (SSF 1604)")])
        for block in data.seized_notes:
            if block.note_index not in suspects:
                raise CashError([(f"seized_notes.{block.note_index}", "names no suspect note")])
        if data.amount_cents == 0 and not suspects:
            raise CashError([("amount_cents", "must be positive")])
        summary = await self._summary(data.account_id)
        contact = await self._verified(guard, data.account_id, data.contact_id, "cash payment")
        drawer = await self._open_drawer(staff)
        posted: p.PaymentResult | None = None
        if data.amount_cents:
            cash_tender = p.TenderInput(tender_type="cash", amount_cents=data.amount_cents)
            posted = await self._post_tender(staff, data.account_id, cash_tender, drawer, key)
        email = summary.main_customer.email
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
            note_counts=json_counts(counts),
            notes=[note_record(n, v) for n, v in zip(data.notes, cash.verdicts, strict=True)],
            payment_id=posted.payment_id if posted else None,
            payment_event_id=posted.payment_event_id if posted else None,
            balance_after_cents=posted.balance_cents if posted else None,
            mailed_to=email if (email and posted) else None,
            taken_by=staff.name,
            taken_at=self.ctx.clock.now(),
            idempotency_key=key,
        )

        async def seize(session: AsyncSession, pay: CashPayment) -> None:
            for index in suspects:
                await self._seize(session, staff, pay, data, index, cash.verdicts[index].reasons)

        detail = {"amount_cents": pay.amount_cents, "seized_cents": pay.seized_cents, "contact": contact}
        return await self._record(staff, pay, posted, email, detail, seize)

    async def take_card_payment(
        self, staff: Staff, guard: ContactGuard, data: CardPaymentIn, client_key: str
    ) -> tuple[CashPayment, bool]:
        """A card tender at the window, on a usable terminal of this office, posted to CCB once per key.

        The card tender links to the CSR's open tender control like any tender (docs/ccb-domain.md §1.9), but
        it
        is not in the drawer's expected cash: cards settle with the processor. Only the slip's last four
        digits, brand and approval code are kept (docs/rules.md §1.5).
        """
        key = f"cash:pay:{client_key}"
        async with self.ctx.db.session() as session:
            existing = await self._replay(session, key, data.account_id, TenderType.CARD)
            if existing is not None:
                return existing, True
        drawer = await self._open_drawer(staff)
        terminal = await self.check_terminal(data.terminal_id)
        summary = await self._summary(data.account_id)
        contact = await self._verified(guard, data.account_id, data.contact_id, "card payment")
        brand = data.card_brand.value if data.card_brand else None
        card_tender = p.TenderInput(
            tender_type=TenderType.CARD.value,
            amount_cents=data.amount_cents,
            card_last4=data.card_last4,
            card_brand=brand,
        )
        posted = await self._post_tender(staff, data.account_id, card_tender, drawer, key)
        email = summary.main_customer.email
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
            taken_at=self.ctx.clock.now(),
            idempotency_key=key,
            card_type=data.card_type.value,
            card_brand=brand,
            card_last4=data.card_last4,
            authorization_code=data.authorization_code.upper(),
            terminal_id=terminal.id,
        )
        detail = {
            "tender": "card",
            "card_type": pay.card_type,
            "terminal": terminal.id,
            "amount_cents": pay.amount_cents,
            "contact": contact,
        }
        return await self._record(staff, pay, posted, email, detail)

    async def _seize(
        self,
        session: AsyncSession,
        staff: Staff,
        pay: CashPayment,
        data: PaymentIn,
        index: int,
        reasons: tuple[str, ...],
    ) -> None:
        """Keep the note, write the SSF 1604 record and start its custody log (docs/rules.md §2.3, §2.4)."""
        now = pay.taken_at
        note = data.notes[index]
        block = next((s for s in data.seized_notes if s.note_index == index), None)
        fields: dict[str, Any] = msgspec.to_builtins(block) if block else {}
        seized = queries.add_seized_note(
            session,
            pay=pay,
            denomination=note.denomination,
            note=seized_note_block(note, fields, reasons),
            receipt=seized_receipt_block(self.config, now, staff.name, pay.account_id, pay.received_cents),
            passer=redacted_passer(msgspec.to_builtins(data.passer)) if data.passer else {},
            reporter=seized_reporter_block(
                self.config,
                staff.name,
                data.reporter.police_agency if data.reporter else "",
                data.reporter.police_report_no if data.reporter else "",
            ),
            holder=staff.name,
            now=now,
        )
        await session.flush()
        queries.add_custody(
            session, seized, to_holder=staff.name, action="seized", at=now, recorded_by=staff.name
        )
        self.ctx.events.emit(
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
        subject, body = seized_mail(staff.name, note.denomination, seized.id, reasons, now)
        await self.ctx.mail.queue(
            session,
            to=list(self.config.supervisor_emails),
            subject=subject,
            body=body,
            idempotency_key=f"cash_handling:seized:{seized.id}",
        )
