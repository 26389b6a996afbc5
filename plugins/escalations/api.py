"""HTTP side of the escalations plugin: JSON routes under /api/escalations, the queue pages under /ui.

Every write runs in one transaction with its event and audit record, so a refused request leaves nothing
half-written; a CCB write that must precede it (a pay plan, a customer contact) carries an idempotency key
so that a retry after a failure replays it instead of writing twice. Bodies are decoded strictly here:
malformed JSON answers 400, a well-formed body with a bad field 422 naming the field (``extra[0].key``),
an unknown account or escalation 404, a decision by the wrong person 403, a wrong status 409.

Pages: /ui/escalations (lead and supervisor queues) and /ui/escalations/cro, where a decider approves or
denies with a reason, resolves, and the CRO keys in an escalation received by mail; each form calls the
operation its JSON route calls and comes back with the same message and status when refused.

Streams: ``GET /api/escalations/stream`` sends the reader's own escalations' decisions (and, to a lead,
supervisor or the CRO, new escalations in their queue) as server-sent events; ``?limit=N`` ends it after
N events, which bounded clients (tests, probes) use.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, ServerSentEvent, ServerSentEventMessage
from litestar.utils.scope.state import ScopeState
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.ccb import port as p
from core.ccb.errors import Invalid, NotFound
from core.ccb.payplan import Cadence, PayPlanError
from core.contact import ContactAccess, require_verified
from core.contact.service import CONTACT_ROLES, service_for
from core.contract import PageSpec, PluginContext
from core.contract.inputs import InputError, decode_json, field_of
from core.mail import MailError
from core.redact import redact
from core.security import current_staff, hub_of
from core.staff import Staff
from core.web.pages import render
from plugins.escalations import events
from plugins.escalations.models import Escalation, SectionMail, by_key, decided_in_queues, open_in_queues
from plugins.escalations.service import (
    ACCOUNT_ID,
    Address,
    EscalationConfig,
    Kind,
    PlanTerms,
    Queue,
    Source,
    Status,
    Urgency,
    beyond_standard_term,
    check_terms,
    decision_refusal,
    due_at,
    is_overdue,
    local_date,
    route,
)

# Who may call what. Any contact worker raises and follows escalations; deciding is checked per queue
# (service.decision_refusal). CRO intake is keyed in by the CRO or a manager (supervisor, admin).
WORKERS = {"roles": list(CONTACT_ROLES)}
DECIDERS = {"roles": ["lead", "supervisor", "cro"]}
INTAKE = {"roles": ["cro", "supervisor", "admin"]}
STAFF = {"access": "staff"}
FORM = {"exclude_from_csrf": True}
IDEMPOTENCY_HEADER = "idempotency-key"

AccountId = Annotated[str, msgspec.Meta(pattern=ACCOUNT_ID)]
Summary = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
LongText = Annotated[str, msgspec.Meta(max_length=8000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=r"\S")]
Key = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:@<>+-]{8,120}$")]
Limit = Annotated[int | None, QueryParameter(ge=1, le=10_000)]


# -- request bodies --------------------------------------------------------------------------------------
class TermsIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Special payment plan terms; money in integer cents only."""

    amount_cents: Annotated[int, msgspec.Meta(gt=0, le=100_000_000)]
    installments: Annotated[int, msgspec.Meta(ge=1, le=120)]
    first_due: dt.date
    cadence: Cadence = "monthly"
    hardship_reason: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class RaiseIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An escalation raised from a verified contact (``X-Contact-Id``)."""

    kind: Kind
    account_id: AccountId
    summary: Summary
    urgency: Urgency = Urgency.NORMAL
    details: LongText | None = None
    terms: TermsIn | None = None
    idempotency_key: Key | None = None


class IntakeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An escalation e-mailed to the CRO by upper management or a Customer Care Manager."""

    requester_email: Address
    subject: Summary
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000, pattern=r"\S")]
    urgency: Urgency = Urgency.NORMAL
    account_id: AccountId | None = None
    idempotency_key: Key | None = None  # e.g. the mail's Message-ID


class DecideIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class ResolveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    resolution: Reason


class SectionMailIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    account_id: AccountId
    section: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    subject: Summary
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=8000, pattern=r"\S")]
    escalation_id: int | None = None
    idempotency_key: Key | None = None


