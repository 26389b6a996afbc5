"""HTTP side of the claims plugin: JSON routes under /api/claims and the claims desk page under /ui/claims.

Intake is taken by contact workers from a verified contact (or by a lead, supervisor or the CRO giving an
access reason); the review actions (ask for information, grant, deny) belong to the CRO and supervisors;
anyone who takes intake may report a claim that looks fraudulent to security.

The page and the JSON routes call the same operations (``file_claim``, ``add_document``, ``request_info``,
``info_received``, ``grant``, ``deny``, ``report_fraud``); a page handler only turns form fields into the
request Struct the JSON route decodes, and an error into the page re-rendered with it.

Nothing half-written: a refused request writes nothing. A decision first makes its calls to other systems
(the CCB credit, the decision letter), each with an idempotency key derived from the claim, and only then
commits the claim's new status with its event and audit record in one transaction; if that commit fails,
retrying the decision replays those calls instead of crediting or writing twice. Documents sent with an
intake are checked before the claim is written and stored in the same transaction as the claim.

Status codes: 400 for a body that is not JSON; 422 naming the field (``extra[0].key``) for a body that
breaks the schema or a rule (including a grant above the amount claimed, a non-positive credit or an
uncovered loss); 403 without a verified contact or the role; 404 for an unknown account, claim or
document; 409 for an action the claim's status forbids; 413 for a document over the size limit. The page
answers with the same codes, re-rendered with the message naming the field.

Page forms opt out of the framework's CSRF middleware and check the token themselves after the access
guard, so an anonymous post is sent to the login page rather than refused as a bad token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import (
    NotFoundException,
    PermissionDeniedException,
    ServiceUnavailableException,
)
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from litestar.utils.scope.state import ScopeState
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb import codes
from core.ccb import port as p
from core.ccb.errors import CcbError, IllegalTransition, Invalid, NotFound
from core.ccb.offline import RecordedOffline
from core.contact import ContactAccess
from core.contact.api import CONTACT_HEADER, REASON_HEADER
from core.contact.pages import dollars
from core.contact.service import CONTACT_ROLES, REASON_ROLES, AccessDenied, service_for
from core.contract import PageSpec, PluginContext
from core.contract.inputs import InputError, convert, decode_json
from core.mail import MailError
from core.redact import redact
from core.security import current_staff, hub_of
from core.staff import Staff
from core.web.pages import render
from plugins.claims import events
from plugins.claims.models import (
    Claim,
    ClaimDocument,
    ClaimIncident,
    by_key,
    decided_since,
    documents_of,
    undecided,
)
from plugins.claims.service import (
    ACCOUNT_ID,
    DAY_SECONDS,
    LOCAL_TZ,
    UNDECIDED,
    Address,
    ClaimsConfig,
    Code,
    GrantError,
    Status,
    business_seconds,
    check_grant,
    claim_number,
    credit_service,
    dollars_to_cents,
    is_overdue,
    letter_decision,
    review,
    sla_elapsed,
    sniff,
)

# Who may call what: contact workers take intake and documents; the CRO and supervisors decide.
WORKERS = {"roles": list(CONTACT_ROLES)}
DECIDERS = {"roles": ["cro", "supervisor"]}
STAFF = {"access": "staff"}
FORM = {"exclude_from_csrf": True}
IDEMPOTENCY_HEADER = "idempotency-key"
# Receipts and photos sent with one intake form; more go up one by one on the claim afterwards.
MAX_INTAKE_DOCUMENTS = 5
# How far back the page lists decisions, so the desk sees what it just granted or denied.
RECENT_DECISIONS = dt.timedelta(days=14)
SYSTEM_ACTOR = "system:claims"  # creates the CCB credit, which the deciding person then approves

AccountId = Annotated[str, msgspec.Meta(pattern=ACCOUNT_ID)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=r"\S")]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=r"\S")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=r"\S")]
Key = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:@<>+-]{8,120}$")]
Cents = Annotated[int, msgspec.Meta(ge=-1_000_000_000, le=1_000_000_000)]
SaId = Annotated[str, msgspec.Meta(pattern=r"^\d{10}$")]
ContactId = Annotated[str, msgspec.Meta(pattern=r"^\d{10}$")]


# -- request bodies --------------------------------------------------------------------------------------
class IntakeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A claim as the customer states it; money in integer cents."""

    account_id: AccountId
    claimant_name: Name
    incident: Code
    incident_date: dt.date
    loss: Code
    description: Text
    claimed_cents: Annotated[int, msgspec.Meta(gt=0)]
    claimant_email: Address | None = None
    # The verified contact the claim is taken in; the ``X-Contact-Id`` header wins (forms cannot send it).
    contact_id: ContactId | None = None
    idempotency_key: Key | None = None


class InfoIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    message: Text


class ResumeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class GrantIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # Any integer is decoded so that the rules, not the schema, answer a negative or oversized grant.
    amount_cents: Cents
    reason: Reason
    sa_id: SaId | None = None


class DenyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class FraudIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


# -- responses -------------------------------------------------------------------------------------------
class DocumentView(msgspec.Struct, kw_only=True):
    id: int
    claim_id: int
    filename: str
    label: str | None
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime


class ClaimView(msgspec.Struct, kw_only=True):
    id: int
    claim_number: str
    account_id: str
    contact_id: str | None
    claimant_name: str
    claimant_email: str | None
    incident: str
    incident_date: dt.date
    loss: str
    description: str
    claimed_cents: int
    status: str
    covered: bool
    coverage_reason: str
    filed_by: str
    filed_at: dt.datetime
    sla_paused: bool
    sla_business_days_used: float
    overdue: bool
    info_request: str | None
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_reason: str | None
    granted_cents: int | None
    sa_id: str | None
    adjustment_id: str | None
    letter_id: int | None
    documents: list[DocumentView] = []
    replayed: bool = False


