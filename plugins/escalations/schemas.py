"""Request and response Structs of the escalations plugin: JSON bodies, the queue pages' forms, the views."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

from core.contract import PluginContext
from core.contract.ccb import Cadence
from core.contract.contact import ContactGuard
from core.contract.scope import QUEUE, customer_view, withhold
from core.contract.staff import Staff
from plugins.escalations.models import Escalation, SectionMail
from plugins.escalations.rules import (
    ACCOUNT_ID,
    Address,
    Kind,
    PlanTerms,
    Urgency,
    beyond_standard_term,
    is_overdue,
)

AccountId = Annotated[str, msgspec.Meta(pattern=ACCOUNT_ID)]
Summary = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
LongText = Annotated[str, msgspec.Meta(max_length=8000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=r"\S")]


# -- request bodies --------------------------------------------------------------------------------------
class TermsIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Special payment plan terms; money in integer cents only."""

    amount_cents: Annotated[int, msgspec.Meta(gt=0, le=100_000_000)]
    installments: Annotated[int, msgspec.Meta(ge=1, le=120)]
    first_due: dt.date
    cadence: Cadence = "monthly"
    hardship_reason: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class RaiseIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An escalation raised from a verified contact (``X-Contact-Id``)."""

    kind: Kind
    account_id: AccountId
    summary: Summary
    urgency: Urgency = Urgency.NORMAL
    details: LongText | None = None
    terms: TermsIn | None = None
    idempotency_key: str | None = None


class IntakeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An escalation e-mailed to the CRO by upper management or a Customer Care Manager."""

    requester_email: Address
    subject: Summary
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=20_000, pattern=r"\S")]
    urgency: Urgency = Urgency.NORMAL
    account_id: AccountId | None = None
    idempotency_key: str | None = None  # e.g. the mail's Message-ID


class DecideIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class ResolveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    resolution: Reason


class SectionMailIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    account_id: AccountId
    section: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    subject: Summary
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=8000, pattern=r"\S")]
    escalation_id: int | None = None
    idempotency_key: str | None = None


# -- responses -------------------------------------------------------------------------------------------
class EscalationView(msgspec.Struct, kw_only=True):
    id: int
    kind: str
    urgency: str
    queue: str
    status: str
    source: str
    account_id: str | None
    contact_id: str | None
    summary: str
    details: str | None
    terms: dict[str, Any] | None
    beyond_standard_terms: bool
    requested_by: str
    requester_email: str | None
    raised_at: dt.datetime
    due_at: dt.datetime
    overdue: bool
    decided_at: dt.datetime | None
    decided_by: str | None
    decision_reason: str | None
    resolved_at: dt.datetime | None
    resolved_by: str | None
    resolution: str | None
    pay_plan_id: str | None
    replayed: bool = False
    customer_hidden: bool = False  # the customer's fields are withheld (no verified contact, not a decider)


class SectionMailView(msgspec.Struct, kw_only=True):
    id: int
    account_id: str
    section: str
    address: str
    subject: str
    escalation_id: int | None
    mail_id: int
    ccb_contact_id: str
    sent_by: str
    sent_at: dt.datetime
    replayed: bool = False


def plan_terms(e: Escalation) -> PlanTerms | None:
    t = e.terms
    if not t:
        return None
    return PlanTerms(
        amount_cents=int(t["amount_cents"]),
        installments=int(t["installments"]),
        first_due=dt.date.fromisoformat(str(t["first_due"])),
        cadence=t.get("cadence", "monthly"),
        hardship_reason=t.get("hardship_reason"),
    )


# The escalation queues: their customer fields only inside a contact verified for the escalation's account,
# or to the leads, supervisors and the CRO who work them (every such read audited by the guard).
ESCALATION_QUEUE = QUEUE(roles=("lead", "supervisor", "cro"))
CUSTOMER_FIELDS = ("summary", "details", "terms", "requester_email", "decision_reason", "resolution")


async def shown(
    ctx: PluginContext, guard: ContactGuard, staff: Staff, esc: EscalationView, contact_id: str | None = None
) -> EscalationView:
    """The escalation as ``staff`` may see it: whole, or with the customer's fields withheld."""
    purpose = f"escalation {esc.id}"
    if await customer_view(
        ctx, guard, staff, esc.account_id, ESCALATION_QUEUE, purpose=purpose, contact_id=contact_id
    ):
        return esc
    return withhold(esc, CUSTOMER_FIELDS)


def view(e: Escalation, now: dt.datetime, *, replayed: bool = False) -> EscalationView:
    terms = plan_terms(e)
    return EscalationView(
        id=e.id,
        kind=e.kind,
        urgency=e.urgency,
        queue=e.queue,
        status=e.status,
        source=e.source,
        account_id=e.account_id,
        contact_id=e.contact_id,
        summary=e.summary,
        details=e.details,
        terms=e.terms,
        beyond_standard_terms=terms is not None and beyond_standard_term(terms),
        requested_by=e.requested_by,
        requester_email=e.requester_email,
        raised_at=e.raised_at,
        due_at=e.due_at,
        overdue=is_overdue(e.status, e.due_at, now),
        decided_at=e.decided_at,
        decided_by=e.decided_by,
        decision_reason=e.decision_reason,
        resolved_at=e.resolved_at,
        resolved_by=e.resolved_by,
        resolution=e.resolution,
        pay_plan_id=e.pay_plan_id,
        replayed=replayed,
    )


def mail_view(m: SectionMail, *, replayed: bool = False) -> SectionMailView:
    return SectionMailView(
        id=m.id,
        account_id=m.account_id,
        section=m.section,
        address=m.address,
        subject=m.subject,
        escalation_id=m.escalation_id,
        mail_id=m.mail_id,
        ccb_contact_id=m.ccb_contact_id,
        sent_by=m.sent_by,
        sent_at=m.sent_at,
        replayed=replayed,
    )


# -- the queue pages' forms ------------------------------------------------------------------------------
class ReasonForm(msgspec.Struct, kw_only=True):
    """Approve, deny or resolve: the reason as typed (checked against ``DecideIn`` by the page)."""

    reason: str = ""


class IntakeForm(msgspec.Struct, kw_only=True):
    """An escalation e-mailed to the CRO, keyed in from the mail (read into ``IntakeIn``)."""

    requester_email: str = ""
    subject: str = ""
    body: str = ""
    urgency: str = ""
    account_id: str = ""
    idempotency_key: str = ""

    def values(self) -> dict[str, str]:
        """What was typed, to show the form again with an error."""
        return msgspec.structs.asdict(self)
