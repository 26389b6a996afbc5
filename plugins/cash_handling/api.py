"""The cash window's JSON API under /api/cash_handling: decode, call the use case, answer the view.

Writes take a client's idempotency key, as the ``Idempotency-Key`` header (read by the kit) or the body's
``idempotency_key`` (checked with the kit's ``check_key``): a retry with the same key answers 200 with the
first record (``replayed``), a first write 201. A refusal of the rules is a 4xx naming each field at fault.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody, SkipValidation

from core.contract import PluginContext
from core.contract.contact import ContactGuard
from core.contract.idempotency import IdempotencyKey, check_key
from core.contract.inputs import InputError, convert
from core.contract.scope import NONE, QUEUE, account, customer_view, own_contact_for, withhold
from core.contract.staff import Staff
from plugins.cash_handling import queries
from plugins.cash_handling.models import CashDrawer, CashDropboxCollection, CashPayment, CashSeizedNote
from plugins.cash_handling.rules import NEVER_CARD_DATA, CashError, card_data_in
from plugins.cash_handling.schemas import (
    CardPaymentIn,
    CloseDrawerIn,
    CollectionIn,
    CollectionView,
    CustodyIn,
    DepositIn,
    DepositView,
    DrawerView,
    OpenDrawerIn,
    PaymentIn,
    PaymentView,
    SeizedView,
    SlipPostIn,
    SlipView,
    SubmissionIn,
    TerminalChoice,
    TerminalLine,
    TerminalsView,
)
from plugins.cash_handling.service import CashService, TerminalsUnavailable
from plugins.pci_inspection.public import CardTerminals

# Who may do what (issue 6 §1): CSRs run their own drawer and take payments; the lead also collects the
# drop box, groups drawers into deposits and hears about variances; a supervisor takes custody of seized
# notes and records the Secret Service submission.
WINDOW = {"roles": ["csr", "lead"]}
LEAD = {"roles": ["lead", "supervisor"]}
SUPERVISOR = {"roles": ["supervisor"]}
CUSTODY = {"roles": ["csr", "lead", "supervisor"]}
VIEW = {"roles": ["csr", "lead", "supervisor", "admin"]}
# What the core provides by name on every route (the plugin's context, the caller, the guard, the checked
# header key) and this plugin's use cases: injected as they are, not validated like request data.
Ctx = NamedDependency[SkipValidation[PluginContext]]
Caller = NamedDependency[SkipValidation[Staff]]
Guard = NamedDependency[SkipValidation[ContactGuard]]
Idempotency = NamedDependency[SkipValidation[IdempotencyKey | None]]
Service = NamedDependency[SkipValidation[CashService]]


def provide_service(ctx: Ctx) -> CashService:
    """Dependency ``service``: the use cases, with the card-terminal inventory when it runs."""
    return CashService(ctx, ctx.services.get(CardTerminals))


SERVICE = {"service": Provide(provide_service, sync_to_thread=False)}
KEY_HINT = "8-120 letters, digits or ._:@<>+- (body or Idempotency-Key)"


def refusal(request: Request[Any, Any, Any], exc: CashError) -> Response[Any]:
    """A refusal of the cash rules, in the hub's error shape: ``extra`` names each field at fault."""
    named = [(k, m) for k, m in exc.problems if k]
    body: dict[str, Any] = {"status_code": exc.status_code, "detail": str(exc)}
    if named:
        body["extra"] = [{"key": k, "message": m} for k, m in named]
    return Response(body, status_code=exc.status_code)


def client_key(idempotency: Idempotency, body_key: str | None) -> str:
    """The write's key: the checked ``Idempotency-Key`` header, else the body's ``idempotency_key``."""
    if idempotency is not None:
        return idempotency.value
    if not body_key:
        raise InputError("idempotency_key", KEY_HINT)
    return check_key(body_key, "idempotency_key")


def card_payment(data: JSONBody[dict[str, Any]]) -> CardPaymentIn:
    """A card payment body, refusing first any card number or card-data field anywhere in it.

    The refusal names where the data was, never the data, so no response or log line can echo a PAN
    (docs/rules.md §1.5: the hub never sees a full card number; PCI DSS 3.3.1, 3.4.1).
    """
    found = card_data_in(data)
    if found:
        raise CashError([(where, NEVER_CARD_DATA) for where in found])
    return convert(data, CardPaymentIn)


async def _found(ctx: Ctx, model: type[Any], row_id: int, what: str) -> Any:
    async with ctx.db.session() as session:
        row = await session.get(model, row_id)
    if row is None:
        raise NotFoundException(f"no {what} {row_id}")
    return row


# The window's records as queues: a payment's balance and script, a seized note's passer and receipt, only
# inside a contact verified for the payment's account or to the leads and supervisors who run the window.
WINDOW_QUEUE = QUEUE(roles=("lead", "supervisor"))
PAYMENT_FIELDS = ("balance_after_cents", "customer_script")
SEIZED_FIELDS = ("passer", "receipt")


