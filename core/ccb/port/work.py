"""Interactions and work: customer contacts (docs/ccb-domain.md §1.12), premise notes and alerts (§1.13),
cases
(§1.14), field activities (§1.15) and To Dos (§1.16)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from core.ccb.port.base import Model

__all__ = [
    "AddAlert",
    "AddCustomerContact",
    "AddPremiseNote",
    "AlertView",
    "CancelFieldActivity",
    "CaseLogEntry",
    "CaseView",
    "CompleteFieldActivity",
    "CreateCase",
    "CreateFieldActivity",
    "CreateToDo",
    "CustomerContactView",
    "FieldActivityView",
    "PremiseNoteView",
    "ResolveCustomerContact",
    "ToDoView",
    "TransitionCase",
    "UpdateToDo",
]


class AddCustomerContact(Model, frozen=True):
    contact_class: str
    contact_type: str
    log_text: str
    method: Literal["phone", "counter", "email", "web", "letter"] = "phone"
    person_id: str | None = None
    account_id: str | None = None
    premise_id: str | None = None
    open: bool = False


class ResolveCustomerContact(Model, frozen=True):
    contact_id: str
    note: str


class CustomerContactView(Model, frozen=True):
    contact_id: str
    contact_class: str
    contact_type: str
    entity: str
    person_id: str | None
    account_id: str | None
    premise_id: str | None
    method: str
    status: str
    log_text: str
    created_by: str
    created_at: dt.datetime


class AddPremiseNote(Model, frozen=True):
    premise_id: str
    text: str


class PremiseNoteView(Model, frozen=True):
    note_id: str
    premise_id: str
    text: str
    created_by: str
    created_at: dt.datetime


class AddAlert(Model, frozen=True):
    account_id: str
    alert_type: str
    text: str
    expires_on: dt.date | None = None


class AlertView(Model, frozen=True):
    alert_id: str
    account_id: str
    alert_type: str
    text: str
    starts_on: dt.date
    expires_on: dt.date | None


# ---------------------------------------------------------------------------------------------------
# Cases, field activities, To Do (§1.14-§1.16)


class CreateCase(Model, frozen=True):
    case_type: str
    summary: str
    account_id: str | None = None
    person_id: str | None = None
    premise_id: str | None = None
    contact_id: str | None = None
    meter_id: str | None = None


class TransitionCase(Model, frozen=True):
    case_id: str
    to_status: str
    note: str = ""


class CaseLogEntry(Model, frozen=True):
    seq: int
    status: str
    note: str
    created_by: str
    created_at: dt.datetime


class CaseView(Model, frozen=True):
    case_id: str
    case_type: str
    status: str
    final: bool
    allowed_next: list[str]
    account_id: str | None
    person_id: str | None
    premise_id: str | None
    contact_id: str | None
    meter_id: str | None
    summary: str
    log: list[CaseLogEntry]


class CreateFieldActivity(Model, frozen=True):
    fa_type: str
    premise_id: str
    sp_id: str | None = None
    sa_id: str | None = None
    case_id: str | None = None
    priority: int | None = None
    scheduled_on: dt.date | None = None
    instructions: str | None = None


class CompleteFieldActivity(Model, frozen=True):
    """Complete an FA; a reading taken on site is recorded as a regular read of the SP's meter (§1.6).

    On a net meter ``received_reading`` is the received register's (estimated when left out).
    """

    field_activity_id: str
    reading: int | None = None
    remarks: str | None = None
    received_reading: int | None = None


class CancelFieldActivity(Model, frozen=True):
    field_activity_id: str
    reason: str


class FieldActivityView(Model, frozen=True):
    field_activity_id: str
    fa_type: str
    priority: int
    status: str
    premise_id: str
    sp_id: str | None
    sa_id: str | None
    case_id: str | None
    scheduled_on: dt.date | None
    instructions: str | None
    read_id: str | None
    remarks: str | None


class CreateToDo(Model, frozen=True):
    role: str
    todo_type: str
    message: str
    related_kind: str | None = None
    related_id: str | None = None
    priority: int = 3


class UpdateToDo(Model, frozen=True):
    todo_id: str
    status: Literal["O", "W", "C"]
    assigned_to: str | None = None


class ToDoView(Model, frozen=True):
    todo_id: str
    role: str
    todo_type: str
    priority: int
    message: str
    related_kind: str | None
    related_id: str | None
    status: str
    assigned_to: str | None
    created_at: dt.datetime
