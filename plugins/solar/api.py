"""The solar plugin's JSON API under /api/solar: decode, call the service, encode.

Program facts and FAQ answers are config read by any staff member; the phone system leaves voicemails
(with a lead's token) and the Solar team records each callback; a net-metered bill is explained only
through the verified-contact guard (``X-Contact-Id``, or ``X-Access-Reason`` from a lead, supervisor or
the CRO).
"""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from core.contract.contact import Guard
from core.contract.scope import NONE, QUEUE, account
from core.contract.web import Ctx, CurrentStaff
from plugins.solar.rules import Program
from plugins.solar.schemas import (
    AnswerView,
    BillExplanationView,
    ReturnIn,
    VoicemailIn,
    VoicemailView,
    shown,
)
from plugins.solar.service import SolarService

# Who may call what (issue 7 §4). Everyone in an enabled section reads programs and answers; the phone
# system leaves voicemails with a lead's token; the Solar team works the queue and the NEM data.
STAFF = {"access": "staff"}
LEAVERS = {"roles": ["lead", "admin", "solar"]}
QUEUE_VIEWERS = {"roles": ["solar", "lead", "supervisor", "admin"]}
RETURNERS = {"roles": ["solar"]}
EXPLAINERS = {"roles": ["solar", "csr", "lead", "supervisor", "cro"]}

# The controllers' use cases, built per request from the plugin's context.
Service = NamedDependency[SolarService]


def provide_service(ctx: Ctx) -> SolarService:
    """Dependency ``service`` of the controllers: the use cases over the plugin's context."""
    return SolarService(ctx)


SERVICE = {"service": Provide(provide_service, sync_to_thread=False)}


class SolarApi(Controller):
    """Programs and answers, the voicemail queue, and net-metered bills explained."""

    path = "/"
    dependencies = SERVICE

    @get(
        "/programs",
        opt=STAFF,
        summary="Solar Incentive, net metering and Charge Up L.A.! facts",
        customer_data=NONE,
    )
    async def programs(self, service: Service) -> list[Program]:
        return service.programs()

    @get(
        "/answers", opt=STAFF, summary="Configured answers matching a customer's question", customer_data=NONE
    )
    async def answers(
        self, service: Service, q: Annotated[str, QueryParameter(min_length=2, max_length=300)]
    ) -> list[AnswerView]:
        return service.answers(q)

    @post(
        "/voicemails",
        opt=LEAVERS,
        summary="A voicemail left for the Solar team (from the phone system)",
        customer_data=QUEUE(roles=("solar",)),
    )
    async def leave(
        self, service: Service, staff: CurrentStaff, data: JSONBody[VoicemailIn]
    ) -> Response[VoicemailView]:
        """A retried post of the same ``call_id`` answers 200 with the stored message."""
        view, created = await service.leave(staff, data)
        return Response(view, status_code=201 if created else 200)

    @get(
        "/voicemails",
        opt=QUEUE_VIEWERS,
        summary="The callback queue (open by default)",
        customer_data=QUEUE(roles=("solar",)),
    )
    async def queue(
        self,
        service: Service,
        staff: CurrentStaff,
        guard: Guard,
        status: Annotated[Literal["open", "returned", "all"], QueryParameter()] = "open",
    ) -> list[VoicemailView]:
        return [await shown(service.ctx, guard, staff, v) for v in await service.voicemails(status)]

    @post(
        "/voicemails/{voicemail_id:int}/return",
        opt=RETURNERS,
        status_code=200,
        summary="Record a callback",
        customer_data=QUEUE(roles=("solar",)),
    )
    async def give_back(
        self, service: Service, staff: CurrentStaff, voicemail_id: FromPath[int], data: JSONBody[ReturnIn]
    ) -> VoicemailView:
        return await service.give_back(staff, voicemail_id, data)

    @get(
        "/accounts/{account_id:str}/bill-explanation",
        opt=EXPLAINERS,
        summary="A net-metered bill from the CCB in plain words (needs a verified contact or a reason)",
        customer_data=account(path="account_id"),
    )
    async def explanation(
        self,
        service: Service,
        guard: Guard,
        account_id: FromPath[str],
        period: Annotated[str | None, QueryParameter(max_length=12)] = None,
    ) -> BillExplanationView:
        return await service.explain(guard, account_id, period)