async def payment_shown(
    ctx: PluginContext, guard: ContactGuard, staff: Staff, view: PaymentView, *, page: bool = False
) -> PaymentView:
    """The payment as ``staff`` may see it (a page acts inside the caller's own verified contact)."""
    contact_id = await own_contact_for(ctx, staff, view.account_id) if page else None
    purpose = f"window payment {view.id}"
    if await customer_view(
        ctx, guard, staff, view.account_id, WINDOW_QUEUE, purpose=purpose, contact_id=contact_id
    ):
        return view
    return withhold(view, PAYMENT_FIELDS)


async def seized_shown(
    ctx: PluginContext,
    guard: ContactGuard,
    staff: Staff,
    note: CashSeizedNote,
    view: SeizedView,
    *,
    page: bool = False,
) -> SeizedView:
    """The seized note as ``staff`` may see it: the passer only to the window's leads and supervisors, or
    inside a contact verified for the account the note was paid on."""
    account_id = None
    if note.payment_id is not None:
        async with ctx.db.session() as session:
            payment = await session.get(CashPayment, note.payment_id)
        account_id = payment.account_id if payment is not None else None
    contact_id = await own_contact_for(ctx, staff, account_id) if page and account_id else None
    purpose = f"seized note {note.id}"
    # Whoever holds the note (in custody) works its record, as the window's leads and supervisors do.
    queue = (
        QUEUE(roles=(*WINDOW_QUEUE.roles, staff.role.value)) if view.holder == staff.name else WINDOW_QUEUE
    )
    if await customer_view(ctx, guard, staff, account_id, queue, purpose=purpose, contact_id=contact_id):
        return view
    return withhold(view, SEIZED_FIELDS)


