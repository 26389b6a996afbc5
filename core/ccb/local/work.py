"""The local CCB's interactions and work: customer contacts (§1.12), premise notes and alerts (§1.13),
cases (§1.14), field activities (§1.15) and To Dos (§1.16).

Opening a case, scheduling a field activity and raising a To Do are also building blocks other areas use
(an estimate streak opens a case and schedules a read, a high/low read raises a To Do); completing a field
activity records a meter read and therefore lives with the reads (``core.ccb.local.reads``).

Section signs (§) cite docs/ccb-domain.md.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb import codes
from core.ccb import events as ev
from core.ccb import models as m
from core.ccb import port as p
from core.ccb.errors import IllegalTransition, Invalid
from core.ccb.keys import ten_digit_id, twelve_digit_id
from core.ccb.local.base import (
    MAX_TEXT,
    clean_text,
)
from core.ccb.local.views import LocalViews

__all__ = ["WorkMixin"]


class WorkMixin(LocalViews):
    """Customer contacts, premise notes, alerts, cases, field activities and To Dos."""

    async def list_customer_contacts(self, account_id: str) -> list[p.CustomerContactView]:
        async with self._db.read() as s:
            await self._get(s, m.Account, account_id, "account")
            rows = (
                await s.scalars(
                    select(m.CustomerContact)
                    .where(m.CustomerContact.account_id == account_id)
                    .order_by(m.CustomerContact.created_at.desc(), m.CustomerContact.id)
                )
            ).all()
            return [self._contact_view(c) for c in rows]

    async def list_premise_notes(self, premise_id: str) -> list[p.PremiseNoteView]:
        async with self._db.read() as s:
            await self._get(s, m.Premise, premise_id, "premise")
            rows = (
                await s.scalars(
                    select(m.PremiseNote)
                    .where(m.PremiseNote.premise_id == premise_id)
                    .order_by(m.PremiseNote.created_at.desc(), m.PremiseNote.id)
                )
            ).all()
        return [
            p.PremiseNoteView(
                note_id=n.id,
                premise_id=n.premise_id,
                text=n.text,
                created_by=n.created_by,
                created_at=n.created_at,
            )
            for n in rows
        ]

    async def get_case(self, case_id: str) -> p.CaseView:
        async with self._db.read() as s:
            return await self._case_view(s, await self._get(s, m.Case, case_id, "case"))

    async def get_field_activity(self, field_activity_id: str) -> p.FieldActivityView:
        async with self._db.read() as s:
            return self._fa_view(await self._get(s, m.FieldActivity, field_activity_id, "field_activity"))

    async def list_todos(self, role: str | None = None, status: str | None = None) -> list[p.ToDoView]:
        if status is not None and status not in set(codes.ToDoStatus):
            raise Invalid("status", "must be O, W or C")
        query = select(m.ToDo)
        if role is not None:
            query = query.where(m.ToDo.role == role)
        if status is not None:
            query = query.where(m.ToDo.status == status)
        async with self._db.read() as s:
            rows = (await s.scalars(query.order_by(m.ToDo.priority, m.ToDo.created_at, m.ToDo.id))).all()
            return [self._todo_view(t) for t in rows]

    async def add_customer_contact(
        self, request: p.AddCustomerContact, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.CustomerContactView:
        async def work(s: AsyncSession) -> p.CustomerContactView:
            ctype = codes.CONTACT_TYPES.get((request.contact_class, request.contact_type))
            if ctype is None:
                known = ", ".join(f"{a}/{b}" for a, b in sorted(codes.CONTACT_TYPES))
                raise Invalid("contact_type", f"unknown contact class/type; known: {known}")
            if ctype.requires_account and request.account_id is None:
                raise Invalid("account_id", f"is required for {ctype.contact_class}/{ctype.contact_type}")
            if ctype.requires_premise and request.premise_id is None:
                raise Invalid("premise_id", f"is required for {ctype.contact_class}/{ctype.contact_type}")
            if request.person_id is None and request.account_id is None and request.premise_id is None:
                raise Invalid("person_id", "a contact is about a person, an account or a premise")
            if request.person_id is not None:
                await self._get(s, m.Person, request.person_id, "person")
            if request.account_id is not None:
                await self._get(s, m.Account, request.account_id, "account")
            if request.premise_id is not None:
                await self._get(s, m.Premise, request.premise_id, "premise")
            person_id = request.person_id
            if person_id is None and request.account_id is not None:
                person_id = await s.scalar(
                    select(m.AccountPerson.person_id).where(
                        m.AccountPerson.account_id == request.account_id,
                        m.AccountPerson.is_main_customer.is_(True),
                    )
                )
            contact = m.CustomerContact(
                id=self._ids.contact_id(),
                contact_class=ctype.contact_class,
                contact_type=ctype.contact_type,
                # §1.12: a contact is person-based, or premise-based when no person is involved.
                entity="PER" if person_id is not None else "PREM",
                person_id=person_id,
                account_id=request.account_id,
                premise_id=request.premise_id,
                method=request.method,
                status=codes.ContactStatus.OPEN if request.open else codes.ContactStatus.CLOSED,
                log_text=clean_text(request.log_text, "log_text"),
                created_by=actor,
                created_at=self._now(),
            )
            s.add(contact)
            return self._contact_view(contact)

        return await self._write(
            "add_customer_contact", request, idempotency_key, p.CustomerContactView, work
        )

    async def resolve_customer_contact(
        self, request: p.ResolveCustomerContact, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.CustomerContactView:
        async def work(s: AsyncSession) -> p.CustomerContactView:
            contact = await self._get(s, m.CustomerContact, request.contact_id, "customer_contact", lock=True)
            if contact.status != codes.ContactStatus.OPEN:
                raise IllegalTransition("customer_contact", contact.id, contact.status, "resolve")
            note = clean_text(request.note, "note")
            stamp = self._now().isoformat(timespec="seconds")
            contact.log_text = f"{contact.log_text}\n[{stamp} {actor}] {note}"[: MAX_TEXT * 4]
            contact.status = codes.ContactStatus.CLOSED
            return self._contact_view(contact)

        return await self._write(
            "resolve_customer_contact", request, idempotency_key, p.CustomerContactView, work
        )

    async def add_premise_note(
        self, request: p.AddPremiseNote, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PremiseNoteView:
        async def work(s: AsyncSession) -> p.PremiseNoteView:
            await self._get(s, m.Premise, request.premise_id, "premise")
            note = m.PremiseNote(
                id=ten_digit_id(self._ids),
                premise_id=request.premise_id,
                text=clean_text(request.text, "text"),
                created_by=actor,
                created_at=self._now(),
            )
            s.add(note)
            return p.PremiseNoteView(
                note_id=note.id,
                premise_id=note.premise_id,
                text=note.text,
                created_by=actor,
                created_at=note.created_at,
            )

        return await self._write("add_premise_note", request, idempotency_key, p.PremiseNoteView, work)

    async def add_alert(
        self, request: p.AddAlert, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.AlertView:
        async def work(s: AsyncSession) -> p.AlertView:
            await self._get(s, m.Account, request.account_id, "account")
            alert_type = request.alert_type.strip().upper()
            if not re.fullmatch(r"[A-Z0-9_]{2,20}", alert_type):
                raise Invalid("alert_type", "must be 2 to 20 letters, digits or underscores")
            today = self._today()
            if request.expires_on is not None and request.expires_on < today:
                raise Invalid("expires_on", "must not be in the past")
            alert = m.Alert(
                id=ten_digit_id(self._ids),
                account_id=request.account_id,
                alert_type=alert_type,
                text=clean_text(request.text, "text", limit=500),
                starts_on=today,
                expires_on=request.expires_on,
                created_by=actor,
                created_at=self._now(),
            )
            s.add(alert)
            return self._alert_view(alert)

        return await self._write("add_alert", request, idempotency_key, p.AlertView, work)

    async def _open_case(
        self,
        s: AsyncSession,
        case_type: str,
        summary: str,
        actor: str,
        *,
        account_id: str | None = None,
        person_id: str | None = None,
        premise_id: str | None = None,
        contact_id: str | None = None,
        meter_id: str | None = None,
    ) -> m.Case:
        ctype = codes.CASE_TYPES[case_type]
        now = self._now()
        case = m.Case(
            id=self._ids.case_id(),
            case_type=case_type,
            status=ctype.initial,
            account_id=account_id,
            person_id=person_id,
            premise_id=premise_id,
            contact_id=contact_id,
            meter_id=meter_id,
            summary=summary,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        s.add(case)
        await s.flush()
        s.add(
            m.CaseLog(
                case_id=case.id, seq=1, status=ctype.initial, note="opened", created_by=actor, created_at=now
            )
        )
        self._emit(
            s,
            "hub.ccb.case.opened",
            ev.CaseOpened(case_id=case.id, case_type=case_type, account_id=account_id, premise_id=premise_id),
            actor,
        )
        return case

    async def create_case(
        self, request: p.CreateCase, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.CaseView:
        async def work(s: AsyncSession) -> p.CaseView:
            if request.case_type not in codes.CASE_TYPES:
                raise Invalid("case_type", f"must be one of {', '.join(sorted(codes.CASE_TYPES))}")
            if request.account_id is None and request.person_id is None and request.premise_id is None:
                raise Invalid("account_id", "a case is about an account, a person or a premise")
            for kind, model, ident in (
                ("account", m.Account, request.account_id),
                ("person", m.Person, request.person_id),
                ("premise", m.Premise, request.premise_id),
                ("customer_contact", m.CustomerContact, request.contact_id),
                ("meter", m.Meter, request.meter_id),
            ):
                if ident is not None:
                    await self._get(s, model, ident, kind)  # type: ignore[arg-type]
            case = await self._open_case(
                s,
                request.case_type,
                clean_text(request.summary, "summary", limit=1000),
                actor,
                account_id=request.account_id,
                person_id=request.person_id,
                premise_id=request.premise_id,
                contact_id=request.contact_id,
                meter_id=request.meter_id,
            )
            await s.flush()
            return await self._case_view(s, case)

        return await self._write("create_case", request, idempotency_key, p.CaseView, work)

    async def transition_case(
        self, request: p.TransitionCase, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.CaseView:
        async def work(s: AsyncSession) -> p.CaseView:
            case = await self._get(s, m.Case, request.case_id, "case", lock=True)
            ctype = codes.CASE_TYPES[case.case_type]
            if not ctype.allows(case.status, request.to_status):
                raise IllegalTransition("case", case.id, case.status, f"move to {request.to_status}")
            now = self._now()
            case.status = request.to_status
            case.updated_at = now
            if request.to_status in ctype.final:
                case.closed_at = now
            last = await s.scalar(select(func.max(m.CaseLog.seq)).where(m.CaseLog.case_id == case.id))
            note = clean_text(request.note, "note", limit=2000, required=False)
            s.add(
                m.CaseLog(
                    case_id=case.id,
                    seq=int(last or 0) + 1,
                    status=request.to_status,
                    note=note,
                    created_by=actor,
                    created_at=now,
                )
            )
            await s.flush()
            self._emit(
                s,
                "hub.ccb.case.status_changed",
                ev.CaseStatusChanged(case_id=case.id, case_type=case.case_type, status=str(case.status)),
                actor,
            )
            return await self._case_view(s, case)

        return await self._write("transition_case", request, idempotency_key, p.CaseView, work)

    def _new_fa(
        self,
        fa_type: str,
        premise_id: str,
        actor: str,
        *,
        sp_id: str | None = None,
        sa_id: str | None = None,
        case_id: str | None = None,
        priority: int | None = None,
        scheduled_on: dt.date | None = None,
        instructions: str | None = None,
    ) -> m.FieldActivity:
        return m.FieldActivity(
            id=self._ids.field_activity_id(),
            fa_type=fa_type,
            priority=priority if priority is not None else codes.FA_TYPES[fa_type].default_priority,
            status=codes.FaStatus.PENDING,
            premise_id=premise_id,
            sp_id=sp_id,
            sa_id=sa_id,
            case_id=case_id,
            scheduled_on=scheduled_on,
            instructions=instructions,
            created_by=actor,
            created_at=self._now(),
        )

    def _add_fa(self, s: AsyncSession, fa: m.FieldActivity, actor: str) -> None:
        """Add an FA and announce it; a TROUBLE FA is also announced as a trouble ticket."""
        s.add(fa)
        ref = ev.FieldActivityRef(
            field_activity_id=fa.id, fa_type=fa.fa_type, premise_id=fa.premise_id, case_id=fa.case_id
        )
        self._emit(s, "hub.ccb.field_activity.created", ref, actor)
        if fa.fa_type == "TROUBLE":
            self._emit(s, "hub.ccb.trouble_ticket.created", ref, actor)

    async def create_field_activity(
        self, request: p.CreateFieldActivity, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.FieldActivityView:
        async def work(s: AsyncSession) -> p.FieldActivityView:
            if request.fa_type not in codes.FA_TYPES:
                raise Invalid("fa_type", f"must be one of {', '.join(sorted(codes.FA_TYPES))}")
            if request.priority is not None and not 1 <= request.priority <= 5:
                raise Invalid("priority", "must be 1 (most urgent) to 5")
            await self._get(s, m.Premise, request.premise_id, "premise")
            if request.sp_id is not None:
                sp = await self._get(s, m.ServicePoint, request.sp_id, "service_point")
                if sp.premise_id != request.premise_id:
                    raise Invalid("sp_id", "the service point is not at this premise")
            if request.sa_id is not None:
                await self._get(s, m.ServiceAgreement, request.sa_id, "service_agreement")
            if request.case_id is not None:
                await self._get(s, m.Case, request.case_id, "case")
            instructions = (
                clean_text(request.instructions, "instructions", required=False)
                if request.instructions
                else None
            )
            fa = self._new_fa(
                request.fa_type,
                request.premise_id,
                actor,
                sp_id=request.sp_id,
                sa_id=request.sa_id,
                case_id=request.case_id,
                priority=request.priority,
                scheduled_on=request.scheduled_on,
                instructions=instructions,
            )
            self._add_fa(s, fa, actor)
            return self._fa_view(fa)

        return await self._write("create_field_activity", request, idempotency_key, p.FieldActivityView, work)

    async def cancel_field_activity(
        self, request: p.CancelFieldActivity, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.FieldActivityView:
        async def work(s: AsyncSession) -> p.FieldActivityView:
            fa = await self._get(s, m.FieldActivity, request.field_activity_id, "field_activity", lock=True)
            if codes.FaStatus.CANCELED not in codes.FA_TRANSITIONS.get(fa.status, frozenset()):
                raise IllegalTransition("field_activity", fa.id, fa.status, "cancel")
            fa.status = codes.FaStatus.CANCELED
            fa.remarks = clean_text(request.reason, "reason", limit=1000)
            return self._fa_view(fa)

        return await self._write("cancel_field_activity", request, idempotency_key, p.FieldActivityView, work)

    async def _add_todo(
        self,
        s: AsyncSession,
        *,
        role: str,
        todo_type: str,
        message: str,
        related_kind: str | None,
        related_id: str | None,
        priority: int,
        actor: str,
    ) -> m.ToDo:
        todo = m.ToDo(
            id=twelve_digit_id(self._ids),
            role=role,
            todo_type=todo_type,
            priority=priority,
            message=message,
            related_kind=related_kind,
            related_id=related_id,
            status=codes.ToDoStatus.OPEN,
            created_by=actor,
            created_at=self._now(),
        )
        s.add(todo)
        self._emit(
            s, "hub.ccb.todo.created", ev.ToDoCreated(todo_id=todo.id, role=role, todo_type=todo_type), actor
        )
        return todo

    async def create_todo(
        self, request: p.CreateToDo, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.ToDoView:
        async def work(s: AsyncSession) -> p.ToDoView:
            role = request.role.strip().upper()
            todo_type = request.todo_type.strip().upper()
            if not re.fullmatch(r"[A-Z0-9_]{2,30}", role):
                raise Invalid("role", "must be 2 to 30 letters, digits or underscores")
            if not re.fullmatch(r"[A-Z0-9_]{2,30}", todo_type):
                raise Invalid("todo_type", "must be 2 to 30 letters, digits or underscores")
            if not 1 <= request.priority <= 5:
                raise Invalid("priority", "must be 1 (most urgent) to 5")
            if (request.related_kind is None) != (request.related_id is None):
                raise Invalid("related_id", "give both related_kind and related_id, or neither")
            todo = await self._add_todo(
                s,
                role=role,
                todo_type=todo_type,
                message=clean_text(request.message, "message", limit=1000),
                related_kind=request.related_kind,
                related_id=request.related_id,
                priority=request.priority,
                actor=actor,
            )
            return self._todo_view(todo)

        return await self._write("create_todo", request, idempotency_key, p.ToDoView, work)

    async def update_todo(
        self, request: p.UpdateToDo, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.ToDoView:
        async def work(s: AsyncSession) -> p.ToDoView:
            todo = await self._get(s, m.ToDo, request.todo_id, "todo", lock=True)
            if request.status != todo.status:
                if request.status not in codes.TODO_TRANSITIONS.get(todo.status, frozenset()):
                    raise IllegalTransition("todo", todo.id, todo.status, f"move to {request.status}")
                todo.status = request.status
                if request.status == codes.ToDoStatus.COMPLETE:
                    todo.completed_at = self._now()
            if request.assigned_to is not None:
                todo.assigned_to = request.assigned_to.strip()[:64] or None
            elif request.status == codes.ToDoStatus.BEING_WORKED and todo.assigned_to is None:
                todo.assigned_to = actor
            return self._todo_view(todo)

        return await self._write("update_todo", request, idempotency_key, p.ToDoView, work)