def doc_view(d: ClaimDocument) -> DocumentView:
    return DocumentView(
        id=d.id,
        claim_id=d.claim_id,
        filename=d.filename,
        label=d.label,
        content_type=d.content_type,
        size=d.size,
        sha256=d.sha256,
        uploaded_by=d.uploaded_by,
        uploaded_at=d.uploaded_at,
    )


def view(
    c: Claim,
    now: dt.datetime,
    config: ClaimsConfig,
    docs: list[ClaimDocument] | None = None,
    *,
    replayed: bool = False,
) -> ClaimView:
    used = sla_elapsed(
        c.filed_at,
        now,
        paused_seconds=c.paused_seconds,
        paused_since=c.paused_since,
        holidays=config.holidays,
    )
    return ClaimView(
        id=c.id,
        claim_number=claim_number(c.id, c.filed_at),
        account_id=c.account_id,
        contact_id=c.contact_id,
        claimant_name=c.claimant_name,
        claimant_email=c.claimant_email,
        incident=c.incident,
        incident_date=c.incident_date,
        loss=c.loss,
        description=c.description,
        claimed_cents=c.claimed_cents,
        status=c.status,
        covered=c.covered,
        coverage_reason=c.coverage_reason,
        filed_by=c.filed_by,
        filed_at=c.filed_at,
        sla_paused=c.paused_since is not None,
        sla_business_days_used=round(used / DAY_SECONDS, 2),
        overdue=is_overdue(
            c.status,
            c.filed_at,
            now,
            paused_seconds=c.paused_seconds,
            paused_since=c.paused_since,
            config=config,
        ),
        info_request=c.info_request,
        decided_by=c.decided_by,
        decided_at=c.decided_at,
        decision_reason=c.decision_reason,
        granted_cents=c.granted_cents,
        sa_id=c.sa_id,
        adjustment_id=c.adjustment_id,
        letter_id=c.letter_id,
        documents=[doc_view(d) for d in docs or []],
        replayed=replayed,
    )


# -- errors and decoding ---------------------------------------------------------------------------------
def _clean(text: str | None) -> str | None:
    """Free text is redacted before storage (card or identity numbers a caller read out stay out)."""
    if text is None or not text.strip():
        return None
    return redact(text.strip())


def _ccb_error(exc: CcbError) -> InputError:
    if isinstance(exc, Invalid):
        return InputError(exc.field, exc.message)
    if isinstance(exc, NotFound):
        return InputError(exc.kind, str(exc), 404)
    if isinstance(exc, IllegalTransition):
        return InputError(exc.kind, str(exc), 409)
    return InputError("ccb", str(exc), 503)


def _key(request: Request[Any, Any, Any], body_key: str | None) -> str | None:
    header = request.headers.get(IDEMPOTENCY_HEADER)
    if header is None:
        return body_key
    header = header.strip()
    if body_key not in (None, header):
        raise InputError("idempotency_key", "differs from the Idempotency-Key header")
    try:
        return msgspec.convert(header, Key)
    except msgspec.ValidationError:
        raise InputError("idempotency_key", "must be 8-120 letters, digits or ._:@<>+-") from None


async def _account_exists(ctx: PluginContext, account_id: str) -> None:
    try:
        await ctx.ccb.get_balance(account_id)  # read and dropped: the port has no existence probe
    except NotFound:
        raise InputError("account_id", f"no account {account_id}", 404) from None


async def _access(
    request: Request[Any, Any, Any],
    account_id: str,
    *,
    purpose: str,
    contact_id: str | None = None,
    reason: str | None = None,
) -> ContactAccess:
    """The contact layer's verified-contact guard (ARCHITECTURE §6) for a change to a claim's account.

    Passes for the caller's open contact verified for ``account_id`` or for a lead, supervisor or the CRO
    giving a reason (a claim mailed in has no contact). The headers win; ``contact_id`` and ``reason`` are
    what a page form carries, since a form cannot send headers. Audited by the layer.
    """
    service = service_for(hub_of(request))
    if service is None:
        raise ServiceUnavailableException("the contact layer is not running")
    header_contact = (request.headers.get(CONTACT_HEADER) or "").strip() or None
    header_reason = (request.headers.get(REASON_HEADER) or "").strip() or None
    try:
        return await service.authorize(
            current_staff(request),
            contact_id=header_contact or contact_id,
            reason=header_reason or reason,
            purpose=purpose,
            account_id=account_id,
            topic="claim",
            change=True,
        )
    except AccessDenied as exc:
        raise PermissionDeniedException(str(exc)) from None
    except NotFound as exc:
        raise NotFoundException(str(exc)) from None


@dataclass(frozen=True, slots=True)
class DocumentIn:
    """An uploaded document that passed the configured type and size limits (its type sniffed)."""

    filename: str
    data: bytes
    content_type: str
    label: str | None = None


async def read_document(config: ClaimsConfig, upload: UploadFile | None, label: str = "") -> DocumentIn:
    """Read an upload and check it before anything is written; the declared type is not trusted."""
    if upload is None:
        raise InputError("file", "a document is required (multipart field 'file')")
    data = await upload.read(config.max_document_bytes + 1)
    if not data:
        raise InputError("file", f"{upload.filename or 'the document'} is empty")
    if len(data) > config.max_document_bytes:
        raise InputError("file", f"is larger than {config.max_document_bytes} bytes", 413)
    kind = sniff(data[:16])
    if kind is None or kind not in config.document_types:
        raise InputError("file", f"must be one of {', '.join(config.document_types)}")
    return DocumentIn(
        filename=(upload.filename or "document")[-200:],
        data=data,
        content_type=kind,
        label=_clean(label[:80]) if label else None,
    )


