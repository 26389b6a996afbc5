"""Lookup codes and lifecycles of the CCB mock as data: statuses, legal transitions, object types.

Keeping the state machines as tables (not ``if`` chains) lets the service refuse an illegal action with the
current status in one place, and lets a reader compare each table with the reference section it cites.

Section signs (§) cite docs/ccb-domain.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

__all__ = [
    "ADJUSTMENT_TYPES",
    "BILLABLE_SA_STATUSES",
    "CASE_TYPES",
    "CONTACT_TYPES",
    "FA_TRANSITIONS",
    "FA_TYPES",
    "FLOW_OF_REGISTER",
    "METERED_SA_TYPES",
    "NET_METERED_SA_TYPE",
    "OPEN_SA_STATUSES",
    "REGISTER_DELIVERED",
    "REGISTER_FLOWS",
    "REGISTER_RECEIVED",
    "SA_STATUS_LABELS",
    "SA_TRANSITIONS",
    "SA_TYPES",
    "SERVICE_DIGITS",
    "SERVICE_SA_TYPE",
    "SERVICE_UNIT",
    "TODO_TRANSITIONS",
    "AdjStatus",
    "AdjustmentType",
    "BillStatus",
    "BsegStatus",
    "CaseType",
    "ContactStatus",
    "ContactType",
    "DepositStatus",
    "FaStatus",
    "FaType",
    "FtType",
    "InstallmentStatus",
    "PayPlanStatus",
    "PaymentStatus",
    "RegisterFlow",
    "SaStatus",
    "SaType",
    "TenderControlStatus",
    "TenderStatus",
    "ToDoStatus",
    "sa_next_status",
]


# ---------------------------------------------------------------------------------------------------
# Service agreements (docs/ccb-domain.md §1.5)


class SaStatus(StrEnum):
    """``SA_STATUS_FLG`` [V]."""

    PENDING_START = "10"
    ACTIVE = "20"
    PENDING_STOP = "30"
    STOPPED = "40"
    REACTIVATED = "50"
    CLOSED = "60"
    CANCELED = "70"


SA_STATUS_LABELS: dict[str, str] = {
    "10": "pending start",
    "20": "active",
    "30": "pending stop",
    "40": "stopped",
    "50": "reactivated",
    "60": "closed",
    "70": "canceled",
}

# (current status, action) -> new status. §1.5 lists the transitions; the guards are the mock's.
# "restore" is the hub's word for bringing a stopped (or closed) SA back into service: the project puts it
# in status 50 Reactivated, where CCB proper also lands an SA that gets new financial activity after the
# stop (§1.5: 40/60 -> 50). A reactivated SA bills and stops like an active one.
SA_TRANSITIONS: dict[tuple[str, str], str] = {
    ("10", "activate"): "20",
    ("10", "cancel_start"): "70",
    ("20", "stop"): "30",
    ("50", "stop"): "30",
    ("30", "cancel_stop"): "20",
    ("30", "finalize"): "40",
    ("40", "close"): "60",
    ("40", "restore"): "50",
    ("60", "restore"): "50",
}

# Statuses in which reads are accepted and consumption is billed.
BILLABLE_SA_STATUSES = frozenset({"20", "30", "50"})
# Statuses in which the SA still belongs to the customer's current service (for summaries and lookups).
OPEN_SA_STATUSES = frozenset({"10", "20", "30", "50"})


def sa_next_status(current: str, action: str) -> str | None:
    """The status ``action`` leads to from ``current``, or None when the transition is illegal."""
    return SA_TRANSITIONS.get((current, action))


@dataclass(frozen=True)
class SaType:
    """An SA type: CIS division + type code decides the service and how it bills (§1.5).

    ``net_metered`` SA types bill a net meter's two registers: kWh delivered less kWh received, with any
    excess carried forward as a kWh credit (docs/ccb-domain.md §4.1 "Net energy metering"; see billing.py).
    """

    code: str
    service: Literal["electric", "water", "arrangement", "deposit"]
    description: str
    rate_schedule: str | None
    net_metered: bool = False


# What a metered service is built from: its SA/SP type, register unit and register size (5 dials for kWh,
# 4 for HCF on the mock's residential meters).
SERVICE_SA_TYPE: dict[str, str] = {"electric": "E-RES", "water": "W-RES"}
SERVICE_UNIT: dict[str, str] = {"electric": "KWH", "water": "HCF"}
SERVICE_DIGITS: dict[str, int] = {"electric": 5, "water": 4}
# The SA type an electric SP gets when its meter is a net (bidirectional) meter.
NET_METERED_SA_TYPE = "E-NEM"

# Registers of a meter (§1.4: a meter configuration has one or more registers, each read separately).
# Every meter has register 1, "delivered": what the utility supplied (kWh or HCF). A net meter also has
# register 2, "received": kWh the customer's generation sent to the grid (§4.1 "kWh Received"). Both are
# subtractive: consumption is stop read - start read, with dial rollover.
RegisterFlow = Literal["delivered", "received"]
REGISTER_DELIVERED: RegisterFlow = "delivered"
REGISTER_RECEIVED: RegisterFlow = "received"
REGISTER_FLOWS: dict[RegisterFlow, int] = {REGISTER_DELIVERED: 1, REGISTER_RECEIVED: 2}
FLOW_OF_REGISTER: dict[int, RegisterFlow] = {seq: flow for flow, seq in REGISTER_FLOWS.items()}

SA_TYPES: dict[str, SaType] = {
    "E-RES": SaType("E-RES", "electric", "Residential electric", "R-1A"),
    # Same R-1A tiers on the net kWh (§4.1); the type code follows the E-RES / W-RES pattern of
    # service letter + customer program. Started automatically on an SP whose meter is a net meter.
    "E-NEM": SaType(
        "E-NEM", "electric", "Residential electric, net energy metering", "R-1A", net_metered=True
    ),
    "W-RES": SaType("W-RES", "water", "Residential water, single dwelling", "A"),
    # Payment arrangement SA: arrears moved here are billed as installments on the regular bills (§1.10).
    "PA-RES": SaType("PA-RES", "arrangement", "Payment arrangement", None),
    # Cash deposit SA (§1.11).
    "D-RES": SaType("D-RES", "deposit", "Residential cash deposit", None),
}
# SA types that bill metered consumption (and so keep an account's bills going: §1.5 final bill rule).
METERED_SA_TYPES = frozenset(code for code, t in SA_TYPES.items() if t.service in ("electric", "water"))


# ---------------------------------------------------------------------------------------------------
# Bills and financial transactions (§1.7, §1.1)


class BillStatus(StrEnum):
    PENDING = "P"
    COMPLETE = "C"


class BsegStatus(StrEnum):
    """``BSEG_STAT_FLG`` [V]. The mock builds segments straight to Freezable (no Incomplete/Error step)."""

    FREEZABLE = "30"
    PENDING_CANCEL = "40"
    FROZEN = "50"
    CANCELED = "60"


class FtType(StrEnum):
    """FT type codes [V]: each money object posts one when frozen and a reversing one when canceled."""

    BILL_SEGMENT = "BS"
    BILL_CANCEL = "BX"
    ADJUSTMENT = "AD"
    ADJUSTMENT_CANCEL = "AX"
    PAY_SEGMENT = "PS"
    PAY_CANCEL = "PX"


# ---------------------------------------------------------------------------------------------------
# Adjustments (§1.8)


class AdjStatus(StrEnum):
    """``ADJ_STATUS_FLG`` [V]; an adjustment that needs approval waits in Freezable."""

    NEW = "05"
    FREEZABLE = "30"
    FROZEN = "50"
    CANCELED = "60"


@dataclass(frozen=True)
class AdjustmentType:
    """The adjustment type decides sign and approval (§1.8); ``system`` types are posted by the mock only."""

    code: str
    description: str
    sign: Literal[1, -1]
    approval_required: bool = False
    system: bool = False


ADJUSTMENT_TYPES: dict[str, AdjustmentType] = {
    # LADWP's one-time "Turn On Service Charge" on the opening bill (§1.6). Amount is the caller's.
    "TURN_ON": AdjustmentType("TURN_ON", "Turn on service charge", 1),
    "LATE_FEE": AdjustmentType("LATE_FEE", "Late payment charge", 1),
    "MISC_CHARGE": AdjustmentType("MISC_CHARGE", "Miscellaneous charge", 1),
    # A leak credit is an adjustment of a leak-credit type, usually behind approval (§1.8 [~]).
    "LEAK_CREDIT": AdjustmentType("LEAK_CREDIT", "Water leak credit", -1, approval_required=True),
    "MISC_CREDIT": AdjustmentType("MISC_CREDIT", "Miscellaneous credit", -1, approval_required=True),
    "GOODWILL_CREDIT": AdjustmentType("GOODWILL_CREDIT", "Customer goodwill credit", -1),
    "DEPOSIT": AdjustmentType("DEPOSIT", "Cash deposit charge", 1, system=True),
    "PA_TRANSFER": AdjustmentType("PA_TRANSFER", "Arrears moved to payment arrangement", -1, system=True),
    "PA_INSTALLMENT": AdjustmentType("PA_INSTALLMENT", "Payment arrangement installment", 1, system=True),
}


# ---------------------------------------------------------------------------------------------------
# Payments and cash handling (§1.9)


class PaymentStatus(StrEnum):
    """Real CCB SQL uses 50 for frozen; the other codes follow the 10/20/30/50/60 pattern (§1.9 [~])."""

    FROZEN = "50"
    CANCELED = "60"


class TenderStatus(StrEnum):
    VALID = "valid"
    CANCELED = "canceled"


class TenderControlStatus(StrEnum):
    """Open -> Balancing in Progress -> Balanced (§1.9, names [~])."""

    OPEN = "open"
    BALANCING = "balancing"
    BALANCED = "balanced"


# ---------------------------------------------------------------------------------------------------
# Pay plans, arrangements, deposits (§1.10, §1.11)


class PayPlanStatus(StrEnum):
    ACTIVE = "active"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELED = "canceled"


class InstallmentStatus(StrEnum):
    SCHEDULED = "scheduled"
    PAID = "paid"
    MISSED = "missed"


class DepositStatus(StrEnum):
    BILLED = "billed"
    HELD = "held"
    REFUNDED = "refunded"


# ---------------------------------------------------------------------------------------------------
# Customer contacts (§1.12)


class ContactStatus(StrEnum):
    """10 Open is the verified code (§1.12); 20 is the mock's "resolved"."""

    OPEN = "10"
    CLOSED = "20"


