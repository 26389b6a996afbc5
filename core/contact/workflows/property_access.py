"""Property access for the field crews: gate code, dog, hazards and reader notes at a premise."""

from __future__ import annotations

import msgspec

from core.ccb import port as p
from core.contact import events as ev
from core.contact.common import ServiceBase
from core.contact.guard import ContactAccess
from core.redact import redact

__all__ = ["PropertyAccess"]


class PropertyAccess(ServiceBase):
    """Updating a premise's property access notes, redacted, with an event for the field side."""

    async def set_property_access(
        self, access: ContactAccess, request: p.SetPropertyAccess, key: str | None
    ) -> p.PremiseView:
        cleaned = msgspec.structs.replace(
            request,
            hazards=redact(request.hazards) if request.hazards else request.hazards,
            reader_notes=redact(request.reader_notes) if request.reader_notes else request.reader_notes,
        )
        premise = await self.ccb.set_property_access(cleaned, actor=access.actor, idempotency_key=key)
        async with self.db.session() as s:
            if access.contact_id is not None:
                self._add_action(
                    s,
                    access.contact_id,
                    access.actor,
                    "change.premise",
                    f"updated property access at premise {premise.premise_id}",
                    access.account_id,
                )
            self.events.emit(
                s,
                ev.PROPERTY_ACCESS_UPDATED,
                ev.PropertyAccessUpdated(premise_id=premise.premise_id, contact_id=access.contact_id),
                actor=access.actor,
            )
        return premise