def _document_row(claim_id: int, doc: DocumentIn, actor: str, now: dt.datetime) -> ClaimDocument:
    return ClaimDocument(
        claim_id=claim_id,
        filename=doc.filename,
        label=doc.label,
        content_type=doc.content_type,
        size=len(doc.data),
        sha256=hashlib.sha256(doc.data).hexdigest(),
        data=doc.data,
        uploaded_by=actor,
        uploaded_at=now,
    )


async def _audit_document(ctx: PluginContext, session: AsyncSession, actor: str, doc: ClaimDocument) -> None:
    await ctx.audit.append(
        session,
        actor=actor,
        action="claims.document_added",
        target=f"claims_claim:{doc.claim_id}",
        detail={
            "document_id": doc.id,
            "content_type": doc.content_type,
            "size": doc.size,
            "sha256": doc.sha256,
        },
    )


async def _note_change(request: Request[Any, Any, Any], access: ContactAccess, text: str) -> None:
    """Log the change on the contact, so its wrap-up note mentions it."""
    service = service_for(hub_of(request))
    if service is not None:
        await service.note_change(access, "claim", text)


def _payload(c: Claim, actor: str, at: dt.datetime, report_id: int | None = None) -> events.ClaimChanged:
    return events.ClaimChanged(
        claim_id=c.id,
        claim_number=claim_number(c.id, c.filed_at),
        account_id=c.account_id,
        incident=c.incident,
        loss=c.loss,
        status=c.status,
        covered=c.covered,
        claimed_cents=c.claimed_cents,
        changed_at=at,
        changed_by=actor,
        granted_cents=c.granted_cents,
        adjustment_id=c.adjustment_id,
        letter_id=c.letter_id,
        incident_report_id=report_id,
    )


async def _documents(session: AsyncSession, claim_id: int) -> list[ClaimDocument]:
    return list(
        await session.scalars(
            select(ClaimDocument).where(ClaimDocument.claim_id == claim_id).order_by(ClaimDocument.id)
        )
    )


async def _load(session: AsyncSession, claim_id: int, *, lock: bool = False) -> Claim:
    found: Claim | None = await session.get(Claim, claim_id, with_for_update=lock)
    if found is None:
        raise InputError("claim_id", f"no claim #{claim_id}", 404)
    return found


def _undecided(c: Claim, action: str) -> None:
    if c.status not in UNDECIDED:
        raise InputError("status", f"claim #{c.id} is {c.status}; cannot {action}", 409)


def _resume_clock(c: Claim, now: dt.datetime, config: ClaimsConfig) -> None:
    """Close an open pause, adding its business time to what the SLA leaves out."""
    if c.paused_since is not None:
        c.paused_seconds += business_seconds(c.paused_since, now, config.holidays)
        c.paused_since = None


# -- operations ------------------------------------------------------------------------------------------
async def file_claim(
    ctx: PluginContext,
    request: Request[Any, Any, Any],
    data: IntakeIn,
    *,
    reason: str | None = None,
    documents: Sequence[DocumentIn] = (),
) -> tuple[Claim, bool]:
    """Take a claim from a verified contact (or with ``reason``), with its checked ``documents``.

    A repeated idempotency key returns the first claim and stores no document again.
    """
    config: ClaimsConfig = ctx.config
    now = ctx.clock.now()
    if data.incident not in config.incidents:
        raise InputError("incident", f"must be one of {', '.join(sorted(config.incidents))}")
    if data.loss not in config.coverage:
        raise InputError("loss", f"must be one of {', '.join(sorted(config.coverage))}")
    if data.claimed_cents > config.max_claim_cents:
        raise InputError("claimed_cents", f"is above the {config.max_claim_cents} cents a bill credit covers")
    if data.incident_date > now.date() + dt.timedelta(days=1):
        raise InputError("incident_date", "is in the future")
    key = _key(request, data.idempotency_key)
    await _account_exists(ctx, data.account_id)
    access = await _access(
        request, data.account_id, purpose="file a claim", contact_id=data.contact_id, reason=reason
    )
    coverage = review(data.loss, config)
    claim = Claim(
        account_id=data.account_id,
        contact_id=access.contact_id,
        claimant_name=_clean(data.claimant_name) or data.claimant_name,
        claimant_email=data.claimant_email,
        incident=data.incident,
        incident_date=data.incident_date,
        loss=data.loss,
        description=_clean(data.description) or data.description,
        claimed_cents=data.claimed_cents,
        status=Status.OPEN.value,
        covered=coverage.covered,
        coverage_reason=coverage.reason,
        filed_by=access.actor,
        filed_at=now,
        paused_seconds=0,
        idempotency_key=key,
    )
    try:
        async with ctx.db.session() as session:
            if key is not None:
                earlier = await by_key(session, key)
                if earlier is not None:
                    return earlier, True
            session.add(claim)
            await session.flush()
            for doc in documents:
                row = _document_row(claim.id, doc, access.actor, now)
                session.add(row)
                await session.flush()
                await _audit_document(ctx, session, access.actor, row)
            ctx.events.emit(session, events.FILED, _payload(claim, access.actor, now), actor=access.actor)
            await ctx.audit.append(
                session,
                actor=access.actor,
                action="claims.filed",
                target=f"claims_claim:{claim.id}",
                detail={
                    "account_id": claim.account_id,
                    "loss": claim.loss,
                    "claimed_cents": claim.claimed_cents,
                    "covered": claim.covered,
                    "reason": access.reason,
                },
            )
    except IntegrityError:
        # Two identical submissions raced: the loser answers with the winner's claim.
        if key is None:
            raise
        async with ctx.db.session() as session:
            raced = await by_key(session, key)
        if raced is None:
            raise
        return raced, True
    await _note_change(request, access, f"claim {claim_number(claim.id, now)} filed")
    return claim, False