# -- responses -------------------------------------------------------------------------------------------
class EscalationView(msgspec.Struct, kw_only=True):
    id: int
    kind: str
    urgency: str
    queue: str
    status: str
    source: str
    account_id: str | None
    contact_id: str | None
    summary: str
    details: str | None
    terms: dict[str, Any] | None
    beyond_standard_terms: bool
    requested_by: str
    requester_email: str | None
    raised_at: dt.datetime
    due_at: dt.datetime
    overdue: bool
    decided_at: dt.datetime | None
    decided_by: str | None
    decision_reason: str | None
    resolved_at: dt.datetime | None
    resolved_by: str | None
    resolution: str | None
    pay_plan_id: str | None
    replayed: bool = False


class SectionMailView(msgspec.Struct, kw_only=True):
    id: int
    account_id: str
    section: str
    address: str
    subject: str
    escalation_id: int | None
    mail_id: int
    ccb_contact_id: str
    sent_by: str
    sent_at: dt.datetime
    replayed: bool = False


def _terms(e: Escalation) -> PlanTerms | None:
    t = e.terms
    if not t:
        return None
    return PlanTerms(
        amount_cents=int(t["amount_cents"]),
        installments=int(t["installments"]),
        first_due=dt.date.fromisoformat(str(t["first_due"])),
        cadence=t.get("cadence", "monthly"),
        hardship_reason=t.get("hardship_reason"),
    )


def view(e: Escalation, now: dt.datetime, *, replayed: bool = False) -> EscalationView:
    terms = _terms(e)
    return EscalationView(
        id=e.id,
        kind=e.kind,
        urgency=e.urgency,
        queue=e.queue,
        status=e.status,
        source=e.source,
        account_id=e.account_id,
        contact_id=e.contact_id,
        summary=e.summary,
        details=e.details,
        terms=e.terms,
        beyond_standard_terms=terms is not None and beyond_standard_term(terms),
        requested_by=e.requested_by,
        requester_email=e.requester_email,
        raised_at=e.raised_at,
        due_at=e.due_at,
        overdue=is_overdue(e.status, e.due_at, now),
        decided_at=e.decided_at,
        decided_by=e.decided_by,
        decision_reason=e.decision_reason,
        resolved_at=e.resolved_at,
        resolved_by=e.resolved_by,
        resolution=e.resolution,
        pay_plan_id=e.pay_plan_id,
        replayed=replayed,
    )


def mail_view(m: SectionMail, *, replayed: bool = False) -> SectionMailView:
    return SectionMailView(
        id=m.id,
        account_id=m.account_id,
        section=m.section,
        address=m.address,
        subject=m.subject,
        escalation_id=m.escalation_id,
        mail_id=m.mail_id,
        ccb_contact_id=m.ccb_contact_id,
        sent_by=m.sent_by,
        sent_at=m.sent_at,
        replayed=replayed,
    )


# -- errors and decoding ---------------------------------------------------------------------------------
def _clean(text: str | None) -> str | None:
    """Free text is redacted before storage (ARCHITECTURE §6); blank means none."""
    if text is None or not text.strip():
        return None
    return redact(text.strip())


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


async def _note_change(request: Request[Any, Any, Any], access: ContactAccess, topic: str, text: str) -> None:
    """Log the change on the contact, so its wrap-up note mentions it (the guard's ``change=True``)."""
    service = service_for(hub_of(request))
    if service is not None:
        await service.note_change(access, topic, text)


# -- operations (shared by the API and the forms) --------------------------------------------------------
def _payload(e: Escalation, actor: str, at: dt.datetime) -> events.EscalationChanged:
    return events.EscalationChanged(
        escalation_id=e.id,
        kind=e.kind,
        urgency=e.urgency,
        queue=e.queue,
        status=e.status,
        source=e.source,
        account_id=e.account_id,
        requested_by=e.requested_by,
        due_at=e.due_at,
        changed_at=at,
        changed_by=actor,
        pay_plan_id=e.pay_plan_id,
    )


async def _insert(ctx: PluginContext, esc: Escalation, actor: str) -> tuple[Escalation, bool]:
    """Insert once per idempotency key, even when two identical submissions race."""
    key = esc.idempotency_key
    try:
        async with ctx.db.session() as session:
            if key is not None:
                earlier = await by_key(session, key)
                if earlier is not None:
                    return earlier, True
            session.add(esc)
            await session.flush()
            ctx.events.emit(session, events.RAISED, _payload(esc, actor, esc.raised_at), actor=actor)
            await ctx.audit.append(
                session,
                actor=actor,
                action="escalation.raised",
                target=f"esc_escalation:{esc.id}",
                detail={"kind": esc.kind, "queue": esc.queue, "account_id": esc.account_id},
            )
    except IntegrityError:
        if key is None:
            raise
        async with ctx.db.session() as session:
            earlier = await by_key(session, key)
        if earlier is None:
            raise
        return earlier, True
    return esc, False


