"""Events the CCB mock publishes through the outbox: payload Structs and the catalogue entries.

Payloads carry ids and lookup codes only — never names, addresses, amounts tied to a person, access codes,
SSN digits or card numbers (ARCHITECTURE §4). The catalogue is owned by the core; ``CCB_EVENT_TYPES`` is
the list the core registers for the mock.
"""

from __future__ import annotations

import msgspec

from core.contract import EventType

__all__ = [
    "CCB_EVENT_TYPES",
    "AccountRef",
    "BillCompleted",
    "CaseOpened",
    "CaseStatusChanged",
    "EstimatedStreak",
    "FieldActivityRef",
    "PayPlanRef",
    "PaymentPosted",
    "PaymentRef",
    "ReadAccessFailed",
    "ServiceChanged",
    "ToDoCreated",
]


class ServiceChanged(msgspec.Struct, frozen=True, kw_only=True):
    """An SA moved in its lifecycle (docs/ccb-domain.md §1.5)."""

    account_id: str
    sa_id: str
    premise_id: str | None
    sa_type: str
    status: str


class PaymentPosted(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    payment_event_id: str
    payment_id: str


class PaymentRef(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    payment_id: str


class BillCompleted(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    bill_id: str
    is_final: bool


class EstimatedStreak(msgspec.Struct, frozen=True, kw_only=True):
    """A meter reached the third (or later) estimated read in a row; a case and an FA were opened."""

    meter_id: str
    premise_id: str
    consecutive_estimates: int
    case_id: str
    field_activity_id: str


class ReadAccessFailed(msgspec.Struct, frozen=True, kw_only=True):
    """A reader could not get to the meter (a No Read, type 20)."""

    meter_id: str
    premise_id: str | None
    read_id: str


class CaseOpened(msgspec.Struct, frozen=True, kw_only=True):
    case_id: str
    case_type: str
    account_id: str | None
    premise_id: str | None


class CaseStatusChanged(msgspec.Struct, frozen=True, kw_only=True):
    case_id: str
    case_type: str
    status: str


class FieldActivityRef(msgspec.Struct, frozen=True, kw_only=True):
    field_activity_id: str
    fa_type: str
    premise_id: str
    case_id: str | None


class ToDoCreated(msgspec.Struct, frozen=True, kw_only=True):
    todo_id: str
    role: str
    todo_type: str


class AccountRef(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str


class PayPlanRef(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    pay_plan_id: str
    status: str


CCB_EVENT_TYPES: list[EventType] = [
    EventType(
        subject="hub.ccb.service.start_requested",
        payload=ServiceChanged,
        description="A start created a pending-start SA (10).",
    ),
    EventType(
        subject="hub.ccb.service.started",
        payload=ServiceChanged,
        description="A pending-start SA became active (20) on its start date.",
    ),
    EventType(
        subject="hub.ccb.service.stop_requested",
        payload=ServiceChanged,
        description="A stop put an SA in pending stop (30).",
    ),
    EventType(
        subject="hub.ccb.service.stopped",
        payload=ServiceChanged,
        description="An SA was finalized (40) on its stop date and final-billed.",
    ),
    EventType(
        subject="hub.ccb.service.restored",
        payload=ServiceChanged,
        description="A stopped SA was brought back into service (50).",
    ),
    EventType(subject="hub.ccb.bill.completed", payload=BillCompleted, description="A bill was completed."),
    EventType(
        subject="hub.ccb.payment.posted",
        payload=PaymentPosted,
        description="A payment was frozen and distributed to the account's SAs.",
    ),
    EventType(
        subject="hub.ccb.payment.canceled",
        payload=PaymentRef,
        description="A payment was canceled (reversing FTs posted).",
    ),
    EventType(
        subject="hub.ccb.read.estimated_streak",
        payload=EstimatedStreak,
        description="A meter reached the third estimated read in a row.",
    ),
    EventType(
        subject="hub.ccb.read.access_failed",
        payload=ReadAccessFailed,
        description="A meter reader could not access the meter (No Read).",
    ),
    EventType(subject="hub.ccb.case.opened", payload=CaseOpened, description="A case was opened."),
    EventType(
        subject="hub.ccb.case.status_changed",
        payload=CaseStatusChanged,
        description="A case moved to another status of its type's lifecycle.",
    ),
    EventType(
        subject="hub.ccb.field_activity.created",
        payload=FieldActivityRef,
        description="A field activity was created.",
    ),
    EventType(
        subject="hub.ccb.trouble_ticket.created",
        payload=FieldActivityRef,
        description="A trouble ticket (a TROUBLE field activity) was created.",
    ),
    EventType(subject="hub.ccb.todo.created", payload=ToDoCreated, description="A To Do entry was created."),
    EventType(
        subject="hub.ccb.identity.locked",
        payload=AccountRef,
        description="Identity verification was locked for an account after repeated failures.",
    ),
    EventType(
        subject="hub.ccb.pay_plan.created",
        payload=PayPlanRef,
        description="A pay plan was created.",
    ),
    EventType(
        subject="hub.ccb.pay_plan.status_changed",
        payload=PayPlanRef,
        description="A pay plan was kept, broken or canceled.",
    ),
]
