"""The cash window's pages under /ui/cash_handling: the window, drawers, seized notes and the drop box.

Every form works without JavaScript: a good post redirects (303) to the page showing the result; bad input
re-renders the same page with the status of the refusal (422 mostly) and each problem named by its form
field (``data-field``), so nothing is lost and nothing is half-written. A form that writes carries a
``form_token`` drawn when the page renders: it is the idempotency key of that one rendered form, so a
resubmitted form writes once, like the JSON routes' keys. The app's CSRF middleware checks every post.

Section signs (§) cite docs/rules.md.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from core.contract.clock import local
from core.contract.idempotency import check_key
from core.contract.inputs import InputError, convert, decode_form
from core.contract.scope import NONE
from core.contract.staff import Role
from core.contract.web import render
from plugins.cash_handling import queries
from plugins.cash_handling.api import (
    LEAD,
    SERVICE,
    VIEW,
    WINDOW,
    WINDOW_QUEUE,
    Caller,
    Ctx,
    Guard,
    Service,
    payment_shown,
)
from plugins.cash_handling.models import CashDrawer, CashPayment
from plugins.cash_handling.rules import (
    AUTHORIZATION_CODE,
    CARD_LAST4,
    COINS,
    FLOAT_DENOMINATIONS,
    NEVER_CARD_DATA,
    NOTES,
    SEIZED_SCRIPT,
    SEIZED_STEPS,
    UV_COLOURS,
    CardBrand,
    CardType,
    CashError,
    NoteVerdict,
    PenResult,
    card_data_in,
    card_words,
    check_note,
    denomination_title,
    expected_uv,
    money,
)
from plugins.cash_handling.schemas import (
    AmountForm,
    CardForm,
    CardPaymentIn,
    CloseDrawerIn,
    CountedForm,
    DepositForm,
    DepositIn,
    FloatForm,
    NoteBlockForm,
    NoteRowForm,
    OpenDrawerIn,
    PasserIn,
    PayForm,
    PaymentIn,
    ReporterIn,
    SeizedNoteIn,
    TerminalChoice,
)
from plugins.cash_handling.service import TerminalsUnavailable

Problems = list[tuple[str, str]]
S = TypeVar("S", bound=msgspec.Struct)

SUSPECT_ROWS = 3  # suspect notes set aside in one visit; more is a matter for the supervisor, not a form
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
# The passer's appearance: at least one of these is written down (docs/rules.md §2.3 step 4).
DESCRIPTION_FIELDS = ("sex", "race", "age", "height", "weight", "hair", "eyes", "other_description")
# The note block of SSF 1604 (docs/rules.md §2.4); the serial number is required to report the note.
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


# -- forms -----------------------------------------------------------------------------------------------
def new_token() -> str:
    """A fresh ``form_token`` for a rendered form (its shape passes the kit's key check)."""
    return secrets.token_hex(16)


def form_key(token: str, kind: str) -> str:
    """The idempotency key of one rendered form; a post without its token is refused (422)."""
    try:
        return f"form-{kind}-{check_key(token, 'form_token')}"
    except InputError:
        raise InputError("form_token", "this form has expired: reload the page and enter it again") from None


def decode_part(form: Any, type_: type[S], name: str) -> S:
    """The kit's form decoding over one part of a form whose inputs are named ``name.format(field)``.

    The window's note rows (``uv_2000``), suspect rows (``suspect_0_uv``) and slip rows (``slip_3_amount``)
    repeat one Struct; an error names the very input at fault.
    """
    fields = [f.encode_name for f in msgspec.structs.fields(type_)]
    part = {field: form.getall(name.format(field), []) for field in fields}
    try:
        return decode_form(part, type_)
    except InputError as exc:
        message = str(exc).removeprefix(f"{exc.field}: ")
        raise InputError(name.format(exc.field), message, exc.status_code) from None


def echo(form: Any, keep: Callable[[str], bool] = lambda _name: True) -> dict[str, str]:
    """What was typed, to fill the re-rendered form in again (never the CSRF token)."""
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "_csrf_token" and keep(k)}


