"""The contact service: the contact layer's parts composed into the one service the hub runs.

Each part lives in its own module on :class:`core.contact.common.ServiceBase` — contacts, identity
verification, the verified-contact guard, wrap-up, the screen pop, and the CSR workflows under
``core.contact.workflows`` — and :class:`ContactService` is their union, so routes, pages, events and
plugins hold one object. No HTTP here, only domain rules.

The names the rest of the hub imported from this module stay importable from it.
"""

from __future__ import annotations

from typing import Any

from core.contact.common import (
    ACTIVE,
    CLOSED,
    MAX_NOTE,
    MAX_REASON,
    OPEN,
    PART_ID,
    WRAP_UP_DUE,
    Channel,
    ContactConfig,
    HintProvider,
    NoteKind,
    View,
    running_service,
)
from core.contact.contacts import ActionView, ContactSnapshot, ContactView, HintView, gather_hints
from core.contact.guard import CONTACT_ROLES, REASON_ROLES, AccessDenied, ContactAccess, Guard
from core.contact.screen_pop import LIVE_PARTICIPANT_STATES, ScreenPop
from core.contact.verification import Locked, Verification, VerifyOutcome
from core.contact.workflows.bills import (
    AccountView,
    BillExplanationView,
    Bills,
    ExplainedSegment,
    LateFeeRule,
    TierLine,
    late_fee_cents,
    late_fee_rule,
)
from core.contact.workflows.field_work import (
    OUTAGE_PROBLEMS,
    TROUBLE_PRIORITIES,
    FieldWork,
    InvestigationResult,
    TroubleProblem,
    trouble_priority,
)
from core.contact.workflows.meter_reads import (
    CustomerReadResult,
    MeterInfo,
    MeterReads,
    ReadAccessFailedPayload,
    read_instructions,
)
from core.contact.workflows.pay_plans import PayPlans, PlanQuote, QuotedInstallment
from core.contact.workflows.property_access import PropertyAccess
from core.contact.workflows.returned_mail import ReturnedMailQueue, ReturnedMailView
from core.contact.workflows.start_stop import StartStop
from core.contact.workflows.tier_review import (
    RebilledSegment,
    TierPeriod,
    TierReview,
    TierReviewApplied,
    TierReviewView,
    TierServiceReview,
)
from core.contact.wrapup import WrapUp, classify_contact, draft_note

__all__ = [
    "ACTIVE",
    "CLOSED",
    "CONTACT_ROLES",
    "LIVE_PARTICIPANT_STATES",
    "MAX_NOTE",
    "MAX_REASON",
    "OPEN",
    "OUTAGE_PROBLEMS",
    "PART_ID",
    "REASON_ROLES",
    "TROUBLE_PRIORITIES",
    "WRAP_UP_DUE",
    "AccessDenied",
    "AccountView",
    "ActionView",
    "BillExplanationView",
    "Channel",
    "ContactAccess",
    "ContactConfig",
    "ContactService",
    "ContactSnapshot",
    "ContactView",
    "CustomerReadResult",
    "ExplainedSegment",
    "HintProvider",
    "HintView",
    "InvestigationResult",
    "LateFeeRule",
    "Locked",
    "MeterInfo",
    "NoteKind",
    "PlanQuote",
    "QuotedInstallment",
    "ReadAccessFailedPayload",
    "RebilledSegment",
    "ReturnedMailView",
    "TierLine",
    "TierPeriod",
    "TierReviewApplied",
    "TierReviewView",
    "TierServiceReview",
    "TroubleProblem",
    "VerifyOutcome",
    "View",
    "classify_contact",
    "draft_note",
    "gather_hints",
    "late_fee_cents",
    "late_fee_rule",
    "read_instructions",
    "service_for",
    "trouble_priority",
]


class ContactService(
    Verification,
    WrapUp,
    ScreenPop,
    StartStop,
    MeterReads,
    FieldWork,
    PayPlans,
    Guard,
    Bills,
    PropertyAccess,
    TierReview,
    ReturnedMailQueue,
):
    """Contacts, verification, the verified-contact guard, wrap-up, the screen pop and the workflows."""


def service_for(hub: Any) -> ContactService | None:
    """The running contact service of ``hub`` (for plugins' routes using the verified-contact guard)."""
    found = running_service(hub)
    return found if isinstance(found, ContactService) else None