async def raise_escalation(
    ctx: PluginContext, request: Request[Any, Any, Any], data: RaiseIn
) -> tuple[Escalation, bool]:
    config: EscalationConfig = ctx.config
    now = ctx.clock.now()
    if data.kind is Kind.CRO_REQUEST:
        raise InputError(
            "kind", "CRO requests come through the CRO intake (POST /api/escalations/cro-intake)"
        )
    terms: dict[str, Any] | None = None
    if data.kind is Kind.SPECIAL_PAYMENT_PLAN:
        if data.terms is None:
            raise InputError("terms", "a special payment plan needs its terms")
        t = data.terms
        try:
            check_terms(
                PlanTerms(t.amount_cents, t.installments, t.first_due, t.cadence, _clean(t.hardship_reason)),
                local_date(now),
            )
        except PayPlanError as exc:
            raise InputError(f"terms.{exc.field}", exc.message) from None
        terms = msgspec.to_builtins(t)
        terms["hardship_reason"] = _clean(t.hardship_reason)
    elif data.terms is not None:
        raise InputError("terms", "only a special payment plan has terms")
    key = _key(request, data.idempotency_key)
    await _account_exists(ctx, data.account_id)
    access = await require_verified(
        request, data.account_id, purpose="raise an escalation", topic="escalation", change=True
    )
    if access.contact_id is None:
        # Issue 8 §4: a CSR escalates from a contact; a reason header alone names no customer request.
        raise PermissionDeniedException(
            "raise an escalation from the caller's verified contact (X-Contact-Id)"
        )
    queue = route(data.kind, config)
    esc = Escalation(
        kind=data.kind.value,
        urgency=data.urgency.value,
        queue=queue.value,
        status=Status.OPEN.value,
        source=Source.CONTACT.value,
        account_id=data.account_id,
        contact_id=access.contact_id,
        summary=_clean(data.summary) or data.summary,
        details=_clean(data.details),
        terms=terms,
        requested_by=access.actor,
        raised_at=now,
        due_at=due_at(now, queue, data.urgency, config),
        idempotency_key=key,
    )
    found, replayed = await _insert(ctx, esc, access.actor)
    if not replayed:
        await _note_change(request, access, "escalation", f"escalation #{found.id} ({found.kind}) to {queue}")
    return found, replayed


async def cro_intake(
    ctx: PluginContext, request: Request[Any, Any, Any], data: IntakeIn
) -> tuple[Escalation, bool]:
    config: EscalationConfig = ctx.config
    now = ctx.clock.now()
    key = _key(request, data.idempotency_key)
    if data.account_id is not None:
        await _account_exists(ctx, data.account_id)
    staff = current_staff(request)
    esc = Escalation(
        kind=Kind.CRO_REQUEST.value,
        urgency=data.urgency.value,
        queue=Queue.CRO.value,
        status=Status.OPEN.value,
        source=Source.CRO_INTAKE.value,
        account_id=data.account_id,
        summary=_clean(data.subject) or data.subject,
        details=_clean(data.body),
        # The requester is the manager who wrote in; the staff member who keyed it is in the audit record.
        requested_by=f"mail:{data.requester_email.lower()}"[:64],
        requester_email=data.requester_email,
        raised_at=now,
        due_at=due_at(now, Queue.CRO, data.urgency, config),
        idempotency_key=key,
    )
    return await _insert(ctx, esc, staff.actor)


async def _locked(session: Any, escalation_id: int) -> Escalation:
    found: Escalation | None = await session.get(Escalation, escalation_id, with_for_update=True)
    if found is None:
        raise InputError("escalation_id", f"no escalation #{escalation_id}", 404)
    return found


async def decide(
    ctx: PluginContext, staff: Staff, escalation_id: int, *, approve: bool, reason: str
) -> Escalation:
    """Approve or deny an open escalation, recording who decided and why (issue 8 §4)."""
    config: EscalationConfig = ctx.config
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        esc = await _locked(session, escalation_id)
        refusal = decision_refusal(
            queue=Queue(esc.queue),
            role=staff.role.value,
            actor=staff.actor,
            requested_by=esc.requested_by,
            config=config,
        )
        if refusal is not None:
            raise InputError("decided_by", refusal, 403)
        if esc.status != Status.OPEN:
            raise InputError("status", f"escalation #{esc.id} is already {esc.status}", 409)
        esc.status = (Status.APPROVED if approve else Status.DENIED).value
        esc.decided_at, esc.decided_by = now, staff.actor
        esc.decision_reason = _clean(reason)
        subject = events.APPROVED if approve else events.DENIED
        ctx.events.emit(session, subject, _payload(esc, staff.actor, now), actor=staff.actor)
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action=f"escalation.{esc.status}",
            target=f"esc_escalation:{esc.id}",
            detail={
                "kind": esc.kind,
                "account_id": esc.account_id,
                "requested_by": esc.requested_by,
                "reason": esc.decision_reason,
                "terms": esc.terms,
            },
        )
    return esc


