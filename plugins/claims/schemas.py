"""Request and response Structs of the claims plugin: JSON bodies, the desk's forms, and the claim's view.

Money is integer cents in JSON; on the desk's forms staff type dollars (``claimed``, ``amount``), turned into
cents by ``rules.dollars_to_cents`` so a bad amount is named by the JSON field it fills (``claimed_cents``,
``amount_cents``), the same on the page as in the API.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from core.contract import PluginContext
from core.contract.contact import ContactGuard
from core.contract.scope import QUEUE, customer_view, withhold
from core.contract.staff import Staff
from plugins.claims.models import Claim, ClaimDocument
from plugins.claims.rules import (
    ACCOUNT_ID,
    DAY_SECONDS,
    Address,
    ClaimsConfig,
    Code,
    claim_number,
    dollars_to_cents,
    is_overdue,
    sla_elapsed,
)

AccountId = Annotated[str, msgspec.Meta(pattern=ACCOUNT_ID)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=r"\S")]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=r"\S")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=r"\S")]
Cents = Annotated[int, msgspec.Meta(ge=-1_000_000_000, le=1_000_000_000)]
SaId = Annotated[str, msgspec.Meta(pattern=r"^\d{10}$")]
ContactId = Annotated[str, msgspec.Meta(pattern=r"^\d{10}$")]


# -- request bodies --------------------------------------------------------------------------------------
class IntakeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A claim as the customer states it; money in integer cents."""

    account_id: AccountId
    claimant_name: Name
    incident: Code
    incident_date: dt.date
    loss: Code
    description: Text
    claimed_cents: Annotated[int, msgspec.Meta(gt=0)]
    claimant_email: Address | None = None
    # The verified contact the claim is taken in; the ``X-Contact-Id`` header wins (forms cannot send it).
    contact_id: ContactId | None = None
    # Checked like the Idempotency-Key header (``core.contract.idempotency.check_key``).
    idempotency_key: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class InfoIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    message: Text


class ResumeIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class GrantIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # Any integer is decoded so that the rules, not the schema, answer a negative or oversized grant.
    amount_cents: Cents
    reason: Reason
    sa_id: SaId | None = None


class DenyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class FraudIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


# -- responses -------------------------------------------------------------------------------------------
class DocumentView(msgspec.Struct, kw_only=True):
    id: int
    claim_id: int
    filename: str
    label: str | None
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime


class ClaimView(msgspec.Struct, kw_only=True):
    id: int
    claim_number: str
    account_id: str
    contact_id: str | None
    claimant_name: str
    claimant_email: str | None
    incident: str
    incident_date: dt.date
    loss: str
    description: str
    claimed_cents: int
    status: str
    covered: bool
    coverage_reason: str
    filed_by: str
    filed_at: dt.datetime
    sla_paused: bool
    sla_business_days_used: float
    overdue: bool
    info_request: str | None
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_reason: str | None
    granted_cents: int | None
    sa_id: str | None
    adjustment_id: str | None
    letter_id: int | None
    documents: list[DocumentView] = []
    replayed: bool = False
    customer_hidden: bool = False  # the customer's fields are withheld (no verified contact, not the CRO's)


def doc_view(d: ClaimDocument) -> DocumentView:
    return DocumentView(
        id=d.id,
        claim_id=d.claim_id,
        filename=d.filename,
        label=d.label,
        content_type=d.content_type,
        size=d.size,
        sha256=d.sha256,
        uploaded_by=d.uploaded_by,
        uploaded_at=d.uploaded_at,
    )


