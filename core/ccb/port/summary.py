"""The account at a glance: what a CSR's control-central screen shows for a verified account."""

from __future__ import annotations

import datetime as dt

from core.ccb.port.base import Model
from core.ccb.port.bills import BillBrief
from core.ccb.port.customers import Address, PersonBrief, PremiseBrief
from core.ccb.port.service import ServiceAgreementView
from core.ccb.port.work import AlertView

__all__ = ["AccountSummary"]


class AccountSummary(Model, frozen=True):
    """What a CSR's control-central screen shows for a verified account."""

    account_id: str
    customer_class: str
    bill_cycle: str
    setup_date: dt.date
    main_customer: PersonBrief
    persons: list[PersonBrief]
    mailing_address: Address
    premises: list[PremiseBrief]
    service_agreements: list[ServiceAgreementView]
    balance_cents: int
    past_due_cents: int
    last_bills: list[BillBrief]
    alerts: list[AlertView]
    verification_locked: bool
    active_pay_plan_id: str | None
    open_case_ids: list[str]
