"""Use cases of the outage plugin: declare, update, restore, decide on suggestions, link trouble tickets.

Each write runs in one transaction with its event and audit record, so a refused request leaves nothing
half-written; refusals are :class:`InputError` naming the field (404 unknown, 409 wrong state). The JSON API
and the lead's forms call the same methods.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.contract import ContactHint, PluginContext
from core.contract.ccb import CcbError
from core.contract.ccb import port as p
from core.contract.inputs import InputError
from core.contract.redact import redact
from core.contract.staff import Staff
from core.contract.streams import Message
from plugins.outage import events, queries
from plugins.outage.models import Outage, OutageSuggestion, OutageTicket
from plugins.outage.rules import (
    OutageConfig,
    OutageStatus,
    PremiseLocation,
    SuggestionStatus,
    TicketAction,
    area_contains,
    area_of_key,
    banner_html,
    burst_key,
    caller_script,
    hint_text,
    in_window,
    is_burst,
    make_area,
    matching,
)
from plugins.outage.schemas import ConfirmIn, DeclareIn, RestoreIn, UpdateIn, outage_view

ACTOR = "system:outage"


def _clean(text: str | None) -> str | None:
    """Free text is redacted before storage (ARCHITECTURE §6) and blank means none."""
    if text is None or not text.strip():
        return None
    return redact(" ".join(text.split()))


def _ids(contact: Any, name: str) -> list[str]:
    value = contact.get(name) if isinstance(contact, dict) else getattr(contact, name, None)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


class OutageService:
    """The outage plugin's use cases over its context."""

    def __init__(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        self.config: OutageConfig = ctx.config

    # -- reads -----------------------------------------------------------------------------------------
    async def active(self) -> list[Outage]:
        async with self.ctx.db.session() as session:
            return await queries.active_outages(session)

    async def outages(self, status: OutageStatus | None) -> list[Outage]:
        async with self.ctx.db.session() as session:
            return await queries.outages(session, status)

    async def outage(self, outage_id: int) -> Outage:
        async with self.ctx.db.session() as session:
            found = await queries.outage(session, outage_id)
        if found is None:
            raise InputError("outage_id", f"no outage #{outage_id}", 404)
        return found

    async def tickets(self, outage_id: int) -> list[OutageTicket]:
        async with self.ctx.db.session() as session:
            return await queries.tickets_of(session, outage_id)

    async def at_premise(self, premise_id: str) -> list[Outage]:
        """The active outages whose area holds the premise."""
        try:
            premise = await self.ctx.ccb.get_premise(premise_id)
        except CcbError:
            raise InputError("premise_id", f"no premise {premise_id}", 404) from None
        where = PremiseLocation(premise_id, premise.address.zip, premise.service_area_code)
        active = await self.active()
        ids = {o.outage_id for o in matching([o.facts() for o in active], where)}
        return [o for o in active if o.id in ids]

    async def suggestions(self, status: SuggestionStatus | None) -> list[OutageSuggestion]:
        async with self.ctx.db.session() as session:
            return await queries.suggestions(session, status)

    async def open_suggestions(self) -> list[OutageSuggestion]:
        async with self.ctx.db.session() as session:
            return await queries.open_suggestions(session)

    async def banner(self) -> str:
        return banner_html([o.facts() for o in await self.active()])

    # -- what the streams start with -------------------------------------------------------------------
    async def _active_for_stream(self) -> list[Outage]:
        # A read session: a thousand screens reconnecting at once must not queue on the write lock.
        async with self.ctx.db.read() as session:
            return await queries.active_outages(session)

    async def snapshot_messages(self) -> list[Message]:
        """``snapshot``: the active outages, first on the JSON stream."""
        snapshot = [outage_view(o) for o in await self._active_for_stream()]
        return [Message(event="snapshot", data=msgspec.json.encode(snapshot).decode())]

    async def banner_messages(self) -> list[Message]:
        """``banner``: the banner as it reads now, first on the page stream."""
        active = await self._active_for_stream()
        return [Message(event="banner", data=banner_html([o.facts() for o in active]))]

    # -- writes ----------------------------------------------------------------------------------------
    async def declare(
        self, staff: Staff, data: DeclareIn, *, suggestion: OutageSuggestion | None = None
    ) -> tuple[Outage, bool]:
        """Declare an outage once per idempotency key, even when two identical submissions race.

        Returns the outage and whether it is a replay of an earlier declaration with the same key.
        """
        ctx = self.ctx
        area = make_area(data.service_areas, data.zips, data.premise_ids)
        if area.empty:
            raise InputError(
                "area",
                "give at least one service area, ZIP code or premise (service_areas, zips, premise_ids)",
            )
        now = ctx.clock.now()
        if data.estimated_restoration is not None and data.estimated_restoration < now - dt.timedelta(
            hours=1
        ):
            raise InputError("estimated_restoration", "is in the past")
        key = data.idempotency_key
        try:
            async with ctx.db.session() as session:
                if key is not None:
                    earlier = await queries.outage_by_key(session, key)
                    if earlier is not None:
                        return earlier, True
                outage = Outage(
                    utility=data.utility.value,
                    status=OutageStatus.ACTIVE.value,
                    cause=_clean(data.cause) or data.cause,
                    message=_clean(data.message),
                    service_areas=sorted(area.service_areas),
                    zips=sorted(area.zips),
                    premise_ids=sorted(area.premise_ids),
                    estimated_restoration=data.estimated_restoration,
                    etr_missing_since=None if data.estimated_restoration else now,
                    declared_at=now,
                    declared_by=staff.actor,
                    updated_at=now,
                    updated_by=staff.actor,
                    revision=1,
                    idempotency_key=key,
                    suggestion_id=suggestion.id if suggestion else None,
                )
                session.add(outage)
                await session.flush()
                if suggestion is not None:
                    current = await queries.suggestion(session, suggestion.id, lock=True)
                    if current is None or current.status != SuggestionStatus.OPEN:
                        raise InputError("suggestion_id", "was already decided", 409)
                    current.status = SuggestionStatus.CONFIRMED.value
                    current.decided_at, current.decided_by, current.outage_id = now, staff.actor, outage.id
                ctx.events.emit(
                    session,
                    events.DECLARED,
                    events.changed_payload(outage, staff.actor, now),
                    actor=staff.actor,
                )
                await ctx.audit.append(
                    session,
                    actor=staff.actor,
                    action="outage.declared",
                    target=f"outage_outage:{outage.id}",
                    detail={"utility": outage.utility, "area": area.describe()},
                )
        except IntegrityError:
            if key is None:
                raise
            # The same key committed first in another transaction: answer with that record.
            async with ctx.db.session() as session:
                earlier = await queries.outage_by_key(session, key)
            if earlier is None:
                raise
            return earlier, True
        return outage, False

    async def _locked(self, session: AsyncSession, outage_id: int) -> Outage:
        found = await queries.outage(session, outage_id, lock=True)
        if found is None:
            raise InputError("outage_id", f"no outage #{outage_id}", 404)
        return found

    async def update(self, staff: Staff, outage_id: int, data: UpdateIn) -> Outage:
        ctx = self.ctx
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            outage = await self._locked(session, outage_id)
            if outage.status != OutageStatus.ACTIVE:
                raise InputError("status", f"outage #{outage_id} is {outage.status}; declare a new one", 409)
            if data.revision is not None and data.revision != outage.revision:
                raise InputError("revision", f"is {outage.revision} now; reload and try again", 409)
            if not isinstance(data.cause, msgspec.UnsetType):
                outage.cause = _clean(data.cause) or data.cause
            if not isinstance(data.message, msgspec.UnsetType):
                outage.message = _clean(data.message)
            area = make_area(
                outage.service_areas
                if isinstance(data.service_areas, msgspec.UnsetType)
                else data.service_areas,
                outage.zips if isinstance(data.zips, msgspec.UnsetType) else data.zips,
                outage.premise_ids if isinstance(data.premise_ids, msgspec.UnsetType) else data.premise_ids,
            )
            if area.empty:
                raise InputError("area", "an outage needs at least one service area, ZIP code or premise")
            outage.service_areas = sorted(area.service_areas)
            outage.zips = sorted(area.zips)
            outage.premise_ids = sorted(area.premise_ids)
            if not isinstance(data.estimated_restoration, msgspec.UnsetType):
                if data.estimated_restoration is None:
                    outage.etr_missing_since = outage.etr_missing_since or now
                else:
                    outage.etr_missing_since = None
                outage.estimated_restoration = data.estimated_restoration
            outage.revision += 1
            outage.updated_at, outage.updated_by = now, staff.actor
            ctx.events.emit(
                session, events.UPDATED, events.changed_payload(outage, staff.actor, now), actor=staff.actor
            )
            await ctx.audit.append(
                session,
                actor=staff.actor,
                action="outage.updated",
                target=f"outage_outage:{outage.id}",
                detail={},
            )
        return outage

    async def restore(self, staff: Staff, outage_id: int, data: RestoreIn) -> Outage:
        """Mark an outage restored; restoring it again is a no-op that answers the same record."""
        ctx = self.ctx
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            outage = await self._locked(session, outage_id)
            if outage.status == OutageStatus.RESTORED:
                return outage
            outage.status = OutageStatus.RESTORED.value
            outage.restored_at, outage.restored_by = now, staff.actor
            outage.etr_missing_since = None
            if data.message is not None:
                outage.message = _clean(data.message)
            outage.revision += 1
            outage.updated_at, outage.updated_by = now, staff.actor
            ctx.events.emit(
                session, events.RESTORED, events.changed_payload(outage, staff.actor, now), actor=staff.actor
            )
            await ctx.audit.append(
                session,
                actor=staff.actor,
                action="outage.restored",
                target=f"outage_outage:{outage.id}",
                detail={},
            )
        return outage

    async def _open_suggestion(self, suggestion_id: int) -> OutageSuggestion:
        async with self.ctx.db.session() as session:
            found = await queries.suggestion(session, suggestion_id)
        if found is None:
            raise InputError("suggestion_id", f"no suggestion #{suggestion_id}", 404)
        if found.status != SuggestionStatus.OPEN:
            raise InputError("suggestion_id", f"suggestion #{suggestion_id} is already {found.status}", 409)
        return found

    async def confirm(self, staff: Staff, suggestion_id: int, data: ConfirmIn) -> Outage:
        suggestion = await self._open_suggestion(suggestion_id)
        area = area_of_key(suggestion.burst_key)
        outage, _ = await self.declare(
            staff,
            DeclareIn(
                utility=data.utility,
                cause=data.cause,
                service_areas=sorted(area.service_areas),
                zips=sorted(area.zips),
                estimated_restoration=data.estimated_restoration,
                message=data.message,
                # A second click on "confirm" must not declare a second outage.
                idempotency_key=f"suggestion:{suggestion_id}",
            ),
            suggestion=suggestion,
        )
        return outage

    async def dismiss(self, staff: Staff, suggestion_id: int) -> OutageSuggestion:
        ctx = self.ctx
        await self._open_suggestion(suggestion_id)
        async with ctx.db.session() as session:
            found = await queries.suggestion(session, suggestion_id, lock=True)
            assert found is not None  # checked just above; suggestions are never deleted
            if found.status == SuggestionStatus.OPEN:
                found.status = SuggestionStatus.DISMISSED.value
                found.decided_at, found.decided_by = ctx.clock.now(), staff.actor
                await ctx.audit.append(
                    session,
                    actor=staff.actor,
                    action="outage.suggestion_dismissed",
                    target=f"outage_suggestion:{found.id}",
                    detail={"tickets": found.ticket_count},
                )
        return found

    # -- contact hints ---------------------------------------------------------------------------------
    async def contact_hints(self, contact: Any) -> list[ContactHint]:
        """Hints for a contact whose premise lies in an active outage.

        The contact is the core's snapshot (``account_id``, ``verified_accounts``) or anything with
        ``premise_ids``; premises are located through the CCB port (ZIP and service-area code).
        """
        premise_ids = _ids(contact, "premise_ids")
        account_ids = _ids(contact, "account_id") + _ids(contact, "verified_accounts")
        facts = [o.facts() for o in await self.active()]
        if not facts:
            return []  # the usual case: no CCB call at all
        ccb = self.ctx.ccb
        places: dict[str, PremiseLocation] = {}
        for premise_id in premise_ids:
            premise = await ccb.get_premise(premise_id)
            places[premise_id] = PremiseLocation(premise_id, premise.address.zip, premise.service_area_code)
        for account_id in dict.fromkeys(account_ids):
            summary = await ccb.get_account_summary(account_id)
            for prem in summary.premises:
                places.setdefault(
                    prem.premise_id,
                    PremiseLocation(prem.premise_id, prem.address.zip, prem.service_area_code),
                )
        found: dict[int, ContactHint] = {}
        for where in places.values():
            for o in matching(facts, where):
                found.setdefault(
                    o.outage_id,
                    ContactHint(
                        kind="outage", text=hint_text(o), severity="warning", script=caller_script(o)
                    ),
                )
        return list(found.values())

    # -- trouble tickets -------------------------------------------------------------------------------
    async def _location(self, premise_id: str) -> PremiseLocation:
        try:
            premise = await self.ctx.ccb.get_premise(premise_id)
        except CcbError:
            # An unknown premise still gets its ticket recorded; it just matches no area.
            return PremiseLocation(premise_id=premise_id, zip=None, service_area_code=None)
        return PremiseLocation(
            premise_id=premise_id, zip=premise.address.zip, service_area_code=premise.service_area_code
        )

    async def _ticket_utility(self, field_activity_id: str, premise_id: str) -> str | None:
        """Electric or water when the ticket is on a service point; None (matches either) otherwise."""
        try:
            fa = await self.ctx.ccb.get_field_activity(field_activity_id)
            if fa.sp_id is None:
                return None
            premise = await self.ctx.ccb.get_premise(premise_id)
        except CcbError:
            return None
        return next((sp.service for sp in premise.service_points if sp.sp_id == fa.sp_id), None)

    async def trouble_ticket(self, ref: events.FieldActivityRef) -> None:
        """Link a ticket inside an active outage (no duplicate dispatch) or count it toward a burst."""
        ctx = self.ctx
        if ref.fa_type != "TROUBLE":
            return
        async with ctx.db.session() as session:
            if await queries.ticket_seen(session, ref.field_activity_id):
                return  # a redelivery (at-least-once): already handled
        where = await self._location(ref.premise_id)
        utility = await self._ticket_utility(ref.field_activity_id, ref.premise_id)
        hits = [
            o
            for o in await self.active()
            if area_contains(o.facts().area, where) and (utility is None or o.utility == utility)
        ]
        now = ctx.clock.now()
        if hits:
            await self._link(ref, hits[0], burst_key(where), now)
            return
        key = burst_key(where)
        async with ctx.db.session() as session:
            session.add(
                OutageTicket(
                    field_activity_id=ref.field_activity_id,
                    premise_id=ref.premise_id,
                    burst_key=key,
                    received_at=now,
                    action=TicketAction.DISPATCHED,
                )
            )
            if key is not None:
                await self._consider_burst(session, key, now)

    async def _link(
        self, ref: events.FieldActivityRef, outage: Outage, key: str | None, now: dt.datetime
    ) -> None:
        action, remarks = TicketAction.LINKED, None
        if self.config.cancel_duplicate_field_activity:
            try:
                # Idempotent on the key, so a redelivery after a crash here cancels nothing twice.
                await self.ctx.ccb.cancel_field_activity(
                    p.CancelFieldActivity(
                        field_activity_id=ref.field_activity_id,
                        reason=f"Known {outage.utility} outage #{outage.id}: {outage.cause}",
                    ),
                    actor=ACTOR,
                    idempotency_key=f"outage:cancel:{ref.field_activity_id}",
                )
            except CcbError as exc:
                action, remarks = TicketAction.LINKED_NOT_CANCELED, str(exc)[:500]
        async with self.ctx.db.session() as session:
            session.add(
                OutageTicket(
                    field_activity_id=ref.field_activity_id,
                    premise_id=ref.premise_id,
                    burst_key=key,
                    received_at=now,
                    action=action,
                    outage_id=outage.id,
                    remarks=remarks,
                )
            )

    async def _consider_burst(self, session: AsyncSession, key: str, now: dt.datetime) -> None:
        """Suggest an outage when this area's unlinked tickets within the window reach the threshold."""
        config = self.config
        window = dt.timedelta(minutes=config.burst_window_minutes)
        await session.flush()
        times = in_window(await queries.dispatched_since(session, key, now - window), now, window)
        pending = await queries.open_suggestion(session, key)
        if pending is not None:
            pending.ticket_count = max(pending.ticket_count, len(times))
            pending.last_at = now
            return
        if not is_burst(times, now, window=window, threshold=config.burst_threshold, open_suggestion=False):
            return
        suggestion = OutageSuggestion(
            burst_key=key,
            status=SuggestionStatus.OPEN,
            ticket_count=len(times),
            first_at=times[0],
            last_at=times[-1],
            raised_at=now,
        )
        session.add(suggestion)
        await session.flush()
        area = area_of_key(key)
        self.ctx.events.emit(
            session,
            events.SUGGESTED,
            events.OutageSuggested(
                suggestion_id=suggestion.id,
                service_areas=sorted(area.service_areas),
                zips=sorted(area.zips),
                ticket_count=len(times),
                window_minutes=config.burst_window_minutes,
                first_at=times[0],
                last_at=times[-1],
            ),
            actor=ACTOR,
        )
