"""Use cases of the escalations plugin: raise, take in, decide, resolve, create the plan, mail a section.

Every write runs in one transaction with its event and audit record, so a refused request leaves nothing
half-written; a CCB write that must precede it (a pay plan, a customer contact) carries an idempotency key
so that a retry after a failure replays it instead of writing twice. Refusals are :class:`InputError`
naming the field: an unknown account or escalation 404, a decision by the wrong person 403, a wrong
status 409. The JSON API and the queue pages call the same methods.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.contract import PluginContext
from core.contract.ccb import Invalid, NotFound, PayPlanError
from core.contract.ccb import port as p
from core.contract.contact import CONTACT_HEADER, ContactAccess, ContactGuard
from core.contract.inputs import InputError
from core.contract.mail import MailError
from core.contract.redact import redact
from core.contract.staff import Staff
from plugins.escalations import events, queries
from plugins.escalations.models import Escalation, SectionMail
from plugins.escalations.rules import (
    EscalationConfig,
    Kind,
    PlanTerms,
    Queue,
    Source,
    Status,
    beyond_standard_term,
    check_terms,
    decision_refusal,
    due_at,
    local_date,
    route,
)
from plugins.escalations.schemas import IntakeIn, RaiseIn, SectionMailIn, plan_terms


def _clean(text: str | None) -> str | None:
    """Free text is redacted before storage (ARCHITECTURE §6); blank means none."""
    if text is None or not text.strip():
        return None
    return redact(text.strip())


class EscalationService:
    """The escalations plugin's use cases over its context."""

    def __init__(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        self.config: EscalationConfig = ctx.config

    # -- reads -----------------------------------------------------------------------------------------
    async def escalations(self, queue: Queue | None, status: Status | None) -> list[Escalation]:
        async with self.ctx.db.session() as session:
            return await queries.escalations(session, queue, status)

    async def escalation(self, escalation_id: int) -> Escalation:
        async with self.ctx.db.session() as session:
            found = await queries.escalation(session, escalation_id)
        if found is None:
            raise InputError("escalation_id", f"no escalation #{escalation_id}", 404)
        return found

    async def queue_of(self, escalation_id: int) -> Queue | None:
        async with self.ctx.db.session() as session:
            found = await queries.escalation(session, escalation_id)
        return None if found is None else Queue(found.queue)

    async def board(self, queues: list[Queue]) -> tuple[list[Escalation], list[Escalation]]:
        """The queues' open escalations and their latest decisions (the queue pages)."""
        names = [q.value for q in queues]
        async with self.ctx.db.session() as session:
            return await queries.open_in_queues(session, names), await queries.decided_in_queues(
                session, names
            )

    async def still_open_of(self, actor: str) -> list[int]:
        async with self.ctx.db.session() as session:
            return await queries.still_open_of(session, actor)

    # -- raising ---------------------------------------------------------------------------------------
    async def _account_exists(self, account_id: str) -> None:
        try:
            await self.ctx.ccb.get_balance(account_id)  # read and dropped: the port has no existence probe
        except NotFound:
            raise InputError("account_id", f"no account {account_id}", 404) from None

    async def _insert(self, esc: Escalation, actor: str) -> tuple[Escalation, bool]:
        """Insert once per idempotency key, even when two identical submissions race."""
        ctx = self.ctx
        key = esc.idempotency_key
        try:
            async with ctx.db.session() as session:
                if key is not None:
                    earlier = await queries.by_key(session, key)
                    if earlier is not None:
                        return earlier, True
                session.add(esc)
                await session.flush()
                ctx.events.emit(
                    session, events.RAISED, events.changed(esc, actor, esc.raised_at), actor=actor
                )
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
                earlier = await queries.by_key(session, key)
            if earlier is None:
                raise
            return earlier, True
        return esc, False

    async def raise_escalation(
        self, guard: ContactGuard, data: RaiseIn, key: str | None
    ) -> tuple[Escalation, bool]:
        """An escalation from the caller's verified contact, routed to its queue with its SLA deadline."""
        config = self.config
        now = self.ctx.clock.now()
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
                    PlanTerms(
                        t.amount_cents, t.installments, t.first_due, t.cadence, _clean(t.hardship_reason)
                    ),
                    local_date(now),
                )
            except PayPlanError as exc:
                raise InputError(f"terms.{exc.field}", exc.message) from None
            terms = msgspec.to_builtins(t)
            terms["hardship_reason"] = _clean(t.hardship_reason)
        elif data.terms is not None:
            raise InputError("terms", "only a special payment plan has terms")
        await self._account_exists(data.account_id)
        access = await guard.account(
            data.account_id, purpose="raise an escalation", topic="escalation", change=True
        )
        if access.contact_id is None:
            # Issue 8 §4: a CSR escalates from a contact; a reason header alone names no customer request.
            raise InputError(CONTACT_HEADER, "raise an escalation from the caller's verified contact", 403)
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
        found, replayed = await self._insert(esc, access.actor)
        if not replayed:
            await guard.note_change(access, "escalation", f"escalation #{found.id} ({found.kind}) to {queue}")
        return found, replayed

    async def cro_intake(self, staff: Staff, data: IntakeIn, key: str | None) -> tuple[Escalation, bool]:
        """An escalation e-mailed to the Customer Relations Office, keyed in by the CRO or a manager."""
        now = self.ctx.clock.now()
        if data.account_id is not None:
            await self._account_exists(data.account_id)
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
            due_at=due_at(now, Queue.CRO, data.urgency, self.config),
            idempotency_key=key,
        )
        return await self._insert(esc, staff.actor)

    # -- deciding --------------------------------------------------------------------------------------
    async def _locked(self, session: AsyncSession, escalation_id: int) -> Escalation:
        found = await queries.escalation(session, escalation_id, lock=True)
        if found is None:
            raise InputError("escalation_id", f"no escalation #{escalation_id}", 404)
        return found

    async def decide(self, staff: Staff, escalation_id: int, *, approve: bool, reason: str) -> Escalation:
        """Approve or deny an open escalation, recording who decided and why (issue 8 §4)."""
        ctx = self.ctx
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            esc = await self._locked(session, escalation_id)
            refusal = decision_refusal(
                queue=Queue(esc.queue),
                role=staff.role.value,
                actor=staff.actor,
                requested_by=esc.requested_by,
                config=self.config,
            )
            if refusal is not None:
                raise InputError("decided_by", refusal, 403)
            if esc.status != Status.OPEN:
                raise InputError("status", f"escalation #{esc.id} is already {esc.status}", 409)
            esc.status = (Status.APPROVED if approve else Status.DENIED).value
            esc.decided_at, esc.decided_by = now, staff.actor
            esc.decision_reason = _clean(reason)
            subject = events.APPROVED if approve else events.DENIED
            ctx.events.emit(session, subject, events.changed(esc, staff.actor, now), actor=staff.actor)
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

    async def resolve(self, staff: Staff, escalation_id: int, resolution: str) -> Escalation:
        """Close an escalation; a CRO requester is mailed that it is resolved (in the same transaction).

        The queue's deciders may resolve an open or approved escalation; the requester may resolve their
        own once it is approved (they did what was approved). Resolving twice answers the first resolution.
        """
        ctx, config = self.ctx, self.config
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            esc = await self._locked(session, escalation_id)
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
            ctx.events.emit(
                session, events.RESOLVED, events.changed(esc, staff.actor, now), actor=staff.actor
            )
            await ctx.audit.append(
                session,
                actor=staff.actor,
                action="escalation.resolved",
                target=f"esc_escalation:{esc.id}",
                detail={"kind": esc.kind, "account_id": esc.account_id, "mailed": bool(esc.requester_email)},
            )
        return esc

    # -- acting on an approval -------------------------------------------------------------------------
    async def create_special_plan(
        self, guard: ContactGuard, escalation_id: int
    ) -> tuple[p.PayPlanView, bool]:
        """Create the CCB pay plan an approved special-payment-plan escalation approved (task 35).

        This is the only way to a plan beyond the standard terms: the terms are the approved ones, never
        the caller's, and the escalation is resolved with the plan's id in the same step.
        """
        ctx = self.ctx
        esc = await self.escalation(escalation_id)
        if esc.kind != Kind.SPECIAL_PAYMENT_PLAN or esc.account_id is None:
            raise InputError("kind", f"escalation #{esc.id} is a {esc.kind}, not a special payment plan")
        access = await guard.account(
            esc.account_id, purpose="create a special payment plan", topic="payment", change=True
        )
        if esc.status == Status.RESOLVED and esc.pay_plan_id is not None:
            return await ctx.ccb.get_pay_plan(esc.pay_plan_id), True
        if esc.status != Status.APPROVED:
            raise InputError(
                "status",
                f"escalation #{esc.id} is {esc.status}: a special payment plan needs its approval",
                409,
            )
        terms = plan_terms(esc)
        assert terms is not None  # raise_escalation refuses a special payment plan without terms
        try:
            plan = await ctx.ccb.create_pay_plan(
                p.CreatePayPlan(
                    account_id=esc.account_id,
                    installments=terms.installments,
                    first_due=terms.first_due,
                    cadence=terms.cadence,
                    total_cents=terms.amount_cents,
                    # docs/rules.md §6.3 rule 2: the hardship reason is recorded with the plan; an approved
                    # plan
                    # beyond 12 months without one names the approval instead, so the CCB record says why.
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
            current = await self._locked(session, esc.id)
            current.pay_plan_id = plan.pay_plan_id
            current.status = Status.RESOLVED.value
            current.resolved_at, current.resolved_by = now, access.actor
            current.resolution = f"pay plan {plan.pay_plan_id} created"
            ctx.events.emit(
                session, events.RESOLVED, events.changed(current, access.actor, now), actor=access.actor
            )
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
        await guard.note_change(
            access, "payment", f"special pay plan {plan.pay_plan_id} (escalation #{esc.id})"
        )
        return plan, False

    async def section_mail(
        self, guard: ContactGuard, data: SectionMailIn, key: str | None
    ) -> tuple[SectionMail, bool]:
        """Mail another section that an account needs more action, and record it on the account (task 9)."""
        ctx, config = self.ctx, self.config
        address = config.section_addresses.get(data.section)
        if address is None:
            known = ", ".join(sorted(config.section_addresses)) or "none configured"
            raise InputError("section", f"unknown section; known: {known}")
        key = key or f"section-mail:{uuid.uuid4().hex}"
        async with ctx.db.session() as session:
            earlier = await queries.section_mail_by_key(session, key)
            if earlier is None and data.escalation_id is not None:
                esc = await queries.escalation(session, data.escalation_id)
                if esc is None:
                    raise InputError("escalation_id", f"no escalation #{data.escalation_id}", 404)
                if esc.account_id != data.account_id:
                    raise InputError("escalation_id", "is about another account")
        await self._account_exists(data.account_id)
        access = await guard.account(
            data.account_id, purpose="mail another section", topic="section mail", change=True
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
        try:
            row = await self._record_section_mail(
                access, data, key, address, subject, body, contact.contact_id
            )
        except MailError as exc:
            raise InputError(exc.field, exc.message) from None
        except IntegrityError:
            async with ctx.db.session() as session:
                raced = await queries.section_mail_by_key(session, key)
            if raced is None:
                raise
            return raced, True
        await guard.note_change(access, "section mail", f"mailed {data.section}: {subject}")
        return row, False

    async def _record_section_mail(
        self,
        access: ContactAccess,
        data: SectionMailIn,
        key: str,
        address: str,
        subject: str,
        body: str,
        ccb_contact_id: str,
    ) -> SectionMail:
        """The outbox mail, its row, event and audit record, in one transaction."""
        ctx = self.ctx
        now = ctx.clock.now()
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
                ccb_contact_id=ccb_contact_id,
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
                    ccb_contact_id=ccb_contact_id,
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
        return row
