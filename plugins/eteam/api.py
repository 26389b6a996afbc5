"""The e-team plugin's JSON API under /api/eteam: pull, the queue, one incident, answers and CCB notes.

Thin: each handler decodes, calls :mod:`plugins.eteam.service` and encodes. Malformed JSON answers 400, a
bad field 422 naming it (``extra[0].key``), an unknown incident or account 404, a missing verified contact
403, an action the incident's state forbids or Customer Connect not configured 409, and Customer Connect
failing 502.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import Provide
from litestar.exceptions import ServiceUnavailableException
from litestar.params import QueryParameter

from core.contract import PluginContext
from core.contract.contact import ContactDesk, Guard, contact_desk
from core.contract.inputs import InputError
from core.contract.scope import QUEUE, account
from core.contract.web import Ctx, CurrentStaff, JSONBody
from plugins.eteam import queries, service
from plugins.eteam.schemas import IncidentView, NoteIn, PullView, RespondIn, shown

# The e-team works the queue; a lead covers for it (issue 7 §3).
ETEAM = {"roles": ["eteam", "lead"]}
STAFF = {"access": "staff"}


def contacts_of(ctx: PluginContext) -> ContactDesk | None:
    """The contact part's desk, or None while it is not running (the e-team then cannot open contacts)."""
    return contact_desk(ctx)


def require_contacts(ctx: PluginContext) -> ContactDesk:
    found = contacts_of(ctx)
    if found is None:
        raise ServiceUnavailableException("the contact layer is not running")
    return found


async def provide_reference(ref: str) -> str:
    """Dependency ``reference_number``: the path's reference, checked before the body is (422 naming it)."""
    return service.reference(ref)


# The routes under /incidents/{ref} take the checked reference number through this dependency.
REFERENCE = {"reference_number": Provide(provide_reference)}


class EteamController(Controller):
    """The e-team queue of Contact Us requests."""

    @post(
        "/pull",
        opt=ETEAM,
        status_code=200,
        summary="Pull unresolved incidents from Customer Connect",
        customer_data=QUEUE(roles=("eteam",)),
    )
    async def pull_route(self, ctx: Ctx, staff: CurrentStaff) -> PullView:
        return await service.pull(ctx, staff.actor)

    @get(
        "/incidents",
        opt=ETEAM,
        summary="The e-team queue: unresolved incidents not yet answered",
        customer_data=QUEUE(roles=("eteam",)),
    )
    async def list_route(
        self,
        ctx: Ctx,
        staff: CurrentStaff,
        guard: Guard,
        answered: Annotated[bool, QueryParameter()] = False,
    ) -> list[IncidentView]:
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            found = await queries.queue(session, include_answered=answered)
        return [await shown(ctx, guard, staff, service.view(i, now, ctx.config)) for i in found]

    @get(
        "/incidents/{ref:str}",
        opt=ETEAM,
        dependencies=REFERENCE,
        summary="One incident with the e-team's responses",
        customer_data=QUEUE(roles=("eteam",)),
    )
    async def get_route(
        self, ctx: Ctx, staff: CurrentStaff, guard: Guard, reference_number: str
    ) -> IncidentView:
        async with ctx.db.session() as session:
            found = await queries.by_reference(session, reference_number)
            if found is None:
                raise InputError(
                    "reference_number", f"no incident {reference_number} in the e-team queue", 404
                )
            rows = await queries.responses_of(session, found.id)
        return await shown(ctx, guard, staff, service.view(found, ctx.clock.now(), ctx.config, rows))

    @post(
        "/incidents/{ref:str}/respond",
        opt=ETEAM,
        status_code=201,
        dependencies=REFERENCE,
        summary="Answer by e-mail or phone",
        # An answer acts on the account (through the guard) only with action_taken; otherwise queue work.
        customer_data=QUEUE(roles=("eteam",)),
    )
    async def respond_route(
        self,
        ctx: Ctx,
        staff: CurrentStaff,
        guard: Guard,
        reference_number: str,
        data: JSONBody[RespondIn],
    ) -> IncidentView:
        """Body ``RespondIn``; with ``action_taken`` a verified contact (``X-Contact-Id``) for the account."""
        row, rows = await service.respond(ctx, staff, guard, reference_number, data)
        return await shown(ctx, guard, staff, service.view(row, ctx.clock.now(), ctx.config, rows))

    @post(
        "/incidents/{ref:str}/ccb-note",
        opt=ETEAM,
        status_code=201,
        dependencies=REFERENCE,
        summary="Note action taken after the answer",
        customer_data=account(record="incident"),
    )
    async def note_route(
        self,
        ctx: Ctx,
        guard: Guard,
        reference_number: str,
        data: JSONBody[NoteIn],
    ) -> IncidentView:
        """Body ``NoteIn``; a verified contact (``X-Contact-Id``) for the account. 409 when the latest answer
        already carries a CCB note or the incident is not answered yet."""
        row, rows = await service.add_note(ctx, guard, reference_number, data)
        return service.view(row, ctx.clock.now(), ctx.config, rows)
