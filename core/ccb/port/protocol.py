"""``CcbPort``: every CCB operation the hub uses, as one Protocol over the Structs of this package.

The typed signatures here are the contract every implementation satisfies (checked statically); the
operation table next to it (``core.ccb.port.operations``) lists the same operations as data.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from core.ccb.codes import RegisterFlow
from core.ccb.identity import IdentityMethod
from core.ccb.port.bills import (
    BillAccount,
    BillExplanation,
    BillSegmentView,
    BillView,
    CancelBillSegment,
    FreezeBillSegment,
    NetMeteringView,
    Rebill,
    RebillResult,
)
from core.ccb.port.customers import (
    AddAccountPerson,
    CreateCustomer,
    CreatePremise,
    CustomerCreated,
    PersonBrief,
    PersonView,
    PremiseView,
    SetAccessCode,
    SetMailingAddress,
    SetMainCustomer,
    SetPropertyAccess,
    UnlockVerification,
)
from core.ccb.port.money import (
    AdjustmentView,
    ApproveAdjustment,
    Balance,
    BalanceTenderControl,
    CancelAdjustment,
    CancelPayment,
    CancelTender,
    CreateAdjustment,
    CreateDepositControl,
    DepositControlView,
    FinancialTransactionView,
    OpenTenderControl,
    PaymentResult,
    PostPayment,
    StartBalancing,
    TenderCanceled,
    TenderControlView,
)
from core.ccb.port.payplans import (
    CancelPayPlan,
    CreatePaymentArrangement,
    CreatePayPlan,
    DepositView,
    PaymentArrangementView,
    PayPlanView,
    RequestDeposit,
)
from core.ccb.port.reads import (
    AddMeterRead,
    ReadResult,
    ReadView,
)
from core.ccb.port.service import (
    CancelStart,
    CancelStop,
    RestoreService,
    ServiceAgreementView,
    StartService,
    StartServiceResult,
    StopService,
)
from core.ccb.port.summary import (
    AccountSummary,
)
from core.ccb.port.work import (
    AddAlert,
    AddCustomerContact,
    AddPremiseNote,
    AlertView,
    CancelFieldActivity,
    CaseView,
    CompleteFieldActivity,
    CreateCase,
    CreateFieldActivity,
    CreateToDo,
    CustomerContactView,
    FieldActivityView,
    PremiseNoteView,
    ResolveCustomerContact,
    ToDoView,
    TransitionCase,
    UpdateToDo,
)

__all__ = ["CcbPort"]


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
