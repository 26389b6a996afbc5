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
from litestar.params import FromPath, JSONBody, QueryParameter

from core.contract.idempotency import Idempotency, request_key
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


def template_views() -> list[TemplateView]:
    return [template_view(t) for t in templates()]


async def letter_response(
    service: CorrespondenceService, ref: str, *, document_only: bool = False
) -> Response[Any]:
    """``12`` → the letter as JSON, ``12.docx`` → its Word document; anything else a 404 LetterError."""
    match = re.fullmatch(r"([0-9]{1,12})(\.docx)?", ref)
    if match is None or (document_only and not match.group(2)):
        raise LetterError("letter_id", f"no letter {ref!r}", 404)
    letter = await service.load_letter(int(match.group(1)))
    if not match.group(2):
        return Response(record_of(letter))
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

    @get("/templates", opt=STAFF, summary="Letter templates and the fields each needs")
    async def list_templates(self) -> list[TemplateView]:
        return template_views()

    @post("/letters", opt=WRITER, summary="Generate a letter, record it on the account and queue it")
    async def create_letter(
        self, service: Service, staff: CurrentStaff, idempotency: Idempotency, data: JSONBody[LetterIn]
    ) -> Response[LetterRecord]:
        """Idempotent on ``idempotency_key`` (or the ``Idempotency-Key`` header): a repeat answers 200 with
        the first letter and ``replayed: true``."""
        # An empty body key counts as none (as it always has for letters).
        given = request_key(data.idempotency_key or None, idempotency)
        # Without a key every request is a new letter; the generated key only fills the unique column.
        key = given or f"api:{secrets.token_urlsafe(24)}"
        record = await service.send_letter(
            data.account_id, data.template, data.fields, actor=staff.actor, idempotency_key=key, source="api"
        )
        return Response(record, status_code=200 if record.replayed else 201)

    @get("/letters", opt=STAFF, summary="Letters, newest first")
    async def list_letters(
        self,
        service: Service,
        account_id: Annotated[str | None, QueryParameter()] = None,
        status: Annotated[LetterStatus | None, QueryParameter()] = None,
    ) -> list[LetterRecord]:
        return await service.list_letters(account_id=account_id, status=status.value if status else None)

    @get("/letters/{ref:str}", opt=STAFF, summary="One letter (JSON), or its Word document with .docx")
    async def get_letter(self, service: Service, ref: FromPath[str]) -> Response[Any]:
        return await letter_response(service, ref)

    @post("/letters/{letter_id:int}/status", opt=MAILER, status_code=200, summary="Mark printed or mailed")
    async def set_status(
        self, service: Service, staff: CurrentStaff, letter_id: FromPath[int], data: JSONBody[StatusIn]
    ) -> LetterRecord:
        return await service.mark_letter(letter_id, data.status.value, actor=staff.actor)