async def resolve(ctx: PluginContext, staff: Staff, escalation_id: int, resolution: str) -> Escalation:
    """Close an escalation; a CRO requester is mailed that it is resolved (in the same transaction).

    The queue's deciders may resolve an open or approved escalation; the requester may resolve their
    own once it is approved (they did what was approved). Resolving twice answers the first resolution.
    """
    config: EscalationConfig = ctx.config
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        esc = await _locked(session, escalation_id)
        if esc.status == Status.RESOLVED:
            return esc
        decider = staff.role.value in config.queue_roles.get(Queue(esc.queue), [])
        own = staff.actor == esc.requested_by and esc.status == Status.APPROVED
        if not (decider or own):
            raise InputError("resolved_by", f"the {esc.queue} queue or the requester after approval", 403)
        if esc.status == Status.DENIED:
            raise InputError("status", f"escalation #{esc.id} was denied", 409)
        esc.status = Status.RESOLVED.value
        esc.resolved_at, esc.resolved_by = now, staff.actor
        esc.resolution = _clean(resolution)
        if esc.requester_email:
            await ctx.mail.queue(
                session,
                to=[esc.requester_email],
                subject=f"Resolved: {esc.summary}"[:200],
                body=(
                    f'Your escalation #{esc.id} "{esc.summary}" was resolved on '
                    f"{local_date(now).isoformat()}.\n\n{esc.resolution}\n\n{config.cro_signature}\n"
                ),
                idempotency_key=f"escalations:{esc.id}:resolved",
            )
        ctx.events.emit(session, events.RESOLVED, _payload(esc, staff.actor, now), actor=staff.actor)
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="escalation.resolved",
            target=f"esc_escalation:{esc.id}",
            detail={"kind": esc.kind, "account_id": esc.account_id, "mailed": bool(esc.requester_email)},
        )
    return esc


async def create_special_plan(
    ctx: PluginContext, request: Request[Any, Any, Any], escalation_id: int
) -> tuple[p.PayPlanView, bool]:
    """Create the CCB pay plan an approved special-payment-plan escalation approved (task 35).

    This is the only way to a plan beyond the standard terms: the terms are the approved ones, never
    the caller's, and the escalation is resolved with the plan's id in the same step.
    """
    async with ctx.db.session() as session:
        esc = await session.get(Escalation, escalation_id)
    if esc is None:
        raise InputError("escalation_id", f"no escalation #{escalation_id}", 404)
    if esc.kind != Kind.SPECIAL_PAYMENT_PLAN or esc.account_id is None:
        raise InputError("kind", f"escalation #{esc.id} is a {esc.kind}, not a special payment plan")
    access = await require_verified(
        request, esc.account_id, purpose="create a special payment plan", topic="payment", change=True
    )
    if esc.status == Status.RESOLVED and esc.pay_plan_id is not None:
        return await ctx.ccb.get_pay_plan(esc.pay_plan_id), True
    if esc.status != Status.APPROVED:
        raise InputError(
            "status", f"escalation #{esc.id} is {esc.status}: a special payment plan needs its approval", 409
        )
    terms = _terms(esc)
    assert terms is not None  # raise_escalation refuses a special payment plan without terms
    try:
        plan = await ctx.ccb.create_pay_plan(
            p.CreatePayPlan(
                account_id=esc.account_id,
                installments=terms.installments,
                first_due=terms.first_due,
                cadence=terms.cadence,
                total_cents=terms.amount_cents,
                # rules §6.3 rule 2: the hardship reason is recorded with the plan; an approved plan beyond
                # 12 months without one names the approval instead, so the CCB record says why.
                hardship_reason=terms.hardship_reason
                or (f"approved escalation #{esc.id}" if beyond_standard_term(terms) else None),
            ),
            actor=access.actor,
            idempotency_key=f"escalations:{esc.id}:payplan",
        )
    except Invalid as exc:
        raise InputError(f"terms.{exc.field}", exc.message) from None
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        current = await _locked(session, esc.id)
        current.pay_plan_id = plan.pay_plan_id
        current.status = Status.RESOLVED.value
        current.resolved_at, current.resolved_by = now, access.actor
        current.resolution = f"pay plan {plan.pay_plan_id} created"
        ctx.events.emit(session, events.RESOLVED, _payload(current, access.actor, now), actor=access.actor)
        await ctx.audit.append(
            session,
            actor=access.actor,
            action="escalation.special_plan_created",
            target=f"esc_escalation:{esc.id}",
            detail={
                "account_id": esc.account_id,
                "pay_plan_id": plan.pay_plan_id,
                "approved_by": esc.decided_by,
            },
        )
    await _note_change(
        request, access, "payment", f"special pay plan {plan.pay_plan_id} (escalation #{esc.id})"
    )
    return plan, False


