"""The CCB port: every CCB read and write the hub's workflows need, as one Protocol over msgspec Structs.

Three implementations are meant to sit behind it without callers noticing: the local mock on the hub's
database (``core.ccb.local``), a remote CCB over HTTP, and an offline journal that records writes while
CCB is down and replays them in order (ARCHITECTURE §7). That is why

* every input and output is a frozen msgspec Struct (or a plain id / date), so a call can be serialised,
  sent and journaled as ``(operation, request)`` — ``WRITE_OPERATIONS`` names each write's request and
  result types for that;
* every write takes one request Struct plus keyword-only ``actor`` (who, for audit and events) and
  ``idempotency_key`` (a replay with the same key returns the first answer and changes nothing);
* domain errors are only those of ``core.ccb.errors`` (NotFound → 404, IllegalTransition → 409,
  Invalid → 422).

Lookup codes are returned stripped (``"20"``, not CCB's space-padded ``"20 "``, docs/ccb-domain.md §1.2); a
REST
facade that mirrors CCB pads them on the way out.

The package is split by CCB area — ``customers``, ``service``, ``reads``, ``bills``, ``money``,
``payplans``, ``work``, ``summary`` hold the request and response Structs (on ``base.Model``);
``protocol`` holds ``CcbPort``; ``operations`` the operation table — and re-exports every name here, so
``from core.ccb import port as p; p.AccountSummary`` is how callers use it.
"""

from __future__ import annotations

from core.ccb.codes import RegisterFlow  # every meter has "delivered"; a net meter also "received"
from core.ccb.identity import IdentityMethod
from core.ccb.port.base import (
    Model,
    ServiceKind,
    TenderType,
)
from core.ccb.port.bills import (
    BillAccount,
    BillBrief,
    BillExplanation,
    BillSegmentView,
    BillView,
    CancelBillSegment,
    FreezeBillSegment,
    NetMeteringCharge,
    NetMeteringPeriod,
    NetMeteringTierLine,
    NetMeteringView,
    Rebill,
    RebillResult,
    SegmentExplanation,
)
from core.ccb.port.customers import (
    AddAccountPerson,
    Address,
    CreateCustomer,
    CreatePremise,
    CustomerCreated,
    MeterView,
    NewPerson,
    PersonBrief,
    PersonView,
    PremiseBrief,
    PremiseView,
    ServicePointView,
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
    PaySegmentView,
    PostPayment,
    StartBalancing,
    TenderCanceled,
    TenderControlView,
    TenderInput,
    TenderView,
)
from core.ccb.port.operations import (
    OPERATIONS,
    READ_OPERATIONS,
    WRITE_OPERATIONS,
    ReadOperation,
    WriteOperation,
)
from core.ccb.port.payplans import (
    CancelPayPlan,
    CreatePaymentArrangement,
    CreatePayPlan,
    DepositView,
    InstallmentView,
    PaymentArrangementView,
    PayPlanView,
    RequestDeposit,
)
from core.ccb.port.protocol import (
    CcbPort,
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
    CaseLogEntry,
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

__all__ = [
    "OPERATIONS",
    "READ_OPERATIONS",
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
    "IdentityMethod",
    "InstallmentView",
    "MeterView",
    "Model",
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
    "ReadOperation",
    "ReadResult",
    "ReadView",
    "Rebill",
    "RebillResult",
    "RegisterFlow",
    "RequestDeposit",
    "ResolveCustomerContact",
    "RestoreService",
    "SegmentExplanation",
    "ServiceAgreementView",
    "ServiceKind",
    "ServicePointView",
    "SetAccessCode",
    "SetMailingAddress",
    "SetMainCustomer",
    "SetPropertyAccess",
    "StartBalancing",
    "StartService",
    "StartServiceResult",
    "StopService",
    "TenderCanceled",
    "TenderControlView",
    "TenderInput",
    "TenderType",
    "TenderView",
    "ToDoView",
    "TransitionCase",
    "UnlockVerification",
    "UpdateToDo",
    "WriteOperation",
]
