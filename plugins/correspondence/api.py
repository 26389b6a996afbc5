"""JSON API of the correspondence plugin under /api/correspondence: templates, letters, their documents.

Bodies are Litestar-decoded Structs (malformed JSON → 400, a bad field → 422 naming it, e.g. ``template``
or ``fields.refund_amount``); an unknown account or letter is 404. The work is in
:class:`~plugins.correspondence.service.CorrespondenceService`, which other plugins reach through
:mod:`plugins.correspondence.public`.

``GET /letters/{id}.docx`` serves the document; the router cannot match a parameter followed by a suffix in
one segment, so one route takes ``{ref}`` and answers JSON for ``12`` and the document for ``12.docx``.
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, JSONBody, QueryParameter

from core.contract.contact import ContactGuard, Guard
from core.contract.idempotency import Idempotency, request_key
from core.contract.scope import NONE, QUEUE, account, customer_view, own_contact_for, withhold
from core.contract.staff import Staff
from core.contract.web import Ctx, CurrentStaff
from plugins.correspondence.public import LetterError, LetterRecord
from plugins.correspondence.rules import LetterStatus
from plugins.correspondence.rules_docx import DOCX_MEDIA_TYPE
from plugins.correspondence.schemas import LetterIn, StatusIn, TemplateView, template_view
from plugins.correspondence.service import CorrespondenceService, record_of, service_of, templates

# Who may do what: any staff of an enabled section reads; customer-facing staff send letters; the people
# who run the mail room (leads, supervisors, admins) mark letters printed and mailed.
STAFF = {"access": "staff"}
WRITER = {"roles": ["csr", "lead", "supervisor", "cro", "admin"]}
MAILER = {"roles": ["lead", "supervisor", "admin"]}

# The controllers' use cases, the plugin's one service object.
Service = NamedDependency[CorrespondenceService]


def provide_service(ctx: Ctx) -> CorrespondenceService:
    return service_of(ctx)


SERVICE = {"service": Provide(provide_service, sync_to_thread=False)}

# The letters queue: a letter's address and fields only inside a contact verified for its account, or to
# the mail room (leads, supervisors, admins) who print and post them; every such read audited.
LETTER_QUEUE = QUEUE(roles=("lead", "supervisor", "admin"))
CUSTOMER_FIELDS = ("fields", "address")


async def shown(
    service: CorrespondenceService,
    guard: ContactGuard,
    staff: Staff,
    record: LetterRecord,
    contact_id: str | None = None,
    *,
    page: bool = False,
) -> LetterRecord:
    """The letter as ``staff`` may see it: whole, or with the customer's address and fields withheld.

    A ``page`` (which cannot send ``X-Contact-Id``) acts inside the caller's own open contact verified for
    the letter's account when it names none."""
    purpose = f"letter {record.id}"
    ctx = service.ctx
    if contact_id is None and page and staff.role.value not in LETTER_QUEUE.roles:
        contact_id = await own_contact_for(ctx, staff, record.account_id)
    if await customer_view(
        ctx, guard, staff, record.account_id, LETTER_QUEUE, purpose=purpose, contact_id=contact_id
    ):
        return record
    return withhold(record, CUSTOMER_FIELDS)


def template_views() -> list[TemplateView]:
    return [template_view(t) for t in templates()]


async def letter_response(
    service: CorrespondenceService,
    guard: ContactGuard,
    staff: Staff,
    ref: str,
    *,
    document_only: bool = False,
    contact_id: str | None = None,
    page: bool = False,
) -> Response[Any]:
    """``12`` → the letter as JSON, ``12.docx`` → its Word document; anything else a 404 LetterError."""
    match = re.fullmatch(r"([0-9]{1,12})(\.docx)?", ref)
    if match is None or (document_only and not match.group(2)):
        raise LetterError("letter_id", f"no letter {ref!r}", 404)
    letter = await service.load_letter(int(match.group(1)))
    record = await shown(service, guard, staff, record_of(letter), contact_id, page=page)
    if not match.group(2):
        return Response(record)
    if record.customer_hidden:
        raise PermissionDeniedException("a letter's document needs your contact verified for its account")
    return Response(
        letter.document,
        media_type=DOCX_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="letter-{letter.id}-{letter.template_id}.docx"',
            "ETag": f'"{letter.sha256}"',
        },
    )


class LettersController(Controller):
    """Letter templates; letters generated, listed, fetched (JSON or .docx) and moved to the post."""

    path = "/"
    dependencies = SERVICE

    @get("/templates", opt=STAFF, summary="Letter templates and the fields each needs", customer_data=NONE)
    async def list_templates(self) -> list[TemplateView]:
        return template_views()

    @post(
        "/letters",
        opt=WRITER,
        summary="Generate a letter, record it on the account and queue it",
        customer_data=account(body="account_id"),
    )
    async def create_letter(
        self,
        service: Service,
        guard: Guard,
        staff: CurrentStaff,
        idempotency: Idempotency,
        data: JSONBody[LetterIn],
    ) -> Response[LetterRecord]:
        """Idempotent on ``idempotency_key`` (or the ``Idempotency-Key`` header): a repeat answers 200 with
        the first letter and ``replayed: true``."""
        # A letter carries the customer's name and address: only inside a verified contact (or a lead's
        # recorded reason); the core checked it before this ran, and this call audits the pass.
        await guard.account(data.account_id, purpose="send a letter", topic="letter", change=True)
        # An empty body key counts as none (as it always has for letters).
        given = request_key(data.idempotency_key or None, idempotency)
        # Without a key every request is a new letter; the generated key only fills the unique column.
        key = given or f"api:{secrets.token_urlsafe(24)}"
        record = await service.send_letter(
            data.account_id, data.template, data.fields, actor=staff.actor, idempotency_key=key, source="api"
        )
        return Response(record, status_code=200 if record.replayed else 201)

    @get("/letters", opt=STAFF, summary="Letters, newest first", customer_data=LETTER_QUEUE)
    async def list_letters(
        self,
        service: Service,
        guard: Guard,
        staff: CurrentStaff,
        account_id: Annotated[str | None, QueryParameter()] = None,
        status: Annotated[LetterStatus | None, QueryParameter()] = None,
    ) -> list[LetterRecord]:
        found = await service.list_letters(account_id=account_id, status=status.value if status else None)
        return [await shown(service, guard, staff, r) for r in found]

    @get(
        "/letters/{ref:str}",
        opt=STAFF,
        summary="One letter (JSON), or its Word document with .docx",
        customer_data=LETTER_QUEUE,
    )
    async def get_letter(
        self, service: Service, guard: Guard, staff: CurrentStaff, ref: FromPath[str]
    ) -> Response[Any]:
        return await letter_response(service, guard, staff, ref)

    @post(
        "/letters/{letter_id:int}/status",
        opt=MAILER,
        status_code=200,
        summary="Mark printed or mailed",
        customer_data=LETTER_QUEUE,
    )
    async def set_status(
        self,
        service: Service,
        guard: Guard,
        staff: CurrentStaff,
        letter_id: FromPath[int],
        data: JSONBody[StatusIn],
    ) -> LetterRecord:
        record = await service.mark_letter(letter_id, data.status.value, actor=staff.actor)
        return await shown(service, guard, staff, record)
