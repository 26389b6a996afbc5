"""The CCB port: every CCB read and write the hub's workflows need, as one Protocol over msgspec Structs.

Three implementations are meant to sit behind it without callers noticing: the local mock on the hub's
database (local.py), a remote CCB over HTTP, and an offline journal that records writes while CCB is down
and replays them in order (ARCHITECTURE §7). That is why

* every input and output is a frozen msgspec Struct (or a plain id / date), so a call can be serialised,
  sent and journaled as ``(operation, request)`` — ``WRITE_OPERATIONS`` names each write's request and
  result types for that;
* every write takes one request Struct plus keyword-only ``actor`` (who, for audit and events) and
  ``idempotency_key`` (a replay with the same key returns the first answer and changes nothing);
* domain errors are only those of ``core.ccb.errors`` (NotFound → 404, IllegalTransition → 409,
  Invalid → 422).

Lookup codes are returned stripped (``"20"``, not CCB's space-padded ``"20 "``, ccb-domain §1.2); a REST
facade that mirrors CCB pads them on the way out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, Protocol, runtime_checkable

import msgspec

from core.ccb.codes import RegisterFlow  # every meter has "delivered"; a net meter also "received"
from core.ccb.identity import IdentityMethod

__all__ = [
    "WRITE_OPERATIONS",
    "AccountSummary",
    "AddAccountPerson",
    "AddAlert",
    "AddCustomerContact",
    "AddMeterRead",
    "AddPremiseNote",
    "Address",
    "AdjustmentView",
    "AlertView",
    "ApproveAdjustment",
    "Balance",
    "BalanceTenderControl",
    "BillAccount",
    "BillBrief",
    "BillExplanation",
    "BillSegmentView",
    "BillView",
    "CancelAdjustment",
    "CancelBillSegment",
    "CancelFieldActivity",
    "CancelPayPlan",
    "CancelPayment",
    "CancelStart",
    "CancelStop",
    "CancelTender",
    "CaseLogEntry",
    "CaseView",
    "CcbPort",
    "CompleteFieldActivity",
    "CreateAdjustment",
    "CreateCase",
    "CreateCustomer",
    "CreateDepositControl",
    "CreateFieldActivity",
    "CreatePayPlan",
    "CreatePaymentArrangement",
    "CreatePremise",
    "CreateToDo",
    "CustomerContactView",
    "CustomerCreated",
    "DepositControlView",
    "DepositView",
    "FieldActivityView",
    "FinancialTransactionView",
    "FreezeBillSegment",
    "InstallmentView",
    "MeterView",
    "NetMeteringCharge",
    "NetMeteringPeriod",
    "NetMeteringTierLine",
    "NetMeteringView",
    "NewPerson",
    "OpenTenderControl",
    "PayPlanView",
    "PaySegmentView",
    "PaymentArrangementView",
    "PaymentResult",
    "PersonBrief",
    "PersonView",
    "PostPayment",
    "PremiseBrief",
    "PremiseNoteView",
    "PremiseView",
    "ReadResult",
    "ReadView",
    "Rebill",
    "RebillResult",
    "RequestDeposit",
    "ResolveCustomerContact",
    "RestoreService",
    "SegmentExplanation",
    "ServiceAgreementView",
    "ServiceKind",
    "ServicePointView",
    "SetAccessCode",
    "SetMainCustomer",
    "SetPropertyAccess",
    "StartBalancing",
    "StartService",
    "StartServiceResult",
    "StopService",
    "TenderCanceled",
    "TenderControlView",
    "TenderInput",
    "TenderView",
    "ToDoView",
    "TransitionCase",
    "UnlockVerification",
    "UpdateToDo",
]

ServiceKind = Literal["electric", "water"]
TenderType = Literal["cash", "check", "card"]


class Model(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every port Struct: immutable, keyword-built, strict when decoded."""


# ---------------------------------------------------------------------------------------------------
# People, accounts, premises


class Address(Model, frozen=True):
    line1: str
    city: str
    zip: str
    state: str = "CA"
    line2: str | None = None


class NewPerson(Model, frozen=True):
    """A person to create; the identity factors are hashed on arrival and never returned."""

    first_name: str
    last_name: str
    phone: str
    mailing_address: Address
    alt_phone: str | None = None
    email: str | None = None
    language: str = "en"
    life_support: bool = False
    access_code: str | None = None
    ssn_last4: str | None = None


