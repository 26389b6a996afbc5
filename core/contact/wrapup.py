"""Wrap-up (task 7): closing a contact, with its note written to CCB as a customer contact log entry or
a premise note. With no note from the CSR, one is drafted from the contact's action log.

A contact never verified for an account keeps its customer note in the hub only (CCB needs a person,
account or premise). While CCB is down the note is journaled as an offline form and the contact closes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from core.ccb import port as p
from core.ccb.errors import IllegalTransition, Invalid
from core.ccb.offline import RecordedOffline
from core.contact import events as ev
from core.contact.common import CLOSED, MAX_NOTE, NoteKind
from core.contact.contacts import ActionView, Contacts, ContactView
from core.contact.guard import AccessDenied
from core.redact import redact
from core.staff import Staff

__all__ = ["WrapUp", "classify_contact", "draft_note"]


def classify_contact(kinds: Iterable[str]) -> tuple[str, str]:
    """The CCB contact class/type for a contact's actions (docs/ccb-domain.md §1.12: the type says what it
    was)."""
    topics = {kind.split(".", 1)[1] for kind in kinds if "." in kind}
    if "service" in topics:
        return "SERVICE", "START_STOP"
    if "payment" in topics:
        return "BILLING", "PAYMENT"
    if "billing" in topics:
        return "BILLING", "INQUIRY"
    return "GENERAL", "INQUIRY"


def draft_note(channel: str, contact_id: str, owner: str | None, actions: Sequence[ActionView]) -> str:
    """A wrap-up note written from the contact's action log, for when the CSR gives none."""
    verified = [a.summary for a in actions if a.kind == "verify.pass"]
    failed = sum(1 for a in actions if a.kind == "verify.fail")
    reviewed: list[str] = []
    done: list[str] = []
    for action in actions:
        if action.kind.startswith("read.") and action.summary not in reviewed:
            reviewed.append(action.summary)
        elif action.kind.startswith("change."):
            done.append(action.summary)
    lines = [f"{channel.capitalize()} contact {contact_id}" + (f" handled by {owner}." if owner else ".")]
    if verified:
        lines.append("Verified: " + "; ".join(verified) + ".")
    if failed:
        lines.append(f"Failed verification attempts: {failed}.")
    if reviewed:
        lines.append("Reviewed: " + "; ".join(reviewed) + ".")
    lines.append("Actions: " + ("; ".join(done) + "." if done else "none."))
    return redact("\n".join(lines))


class WrapUp(Contacts):
    """Closing a contact and writing its note to CCB."""

    async def wrap_up(
        self,
        staff: Staff,
        contact_id: str,
        *,
        note_kind: NoteKind,
        note: str | None,
        premise_id: str | None = None,
        account_id: str | None = None,
    ) -> ContactView:
        """Close the contact; its note goes to CCB as a customer contact log or a premise note.

        With no note the hub drafts one from the contact's action log. A contact never verified for an
        account keeps its customer note in the hub only (CCB needs a person, account or premise).
        """
        async with self.db.session() as s:
            row = await self._load(s, contact_id)
            if row.status == CLOSED:
                raise IllegalTransition("contact", row.id, row.status, "wrap up")
            self._claim(staff, row)
            view = await self._view(s, row)
        text = redact(note.strip()) if note and note.strip() else None
        drafted = text is None
        if text is None:
            text = draft_note(view.channel, view.contact_id, staff.name, view.actions)
        if len(text) > MAX_NOTE:
            raise Invalid("note", f"must be at most {MAX_NOTE} characters")
        verified = view.verified_accounts
        if account_id is not None and account_id not in verified:
            raise AccessDenied(f"contact {contact_id} is not verified for account {account_id}")
        target_account = account_id or (verified[0] if verified else None)
        key = f"contact-wrap-up:{contact_id}"
        ccb_contact_id: str | None = None
        premise_note_id: str | None = None
        offline_form: int | None = None
        if note_kind == "premise" and premise_id is None:
            raise Invalid("premise_id", "is required for a premise note")
        try:
            ccb_contact_id, premise_note_id = await self._wrap_up_note(
                staff, contact_id, view, verified, note_kind, text, premise_id, target_account, key
            )
        except RecordedOffline as exc:
            # CCB is down and the note is journaled (task 17): the replay enters it under the same key, so
            # the contact closes now and the CSR takes the next call instead of holding this one open.
            offline_form = exc.form_id
        async with self.db.session() as s:
            row = await self._load(s, contact_id, lock=True)
            if row.status != CLOSED:
                now = self.clock.now()
                row.status = CLOSED
                row.closed_at = now
                row.updated_at = now
                row.note_kind = note_kind
                row.note = text
                row.ccb_contact_id = ccb_contact_id
                row.premise_note_id = premise_note_id
                summary = "contact wrapped up"
                if offline_form is not None:
                    summary += f"; note recorded as offline form {offline_form}"
                self._add_action(s, row.id, staff.actor, "call.wrapped_up", summary, target_account)
                self.events.emit(
                    s,
                    ev.WRAPPED_UP,
                    ev.ContactWrappedUp(
                        contact_id=row.id,
                        note_kind=note_kind,
                        drafted=drafted,
                        ccb_contact_id=ccb_contact_id,
                        premise_note_id=premise_note_id,
                        offline_form=offline_form,
                    ),
                    actor=staff.actor,
                )
                await self.audit.append(
                    s,
                    actor=staff.actor,
                    action="contact.wrapped_up",
                    target=f"contact:{row.id}",
                    detail={
                        "note_kind": note_kind,
                        "drafted": drafted,
                        "account": target_account,
                        "offline_form": offline_form,
                    },
                )
            closed = await self._view(s, row)
        return msgspec.structs.replace(closed, offline_form=offline_form) if offline_form else closed

    async def _wrap_up_note(
        self,
        staff: Staff,
        contact_id: str,
        view: ContactView,
        verified: Sequence[str],
        note_kind: NoteKind,
        text: str,
        premise_id: str | None,
        target_account: str | None,
        key: str,
    ) -> tuple[str | None, str | None]:
        """Write the wrap-up note to CCB; returns (customer contact id, premise note id)."""
        if note_kind == "premise":
            if premise_id is None:
                raise Invalid("premise_id", "is required for a premise note")
            await self._premise_of_verified(contact_id, verified, premise_id)
            premise_note = await self.ccb.add_premise_note(
                p.AddPremiseNote(premise_id=premise_id, text=text), actor=staff.actor, idempotency_key=key
            )
            return None, premise_note.note_id
        if target_account is None:
            return None, None
        contact_class, contact_type = classify_contact(a.kind for a in view.actions)
        logged = await self.ccb.add_customer_contact(
            p.AddCustomerContact(
                contact_class=contact_class,
                contact_type=contact_type,
                log_text=text,
                method=view.channel,  # type: ignore[arg-type]  # Channel is a subset of the port's
                account_id=target_account,
            ),
            actor=staff.actor,
            idempotency_key=key,
        )
        return logged.contact_id, None

    async def _premise_of_verified(self, contact_id: str, accounts: Sequence[str], premise_id: str) -> None:
        await self.ccb.get_premise(premise_id)  # unknown premise -> 404
        for account in accounts:
            summary = await self.ccb.get_account_summary(account)
            if any(prem.premise_id == premise_id for prem in summary.premises):
                return
        raise AccessDenied(
            f"contact {contact_id} is not verified for an account with service at premise {premise_id}"
        )
