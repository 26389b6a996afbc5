"""Use cases of Serving Our Seniors: file a referral, accept it, add contacts, route needs elsewhere, send it.

Calls to CCB go first and carry idempotency keys, so a retry after a failure replays them instead of
writing twice; the plugin's own writes (row, e-mail, event, audit) then commit in one transaction. A
refused request therefore leaves nothing half-written. Refusals are :class:`InputError` naming the field:
422 for a broken rule, 404 for an unknown referral, account or contact, 409 for an action the referral's
status forbids, 502 when CCB refuses for another reason. The JSON API and the pages call the same
functions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.contract import ContactHint, PluginContext
from core.contract.ccb import CcbError, Invalid, NotFound
from core.contract.ccb import port as p
from core.contract.contact import ContactAccess, ContactGuard
from core.contract.inputs import InputError
from core.contract.redact import redact
from core.contract.staff import Staff
from plugins.sos import events, queries
from plugins.sos.models import ContactFlag, ExtraContact, Referral, Routing
from plugins.sos.rules import (
    ExtraContactLine,
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
from plugins.sos.schemas import (
    ExtraContactIn,
    ExtraContactView,
    FileIn,
    FlagsIn,
    ReferralView,
    RouteIn,
    RoutingView,
)


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


# -- views ------------------------------------------------------------------------------------------------
async def referral_view(
    ctx: PluginContext, session: AsyncSession, r: Referral, *, replayed: bool = False
) -> ReferralView:
    config: SosConfig = ctx.config
    extra = await queries.extra_contacts(session, r.id)
    routed = await queries.routings(session, r.id)
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
        found = await queries.referral(session, referral_id)
        if found is None:
            raise InputError("referral_id", f"no referral #{referral_id}", 404)
        return await referral_view(ctx, session, found, replayed=replayed)


# -- write operations (shared by the API and the forms) ---------------------------------------------------
async def _account(ctx: PluginContext, account_id: str) -> p.AccountSummary:
    try:
        return await ctx.ccb.get_account_summary(account_id)
    except CcbError as exc:
        raise _ccb_error(exc, "account_id") from None


def check_filing(data: FileIn) -> None:
    """Rules beyond the schema, checked before anything is read or written."""
    if not data.consent:
        # docs/rules.md §5.4: an assistance program gets customer data only with the customer's consent.
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
                earlier = await queries.referral_by_key(session, data.idempotency_key)
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
            earlier = await queries.referral_by_key(session, data.idempotency_key)
        if earlier is None:
            raise
        return earlier, True
    return referral, False


async def _locked(session: AsyncSession, referral_id: int) -> Referral:
    found = await queries.referral(session, referral_id, lock=True)
    if found is None:
        raise InputError("referral_id", f"no referral #{referral_id}", 404)
    return found


async def _peek(ctx: PluginContext, referral_id: int) -> Referral:
    async with ctx.db.session() as session:
        found = await queries.referral(session, referral_id)
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
        done = need in await queries.routed_needs(session, referral_id)
    if done:
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
        needs = await queries.routed_needs(session, referral.id)
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
        extra = await queries.extra_contacts(session, referral.id)
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
        row = await queries.contact_flag(session, contact_id, lock=True)
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
        flag = await queries.contact_flag(session, contact_id)
        if flag is None:
            return []  # the usual case: nothing flagged on this contact
        filed = await queries.referral_filed_from(session, contact_id)
    found = eligibility_hints(flag.senior, flag.mentions, referral_filed=filed)
    return [
        ContactHint(kind=h.kind, text=h.text, severity="info", script=h.script)  # all are informational
        for h in found
    ]


async def contact_hints(ctx: PluginContext, contact: Any) -> list[ContactHint]:
    """Hints for a flagged contact: "may be eligible for SOS", "refer to HEAP / EZ-SAVE / Lifeline"."""
    contact_id = _contact_id(contact)
    return await hints_for(ctx, contact_id) if contact_id else []


async def file_checked(
    ctx: PluginContext,
    staff: Staff,
    guard: ContactGuard,
    data: FileIn,
    contact_id: str | None,
) -> tuple[Referral, bool]:
    """Rules, the account (404), the verified contact (403), then the write; logged on the contact."""
    check_filing(data)
    await _account(ctx, data.account_id)
    # Passes for the caller's open contact verified for the account — from the header, or the form's field
    # (HTML forms cannot send headers) — or for a lead, supervisor or the CRO giving X-Access-Reason (a
    # referral reported by a field employee has no contact). Audited by the contact part.
    access = await guard.account(
        data.account_id, purpose="SOS referral", topic="sos", change=True, contact_id=contact_id
    )
    referral, replayed = await file_referral(ctx, staff, access, data)
    if not replayed:
        # Logged on the contact once done, so the wrap-up note drafted from its log mentions it.
        await guard.note_change(access, "sos", f"Filed SOS referral #{referral.id}")
    return referral, replayed


async def referral_views(ctx: PluginContext, status: Status | None) -> list[ReferralView]:
    """Referrals as views: the open ones (filed and accepted) oldest first, or one status newest first."""
    async with ctx.db.session() as session:
        if status is None:
            rows = await queries.open_referrals(session)
        else:
            rows = await queries.referrals_in(session, status)
        return [await referral_view(ctx, session, r) for r in rows]