async def section_mail(
    ctx: PluginContext, request: Request[Any, Any, Any], data: SectionMailIn
) -> tuple[SectionMail, bool]:
    """Mail another section that an account needs more action, and record it on the account (task 9)."""
    config: EscalationConfig = ctx.config
    address = config.section_addresses.get(data.section)
    if address is None:
        known = ", ".join(sorted(config.section_addresses)) or "none configured"
        raise InputError("section", f"unknown section; known: {known}")
    key = _key(request, data.idempotency_key) or f"section-mail:{uuid.uuid4().hex}"
    async with ctx.db.session() as session:
        earlier = await session.scalar(select(SectionMail).where(SectionMail.idempotency_key == key))
        if earlier is None and data.escalation_id is not None:
            esc = await session.get(Escalation, data.escalation_id)
            if esc is None:
                raise InputError("escalation_id", f"no escalation #{data.escalation_id}", 404)
            if esc.account_id != data.account_id:
                raise InputError("escalation_id", "is about another account")
    await _account_exists(ctx, data.account_id)
    access = await require_verified(
        request, data.account_id, purpose="mail another section", topic="section mail", change=True
    )
    if earlier is not None:
        return earlier, True
    subject, body = _clean(data.subject) or data.subject, _clean(data.body) or data.body
    # The CCB record first, idempotent on the key: if the hub's transaction below fails, a retry with the
    # same key replays this contact rather than logging a second one.
    try:
        contact = await ctx.ccb.add_customer_contact(
            p.AddCustomerContact(
                contact_class="GENERAL",
                contact_type="INQUIRY",
                method="email",
                account_id=data.account_id,
                log_text=f"Mailed {data.section} ({address}): {subject}",
            ),
            actor=access.actor,
            idempotency_key=f"{key}:ccb",
        )
    except Invalid as exc:
        raise InputError(exc.field, exc.message) from None
    now = ctx.clock.now()
    try:
        async with ctx.db.session() as session:
            mail = await ctx.mail.queue(
                session,
                to=[address],
                subject=f"Account {data.account_id}: {subject}"[:200],
                body=f"{body}\n\nAccount: {data.account_id}\nFrom: {access.staff_name}\n",
                idempotency_key=f"escalations:{key}",
            )
            row = SectionMail(
                account_id=data.account_id,
                section=data.section,
                address=address,
                subject=subject,
                escalation_id=data.escalation_id,
                mail_id=mail.id,
                ccb_contact_id=contact.contact_id,
                sent_by=access.actor,
                sent_at=now,
                idempotency_key=key,
            )
            session.add(row)
            await session.flush()
            ctx.events.emit(
                session,
                events.SECTION_MAIL_SENT,
                events.SectionMailSent(
                    section_mail_id=row.id,
                    account_id=row.account_id,
                    section=row.section,
                    escalation_id=row.escalation_id,
                    mail_id=mail.id,
                    ccb_contact_id=contact.contact_id,
                    sent_by=access.actor,
                    sent_at=now,
                ),
                actor=access.actor,
            )
            await ctx.audit.append(
                session,
                actor=access.actor,
                action="escalation.section_mail",
                target=f"esc_section_mail:{row.id}",
                detail={"account_id": row.account_id, "section": row.section, "mail_id": mail.id},
            )
    except MailError as exc:
        raise InputError(exc.field, exc.message) from None
    except IntegrityError:
        async with ctx.db.session() as session:
            raced = await session.scalar(select(SectionMail).where(SectionMail.idempotency_key == key))
        if raced is None:
            raise
        return raced, True
    await _note_change(request, access, "section mail", f"mailed {data.section}: {subject}")
    return row, False