async def add_document(
    ctx: PluginContext,
    request: Request[Any, Any, Any],
    claim_id: int,
    upload: UploadFile | None,
    label: str,
    *,
    contact_id: str | None = None,
    reason: str | None = None,
) -> ClaimDocument:
    """Keep a receipt or photo for a claim once its type and size pass the configured limits."""
    config: ClaimsConfig = ctx.config
    async with ctx.db.session() as session:
        claim = await _load(session, claim_id)
    access = await _access(
        request, claim.account_id, purpose="add a claim document", contact_id=contact_id, reason=reason
    )
    doc = await read_document(config, upload, label)
    async with ctx.db.session() as session:
        row = _document_row(claim.id, doc, access.actor, ctx.clock.now())
        session.add(row)
        await session.flush()
        await _audit_document(ctx, session, access.actor, row)
    return row


async def _customer_email(ctx: PluginContext, account_id: str) -> str | None:
    summary = await ctx.ccb.get_account_summary(account_id)
    person = await ctx.ccb.get_person(summary.main_customer.person_id)
    return person.email


async def request_info(ctx: PluginContext, staff: Staff, claim_id: int, message: str) -> Claim:
    """Mail the customer what is missing and pause the SLA clock until it arrives."""
    config: ClaimsConfig = ctx.config
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        claim = await _load(session, claim_id)
    if claim.status != Status.OPEN:
        raise InputError("status", f"claim #{claim.id} is {claim.status}; cannot ask for information", 409)
    to = claim.claimant_email
    if to is None:
        try:
            to = await _customer_email(ctx, claim.account_id)
        except CcbError as exc:
            raise _ccb_error(exc) from None
    if to is None:
        raise InputError("claimant_email", "neither the claim nor the customer has an e-mail address")
    text = _clean(message) or message
    number = claim_number(claim.id, claim.filed_at)
    try:
        async with ctx.db.session() as session:
            claim = await _load(session, claim_id, lock=True)
            _undecided(claim, "ask for information")
            await ctx.mail.queue(
                session,
                to=[to],
                subject=f"More information needed for claim {number}"[:200],
                body=(
                    f"Dear {claim.claimant_name},\n\nTo review claim {number} for account {claim.account_id} "
                    f"we need the following:\n\n{text}\n\nPlease reply to this message or call us. "
                    f"The review continues when we receive it.\n\n{config.signature}\n"
                ),
                idempotency_key=f"claims:{claim.id}:info:{int(now.timestamp())}",
            )
            claim.status = Status.INFO_REQUESTED.value
            claim.info_request = text
            claim.paused_since = now
            ctx.events.emit(
                session, events.INFO_REQUESTED, _payload(claim, staff.actor, now), actor=staff.actor
            )
            await ctx.audit.append(
                session,
                actor=staff.actor,
                action="claims.info_requested",
                target=f"claims_claim:{claim.id}",
                detail={"account_id": claim.account_id, "to": to},
            )
    except MailError as exc:
        raise InputError(exc.field, exc.message) from None
    return claim


async def info_received(ctx: PluginContext, staff: Staff, claim_id: int, note: str | None) -> Claim:
    """The customer answered: the claim waits for review again and the SLA clock runs."""
    config: ClaimsConfig = ctx.config
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        claim = await _load(session, claim_id, lock=True)
        if claim.status != Status.INFO_REQUESTED:
            raise InputError(
                "status", f"claim #{claim.id} is {claim.status}, not waiting for information", 409
            )
        _resume_clock(claim, now, config)
        claim.status = Status.OPEN.value
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="claims.info_received",
            target=f"claims_claim:{claim.id}",
            detail={"note": _clean(note), "paused_seconds": claim.paused_seconds},
        )
    return claim


async def _pick_sa(ctx: PluginContext, claim: Claim, wanted: str | None, config: ClaimsConfig) -> str:
    """The service agreement a credit lands on: the one named (if it is the account's) or the open SA of
    the service the loss or incident concerns."""
    try:
        summary = await ctx.ccb.get_account_summary(claim.account_id)
    except CcbError as exc:
        raise _ccb_error(exc) from None
    sas = summary.service_agreements
    if wanted is not None:
        if wanted not in {sa.sa_id for sa in sas}:
            raise InputError("sa_id", f"is not a service agreement of account {claim.account_id}")
        return wanted
    service = credit_service(claim.loss, claim.incident, config)
    for sa in sas:
        kind = codes.SA_TYPES.get(sa.sa_type)
        if kind is not None and kind.service == service and sa.status in codes.OPEN_SA_STATUSES:
            return sa.sa_id
    raise InputError("sa_id", f"account {claim.account_id} has no open {service} service agreement; name one")


async def _letter(
    ctx: PluginContext, claim: Claim, decision: str, explanation: str, actor: str, amount: int | None
) -> int:
    """The claim decision letter, through the correspondence plugin (idempotent per claim)."""
    from plugins.correspondence import service_api

    fields: dict[str, Any] = {
        "claim_number": claim_number(claim.id, claim.filed_at),
        "decision": decision,
        "explanation": explanation[:2000],
    }
    if amount is not None:
        fields["amount"] = amount
    try:
        record = await service_api.send_letter(
            ctx,
            claim.account_id,
            "claim_decision",
            fields,
            actor=actor,
            idempotency_key=f"claims:{claim.id}:decision",
        )
    except service_api.LetterError as exc:
        raise InputError(exc.field, exc.message, exc.status_code) from None
    return record.id


