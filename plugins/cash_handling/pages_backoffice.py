"""The cash back office's pages under /ui/cash_handling: seized notes and their custody, the drop box.

The same form rules as the window's pages (``pages``): a good post redirects (303), a refusal re-renders
the page with each problem named by its form field, a form that writes carries its ``form_token``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from core.contract.clock import LOCAL_TZ, local
from core.contract.contact import provide_guard
from core.contract.inputs import InputError, convert, decode_form
from core.contract.scope import NONE
from core.contract.staff import Role
from core.contract.web import render
from plugins.cash_handling import queries
from plugins.cash_handling.api import (
    CUSTODY,
    LEAD,
    SERVICE,
    SUPERVISOR,
    VIEW,
    WINDOW,
    WINDOW_QUEUE,
    Caller,
    Ctx,
    Service,
    seized_shown,
)
from plugins.cash_handling.models import CashDropboxCollection, CashSeizedNote
from plugins.cash_handling.pages import (
    REFUSALS,
    Problems,
    decode_part,
    echo,
    form_key,
    invalid,
    new_token,
    problems_of,
    rename,
)
from plugins.cash_handling.rules import (
    SEIZED_SCRIPT,
    CashError,
    SlipType,
    business_days_between,
    denomination_title,
    money,
)
from plugins.cash_handling.schemas import (
    CollectionForm,
    CollectionIn,
    CustodyForm,
    CustodyIn,
    SlipPostForm,
    SlipPostIn,
    SlipRowForm,
    SubmissionForm,
    SubmissionIn,
)

SLIP_ROWS = 8
MAX_SLIP_ROWS = 100
_SLIP_FIELD = {
    "slip_no": "no",
    "account_id": "account",
    "amount_cents": "amount",
    "slip_type": "type",
    "check_number": "check",
    "assigned_to": "assigned",
}


def local_time(text: str) -> dt.datetime | None:
    """A ``datetime-local`` field in the utility's zone → aware datetime; empty → None."""
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)
    except ValueError:
        raise InputError("at", "must be a date and time, like 2026-05-04T10:30") from None


