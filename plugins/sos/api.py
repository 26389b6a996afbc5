"""HTTP side of Serving Our Seniors: JSON routes under /api/sos, the CSR's form and the CRO queue under /ui.

Filing, accepting, adding a contact, routing a need elsewhere and sending live here once and serve both the
JSON API and the pages. Calls to CCB go first and carry idempotency keys, so a retry after a failure
replays them instead of writing twice; the plugin's own writes (row, e-mail, event, audit) then commit in
one transaction. A refused request therefore leaves nothing half-written.

Status codes: 400 for a body that is not JSON; 422 naming the field for a body that breaks the schema or
a rule; 403 without a verified contact (or a role); 404 for an unknown referral, account or contact; 409
for an action the referral's status forbids; 502 when CCB refuses for another reason.

Page forms opt out of the framework's CSRF middleware and check the token themselves after the access
guard, so an anonymous post is sent to the login page rather than refused as a bad token.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Sequence
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import (
    NotFoundException,
    PermissionDeniedException,
    ServiceUnavailableException,
)
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb import port as p
from core.ccb.errors import CcbError, Invalid, NotFound
from core.contact.api import CONTACT_HEADER, REASON_HEADER
from core.contact.service import AccessDenied, ContactAccess, service_for
from core.contract import ContactHint, PageSpec, PluginContext
from core.contract.inputs import InputError, convert, decode_json
from core.redact import redact
from core.security import current_staff, hub_of
from core.staff import Staff
from core.web.pages import render
from plugins.sos import events
from plugins.sos.models import ContactFlag, ExtraContact, Referral, Routing, open_referrals
from plugins.sos.service import (
    LOCAL_TZ,
    ExtraContactLine,
    Mention,
    Reason,
    RouteTarget,
    SosConfig,
    Status,
    add_business_days,
    all_routed,
    ccb_note,
    eligibility_hints,
    overdue,
    referral_mail,
    review,
    sos_number,
)

# Who may do what (issue 7 §1): CSRs (and their leads) file from a contact; the Customer Relations Office
# works the queue; leads and supervisors watch it.
FILERS = {"roles": ["csr", "lead", "supervisor", "cro"]}
CRO = {"roles": ["cro"]}
VIEWERS = {"roles": ["cro", "lead", "supervisor", "admin"]}
STAFF = {"access": "staff"}
FORM = {"exclude_from_csrf": True}
ACCOUNT_ID = r"^[0-9]{10}$"

AccountId = Annotated[str, msgspec.Meta(pattern=ACCOUNT_ID)]
ContactId = Annotated[str, msgspec.Meta(pattern=ACCOUNT_ID)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=r"\S")]
Phone = Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9][0-9 ().-]{6,30}$")]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
IdempotencyKey = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:-]{8,120}$")]


# -- request bodies --------------------------------------------------------------------------------------
class FileIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A referral from a contact. The contact comes from ``contact_id`` or the ``X-Contact-Id`` header."""

    account_id: AccountId
    reasons: Annotated[list[Reason], msgspec.Meta(min_length=1, max_length=8)]
    contact_name: Name
    contact_phone: Phone
    consent: bool
    consent_note: Short | None = None
    details: Text | None = None
    contact_id: ContactId | None = None
    idempotency_key: IdempotencyKey | None = None


class ExtraContactIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    relationship: Annotated[str, msgspec.Meta(min_length=1, max_length=60, pattern=r"\S")]
    phone: Phone | None = None
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class RouteIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A need outside the program; ``target`` defaults to the configured route for the need."""

    need: Reason
    target: RouteTarget | None = None
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class FlagsIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    senior: bool
    mentions: Annotated[list[Mention], msgspec.Meta(max_length=len(Mention))] = []


# -- responses -------------------------------------------------------------------------------------------
class ExtraContactView(msgspec.Struct, kw_only=True):
    name: str
    relationship: str
    phone: str | None
    note: str | None


class RoutingView(msgspec.Struct, kw_only=True):
    need: str
    target: str
    note: str | None
    ccb_case_id: str | None
    field_activity_id: str | None
    mail_id: int | None
    routed_by: str


class ReferralView(msgspec.Struct, kw_only=True):
    id: int
    status: str
    account_id: str
    contact_id: str | None
    reasons: list[str]
    in_program: list[str]
    outside: dict[str, str]
    details: str | None
    contact_name: str
    contact_phone: str
    consent_note: str | None
    filed_at: dt.datetime
    filed_by: str
    due_at: dt.datetime
    overdue: bool
    sos_number: str | None
    accepted_by: str | None
    sent_at: dt.datetime | None
    mail_id: int | None
    ccb_contact_id: str | None
    extra_contacts: list[ExtraContactView]
    routings: list[RoutingView]
    replayed: bool = False


class HintOut(msgspec.Struct, kw_only=True):
    kind: str
    text: str
    severity: str


class FlagsView(msgspec.Struct, kw_only=True):
    contact_id: str
    senior: bool
    mentions: list[str]
    hints: list[HintOut]


# -- errors and decoding ---------------------------------------------------------------------------------
def _clean(text: str | None) -> str | None:
    """Free text is redacted before storage (ARCHITECTURE §6); blank means none."""
    if text is None or not text.strip():
        return None
    return redact(" ".join(text.split()))


def _ccb_error(exc: CcbError, field: str) -> InputError:
    if isinstance(exc, NotFound):
        return InputError(field, str(exc), 404)
    if isinstance(exc, Invalid):
        return InputError(exc.field, exc.message)
    return InputError(field, f"CCB refused: {exc}", 502)


# -- the verified-contact guard --------------------------------------------------------------------------
async def _require_verified_contact(
    request: Request[Any, Any, Any], account_id: str, contact_id: str | None
) -> ContactAccess:
    """The contact layer's verified-contact guard (ARCHITECTURE §6), for filing a referral on an account.

    Passes for the caller's open contact verified for ``account_id`` — named in the body or the
    ``X-Contact-Id`` header, because HTML forms cannot send headers — or for a lead, supervisor or the CRO
    giving ``X-Access-Reason`` (a referral reported by a field employee has no contact). Audited by the
    layer. The one place to repoint if the layer's guard changes.
    """
    service = service_for(hub_of(request))
    if service is None:
        raise ServiceUnavailableException("the contact layer is not running")
    try:
        return await service.authorize(
            current_staff(request),
            contact_id=contact_id,
            reason=request.headers.get(REASON_HEADER),
            purpose="SOS referral",
            account_id=account_id,
            topic="sos",
            change=True,
        )
    except AccessDenied as exc:
        raise PermissionDeniedException(str(exc)) from None
    except NotFound as exc:
        raise NotFoundException(str(exc)) from None


async def _require_contact(request: Request[Any, Any, Any], contact_id: str) -> None:
    """The contact exists and the caller may see it (its owner, or a supervising role)."""
    service = service_for(hub_of(request))
    if service is None:
        raise ServiceUnavailableException("the contact layer is not running")
    try:
        await service.get_contact(current_staff(request), contact_id)
    except AccessDenied as exc:
        raise PermissionDeniedException(str(exc)) from None
    except NotFound:
        raise InputError("contact_id", f"no contact {contact_id}", 404).http() from None


# -- views -----------------------------------------------------------------------------------------------
async def referral_view(
    ctx: PluginContext, session: AsyncSession, r: Referral, *, replayed: bool = False
) -> ReferralView:
    config: SosConfig = ctx.config
    extra = await session.scalars(
        select(ExtraContact).where(ExtraContact.referral_id == r.id).order_by(ExtraContact.id)
    )
    routed = await session.scalars(select(Routing).where(Routing.referral_id == r.id).order_by(Routing.id))
    split = review(r.reasons, config)
    open_now = r.status in (Status.FILED, Status.ACCEPTED)
    return ReferralView(
        id=r.id,
        status=r.status,
        account_id=r.account_id,
        contact_id=r.contact_id,
        reasons=list(r.reasons),
        in_program=list(split.in_program),
        outside=dict(split.outside),
        details=r.details,
        contact_name=r.contact_name,
        contact_phone=r.contact_phone,
        consent_note=r.consent_note,
        filed_at=r.filed_at,
        filed_by=r.filed_by,
        due_at=add_business_days(r.filed_at, config.sla_business_days, config.holidays),
        overdue=open_now and overdue(r.filed_at, ctx.clock.now(), config),
        sos_number=r.sos_number,
        accepted_by=r.accepted_by,
        sent_at=r.sent_at,
        mail_id=r.mail_id,
        ccb_contact_id=r.ccb_contact_id,
        extra_contacts=[
            ExtraContactView(name=e.name, relationship=e.relationship, phone=e.phone, note=e.note)
            for e in extra
        ],
        routings=[
            RoutingView(
                need=x.need,
                target=x.target,
                note=x.note,
                ccb_case_id=x.ccb_case_id,
                field_activity_id=x.field_activity_id,
                mail_id=x.mail_id,
                routed_by=x.routed_by,
            )
            for x in routed
        ],
        replayed=replayed,
    )


async def view_of(ctx: PluginContext, referral_id: int, *, replayed: bool = False) -> ReferralView:
    async with ctx.db.session() as session:
        found = await session.get(Referral, referral_id)
        if found is None:
            raise InputError("referral_id", f"no referral #{referral_id}", 404)
        return await referral_view(ctx, session, found, replayed=replayed)


# -- write operations (shared by the API and the forms) ---------------------------------------------------
async def _account(ctx: PluginContext, account_id: str) -> p.AccountSummary:
    try:
        return await ctx.ccb.get_account_summary(account_id)
    except CcbError as exc:
        raise _ccb_error(exc, "account_id") from None


async def _replay(session: AsyncSession, key: str) -> Referral | None:
    found: Referral | None = await session.scalar(select(Referral).where(Referral.idempotency_key == key))
    return found


def check_filing(data: FileIn) -> None:
    """Rules beyond the schema, checked before anything is read or written."""
    if not data.consent:
        # rules §5.4: an assistance program gets customer data only with the customer's consent.
        raise InputError("consent", "the customer must agree to the referral before it is filed")
    if len(set(data.reasons)) != len(data.reasons):
        raise InputError("reasons", "lists a reason twice")


async def file_referral(
    ctx: PluginContext, staff: Staff, access: ContactAccess, data: FileIn
) -> tuple[Referral, bool]:
    """File once per idempotency key, even when two identical submissions race; returns (row, replayed)."""
    now = ctx.clock.now()
    try:
        async with ctx.db.session() as session:
            if data.idempotency_key is not None:
                earlier = await _replay(session, data.idempotency_key)
                if earlier is not None:
                    return earlier, True
            referral = Referral(
                status=Status.FILED.value,
                account_id=data.account_id,
                contact_id=access.contact_id,
                access_reason=access.reason,
                reasons=[str(r) for r in data.reasons],
                details=_clean(data.details),
                contact_name=" ".join(data.contact_name.split()),
                contact_phone=data.contact_phone.strip(),
                consent_note=_clean(data.consent_note),
                filed_at=now,
                filed_by=staff.actor,
                idempotency_key=data.idempotency_key,
            )
            session.add(referral)
            await session.flush()
            ctx.events.emit(
                session,
                events.FILED,
                events.ReferralFiled(
                    referral_id=referral.id,
                    account_id=referral.account_id,
                    contact_id=referral.contact_id,
                    reasons=list(referral.reasons),
                    filed_at=now,
                    filed_by=staff.actor,
                ),
                actor=staff.actor,
            )
            await ctx.audit.append(
                session,
                actor=staff.actor,
                action="sos.referral_filed",
                target=f"sos_referral:{referral.id}",
                detail={"account": referral.account_id, "contact": referral.contact_id},
            )
    except IntegrityError:
        if data.idempotency_key is None:
            raise
        # The same key committed first in another transaction: answer with that record.
        async with ctx.db.session() as session:
            earlier = await _replay(session, data.idempotency_key)
        if earlier is None:
            raise
        return earlier, True
    return referral, False


async def _locked(session: AsyncSession, referral_id: int) -> Referral:
    found = await session.get(Referral, referral_id, with_for_update=True)
    if found is None:
        raise InputError("referral_id", f"no referral #{referral_id}", 404)
    return found


async def _peek(ctx: PluginContext, referral_id: int) -> Referral:
    async with ctx.db.session() as session:
        found = await session.get(Referral, referral_id)
    if found is None:
        raise InputError("referral_id", f"no referral #{referral_id}", 404)
    return found


async def accept(ctx: PluginContext, staff: Staff, referral_id: int) -> Referral:
    """Check the reasons against the program's services and the account, then give an SOS number.

    Accepting again answers the same number.
    """
    config: SosConfig = ctx.config
    current = await _peek(ctx, referral_id)
    if current.status in (Status.ACCEPTED, Status.SENT):
        return current
    if current.status != Status.FILED:
        raise InputError("status", f"referral #{referral_id} is {current.status}", 409)
    if not review(current.reasons, config).acceptable:
        raise InputError(
            "reasons", "none is a service of Serving Our Seniors: route each need to its section instead", 409
        )
    await _account(ctx, current.account_id)  # the account still exists in CCB (404 otherwise)
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        referral = await _locked(session, referral_id)
        if referral.status != Status.FILED:
            return referral  # accepted meanwhile by another click
        referral.status = Status.ACCEPTED.value
        referral.sos_number = sos_number(referral.id, now)
        referral.accepted_at, referral.accepted_by = now, staff.actor
        ctx.events.emit(
            session,
            events.ACCEPTED,
            events.ReferralAccepted(
                referral_id=referral.id,
                account_id=referral.account_id,
                sos_number=referral.sos_number,
                in_program=list(review(referral.reasons, config).in_program),
                accepted_by=staff.actor,
            ),
            actor=staff.actor,
        )
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="sos.referral_accepted",
            target=f"sos_referral:{referral.id}",
            detail={"sos_number": referral.sos_number},
        )
    return referral


async def add_contact(ctx: PluginContext, staff: Staff, referral_id: int, data: ExtraContactIn) -> None:
    async with ctx.db.session() as session:
        referral = await _locked(session, referral_id)
        if referral.status not in (Status.FILED, Status.ACCEPTED):
            raise InputError("status", f"referral #{referral_id} is {referral.status}", 409)
        session.add(
            ExtraContact(
                referral_id=referral.id,
                name=" ".join(data.name.split()),
                relationship=" ".join(data.relationship.split()),
                phone=data.phone.strip() if data.phone else None,
                note=_clean(data.note),
                added_by=staff.actor,
                added_at=ctx.clock.now(),
            )
        )
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="sos.contact_added",
            target=f"sos_referral:{referral.id}",
            detail={"relationship": data.relationship},
        )


async def route(ctx: PluginContext, staff: Staff, referral_id: int, data: RouteIn) -> Referral:
    """Hand a need outside the program to its section; routing the same need again changes nothing."""
    config: SosConfig = ctx.config
    need = str(data.need)
    if need in {str(s) for s in config.program_services}:
        raise InputError("need", f"{need} is served by Serving Our Seniors: accept the referral instead")
    target = data.target or config.outside_routes.get(data.need, RouteTarget.OTHER_SECTION)
    note = _clean(data.note)
    if target == RouteTarget.OTHER_SECTION and note is None:
        raise InputError("note", "name the section the need goes to")
    current = await _peek(ctx, referral_id)
    if current.status == Status.ROUTED:
        raise InputError("status", f"referral #{referral_id} is already routed", 409)
    async with ctx.db.session() as session:
        done = await session.scalar(
            select(Routing.id).where(Routing.referral_id == referral_id, Routing.need == need)
        )
    if done is not None:
        return current
    case_id: str | None = None
    fa_id: str | None = None
    if target == RouteTarget.FIELD_INVESTIGATION:
        case_id, fa_id = await _field_investigation(ctx, staff, current, need, note)
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        referral = await _locked(session, referral_id)
        mail_id: int | None = None
        if target == RouteTarget.HANDY_WORKER:
            message = await ctx.mail.queue(
                session,
                to=[config.handy_worker_email],
                subject=f"Repair request from Serving Our Seniors (referral #{referral.id})",
                body=(
                    f"The Customer Relations Office refers a senior customer for the handy-worker repair "
                    f"program.\nReach: {referral.contact_name}, {referral.contact_phone}\n"
                    f"Need: {need.replace('_', ' ')}\n" + (f"Note: {note}\n" if note else "")
                ),
                idempotency_key=f"sos:{referral.id}:route:{need}",
            )
            mail_id = message.id
        session.add(
            Routing(
                referral_id=referral.id,
                need=need,
                target=str(target),
                note=note,
                ccb_case_id=case_id,
                field_activity_id=fa_id,
                mail_id=mail_id,
                routed_by=staff.actor,
                routed_at=now,
            )
        )
        await session.flush()
        needs = list(await session.scalars(select(Routing.need).where(Routing.referral_id == referral.id)))
        closed = referral.status == Status.FILED and all_routed(referral.reasons, needs, config)
        if closed:
            referral.status, referral.closed_at = Status.ROUTED.value, now
        ctx.events.emit(
            session,
            events.ROUTED,
            events.ReferralRouted(
                referral_id=referral.id,
                account_id=referral.account_id,
                need=need,
                target=str(target),
                ccb_case_id=case_id,
                field_activity_id=fa_id,
                closed=closed,
                routed_by=staff.actor,
            ),
            actor=staff.actor,
        )
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="sos.need_routed",
            target=f"sos_referral:{referral.id}",
            detail={"need": need, "target": str(target), "case": case_id},
        )
    return referral


async def _field_investigation(
    ctx: PluginContext, staff: Staff, referral: Referral, need: str, note: str | None
) -> tuple[str, str | None]:
    """A CCB high-bill case for a field investigator, and a leak check at the service premise.

    Keyed on the referral and need, so a retry after a failure further on replays instead of duplicating.
    """
    summary = await _account(ctx, referral.account_id)
    premise_id = summary.premises[0].premise_id if summary.premises else None
    text = f"Suspected leak behind a high bill: field investigation for SOS referral #{referral.id}."
    if note:
        text += f" {note}"
    try:
        case = await ctx.ccb.create_case(
            p.CreateCase(
                case_type="HIGH_BILL",
                summary=text[:500],
                account_id=referral.account_id,
                premise_id=premise_id,
            ),
            actor=staff.actor,
            idempotency_key=f"sos:{referral.id}:case:{need}",
        )
        fa_id: str | None = None
        if premise_id is not None:
            fa = await ctx.ccb.create_field_activity(
                p.CreateFieldActivity(
                    fa_type="LEAK_CHECK", premise_id=premise_id, case_id=case.case_id, instructions=text[:500]
                ),
                actor=staff.actor,
                idempotency_key=f"sos:{referral.id}:fa:{need}",
            )
            fa_id = fa.field_activity_id
    except CcbError as exc:
        raise _ccb_error(exc, "need") from None
    return case.case_id, fa_id


async def send(ctx: PluginContext, staff: Staff, referral_id: int) -> Referral:
    """E-mail an accepted referral to the Department of Aging and note it on the CCB account.

    The CCB note goes first under a key of the referral, then the e-mail and the status commit together:
    a failure in between leaves the referral accepted, and sending again replays the note.
    """
    config: SosConfig = ctx.config
    current = await _peek(ctx, referral_id)
    if current.status == Status.SENT:
        return current
    if current.status != Status.ACCEPTED or current.sos_number is None:
        raise InputError("status", f"referral #{referral_id} is {current.status}: accept it first", 409)
    summary = await _account(ctx, current.account_id)
    try:
        note = await ctx.ccb.add_customer_contact(
            p.AddCustomerContact(
                contact_class="PROGRAM",
                contact_type="ASSISTANCE",
                log_text=ccb_note(current.sos_number, current.reasons),
                account_id=current.account_id,
            ),
            actor=staff.actor,
            idempotency_key=f"sos:{current.id}:ccb-note",
        )
    except CcbError as exc:
        raise _ccb_error(exc, "account_id") from None
    where = summary.premises[0].address if summary.premises else summary.mailing_address
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        referral = await _locked(session, referral_id)
        if referral.status == Status.SENT:
            return referral
        extra = await session.scalars(
            select(ExtraContact).where(ExtraContact.referral_id == referral.id).order_by(ExtraContact.id)
        )
        subject, body = referral_mail(
            number=current.sos_number,
            account_id=referral.account_id,
            customer_name=summary.main_customer.name,
            service_address=f"{where.line1}, {where.city} {where.zip}",
            contact_name=referral.contact_name,
            contact_phone=referral.contact_phone,
            reasons=list(review(referral.reasons, config).in_program),
            details=referral.details,
            consent_note=referral.consent_note,
            extra=[ExtraContactLine(e.name, e.relationship, e.phone, e.note) for e in extra],
        )
        message = await ctx.mail.queue(
            session,
            to=[config.department_of_aging_email],
            subject=subject,
            body=body,
            idempotency_key=f"sos:{referral.id}:mail",
        )
        referral.status = Status.SENT.value
        referral.sent_at, referral.sent_by = now, staff.actor
        referral.mail_id, referral.ccb_contact_id = message.id, note.contact_id
        referral.closed_at = now
        ctx.events.emit(
            session,
            events.SENT,
            events.ReferralSent(
                referral_id=referral.id,
                account_id=referral.account_id,
                sos_number=current.sos_number,
                mail_id=message.id,
                ccb_contact_id=note.contact_id,
                sent_by=staff.actor,
            ),
            actor=staff.actor,
        )
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="sos.referral_sent",
            target=f"sos_referral:{referral.id}",
            detail={"mail": message.id, "ccb_contact": note.contact_id},
        )
    return referral


async def set_flags(ctx: PluginContext, staff: Staff, contact_id: str, data: FlagsIn) -> ContactFlag:
    mentions = sorted({str(m) for m in data.mentions})
    async with ctx.db.session() as session:
        row = await session.get(ContactFlag, contact_id, with_for_update=True)
        if row is None:
            row = ContactFlag(contact_id=contact_id)
            session.add(row)
        row.senior, row.mentions = data.senior, mentions
        row.set_by, row.set_at = staff.actor, ctx.clock.now()
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="sos.contact_flagged",
            target=f"contact:{contact_id}",
            detail={"senior": data.senior, "mentions": mentions},
        )
    return row


# -- contact hints ---------------------------------------------------------------------------------------
def _contact_id(contact: Any) -> str | None:
    value = contact.get("contact_id") if isinstance(contact, dict) else getattr(contact, "contact_id", None)
    return str(value) if value else None


async def hints_for(ctx: PluginContext, contact_id: str) -> list[ContactHint]:
    async with ctx.db.session() as session:
        flag = await session.get(ContactFlag, contact_id)
        if flag is None:
            return []  # the usual case: nothing flagged on this contact
        filed = await session.scalar(select(Referral.id).where(Referral.contact_id == contact_id).limit(1))
    found = eligibility_hints(flag.senior, flag.mentions, referral_filed=filed is not None)
    return [
        ContactHint(kind=h.kind, text=h.text, severity="info", script=h.script)  # all are informational
        for h in found
    ]


async def contact_hints(ctx: PluginContext, contact: Any) -> list[ContactHint]:
    """Hints for a flagged contact: "may be eligible for SOS", "refer to HEAP / EZ-SAVE / Lifeline"."""
    contact_id = _contact_id(contact)
    return await hints_for(ctx, contact_id) if contact_id else []


# -- JSON routes -----------------------------------------------------------------------------------------
def _contact_of(request: Request[Any, Any, Any], data: FileIn) -> str | None:
    header = (request.headers.get(CONTACT_HEADER) or "").strip() or None
    if header is not None and data.contact_id not in (None, header):
        raise InputError("contact_id", f"differs from the {CONTACT_HEADER} header").http()
    return data.contact_id or header


def _with_header_key(request: Request[Any, Any, Any], data: FileIn) -> FileIn:
    header = request.headers.get("idempotency-key")
    if header is None:
        return data
    if data.idempotency_key not in (None, header):
        raise InputError("idempotency_key", "differs from the Idempotency-Key header").http()
    try:
        key: str = convert(header, IdempotencyKey)
    except InputError as exc:
        raise InputError("idempotency_key", str(exc).split(": ", 1)[-1]).http() from None
    return msgspec.structs.replace(data, idempotency_key=key)


async def file_checked(
    ctx: PluginContext, request: Request[Any, Any, Any], data: FileIn
) -> tuple[Referral, bool]:
    """Rules, the account (404), the verified contact (403), then the write."""
    check_filing(data)
    await _account(ctx, data.account_id)
    access = await _require_verified_contact(request, data.account_id, _contact_of(request, data))
    referral, replayed = await file_referral(ctx, current_staff(request), access, data)
    service = service_for(hub_of(request))
    if service is not None and not replayed:
        # Logged on the contact once done, so the wrap-up note drafted from its log mentions it.
        await service.note_change(access, "sos", f"Filed SOS referral #{referral.id}")
    return referral, replayed


def routes(ctx: PluginContext) -> list[Any]:
    @post("/referrals", opt=FILERS, summary="File an SOS referral from a contact")
    async def file_endpoint(request: Request[Any, Any, Any]) -> Response[ReferralView]:
        """Body: ``FileIn``. Idempotent on ``idempotency_key`` (or the ``Idempotency-Key`` header): a repeat
        answers 200 with the first record and ``replayed: true``."""
        data: FileIn = _with_header_key(request, decode_json(await request.body(), FileIn))
        try:
            referral, replayed = await file_checked(ctx, request, data)
            view = await view_of(ctx, referral.id, replayed=replayed)
        except InputError as exc:
            raise exc.http() from None
        return Response(view, status_code=200 if replayed else 201)

    @get("/referrals", opt=VIEWERS, summary="Referrals (open by default: filed and accepted)")
    async def list_endpoint(
        status: Annotated[Status | None, QueryParameter()] = None,
    ) -> list[ReferralView]:
        async with ctx.db.session() as session:
            if status is None:
                rows = await open_referrals(session)
            else:
                query = (
                    select(Referral).where(Referral.status == status).order_by(Referral.id.desc()).limit(500)
                )
                rows = list(await session.scalars(query))
            return [await referral_view(ctx, session, r) for r in rows]

    @get("/referrals/{referral_id:int}", opt=VIEWERS, summary="One referral")
    async def get_endpoint(referral_id: FromPath[int]) -> ReferralView:
        try:
            return await view_of(ctx, referral_id)
        except InputError as exc:
            raise exc.http() from None

    @post("/referrals/{referral_id:int}/accept", opt=CRO, status_code=200, summary="Accept: SOS number")
    async def accept_endpoint(request: Request[Any, Any, Any], referral_id: FromPath[int]) -> ReferralView:
        try:
            await accept(ctx, current_staff(request), referral_id)
            return await view_of(ctx, referral_id)
        except InputError as exc:
            raise exc.http() from None

    @post("/referrals/{referral_id:int}/contacts", opt=CRO, status_code=201, summary="Add a contact")
    async def contact_endpoint(request: Request[Any, Any, Any], referral_id: FromPath[int]) -> ReferralView:
        data: ExtraContactIn = decode_json(await request.body(), ExtraContactIn)
        try:
            await add_contact(ctx, current_staff(request), referral_id, data)
            return await view_of(ctx, referral_id)
        except InputError as exc:
            raise exc.http() from None

    @post("/referrals/{referral_id:int}/routes", opt=CRO, status_code=200, summary="Route a need elsewhere")
    async def route_endpoint(request: Request[Any, Any, Any], referral_id: FromPath[int]) -> ReferralView:
        data: RouteIn = decode_json(await request.body(), RouteIn)
        try:
            await route(ctx, current_staff(request), referral_id, data)
            return await view_of(ctx, referral_id)
        except InputError as exc:
            raise exc.http() from None

    @post("/referrals/{referral_id:int}/send", opt=CRO, status_code=200, summary="Send to the Dept. of Aging")
    async def send_endpoint(request: Request[Any, Any, Any], referral_id: FromPath[int]) -> ReferralView:
        try:
            await send(ctx, current_staff(request), referral_id)
            return await view_of(ctx, referral_id)
        except InputError as exc:
            raise exc.http() from None

    @post("/contacts/{contact_id:str}/flags", opt=FILERS, status_code=200, summary="Flag a contact")
    async def flags_endpoint(request: Request[Any, Any, Any], contact_id: FromPath[str]) -> FlagsView:
        """Body: ``FlagsIn`` (``senior``, ``mentions``: cannot_pay, isolation). Replaces earlier flags."""
        data: FlagsIn = decode_json(await request.body(), FlagsIn)
        await _require_contact(request, contact_id)
        row = await set_flags(ctx, current_staff(request), contact_id, data)
        hints = await hints_for(ctx, contact_id)
        return FlagsView(
            contact_id=contact_id,
            senior=row.senior,
            mentions=list(row.mentions),
            hints=[HintOut(kind=h.kind, text=h.text, severity=h.severity) for h in hints],
        )

    return [
        file_endpoint,
        list_endpoint,
        get_endpoint,
        accept_endpoint,
        contact_endpoint,
        route_endpoint,
        send_endpoint,
        flags_endpoint,
    ]


# -- pages -----------------------------------------------------------------------------------------------
def _signed_secret(token: str, key: str) -> str | None:
    """The random part of a CSRF token, if its signature checks out under ``key``."""
    if len(token) <= CSRF_SECRET_LENGTH:
        return None
    secret = token[:CSRF_SECRET_LENGTH]
    return (
        secret if hmac.compare_digest(token[CSRF_SECRET_LENGTH:], generate_csrf_hash(secret, key)) else None
    )


async def posted_form(request: Request[Any, Any, Any]) -> Any:
    """The form, once the posted CSRF token and the cookie carry the same signed secret (double submit)."""
    config = request.app.csrf_config
    if config is None:  # pragma: no cover - the hub always configures CSRF
        raise PermissionDeniedException("CSRF protection is not configured")
    form = await request.form()
    sent = request.headers.get(config.header_name) or form.get("_csrf_token")
    cookie = request.cookies.get(config.cookie_name)
    mine = _signed_secret(sent, config.secret) if isinstance(sent, str) else None
    theirs = _signed_secret(cookie, config.secret) if cookie else None
    if mine is None or theirs is None or not hmac.compare_digest(mine, theirs):
        raise PermissionDeniedException("CSRF token verification failed")
    return form


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def pages(ctx: PluginContext) -> list[PageSpec]:
    async def queue(
        request: Request[Any, Any, Any], *, status_code: int = 200, error: str | None = None
    ) -> Response[Any]:
        staff = current_staff(request)
        async with ctx.db.session() as session:
            rows = [await referral_view(ctx, session, r) for r in await open_referrals(session)]
        return render(
            request,
            "sos/queue.html",
            status_code=status_code,
            referrals=rows,
            can_work=staff.role.value in CRO["roles"],
            error=error,
            targets=[t.value for t in RouteTarget],
            needs=[r.value for r in Reason],
            tz=LOCAL_TZ,
        )

    async def form_page(
        request: Request[Any, Any, Any],
        *,
        status_code: int = 200,
        error: str | None = None,
        values: dict[str, Any] | None = None,
        filed: ReferralView | None = None,
    ) -> Response[Any]:
        return render(
            request,
            "sos/new.html",
            status_code=status_code,
            error=error,
            values=values or {},
            filed=filed,
            reasons=[r.value for r in Reason],
            # A fresh key per rendered form: submitting it twice files one referral.
            form_key=f"form:{secrets.token_urlsafe(18)}",
        )

    @get("/", opt=VIEWERS)
    async def queue_page(request: Request[Any, Any, Any]) -> Response[Any]:
        return await queue(request)

    @get("/new", opt=STAFF)
    async def new_page(
        request: Request[Any, Any, Any],
        contact_id: Annotated[str | None, QueryParameter()] = None,
        account_id: Annotated[str | None, QueryParameter()] = None,
        filed: Annotated[int | None, QueryParameter()] = None,
    ) -> Response[Any]:
        done: ReferralView | None = None
        if filed is not None:
            try:
                done = await view_of(ctx, filed)
            except InputError:
                done = None
        values = {"contact_id": contact_id or "", "account_id": account_id or ""}
        return await form_page(request, values=values, filed=done)

    @post("/new", opt={**FILERS, **FORM})
    async def new_form(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await posted_form(request)
        values: dict[str, Any] = {
            k: _text(form, k)
            for k in ("contact_id", "account_id", "contact_name", "contact_phone", "details", "consent_note")
        }
        values["reasons"] = [r for r in form.getall("reasons", []) if isinstance(r, str)]
        values["consent"] = _text(form, "consent") == "yes"
        try:
            data: FileIn = convert(
                {
                    "account_id": values["account_id"],
                    "contact_id": values["contact_id"] or None,
                    "reasons": values["reasons"],
                    "contact_name": values["contact_name"],
                    "contact_phone": values["contact_phone"],
                    "details": values["details"] or None,
                    "consent": values["consent"],
                    "consent_note": values["consent_note"] or None,
                    "idempotency_key": _text(form, "idempotency_key") or None,
                },
                FileIn,
            )
            referral, _ = await file_checked(ctx, request, data)
        except InputError as exc:
            return await form_page(request, status_code=exc.status_code, error=str(exc), values=values)
        except (PermissionDeniedException, NotFoundException) as exc:
            return await form_page(request, status_code=exc.status_code, error=exc.detail, values=values)
        return Redirect(f"/ui/sos/new?filed={referral.id}", status_code=303)

    @post("/{referral_id:int}/accept", opt={**CRO, **FORM})
    async def accept_form(request: Request[Any, Any, Any], referral_id: FromPath[int]) -> Response[Any]:
        await posted_form(request)
        try:
            await accept(ctx, current_staff(request), referral_id)
        except InputError as exc:
            return await queue(request, status_code=exc.status_code, error=str(exc))
        return Redirect("/ui/sos/", status_code=303)

    @post("/{referral_id:int}/send", opt={**CRO, **FORM})
    async def send_form(request: Request[Any, Any, Any], referral_id: FromPath[int]) -> Response[Any]:
        await posted_form(request)
        try:
            await send(ctx, current_staff(request), referral_id)
        except InputError as exc:
            return await queue(request, status_code=exc.status_code, error=str(exc))
        return Redirect("/ui/sos/", status_code=303)

    @post("/{referral_id:int}/contacts", opt={**CRO, **FORM})
    async def contact_form(request: Request[Any, Any, Any], referral_id: FromPath[int]) -> Response[Any]:
        form = await posted_form(request)
        try:
            raw = {
                "name": _text(form, "name"),
                "relationship": _text(form, "relationship"),
                "phone": _text(form, "phone") or None,
                "note": _text(form, "note") or None,
            }
            await add_contact(ctx, current_staff(request), referral_id, convert(raw, ExtraContactIn))
        except InputError as exc:
            return await queue(request, status_code=exc.status_code, error=str(exc))
        return Redirect("/ui/sos/", status_code=303)

    @post("/{referral_id:int}/route", opt={**CRO, **FORM})
    async def route_form(request: Request[Any, Any, Any], referral_id: FromPath[int]) -> Response[Any]:
        form = await posted_form(request)
        try:
            raw = {
                "need": _text(form, "need"),
                "target": _text(form, "target") or None,
                "note": _text(form, "note") or None,
            }
            await route(ctx, current_staff(request), referral_id, convert(raw, RouteIn))
        except InputError as exc:
            return await queue(request, status_code=exc.status_code, error=str(exc))
        return Redirect("/ui/sos/", status_code=303)

    handlers: Sequence[Any] = (new_form, accept_form, send_form, contact_form, route_form)
    return [
        PageSpec(handler=queue_page, nav_title="SOS referrals"),
        PageSpec(handler=new_page, nav_title="SOS referral form"),
        *(PageSpec(handler=h) for h in handlers),
    ]
