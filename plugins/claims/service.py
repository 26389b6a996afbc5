"""Use cases of the claims plugin: intake, documents, information requests, grant, denial, fraud report.

Nothing half-written: a refused request writes nothing. A decision first makes its calls to other systems
(the CCB credit, the decision letter through the correspondence plugin's ``LetterService``), each with an
idempotency key derived from the claim, and only then commits the claim's new status with its event and
audit record in one transaction; if that commit fails, retrying the decision replays those calls instead of
crediting or writing twice. Documents sent with an intake are checked before the claim is written and
stored in the same transaction as the claim.

Who may reach an account's data is the contact layer's verified-contact guard (``ContactGuard``), handed
in by the route; a page form gives the contact or the access reason as fields. Errors are
:class:`InputError` naming the field: 404 for an unknown account, claim or document, 409 for an action the
claim's status forbids, 413 for a document over the size limit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from litestar.datastructures import UploadFile
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.contract import PluginContext
from core.contract.ccb import CcbError, IllegalTransition, Invalid, NotFound, codes
from core.contract.ccb import port as p
from core.contract.contact import ContactGuard
from core.contract.idempotency import IdempotencyKey, request_key
from core.contract.inputs import InputError
from core.contract.mail import MailError
from core.contract.redact import redact
from core.contract.staff import Staff
from plugins.claims import events, queries
from plugins.claims.models import Claim, ClaimDocument, ClaimIncident
from plugins.claims.rules import (
    UNDECIDED,
    ClaimsConfig,
    GrantError,
    Status,
    business_seconds,
    check_grant,
    claim_number,
    credit_service,
    letter_decision,
    review,
    sniff,
)
from plugins.claims.schemas import ClaimView, DocumentIn, GrantIn, IntakeIn, view
from plugins.correspondence.public import LetterService

SYSTEM_ACTOR = "system:claims"  # creates the CCB credit, which the deciding person then approves


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


async def _account_exists(ctx: PluginContext, account_id: str) -> None:
    try:
        await ctx.ccb.get_balance(account_id)  # read and dropped: the port has no existence probe
    except NotFound:
        raise InputError("account_id", f"no account {account_id}", 404) from None


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


def _undecided(c: Claim, action: str) -> None:
    if c.status not in UNDECIDED:
        raise InputError("status", f"claim #{c.id} is {c.status}; cannot {action}", 409)


def _resume_clock(c: Claim, now: dt.datetime, config: ClaimsConfig) -> None:
    """Close an open pause, adding its business time to what the SLA leaves out."""
    if c.paused_since is not None:
        c.paused_seconds += business_seconds(c.paused_since, now, config.holidays)
        c.paused_since = None


# -- use cases ------------------------------------------------------------------------------------------
async def file_claim(
    ctx: PluginContext,
    guard: ContactGuard,
    data: IntakeIn,
    *,
    idempotency: IdempotencyKey | None = None,
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
    key = request_key(data.idempotency_key, idempotency)
    await _account_exists(ctx, data.account_id)
    access = await guard.account(
        data.account_id,
        purpose="file a claim",
        topic="claim",
        change=True,
        contact_id=data.contact_id,
        reason=reason,
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
                earlier = await queries.by_key(session, key)
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
            raced = await queries.by_key(session, key)
        if raced is None:
            raise
        return raced, True
    await guard.note_change(access, "claim", f"claim {claim_number(claim.id, now)} filed")
    return claim, False


async def add_document(
    ctx: PluginContext,
    guard: ContactGuard,
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
        claim = await queries.load(session, claim_id)
    access = await guard.account(
        claim.account_id,
        purpose="add a claim document",
        topic="claim",
        change=True,
        contact_id=contact_id,
        reason=reason,
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
        claim = await queries.load(session, claim_id)
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
            claim = await queries.load(session, claim_id, lock=True)
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
        claim = await queries.load(session, claim_id, lock=True)
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
    # mypy reads type[Protocol] as "abstract"; the directory looks a Protocol up by identity, never builds it.
    letters = ctx.services.get(LetterService)
    if letters is None:
        raise InputError("correspondence", "the correspondence plugin is not running in this hub", 503)
    fields: dict[str, Any] = {
        "claim_number": claim_number(claim.id, claim.filed_at),
        "decision": decision,
        "explanation": explanation[:2000],
    }
    if amount is not None:
        fields["amount"] = amount
    # A refusal (LetterError) is an InputError naming the field: it reaches the caller as it is.
    record = await letters.send_letter(
        claim.account_id,
        "claim_decision",
        fields,
        actor=actor,
        idempotency_key=f"claims:{claim.id}:decision",
        source=ctx.plugin_id,
    )
    return record.id


async def grant(ctx: PluginContext, staff: Staff, claim_id: int, data: GrantIn) -> Claim:
    """Credit the right SA by exactly the granted amount, send the decision letter, then close the claim."""
    config: ClaimsConfig = ctx.config
    async with ctx.db.session() as session:
        claim = await queries.load(session, claim_id)
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
        claim = await queries.load(session, claim_id, lock=True)
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
        claim = await queries.load(session, claim_id)
    _undecided(claim, "deny")
    text = _clean(reason) or reason
    letter_id = await _letter(ctx, claim, "denied", text, staff.actor, None)
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        claim = await queries.load(session, claim_id, lock=True)
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
            claim = await queries.load(session, claim_id, lock=True)
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
        return await queries.document(session, claim_id, document_id)


# -- reading ---------------------------------------------------------------------------------------------
async def one(ctx: PluginContext, claim_id: int, *, replayed: bool = False) -> ClaimView:
    """A claim with its documents, as the API shows it."""
    async with ctx.db.session() as session:
        claim = await queries.load(session, claim_id)
        docs = await queries.documents(session, claim_id)
    return view(claim, ctx.clock.now(), ctx.config, docs, replayed=replayed)


async def list_claims(ctx: PluginContext, *, status: str | None, account_id: str | None) -> list[ClaimView]:
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        rows = await queries.listed(session, status=status, account_id=account_id)
        return [view(c, now, ctx.config) for c in rows]