@dataclass(frozen=True)
class ContactType:
    """A contact class + type; the type says which links are required (§1.12)."""

    contact_class: str
    contact_type: str
    description: str
    requires_account: bool = False
    requires_premise: bool = False


CONTACT_TYPES: dict[tuple[str, str], ContactType] = {
    (c.contact_class, c.contact_type): c
    for c in (
        ContactType("BILLING", "HIGH_BILL", "High bill inquiry", requires_account=True),
        ContactType("BILLING", "INQUIRY", "Billing question", requires_account=True),
        ContactType("BILLING", "PAYMENT", "Payment or arrangement", requires_account=True),
        ContactType("SERVICE", "START_STOP", "Start, stop or transfer", requires_account=True),
        ContactType("SERVICE", "OUTAGE", "Outage or trouble report", requires_premise=True),
        ContactType("SERVICE", "METER_ACCESS", "Meter access", requires_premise=True),
        ContactType("GENERAL", "INQUIRY", "General inquiry"),
        ContactType("GENERAL", "COMPLAINT", "Complaint"),
        ContactType("PROGRAM", "ASSISTANCE", "Assistance program"),
        ContactType("NOTIFY", "OUTBOUND", "Outbound notification"),
    )
}


# ---------------------------------------------------------------------------------------------------
# Cases (§1.14): the case type defines its statuses and transitions.


