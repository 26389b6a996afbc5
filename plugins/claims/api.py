"""JSON API of the claims plugin under /api/claims: intake, documents, review actions.

Intake is taken by contact workers from a verified contact (or by a lead, supervisor or the CRO giving an
access reason); the review actions (ask for information, grant, deny) belong to the CRO and supervisors;
anyone who takes intake may report a claim that looks fraudulent to security. The work is in
:mod:`plugins.claims.service`; the pages (:mod:`plugins.claims.pages`) call the same use cases.

Status codes: 400 for a body that is not JSON; 422 naming the field (``extra[0].key``) for a body that
breaks the schema or a rule (including a grant above the amount claimed, a non-positive credit or an
uncovered loss); 403 without a verified contact or the role; 404 for an unknown account, claim or
document; 409 for an action the claim's status forbids; 413 for a document over the size limit.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, JSONBody, QueryParameter

from core.contract.contact import CONTACT_ROLES, Guard
from core.contract.idempotency import Idempotency
from core.contract.inputs import InputError
from core.contract.scope import QUEUE, account, customer_view
from core.contract.web import Ctx, CurrentStaff
from plugins.claims import service
from plugins.claims.models import ClaimDocument
from plugins.claims.rules import ACCOUNT_ID, ClaimsConfig, Status
from plugins.claims.schemas import (
    CLAIMS_QUEUE,
    ClaimView,
    DenyIn,
    DocumentView,
    FraudIn,
    GrantIn,
    InfoIn,
    IntakeIn,
    ResumeIn,
    doc_view,
    shown,
)

# Who may call what: contact workers take intake and documents; the CRO and supervisors decide.
WORKERS = {"roles": list(CONTACT_ROLES)}
DECIDERS = {"roles": ["cro", "supervisor"]}
STAFF = {"access": "staff"}
# The largest document the config may allow (ClaimsConfig.max_document_bytes) and a multipart envelope: the
# configured limit itself is checked on the declared length and on the bytes read (413 naming ``file``).
MAX_DOCUMENT_BODY = 50_000_000 + 100_000


def document_response(doc: ClaimDocument) -> Response[bytes]:
    """A document as a download: never rendered inline, so an upload cannot run as a page of the hub."""
    return Response(
        doc.data,
        media_type=doc.content_type,
        headers={"Content-Disposition": "attachment", "X-Content-Type-Options": "nosniff"},
    )


def check_length(request: Request[Any, Any, Any], limit: int, field: str) -> None:
    """Refuse a body declared larger than ``limit`` before reading it (413 naming ``field``)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise InputError(field, f"is larger than {limit} bytes", 413)


def uploads(form: Any, name: str) -> list[UploadFile]:
    # An empty file input still sends a part, with no file name.
    return [u for u in form.getall(name, []) if isinstance(u, UploadFile) and u.filename]


