"""Contacts: one customer interaction each (call, counter visit, email), with its action log and the
running plugins' hints for the CSR's screen.

A contact is opened by hand or by the phone's screen pop; its ``candidates`` are the accounts whose
persons have the caller's number. Only its owner (or a supervising role) sees it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb.errors import Invalid, NotFound
from core.ccb.identity import normalize_phone
from core.ccb.ids import IdKind, new_id
from core.contact import events as ev
from core.contact.common import ACTIVE, OPEN, ServiceBase, View
from core.contact.guard import REASON_ROLES, AccessDenied
from core.contact.models import Contact, ContactAction, ContactVerification
from core.contract import ContactHint
from core.staff import Staff

__all__ = ["ActionView", "ContactSnapshot", "ContactView", "Contacts", "HintView", "gather_hints"]


class HintView(View, frozen=True):
    source: str
    kind: str
    text: str
    severity: str
    script: str | None = None


class ActionView(View, frozen=True):
    at: dt.datetime
    actor: str
    kind: str
    account_id: str | None
    summary: str


class ContactSnapshot(View, frozen=True):
    """What plugins get in ``hub_contact_hints``: ids and state only."""

    contact_id: str
    channel: str
    status: str
    dialog_id: str | None
    account_id: str | None
    candidates: list[str]
    verified_accounts: list[str]


class ContactView(View, frozen=True):
    contact_id: str
    channel: str
    status: str
    owner: str | None
    opened_by: str
    opened_at: dt.datetime
    ani: str | None
    dialog_id: str | None
    account_id: str | None
    candidates: list[str]
    verified_accounts: list[str]
    attempts_left: int
    locked: bool
    wrap_up_due_at: dt.datetime | None
    closed_at: dt.datetime | None
    note_kind: str | None
    note: str | None
    ccb_contact_id: str | None
    premise_note_id: str | None
    actions: list[ActionView] = []
    hints: list[HintView] = []
    # Only on the wrap-up's own answer: CCB was down and the note waits as this offline form (task 17).
    offline_form: int | None = None

    def snapshot(self) -> ContactSnapshot:
        return ContactSnapshot(
            contact_id=self.contact_id,
            channel=self.channel,
            status=self.status,
            dialog_id=self.dialog_id,
            account_id=self.account_id,
            candidates=list(self.candidates),
            verified_accounts=list(self.verified_accounts),
        )


async def gather_hints(
    calls: Sequence[tuple[str, Callable[[], Any]]],
    timeout_s: float,
    on_error: Callable[[str, BaseException], None],
) -> list[HintView]:
    """Run each plugin's ``hub_contact_hints`` (plain or awaitable result) under a timeout, in parallel.

    A plugin that raises, hangs or returns something other than ContactHints gives no hints and is
    reported through ``on_error``; the others are unaffected (ARCHITECTURE §3: isolation).
    """

    async def one(source: str, call: Callable[[], Any]) -> list[HintView]:
        try:
            async with asyncio.timeout(timeout_s):
                result = call()
                if inspect.isawaitable(result):
                    result = await result
            if result is None:
                return []
            if isinstance(result, ContactHint):
                result = [result]
            found = [msgspec.convert(h, ContactHint, from_attributes=True) for h in result]
        except Exception as exc:  # isolation: one plugin's failure never reaches the CSR
            if isinstance(exc, TimeoutError):
                exc = TimeoutError(f"hub_contact_hints took longer than {timeout_s:g}s")
            on_error(source, exc)
            return []
        return [
            HintView(source=source, kind=h.kind, text=h.text, severity=h.severity, script=h.script)
            for h in found
        ]

    results = await asyncio.gather(*(one(source, call) for source, call in calls))
    return [hint for chunk in results for hint in chunk]


class Contacts(ServiceBase):
    """Opening, finding and showing contacts; the other parts load and claim contacts through it."""

    async def _view(self, s: AsyncSession, row: Contact, *, actions: bool = True) -> ContactView:
        verified = (
            await s.scalars(
                select(ContactVerification.account_id)
                .where(ContactVerification.contact_id == row.id)
                .order_by(ContactVerification.verified_at, ContactVerification.account_id)
            )
        ).all()
        log_rows: Sequence[ContactAction] = []
        if actions:
            log_rows = (
                await s.scalars(
                    select(ContactAction).where(ContactAction.contact_id == row.id).order_by(ContactAction.id)
                )
            ).all()
        return ContactView(
            contact_id=row.id,
            channel=row.channel,
            status=row.status,
            owner=row.owner,
            opened_by=row.opened_by,
            opened_at=row.opened_at,
            ani=row.ani,
            dialog_id=row.dialog_id,
            account_id=row.account_id,
            candidates=list(row.candidates),
            verified_accounts=list(verified),
            attempts_left=max(0, self.config.max_failures_per_contact - row.verify_failures),
            locked=row.locked,
            wrap_up_due_at=row.wrap_up_due_at,
            closed_at=row.closed_at,
            note_kind=row.note_kind,
            note=row.note,
            ccb_contact_id=row.ccb_contact_id,
            premise_note_id=row.premise_note_id,
            actions=[
                ActionView(at=a.at, actor=a.actor, kind=a.kind, account_id=a.account_id, summary=a.summary)
                for a in log_rows
            ],
        )

    async def _load(self, s: AsyncSession, contact_id: str, *, lock: bool = False) -> Contact:
        row = await s.get(Contact, contact_id, with_for_update=lock)
        if row is None:
            raise NotFound("contact", contact_id)
        return row

    async def open_contact(
        self,
        *,
        channel: str,
        actor: str,
        owner: str | None,
        ani: str | None = None,
        account_id: str | None = None,
        dialog_id: str | None = None,
    ) -> ContactView:
        """Open a contact; ``candidates`` are the accounts whose persons have the caller's number."""
        digits: str | None = None
        if ani is not None:
            try:
                digits = normalize_phone(ani)
            except Invalid:
                if dialog_id is None:
                    raise Invalid("ani", "must be a 10-digit phone number") from None
                digits = None  # a withheld or internal caller id: the screen pop opens without candidates
        if account_id is not None:
            await self.account_exists(account_id)
        candidates = await self.ccb.find_accounts_by_phone(digits) if digits else []
        for attempt in (1, 2):
            contact_id = new_id(IdKind.CONTACT)
            now = self.clock.now()
            try:
                async with self.db.session() as s:
                    row = Contact(
                        id=contact_id,
                        channel=channel,
                        status=OPEN,
                        owner=owner,
                        opened_by=actor,
                        ani=digits,
                        dialog_id=dialog_id,
                        account_id=account_id,
                        candidates=candidates,
                        verify_failures=0,
                        locked=False,
                        opened_at=now,
                        updated_at=now,
                    )
                    s.add(row)
                    await s.flush()
                    summary = f"{channel} contact opened" + (f" for call {dialog_id}" if dialog_id else "")
                    self._add_action(s, contact_id, actor, "call.opened", summary, account_id)
                    self.events.emit(
                        s,
                        ev.OPENED,
                        ev.ContactOpened(
                            contact_id=contact_id,
                            channel=channel,
                            dialog_id=dialog_id,
                            candidates=len(candidates),
                        ),
                        actor=actor,
                    )
                    await self.audit.append(
                        s,
                        actor=actor,
                        action="contact.opened",
                        target=f"contact:{contact_id}",
                        detail={"channel": channel, "dialog_id": dialog_id, "candidates": len(candidates)},
                    )
                    return await self._view(s, row)
            except IntegrityError:
                # A random id drawn twice, or a second screen pop for the same call.
                if dialog_id is not None:
                    existing = await self.find_by_dialog(dialog_id)
                    if existing:
                        return existing[0]
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def get_contact(self, staff: Staff, contact_id: str) -> ContactView:
        async with self.db.read() as s:
            row = await self._load(s, contact_id)
            self._may_see(staff, row)
            view = await self._view(s, row)
        if self.hints is not None:
            view = msgspec.structs.replace(view, hints=await self.hints(staff, view.snapshot()))
        return view

    @staticmethod
    def _may_see(staff: Staff, row: Contact) -> None:
        # The owner, anyone while nobody owns it (the screen pop waits for its agent), and the supervising
        # roles; the action log of another CSR's contact is nobody else's business.
        if row.owner in (None, staff.name) or staff.role in REASON_ROLES:
            return
        raise AccessDenied(f"contact {row.id} belongs to {row.owner}")

    async def find_by_dialog(self, dialog_id: str) -> list[ContactView]:
        async with self.db.read() as s:
            rows = (await s.scalars(select(Contact).where(Contact.dialog_id == dialog_id))).all()
            return [await self._view(s, r, actions=False) for r in rows]

    async def my_contacts(self, staff: Staff) -> list[ContactView]:
        async with self.db.read() as s:
            rows = (
                await s.scalars(
                    select(Contact)
                    .where(Contact.owner == staff.name, Contact.status.in_(sorted(ACTIVE)))
                    .order_by(Contact.opened_at.desc())
                )
            ).all()
            return [await self._view(s, r, actions=False) for r in rows]

    def _claim(self, staff: Staff, row: Contact) -> None:
        if row.owner is None:
            row.owner = staff.name
        elif row.owner != staff.name:
            raise AccessDenied(f"contact {row.id} belongs to {row.owner}")
