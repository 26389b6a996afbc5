"""JSON API of the outage plugin under /api/outage: outages, suggestions, and the live event stream.

``GET /api/outage/stream`` (bearer token) sends ``snapshot`` (the active outages) and then each outage
event as JSON (``declared``/``updated``/``restored``/``suggested``); ``?limit=N`` ends it after N events,
which bounded clients (tests, probes) use.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import ServerSentEvent

from core.contract.contact import Guard
from core.contract.idempotency import Idempotency, request_key
from core.contract.scope import NONE, QUEUE, customer_view, withhold
from core.contract.web import STAFF, Controller, Ctx, CurrentStaff, Provide
from plugins.outage.events import EVENTS_CHANNEL
from plugins.outage.rules import OutageStatus, SuggestionStatus
from plugins.outage.schemas import (
    ConfirmIn,
    DeclareIn,
    OutageView,
    RestoreIn,
    SuggestionView,
    TicketView,
    UpdateIn,
    outage_view,
    suggestion_view,
    ticket_view,
)
from plugins.outage.service import OutageService

# Who may do what (issue 6 §3): leads, supervisors and admins declare, update, restore and decide on
# suggestions; any staff of a section where the plugin is enabled reads and streams.
LEAD = {"roles": ["lead", "supervisor", "admin"]}
# Linked trouble tickets are the leads' and supervisors' work (they declare and restore the outages): a
# ticket's free-text remarks (CCB's answer about the premise's field activity) only to them, every read
# audited; other staff see which tickets were linked, when and what was done. A ticket names a premise,
# not an account, so no contact opens it.
TICKET_QUEUE = QUEUE(roles=("lead", "supervisor"))
TICKET_CUSTOMER_FIELDS = ("remarks",)
Limit = Annotated[int | None, QueryParameter(ge=1, le=10_000)]

# The controllers' use cases, built per request from the plugin's context.
Service = NamedDependency[OutageService]


def provide_service(ctx: Ctx) -> OutageService:
    return OutageService(ctx)


SERVICE = {"service": Provide(provide_service, sync_to_thread=False)}


def stream_limit(limit: int | None) -> int | None:
    """The stream's message limit: ``limit`` events after the one opening message (the current state)."""
    return None if limit is None else limit + 1


class OutageApi(Controller):
    """Declare, update and restore outages; decide on suggested ones; follow them live."""

    path = "/"
    dependencies = SERVICE

    @get("/outages", opt=STAFF, summary="Outages (active by default)", customer_data=NONE)
    async def list_outages(
        self,
        service: Service,
        status: Annotated[OutageStatus | None, QueryParameter()] = OutageStatus.ACTIVE,
    ) -> list[OutageView]:
        return [outage_view(o) for o in await service.outages(status)]

    @post("/outages", opt=LEAD, summary="Declare an outage", customer_data=NONE)
    async def declare_outage(
        self, service: Service, staff: CurrentStaff, data: JSONBody[DeclareIn], idempotency: Idempotency
    ) -> Response[OutageView]:
        """Body: ``DeclareIn``. Idempotent on ``idempotency_key`` (or the ``Idempotency-Key`` header): a
        repeat answers 200 with the first record and ``replayed: true``."""
        data = msgspec.structs.replace(data, idempotency_key=request_key(data.idempotency_key, idempotency))
        outage, replayed = await service.declare(staff, data)
        return Response(outage_view(outage, replayed=replayed), status_code=200 if replayed else 201)

    @get("/outages/{outage_id:int}", opt=STAFF, summary="One outage", customer_data=NONE)
    async def get_outage(self, service: Service, outage_id: FromPath[int]) -> OutageView:
        return outage_view(await service.outage(outage_id))

    @patch("/outages/{outage_id:int}", opt=LEAD, summary="Update an active outage", customer_data=NONE)
    async def update_outage(
        self, service: Service, staff: CurrentStaff, outage_id: FromPath[int], data: JSONBody[UpdateIn]
    ) -> OutageView:
        return outage_view(await service.update(staff, outage_id, data))

    @post(
        "/outages/{outage_id:int}/restore",
        opt=LEAD,
        status_code=200,
        summary="Restore an outage",
        customer_data=NONE,
    )
    async def restore_outage(
        self,
        service: Service,
        staff: CurrentStaff,
        outage_id: FromPath[int],
        data: JSONBody[RestoreIn | None] = None,
    ) -> OutageView:
        return outage_view(await service.restore(staff, outage_id, data or RestoreIn()))

    @get(
        "/outages/{outage_id:int}/tickets",
        opt=STAFF,
        summary="Trouble tickets linked to an outage",
        customer_data=TICKET_QUEUE,
    )
    async def outage_tickets(
        self, service: Service, staff: CurrentStaff, guard: Guard, outage_id: FromPath[int]
    ) -> list[TicketView]:
        tickets = [ticket_view(t) for t in await service.tickets(outage_id)]
        if not tickets or await customer_view(
            service.ctx, guard, staff, None, TICKET_QUEUE, purpose=f"outage {outage_id} tickets"
        ):
            return tickets
        return [withhold(t, TICKET_CUSTOMER_FIELDS) for t in tickets]

    @get(
        "/premises/{premise_id:str}",
        opt=STAFF,
        summary="Active outages affecting a premise",
        customer_data=NONE,
    )
    async def premise_outages(self, service: Service, premise_id: FromPath[str]) -> list[OutageView]:
        return [outage_view(o) for o in await service.at_premise(premise_id)]

    @get("/suggestions", opt=STAFF, summary="Suggested outages (open by default)", customer_data=NONE)
    async def list_suggestions(
        self,
        service: Service,
        status: Annotated[SuggestionStatus | None, QueryParameter()] = SuggestionStatus.OPEN,
    ) -> list[SuggestionView]:
        return [suggestion_view(s) for s in await service.suggestions(status)]

    @post(
        "/suggestions/{suggestion_id:int}/confirm",
        opt=LEAD,
        status_code=201,
        summary="Declare it",
        customer_data=NONE,
    )
    async def confirm_suggestion(
        self, service: Service, staff: CurrentStaff, suggestion_id: FromPath[int], data: JSONBody[ConfirmIn]
    ) -> OutageView:
        return outage_view(await service.confirm(staff, suggestion_id, data))

    @post(
        "/suggestions/{suggestion_id:int}/dismiss",
        opt=LEAD,
        status_code=200,
        summary="Dismiss it",
        customer_data=NONE,
    )
    async def dismiss_suggestion(
        self, service: Service, staff: CurrentStaff, suggestion_id: FromPath[int]
    ) -> SuggestionView:
        return suggestion_view(await service.dismiss(staff, suggestion_id))

    @get("/stream", opt=STAFF, summary="Outage events as server-sent events", customer_data=NONE)
    async def stream(self, ctx: Ctx, service: Service, limit: Limit = None) -> ServerSentEvent:
        """``snapshot`` (active outages) first, then ``declared``/``updated``/``restored``/``suggested``."""
        return ServerSentEvent(
            ctx.streams.sse(
                EVENTS_CHANNEL,
                first=service.snapshot_messages,
                limit=stream_limit(limit),
                keepalive_s=service.config.stream_keepalive_s,
            )
        )
