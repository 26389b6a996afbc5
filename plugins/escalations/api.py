"""JSON API of the escalations plugin under /api/escalations, and its live stream.

Bodies are Litestar-decoded Structs (malformed JSON → 400, a bad field → 422 naming it in
``extra[0].key``); the work is in :mod:`plugins.escalations.service`. Writes that may be retried take
``idempotency_key`` in the body or the ``Idempotency-Key`` header: a repeat answers 200 with the first
record and ``replayed: true``.

``GET /api/escalations/stream`` sends ``ready`` (the reader's open escalations) and then the decisions on
the reader's own escalations (and, to a lead, supervisor or the CRO, new escalations in their queue) as
server-sent events; ``?limit=N`` ends it after N events, which bounded clients (tests, probes) use.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from core.contract.ccb import port as p
from core.contract.contact import CONTACT_ROLES, Guard
from core.contract.idempotency import Idempotency, request_key
from core.contract.scope import QUEUE, account
from core.contract.staff import Staff
from core.contract.streams import Message
from core.contract.web import Controller, Ctx, CurrentStaff, Provide
from plugins.escalations.events import CHANNEL
from plugins.escalations.rules import EscalationConfig, Queue, Status, concerns
from plugins.escalations.schemas import (
    DecideIn,
    EscalationView,
    IntakeIn,
    RaiseIn,
    ResolveIn,
    SectionMailIn,
    SectionMailView,
    mail_view,
    shown,
    view,
)
from plugins.escalations.service import EscalationService

# Who may call what. Any contact worker raises and follows escalations; deciding is checked per queue
# (rules.decision_refusal). CRO intake is keyed in by the CRO or a manager (supervisor, admin).
WORKERS = {"roles": list(CONTACT_ROLES)}
DECIDERS = {"roles": ["lead", "supervisor", "cro"]}
INTAKE = {"roles": ["cro", "supervisor", "admin"]}
Limit = Annotated[int | None, QueryParameter(ge=1, le=10_000)]

# The controllers' use cases, built per request from the plugin's context.
Service = NamedDependency[EscalationService]


def provide_service(ctx: Ctx) -> EscalationService:
    return EscalationService(ctx)


SERVICE = {"service": Provide(provide_service, sync_to_thread=False)}


class Concern(msgspec.Struct):
    """What a stream reads of a live event to decide whether its reader sees it."""

    requested_by: str = ""
    queue: str = ""


_concern = msgspec.json.Decoder(Concern).decode


async def concerning(
    messages: AsyncIterator[ServerSentEventMessage], staff: Staff, config: EscalationConfig, limit: int | None
) -> AsyncIterator[ServerSentEventMessage]:
    """The messages that concern ``staff``, until ``limit`` events (keep-alives and ``ready`` pass)."""
    sent = 0
    async with contextlib.aclosing(messages):  # type: ignore[type-var]
        async for message in messages:
            if message.event is not None and message.event != "ready":
                about = _concern(str(message.data or "{}"))
                if not concerns(
                    actor=staff.actor,
                    role=staff.role.value,
                    event=message.event,
                    requested_by=about.requested_by,
                    queue=about.queue,
                    config=config,
                ):
                    continue
                sent += 1
            yield message
            if limit is not None and sent >= limit:
                return


def created(item: Any, replayed: bool) -> Response[Any]:
    return Response(item, status_code=200 if replayed else 201)


class EscalationsApi(Controller):
    """Raise and follow escalations; decide, resolve and act on them; mail another section."""

    path = "/"
    dependencies = SERVICE

    @post(
        "/",
        opt=WORKERS,
        summary="Raise an escalation from a verified contact",
        customer_data=account(record="escalation"),
    )
    async def raise_route(
        self, service: Service, guard: Guard, data: JSONBody[RaiseIn], idempotency: Idempotency
    ) -> Response[EscalationView]:
        """Body ``RaiseIn``; header ``X-Contact-Id``. Idempotent on ``idempotency_key`` (or the
        ``Idempotency-Key`` header): a repeat answers 200 with the first record and ``replayed: true``."""
        key = request_key(data.idempotency_key, idempotency)
        esc, replayed = await service.raise_escalation(guard, data, key)
        return created(view(esc, service.ctx.clock.now(), replayed=replayed), replayed)

    @post(
        "/cro-intake",
        opt=INTAKE,
        summary="An escalation e-mailed to the Customer Relations Office",
        customer_data=QUEUE(roles=("lead", "supervisor", "cro")),
    )
    async def intake_route(
        self, service: Service, staff: CurrentStaff, data: JSONBody[IntakeIn], idempotency: Idempotency
    ) -> Response[EscalationView]:
        key = request_key(data.idempotency_key, idempotency)
        esc, replayed = await service.cro_intake(staff, data, key)
        return created(view(esc, service.ctx.clock.now(), replayed=replayed), replayed)

    @get(
        "/",
        opt=WORKERS,
        summary="Escalations (open by default), optionally one queue's",
        customer_data=QUEUE(roles=("lead", "supervisor", "cro")),
    )
    async def list_route(
        self,
        service: Service,
        guard: Guard,
        staff: CurrentStaff,
        queue: Annotated[Queue | None, QueryParameter()] = None,
        status: Annotated[Status | None, QueryParameter()] = Status.OPEN,
    ) -> list[EscalationView]:
        now = service.ctx.clock.now()
        return [
            await shown(service.ctx, guard, staff, view(e, now))
            for e in await service.escalations(queue, status)
        ]

    @get(
        "/{escalation_id:int}",
        opt=WORKERS,
        summary="One escalation",
        customer_data=QUEUE(roles=("lead", "supervisor", "cro")),
    )
    async def get_route(
        self, service: Service, guard: Guard, staff: CurrentStaff, escalation_id: FromPath[int]
    ) -> EscalationView:
        return await shown(
            service.ctx, guard, staff, view(await service.escalation(escalation_id), service.ctx.clock.now())
        )

    @post(
        "/{escalation_id:int}/approve",
        opt=DECIDERS,
        status_code=200,
        summary="Approve, with a reason",
        customer_data=QUEUE(roles=("lead", "supervisor", "cro")),
    )
    async def approve_route(
        self,
        service: Service,
        guard: Guard,
        staff: CurrentStaff,
        escalation_id: FromPath[int],
        data: JSONBody[DecideIn],
    ) -> EscalationView:
        esc = await service.decide(staff, escalation_id, approve=True, reason=data.reason)
        return await shown(service.ctx, guard, staff, view(esc, service.ctx.clock.now()))

    @post(
        "/{escalation_id:int}/deny",
        opt=DECIDERS,
        status_code=200,
        summary="Deny, with a reason",
        customer_data=QUEUE(roles=("lead", "supervisor", "cro")),
    )
    async def deny_route(
        self,
        service: Service,
        guard: Guard,
        staff: CurrentStaff,
        escalation_id: FromPath[int],
        data: JSONBody[DecideIn],
    ) -> EscalationView:
        esc = await service.decide(staff, escalation_id, approve=False, reason=data.reason)
        return await shown(service.ctx, guard, staff, view(esc, service.ctx.clock.now()))

    @post(
        "/{escalation_id:int}/resolve",
        opt=WORKERS,
        status_code=200,
        summary="Resolve (mails a CRO requester)",
        customer_data=QUEUE(roles=("lead", "supervisor", "cro")),
    )
    async def resolve_route(
        self,
        service: Service,
        guard: Guard,
        staff: CurrentStaff,
        escalation_id: FromPath[int],
        data: JSONBody[ResolveIn],
    ) -> EscalationView:
        esc = await service.resolve(staff, escalation_id, data.resolution)
        return await shown(service.ctx, guard, staff, view(esc, service.ctx.clock.now()))

    @post(
        "/{escalation_id:int}/payment-plan",
        opt=WORKERS,
        summary="Create the approved special payment plan",
        customer_data=account(record="escalation"),
    )
    async def plan_route(
        self, service: Service, guard: Guard, escalation_id: FromPath[int]
    ) -> Response[p.PayPlanView]:
        plan, replayed = await service.create_special_plan(guard, escalation_id)
        return created(plan, replayed)

    @post(
        "/section-mail",
        opt=WORKERS,
        summary="Mail another section about an account (recorded in the CCB)",
        customer_data=account(record="escalation"),
    )
    async def section_mail_route(
        self,
        service: Service,
        guard: Guard,
        data: JSONBody[SectionMailIn],
        idempotency: Idempotency,
    ) -> Response[SectionMailView]:
        key = request_key(data.idempotency_key, idempotency)
        row, replayed = await service.section_mail(guard, data, key)
        return created(mail_view(row, replayed=replayed), replayed)

    @get(
        "/stream",
        opt=WORKERS,
        summary="Escalation events concerning the caller, as server-sent events",
        customer_data=QUEUE(roles=("lead", "supervisor", "cro")),
    )
    async def stream_route(
        self, ctx: Ctx, service: Service, staff: CurrentStaff, limit: Limit = None
    ) -> ServerSentEvent:
        async def ready() -> list[Message]:
            mine = await service.still_open_of(staff.actor)
            return [Message(event="ready", data=msgspec.json.encode({"open": mine}).decode())]

        config = service.config
        messages = ctx.streams.sse(CHANNEL, first=ready, keepalive_s=config.stream_keepalive_s)
        return ServerSentEvent(concerning(messages, staff, config, limit))
