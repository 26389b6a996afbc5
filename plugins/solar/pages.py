"""The Solar team's page under /ui/solar: callbacks, program facts, and a net-metered bill on request."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.exceptions import HTTPException
from litestar.params import FromQuery

from core.contract.contact import Guard
from core.contract.inputs import InputError
from core.contract.scope import QUEUE
from core.contract.web import CurrentStaff, render
from plugins.solar.api import EXPLAINERS, SERVICE, STAFF, Service
from plugins.solar.rules import kwh_text
from plugins.solar.schemas import BillExplanationView, shown


class SolarPages(Controller):
    """The team's page; the bill form is a GET, so the page can be bookmarked and reloaded."""

    path = "/"
    dependencies = SERVICE
    # Every member of staff of an enabled section (also what the nav entry's roles are read from).
    opt = STAFF

    @get("/", opt=STAFF, customer_data=QUEUE(roles=("solar",)))
    async def team(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        staff: CurrentStaff,
        guard: Guard,
        account_id: FromQuery[str | None] = None,
        contact_id: FromQuery[str | None] = None,
        period: FromQuery[str | None] = None,
    ) -> Response[Any]:
        # Only trimmed and capped for echoing back; the service validates them (a long id is refused,
        # never cut down to some other account's id).
        asked = {
            "account_id": (account_id or "").strip()[:40],
            "contact_id": (contact_id or "").strip()[:64],
            "period": (period or "").strip()[:40],
        }
        explanation: BillExplanationView | None = None
        error: str | None = None
        status_code = 200
        if asked["account_id"]:
            if staff.role not in EXPLAINERS["roles"]:
                error, status_code = "Your role cannot open a customer's bill.", 403
            else:
                try:
                    explanation = await service.explain(
                        guard,
                        asked["account_id"],
                        asked["period"] or None,
                        contact_id=asked["contact_id"] or None,
                    )
                except InputError as exc:  # shown on the page, with the API's status and message
                    error, status_code = str(exc), exc.status_code
                except HTTPException as exc:  # the guard's refusal, shown the same way
                    error, status_code = str(exc.detail), exc.status_code
        return render(
            request,
            "solar/team.html",
            status_code=status_code,
            title="Solar team",
            programs=service.config.programs,
            voicemails=[
                await shown(service.ctx, guard, staff, v, asked["contact_id"] or None, page=True)
                for v in await service.voicemails()
            ],
            asked=asked,
            explanation=explanation,
            error=error,
            kwh=kwh_text,
        )
