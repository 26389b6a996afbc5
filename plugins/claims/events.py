"""Events the claims plugin publishes.

Payloads name the claim, the account, its status and the amounts; free text (descriptions, reasons,
information requests) stays in the plugin's tables, since the bus fans out to every subscriber.
"""

from __future__ import annotations

import datetime as dt

import msgspec

FILED = "hub.claims.claim.filed"
INFO_REQUESTED = "hub.claims.claim.info_requested"
GRANTED = "hub.claims.claim.granted"
DENIED = "hub.claims.claim.denied"
FRAUD_REPORTED = "hub.claims.claim.fraud_reported"


class ClaimChanged(msgspec.Struct, frozen=True, kw_only=True):
    """The claim after the change, with what a subscriber needs to follow credits and letters."""

    claim_id: int
    claim_number: str
    account_id: str
    incident: str
    loss: str
    status: str
    covered: bool
    claimed_cents: int
    changed_at: dt.datetime
    changed_by: str
    granted_cents: int | None = None
    adjustment_id: str | None = None
    letter_id: int | None = None
    incident_report_id: int | None = None


EVENT_TYPES: list[tuple[str, type[msgspec.Struct], str]] = [
    (FILED, ClaimChanged, "A claim for a bill credit was taken from a customer."),
    (INFO_REQUESTED, ClaimChanged, "More information was asked of the customer; the SLA clock is paused."),
    (GRANTED, ClaimChanged, "A claim was granted: a CCB credit adjustment was posted and approved."),
    (DENIED, ClaimChanged, "A claim was denied; a decision letter with the reason was sent."),
    (FRAUD_REPORTED, ClaimChanged, "A claim looked fraudulent; an incident report went to security."),
]