async def grant(ctx: PluginContext, staff: Staff, claim_id: int, data: GrantIn) -> Claim:
    """Credit the right SA by exactly the granted amount, send the decision letter, then close the claim."""
    config: ClaimsConfig = ctx.config
    async with ctx.db.session() as session:
        claim = await _load(session, claim_id)
    _undecided(claim, "grant")
    try:
        check_grant(data.amount_cents, claim.claimed_cents, review(claim.loss, config))
    except GrantError as exc:
        raise InputError(exc.field, exc.message) from None
    rule = review(claim.loss, config)
    sa_id = await _pick_sa(ctx, claim, data.sa_id, config)
    reason = _clean(data.reason) or data.reason
    number = claim_number(claim.id, claim.filed_at)
    try:
        # Created by the plugin and approved by the person deciding: the CCB wants two different actors.
        adj = await ctx.ccb.create_adjustment(
            p.CreateAdjustment(
                sa_id=sa_id,
                adjustment_type=rule.adjustment_type or "MISC_CREDIT",
                amount_cents=data.amount_cents,
                reason=f"Claim {number}: {reason}"[:200],
            ),
            actor=SYSTEM_ACTOR,
            idempotency_key=f"claims:{claim.id}:credit",
        )
        if adj.amount_cents != -data.amount_cents:
            # A replay of an earlier, different grant attempt: never post a second credit.
            raise InputError(
                "amount_cents", f"claim #{claim.id} already has a credit of {-adj.amount_cents}", 409
            )
        if adj.status != codes.AdjStatus.FROZEN:
            adj = await ctx.ccb.approve_adjustment(
                p.ApproveAdjustment(adjustment_id=adj.adjustment_id),
                actor=staff.actor,
                idempotency_key=f"claims:{claim.id}:credit:approve",
            )
    except CcbError as exc:
        raise _ccb_error(exc) from None
    letter_id = await _letter(
        ctx,
        claim,
        letter_decision(data.amount_cents, claim.claimed_cents),
        f"{reason} The amount is credited to your account.",
        staff.actor,
        data.amount_cents,
    )
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        claim = await _load(session, claim_id, lock=True)
        _undecided(claim, "grant")
        _resume_clock(claim, now, config)
        claim.status = Status.GRANTED.value
        claim.decided_by, claim.decided_at, claim.decision_reason = staff.actor, now, reason
        claim.granted_cents, claim.sa_id, claim.adjustment_id = data.amount_cents, sa_id, adj.adjustment_id
        claim.letter_id = letter_id
        ctx.events.emit(session, events.GRANTED, _payload(claim, staff.actor, now), actor=staff.actor)
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="claims.granted",
            target=f"claims_claim:{claim.id}",
            detail={
                "account_id": claim.account_id,
                "sa_id": sa_id,
                "adjustment_id": adj.adjustment_id,
                "granted_cents": data.amount_cents,
                "claimed_cents": claim.claimed_cents,
                "reason": reason,
            },
        )
    return claim


async def deny(ctx: PluginContext, staff: Staff, claim_id: int, reason: str) -> Claim:
    """Send the decision letter with the reason, then close the claim as denied."""
    config: ClaimsConfig = ctx.config
    async with ctx.db.session() as session:
        claim = await _load(session, claim_id)
    _undecided(claim, "deny")
    text = _clean(reason) or reason
    letter_id = await _letter(ctx, claim, "denied", text, staff.actor, None)
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        claim = await _load(session, claim_id, lock=True)
        _undecided(claim, "deny")
        _resume_clock(claim, now, config)
        claim.status = Status.DENIED.value
        claim.decided_by, claim.decided_at, claim.decision_reason = staff.actor, now, text
        claim.letter_id = letter_id
        ctx.events.emit(session, events.DENIED, _payload(claim, staff.actor, now), actor=staff.actor)
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="claims.denied",
            target=f"claims_claim:{claim.id}",
            detail={"account_id": claim.account_id, "reason": text, "letter_id": letter_id},
        )
    return claim


async def report_fraud(ctx: PluginContext, staff: Staff, claim_id: int, reason: str) -> tuple[Claim, int]:
    """Write an incident report for security, mail it, and stop the claim (no credit, no letter)."""
    config: ClaimsConfig = ctx.config
    now = ctx.clock.now()
    text = _clean(reason) or reason
    try:
        async with ctx.db.session() as session:
            claim = await _load(session, claim_id, lock=True)
            _undecided(claim, "report fraud")
            number = claim_number(claim.id, claim.filed_at)
            mail = await ctx.mail.queue(
                session,
                to=[config.security_address],
                subject=f"Incident report: suspected fraudulent claim {number}"[:200],
                body=(
                    f"Claim {number} on account {claim.account_id} was reported as possibly fraudulent.\n\n"
                    f"Reported by: {staff.actor}\nReason: {text}\nClaimed: {claim.claimed_cents} cents "
                    f"({claim.loss}, {claim.incident} on {claim.incident_date.isoformat()})\n"
                ),
                idempotency_key=f"claims:{claim.id}:fraud",
            )
            report = ClaimIncident(
                claim_id=claim.id,
                account_id=claim.account_id,
                reason=text,
                reported_by=staff.actor,
                reported_at=now,
                mail_id=mail.id,
            )
            session.add(report)
            _resume_clock(claim, now, config)
            claim.status = Status.FRAUD_REPORTED.value
            claim.decided_by, claim.decided_at, claim.decision_reason = staff.actor, now, text
            await session.flush()
            ctx.events.emit(
                session,
                events.FRAUD_REPORTED,
                _payload(claim, staff.actor, now, report.id),
                actor=staff.actor,
            )
            await ctx.audit.append(
                session,
                actor=staff.actor,
                action="claims.fraud_reported",
                target=f"claims_claim:{claim.id}",
                detail={"account_id": claim.account_id, "incident_report_id": report.id, "mail_id": mail.id},
            )
    except MailError as exc:
        raise InputError(exc.field, exc.message) from None
    return claim, report.id


async def load_document(ctx: PluginContext, claim_id: int, document_id: int) -> ClaimDocument:
    async with ctx.db.session() as session:
        doc = await session.get(ClaimDocument, document_id)
    if doc is None or doc.claim_id != claim_id:
        raise InputError("document_id", f"no document #{document_id} on claim #{claim_id}", 404)
    return doc


