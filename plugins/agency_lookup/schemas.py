"""Request and response Structs of the agency lookup: JSON bodies, the desk's request form, and views."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec

from plugins.agency_lookup.models import Disclosure, DisclosureLogEntry
from plugins.agency_lookup.rules import Basis, Element, RequesterKind

MAX_ACCOUNTS = 50

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=r"\S")]
AccountId = Annotated[str, msgspec.Meta(pattern=r"^\d{10}$")]


class DisclosureIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A request from an outside agency; ``legal_basis`` may be left out, and the request is then denied."""

    requester_kind: RequesterKind
    requester_name: Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=r"\S")]
    requester_agency: Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=r"\S")]
    requester_contact: Annotated[str, msgspec.Meta(min_length=1, max_length=160, pattern=r"\S")]
    identity_verified_by: Text
    elements: Annotated[list[Element], msgspec.Meta(min_length=1, max_length=len(Element))]
    account_ids: Annotated[list[AccountId], msgspec.Meta(max_length=MAX_ACCOUNTS)] = []
    criteria: LongText | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    legal_basis: Basis | None = None
    requester_badge: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    channel: Literal["phone", "counter", "mail", "email", "fax", "portal"] = "phone"
    instrument_ref: Text | None = None
    case_or_incident_no: Annotated[str, msgspec.Meta(min_length=1, max_length=60)] | None = None
    stated_purpose: LongText | None = None
    consent_ref: Text | None = None
    public_interest_determination: LongText | None = None
    delivery_method: Literal["read_aloud", "secure_email", "mail", "in_person"] = "read_aloud"
    encryption: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    customer_notified: Literal["yes", "no", "deferred"] = "no"
    linked_pra_request_no: Annotated[str, msgspec.Meta(max_length=60)] | None = None


class DisclosureView(msgspec.Struct, kw_only=True):
    id: int
    status: str
    decision: str
    denial_reason: str | None
    legal_basis: str | None
    requester_kind: str
    requester_name: str
    requester_agency: str
    identity_verified_by: str
    elements_requested: list[str]
    elements_allowed: list[str]
    elements_disclosed: list[str]
    accounts_affected: list[str]
    record_count: int
    bulk_flag: bool
    needs_approval: bool
    reviewed_by: str
    approved_by: str | None
    received_at: dt.datetime
    disclosed_at: dt.datetime | None
    retention_until: dt.date
    customer_hidden: bool = False  # the accounts are withheld (not the CRO's or a supervisor's queue)


class ReleaseView(msgspec.Struct, kw_only=True):
    """What the CRO reads out: per account, only the elements the decision allows."""

    disclosure: DisclosureView
    records: list[dict[str, Any]]


class LogEntryView(msgspec.Struct, kw_only=True):
    id: int
    step: str
    at: dt.datetime
    actor: str
    entry: dict[str, Any]
    prev_entry_hash: str
    entry_hash: str
    audit_seq: int
    customer_hidden: bool = False  # the entry's text is withheld (not the CRO's or a supervisor's queue)


class DirectoryHit(msgspec.Struct, kw_only=True):
    id: str
    name: str
    organization: str
    kind: str
    number: str
    dial: str
    notes: str
    score: int
    matched: list[str]


class TransferTarget(msgspec.Struct, kw_only=True):
    """One entry for telephony's single-step or warm transfer: ``label`` → ``dial`` (digits only)."""

    label: str
    dial: str
    number: str
    organization: str
    entry_id: str


class ReportRow(msgspec.Struct, kw_only=True):
    legal_basis: str
    agency: str
    decision: str
    count: int


class MonthlyReport(msgspec.Struct, kw_only=True):
    month: str
    total: int
    rows: list[ReportRow]


def view(d: Disclosure) -> DisclosureView:
    return DisclosureView(
        id=d.id,
        status=d.status,
        decision=d.decision,
        denial_reason=d.denial_reason,
        legal_basis=d.legal_basis,
        requester_kind=d.requester_kind,
        requester_name=d.requester_name,
        requester_agency=d.requester_agency,
        identity_verified_by=d.identity_verified_by,
        elements_requested=list(d.elements_requested),
        elements_allowed=list(d.elements_allowed),
        elements_disclosed=list(d.elements_disclosed),
        accounts_affected=list(d.accounts_affected),
        record_count=d.record_count,
        bulk_flag=d.bulk_flag,
        needs_approval=d.needs_approval,
        reviewed_by=d.reviewed_by,
        approved_by=d.approved_by,
        received_at=d.received_at,
        disclosed_at=d.disclosed_at,
        retention_until=d.retention_until,
    )


class DisclosureForm(msgspec.Struct, kw_only=True):
    """The desk's "record a request" form as posted: text boxes, accounts in one box, ticked elements.

    It is turned into a :class:`DisclosureIn` (``to_request``) so a form and a JSON body meet the same
    checks and a bad field is named the same way.
    """

    requester_kind: str | None = None
    requester_name: str | None = None
    requester_agency: str | None = None
    requester_contact: str | None = None
    requester_badge: str | None = None
    identity_verified_by: str | None = None
    legal_basis: str | None = None
    instrument_ref: str | None = None
    case_or_incident_no: str | None = None
    stated_purpose: str | None = None
    consent_ref: str | None = None
    criteria: str | None = None
    account_ids: str | None = None
    elements: list[str] = []

    def to_request(self) -> dict[str, Any]:
        """The form's values as the JSON body would carry them (blank boxes left out)."""
        raw = {f: getattr(self, f) for f in self.__struct_fields__ if f not in ("account_ids", "elements")}
        accounts = (self.account_ids or "").replace(",", " ").split()
        return {
            **{k: v for k, v in raw.items() if v is not None},
            "account_ids": accounts,
            "elements": list(self.elements),
        }


def log_view(r: DisclosureLogEntry) -> LogEntryView:
    return LogEntryView(
        id=r.id,
        step=r.step,
        at=r.at,
        actor=r.actor,
        entry=r.entry,
        prev_entry_hash=r.prev_entry_hash,
        entry_hash=r.entry_hash,
        audit_seq=r.audit_seq,
    )
