"""Pay plans, payment arrangements and deposits (docs/ccb-domain.md §1.10, §1.11)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from core.ccb.port.base import Model

__all__ = [
    "CancelPayPlan",
    "CreatePayPlan",
    "CreatePaymentArrangement",
    "DepositView",
    "InstallmentView",
    "PayPlanView",
    "PaymentArrangementView",
    "RequestDeposit",
]


class CreatePayPlan(Model, frozen=True):
    """Off-bill promise to pay; ``total_cents`` defaults to the past-due amount."""

    account_id: str
    installments: int
    first_due: dt.date
    cadence: Literal["monthly", "bimonthly", "biweekly", "weekly"] = "monthly"
    total_cents: int | None = None
    third_party_payor_account_id: str | None = None
    hardship_reason: str | None = None


class InstallmentView(Model, frozen=True):
    seq: int
    due_date: dt.date
    amount_cents: int
    status: str


class PayPlanView(Model, frozen=True):
    pay_plan_id: str
    account_id: str
    status: str
    total_cents: int
    cadence: str
    missed_installments: int
    third_party_payor_account_id: str | None
    installments: list[InstallmentView]


class CancelPayPlan(Model, frozen=True):
    pay_plan_id: str
    reason: str


class CreatePaymentArrangement(Model, frozen=True):
    """Move the past-due arrears to a payment-arrangement SA, billed in ``installments`` bills."""

    account_id: str
    installments: int


class PaymentArrangementView(Model, frozen=True):
    arrangement_id: str
    account_id: str
    sa_id: str
    status: str
    arrears_cents: int
    installment_amounts: list[int]


class RequestDeposit(Model, frozen=True):
    """Bill a cash deposit; ``amount_cents`` defaults to the recommendation (2 x average bill, §1.11)."""

    account_id: str
    amount_cents: int | None = None


class DepositView(Model, frozen=True):
    deposit_id: str
    account_id: str
    sa_id: str
    status: str
    amount_cents: int
    recommended_cents: int
    refund_review_on: dt.date
