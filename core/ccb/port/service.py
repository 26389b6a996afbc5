"""Service agreements and start / stop / restore (docs/ccb-domain.md §1.5, §1.6)."""

from __future__ import annotations

import datetime as dt

from core.ccb.port.base import Model, ServiceKind

__all__ = [
    "CancelStart",
    "CancelStop",
    "RestoreService",
    "ServiceAgreementView",
    "StartService",
    "StartServiceResult",
    "StopService",
]


class ServiceAgreementView(Model, frozen=True):
    sa_id: str
    account_id: str
    premise_id: str | None
    sp_id: str | None
    sa_type: str
    status: str
    status_label: str
    start_date: dt.date
    end_date: dt.date | None
    rate_schedule: str | None
    zone: str | None
    final_billed: bool


class StartService(Model, frozen=True):
    """Start the given services for an account at a premise on ``start_date`` (pending start, 10)."""

    account_id: str
    premise_id: str
    start_date: dt.date
    services: tuple[ServiceKind, ...] = ("electric", "water")


class StartServiceResult(Model, frozen=True):
    account_id: str
    premise_id: str
    service_agreements: list[ServiceAgreementView]
    field_activity_ids: list[str]


class StopService(Model, frozen=True):
    """Stop an SA on ``stop_date``; a reading the customer gives is recorded as a customer read."""

    sa_id: str
    stop_date: dt.date
    stop_reading: int | None = None


class CancelStop(Model, frozen=True):
    sa_id: str


class CancelStart(Model, frozen=True):
    sa_id: str


class RestoreService(Model, frozen=True):
    sa_id: str
    restore_date: dt.date
    reason: str