@dataclass(frozen=True)
class CaseType:
    code: str
    description: str
    initial: str
    transitions: dict[str, frozenset[str]]
    final: frozenset[str]

    def allows(self, current: str, target: str) -> bool:
        return target in self.transitions.get(current, frozenset())


def _case(code: str, description: str, initial: str, graph: dict[str, set[str]]) -> CaseType:
    finals = {t for targets in graph.values() for t in targets} - set(graph)
    return CaseType(
        code, description, initial, {k: frozenset(v) for k, v in graph.items()}, frozenset(finals)
    )


CASE_TYPES: dict[str, CaseType] = {
    c.code: c
    for c in (
        # Oracle's own examples are a high-bill complaint and a literature request (§1.14).
        _case(
            "HIGH_BILL",
            "High bill complaint",
            "OPEN",
            {
                "OPEN": {"INVESTIGATING", "CLOSED"},
                "INVESTIGATING": {"PENDING_CUSTOMER", "RESOLVED"},
                "PENDING_CUSTOMER": {"INVESTIGATING", "RESOLVED", "CLOSED"},
                "RESOLVED": {"CLOSED"},
            },
        ),
        _case(
            "LITERATURE_REQUEST",
            "Literature request",
            "OPEN",
            {"OPEN": {"SENT", "CANCELED"}, "SENT": {"CLOSED"}},
        ),
        # Opened by the mock itself at the third estimated read in a row on a meter (reads.py).
        _case(
            "ESTIMATED_READS",
            "Meter not read: consecutive estimates",
            "OPEN",
            {"OPEN": {"FIELD_VISIT", "CANCELED"}, "FIELD_VISIT": {"RESOLVED", "OPEN"}},
        ),
        _case(
            "BILLING_DISPUTE",
            "Billing dispute",
            "OPEN",
            {
                "OPEN": {"UNDER_REVIEW", "WITHDRAWN"},
                "UNDER_REVIEW": {"UPHELD", "DENIED"},
            },
        ),
    )
}


