"""HTTP side of the claims plugin: JSON routes under /api/claims and the open-claims page under /ui.

Intake is taken by contact workers from a verified contact (or by a lead, supervisor or the CRO giving an
access reason); the review actions (ask for information, grant, deny) belong to the CRO and supervisors;
anyone who takes intake may report a claim that looks fraudulent to security.

Nothing half-written: a refused request writes nothing. A decision first makes its calls to other systems
(the CCB credit, the decision letter), each with an idempotency key derived from the claim, and only then
commits the claim's new status with its event and audit record in one transaction; if that commit fails,
retrying the decision replays those calls instead of crediting or writing twice.

Status codes: 400 for a body that is not JSON; 422 naming the field (``extra[0].key``) for a body that
breaks the schema or a rule (including a grant above the amount claimed, a non-positive credit or an
uncovered loss); 403 without a verified contact or the role; 404 for an unknown account, claim or
document; 409 for an action the claim's status forbids; 413 for a document over the size limit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import ClientException
from litestar.params import FromPath, QueryParameter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb import codes
from core.ccb import port as p
from core.ccb.errors import CcbError, IllegalTransition, Invalid, NotFound
from core.contact import ContactAccess, require_verified
from core.contact.service import CONTACT_ROLES, service_for
from core.contract import PageSpec, PluginContext
from core.mail import MailError
from core.redact import redact
from core.security import current_staff, hub_of
from core.staff import Staff
from core.web.pages import render
from plugins.claims import events
from plugins.claims.models import Claim, ClaimDocument, ClaimIncident, by_key
from plugins.claims.service import (
    ACCOUNT_ID,
    DAY_SECONDS,
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
IDEMPOTENCY_HEADER = "idempotency-key"
SYSTEM_ACTOR = "system:claims"  # creates the CCB credit, which the deciding person then approves

AccountId = Annotated[str, msgspec.Meta(pattern=ACCOUNT_ID)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=r"\S")]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=r"\S")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=r"\S")]
Key = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:@<>+-]{8,120}$")]
Cents = Annotated[int, msgspec.Meta(ge=-1_000_000_000, le=1_000_000_000)]
SaId = Annotated[str, msgspec.Meta(pattern=r"^\d{10}$")]


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
class InputError(Exception):
    """Bad input naming the field at fault; 422 unless a status says otherwise (403, 404, 409, 413)."""

    def __init__(self, field: str, message: str, status_code: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.status_code = status_code

    def http(self) -> ClientException:
        detail = str(self)
        return ClientException(
            status_code=self.status_code, detail=detail, extra=[{"key": self.field, "message": detail}]
        )


def _field_in(error: msgspec.ValidationError) -> str:
    """The field a msgspec error names: ``… - at `$.claimed_cents` `` or ``missing required field `x` ``."""
    text = str(error)
    for marker in ("field `", "at `$."):
        if marker in text:
            return text.split(marker, 1)[1].split("`", 1)[0] or "body"
    return "body"


def decode(raw: bytes, type_: type[Any]) -> Any:
    if not raw.strip():
        raise ClientException(status_code=400, detail="body: a JSON object is required")
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        raise InputError(_field_in(exc), str(exc).split(" - at ")[0]).http() from None
    except msgspec.DecodeError as exc:
        raise ClientException(status_code=400, detail=f"body: malformed JSON ({exc})") from None


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
    ctx: PluginContext, request: Request[Any, Any, Any], data: IntakeIn
) -> tuple[Claim, bool]:
    """Take a claim from a verified contact; a repeated idempotency key returns the first claim."""
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
    access = await require_verified(
        request, data.account_id, purpose="file a claim", topic="claim", change=True
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
    ctx: PluginContext, request: Request[Any, Any, Any], claim_id: int, upload: UploadFile | None, label: str
) -> ClaimDocument:
    """Keep a receipt or photo for a claim once its type and size pass the configured limits."""
    config: ClaimsConfig = ctx.config
    async with ctx.db.session() as session:
        claim = await _load(session, claim_id)
    access = await require_verified(
        request, claim.account_id, purpose="add a claim document", topic="claim", change=True
    )
    if upload is None:
        raise InputError("file", "a document is required (multipart field 'file')")
    data = await upload.read(config.max_document_bytes + 1)
    if not data:
        raise InputError("file", "the document is empty")
    if len(data) > config.max_document_bytes:
        raise InputError("file", f"is larger than {config.max_document_bytes} bytes", 413)
    kind = sniff(data[:16])
    if kind is None or kind not in config.document_types:
        raise InputError("file", f"must be one of {', '.join(config.document_types)}")
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        doc = ClaimDocument(
            claim_id=claim.id,
            filename=(upload.filename or "document")[-200:],
            label=_clean(label[:80]) if label else None,
            content_type=kind,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
            uploaded_by=access.actor,
            uploaded_at=now,
        )
        session.add(doc)
        await session.flush()
        await ctx.audit.append(
            session,
            actor=access.actor,
            action="claims.document_added",
            target=f"claims_claim:{claim.id}",
            detail={"document_id": doc.id, "content_type": kind, "size": doc.size, "sha256": doc.sha256},
        )
    return doc


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
        data: IntakeIn = decode(await request.body(), IntakeIn)
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
        async with ctx.db.session() as session:
            doc = await session.get(ClaimDocument, document_id)
        if doc is None or doc.claim_id != claim_id:
            raise InputError("document_id", f"no document #{document_id} on claim #{claim_id}", 404).http()
        return Response(
            doc.data,
            media_type=doc.content_type,
            headers={"Content-Disposition": "attachment", "X-Content-Type-Options": "nosniff"},
        )

    @post("/{claim_id:int}/need-info", opt=DECIDERS, status_code=200, summary="Ask the customer for more")
    async def info_route(request: Request[Any, Any, Any], claim_id: FromPath[int]) -> ClaimView:
        data: InfoIn = decode(await request.body(), InfoIn)
        try:
            claim = await request_info(ctx, current_staff(request), claim_id, data.message)
            return await one(claim.id)
        except InputError as exc:
            raise exc.http() from None

    @post("/{claim_id:int}/info-received", opt=WORKERS, status_code=200, summary="Resume the review")
    async def resume_route(request: Request[Any, Any, Any], claim_id: FromPath[int]) -> ClaimView:
        raw = await request.body()
        data: ResumeIn = decode(raw, ResumeIn) if raw.strip() else ResumeIn()
        try:
            claim = await info_received(ctx, current_staff(request), claim_id, data.note)
            return await one(claim.id)
        except InputError as exc:
            raise exc.http() from None

    @post("/{claim_id:int}/grant", opt=DECIDERS, status_code=200, summary="Grant a credit (CCB adjustment)")
    async def grant_route(request: Request[Any, Any, Any], claim_id: FromPath[int]) -> ClaimView:
        data: GrantIn = decode(await request.body(), GrantIn)
        try:
            claim = await grant(ctx, current_staff(request), claim_id, data)
            return await one(claim.id)
        except InputError as exc:
            raise exc.http() from None

    @post(
        "/{claim_id:int}/deny", opt=DECIDERS, status_code=200, summary="Deny, with a letter giving the reason"
    )
    async def deny_route(request: Request[Any, Any, Any], claim_id: FromPath[int]) -> ClaimView:
        data: DenyIn = decode(await request.body(), DenyIn)
        try:
            claim = await deny(ctx, current_staff(request), claim_id, data.reason)
            return await one(claim.id)
        except InputError as exc:
            raise exc.http() from None

    @post("/{claim_id:int}/fraud", opt=WORKERS, status_code=200, summary="Report suspected fraud to security")
    async def fraud_route(request: Request[Any, Any, Any], claim_id: FromPath[int]) -> ClaimView:
        data: FraudIn = decode(await request.body(), FraudIn)
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
def pages(ctx: PluginContext) -> list[PageSpec]:
    config: ClaimsConfig = ctx.config

    @get("/", opt=STAFF)
    async def open_claims(request: Request[Any, Any, Any]) -> Response[Any]:
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            rows = list(
                await session.scalars(
                    select(Claim)
                    .where(Claim.status.in_([s.value for s in UNDECIDED]))
                    .order_by(Claim.filed_at, Claim.id)
                    .limit(500)
                )
            )
        return render(
            request, "claims/open.html", title="Open claims", items=[view(c, now, config) for c in rows]
        )

    return [PageSpec(handler=open_claims, nav_title="Claims")]