class CreateCustomer(Model, frozen=True):
    """A new person as main customer of a new account (§1.3)."""

    person: NewPerson
    customer_class: str = "RES"
    bill_cycle: str | None = None
    setup_date: dt.date | None = None


class CustomerCreated(Model, frozen=True):
    account_id: str
    person_id: str


class AddAccountPerson(Model, frozen=True):
    """Link an existing person (``person_id``) or a new one (``person``) to an account, not as main."""

    account_id: str
    relationship: str
    person_id: str | None = None
    person: NewPerson | None = None
    financially_responsible: bool = False
    receives_bill_copy: bool = False


class SetMainCustomer(Model, frozen=True):
    account_id: str
    person_id: str


class SetAccessCode(Model, frozen=True):
    person_id: str
    access_code: str


class UnlockVerification(Model, frozen=True):
    account_id: str


class SetMailingAddress(Model, frozen=True):
    """A mailing address for the account's bills and letters (e.g. after returned mail, task 13)."""

    account_id: str
    address: Address


class PersonBrief(Model, frozen=True):
    person_id: str
    name: str
    phone: str
    email: str | None
    is_main_customer: bool
    financially_responsible: bool
    relationship: str


class PersonView(Model, frozen=True):
    """A person as staff may see it: no identity factors, only whether they are on file."""

    person_id: str
    first_name: str
    last_name: str
    phone: str
    alt_phone: str | None
    email: str | None
    mailing_address: Address
    language: str
    life_support: bool
    has_access_code: bool
    has_ssn_last4: bool
    account_ids: list[str]


class CreatePremise(Model, frozen=True):
    """A premise with one SP and one meter per service (§1.4).

    ``net_metered`` installs a net (bidirectional, digital) electric meter with a delivered and a received
    register; electric service started there is then net-metered (SA type E-NEM, §4.1).
    """

    address: Address
    service_area_code: str
    electric_zone: Literal["1", "2"]
    water_temperature_zone: Literal["low", "medium", "high"]
    lot_size_sqft: int
    services: tuple[ServiceKind, ...] = ("electric", "water")
    meter_type: Literal["dial", "digital"] = "digital"
    premise_type: str = "SFR"
    net_metered: bool = False


class MeterView(Model, frozen=True):
    meter_id: str
    badge_number: str
    meter_type: str
    service: str
    unit: str
    register_digits: int
    registers: tuple[RegisterFlow, ...] = ("delivered",)


class ServicePointView(Model, frozen=True):
    sp_id: str
    service: str
    connected: bool
    meter: MeterView | None


class PremiseView(Model, frozen=True):
    premise_id: str
    premise_type: str
    address: Address
    service_area_code: str
    electric_zone: str
    water_temperature_zone: str
    lot_size_sqft: int
    gate_code: str | None
    has_dog: bool
    hazards: str | None
    reader_notes: str | None
    service_points: list[ServicePointView]


class PremiseBrief(Model, frozen=True):
    premise_id: str
    address: Address
    service_area_code: str


class SetPropertyAccess(Model, frozen=True):
    """Property access for field crews; ``None`` leaves a field as it is, ``""`` clears a text field."""

    premise_id: str
    gate_code: str | None = None
    has_dog: bool | None = None
    hazards: str | None = None
    reader_notes: str | None = None


# ---------------------------------------------------------------------------------------------------
# Service agreements, start / stop / restore (§1.5, §1.6)


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


# ---------------------------------------------------------------------------------------------------
# Reads (§1.4)


class AddMeterRead(Model, frozen=True):
    """A meter read. ``read_type`` is a ``reads.ReadType`` code; a No Read ("20") has no reading and,
    when history allows, is followed by a system estimate for the same date.

    ``reading`` is the delivered register's. On a net meter ``received_reading`` is the received
    register's, read at the same time; left out, that register is estimated from its own history (§1.4).
    """

    meter_id: str
    read_at: dt.datetime
    read_type: str = "60"
    reading: int | None = None
    use_on_bill: bool = True
    source: str = "field"
    remarks: str | None = None
    estimate_on_no_read: bool = True
    received_reading: int | None = None


