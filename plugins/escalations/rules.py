"""Pure escalation logic: config, routing to a queue, SLA deadlines, who may decide, special-plan terms.

Nothing here touches HTTP, the bus or the database, so each rule is unit-tested on plain values.

SLA clock: a deadline is counted either in wall minutes (the caller is often still on the line, so a
lead or supervisor escalation is due a fixed time after it was raised, day or night) or in business
minutes (the Customer Relations Office works office hours, Monday to Friday in the utility's zone, so a
CRO escalation raised on Friday evening is due on Monday). Which clock a queue uses is configured
(``sla_clock``); public holidays are not counted out (no holiday calendar is configured yet).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec

from core.contract.ccb import MAX_RESIDENTIAL_TERM_MONTHS, Cadence, PayPlanError, add_months, quote

# Business hours are the utility's (ARCHITECTURE §5: shown and counted locally, stored in UTC).
LOCAL_TZ = ZoneInfo("America/Los_Angeles")
ACCOUNT_ID = r"^\d{10}$"


class Queue(enum.StrEnum):
    LEAD = "lead"
    SUPERVISOR = "supervisor"
    CRO = "cro"


class Urgency(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Status(enum.StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    DENIED = "denied"
    RESOLVED = "resolved"


class Source(enum.StrEnum):
    CONTACT = "contact"  # a CSR asked from a verified customer contact
    CRO_INTAKE = "cro_intake"  # upper management or a Customer Care Manager, by e-mail or the API


class Kind(enum.StrEnum):
    """What the CSR (or the manager) asks for (issue 8 §4)."""

    SPECIAL_PAYMENT_PLAN = "special_payment_plan"  # beyond the standard terms (docs/rules.md §6.3 rule 2)
    SAME_DAY_SERVICE = "same_day_service"
    DEPOSIT_WAIVER = "deposit_waiver"
    ALTERNATE_ID = "alternate_id"  # identification outside the standard factors (docs/rules.md §4.2)
    BILL_CORRECTION = "bill_correction"
    RELEASE_HELD_BILL = "release_held_bill"
    OTHER = "other"
    CRO_REQUEST = "cro_request"  # only through the CRO intake


ClockKind = Literal["wall", "business"]
Minutes = Annotated[int, msgspec.Meta(ge=1, le=60 * 24 * 30)]
Address = Annotated[str, msgspec.Meta(pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")]

DEFAULT_ROUTES: dict[Kind, Queue] = {
    Kind.SPECIAL_PAYMENT_PLAN: Queue.SUPERVISOR,
    Kind.SAME_DAY_SERVICE: Queue.LEAD,
    Kind.DEPOSIT_WAIVER: Queue.SUPERVISOR,
    Kind.ALTERNATE_ID: Queue.LEAD,
    Kind.BILL_CORRECTION: Queue.LEAD,
    Kind.RELEASE_HELD_BILL: Queue.SUPERVISOR,
    Kind.OTHER: Queue.LEAD,
    Kind.CRO_REQUEST: Queue.CRO,
}


class EscalationConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The escalations plugin's settings; every default works (the contract suite converts ``{}``)."""

    # Escalation kind -> queue. A kind left out goes to the lead queue.
    routes: dict[Kind, Queue] = msgspec.field(default_factory=lambda: dict(DEFAULT_ROUTES))
    # Urgency -> SLA minutes for lead and supervisor escalations.
    sla_minutes: dict[Urgency, Minutes] = msgspec.field(
        default_factory=lambda: {
            Urgency.URGENT: 10,
            Urgency.HIGH: 30,
            Urgency.NORMAL: 120,
            Urgency.LOW: 480,
        }
    )
    # Urgency -> SLA minutes for the Customer Relations Office ("resolve as soon as possible").
    cro_sla_minutes: dict[Urgency, Minutes] = msgspec.field(
        default_factory=lambda: {
            Urgency.URGENT: 120,
            Urgency.HIGH: 240,
            Urgency.NORMAL: 480,
            Urgency.LOW: 960,
        }
    )
    # Which clock each queue's SLA runs on (see the module docstring).
    sla_clock: dict[Queue, ClockKind] = msgspec.field(
        default_factory=lambda: {Queue.LEAD: "wall", Queue.SUPERVISOR: "wall", Queue.CRO: "business"}
    )
    business_start_hour: Annotated[int, msgspec.Meta(ge=0, le=23)] = 8
    business_end_hour: Annotated[int, msgspec.Meta(ge=1, le=24)] = 17
    # Who may decide each queue. Supervisors may also take the lead queue (they outrank leads).
    queue_roles: dict[Queue, list[str]] = msgspec.field(
        default_factory=lambda: {
            Queue.LEAD: ["lead", "supervisor"],
            Queue.SUPERVISOR: ["supervisor"],
            Queue.CRO: ["cro"],
        }
    )
    # Section name -> mailbox for "more action needed" mail (task 9).
    section_addresses: dict[str, Address] = msgspec.field(
        default_factory=lambda: {
            "customer_credit_group": "credit.group@utility.example",
            "supervisors": "cs.supervisors@utility.example",
            "billing_adjustments": "billing.adjustments@utility.example",
        }
    )
    # Where the CRO's resolution mail says it comes from (the hub's outbox sender does the sending).
    cro_signature: Annotated[str, msgspec.Meta(max_length=200)] = "Customer Relations Office"
    # Server-sent events: a comment every so often keeps proxies from closing an idle stream. (A reader that
    # stops reading loses its oldest messages: the hub's streams bound each subscriber.)
    stream_keepalive_s: Annotated[float, msgspec.Meta(gt=0, le=300)] = 15.0