# -- seized notes: the record, its custody, the Secret Service submission --------------------------------
class SeizedPages(Controller):
    """Seized notes: the list with overdue reports, each SSF 1604 record, its custody and submission."""

    dependencies = SERVICE

    @get("/seized", opt=VIEW, customer_data=WINDOW_QUEUE)
    async def seized_list(self, request: Request[Any, Any, Any], ctx: Ctx) -> Response[Any]:
        config = ctx.config
        today = local(ctx.clock.now()).date()
        async with ctx.db.session() as session:
            rows = await queries.recent_seized(session)
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

    async def page(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: Caller,
        note_id: int,
        *,
        status_code: int = 200,
        errors: Problems | None = None,
        form: str = "",
        values: Mapping[str, Any] | None = None,
        template: str = "seized.html",
    ) -> Response[Any]:
        async with ctx.db.session() as session:
            note = await session.get(CashSeizedNote, note_id)
            if note is None:
                raise NotFoundException(f"no seized note {note_id}")
            view = await queries.seized_view(session, note)
        view = await seized_shown(ctx, await provide_guard(request), staff, note, view, page=True)
        return render(
            request,
            f"cash_handling/{template}",
            status_code=status_code,
            note=view,
            script=SEIZED_SCRIPT,
            title_of=denomination_title,
            money=money,
            office=ctx.config.office_name,
            address=ctx.config.office_address,
            phone=ctx.config.office_phone,
            errors=errors or [],
            bad=invalid(errors),
            form=form,
            values=values or {},
            can_hand_over=view.status != "surrendered"
            and (view.holder == staff.name or staff.role is Role.SUPERVISOR),
            can_submit=staff.role.value in SUPERVISOR["roles"],
        )

    @get("/seized/{note_id:int}", opt=CUSTODY, customer_data=WINDOW_QUEUE)
    async def seized(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: Caller, note_id: FromPath[int]
    ) -> Response[Any]:
        return await self.page(request, ctx, staff, note_id)

    @get("/seized/{note_id:int}/copy", opt=CUSTODY, customer_data=WINDOW_QUEUE)
    async def seized_copy(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: Caller, note_id: FromPath[int]
    ) -> Response[Any]:
        """The copy of the record offered to the customer (docs/rules.md §2.3): the note, when and where it
        was
        kept, and what happens next. The passer's description is for the police and stays off this copy."""
        return await self.page(request, ctx, staff, note_id, template="seized_copy.html")

    @post("/seized/{note_id:int}/custody", opt=CUSTODY, customer_data=WINDOW_QUEUE)
    async def custody(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        service: Service,
        staff: Caller,
        note_id: FromPath[int],
    ) -> Response[Any]:
        typed = decode_form(await request.form(), CustodyForm)
        values = msgspec.structs.asdict(typed)
        try:
            data = convert(
                {**values, "action": typed.action or "handed_over", "at": local_time(typed.at)}, CustodyIn
            )
            await service.record_custody(staff, note_id, data)
        except REFUSALS as exc:
            status, problems = problems_of(exc)
            return await self.page(
                request,
                ctx,
                staff,
                note_id,
                status_code=status,
                errors=problems,
                form="custody",
                values=values,
            )
        return Redirect(f"/ui/cash_handling/seized/{note_id}", status_code=303)

    @post("/seized/{note_id:int}/submission", opt=SUPERVISOR, customer_data=WINDOW_QUEUE)
    async def submission(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        service: Service,
        staff: Caller,
        note_id: FromPath[int],
    ) -> Response[Any]:
        values = msgspec.structs.asdict(decode_form(await request.form(), SubmissionForm))
        try:
            await service.record_submission(staff, note_id, convert(values, SubmissionIn))
        except REFUSALS as exc:
            status, problems = problems_of(exc)
            return await self.page(
                request,
                ctx,
                staff,
                note_id,
                status_code=status,
                errors=problems,
                form="submission",
                values=values,
            )
        return Redirect(f"/ui/cash_handling/seized/{note_id}", status_code=303)