def document_response(doc: ClaimDocument) -> Response[bytes]:
    """A document as a download: never rendered inline, so an upload cannot run as a page of the hub."""
    return Response(
        doc.data,
        media_type=doc.content_type,
        headers={"Content-Disposition": "attachment", "X-Content-Type-Options": "nosniff"},
    )


# -- JSON routes -----------------------------------------------------------------------------------------
def routes(ctx: PluginContext) -> list[Any]:
    config: ClaimsConfig = ctx.config

    async def one(claim_id: int, *, replayed: bool = False) -> ClaimView:
        async with ctx.db.session() as session:
            claim = await _load(session, claim_id)
            docs = await _documents(session, claim_id)
        return view(claim, ctx.clock.now(), config, docs, replayed=replayed)

    @post("/", opt=WORKERS, summary="File a claim for a bill credit from a verified contact")
    async def file_route(request: Request[Any, Any, Any]) -> Response[ClaimView]:
        """Body ``IntakeIn``; header ``X-Contact-Id`` (or ``X-Access-Reason`` for a lead, supervisor or
        the CRO). Idempotent on ``idempotency_key`` (or the ``Idempotency-Key`` header): a repeat answers
        200 with the first claim and ``replayed: true``."""
        data: IntakeIn = decode_json(await request.body(), IntakeIn)
        try:
            claim, replayed = await file_claim(ctx, request, data)
            out = await one(claim.id, replayed=replayed)
        except InputError as exc:
            raise exc.http() from None
        return Response(out, status_code=200 if replayed else 201)

    @get("/", opt=WORKERS, summary="Claims, undecided by default; optionally one account's")
    async def list_route(
        status: Annotated[Status | None, QueryParameter()] = None,
        account_id: Annotated[str | None, QueryParameter(pattern=ACCOUNT_ID)] = None,
    ) -> list[ClaimView]:
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            query = select(Claim).order_by(Claim.filed_at, Claim.id).limit(500)
            if status is not None:
                query = query.where(Claim.status == status)
            elif account_id is None:
                query = query.where(Claim.status.in_([s.value for s in UNDECIDED]))
            if account_id is not None:
                query = query.where(Claim.account_id == account_id)
            return [view(c, now, config) for c in await session.scalars(query)]

    @get("/{claim_id:int}", opt=WORKERS, summary="One claim with its documents")
    async def get_route(claim_id: FromPath[int]) -> ClaimView:
        try:
            return await one(claim_id)
        except InputError as exc:
            raise exc.http() from None

    @post(
        "/{claim_id:int}/documents",
        opt=WORKERS,
        status_code=201,
        summary="Upload a receipt or photo (multipart: file, label)",
        request_max_body_size=config.max_document_bytes + 100_000,
    )
    async def upload_route(request: Request[Any, Any, Any], claim_id: FromPath[int]) -> DocumentView:
        form = await request.form()
        value = form.get("file")
        # An empty file input still sends a part, with no file name.
        upload = value if isinstance(value, UploadFile) and value.filename else None
        label = form.get("label")
        try:
            doc = await add_document(ctx, request, claim_id, upload, label if isinstance(label, str) else "")
        except InputError as exc:
            raise exc.http() from None
        return doc_view(doc)

    @get("/{claim_id:int}/documents/{document_id:int}", opt=WORKERS, summary="A document's bytes")
    async def document_route(claim_id: FromPath[int], document_id: FromPath[int]) -> Response[bytes]:
        try:
            return document_response(await load_document(ctx, claim_id, document_id))
        except InputError as exc:
            raise exc.http() from None

    @post("/{claim_id:int}/need-info", opt=DECIDERS, status_code=200, summary="Ask the customer for more")
    async def info_route(request: Request[Any, Any, Any], claim_id: FromPath[int]) -> ClaimView:
        data: InfoIn = decode_json(await request.body(), InfoIn)
        try:
            claim = await request_info(ctx, current_staff(request), claim_id, data.message)
            return await one(claim.id)
        except InputError as exc:
            raise exc.http() from None

    @post("/{claim_id:int}/info-received", opt=WORKERS, status_code=200, summary="Resume the review")
    async def resume_route(request: Request[Any, Any, Any], claim_id: FromPath[int]) -> ClaimView:
        raw = await request.body()
        data: ResumeIn = decode_json(raw, ResumeIn) if raw.strip() else ResumeIn()
        try:
            claim = await info_received(ctx, current_staff(request), claim_id, data.note)
            return await one(claim.id)
        except InputError as exc:
            raise exc.http() from None

    @post("/{claim_id:int}/grant", opt=DECIDERS, status_code=200, summary="Grant a credit (CCB adjustment)")
    async def grant_route(request: Request[Any, Any, Any], claim_id: FromPath[int]) -> ClaimView:
        data: GrantIn = decode_json(await request.body(), GrantIn)
        try:
            claim = await grant(ctx, current_staff(request), claim_id, data)
            return await one(claim.id)
        except InputError as exc:
            raise exc.http() from None

    @post(
        "/{claim_id:int}/deny", opt=DECIDERS, status_code=200, summary="Deny, with a letter giving the reason"
    )
    async def deny_route(request: Request[Any, Any, Any], claim_id: FromPath[int]) -> ClaimView:
        data: DenyIn = decode_json(await request.body(), DenyIn)
        try:
            claim = await deny(ctx, current_staff(request), claim_id, data.reason)
            return await one(claim.id)
        except InputError as exc:
            raise exc.http() from None

    @post("/{claim_id:int}/fraud", opt=WORKERS, status_code=200, summary="Report suspected fraud to security")
    async def fraud_route(request: Request[Any, Any, Any], claim_id: FromPath[int]) -> ClaimView:
        data: FraudIn = decode_json(await request.body(), FraudIn)
        staff = current_staff(request)
        try:
            claim, _report = await report_fraud(ctx, staff, claim_id, data.reason)
            return await one(claim.id)
        except InputError as exc:
            raise exc.http() from None

    return [
        file_route,
        list_route,
        get_route,
        upload_route,
        document_route,
        info_route,
        resume_route,
        grant_route,
        deny_route,
        fraud_route,
    ]