def problems_of(exc: Exception) -> tuple[int, Problems]:
    """A refusal as (status, [(field, message)]); a form never turns one into a 500."""
    if isinstance(exc, CashError):
        status, problems = exc.status_code, list(exc.problems)
    elif isinstance(exc, InputError):
        status, problems = exc.status_code, [(exc.field, str(exc).removeprefix(f"{exc.field}: "))]
    elif isinstance(exc, ClientException):
        extra = exc.extra
        if isinstance(extra, list) and extra and all(isinstance(e, dict) and "key" in e for e in extra):
            return exc.status_code, [(str(e["key"]), str(e["message"])) for e in extra]
        status, problems = exc.status_code, [("", str(exc.detail))]
    else:
        raise exc
    if status == 404 and not any(k for k, _ in problems):
        # On a form, an unknown account or contact is a bad field, not a missing page.
        detail = "; ".join(m for _, m in problems)
        return 422, [("contact_id" if "contact" in detail else "account_id", detail)]
    return status, problems


def rename(problems: Problems, to_form: Callable[[str], str]) -> Problems:
    return [(to_form(k) if k else k, m) for k, m in problems]


REFUSALS = (InputError, CashError, ClientException)


@dataclass
class WindowNotes:
    """The notes of a window form as the JSON body takes them, and where each came from on the form."""

    counts: dict[str, int]
    notes: list[dict[str, Any]]
    origins: list[str]  # per note: "r2000-1" (the second note of the $20 row) or "s0" (suspect row 0)


def window_notes(form: Any, found: WindowNotes) -> None:
    """Notes counted by denomination take that row's checks, each; a suspect note set aside has its own."""
    for d in NOTES:
        row = decode_part(form, NoteRowForm, f"{{}}_{d}")
        if not row.count:
            continue
        found.counts[str(d)] = row.count
        for k in range(min(row.count, 500)):
            found.notes.append(_note(d, row))
            found.origins.append(f"r{d}-{k}")
    for i in range(SUSPECT_ROWS):
        row = decode_part(form, NoteRowForm, f"suspect_{i}_{{}}")
        if not row.denomination:
            continue
        found.counts[str(row.denomination)] = found.counts.get(str(row.denomination), 0) + 1
        found.notes.append(_note(row.denomination, row))
        found.origins.append(f"s{i}")
    for note, origin in zip(found.notes, found.origins, strict=True):
        block = ssf_block(form, origin)
        serial = block.serial_number.upper().replace(" ", "")
        if serial:
            note["serial_number"] = serial


def _note(denomination: int, row: NoteRowForm) -> dict[str, Any]:
    return {
        "denomination": denomination,
        "uv_colour": row.uv,
        "pen": row.pen or PenResult.NOT_DONE.value,
        "feel": row.feel,
        "watermark": row.watermark,
        "colour_shift": row.shift if denomination >= 1000 else None,
    }


def ssf_block(form: Any, origin: str) -> NoteBlockForm:
    return decode_part(form, NoteBlockForm, f"ssf_{origin}_{{}}")


def pay_field(api_field: str, origins: Sequence[str]) -> str:
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


def seize_context(data: PaymentIn, verdicts: Sequence[NoteVerdict], origins: Sequence[str]) -> dict[str, Any]:
    """What the counterfeit step shows: each suspect note and why, and the cash that remains genuine."""
    received = sum(n.denomination for n in data.notes) + data.coins_cents
    seized = sum(n.denomination for n, v in zip(data.notes, verdicts, strict=True) if v.suspect)
    genuine = received - seized
    return {
        "suspects": [
            {"origin": origins[i], "title": denomination_title(n.denomination), "reasons": list(v.reasons)}
            for i, (n, v) in enumerate(zip(data.notes, verdicts, strict=True))
            if v.suspect
        ],
        "received_cents": received,
        "seized_cents": seized,
        "genuine_cents": genuine,
        "amount_cents": data.amount_cents,
        "change_due_cents": genuine - data.amount_cents if genuine >= data.amount_cents else None,
    }