class ClaimsController(Controller):
    """Claims for bill credits: intake, listing, documents, and the review actions."""

    path = "/"
    opt = WORKERS

    @post(
        "/",
        opt=WORKERS,
        summary="File a claim for a bill credit from a verified contact",
        customer_data=account(body="account_id"),
    )
    async def file_claim(
        self, ctx: Ctx, guard: Guard, idempotency: Idempotency, data: JSONBody[IntakeIn]
    ) -> Response[ClaimView]:
        """Header ``X-Contact-Id`` (or ``X-Access-Reason`` for a lead, supervisor or the CRO). Idempotent on
        ``idempotency_key`` (or the ``Idempotency-Key`` header): a repeat answers 200 with the first claim
        and ``replayed: true``."""
        claim, replayed = await service.file_claim(ctx, guard, data, idempotency=idempotency)
        out = await service.one(ctx, claim.id, replayed=replayed)
        return Response(out, status_code=200 if replayed else 201)

    @get(
        "/",
        opt=WORKERS,
        summary="Claims, undecided by default; optionally one account's",
        customer_data=QUEUE(roles=("cro", "supervisor")),
    )
    async def list_claims(
        self,
        ctx: Ctx,
        guard: Guard,
        staff: CurrentStaff,
        status: Annotated[Status | None, QueryParameter()] = None,
        account_id: Annotated[str | None, QueryParameter(pattern=ACCOUNT_ID)] = None,
    ) -> list[ClaimView]:
        found = await service.list_claims(ctx, status=status, account_id=account_id)
        return [await shown(ctx, guard, staff, claim) for claim in found]

    @get(
        "/{claim_id:int}",
        opt=WORKERS,
        summary="One claim with its documents",
        customer_data=QUEUE(roles=("cro", "supervisor")),
    )
    async def get_claim(
        self, ctx: Ctx, guard: Guard, staff: CurrentStaff, claim_id: FromPath[int]
    ) -> ClaimView:
        return await shown(ctx, guard, staff, await service.one(ctx, claim_id))

    @post(
        "/{claim_id:int}/documents",
        opt=WORKERS,
        status_code=201,
        summary="Upload a receipt or photo (multipart: file, label)",
        request_max_body_size=MAX_DOCUMENT_BODY,
        customer_data=account(record="claim"),
    )
    async def upload(
        self, request: Request[Any, Any, Any], ctx: Ctx, guard: Guard, claim_id: FromPath[int]
    ) -> DocumentView:
        config: ClaimsConfig = ctx.config
        check_length(request, config.max_document_bytes + 100_000, "file")
        form = await request.form()
        found = uploads(form, "file")
        label = form.get("label")
        doc = await service.add_document(
            ctx, guard, claim_id, found[0] if found else None, label if isinstance(label, str) else ""
        )
        return doc_view(doc)

    @get(
        "/{claim_id:int}/documents/{document_id:int}",
        opt=WORKERS,
        summary="A document's bytes",
        customer_data=QUEUE(roles=("cro", "supervisor")),
    )
    async def document(
        self, ctx: Ctx, guard: Guard, staff: CurrentStaff, claim_id: FromPath[int], document_id: FromPath[int]
    ) -> Response[bytes]:
        claim = await service.one(ctx, claim_id)
        purpose = f"claim {claim.claim_number} document"
        if not await customer_view(ctx, guard, staff, claim.account_id, CLAIMS_QUEUE, purpose=purpose):
            raise PermissionDeniedException(
                "a claim's documents need X-Contact-Id naming your contact verified for its account"
            )
        return document_response(await service.load_document(ctx, claim_id, document_id))

    @post(
        "/{claim_id:int}/need-info",
        opt=DECIDERS,
        status_code=200,
        summary="Ask the customer for more",
        customer_data=QUEUE(roles=("cro", "supervisor")),
    )
    async def need_info(
        self, ctx: Ctx, guard: Guard, staff: CurrentStaff, claim_id: FromPath[int], data: JSONBody[InfoIn]
    ) -> ClaimView:
        claim = await service.request_info(ctx, staff, claim_id, data.message)
        return await shown(ctx, guard, staff, await service.one(ctx, claim.id))

    @post(
        "/{claim_id:int}/info-received",
        opt=WORKERS,
        status_code=200,
        summary="Resume the review",
        customer_data=QUEUE(roles=("cro", "supervisor")),
    )
    async def info_received(
        self,
        ctx: Ctx,
        guard: Guard,
        staff: CurrentStaff,
        claim_id: FromPath[int],
        data: JSONBody[ResumeIn | None] = None,
    ) -> ClaimView:
        claim = await service.info_received(ctx, staff, claim_id, data.note if data else None)
        return await shown(ctx, guard, staff, await service.one(ctx, claim.id))

    @post(
        "/{claim_id:int}/grant",
        opt=DECIDERS,
        status_code=200,
        summary="Grant a credit (CCB adjustment)",
        customer_data=QUEUE(roles=("cro", "supervisor")),
    )
    async def grant(
        self, ctx: Ctx, guard: Guard, staff: CurrentStaff, claim_id: FromPath[int], data: JSONBody[GrantIn]
    ) -> ClaimView:
        claim = await service.grant(ctx, staff, claim_id, data)
        return await shown(ctx, guard, staff, await service.one(ctx, claim.id))

    @post(
        "/{claim_id:int}/deny",
        opt=DECIDERS,
        status_code=200,
        summary="Deny, with a letter giving the reason",
        customer_data=QUEUE(roles=("cro", "supervisor")),
    )
    async def deny(
        self, ctx: Ctx, guard: Guard, staff: CurrentStaff, claim_id: FromPath[int], data: JSONBody[DenyIn]
    ) -> ClaimView:
        claim = await service.deny(ctx, staff, claim_id, data.reason)
        return await shown(ctx, guard, staff, await service.one(ctx, claim.id))

    @post(
        "/{claim_id:int}/fraud",
        opt=WORKERS,
        status_code=200,
        summary="Report suspected fraud to security",
        customer_data=QUEUE(roles=("cro", "supervisor")),
    )
    async def fraud(
        self, ctx: Ctx, guard: Guard, staff: CurrentStaff, claim_id: FromPath[int], data: JSONBody[FraudIn]
    ) -> ClaimView:
        claim, _report = await service.report_fraud(ctx, staff, claim_id, data.reason)
        return await shown(ctx, guard, staff, await service.one(ctx, claim.id))
