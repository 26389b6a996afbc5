"""HTTP side of CCB offline mode: the journal for leads, and how offline outcomes map to status codes.

``OFFLINE_ROUTES`` go on the core API (``/api``); ``OFFLINE_EXCEPTION_HANDLERS`` belong on the app so any
route whose CCB write was journaled answers 202 ``{"offline_form": N}`` and any read during an outage
answers 503 naming it (a stale read carries the last known value and its age).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get
from litestar.params import QueryParameter
from sqlalchemy import select

from core.ccb.errors import CcbUnavailable
from core.ccb.offline import RecordedOffline, StaleRead
from core.ccb.offline_models import OfflineForm
from core.contract.contact import provide_guard
from core.contract.scope import QUEUE, customer_view, withhold
from core.contract.web import current_staff
from core.security import hub_of

__all__ = ["OFFLINE_EXCEPTION_HANDLERS", "OFFLINE_ROUTES", "OfflineFormView"]

READERS = {"roles": ["lead", "admin", "supervisor"]}
# The journal is the leads' and supervisors' work (they replay it and resolve conflicts): a form's reason
# (CCB's answer on replay, which may name the customer) only to them, every read audited; an admin keeping
# the hub running sees operations, actors, statuses and times. A form is not opened by a contact.
FORMS_QUEUE = QUEUE(roles=("lead", "supervisor"))
FORM_CUSTOMER_FIELDS = ("reason",)
CORE_ID = "core"  # the core's own part, whose context audits the reads (core.builtin)


class OfflineFormView(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    operation: str
    actor: str
    status: str
    recorded_at: dt.datetime
    replayed_at: dt.datetime | None
    reason: str | None
    todo_ref: str | None
    customer_hidden: bool = False  # the reason is withheld (not a lead's or a supervisor's queue)


@get("/offline/forms", opt=READERS, tags=["offline"], customer_data=FORMS_QUEUE)
async def list_offline_forms(
    request: Request[Any, Any, Any],
    status: Annotated[Literal["pending", "replayed", "conflict"] | None, QueryParameter()] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200,
) -> list[OfflineFormView]:
    """Offline forms, oldest first (request bodies are not shown: they may carry customer data)."""
    query = select(OfflineForm).order_by(OfflineForm.id).limit(limit)
    if status is not None:
        query = query.where(OfflineForm.status == status)
    hub = hub_of(request)
    async with hub.db.session() as s:
        rows = (await s.scalars(query)).all()
    forms = [
        OfflineFormView(
            id=r.id,
            operation=r.operation,
            actor=r.actor,
            status=r.status,
            recorded_at=r.recorded_at,
            replayed_at=r.replayed_at,
            reason=r.reason,
            todo_ref=r.todo_ref,
        )
        for r in rows
    ]
    ctx = hub.plugins.records[CORE_ID].ctx
    if ctx is None:  # the core part starts with the hub; without it nothing is served
        raise RuntimeError("the core part has no context")
    guard = await provide_guard(request)
    if not forms or await customer_view(
        ctx, guard, current_staff(request), None, FORMS_QUEUE, purpose="offline forms"
    ):
        return forms
    return [withhold(f, FORM_CUSTOMER_FIELDS) for f in forms]


def _on_recorded(_request: Request[Any, Any, Any], exc: RecordedOffline) -> Response[Any]:
    return Response({"offline_form": exc.form_id, "detail": str(exc)}, status_code=202)


def _on_unavailable(_request: Request[Any, Any, Any], exc: CcbUnavailable) -> Response[Any]:
    body: dict[str, Any] = {"status_code": 503, "detail": str(exc), "outage": "ccb"}
    if isinstance(exc, StaleRead):
        body["stale"] = {"value": msgspec.to_builtins(exc.value), "age_s": round(exc.age_s, 1)}
    return Response(body, status_code=503)


OFFLINE_ROUTES = [list_offline_forms]
OFFLINE_EXCEPTION_HANDLERS: dict[type[Exception], Any] = {
    RecordedOffline: _on_recorded,
    CcbUnavailable: _on_unavailable,
}