def seizure(form: Any, data: PaymentIn, suspects: Sequence[int], origins: Sequence[str]) -> PaymentIn:
    """The counterfeit step's record (SSF 1604: note blocks, passer, reporter) added to the payment.

    Every problem is named at once, each by its own form field (prefix + name).
    """
    problems: Problems = [
        (f"ssf_{origins[i]}_serial_number", "write down the seized note's serial number (SSF 1604)")
        for i in suspects
        if not data.notes[i].serial_number
    ]
    described = any(str(form.get(f"passer_{name}", "")).strip() for name in DESCRIPTION_FIELDS)
    if not described:
        problems.append(
            ("passer_other_description", "describe the passer: at least one detail (docs/rules.md §2.3)")
        )
    if problems:
        raise CashError(problems)
    passer = reporter = None
    blocks: list[SeizedNoteIn] = []
    try:
        passer = decode_part(form, PasserIn, "passer_{}")
    except InputError as exc:
        problems.extend(problems_of(exc)[1])
    try:
        reporter = decode_part(form, ReporterIn, "reporter_{}")
    except InputError as exc:
        problems.extend(problems_of(exc)[1])
    for i in suspects:
        fields = msgspec.structs.asdict(ssf_block(form, origins[i]))
        del fields["serial_number"]
        try:
            blocks.append(convert({"note_index": i, **fields}, SeizedNoteIn))
        except InputError as exc:
            problems.append((f"ssf_{origins[i]}_{exc.field}", str(exc).removeprefix(f"{exc.field}: ")))
    if problems:
        raise CashError(problems)
    return msgspec.structs.replace(data, passer=passer, reporter=reporter, seized_notes=blocks)


def counts_of(typed: msgspec.Struct, prefix: str) -> dict[str, int]:
    """The boxes of a counts form that were filled in, by denomination."""
    found = {d: getattr(typed, f"{prefix}{d}") for d in FLOAT_DENOMINATIONS}
    return {str(d): n for d, n in found.items() if n is not None}


def invalid(problems: Problems | None) -> set[str]:
    return {k for k, _ in problems or []}