# -- stream ----------------------------------------------------------------------------------------------
def _concerns(staff: Staff, notice: events.Notice, config: EscalationConfig) -> bool:
    if notice.requested_by == staff.actor:
        return True
    return notice.event == "raised" and staff.role.value in config.queue_roles.get(Queue(notice.queue), [])


async def event_stream(
    ctx: PluginContext, staff: Staff, *, limit: int | None
) -> AsyncIterator[ServerSentEventMessage]:
    """``ready`` (the reader's open escalations), then each event concerning the reader."""
    config: EscalationConfig = ctx.config
    async with events.broadcaster_for(ctx).subscribe() as sub:
        # Subscribed before reading the state, so nothing published in between is missed.
        async with ctx.db.session() as session:
            mine = list(
                await session.scalars(
                    select(Escalation.id).where(
                        Escalation.requested_by == staff.actor,
                        Escalation.status.in_([Status.OPEN, Status.APPROVED]),
                    )
                )
            )
        yield ServerSentEventMessage(
            event="ready", data=msgspec.json.encode({"open": mine}).decode(), retry=3000
        )
        sent = 0
        while limit is None or sent < limit:
            try:
                notice = await asyncio.wait_for(sub.queue.get(), timeout=config.stream_keepalive_s)
            except TimeoutError:
                yield ServerSentEventMessage(comment="keep-alive")
                continue
            if not _concerns(staff, notice, config):
                continue
            yield ServerSentEventMessage(event=notice.event, data=notice.data)
            sent += 1


# -- JSON routes -----------------------------------------------------------------------------------------
def routes(ctx: PluginContext) -> list[Any]:
    def created(item: Any, replayed: bool) -> Response[Any]:
        return Response(item, status_code=200 if replayed else 201)

    @post("/", opt=WORKERS, summary="Raise an escalation from a verified contact")
    async def raise_route(request: Request[Any, Any, Any]) -> Response[EscalationView]:
        """Body ``RaiseIn``; header ``X-Contact-Id``. Idempotent on ``idempotency_key`` (or the
        ``Idempotency-Key`` header): a repeat answers 200 with the first record and ``replayed: true``."""
        data: RaiseIn = decode_json(await request.body(), RaiseIn)
        try:
            esc, replayed = await raise_escalation(ctx, request, data)
        except InputError as exc:
            raise exc.http() from None
        return created(view(esc, ctx.clock.now(), replayed=replayed), replayed)

    @post("/cro-intake", opt=INTAKE, summary="An escalation e-mailed to the Customer Relations Office")
    async def intake_route(request: Request[Any, Any, Any]) -> Response[EscalationView]:
        data: IntakeIn = decode_json(await request.body(), IntakeIn)
        try:
            esc, replayed = await cro_intake(ctx, request, data)
        except InputError as exc:
            raise exc.http() from None
        return created(view(esc, ctx.clock.now(), replayed=replayed), replayed)

    @get("/", opt=WORKERS, summary="Escalations (open by default), optionally one queue's")
    async def list_route(
        queue: Annotated[Queue | None, QueryParameter()] = None,
        status: Annotated[Status | None, QueryParameter()] = Status.OPEN,
    ) -> list[EscalationView]:
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            query = select(Escalation).order_by(Escalation.due_at, Escalation.id).limit(500)
            if queue is not None:
                query = query.where(Escalation.queue == queue)
            if status is not None:
                query = query.where(Escalation.status == status)
            return [view(e, now) for e in await session.scalars(query)]

    @get("/{escalation_id:int}", opt=WORKERS, summary="One escalation")
    async def get_route(escalation_id: FromPath[int]) -> EscalationView:
        async with ctx.db.session() as session:
            found = await session.get(Escalation, escalation_id)
        if found is None:
            raise InputError("escalation_id", f"no escalation #{escalation_id}", 404).http()
        return view(found, ctx.clock.now())

    async def _decide(request: Request[Any, Any, Any], escalation_id: int, approve: bool) -> EscalationView:
        data: DecideIn = decode_json(await request.body(), DecideIn)
        try:
            esc = await decide(
                ctx, current_staff(request), escalation_id, approve=approve, reason=data.reason
            )
        except InputError as exc:
            raise exc.http() from None
        return view(esc, ctx.clock.now())

    @post("/{escalation_id:int}/approve", opt=DECIDERS, status_code=200, summary="Approve, with a reason")
    async def approve_route(request: Request[Any, Any, Any], escalation_id: FromPath[int]) -> EscalationView:
        return await _decide(request, escalation_id, True)

    @post("/{escalation_id:int}/deny", opt=DECIDERS, status_code=200, summary="Deny, with a reason")
    async def deny_route(request: Request[Any, Any, Any], escalation_id: FromPath[int]) -> EscalationView:
        return await _decide(request, escalation_id, False)

    @post(
        "/{escalation_id:int}/resolve",
        opt=WORKERS,
        status_code=200,
        summary="Resolve (mails a CRO requester)",
    )
    async def resolve_route(request: Request[Any, Any, Any], escalation_id: FromPath[int]) -> EscalationView:
        data: ResolveIn = decode_json(await request.body(), ResolveIn)
        try:
            esc = await resolve(ctx, current_staff(request), escalation_id, data.resolution)
        except InputError as exc:
            raise exc.http() from None
        return view(esc, ctx.clock.now())

    @post(
        "/{escalation_id:int}/payment-plan", opt=WORKERS, summary="Create the approved special payment plan"
    )
    async def plan_route(
        request: Request[Any, Any, Any], escalation_id: FromPath[int]
    ) -> Response[p.PayPlanView]:
        try:
            plan, replayed = await create_special_plan(ctx, request, escalation_id)
        except InputError as exc:
            raise exc.http() from None
        return created(plan, replayed)

    @post("/section-mail", opt=WORKERS, summary="Mail another section about an account (recorded in the CCB)")
    async def section_mail_route(request: Request[Any, Any, Any]) -> Response[SectionMailView]:
        data: SectionMailIn = decode_json(await request.body(), SectionMailIn)
        try:
            row, replayed = await section_mail(ctx, request, data)
        except InputError as exc:
            raise exc.http() from None
        return created(mail_view(row, replayed=replayed), replayed)

    @get("/stream", opt=WORKERS, summary="Escalation events concerning the caller, as server-sent events")
    async def stream_route(request: Request[Any, Any, Any], limit: Limit = None) -> ServerSentEvent:
        return ServerSentEvent(event_stream(ctx, current_staff(request), limit=limit))

    return [
        raise_route,
        intake_route,
        list_route,
        get_route,
        approve_route,
        deny_route,
        resolve_route,
        plan_route,
        section_mail_route,
        stream_route,
    ]


