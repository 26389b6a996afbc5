"""The phone side of contacts: the screen pop opens a contact for every inbound call, the answering agent
takes it, and a released call makes its wrap-up due.
"""

from __future__ import annotations

from sqlalchemy import select

from core.bus import Envelope
from core.contact import events as ev
from core.contact.common import OPEN, WRAP_UP_DUE
from core.contact.contacts import Contacts
from core.contact.models import Contact
from core.telephony.events import DIALOG_ENDED, DialogEvent, DialogSnapshot

__all__ = ["LIVE_PARTICIPANT_STATES", "ScreenPop"]

# The phone participants still on a call; anything else (DROPPED, WRAP_UP, FAILED) has left it.
LIVE_PARTICIPANT_STATES = frozenset({"INITIATING", "INITIATED", "ALERTING", "ACTIVE", "HELD"})


class ScreenPop(Contacts):
    """Telephony's inbound callback and the dialog events that follow a call to its release."""

    async def screen_pop(self, dialog: DialogSnapshot) -> None:
        """Telephony's inbound callback: a phone contact with the caller's candidate accounts."""
        await self.open_contact(
            channel="phone", actor="system:phone", owner=None, ani=dialog.fromAddress, dialog_id=dialog.id
        )

    async def on_dialog_event(self, env: Envelope) -> None:
        """The answering agent takes an unowned screen-pop contact; a released call is due its wrap-up."""
        event = env.payload(DialogEvent)
        dialog = event.dialog
        released = env.subject == DIALOG_ENDED or not any(
            part.state in LIVE_PARTICIPANT_STATES for part in dialog.participants
        )
        async with self.db.session() as s:
            row = await s.scalar(select(Contact).where(Contact.dialog_id == dialog.id).with_for_update())
            if row is None or row.status != OPEN:
                return
            now = self.clock.now()
            if row.owner is None and event.cause == "ANSWER" and len(event.agentIds) == 1:
                row.owner = event.agentIds[0]
                row.updated_at = now
                self._add_action(s, row.id, env.actor, "call.answered", f"call answered by {row.owner}", None)
            if released:
                row.status = WRAP_UP_DUE
                row.wrap_up_due_at = now
                row.updated_at = now
                self._add_action(s, row.id, env.actor, "call.released", "call released", None)
                self.events.emit(
                    s,
                    ev.WRAP_UP_DUE,
                    ev.ContactRef(contact_id=row.id, dialog_id=row.dialog_id),
                    actor="system:phone",
                    correlation_id=env.id,
                )
