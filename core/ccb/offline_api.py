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
from core.contract.scope import QUEUE
from core.security import hub_of

__all__ = ["OFFLINE_EXCEPTION_HANDLERS", "OFFLINE_ROUTES", "OfflineFormView"]

READERS = {"roles": ["lead", "admin", "supervisor"]}


class OfflineFormView(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    operation: str
    actor: str
    status: str
    recorded_at: dt.datetime
    replayed_at: dt.datetime | None
    reason: str | None
    todo_ref: str | None


@get("/offline/forms", opt=READERS, tags=["offline"], customer_data=QUEUE(roles=("lead", "supervisor")))
async def list_offline_forms(
    request: Request[Any, Any, Any],
    status: Annotated[Literal["pending", "replayed", "conflict"] | None, QueryParameter()] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200,
) -> list[OfflineFormView]:
    """Offline forms, oldest first (request bodies are not shown: they may carry customer data)."""
    query = select(OfflineForm).order_by(OfflineForm.id).limit(limit)
    if status is not None:
        query = query.where(OfflineForm.status == status)
    async with hub_of(request).db.session() as s:
        rows = (await s.scalars(query)).all()
    return [
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
