"""The claims desk under /ui/claims: open claims with their SLA and actions, the intake form, decisions.

Each form calls the same use case as its JSON route (:mod:`plugins.claims.service`), with the request Struct
the route decodes; a refusal re-renders the desk with the message naming the field, the form filled in
again, and the status the API would answer. CSRF is the app's middleware (each form carries
``csrf_input``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException, ServiceUnavailableException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from core.contract import PluginContext
from core.contract.ccb import CcbError, RecordedOffline, format_cents
from core.contract.contact import REASON_ROLES, Guard, provide_guard
from core.contract.inputs import InputError, convert, decode_form
from core.contract.scope import QUEUE, account
from core.contract.staff import Staff
from core.contract.web import Ctx, CurrentStaff, render
from plugins.claims import queries, service
from plugins.claims.api import (
    DECIDERS,
    MAX_DOCUMENT_BODY,
    STAFF,
    WORKERS,
    check_length,
    document_response,
    uploads,
)
from plugins.claims.rules import LOCAL_TZ, ClaimsConfig, Status, claim_number
from plugins.claims.schemas import (
    DenyIn,
    DocumentForm,
    DocumentIn,
    FraudIn,
    GrantForm,
    GrantIn,
    InfoForm,
    InfoIn,
    IntakeForm,
    IntakeIn,
    ReasonForm,
    ResumeForm,
    ResumeIn,
    shown,
    view,
)

HOME = "/ui/claims/"
# Receipts and photos sent with one intake form; more go up one by one on the claim afterwards.
MAX_INTAKE_DOCUMENTS = 5
# How far back the page lists decisions, so the desk sees what it just granted or denied.
RECENT_DECISIONS = dt.timedelta(days=14)


async def notice_for(ctx: PluginContext, staff: Staff, claim_id: int, what: str) -> str | None:
    """The line confirming what the last form did, read back from the claim (and CCB for a credit)."""
    async with ctx.db.session() as session:
        claim = await queries.find(session, claim_id)
    if claim is None:
        return None
    number = claim_number(claim.id, claim.filed_at)
    if what == "filed":
        covered = "covered" if claim.covered else "not covered"
        return f"Claim {number} filed for account {claim.account_id}: {covered}. {claim.coverage_reason}"
    if claim.status == Status.GRANTED and claim.granted_cents is not None:
        line = (
            f"Claim {number} granted: {format_cents(claim.granted_cents)} credited to service agreement "
            f"{claim.sa_id} (adjustment {claim.adjustment_id}); decision letter #{claim.letter_id}."
        )
        if claim.decided_by != staff.actor:
            return line  # the balance is shown only to the person who just posted the credit
        try:
            balance = await ctx.ccb.get_balance(claim.account_id)
        except CcbError:
            return line  # the credit is posted; only the read-back failed
        return f"{line} Account {claim.account_id} balance now {format_cents(balance.balance_cents)}."
    if claim.status == Status.DENIED:
        return f"Claim {number} denied; decision letter #{claim.letter_id} gives the reason."
    if claim.status == Status.FRAUD_REPORTED:
        return f"Claim {number} reported to security as suspected fraud; no credit will be posted."
    if claim.status == Status.INFO_REQUESTED:
        return f"Claim {number}: the customer was asked for more information; the SLA clock is paused."
    return f"Claim {number} is back in review; the SLA clock runs again."


async def desk(
    request: Request[Any, Any, Any],
    ctx: PluginContext,
    staff: Staff,
    *,
    status_code: int = 200,
    error: str | None = None,
    notice: str | None = None,
    values: dict[str, Any] | None = None,
    action: dict[str, Any] | None = None,
) -> Response[Any]:
    """The claims desk: open claims with their SLA and actions, the intake form, recent decisions."""
    config: ClaimsConfig = ctx.config
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        rows = await queries.undecided(session)
        done = await queries.decided_since(session, now - RECENT_DECISIONS)
        docs = await queries.documents_of(session, [c.id for c in rows])
    today = now.astimezone(LOCAL_TZ).date()
    guard = await provide_guard(request)
    contact_id = request.query_params.get("contact_id") or None
    items = [await shown(ctx, guard, staff, view(c, now, config, docs.get(c.id)), contact_id) for c in rows]
    decided = [await shown(ctx, guard, staff, view(c, now, config), contact_id) for c in done]
    return render(
        request,
        "claims/open.html",
        status_code=status_code,
        title="Claims",
        items=items,
        decided=decided,
        error=error,
        notice=notice,
        values=values or {"incident_date": today.isoformat()},
        action=action or {},
        incidents=sorted(config.incidents),
        coverage=sorted(config.coverage.items()),
        sla_days=config.sla_business_days,
        max_documents=MAX_INTAKE_DOCUMENTS,
        document_types=config.document_types,
        can_file=staff.role.value in WORKERS["roles"],
        can_decide=staff.role.value in DECIDERS["roles"],
        can_give_reason=staff.role in REASON_ROLES,
        money=format_cents,
        # A fresh key per rendered form: submitting it twice files one claim.
        form_key=f"form:{secrets.token_urlsafe(18)}",
    )


async def attempt(
    request: Request[Any, Any, Any],
    ctx: PluginContext,
    staff: Staff,
    run: Callable[[], Awaitable[str]],
    *,
    values: dict[str, Any] | None = None,
    action: dict[str, Any] | None = None,
) -> Response[Any]:
    """Run a form's use case; go to the page it names, or re-render the desk with the error."""
    try:
        target = await run()
    except InputError as exc:
        error, status_code = str(exc), exc.status_code
    except (PermissionDeniedException, NotFoundException, ServiceUnavailableException) as exc:
        error, status_code = str(exc.detail), exc.status_code
    except RecordedOffline as exc:
        error = (
            f"CCB is offline: the change was recorded as offline form {exc.form_id} and is sent when "
            "CCB is back; submit the decision again then to close the claim."
        )
        status_code = 202
    else:
        return Redirect(target, status_code=303)
    return await desk(request, ctx, staff, status_code=status_code, error=error, values=values, action=action)