class ReadView(Model, frozen=True):
    read_id: str
    meter_id: str
    read_at: dt.datetime
    read_on: dt.date
    reading: int | None
    read_type: str
    read_type_name: str
    use_on_bill: bool
    source: str
    high_low: str | None
    remarks: str | None
    register: RegisterFlow = "delivered"


class ReadResult(Model, frozen=True):
    """``read`` and ``estimate`` are the delivered register's; ``received`` the received register's read
    (or estimate) taken with them on a net meter."""

    read: ReadView
    estimate: ReadView | None
    high_low: str | None
    consecutive_estimates: int
    case_id: str | None
    field_activity_id: str | None
    received: ReadView | None = None


# ---------------------------------------------------------------------------------------------------
# Bills (§1.7)


class BillAccount(Model, frozen=True):
    """Bill each billable SA with a new read up to ``cut_off``; ``freeze=False`` leaves them freezable."""

    account_id: str
    cut_off: dt.date
    bill_date: dt.date | None = None
    freeze: bool = True


class BillSegmentView(Model, frozen=True):
    bill_segment_id: str
    bill_id: str
    sa_id: str
    sa_type: str
    status: str
    period_start: dt.date
    period_end: dt.date
    start_reading: int | None
    end_reading: int | None
    estimated: bool
    quantity: str
    unit: str | None
    tier_quantities: list[str]
    amount_cents: int
    rebill_of: str | None


class BillView(Model, frozen=True):
    bill_id: str
    account_id: str
    status: str
    bill_date: dt.date
    due_date: dt.date
    is_final: bool
    previous_balance_cents: int
    payments_cents: int
    adjustments_cents: int
    current_charges_cents: int
    amount_due_cents: int
    segments: list[BillSegmentView]
    corrected: bool


class BillBrief(Model, frozen=True):
    bill_id: str
    status: str
    bill_date: dt.date
    due_date: dt.date
    current_charges_cents: int
    amount_due_cents: int
    is_final: bool


class SegmentExplanation(Model, frozen=True):
    bill_segment_id: str
    sa_type: str
    status: str
    illustrative: bool
    lines: list[str]


class BillExplanation(Model, frozen=True):
    bill_id: str
    lines: list[str]
    segments: list[SegmentExplanation]


class FreezeBillSegment(Model, frozen=True):
    bill_segment_id: str


class CancelBillSegment(Model, frozen=True):
    bill_segment_id: str
    reason: str


class Rebill(Model, frozen=True):
    """Cancel a frozen segment and bill it again, optionally with a corrected end reading (§1.7)."""

    bill_segment_id: str
    reason: str
    corrected_reading: int | None = None


class RebillResult(Model, frozen=True):
    canceled_segment_id: str
    new_segment: BillSegmentView


class NetMeteringTierLine(Model, frozen=True):
    """One priced tier line of a net-metered segment: ``kwh`` of ``tier`` in one season part."""

    start: dt.date
    end: dt.date  # exclusive
    season: str
    tier: int
    kwh: str
    unit_price: str  # $ per kWh
    amount_cents: int


class NetMeteringCharge(Model, frozen=True):
    """A non-energy charge on the segment (Power Access Charge, minimum top-up): no credit touches it."""

    name: str
    description: str
    amount_cents: int


class NetMeteringPeriod(Model, frozen=True):
    """One frozen bill segment of a net-metered SA: both registers, the net and the kWh credit (§4.1).

    Quantities are kWh as exact decimal text ("600.00"). ``billed_kwh`` = max(net, 0) - credit used, priced
    through the tiers; ``credit_out_kwh`` is what the next bill starts with.
    """

    bill_id: str
    bill_date: dt.date
    bill_segment_id: str
    period_start: dt.date
    period_end: dt.date  # the end-read date, exclusive
    days: int
    zone: str
    estimated: bool
    delivered_start_reading: int
    delivered_end_reading: int
    received_start_reading: int
    received_end_reading: int
    delivered_kwh: str
    received_kwh: str
    net_kwh: str
    credit_in_kwh: str
    credit_used_kwh: str
    billed_kwh: str
    credit_earned_kwh: str
    credit_out_kwh: str
    credit_forfeited_kwh: str
    tier_kwh: list[str]
    tier_lines: list[NetMeteringTierLine]
    charges: list[NetMeteringCharge]
    energy_cents: int
    charges_cents: int
    amount_cents: int
    lines: list[str]  # the segment in plain words, as the bill explanation prints it


