"""Pure rules of the escalations plugin: routing, SLA deadlines (wall and business minutes), who decides,
and which payment-plan terms are beyond the standard 12 months."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from core.ccb.payplan import PayPlanError
from plugins.escalations.rules import (
    LOCAL_TZ,
    EscalationConfig,
    Kind,
    PlanTerms,
    Queue,
    Urgency,
    add_business_minutes,
    beyond_standard_term,
    check_terms,
    decision_refusal,
    due_at,
    is_overdue,
    route,
)

CONFIG = msgspec.convert({}, EscalationConfig)


def local(y: int, m: int, d: int, h: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, minute, tzinfo=LOCAL_TZ)


def test_kinds_route_to_their_configured_queue() -> None:
    assert route(Kind.SAME_DAY_SERVICE, CONFIG) is Queue.LEAD
    assert route(Kind.SPECIAL_PAYMENT_PLAN, CONFIG) is Queue.SUPERVISOR
    assert route(Kind.CRO_REQUEST, CONFIG) is Queue.CRO
    custom = msgspec.convert({"routes": {"bill_correction": "supervisor"}}, EscalationConfig)
    assert route(Kind.BILL_CORRECTION, custom) is Queue.SUPERVISOR
    assert route(Kind.SAME_DAY_SERVICE, custom) is Queue.LEAD  # left out of the map: the lead queue
    # Even a config that sends CRO requests elsewhere cannot take them from the CRO.
    odd = msgspec.convert({"routes": {"cro_request": "lead"}}, EscalationConfig)
    assert route(Kind.CRO_REQUEST, odd) is Queue.CRO


def test_bad_config_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"routes": {"same_day_service": "nobody"}}, EscalationConfig)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"section_addresses": {"credit": "not-an-address"}}, EscalationConfig)


def test_wall_minutes_run_day_and_night() -> None:
    saturday_night = local(2025, 11, 8, 23, 55).astimezone(dt.UTC)
    due = due_at(saturday_night, Queue.LEAD, Urgency.URGENT, CONFIG)
    assert due - saturday_night == dt.timedelta(minutes=10)
    assert due.tzinfo == dt.UTC


def test_business_minutes_skip_nights_and_weekends() -> None:
    # Friday 16:30 + 60 business minutes (8-17 local): 30 min on Friday, 30 on Monday.
    assert add_business_minutes(local(2025, 11, 7, 16, 30), 60, 8, 17) == local(2025, 11, 10, 8, 30)
    # Raised on Sunday: counting starts on Monday's opening.
    assert add_business_minutes(local(2025, 11, 9, 12), 30, 8, 17) == local(2025, 11, 10, 8, 30)
    # Raised before opening.
    assert add_business_minutes(local(2025, 11, 4, 6), 60, 8, 17) == local(2025, 11, 4, 9)
    # A whole business day is nine hours.
    assert add_business_minutes(local(2025, 11, 4, 8), 9 * 60, 8, 17) == local(2025, 11, 4, 17)
    # The CRO queue uses business minutes by default: normal = 480.
    monday_9 = local(2025, 11, 3, 9).astimezone(dt.UTC)
    assert due_at(monday_9, Queue.CRO, Urgency.NORMAL, CONFIG) == local(2025, 11, 3, 17)


def test_overdue_only_while_open() -> None:
    now = dt.datetime(2025, 11, 3, 20, tzinfo=dt.UTC)
    assert is_overdue("open", now - dt.timedelta(seconds=1), now)
    assert not is_overdue("open", now, now)
    assert not is_overdue("approved", now - dt.timedelta(hours=1), now)


def test_the_approver_needs_the_queues_role_and_is_not_the_requester() -> None:
    def refuse(queue: Queue, role: str, actor: str = "staff:lee") -> str | None:
        return decision_refusal(queue=queue, role=role, actor=actor, requested_by="staff:ann", config=CONFIG)

    assert refuse(Queue.LEAD, "lead") is None
    assert refuse(Queue.LEAD, "supervisor") is None
    assert refuse(Queue.SUPERVISOR, "lead") is not None
    assert refuse(Queue.CRO, "supervisor") is not None
    assert refuse(Queue.LEAD, "csr") is not None
    own = refuse(Queue.LEAD, "lead", actor="staff:ann")
    assert own is not None and "own" in own


def test_a_plan_past_twelve_months_is_beyond_the_standard_terms_and_needs_a_hardship_reason() -> None:
    first = dt.date(2025, 12, 1)
    assert not beyond_standard_term(PlanTerms(120_000, 12, first, "monthly", None))
    long = PlanTerms(180_000, 18, first, "monthly", None)
    assert beyond_standard_term(long)
    with pytest.raises(PayPlanError) as err:
        check_terms(long, dt.date(2025, 11, 3))
    assert err.value.field == "installments"
    check_terms(PlanTerms(180_000, 18, first, "monthly", "medical bills"), dt.date(2025, 11, 3))
    with pytest.raises(PayPlanError) as past:
        check_terms(PlanTerms(1000, 2, dt.date(2025, 10, 1), "monthly", None), dt.date(2025, 11, 3))
    assert past.value.field == "first_due"