class CashController(Controller):
    """Drawers, window payments (cash and card), seized notes, deposits and the drop box."""

    dependencies = SERVICE
    exception_handlers = {CashError: refusal}

    @post("/drawers", opt=WINDOW, summary="Open my drawer with the counted float", customer_data=NONE)
    async def open_drawer(
        self, service: Service, staff: Caller, data: JSONBody[OpenDrawerIn]
    ) -> Response[DrawerView]:
        key = check_key(data.idempotency_key, "idempotency_key")
        drawer, replayed = await service.open_drawer(staff, data, key)
        return Response(queries.drawer_view(drawer), status_code=200 if replayed else 201)

    @get("/drawers", opt=VIEW, summary="Drawers (open first)", customer_data=NONE)
    async def list_drawers(self, ctx: Ctx) -> list[DrawerView]:
        async with ctx.db.session() as session:
            rows = await queries.recent_drawers(session)
            totals = await queries.drawer_totals_of(session, rows)
        return [queries.drawer_view(d, totals[d.id]) for d in rows]

    @get(
        "/drawers/{drawer_id:int}",
        opt=VIEW,
        summary="One drawer, with its payments by tender",
        customer_data=NONE,
    )
    async def get_drawer(self, ctx: Ctx, drawer_id: FromPath[int]) -> DrawerView:
        drawer = await _found(ctx, CashDrawer, drawer_id, "drawer")
        async with ctx.db.session() as session:
            return await queries.drawer_with_totals(session, drawer)

    @post(
        "/drawers/{drawer_id:int}/close",
        opt=WINDOW,
        status_code=200,
        summary="Close a drawer with the count",
        customer_data=NONE,
    )
    async def close_drawer(
        self,
        ctx: Ctx,
        service: Service,
        staff: Caller,
        drawer_id: FromPath[int],
        data: JSONBody[CloseDrawerIn],
    ) -> DrawerView:
        drawer = await service.close_drawer(staff, drawer_id, data)
        async with ctx.db.session() as session:
            return await queries.drawer_with_totals(session, drawer)

    @post(
        "/payments",
        opt=WINDOW,
        summary="Take a cash payment at the window",
        customer_data=account(body="account_id"),
    )
    async def pay(
        self,
        ctx: Ctx,
        service: Service,
        staff: Caller,
        guard: Guard,
        idempotency: Idempotency,
        data: JSONBody[PaymentIn],
    ) -> Response[PaymentView]:
        """Body: ``PaymentIn``; ``Idempotency-Key`` header or ``idempotency_key``: a retry answers 200."""
        key = client_key(idempotency, data.idempotency_key)
        payment, replayed = await service.take_payment(staff, guard, data, key)
        async with ctx.db.session() as session:
            view = await queries.payment_view(session, payment, replayed=replayed)
        return Response(view, status_code=200 if replayed else 201)

    @post(
        "/card-payments",
        opt=WINDOW,
        summary="Take a credit or debit card payment at the window",
        customer_data=account(body="account_id"),
    )
    async def pay_by_card(
        self,
        ctx: Ctx,
        service: Service,
        staff: Caller,
        guard: Guard,
        idempotency: Idempotency,
        data: JSONBody[dict[str, Any]],
    ) -> Response[PaymentView]:
        """Body: ``CardPaymentIn``; ``Idempotency-Key`` header or ``idempotency_key``: a retry answers 200.

        The terminal (``terminal_id``) must be usable by the PCI terminal inspection: otherwise 409 naming
        ``terminal_id``. A card number, CVV or PIN anywhere in the body is refused (422) and never echoed.
        """
        card = card_payment(data)
        key = client_key(idempotency, card.idempotency_key)
        payment, replayed = await service.take_card_payment(staff, guard, card, key)
        async with ctx.db.session() as session:
            view = await queries.payment_view(session, payment, replayed=replayed)
        return Response(view, status_code=200 if replayed else 201)

    @get(
        "/terminals",
        opt=VIEW,
        summary="Card terminals at this office and whether each may take cards",
        customer_data=NONE,
    )
    async def list_terminals(self, service: Service) -> TerminalsView:
        site = service.config.card_terminal_site
        try:
            found = await service.terminals_here()
        except TerminalsUnavailable as exc:
            return TerminalsView(site=site, available=False, reason=str(exc), terminals=[])
        choices = [TerminalChoice.of(t) for t in found]
        lines = [
            TerminalLine(terminal_id=c.id, label=c.label, window=c.window, status=c.status, usable=c.usable)
            for c in choices
        ]
        return TerminalsView(site=site, available=True, reason=None, terminals=lines)

    @get(
        "/payments/{payment_id:int}",
        opt=VIEW,
        summary="One window payment (the receipt)",
        customer_data=WINDOW_QUEUE,
    )
    async def get_payment(
        self, ctx: Ctx, guard: Guard, staff: Caller, payment_id: FromPath[int]
    ) -> PaymentView:
        payment = await _found(ctx, CashPayment, payment_id, "payment")
        async with ctx.db.session() as session:
            view = await queries.payment_view(session, payment)
        return await payment_shown(ctx, guard, staff, view)

    @get(
        "/seized/{note_id:int}",
        opt=CUSTODY,
        summary="A seized note's SSF 1604 record and custody log",
        customer_data=WINDOW_QUEUE,
    )
    async def get_seized(self, ctx: Ctx, guard: Guard, staff: Caller, note_id: FromPath[int]) -> SeizedView:
        note = await _found(ctx, CashSeizedNote, note_id, "seized note")
        async with ctx.db.session() as session:
            view = await queries.seized_view(session, note)
        return await seized_shown(ctx, guard, staff, note, view)

    @post(
        "/seized/{note_id:int}/custody",
        opt=CUSTODY,
        status_code=200,
        summary="Hand a seized note over",
        customer_data=WINDOW_QUEUE,
    )
    async def custody(
        self,
        ctx: Ctx,
        service: Service,
        guard: Guard,
        staff: Caller,
        note_id: FromPath[int],
        data: JSONBody[CustodyIn],
    ) -> SeizedView:
        note = await service.record_custody(staff, note_id, data)
        async with ctx.db.session() as session:
            view = await queries.seized_view(session, note)
        return await seized_shown(ctx, guard, staff, note, view)

    @post(
        "/seized/{note_id:int}/submission",
        opt=SUPERVISOR,
        status_code=200,
        summary="Record the USSS submission",
        customer_data=WINDOW_QUEUE,
    )
    async def submission(
        self,
        ctx: Ctx,
        service: Service,
        guard: Guard,
        staff: Caller,
        note_id: FromPath[int],
        data: JSONBody[SubmissionIn],
    ) -> SeizedView:
        note = await service.record_submission(staff, note_id, data)
        async with ctx.db.session() as session:
            view = await queries.seized_view(session, note)
        return await seized_shown(ctx, guard, staff, note, view)

    @post(
        "/deposits",
        opt=LEAD,
        status_code=201,
        summary="Group closed drawers into a deposit control",
        customer_data=NONE,
    )
    async def deposit(self, service: Service, staff: Caller, data: JSONBody[DepositIn]) -> DepositView:
        return await service.create_deposit(staff, data, check_key(data.idempotency_key, "idempotency_key"))

    @post(
        "/dropbox/collections",
        opt=LEAD,
        summary="Record a drop-box collection and its slips",
        customer_data=NONE,
    )
    async def collect(
        self, ctx: Ctx, service: Service, staff: Caller, data: JSONBody[CollectionIn]
    ) -> Response[CollectionView]:
        key = check_key(data.idempotency_key, "idempotency_key")
        collection, replayed = await service.record_collection(staff, data, key)
        async with ctx.db.session() as session:
            view = await queries.collection_view(session, collection)
        return Response(view, status_code=200 if replayed else 201)

    @get(
        "/dropbox/collections/{collection_id:int}",
        opt=VIEW,
        summary="A collection and its reconciliation",
        customer_data=NONE,
    )
    async def get_collection(self, ctx: Ctx, collection_id: FromPath[int]) -> CollectionView:
        collection = await _found(ctx, CashDropboxCollection, collection_id, "collection")
        async with ctx.db.session() as session:
            return await queries.collection_view(session, collection)

    @post(
        "/dropbox/slips/{slip_id:int}/post",
        opt=WINDOW,
        status_code=200,
        summary="Post a slip to its account",
        customer_data=NONE,
    )
    async def post_slip(
        self, service: Service, staff: Caller, slip_id: FromPath[int], data: JSONBody[SlipPostIn]
    ) -> SlipView:
        return queries.slip_view(await service.post_slip(staff, slip_id, data))