# -- the window: drawer, cash payments and the counterfeit step, card payments ---------------------------
class WindowPages(Controller):
    """The CSR's window: open the drawer, take cash (with the counterfeit step) or a card, the receipt."""

    dependencies = SERVICE

    async def page(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        staff: Caller,
        *,
        status_code: int = 200,
        errors: Problems | None = None,
        form: str = "",
        values: Mapping[str, Any] | None = None,
        seize: dict[str, Any] | None = None,
    ) -> Response[Any]:
        ctx, config = service.ctx, service.config
        async with ctx.db.session() as session:
            drawer = await queries.open_drawer_of(session, staff.name)
            totals = (await queries.drawer_totals_of(session, [drawer]))[drawer.id] if drawer else None
        terminals: list[TerminalChoice] = []
        card_unavailable = None
        if drawer is not None:
            try:
                terminals = [TerminalChoice.of(t) for t in await service.terminals_here()]
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
            form_token=new_token(),
            card_token=new_token(),
            can_take=staff.role.value in WINDOW["roles"],
        )

    @get("/", opt=VIEW, customer_data=NONE)
    async def window(self, request: Request[Any, Any, Any], service: Service, staff: Caller) -> Response[Any]:
        return await self.page(request, service, staff)

    @post("/drawer", opt=WINDOW, customer_data=NONE)
    async def open_drawer(
        self, request: Request[Any, Any, Any], service: Service, staff: Caller
    ) -> Response[Any]:
        form = await request.form()
        try:
            typed = decode_form(form, FloatForm)
            key = form_key(typed.form_token, "drawer")  # type: ignore[attr-defined]
            data = OpenDrawerIn(float_counts=counts_of(typed, "float_"), idempotency_key=key)
            await service.open_drawer(staff, data, key)
        except REFUSALS as exc:
            status, problems = problems_of(exc)
            return await self.page(
                request,
                service,
                staff,
                status_code=status,
                errors=rename(problems, lambda k: k.replace("float_counts.", "float_")),
                form="drawer",
                values=echo(form, lambda k: k.startswith("float_")),
            )
        return Redirect("/ui/cash_handling/", status_code=303)

    @post("/pay", opt=WINDOW, customer_data=NONE)
    async def pay(
        self, request: Request[Any, Any, Any], service: Service, staff: Caller, guard: Guard
    ) -> Response[Any]:
        """Step 1 checks the notes; a suspect one leads to step 2 (the counterfeit step) on the same form.

        Step 2 shows the script for the customer and the procedure (docs/rules.md §2.3), captures the SSF 1604
        note block, the passer and the reporter details (§2.4), then seizes the note (never credited) and
        posts what remains genuine. A refusal at either step re-renders the form with the field named.
        """
        form = await request.form()
        values = echo(form)
        found = WindowNotes({}, [], [])
        seize: dict[str, Any] | None = None
        try:
            head = decode_form(form, PayForm)
            key = form_key(head.form_token, "pay")
            window_notes(form, found)
            data = convert(
                {
                    "account_id": head.account_id,
                    "contact_id": head.contact_id or None,
                    "amount_cents": head.amount,
                    "change_cents": head.change,
                    "coins_cents": head.coins,
                    "note_counts": found.counts,
                    "notes": found.notes,
                    "idempotency_key": key,
                },
                PaymentIn,
            )
            verdicts = [check_note(i, n) for i, n in enumerate(data.notes)]
            suspects = [i for i, v in enumerate(verdicts) if v.suspect]
            if suspects:
                seize = seize_context(data, verdicts, found.origins)
                if head.step != "seize":
                    # Nothing is written yet: the CSR tells the customer and fills in the record first.
                    return await self.page(request, service, staff, form="pay", values=values, seize=seize)
                data = seizure(form, data, suspects, found.origins)
            payment, _replayed = await service.take_payment(staff, guard, data, key)
        except REFUSALS as exc:
            status, problems = problems_of(exc)
            return await self.page(
                request,
                service,
                staff,
                status_code=status,
                errors=rename(problems, lambda k: pay_field(k, found.origins)),
                form="pay",
                values=values,
                seize=seize,
            )
        return Redirect(f"/ui/cash_handling/receipts/{payment.id}", status_code=303)

    @post("/card", opt=WINDOW, customer_data=NONE)
    async def card(
        self, request: Request[Any, Any, Any], service: Service, staff: Caller, guard: Guard
    ) -> Response[Any]:
        """A card tender: refused on a terminal the PCI inspection does not clear (shown on the page)."""
        form = await request.form()
        typed = decode_form(form, CardForm)
        names = ("account_id", "contact_id", "amount", "card_type", "card_brand", "terminal_id")
        values = {name: getattr(typed, name) for name in (*names, "card_last4", "authorization_code")}
        # Whatever was typed, a card number is never echoed back into the page or kept (docs/rules.md §1.5).
        leaked = [name for name, value in values.items() if card_data_in(value)]
        shown = {name: values[name] for name in names if name not in leaked}
        for name, pattern in (("card_last4", CARD_LAST4), ("authorization_code", AUTHORIZATION_CODE)):
            if re.fullmatch(pattern, values[name]):
                shown[name] = values[name]
        try:
            if leaked:
                raise CashError([(name, NEVER_CARD_DATA) for name in leaked])
            key = form_key(typed.form_token, "card")
            amount = decode_form(form, AmountForm).amount
            body = {
                name: values[name] for name in (*names[:2], *names[3:], "card_last4", "authorization_code")
            }
            data = decode_form({**body, "amount_cents": str(amount), "idempotency_key": key}, CardPaymentIn)
            payment, _replayed = await service.take_card_payment(staff, guard, data, key)
        except REFUSALS as exc:
            status, problems = problems_of(exc)
            return await self.page(
                request,
                service,
                staff,
                status_code=status,
                errors=rename(problems, lambda k: _MONEY_FIELD.get(k, k)),
                form="card",
                values=shown,
            )
        return Redirect(f"/ui/cash_handling/receipts/{payment.id}", status_code=303)

    @get("/receipts/{payment_id:int}", opt=VIEW, customer_data=WINDOW_QUEUE)
    async def receipt(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        guard: Guard,
        staff: Caller,
        payment_id: FromPath[int],
    ) -> Response[Any]:
        async with ctx.db.session() as session:
            payment = await session.get(CashPayment, payment_id)
            if payment is None:
                raise NotFoundException(f"no payment {payment_id}")
            view = await queries.payment_view(session, payment)
        view = await payment_shown(ctx, guard, staff, view, page=True)
        return render(
            request,
            "cash_handling/receipt.html",
            pay=view,
            office=ctx.config.office_name,
            money=money,
            title_of=denomination_title,
            taken_at=local(payment.taken_at),
            steps=SEIZED_STEPS,
        )


