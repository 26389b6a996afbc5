"""The letters page under /ui/correspondence: generate a letter, download its .docx, mark letters mailed.

The page generates a letter from a template and an account with the same checks as the JSON route
(``LetterIn``), then offers its .docx at /ui/correspondence/letters/{id}.docx for the signed-in user. A
refused form re-renders the page with the message naming the field and the form filled in again. CSRF is
the app's middleware (each form carries ``csrf_input``).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from core.contract.ccb import NotFound
from core.contract.contact import Guard, provide_guard
from core.contract.inputs import InputError, convert, decode_form
from core.contract.scope import account, own_contact_for
from core.contract.staff import Staff
from core.contract.web import CurrentStaff, render
from plugins.correspondence.api import (
    LETTER_QUEUE,
    MAILER,
    SERVICE,
    STAFF,
    WRITER,
    Service,
    letter_response,
    shown,
    template_views,
)
from plugins.correspondence.public import LetterError, LetterRecord
from plugins.correspondence.schemas import LetterForm, LetterIn, StatusForm
from plugins.correspondence.service import CorrespondenceService, record_of

HOME = "/ui/correspondence/"


async def letters_page(
    request: Request[Any, Any, Any],
    service: CorrespondenceService,
    staff: Staff,
    *,
    status_code: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
    created: LetterRecord | None = None,
) -> Response[Any]:
    guard = await provide_guard(request)
    if created is not None:
        created = await shown(service, guard, staff, created, page=True)
    return render(
        request,
        "correspondence/letters.html",
        status_code=status_code,
        letters=[
            await shown(service, guard, staff, r, request.query_params.get("contact_id") or None, page=True)
            for r in await service.list_letters(limit=100)
        ],
        templates=template_views(),
        can_send=staff.role.value in WRITER["roles"],
        can_mail=staff.role.value in MAILER["roles"],
        error=error,
        values=values or {},
        created=created,
        # A fresh key per rendered form: submitting it twice makes one letter.
        form_key=f"form:{secrets.token_urlsafe(18)}",
    )


class LettersPage(Controller):
    """Letters: pick a template and an account, generate the letter, download its .docx; the mail room
    marks letters printed and mailed."""

    path = "/"
    # A controller-wide policy the nav entry reads; handlers narrow it with their own roles.
    opt = STAFF
    dependencies = SERVICE

    @get("/", opt=STAFF, customer_data=LETTER_QUEUE)
    async def index(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        staff: CurrentStaff,
        created: Annotated[str | None, QueryParameter()] = None,
        account_id: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[Any]:
        made = None
        if created and created.isdigit():
            try:
                made = record_of(await service.load_letter(int(created)))
            except LetterError:
                made = None
        return await letters_page(
            request, service, staff, created=made, values={"account_id": account_id or ""}
        )

    @post("/letters", opt=WRITER, customer_data=account(record="form"))
    async def create_form(
        self, request: Request[Any, Any, Any], service: Service, guard: Guard, staff: CurrentStaff
    ) -> Response[Any]:
        posted = await request.form()
        form = decode_form(posted, LetterForm)
        values = {"template": form.template, "account_id": form.account_id}
        template = next((t for t in template_views() if t.id == form.template), None)
        fields: dict[str, Any] = {}
        # Form values are strings; money and counts are typed as whole numbers on the form.
        kinds = {f.name: f.kind for f in template.fields} if template else {}
        for name, value in form.field_values(posted, template).items():
            values[f"field.{name}"] = value
            if value:
                fields[name] = int(value) if kinds[name] in ("money", "count") and value.isdigit() else value
        key = form.idempotency_key or f"form:{secrets.token_urlsafe(18)}"
        try:
            # The same body the JSON route takes, so the account and template are checked the same way.
            data = convert(
                {"account_id": form.account_id, "template": form.template, "fields": fields}, LetterIn
            )
            # The letter carries the customer's name and address: a verified contact (the form's, or the
            # caller's own open one for the account) or a lead's reason; an unknown account stays a 404.
            contact_id = form.contact_id
            if contact_id is None and not form.reason:
                contact_id = await own_contact_for(service.ctx, staff, data.account_id)
                if contact_id is None:
                    try:
                        await service.ctx.ccb.get_account_summary(data.account_id)
                    except NotFound:
                        raise LetterError("account_id", f"no account {data.account_id}", 404) from None
            await guard.account(
                data.account_id,
                purpose="send a letter",
                topic="letter",
                change=True,
                contact_id=contact_id,
                reason=form.reason,
            )
            record = await service.send_letter(
                data.account_id,
                data.template,
                data.fields,
                actor=staff.actor,
                idempotency_key=key,
                source="page",
            )
        except InputError as exc:
            return await letters_page(
                request, service, staff, status_code=exc.status_code, error=str(exc), values=values
            )
        return Redirect(f"{HOME}?created={record.id}", status_code=303)

    @get("/letters/{ref:str}", opt=STAFF, customer_data=LETTER_QUEUE)
    async def document(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        guard: Guard,
        staff: CurrentStaff,
        ref: FromPath[str],
    ) -> Response[Any]:
        """``/ui/correspondence/letters/12.docx``: the Word document, for staff signed in to the web UI."""
        contact_id = request.query_params.get("contact_id") or None
        try:
            return await letter_response(
                service, guard, staff, ref, document_only=True, contact_id=contact_id, page=True
            )
        except LetterError as exc:
            return await letters_page(request, service, staff, status_code=exc.status_code, error=str(exc))

    @post("/letters/{letter_id:int}/status", opt=MAILER, customer_data=LETTER_QUEUE)
    async def status_form(
        self, request: Request[Any, Any, Any], service: Service, staff: CurrentStaff, letter_id: FromPath[int]
    ) -> Response[Any]:
        form = decode_form(await request.form(), StatusForm)
        try:
            await service.mark_letter(letter_id, form.status, actor=staff.actor)
        except LetterError as exc:
            return await letters_page(request, service, staff, status_code=exc.status_code, error=str(exc))
        return Redirect(HOME, status_code=303)
