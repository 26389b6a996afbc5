"""The port's operation table: every forwarded CCB operation declared once, as data.

Each entry says whether the operation is a read or a write and which types travel: a read's result, a
write's request Struct and result. Its arguments are those of the ``CcbPort`` method of the same name. The
table is what a journal stores and replays (``WRITE_OPERATIONS``), what the REST surface serves and decodes
(``core.ccb.rest``) and what ``core.ccb.forwarding`` generates the forwarding methods of the remote and
offline ports from.

``verify_identity`` is the one operation left out on purpose: it is neither a read (every attempt counts
towards the lock-out, docs/rules.md §4.2, so it is never retried nor answered from a snapshot) nor a write
that
could be journaled (the caller needs the answer now), so each implementation spells it out.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from core.ccb.port.base import Model
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
from core.ccb.port.reads import AddMeterRead, ReadResult, ReadView
from core.ccb.port.service import (
    CancelStart,
    CancelStop,
    RestoreService,
    ServiceAgreementView,
    StartService,
    StartServiceResult,
    StopService,
)
from core.ccb.port.summary import AccountSummary
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

__all__ = ["OPERATIONS", "READ_OPERATIONS", "WRITE_OPERATIONS", "ReadOperation", "WriteOperation"]


class ReadOperation(NamedTuple):
    """A read: safe to repeat, its answer decoded as ``result``."""

    result: Any


class WriteOperation(NamedTuple):
    """A write: one ``request`` Struct in, ``result`` out (a tuple, so ``request, result = op`` unpacks)."""

    request: type[Model]
    result: Any


# In the order of the protocol. ``X | None`` results are written as unions for msgspec to decode.
OPERATIONS: dict[str, ReadOperation | WriteOperation] = {
    # -- reads
    "get_account_summary": ReadOperation(AccountSummary),
    "find_accounts_by_phone": ReadOperation(list[str]),
    "find_accounts_by_address": ReadOperation(list[str]),
    "get_person": ReadOperation(PersonView),
    "get_premise": ReadOperation(PremiseView),
    "get_service_agreement": ReadOperation(ServiceAgreementView),
    "get_balance": ReadOperation(Balance),
    "list_financial_transactions": ReadOperation(list[FinancialTransactionView]),
    "get_bill": ReadOperation(BillView),
    "list_bills": ReadOperation(list[BillView]),
    "bill_explanation": ReadOperation(BillExplanation),
    "list_reads": ReadOperation(list[ReadView]),
    "get_net_metering": ReadOperation(NetMeteringView | None),
    "get_adjustment": ReadOperation(AdjustmentView),
    "get_payment": ReadOperation(PaymentResult),
    "get_tender_control": ReadOperation(TenderControlView),
    "get_pay_plan": ReadOperation(PayPlanView),
    "list_customer_contacts": ReadOperation(list[CustomerContactView]),
    "list_premise_notes": ReadOperation(list[PremiseNoteView]),
    "get_case": ReadOperation(CaseView),
    "get_field_activity": ReadOperation(FieldActivityView),
    "list_todos": ReadOperation(list[ToDoView]),
    # -- customers and premises
    "create_customer": WriteOperation(CreateCustomer, CustomerCreated),
    "add_account_person": WriteOperation(AddAccountPerson, PersonBrief),
    "set_main_customer": WriteOperation(SetMainCustomer, PersonBrief),
    "set_access_code": WriteOperation(SetAccessCode, PersonView),
    "unlock_verification": WriteOperation(UnlockVerification, AccountSummary),
    "set_mailing_address": WriteOperation(SetMailingAddress, AccountSummary),
    "create_premise": WriteOperation(CreatePremise, PremiseView),
    "set_property_access": WriteOperation(SetPropertyAccess, PremiseView),
    # -- service and reads
    "start_service": WriteOperation(StartService, StartServiceResult),
    "cancel_start": WriteOperation(CancelStart, ServiceAgreementView),
    "stop_service": WriteOperation(StopService, ServiceAgreementView),
    "cancel_stop": WriteOperation(CancelStop, ServiceAgreementView),
    "restore_service": WriteOperation(RestoreService, ServiceAgreementView),
    "add_meter_read": WriteOperation(AddMeterRead, ReadResult),
    # -- bills
    "bill_account": WriteOperation(BillAccount, BillView | None),
    "freeze_bill_segment": WriteOperation(FreezeBillSegment, BillSegmentView),
    "cancel_bill_segment": WriteOperation(CancelBillSegment, BillSegmentView),
    "rebill": WriteOperation(Rebill, RebillResult),
    # -- money
    "create_adjustment": WriteOperation(CreateAdjustment, AdjustmentView),
    "approve_adjustment": WriteOperation(ApproveAdjustment, AdjustmentView),
    "cancel_adjustment": WriteOperation(CancelAdjustment, AdjustmentView),
    "post_payment": WriteOperation(PostPayment, PaymentResult),
    "cancel_payment": WriteOperation(CancelPayment, PaymentResult),
    "cancel_tender": WriteOperation(CancelTender, TenderCanceled),
    "open_tender_control": WriteOperation(OpenTenderControl, TenderControlView),
    "start_balancing": WriteOperation(StartBalancing, TenderControlView),
    "balance_tender_control": WriteOperation(BalanceTenderControl, TenderControlView),
    "create_deposit_control": WriteOperation(CreateDepositControl, DepositControlView),
    "create_pay_plan": WriteOperation(CreatePayPlan, PayPlanView),
    "cancel_pay_plan": WriteOperation(CancelPayPlan, PayPlanView),
    "create_payment_arrangement": WriteOperation(CreatePaymentArrangement, PaymentArrangementView),
    "request_deposit": WriteOperation(RequestDeposit, DepositView),
    # -- interactions and work
    "add_customer_contact": WriteOperation(AddCustomerContact, CustomerContactView),
    "resolve_customer_contact": WriteOperation(ResolveCustomerContact, CustomerContactView),
    "add_premise_note": WriteOperation(AddPremiseNote, PremiseNoteView),
    "add_alert": WriteOperation(AddAlert, AlertView),
    "create_case": WriteOperation(CreateCase, CaseView),
    "transition_case": WriteOperation(TransitionCase, CaseView),
    "create_field_activity": WriteOperation(CreateFieldActivity, FieldActivityView),
    "complete_field_activity": WriteOperation(CompleteFieldActivity, FieldActivityView),
    "cancel_field_activity": WriteOperation(CancelFieldActivity, FieldActivityView),
    "create_todo": WriteOperation(CreateToDo, ToDoView),
    "update_todo": WriteOperation(UpdateToDo, ToDoView),
}

READ_OPERATIONS: dict[str, ReadOperation] = {
    name: op for name, op in OPERATIONS.items() if isinstance(op, ReadOperation)
}
# Write operation name -> (request type, result type): what an offline journal stores and replays, and
# what a remote implementation sends.
WRITE_OPERATIONS: dict[str, WriteOperation] = {
    name: op for name, op in OPERATIONS.items() if isinstance(op, WriteOperation)
}