# -- drawers: close with the count, deposit controls -----------------------------------------------------
class DrawerPages(Controller):
    """The drawers: each one's count and variance, the CSR's blind close, the lead's deposit."""

    dependencies = SERVICE

    async def list_page(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: Caller,
        *,
        status_code: int = 200,
        errors: Problems | None = None,
        deposit: str | None = None,
    ) -> Response[Any]:
        async with ctx.db.session() as session:
            rows = await queries.recent_drawers(session)
            totals = await queries.drawer_totals_of(session, rows)
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
            form_token=new_token(),
        )

    @get("/drawers", opt=VIEW, customer_data=NONE)
    async def drawers(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: Caller,
        deposit: FromQuery[str | None] = None,
    ) -> Response[Any]:
        return await self.list_page(
            request, ctx, staff, deposit=deposit if deposit and deposit.isdigit() else None
        )

    @post("/deposits", opt=LEAD, customer_data=NONE)
    async def deposit(
        self, request: Request[Any, Any, Any], ctx: Ctx, service: Service, staff: Caller
    ) -> Response[Any]:
        try:
            typed = decode_form(await request.form(), DepositForm)
            if not typed.drawer_id:
                raise CashError([("drawer_id", "tick at least one closed drawer for the deposit")])
            key = form_key(typed.form_token, "deposit")
            ids = [int(v) if v.isdigit() else v for v in typed.drawer_id]
            made = await service.create_deposit(
                staff, convert({"drawer_ids": ids, "idempotency_key": key}, DepositIn), key
            )
        except REFUSALS as exc:
            status, problems = problems_of(exc)
            renamed = rename(problems, lambda k: "drawer_id" if k.startswith("drawer_ids") else k)
            return await self.list_page(request, ctx, staff, status_code=status, errors=renamed)
        return Redirect(f"/ui/cash_handling/drawers?deposit={made.deposit_control_id}", status_code=303)

    async def drawer_page(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: Caller,
        drawer_id: int,
        *,
        status_code: int = 200,
        errors: Problems | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> Response[Any]:
        async with ctx.db.session() as session:
            d = await session.get(CashDrawer, drawer_id)
            if d is None:
                raise NotFoundException(f"no drawer {drawer_id}")
            totals = (await queries.drawer_totals_of(session, [d]))[d.id]
            payments = await queries.drawer_payments(session, d.id)
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

    @get("/drawers/{drawer_id:int}", opt=VIEW, customer_data=NONE)
    async def drawer(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: Caller, drawer_id: FromPath[int]
    ) -> Response[Any]:
        return await self.drawer_page(request, ctx, staff, drawer_id)

    @post("/drawers/{drawer_id:int}/close", opt=WINDOW, customer_data=NONE)
    async def close(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        service: Service,
        staff: Caller,
        drawer_id: FromPath[int],
    ) -> Response[Any]:
        """The CSR counts blind (the expected amount shows only after the close), then sees the variance."""
        form = await request.form()
        try:
            counts = counts_of(decode_form(form, CountedForm), "counted_")
            if not any(counts.values()):
                # An empty count would close the drawer short by everything in it: surely a slip.
                raise CashError([("counted_counts", "count the drawer: no denomination was entered")])
            await service.close_drawer(staff, drawer_id, CloseDrawerIn(counted_counts=counts))
        except REFUSALS as exc:
            status, problems = problems_of(exc)
            return await self.drawer_page(
                request,
                ctx,
                staff,
                drawer_id,
                status_code=status,
                errors=rename(problems, lambda k: k.replace("counted_counts.", "counted_")),
                values=echo(form, lambda k: k.startswith("counted_")),
            )
        return Redirect(f"/ui/cash_handling/drawers/{drawer_id}", status_code=303)