def view(
    c: Claim,
    now: dt.datetime,
    config: ClaimsConfig,
    docs: list[ClaimDocument] | None = None,
    *,
    replayed: bool = False,
) -> ClaimView:
    used = sla_elapsed(
        c.filed_at,
        now,
        paused_seconds=c.paused_seconds,
        paused_since=c.paused_since,
        holidays=config.holidays,
    )
    return ClaimView(
        id=c.id,
        claim_number=claim_number(c.id, c.filed_at),
        account_id=c.account_id,
        contact_id=c.contact_id,
        claimant_name=c.claimant_name,
        claimant_email=c.claimant_email,
        incident=c.incident,
        incident_date=c.incident_date,
        loss=c.loss,
        description=c.description,
        claimed_cents=c.claimed_cents,
        status=c.status,
        covered=c.covered,
        coverage_reason=c.coverage_reason,
        filed_by=c.filed_by,
        filed_at=c.filed_at,
        sla_paused=c.paused_since is not None,
        sla_business_days_used=round(used / DAY_SECONDS, 2),
        overdue=is_overdue(
            c.status,
            c.filed_at,
            now,
            paused_seconds=c.paused_seconds,
            paused_since=c.paused_since,
            config=config,
        ),
        info_request=c.info_request,
        decided_by=c.decided_by,
        decided_at=c.decided_at,
        decision_reason=c.decision_reason,
        granted_cents=c.granted_cents,
        sa_id=c.sa_id,
        adjustment_id=c.adjustment_id,
        letter_id=c.letter_id,
        documents=[doc_view(d) for d in docs or []],
        replayed=replayed,
    )


# The claims queue: its customer fields only inside a contact verified for the claim's account, or to the
# CRO and supervisors whose work the review is (every such read audited by the guard).
CLAIMS_QUEUE = QUEUE(roles=("cro", "supervisor"))
CUSTOMER_FIELDS = (
    "claimant_name",
    "claimant_email",
    "description",
    "info_request",
    "decision_reason",
    "documents",
)


async def shown(
    ctx: PluginContext, guard: ContactGuard, staff: Staff, claim: ClaimView, contact_id: str | None = None
) -> ClaimView:
    """The claim as ``staff`` may see it: whole, or with the customer's fields withheld."""
    purpose = f"claim {claim.claim_number}"
    if await customer_view(
        ctx, guard, staff, claim.account_id, CLAIMS_QUEUE, purpose=purpose, contact_id=contact_id
    ):
        return claim
    return withhold(claim, CUSTOMER_FIELDS)


@dataclass(frozen=True, slots=True)
class DocumentIn:
    """An uploaded document that passed the configured type and size limits (its type sniffed)."""

    filename: str
    data: bytes
    content_type: str
    label: str | None = None


# -- the desk's forms ------------------------------------------------------------------------------------
class IntakeForm(msgspec.Struct, kw_only=True):
    """The intake form as posted (dollars typed as text); ``body()`` is the JSON route's ``IntakeIn``."""

    contact_id: str = ""
    access_reason: str = ""
    account_id: str = ""
    claimant_name: str = ""
    claimant_email: str = ""
    incident: str = ""
    incident_date: str = ""
    loss: str = ""
    description: str = ""
    claimed: str = ""
    idempotency_key: str = ""

    def body(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "claimant_name": self.claimant_name,
            "incident": self.incident,
            "incident_date": self.incident_date,
            "loss": self.loss,
            "description": self.description,
            "claimed_cents": dollars_to_cents(self.claimed),
            "claimant_email": self.claimant_email or None,
            "contact_id": self.contact_id or None,
            "idempotency_key": self.idempotency_key or None,
        }


class DocumentForm(msgspec.Struct, kw_only=True):
    """A document added to a claim from the desk (the file itself is read from the multipart form)."""

    label: str = ""
    contact_id: str = ""
    access_reason: str = ""


class InfoForm(msgspec.Struct, kw_only=True):
    message: str = ""


class ResumeForm(msgspec.Struct, kw_only=True):
    note: str = ""


class GrantForm(msgspec.Struct, kw_only=True):
    amount: str = ""
    reason: str = ""
    sa_id: str = ""

    def body(self) -> dict[str, Any]:
        return {
            "amount_cents": dollars_to_cents(self.amount),
            "reason": self.reason,
            "sa_id": self.sa_id or None,
        }


class ReasonForm(msgspec.Struct, kw_only=True):
    """A denial or a fraud report: the reason given."""

    reason: str = ""
