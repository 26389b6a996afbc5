"""Events of the agency lookup: the payload Structs and how each is built from a disclosure.

Payloads name the disclosure, the agency, the basis and counts, never a customer or an account: the bus fans
out to every subscriber (ARCHITECTURE §4), and the customer data stays in the CCB and the audit log.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from plugins.agency_lookup.models import Disclosure

REQUESTED = "hub.agency.disclosure.requested"
DECIDED = "hub.agency.disclosure.decided"
RELEASED = "hub.agency.disclosure.released"


class DisclosureRequested(msgspec.Struct, frozen=True, kw_only=True):
    """A request from an outside agency was recorded."""

    disclosure_id: int
    requester_kind: str
    requester_agency: str
    legal_basis: str | None
    account_count: int
    bulk: bool
    received_at: dt.datetime
    recorded_by: str


class DisclosureDecided(msgspec.Struct, frozen=True, kw_only=True):
    """The decision on a request, or a second person's approval of it (``step``: decided, approved)."""

    disclosure_id: int
    step: str
    decision: str
    status: str
    legal_basis: str | None
    elements_allowed: list[str]
    needs_approval: bool
    decided_at: dt.datetime
    decided_by: str


class DisclosureReleased(msgspec.Struct, frozen=True, kw_only=True):
    """Data was released to the agency (read out by the CRO staff member)."""

    disclosure_id: int
    legal_basis: str | None
    requester_agency: str
    elements_disclosed: list[str]
    record_count: int
    released_at: dt.datetime
    released_by: str


EVENT_TYPES: list[tuple[str, type[msgspec.Struct], str]] = [
    (REQUESTED, DisclosureRequested, "An outside agency asked for customer information."),
    (DECIDED, DisclosureDecided, "A disclosure request was decided, or approved by a second person."),
    (RELEASED, DisclosureReleased, "Customer information was released to an outside agency."),
]


def requested_payload(d: Disclosure) -> DisclosureRequested:
    return DisclosureRequested(
        disclosure_id=d.id,
        requester_kind=d.requester_kind,
        requester_agency=d.requester_agency,
        legal_basis=d.legal_basis,
        account_count=len(d.accounts_affected),
        bulk=d.bulk_flag,
        received_at=d.received_at,
        recorded_by=d.reviewed_by,
    )


def decided_payload(d: Disclosure, step: str, actor: str, at: dt.datetime) -> DisclosureDecided:
    return DisclosureDecided(
        disclosure_id=d.id,
        step=step,
        decision=d.decision,
        status=d.status,
        legal_basis=d.legal_basis,
        elements_allowed=list(d.elements_allowed),
        needs_approval=d.needs_approval,
        decided_at=at,
        decided_by=actor,
    )


def released_payload(d: Disclosure) -> DisclosureReleased:
    return DisclosureReleased(
        disclosure_id=d.id,
        legal_basis=d.legal_basis,
        requester_agency=d.requester_agency,
        elements_disclosed=list(d.elements_disclosed),
        record_count=d.record_count,
        released_at=d.disclosed_at or d.received_at,
        released_by=d.released_by or "",
    )