# -- the drop box: collections, slips per CSR, reconciliation --------------------------------------------
class DropboxPages(Controller):
    """The drop box: the lead's collection with its slips, each CSR's slips to post, reconciliation."""

    dependencies = SERVICE

    async def page(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: Caller,
        *,
        status_code: int = 200,
        errors: Problems | None = None,
        form: str = "",
        values: Mapping[str, Any] | None = None,
        rows: int = SLIP_ROWS,
        slip_id: int | None = None,
    ) -> Response[Any]:
        async with ctx.db.session() as session:
            mine = await queries.unposted_slips_of(session, staff.name)
            collections = [
                await queries.collection_view(session, c) for c in await queries.recent_collections(session)
            ]
            # The CSRs who ran a drawer are the ones a lead hands slips to: offered as suggestions.
            names = await queries.drawer_csrs(session)
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
            form_token=new_token(),
        )

    @get("/dropbox", opt=VIEW, customer_data=NONE)
    async def dropbox(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: Caller,
        rows: FromQuery[int] = SLIP_ROWS,
    ) -> Response[Any]:
        return await self.page(request, ctx, staff, rows=max(1, min(rows, MAX_SLIP_ROWS)))

    @post("/dropbox/collections", opt=LEAD, customer_data=NONE)
    async def collect(
        self, request: Request[Any, Any, Any], ctx: Ctx, service: Service, staff: Caller
    ) -> Response[Any]:
        """The lead's record of a collection: envelopes opened, types verified, counter total, slips."""
        form = await request.form()
        rows = SLIP_ROWS
        where: list[int] = []
        try:
            typed = decode_form(form, CollectionForm)
            rows = max(1, min(typed.rows, MAX_SLIP_ROWS)) if typed.rows is not None else SLIP_ROWS
            if not typed.types_verified:
                raise CashError(
                    [("types_verified", "open every envelope and check each payment's type against its slip")]
                )
            slips: list[dict[str, Any]] = []
            for i in range(rows):
                row = decode_part(form, SlipRowForm, f"slip_{i}_{{}}")
                if row.touched:
                    slips.append(
                        {
                            "slip_no": row.no,
                            "account_id": row.account,
                            "amount_cents": row.amount,
                            "slip_type": row.type or SlipType.CASH.value,
                            "check_number": row.check or None,
                            "assigned_to": row.assigned,
                        }
                    )
                    where.append(i)
            key = form_key(typed.form_token, "dropbox")
            data = convert(
                {
                    "kind": typed.kind,
                    "envelopes": typed.envelopes,
                    "counter_cents": typed.counter,
                    "slips": slips,
                    "types_verified": True,
                    "idempotency_key": key,
                },
                CollectionIn,
            )
            collection, _replayed = await service.record_collection(staff, data, key)
        except REFUSALS as exc:
            status, problems = problems_of(exc)
            return await self.page(
                request,
                ctx,
                staff,
                status_code=status,
                errors=rename(problems, lambda k: slip_field(k, where)),
                form="collection",
                values=echo(form),
                rows=rows,
            )
        return Redirect(f"/ui/cash_handling/dropbox/{collection.id}", status_code=303)

    async def collection_page(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: Caller,
        collection_id: int,
        *,
        status_code: int = 200,
        errors: Problems | None = None,
        slip_id: int | None = None,
    ) -> Response[Any]:
        async with ctx.db.session() as session:
            c = await session.get(CashDropboxCollection, collection_id)
            if c is None:
                raise NotFoundException(f"no collection {collection_id}")
            view = await queries.collection_view(session, c)
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

    @get("/dropbox/{collection_id:int}", opt=VIEW, customer_data=NONE)
    async def collection(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: Caller, collection_id: FromPath[int]
    ) -> Response[Any]:
        return await self.collection_page(request, ctx, staff, collection_id)

    @post("/dropbox/slips/{slip_id:int}/post", opt=WINDOW, customer_data=NONE)
    async def post_slip(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        service: Service,
        staff: Caller,
        slip_id: FromPath[int],
    ) -> Response[Any]:
        """The CSR reads the account off the slip again; it must match, exist and have active service."""
        typed = decode_form(await request.form(), SlipPostForm)
        try:
            slip = await service.post_slip(
                staff, slip_id, convert({"account_id": typed.account_id}, SlipPostIn)
            )
        except REFUSALS as exc:
            if isinstance(exc, CashError) and exc.status_code == 404:
                raise NotFoundException(str(exc)) from None  # a slip that does not exist is a missing page
            status, problems = problems_of(exc)
            if typed.back.isdigit():
                return await self.collection_page(
                    request, ctx, staff, int(typed.back), status_code=status, errors=problems, slip_id=slip_id
                )
            return await self.page(
                request, ctx, staff, status_code=status, errors=problems, form="slip", slip_id=slip_id
            )
        if typed.back.isdigit():
            return Redirect(f"/ui/cash_handling/dropbox/{slip.collection_id}", status_code=303)
        return Redirect("/ui/cash_handling/dropbox", status_code=303)


def slip_field(api_field: str, where: Sequence[int]) -> str:
    """The form field behind a JSON path of a collection (``slips[1].account_id`` → ``slip_4_account``)."""
    m = re.fullmatch(r"slips\[(\d+)\]\.?(\w*)", api_field)
    if m and int(m.group(1)) < len(where):
        row = where[int(m.group(1))]
        return f"slip_{row}_{_SLIP_FIELD.get(m.group(2), m.group(2))}"
    return {"counter_cents": "counter", "slips": "slip_0_account"}.get(api_field, api_field)