# -- routing and SLA --------------------------------------------------------------------------------------
def route(kind: Kind, config: EscalationConfig) -> Queue:
    """The queue an escalation of ``kind`` goes to; CRO requests always go to the CRO."""
    if kind is Kind.CRO_REQUEST:
        return Queue.CRO
    return config.routes.get(kind, Queue.LEAD)


def sla_minutes(queue: Queue, urgency: Urgency, config: EscalationConfig) -> int:
    table = config.cro_sla_minutes if queue is Queue.CRO else config.sla_minutes
    fallback = 480 if queue is Queue.CRO else 120
    return table.get(urgency, fallback)


def add_business_minutes(start: dt.datetime, minutes: int, open_hour: int, close_hour: int) -> dt.datetime:
    """``start`` plus ``minutes`` counted only Monday-Friday between ``open_hour`` and ``close_hour`` local.

    A start outside business hours begins counting at the next opening. Returns an aware UTC time.
    """
    if close_hour <= open_hour:
        raise ValueError("close_hour must be after open_hour")
    local = start.astimezone(LOCAL_TZ)
    left = dt.timedelta(minutes=minutes)
    while True:
        day = local.date()
        opens = dt.datetime.combine(day, dt.time(open_hour), LOCAL_TZ)
        closes = (
            dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), LOCAL_TZ)
            if close_hour == 24
            else dt.datetime.combine(day, dt.time(close_hour), LOCAL_TZ)
        )
        if day.weekday() < 5 and local < closes:
            begin = max(local, opens)
            room = closes - begin
            if left <= room:
                return (begin + left).astimezone(dt.UTC)
            left -= room
        nxt = day + dt.timedelta(days=1)
        local = dt.datetime.combine(nxt, dt.time(0), LOCAL_TZ)


def due_at(raised_at: dt.datetime, queue: Queue, urgency: Urgency, config: EscalationConfig) -> dt.datetime:
    """The SLA deadline, fixed when the escalation is raised (a later config change moves no deadline)."""
    minutes = sla_minutes(queue, urgency, config)
    if config.sla_clock.get(queue, "wall") == "business":
        return add_business_minutes(raised_at, minutes, config.business_start_hour, config.business_end_hour)
    return (raised_at + dt.timedelta(minutes=minutes)).astimezone(dt.UTC)


def is_overdue(status: str, due: dt.datetime, now: dt.datetime) -> bool:
    """Open past its deadline. An approved escalation is no longer waiting on the queue."""
    return status == Status.OPEN and now > due


# -- decisions --------------------------------------------------------------------------------------------
def decision_refusal(
    *, queue: Queue, role: str, actor: str, requested_by: str, config: EscalationConfig
) -> str | None:
    """Why this person may not approve or deny: None when they may.

    The approver needs one of the queue's roles and must not be the requester: an approval is a second
    pair of eyes (issue 8 §4), so approving one's own request would record a check that never happened.
    """
    allowed = config.queue_roles.get(queue, [])
    if role not in allowed:
        return f"the {queue.value} queue is decided by: {', '.join(allowed) or 'nobody'}"
    if actor == requested_by:
        return "the requester cannot decide their own escalation"
    return None


# -- special payment plans --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PlanTerms:
    """The terms of a special payment plan as the CSR asked and the approver approved them."""

    amount_cents: int
    installments: int
    first_due: dt.date
    cadence: Cadence
    hardship_reason: str | None


def beyond_standard_term(terms: PlanTerms) -> bool:
    """True when the plan runs past the 12 months of PUC 10010 / HSC 116900 ff. (docs/rules.md §6.1, §6.2)."""
    try:
        quote(terms.amount_cents, terms.installments, terms.first_due, terms.cadence, residential=True)
    except PayPlanError as exc:
        return exc.field == "installments" and "months" in exc.message
    return False


def check_terms(terms: PlanTerms, today: dt.date) -> None:
    """Refuse terms the CCB would refuse, naming the field (raises ``PayPlanError``).

    A term past 12 months needs a recorded hardship reason (docs/rules.md §6.3 rule 2); the approval of the
    escalation is the second condition this plugin adds before such a plan is created.
    """
    quote(
        terms.amount_cents,
        terms.installments,
        terms.first_due,
        terms.cadence,
        residential=True,
        hardship_reason=terms.hardship_reason,
        today=today,
    )


def concerns(
    *, actor: str, role: str, event: str, requested_by: str, queue: str, config: EscalationConfig
) -> bool:
    """Whether a live event is for this reader: their own escalation, or a new one in a queue they decide."""
    if requested_by == actor:
        return True
    try:
        deciders = config.queue_roles.get(Queue(queue), [])
    except ValueError:
        return False
    return event == "raised" and role in deciders


def standard_term_end(first_due: dt.date) -> dt.date:
    return add_months(first_due, MAX_RESIDENTIAL_TERM_MONTHS)


def local_date(when: dt.datetime) -> dt.date:
    return when.astimezone(LOCAL_TZ).date()
