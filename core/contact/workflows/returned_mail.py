"""Returned mail (task 13): the work queue of mail that came back undeliverable, and its outcome — a new
mailing address written to the account in CCB, or "new contact needed" for the next contact.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.ccb import port as p
from core.ccb.errors import IllegalTransition, Invalid, NotFound
from core.ccb.ids import IdKind, new_id
from core.contact import events as ev
from core.contact.common import ServiceBase, View
from core.contact.guard import ContactAccess
from core.contact.models import ReturnedMail
from core.redact import redact
from core.staff import Staff

__all__ = ["ReturnedMailQueue", "ReturnedMailView"]


class ReturnedMailView(View, frozen=True):
    item_id: str
    account_id: str
    received_on: dt.date
    reason: str
    status: str
    outcome: str | None
    new_address: p.Address | None
    followup_todo_id: str | None
    logged_by: str
    logged_at: dt.datetime
    resolved_by: str | None
    resolved_at: dt.datetime | None
    customer_hidden: bool = False  # the new address is withheld (no verified contact, not a lead's queue)


class ReturnedMailQueue(ServiceBase):
    """Logging returned mail, the queue, and resolving an item."""

    @staticmethod
    def _mail_view(row: ReturnedMail) -> ReturnedMailView:
        return ReturnedMailView(
            item_id=row.id,
            account_id=row.account_id,
            received_on=row.received_on,
            reason=row.reason,
            status=row.status,
            outcome=row.outcome,
            new_address=msgspec.convert(row.new_address, p.Address) if row.new_address else None,
            followup_todo_id=row.followup_todo_id,
            logged_by=row.logged_by,
            logged_at=row.logged_at,
            resolved_by=row.resolved_by,
            resolved_at=row.resolved_at,
        )

    async def log_returned_mail(
        self, staff: Staff, account_id: str, reason: str, received_on: dt.date | None
    ) -> ReturnedMailView:
        await self.account_exists(account_id)
        today = self.today()
        day = received_on or today
        if day > today:
            raise Invalid("received_on", "is in the future")
        text = redact(" ".join(reason.split()))[:200] or "returned undeliverable"
        for attempt in (1, 2):
            try:
                async with self.db.session() as s:
                    row = ReturnedMail(
                        id=new_id(IdKind.CONTACT),
                        account_id=account_id,
                        received_on=day,
                        reason=text,
                        status="open",
                        logged_by=staff.actor,
                        logged_at=self.clock.now(),
                    )
                    s.add(row)
                    await s.flush()
                    self.events.emit(
                        s,
                        ev.RETURNED_MAIL_LOGGED,
                        ev.ReturnedMailLogged(item_id=row.id, account_id=account_id),
                        actor=staff.actor,
                    )
                    return self._mail_view(row)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def returned_mail(self, status: str | None) -> list[ReturnedMailView]:
        query = select(ReturnedMail).order_by(ReturnedMail.received_on, ReturnedMail.id)
        if status is not None:
            query = query.where(ReturnedMail.status == status)
        async with self.db.session() as s:
            return [self._mail_view(r) for r in (await s.scalars(query)).all()]

    async def returned_mail_item(self, item_id: str) -> ReturnedMailView:
        async with self.db.session() as s:
            row = await s.get(ReturnedMail, item_id)
            if row is None:
                raise NotFound("returned_mail", item_id)
            return self._mail_view(row)

    async def resolve_returned_mail(
        self,
        access: ContactAccess,
        item_id: str,
        outcome: Literal["new_address", "new_contact_needed"],
        address: p.Address | None,
        note: str | None,
    ) -> ReturnedMailView:
        """Record the outcome of a returned-mail item (task 13).

        A new address is written to the account in CCB (the account's mailing-address override) before
        the item is closed; "new contact needed" is recorded for the next contact with the customer.
        """
        item = await self.returned_mail_item(item_id)
        if item.status != "open":
            raise IllegalTransition("returned_mail", item_id, item.status, "resolve")
        if outcome == "new_address" and address is None:
            raise Invalid("address", "is required when the outcome is new_address")
        todo_id: str | None = None
        if outcome == "new_address" and address is not None:
            await self.ccb.set_mailing_address(
                p.SetMailingAddress(account_id=item.account_id, address=address),
                actor=access.actor,
                idempotency_key=f"returned-mail:{item_id}",
            )
        async with self.db.session() as s:
            row = await s.get(ReturnedMail, item_id, with_for_update=True)
            assert row is not None
            if row.status == "open":
                row.status = "resolved"
                row.outcome = outcome
                row.new_address = msgspec.to_builtins(address) if address is not None else None
                row.followup_todo_id = todo_id
                row.contact_id = access.contact_id
                row.resolved_by = access.actor
                row.resolved_at = self.clock.now()
                words = "new mailing address taken" if outcome == "new_address" else "new contact needed"
                if note and note.strip():
                    words += f" ({redact(note.strip())[:200]})"
                if access.contact_id is not None:
                    self._add_action(
                        s,
                        access.contact_id,
                        access.actor,
                        "change.mail",
                        f"returned mail {item_id}: {words}",
                        row.account_id,
                    )
                self.events.emit(
                    s,
                    ev.RETURNED_MAIL_RESOLVED,
                    ev.ReturnedMailResolved(
                        item_id=row.id, account_id=row.account_id, outcome=outcome, followup_todo_id=todo_id
                    ),
                    actor=access.actor,
                )
            return self._mail_view(row)