def done_page(claim_id: int) -> str:
    return f"{HOME}?done={claim_id}"


class ClaimsDesk(Controller):
    """The claims desk and its forms."""

    path = "/"
    opt = STAFF

    @get("/", opt=STAFF, customer_data=QUEUE(roles=("cro", "supervisor")))
    async def open_claims(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: CurrentStaff,
        filed: Annotated[int | None, QueryParameter()] = None,
        done: Annotated[int | None, QueryParameter()] = None,
    ) -> Response[Any]:
        notice = None
        if filed is not None:
            notice = await notice_for(ctx, staff, filed, "filed")
        elif done is not None:
            notice = await notice_for(ctx, staff, done, "done")
        return await desk(request, ctx, staff, notice=notice)

    @post(
        "/intake",
        opt=WORKERS,
        request_max_body_size=MAX_INTAKE_DOCUMENTS * MAX_DOCUMENT_BODY,
        customer_data=account(record="form"),
    )
    async def intake(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff, guard: Guard
    ) -> Response[Any]:
        config: ClaimsConfig = ctx.config
        check_length(request, MAX_INTAKE_DOCUMENTS * config.max_document_bytes + 200_000, "documents")
        posted = await request.form()
        form = decode_form(posted, IntakeForm)
        files = uploads(posted, "documents")

        async def run() -> str:
            data = convert(form.body(), IntakeIn)
            if len(files) > MAX_INTAKE_DOCUMENTS:
                raise InputError(
                    "documents", f"at most {MAX_INTAKE_DOCUMENTS} with the intake; add more later"
                )
            docs: list[DocumentIn] = []
            for upload in files:
                try:
                    docs.append(await service.read_document(config, upload))
                except InputError as exc:
                    message = str(exc).split(": ", 1)[1]
                    raise InputError("documents", f"{upload.filename}: {message}", exc.status_code) from None
            claim, _replayed = await service.file_claim(
                ctx, guard, data, reason=form.access_reason or None, documents=docs
            )
            return f"{HOME}?filed={claim.id}"

        return await attempt(request, ctx, staff, run, values=msgspec.structs.asdict(form))

    @post(
        "/{claim_id:int}/documents",
        opt=WORKERS,
        request_max_body_size=MAX_DOCUMENT_BODY,
        customer_data=account(record="claim"),
    )
    async def add_document(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: CurrentStaff,
        guard: Guard,
        claim_id: FromPath[int],
    ) -> Response[Any]:
        config: ClaimsConfig = ctx.config
        check_length(request, config.max_document_bytes + 100_000, "file")
        posted = await request.form()
        form = decode_form(posted, DocumentForm)
        files = uploads(posted, "file")

        async def run() -> str:
            await service.add_document(
                ctx,
                guard,
                claim_id,
                files[0] if files else None,
                form.label,
                contact_id=form.contact_id or None,
                reason=form.access_reason or None,
            )
            return f"{HOME}#claim-{claim_id}"

        fields = msgspec.structs.asdict(form)
        return await attempt(
            request, ctx, staff, run, action={"claim_id": claim_id, "form": "documents", **fields}
        )

    @get(
        "/{claim_id:int}/documents/{document_id:int}",
        opt=WORKERS,
        customer_data=QUEUE(roles=("cro", "supervisor")),
    )
    async def document(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        guard: Guard,
        staff: CurrentStaff,
        claim_id: FromPath[int],
        document_id: FromPath[int],
    ) -> Response[bytes]:
        try:
            claim = await service.one(ctx, claim_id)
        except InputError as exc:
            raise NotFoundException(str(exc)) from None
        contact_id = request.query_params.get("contact_id") or None
        if (await shown(ctx, guard, staff, claim, contact_id)).customer_hidden:
            raise PermissionDeniedException("a claim's documents need your contact verified for its account")
        try:
            return document_response(await service.load_document(ctx, claim_id, document_id))
        except InputError as exc:
            raise NotFoundException(str(exc)) from None

    @post("/{claim_id:int}/need-info", opt=DECIDERS, customer_data=QUEUE(roles=("cro", "supervisor")))
    async def need_info(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff, claim_id: FromPath[int]
    ) -> Response[Any]:
        form = decode_form(await request.form(), InfoForm)

        async def run() -> str:
            data = convert({"message": form.message}, InfoIn)
            await service.request_info(ctx, staff, claim_id, data.message)
            return done_page(claim_id)

        action = {"claim_id": claim_id, "form": "need-info", "message": form.message}
        return await attempt(request, ctx, staff, run, action=action)

    @post("/{claim_id:int}/info-received", opt=WORKERS, customer_data=QUEUE(roles=("cro", "supervisor")))
    async def info_received(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff, claim_id: FromPath[int]
    ) -> Response[Any]:
        form = decode_form(await request.form(), ResumeForm)

        async def run() -> str:
            data = convert({"note": form.note or None}, ResumeIn)
            await service.info_received(ctx, staff, claim_id, data.note)
            return done_page(claim_id)

        action = {"claim_id": claim_id, "form": "info-received", "note": form.note}
        return await attempt(request, ctx, staff, run, action=action)

    @post("/{claim_id:int}/grant", opt=DECIDERS, customer_data=QUEUE(roles=("cro", "supervisor")))
    async def grant(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff, claim_id: FromPath[int]
    ) -> Response[Any]:
        form = decode_form(await request.form(), GrantForm)

        async def run() -> str:
            await service.grant(ctx, staff, claim_id, convert(form.body(), GrantIn))
            return done_page(claim_id)

        action = {"claim_id": claim_id, "form": "grant", **msgspec.structs.asdict(form)}
        return await attempt(request, ctx, staff, run, action=action)

    @post("/{claim_id:int}/deny", opt=DECIDERS, customer_data=QUEUE(roles=("cro", "supervisor")))
    async def deny(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff, claim_id: FromPath[int]
    ) -> Response[Any]:
        form = decode_form(await request.form(), ReasonForm)

        async def run() -> str:
            data = convert({"reason": form.reason}, DenyIn)
            await service.deny(ctx, staff, claim_id, data.reason)
            return done_page(claim_id)

        action = {"claim_id": claim_id, "form": "deny", "reason": form.reason}
        return await attempt(request, ctx, staff, run, action=action)

    @post("/{claim_id:int}/fraud", opt=WORKERS, customer_data=QUEUE(roles=("cro", "supervisor")))
    async def fraud(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff, claim_id: FromPath[int]
    ) -> Response[Any]:
        form = decode_form(await request.form(), ReasonForm)

        async def run() -> str:
            data = convert({"reason": form.reason}, FraudIn)
            await service.report_fraud(ctx, staff, claim_id, data.reason)
            return done_page(claim_id)

        action = {"claim_id": claim_id, "form": "fraud", "reason": form.reason}
        return await attempt(request, ctx, staff, run, action=action)
