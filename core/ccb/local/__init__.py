"""The local CCB: the port implemented on the hub's own database, faithful to docs/ccb-domain.md §1.

Every write runs in ONE transaction (the database session commits on success and rolls back on any
error), so a failure half-way leaves nothing behind; events go to the outbox and money movements to the
audit log inside that same transaction. Batch processes that a real CCB runs on its own schedule (SA
activation ``SAACT``, finalization, pay-plan monitoring) are methods here that a scheduler or a simulator
calls with the business date; they are not on the port because the hub never drives them on a real CCB.

``LocalCcb`` is assembled from one mixin per CCB area. They stack on a shared base (``base``: database,
clock, identity key, events, audit, idempotent writes, shared lookups) and the view builders (``views``);
an area that needs another's building blocks inherits that area's mixin rather than reaching across:

* ``queries`` — account summary and account search;
* ``customers`` — identity verification, persons, accounts, premises (§1.3, §1.4; docs/rules.md §4.2, §4.3);
* ``work`` — customer contacts, premise notes, alerts, cases, field activities, To Dos (§1.12-§1.16);
* ``reads`` (on ``work``) — meter reads and estimates (§1.4), completing a field activity's read;
* ``bills`` (on ``reads``) — bill runs, freezing, canceling and rebilling segments (§1.7);
* ``adjustments`` — adjustments (§1.8), bill explanations and net metering (§4.1);
* ``service`` (on ``bills``) — start / stop / restore and the SA batches (§1.5, §1.6);
* ``payments`` — payments, tenders, tender and deposit controls (§1.9);
* ``payplans`` (on ``adjustments``) — pay plans, payment arrangements, deposits (§1.10, §1.11).
"""

from __future__ import annotations

from core.ccb import port as p
from core.ccb.local.adjustments import AdjustmentsMixin
from core.ccb.local.base import (
    MAX_ARRANGEMENT_INSTALLMENTS,
    MAX_TEXT,
    PAY_PLAN_BREACH_DAYS,
    SA_TYPE_ORDER,
    VERIFY_MAX_FAILURES,
    VERIFY_WINDOW,
    LocalBase,
)
from core.ccb.local.bills import BillsMixin
from core.ccb.local.customers import CustomersMixin
from core.ccb.local.payments import PaymentsMixin
from core.ccb.local.payplans import PayPlansMixin
from core.ccb.local.queries import QueriesMixin
from core.ccb.local.reads import ReadsMixin
from core.ccb.local.service import ServiceMixin
from core.ccb.local.views import LocalViews
from core.ccb.local.work import WorkMixin

__all__ = [
    "MAX_ARRANGEMENT_INSTALLMENTS",
    "MAX_TEXT",
    "PAY_PLAN_BREACH_DAYS",
    "SA_TYPE_ORDER",
    "VERIFY_MAX_FAILURES",
    "VERIFY_WINDOW",
    "LocalBase",
    "LocalCcb",
    "LocalViews",
]


class LocalCcb(
    CustomersMixin,
    QueriesMixin,
    ServiceMixin,
    BillsMixin,
    ReadsMixin,
    WorkMixin,
    PayPlansMixin,
    AdjustmentsMixin,
    PaymentsMixin,
):
    """The mock CCB on the hub's database (implements ``CcbPort``)."""


# Statically confirm the mock implements the whole port: the type checker verifies this return.
def _conforms(ccb: LocalCcb) -> p.CcbPort:
    return ccb