# -- pages -----------------------------------------------------------------------------------------------
def _signed_secret(token: str, key: str) -> str | None:
    """The random part of a CSRF token, if its signature checks out under ``key``."""
    if len(token) <= CSRF_SECRET_LENGTH:
        return None
    secret = token[:CSRF_SECRET_LENGTH]
    signature = generate_csrf_hash(secret, key)
    return secret if hmac.compare_digest(token[CSRF_SECRET_LENGTH:], signature) else None


async def posted_form(request: Request[Any, Any, Any]) -> Any:
    """The form, once the posted CSRF token and the cookie carry the same signed secret (double submit)."""
    config = request.app.csrf_config
    if config is None:  # pragma: no cover - the hub always configures CSRF
        raise PermissionDeniedException("CSRF protection is not configured")
    form = await request.form()
    sent = request.headers.get(config.header_name) or form.get("_csrf_token")
    cookie = request.cookies.get(config.cookie_name)
    if not isinstance(sent, str) or not cookie:
        raise PermissionDeniedException("CSRF token verification failed")
    mine, theirs = _signed_secret(sent, config.secret), _signed_secret(cookie, config.secret)
    if mine is None or theirs is None or not hmac.compare_digest(mine, theirs):
        raise PermissionDeniedException("CSRF token verification failed")
    # The middleware is skipped for these handlers, so hand the token on to a page re-rendered with an error.
    ScopeState.from_scope(request.scope).csrf_token = sent
    return form


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _uploads(form: Any, name: str) -> list[UploadFile]:
    # An empty file input still sends a part, with no file name.
    return [u for u in form.getall(name, []) if isinstance(u, UploadFile) and u.filename]


INTAKE_FIELDS = (
    "contact_id",
    "access_reason",
    "account_id",
    "claimant_name",
    "claimant_email",
    "incident",
    "incident_date",
    "loss",
    "description",
    "claimed",
    "idempotency_key",
)