# -- pages -----------------------------------------------------------------------------------------------
def _token_secret(token: str, key: str) -> str | None:
    """The random part of a CSRF token whose signature checks out under ``key``."""
    if len(token) <= CSRF_SECRET_LENGTH:
        return None
    secret, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    return secret if hmac.compare_digest(signature, generate_csrf_hash(secret, key)) else None


async def checked_form(request: Request[Any, Any, Any]) -> Any:
    """The posted form once its token and the CSRF cookie carry the same signed secret.

    Checked here, after the access guard, so an anonymous post is sent to the login page rather than
    refused as a bad token.
    """
    config = request.app.csrf_config
    if config is None:  # pragma: no cover - the hub always configures CSRF
        raise PermissionDeniedException("CSRF protection is not configured")
    form = await request.form()
    sent = request.headers.get(config.header_name) or form.get("_csrf_token")
    cookie = request.cookies.get(config.cookie_name)
    a = _token_secret(sent, config.secret) if isinstance(sent, str) else None
    b = _token_secret(cookie, config.secret) if cookie else None
    if a is None or b is None or not hmac.compare_digest(a, b):
        raise PermissionDeniedException("CSRF token verification failed")
    assert isinstance(sent, str)  # a token that is not a string failed the check above
    # The route skips the CSRF middleware, so a page re-rendered with an error gets its forms' token here.
    ScopeState.from_scope(request.scope).csrf_token = sent
    return form


def _form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


LEAD_QUEUES = [Queue.LEAD, Queue.SUPERVISOR]


