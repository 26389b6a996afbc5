"""Money: balance and financial transactions (docs/ccb-domain.md §1.1), adjustments (§1.8), payments, tenders
and
cash drawers — tender and deposit controls (§1.9)."""

from __future__ import annotations

import datetime as dt

from core.ccb.port.base import Model, TenderType

__all__ = [
    "AdjustmentView",
    "ApproveAdjustment",
    "Balance",
    "BalanceTenderControl",
    "CancelAdjustment",
    "CancelPayment",
    "CancelTender",
    "CreateAdjustment",
    "CreateDepositControl",
    "DepositControlView",
    "FinancialTransactionView",
    "OpenTenderControl",
    "PaySegmentView",
    "PaymentResult",
    "PostPayment",
    "StartBalancing",
    "TenderCanceled",
    "TenderControlView",
    "TenderInput",
    "TenderView",
]


class Balance(Model, frozen=True):
    account_id: str
    as_of: dt.date
    balance_cents: int
    past_due_cents: int


class FinancialTransactionView(Model, frozen=True):
    ft_id: str
    sa_id: str
    ft_type: str
    parent_id: str
    amount_cents: int
    frozen: bool
    cancels_ft_id: str | None
    accounting_date: dt.date
    arrears_date: dt.date | None
    bill_id: str | None


class CreateAdjustment(Model, frozen=True):
    """``amount_cents`` is the magnitude; the adjustment type decides charge or credit (§1.8)."""

    sa_id: str
    adjustment_type: str
    amount_cents: int
    reason: str


class ApproveAdjustment(Model, frozen=True):
    adjustment_id: str


class CancelAdjustment(Model, frozen=True):
    adjustment_id: str
    reason: str


class AdjustmentView(Model, frozen=True):
    adjustment_id: str
    sa_id: str
    account_id: str
    adjustment_type: str
    amount_cents: int
    status: str
    reason: str
    approved_by: str | None
    cancel_reason: str | None


class TenderInput(Model, frozen=True):
    """One tender; a card is identified by its last four digits only (never a full PAN)."""

    tender_type: TenderType
    amount_cents: int
    check_number: str | None = None
    card_last4: str | None = None
    card_brand: str | None = None


class PostPayment(Model, frozen=True):
    account_id: str
    tenders: tuple[TenderInput, ...]
    tender_control_id: str | None = None


class TenderView(Model, frozen=True):
    tender_id: str
    tender_type: str
    amount_cents: int
    status: str
    check_number: str | None
    masked_pan: str | None
    card_brand: str | None
    tender_control_id: str | None


class PaySegmentView(Model, frozen=True):
    sa_id: str
    amount_cents: int


class PaymentResult(Model, frozen=True):
    payment_event_id: str
    payment_id: str
    account_id: str
    amount_cents: int
    status: str
    tenders: list[TenderView]
    distribution: list[PaySegmentView]
    balance_cents: int
    replayed: bool = False


class CancelPayment(Model, frozen=True):
    payment_id: str
    reason: str


class CancelTender(Model, frozen=True):
    tender_id: str
    reason: str


class TenderCanceled(Model, frozen=True):
    tender_id: str
    canceled_payment_ids: list[str]


class OpenTenderControl(Model, frozen=True):
    csr: str
    starting_float_cents: int
    tender_source: str = "CASH_DRAWER"


class StartBalancing(Model, frozen=True):
    tender_control_id: str


class BalanceTenderControl(Model, frozen=True):
    tender_control_id: str
    counted_cents: int


class TenderControlView(Model, frozen=True):
    tender_control_id: str
    csr: str
    status: str
    starting_float_cents: int
    tenders_cents: int
    expected_cents: int | None
    counted_cents: int | None
    over_under_cents: int | None
    deposit_control_id: str | None


class CreateDepositControl(Model, frozen=True):
    tender_control_ids: tuple[str, ...]


class DepositControlView(Model, frozen=True):
    deposit_control_id: str
    status: str
    total_cents: int
    tender_control_ids: list[str]