# ---------------------------------------------------------------------------------------------------
# Field activities (§1.15) and To Do entries (§1.16)


class FaStatus(StrEnum):
    """``FA_STATUS_FLG``: C complete is verified, P/X/H are [~] (§1.15)."""

    PENDING = "P"
    COMPLETE = "C"
    CANCELED = "X"
    HELD = "H"


FA_TRANSITIONS: dict[str, frozenset[str]] = {
    "P": frozenset({"C", "X", "H"}),
    "H": frozenset({"P", "X"}),
}


@dataclass(frozen=True)
class FaType:
    code: str
    description: str
    default_priority: int  # 1 = most urgent ... 5 = routine


FA_TYPES: dict[str, FaType] = {
    f.code: f
    for f in (
        FaType("START", "Start service read", 3),
        FaType("STOP", "Stop service read", 3),
        FaType("READ_INVESTIGATION", "Investigate unread meter", 3),
        FaType("RE_READ", "High bill re-read", 3),
        FaType("LEAK_CHECK", "Leak check", 2),
        FaType("RECONNECT", "Reconnect service", 2),
        FaType("DISCONNECT", "Disconnect service", 4),
        FaType("METER_EXCHANGE", "Meter exchange", 4),
        # A trouble ticket is a field order for a reported fault at the premise (outage, wires down, leak).
        FaType("TROUBLE", "Trouble ticket", 1),
    )
}


class ToDoStatus(StrEnum):
    """``ENTRY_STATUS_FLG`` [V]."""

    OPEN = "O"
    BEING_WORKED = "W"
    COMPLETE = "C"


TODO_TRANSITIONS: dict[str, frozenset[str]] = {
    "O": frozenset({"W", "C"}),
    "W": frozenset({"O", "C"}),
}