def pages(ctx: PluginContext) -> list[PageSpec]:
    """The queues: a lead (or supervisor) approves or denies with a reason; the CRO keys in mailed
    escalations and resolves them. Every action is the same function the JSON routes call."""

    async def queue_page(
        request: Request[Any, Any, Any],
        queues: list[Queue],
        *,
        status_code: int = 200,
        error: str | None = None,
        values: dict[str, str] | None = None,
    ) -> Response[Any]:
        staff = current_staff(request)
        config: EscalationConfig = ctx.config
        now = ctx.clock.now()
        cro = Queue.CRO in queues
        async with ctx.db.session() as session:
            rows = await open_in_queues(session, [q.value for q in queues])
            decided = await decided_in_queues(session, [q.value for q in queues])
        return render(
            request,
            "escalations/queue.html",
            status_code=status_code,
            title="Customer Relations Office escalations" if cro else "Lead and supervisor escalations",
            items=[view(e, now) for e in rows],
            decided=[view(e, now) for e in decided],
            can_decide={q.value: staff.role.value in config.queue_roles.get(q, []) for q in queues},
            can_intake=cro and staff.role.value in INTAKE["roles"],
            urgencies=[u.value for u in Urgency],
            me=staff.actor,
            back="/ui/escalations/cro" if cro else "/ui/escalations/",
            error=error,
            values=values or {},
            # A fresh key per rendered intake form: submitting it twice files one escalation.
            form_key=f"form:{uuid.uuid4()}",
        )

    @get("/", opt=STAFF)
    async def lead_queue(request: Request[Any, Any, Any]) -> Response[Any]:
        return await queue_page(request, LEAD_QUEUES)

    @get("/cro", opt=STAFF)
    async def cro_queue(request: Request[Any, Any, Any]) -> Response[Any]:
        return await queue_page(request, [Queue.CRO])

    async def queues_of(escalation_id: int) -> list[Queue]:
        """The page an escalation lives on (the lead page when it does not exist: the error says so)."""
        async with ctx.db.session() as session:
            found = await session.get(Escalation, escalation_id)
        return [Queue.CRO] if found is not None and found.queue == Queue.CRO else LEAD_QUEUES

    async def form_action(request: Request[Any, Any, Any], escalation_id: int, action: str) -> Response[Any]:
        form = await checked_form(request)
        text = _form_text(form, "reason")
        staff = current_staff(request)
        try:
            if not text:
                raise InputError("reason", "give a reason")
            # The same bounds as the JSON body (DecideIn / ResolveIn): one place says what a reason is.
            msgspec.convert({"reason": text}, DecideIn)
            if action == "resolve":
                esc = await resolve(ctx, staff, escalation_id, text)
            else:
                esc = await decide(ctx, staff, escalation_id, approve=action == "approve", reason=text)
        except msgspec.ValidationError as exc:
            return await queue_page(
                request,
                await queues_of(escalation_id),
                status_code=422,
                error=f"reason: {str(exc).split(' - at ')[0]}",
            )
        except InputError as exc:
            return await queue_page(
                request, await queues_of(escalation_id), status_code=exc.status_code, error=str(exc)
            )
        return Redirect(
            "/ui/escalations/cro" if esc.queue == Queue.CRO else "/ui/escalations/", status_code=303
        )

    @post("/{escalation_id:int}/approve", opt={**DECIDERS, **FORM})
    async def approve_form(request: Request[Any, Any, Any], escalation_id: FromPath[int]) -> Response[Any]:
        return await form_action(request, escalation_id, "approve")

    @post("/{escalation_id:int}/deny", opt={**DECIDERS, **FORM})
    async def deny_form(request: Request[Any, Any, Any], escalation_id: FromPath[int]) -> Response[Any]:
        return await form_action(request, escalation_id, "deny")

    @post("/{escalation_id:int}/resolve", opt={**DECIDERS, **FORM})
    async def resolve_form(request: Request[Any, Any, Any], escalation_id: FromPath[int]) -> Response[Any]:
        return await form_action(request, escalation_id, "resolve")

    @post("/cro-intake", opt={**INTAKE, **FORM})
    async def intake_form(request: Request[Any, Any, Any]) -> Response[Any]:
        """An escalation e-mailed to the CRO, keyed in from the mail (the JSON route's ``IntakeIn``)."""
        form = await checked_form(request)
        names = ("requester_email", "subject", "body", "urgency", "account_id", "idempotency_key")
        values = {name: _form_text(form, name) for name in names}
        try:
            data = msgspec.convert({k: v for k, v in values.items() if v}, IntakeIn)
            await cro_intake(ctx, request, data)
        except msgspec.ValidationError as exc:
            error = f"{field_of(exc)}: {str(exc).split(' - at ')[0]}"
            return await queue_page(request, [Queue.CRO], status_code=422, error=error, values=values)
        except InputError as exc:
            return await queue_page(
                request, [Queue.CRO], status_code=exc.status_code, error=str(exc), values=values
            )
        return Redirect("/ui/escalations/cro", status_code=303)

    return [
        PageSpec(handler=lead_queue, nav_title="Escalations"),
        PageSpec(handler=cro_queue, nav_title="CRO queue"),
        PageSpec(handler=approve_form),
        PageSpec(handler=deny_form),
        PageSpec(handler=resolve_form),
        PageSpec(handler=intake_form),
    ]