class NetMeteringView(Model, frozen=True):
    """An account's net-metered electric SA, its meter and its latest billed periods, newest first."""

    account_id: str
    sa_id: str
    sa_type: str
    sa_status: str
    sa_status_label: str
    rate_schedule: str | None
    zone: str | None
    premise_id: str | None
    meter_id: str | None
    badge_number: str | None
    credit_bank_kwh: str  # carried forward by the latest bill: what the next bill takes off its net
    periods: list[NetMeteringPeriod]


# ---------------------------------------------------------------------------------------------------
# Money: FTs, adjustments, payments, cash drawers (§1.1, §1.8, §1.9)


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


# ---------------------------------------------------------------------------------------------------
# Pay plans, payment arrangements, deposits (§1.10, §1.11)


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


# ---------------------------------------------------------------------------------------------------
# Contacts, notes, alerts (§1.12, §1.13)


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


# ---------------------------------------------------------------------------------------------------
# The account at a glance


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


# ---------------------------------------------------------------------------------------------------
# The protocol


@runtime_checkable
class CcbPort(Protocol):
    """Every CCB operation the hub uses. Writes: one request Struct, keyword ``actor``/``idempotency_key``."""

    # -- reads -----------------------------------------------------------------------------------------
    async def get_account_summary(self, account_id: str) -> AccountSummary: ...

    async def find_accounts_by_phone(self, phone: str) -> list[str]: ...

    async def find_accounts_by_address(self, line1: str, zip: str) -> list[str]: ...

    async def get_person(self, person_id: str) -> PersonView: ...

    async def get_premise(self, premise_id: str) -> PremiseView: ...

    async def get_service_agreement(self, sa_id: str) -> ServiceAgreementView: ...

    async def get_balance(self, account_id: str) -> Balance: ...

    async def list_financial_transactions(self, account_id: str) -> list[FinancialTransactionView]: ...

    async def get_bill(self, bill_id: str) -> BillView: ...

    async def list_bills(self, account_id: str, limit: int = 6) -> list[BillView]: ...

    async def bill_explanation(self, bill_id: str) -> BillExplanation: ...

    async def list_reads(self, meter_id: str, register: RegisterFlow = "delivered") -> list[ReadView]: ...

    # The account's net-metered electric SA with its last ``limit`` billed periods; None when the account
    # has none (an unknown account is NotFound).
    async def get_net_metering(self, account_id: str, limit: int = 6) -> NetMeteringView | None: ...

    async def get_adjustment(self, adjustment_id: str) -> AdjustmentView: ...

    async def get_payment(self, payment_id: str) -> PaymentResult: ...

    async def get_tender_control(self, tender_control_id: str) -> TenderControlView: ...

    async def get_pay_plan(self, pay_plan_id: str) -> PayPlanView: ...

    async def list_customer_contacts(self, account_id: str) -> list[CustomerContactView]: ...

    async def list_premise_notes(self, premise_id: str) -> list[PremiseNoteView]: ...

    async def get_case(self, case_id: str) -> CaseView: ...

    async def get_field_activity(self, field_activity_id: str) -> FieldActivityView: ...

    async def list_todos(self, role: str | None = None, status: str | None = None) -> list[ToDoView]: ...

    async def verify_identity(
        self, account_id: str, method: IdentityMethod, value: str, *, actor: str = "system"
    ) -> bool: ...

    # -- customers and premises ------------------------------------------------------------------------
    async def create_customer(
        self, request: CreateCustomer, *, actor: str = "system", idempotency_key: str | None = None
    ) -> CustomerCreated: ...

    async def add_account_person(
        self, request: AddAccountPerson, *, actor: str = "system", idempotency_key: str | None = None
    ) -> PersonBrief: ...

    async def set_main_customer(
        self, request: SetMainCustomer, *, actor: str = "system", idempotency_key: str | None = None
    ) -> PersonBrief: ...

    async def set_access_code(
        self, request: SetAccessCode, *, actor: str = "system", idempotency_key: str | None = None
    ) -> PersonView: ...

    async def unlock_verification(
        self, request: UnlockVerification, *, actor: str = "system", idempotency_key: str | None = None
    ) -> AccountSummary: ...

    async def set_mailing_address(
        self, request: SetMailingAddress, *, actor: str = "system", idempotency_key: str | None = None
    ) -> AccountSummary: ...

    async def create_premise(
        self, request: CreatePremise, *, actor: str = "system", idempotency_key: str | None = None
    ) -> PremiseView: ...

    async def set_property_access(
        self, request: SetPropertyAccess, *, actor: str = "system", idempotency_key: str | None = None
    ) -> PremiseView: ...

    # -- service ---------------------------------------------------------------------------------------
    async def start_service(
        self, request: StartService, *, actor: str = "system", idempotency_key: str | None = None
    ) -> StartServiceResult: ...

    async def cancel_start(
        self, request: CancelStart, *, actor: str = "system", idempotency_key: str | None = None
    ) -> ServiceAgreementView: ...

    async def stop_service(
        self, request: StopService, *, actor: str = "system", idempotency_key: str | None = None
    ) -> ServiceAgreementView: ...

    async def cancel_stop(
        self, request: CancelStop, *, actor: str = "system", idempotency_key: str | None = None
    ) -> ServiceAgreementView: ...

    async def restore_service(
        self, request: RestoreService, *, actor: str = "system", idempotency_key: str | None = None
    ) -> ServiceAgreementView: ...

    async def add_meter_read(
        self, request: AddMeterRead, *, actor: str = "system", idempotency_key: str | None = None
    ) -> ReadResult: ...

    # -- bills -----------------------------------------------------------------------------------------
    async def bill_account(
        self, request: BillAccount, *, actor: str = "system", idempotency_key: str | None = None
    ) -> BillView | None: ...

    async def freeze_bill_segment(
        self, request: FreezeBillSegment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> BillSegmentView: ...

    async def cancel_bill_segment(
        self, request: CancelBillSegment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> BillSegmentView: ...

    async def rebill(
        self, request: Rebill, *, actor: str = "system", idempotency_key: str | None = None
    ) -> RebillResult: ...

    # -- money -----------------------------------------------------------------------------------------
    async def create_adjustment(
        self, request: CreateAdjustment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> AdjustmentView: ...

    async def approve_adjustment(
        self, request: ApproveAdjustment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> AdjustmentView: ...

    async def cancel_adjustment(
        self, request: CancelAdjustment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> AdjustmentView: ...

    async def post_payment(
        self, request: PostPayment, *, idempotency_key: str, actor: str = "system"
    ) -> PaymentResult: ...

    async def cancel_payment(
        self, request: CancelPayment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> PaymentResult: ...

    async def cancel_tender(
        self, request: CancelTender, *, actor: str = "system", idempotency_key: str | None = None
    ) -> TenderCanceled: ...

    async def open_tender_control(
        self, request: OpenTenderControl, *, actor: str = "system", idempotency_key: str | None = None
    ) -> TenderControlView: ...

    async def start_balancing(
        self, request: StartBalancing, *, actor: str = "system", idempotency_key: str | None = None
    ) -> TenderControlView: ...

    async def balance_tender_control(
        self, request: BalanceTenderControl, *, actor: str = "system", idempotency_key: str | None = None
    ) -> TenderControlView: ...

    async def create_deposit_control(
        self, request: CreateDepositControl, *, actor: str = "system", idempotency_key: str | None = None
    ) -> DepositControlView: ...

    async def create_pay_plan(
        self, request: CreatePayPlan, *, actor: str = "system", idempotency_key: str | None = None
    ) -> PayPlanView: ...

    async def cancel_pay_plan(
        self, request: CancelPayPlan, *, actor: str = "system", idempotency_key: str | None = None
    ) -> PayPlanView: ...

    async def create_payment_arrangement(
        self, request: CreatePaymentArrangement, *, actor: str = "system", idempotency_key: str | None = None
    ) -> PaymentArrangementView: ...

    async def request_deposit(
        self, request: RequestDeposit, *, actor: str = "system", idempotency_key: str | None = None
    ) -> DepositView: ...

    # -- interactions and work -------------------------------------------------------------------------
    async def add_customer_contact(
        self, request: AddCustomerContact, *, actor: str = "system", idempotency_key: str | None = None
    ) -> CustomerContactView: ...

    async def resolve_customer_contact(
        self, request: ResolveCustomerContact, *, actor: str = "system", idempotency_key: str | None = None
    ) -> CustomerContactView: ...

    async def add_premise_note(
        self, request: AddPremiseNote, *, actor: str = "system", idempotency_key: str | None = None
    ) -> PremiseNoteView: ...

    async def add_alert(
        self, request: AddAlert, *, actor: str = "system", idempotency_key: str | None = None
    ) -> AlertView: ...

    async def create_case(
        self, request: CreateCase, *, actor: str = "system", idempotency_key: str | None = None
    ) -> CaseView: ...

    async def transition_case(
        self, request: TransitionCase, *, actor: str = "system", idempotency_key: str | None = None
    ) -> CaseView: ...

    async def create_field_activity(
        self, request: CreateFieldActivity, *, actor: str = "system", idempotency_key: str | None = None
    ) -> FieldActivityView: ...

    async def complete_field_activity(
        self, request: CompleteFieldActivity, *, actor: str = "system", idempotency_key: str | None = None
    ) -> FieldActivityView: ...

    async def cancel_field_activity(
        self, request: CancelFieldActivity, *, actor: str = "system", idempotency_key: str | None = None
    ) -> FieldActivityView: ...

    async def create_todo(
        self, request: CreateToDo, *, actor: str = "system", idempotency_key: str | None = None
    ) -> ToDoView: ...

    async def update_todo(
        self, request: UpdateToDo, *, actor: str = "system", idempotency_key: str | None = None
    ) -> ToDoView: ...


# Write operation name -> (request type, result type): what an offline journal stores and replays, and
# what a remote implementation sends. ``BillView | None`` is written as a union for msgspec to decode.
WRITE_OPERATIONS: dict[str, tuple[type[Model], Any]] = {
    "create_customer": (CreateCustomer, CustomerCreated),
    "add_account_person": (AddAccountPerson, PersonBrief),
    "set_main_customer": (SetMainCustomer, PersonBrief),
    "set_access_code": (SetAccessCode, PersonView),
    "unlock_verification": (UnlockVerification, AccountSummary),
    "set_mailing_address": (SetMailingAddress, AccountSummary),
    "create_premise": (CreatePremise, PremiseView),
    "set_property_access": (SetPropertyAccess, PremiseView),
    "start_service": (StartService, StartServiceResult),
    "cancel_start": (CancelStart, ServiceAgreementView),
    "stop_service": (StopService, ServiceAgreementView),
    "cancel_stop": (CancelStop, ServiceAgreementView),
    "restore_service": (RestoreService, ServiceAgreementView),
    "add_meter_read": (AddMeterRead, ReadResult),
    "bill_account": (BillAccount, BillView | None),
    "freeze_bill_segment": (FreezeBillSegment, BillSegmentView),
    "cancel_bill_segment": (CancelBillSegment, BillSegmentView),
    "rebill": (Rebill, RebillResult),
    "create_adjustment": (CreateAdjustment, AdjustmentView),
    "approve_adjustment": (ApproveAdjustment, AdjustmentView),
    "cancel_adjustment": (CancelAdjustment, AdjustmentView),
    "post_payment": (PostPayment, PaymentResult),
    "cancel_payment": (CancelPayment, PaymentResult),
    "cancel_tender": (CancelTender, TenderCanceled),
    "open_tender_control": (OpenTenderControl, TenderControlView),
    "start_balancing": (StartBalancing, TenderControlView),
    "balance_tender_control": (BalanceTenderControl, TenderControlView),
    "create_deposit_control": (CreateDepositControl, DepositControlView),
    "create_pay_plan": (CreatePayPlan, PayPlanView),
    "cancel_pay_plan": (CancelPayPlan, PayPlanView),
    "create_payment_arrangement": (CreatePaymentArrangement, PaymentArrangementView),
    "request_deposit": (RequestDeposit, DepositView),
    "add_customer_contact": (AddCustomerContact, CustomerContactView),
    "resolve_customer_contact": (ResolveCustomerContact, CustomerContactView),
    "add_premise_note": (AddPremiseNote, PremiseNoteView),
    "add_alert": (AddAlert, AlertView),
    "create_case": (CreateCase, CaseView),
    "transition_case": (TransitionCase, CaseView),
    "create_field_activity": (CreateFieldActivity, FieldActivityView),
    "complete_field_activity": (CompleteFieldActivity, FieldActivityView),
    "cancel_field_activity": (CancelFieldActivity, FieldActivityView),
    "create_todo": (CreateToDo, ToDoView),
    "update_todo": (UpdateToDo, ToDoView),
}
