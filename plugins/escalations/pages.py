"""The escalation queues under /ui/escalations: the lead and supervisor queues, and the CRO's.

A decider approves or denies with a reason and resolves; the CRO keys in an escalation received by mail.
Each form calls the operation its JSON route calls and shows the queue again with the same message and
status when refused.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from core.contract.contact import provide_guard
from core.contract.idempotency import request_key
from core.contract.inputs import InputError, convert, decode_form
from core.contract.scope import QUEUE
from core.contract.staff import Staff
from core.contract.web import STAFF, Controller, CurrentStaff, form_body, render
from plugins.escalations.api import DECIDERS, INTAKE, SERVICE, Service
from plugins.escalations.rules import Queue, Urgency
from plugins.escalations.schemas import DecideIn, IntakeForm, IntakeIn, ReasonForm, shown, view
from plugins.escalations.service import EscalationService

LEAD_QUEUES = [Queue.LEAD, Queue.SUPERVISOR]
REASON = {"form": form_body(ReasonForm)}


def page_of(queues: list[Queue]) -> str:
    return "/ui/escalations/cro" if Queue.CRO in queues else "/ui/escalations/"


async def queue_page(
    request: Request[Any, Any, Any],
    staff: Staff,
    service: EscalationService,
    queues: list[Queue],
    *,
    status_code: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> Response[Any]:
    now = service.ctx.clock.now()
    cro = Queue.CRO in queues
    rows, decided = await service.board(queues)
    guard = await provide_guard(request)
    contact_id = request.query_params.get("contact_id") or None
    items = [await shown(service.ctx, guard, staff, view(e, now), contact_id) for e in rows]
    done = [await shown(service.ctx, guard, staff, view(e, now), contact_id) for e in decided]
    return render(
        request,
        "escalations/queue.html",
        status_code=status_code,
        title="Customer Relations Office escalations" if cro else "Lead and supervisor escalations",
        items=items,
        decided=done,
        can_decide={q.value: staff.role.value in service.config.queue_roles.get(q, []) for q in queues},
        can_intake=cro and staff.role.value in INTAKE["roles"],
        urgencies=[u.value for u in Urgency],
        me=staff.actor,
        back=page_of(queues),
        error=error,
        values=values or {},
        # A fresh key per rendered intake form: submitting it twice files one escalation.
        form_key=f"form:{uuid.uuid4()}",
    )


async def form_action(
    request: Request[Any, Any, Any],
    staff: Staff,
    service: EscalationService,
    escalation_id: int,
    action: str,
    form: ReasonForm,
) -> Response[Any]:
    try:
        if not form.reason:
            raise InputError("reason", "give a reason")
        # The same bounds as the JSON body (DecideIn / ResolveIn): one place says what a reason is.
        reason = convert({"reason": form.reason}, DecideIn).reason
        if action == "resolve":
            esc = await service.resolve(staff, escalation_id, reason)
        else:
            esc = await service.decide(staff, escalation_id, approve=action == "approve", reason=reason)
    except InputError as exc:
        # The page an escalation lives on (the lead page when it does not exist: the error says so).
        queue = await service.queue_of(escalation_id)
        queues = [Queue.CRO] if queue is Queue.CRO else LEAD_QUEUES
        return await queue_page(request, staff, service, queues, status_code=exc.status_code, error=str(exc))
    return Redirect(page_of([Queue(esc.queue)]), status_code=303)


class EscalationPages(Controller):
    """The lead and supervisor queues, and the decisions on any queue: a decider approves or denies with a
    reason, and resolves. Every action is the same use case the JSON routes call."""

    path = "/"
    # Every page is for staff (a handler's ``roles`` narrow it); the nav entries read this too.
    opt = STAFF
    dependencies = SERVICE

    @get("/", opt=STAFF, customer_data=QUEUE(roles=("lead", "supervisor", "cro")))
    async def lead_queue(
        self, request: Request[Any, Any, Any], staff: CurrentStaff, service: Service
    ) -> Response[Any]:
        return await queue_page(request, staff, service, LEAD_QUEUES)

    @post(
        "/{escalation_id:int}/approve",
        opt=DECIDERS,
        dependencies=REASON,
        customer_data=QUEUE(roles=("lead", "supervisor", "cro")),
    )
    async def approve_form(
        self,
        request: Request[Any, Any, Any],
        staff: CurrentStaff,
        service: Service,
        escalation_id: FromPath[int],
        form: NamedDependency[ReasonForm],
    ) -> Response[Any]:
        return await form_action(request, staff, service, escalation_id, "approve", form)

    @post(
        "/{escalation_id:int}/deny",
        opt=DECIDERS,
        dependencies=REASON,
        customer_data=QUEUE(roles=("lead", "supervisor", "cro")),
    )
    async def deny_form(
        self,
        request: Request[Any, Any, Any],
        staff: CurrentStaff,
        service: Service,
        escalation_id: FromPath[int],
        form: NamedDependency[ReasonForm],
    ) -> Response[Any]:
        return await form_action(request, staff, service, escalation_id, "deny", form)

    @post(
        "/{escalation_id:int}/resolve",
        opt=DECIDERS,
        dependencies=REASON,
        customer_data=QUEUE(roles=("lead", "supervisor", "cro")),
    )
    async def resolve_form(
        self,
        request: Request[Any, Any, Any],
        staff: CurrentStaff,
        service: Service,
        escalation_id: FromPath[int],
        form: NamedDependency[ReasonForm],
    ) -> Response[Any]:
        return await form_action(request, staff, service, escalation_id, "resolve", form)


class CroPages(Controller):
    """The Customer Relations Office's queue, where mailed escalations are keyed in."""

    path = "/"
    opt = STAFF
    dependencies = SERVICE

    @get("/cro", opt=STAFF, customer_data=QUEUE(roles=("lead", "supervisor", "cro")))
    async def cro_queue(
        self, request: Request[Any, Any, Any], staff: CurrentStaff, service: Service
    ) -> Response[Any]:
        return await queue_page(request, staff, service, [Queue.CRO])

    @post("/cro-intake", opt=INTAKE, customer_data=QUEUE(roles=("lead", "supervisor", "cro")))
    async def intake_form(
        self, request: Request[Any, Any, Any], staff: CurrentStaff, service: Service
    ) -> Response[Any]:
        """An escalation e-mailed to the CRO, keyed in from the mail (the JSON route's ``IntakeIn``)."""
        form = decode_form(await request.form(), IntakeForm)
        values = form.values()
        try:
            data = convert({k: v for k, v in values.items() if v}, IntakeIn)
            await service.cro_intake(staff, data, request_key(data.idempotency_key, None))
        except InputError as exc:
            return await queue_page(
                request,
                staff,
                service,
                [Queue.CRO],
                status_code=exc.status_code,
                error=str(exc),
                values=values,
            )
        return Redirect("/ui/escalations/cro", status_code=303)