def pages(ctx: PluginContext) -> list[PageSpec]:
    config: ClaimsConfig = ctx.config

    async def notice_for(staff: Staff, claim_id: int, what: str) -> str | None:
        """The line confirming what the last form did, read back from the claim (and CCB for a credit)."""
        async with ctx.db.session() as session:
            claim = await session.get(Claim, claim_id)
        if claim is None:
            return None
        number = claim_number(claim.id, claim.filed_at)
        if what == "filed":
            covered = "covered" if claim.covered else "not covered"
            return f"Claim {number} filed for account {claim.account_id}: {covered}. {claim.coverage_reason}"
        if claim.status == Status.GRANTED and claim.granted_cents is not None:
            line = (
                f"Claim {number} granted: {dollars(claim.granted_cents)} credited to service agreement "
                f"{claim.sa_id} (adjustment {claim.adjustment_id}); decision letter #{claim.letter_id}."
            )
            if claim.decided_by != staff.actor:
                return line  # the balance is shown only to the person who just posted the credit
            try:
                balance = await ctx.ccb.get_balance(claim.account_id)
            except CcbError:
                return line  # the credit is posted; only the read-back failed
            return f"{line} Account {claim.account_id} balance now {dollars(balance.balance_cents)}."
        if claim.status == Status.DENIED:
            return f"Claim {number} denied; decision letter #{claim.letter_id} gives the reason."
        if claim.status == Status.FRAUD_REPORTED:
            return f"Claim {number} reported to security as suspected fraud; no credit will be posted."
        if claim.status == Status.INFO_REQUESTED:
            return f"Claim {number}: the customer was asked for more information; the SLA clock is paused."
        return f"Claim {number} is back in review; the SLA clock runs again."

    async def desk(
        request: Request[Any, Any, Any],
        *,
        status_code: int = 200,
        error: str | None = None,
        notice: str | None = None,
        values: dict[str, Any] | None = None,
        action: dict[str, Any] | None = None,
    ) -> Response[Any]:
        """The claims desk: open claims with their SLA and actions, the intake form, recent decisions."""
        staff = current_staff(request)
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            rows = await undecided(session)
            done = await decided_since(session, now - RECENT_DECISIONS)
            docs = await documents_of(session, [c.id for c in rows])
        today = now.astimezone(LOCAL_TZ).date()
        return render(
            request,
            "claims/open.html",
            status_code=status_code,
            title="Claims",
            items=[view(c, now, config, docs.get(c.id)) for c in rows],
            decided=[view(c, now, config) for c in done],
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
            money=dollars,
            # A fresh key per rendered form: submitting it twice files one claim.
            form_key=f"form:{secrets.token_urlsafe(18)}",
        )

    async def attempt(
        request: Request[Any, Any, Any],
        run: Callable[[], Awaitable[str]],
        *,
        values: dict[str, Any] | None = None,
        action: dict[str, Any] | None = None,
    ) -> Response[Any]:
        """Run a form's operation; go to the page it names, or re-render the desk with the error."""
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
        return await desk(request, status_code=status_code, error=error, values=values, action=action)

    @get("/", opt=STAFF)
    async def open_claims(
        request: Request[Any, Any, Any],
        filed: Annotated[int | None, QueryParameter()] = None,
        done: Annotated[int | None, QueryParameter()] = None,
    ) -> Response[Any]:
        notice = None
        if filed is not None:
            notice = await notice_for(current_staff(request), filed, "filed")
        elif done is not None:
            notice = await notice_for(current_staff(request), done, "done")
        return await desk(request, notice=notice)

    @post(
        "/intake",
        opt={**WORKERS, **FORM},
        request_max_body_size=MAX_INTAKE_DOCUMENTS * config.max_document_bytes + 200_000,
    )
    async def intake_form(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await posted_form(request)
        values = {k: _text(form, k) for k in INTAKE_FIELDS}
        uploads = _uploads(form, "documents")

        async def run() -> str:
            data: IntakeIn = convert(
                {
                    "account_id": values["account_id"],
                    "claimant_name": values["claimant_name"],
                    "incident": values["incident"],
                    "incident_date": values["incident_date"],
                    "loss": values["loss"],
                    "description": values["description"],
                    "claimed_cents": dollars_to_cents(values["claimed"]),
                    "claimant_email": values["claimant_email"] or None,
                    "contact_id": values["contact_id"] or None,
                    "idempotency_key": values["idempotency_key"] or None,
                },
                IntakeIn,
            )
            if len(uploads) > MAX_INTAKE_DOCUMENTS:
                raise InputError(
                    "documents", f"at most {MAX_INTAKE_DOCUMENTS} with the intake; add more later"
                )
            docs: list[DocumentIn] = []
            for upload in uploads:
                try:
                    docs.append(await read_document(config, upload))
                except InputError as exc:
                    message = str(exc).split(": ", 1)[1]
                    raise InputError("documents", f"{upload.filename}: {message}", exc.status_code) from None
            claim, _replayed = await file_claim(
                ctx, request, data, reason=values["access_reason"] or None, documents=docs
            )
            return f"/ui/claims/?filed={claim.id}"

        return await attempt(request, run, values=values)

    @post(
        "/{claim_id:int}/documents",
        opt={**WORKERS, **FORM},
        request_max_body_size=config.max_document_bytes + 100_000,
    )
    async def document_form(request: Request[Any, Any, Any], claim_id: FromPath[int]) -> Response[Any]:
        form = await posted_form(request)
        fields = {k: _text(form, k) for k in ("label", "contact_id", "access_reason")}
        uploads = _uploads(form, "file")

        async def run() -> str:
            await add_document(
                ctx,
                request,
                claim_id,
                uploads[0] if uploads else None,
                fields["label"],
                contact_id=fields["contact_id"] or None,
                reason=fields["access_reason"] or None,
            )
            return f"/ui/claims/#claim-{claim_id}"

        return await attempt(request, run, action={"claim_id": claim_id, "form": "documents", **fields})

    @get("/{claim_id:int}/documents/{document_id:int}", opt=WORKERS)
    async def document_page(claim_id: FromPath[int], document_id: FromPath[int]) -> Response[bytes]:
        try:
            return document_response(await load_document(ctx, claim_id, document_id))
        except InputError as exc:
            raise NotFoundException(str(exc)) from None

    @post("/{claim_id:int}/need-info", opt={**DECIDERS, **FORM})
    async def info_form(request: Request[Any, Any, Any], claim_id: FromPath[int]) -> Response[Any]:
        form = await posted_form(request)
        fields = {"message": _text(form, "message")}

        async def run() -> str:
            data: InfoIn = convert(fields, InfoIn)
            await request_info(ctx, current_staff(request), claim_id, data.message)
            return f"/ui/claims/?done={claim_id}"

        return await attempt(request, run, action={"claim_id": claim_id, "form": "need-info", **fields})

    @post("/{claim_id:int}/info-received", opt={**WORKERS, **FORM})
    async def resume_form(request: Request[Any, Any, Any], claim_id: FromPath[int]) -> Response[Any]:
        form = await posted_form(request)
        fields = {"note": _text(form, "note")}

        async def run() -> str:
            data: ResumeIn = convert({"note": fields["note"] or None}, ResumeIn)
            await info_received(ctx, current_staff(request), claim_id, data.note)
            return f"/ui/claims/?done={claim_id}"

        return await attempt(request, run, action={"claim_id": claim_id, "form": "info-received", **fields})

    @post("/{claim_id:int}/grant", opt={**DECIDERS, **FORM})
    async def grant_form(request: Request[Any, Any, Any], claim_id: FromPath[int]) -> Response[Any]:
        form = await posted_form(request)
        fields = {k: _text(form, k) for k in ("amount", "reason", "sa_id")}

        async def run() -> str:
            raw = {
                "amount_cents": dollars_to_cents(fields["amount"]),
                "reason": fields["reason"],
                "sa_id": fields["sa_id"] or None,
            }
            await grant(ctx, current_staff(request), claim_id, convert(raw, GrantIn))
            return f"/ui/claims/?done={claim_id}"

        return await attempt(request, run, action={"claim_id": claim_id, "form": "grant", **fields})

    @post("/{claim_id:int}/deny", opt={**DECIDERS, **FORM})
    async def deny_form(request: Request[Any, Any, Any], claim_id: FromPath[int]) -> Response[Any]:
        form = await posted_form(request)
        fields = {"reason": _text(form, "reason")}

        async def run() -> str:
            data: DenyIn = convert(fields, DenyIn)
            await deny(ctx, current_staff(request), claim_id, data.reason)
            return f"/ui/claims/?done={claim_id}"

        return await attempt(request, run, action={"claim_id": claim_id, "form": "deny", **fields})

    @post("/{claim_id:int}/fraud", opt={**WORKERS, **FORM})
    async def fraud_form(request: Request[Any, Any, Any], claim_id: FromPath[int]) -> Response[Any]:
        form = await posted_form(request)
        fields = {"reason": _text(form, "reason")}

        async def run() -> str:
            data: FraudIn = convert(fields, FraudIn)
            await report_fraud(ctx, current_staff(request), claim_id, data.reason)
            return f"/ui/claims/?done={claim_id}"

        return await attempt(request, run, action={"claim_id": claim_id, "form": "fraud", **fields})

    forms: Sequence[Any] = (
        intake_form,
        document_form,
        document_page,
        info_form,
        resume_form,
        grant_form,
        deny_form,
        fraud_form,
    )
    return [PageSpec(handler=open_claims, nav_title="Claims"), *(PageSpec(handler=h) for h in forms)]
