"""Events the Serving Our Seniors plugin publishes as a referral moves from the CSR to the CRO and on.

Payloads carry ids, reason codes and the SOS number only: the customer's name, phone and the CSR's notes
stay in the plugin's tables, because the bus fans out to every subscriber (ARCHITECTURE §4).
"""

from __future__ import annotations

import datetime as dt

import msgspec

FILED = "hub.sos.referral.filed"
ACCEPTED = "hub.sos.referral.accepted"
ROUTED = "hub.sos.referral.routed"
SENT = "hub.sos.referral.sent"


class ReferralFiled(msgspec.Struct, frozen=True, kw_only=True):
    referral_id: int
    account_id: str
    contact_id: str | None
    reasons: list[str]
    filed_at: dt.datetime
    filed_by: str


class ReferralAccepted(msgspec.Struct, frozen=True, kw_only=True):
    referral_id: int
    account_id: str
    sos_number: str
    in_program: list[str]
    accepted_by: str


class ReferralRouted(msgspec.Struct, frozen=True, kw_only=True):
    """A need outside the program handed to another section; ``closed`` when nothing is left for SOS."""

    referral_id: int
    account_id: str
    need: str
    target: str
    ccb_case_id: str | None
    field_activity_id: str | None
    closed: bool
    routed_by: str


class ReferralSent(msgspec.Struct, frozen=True, kw_only=True):
    referral_id: int
    account_id: str
    sos_number: str
    mail_id: int
    ccb_contact_id: str
    sent_by: str


EVENT_TYPES: list[tuple[str, type[msgspec.Struct], str]] = [
    (FILED, ReferralFiled, "A CSR filed an SOS referral from a contact; it waits for the CRO."),
    (ACCEPTED, ReferralAccepted, "The CRO accepted a referral and gave it an SOS number."),
    (ROUTED, ReferralRouted, "A need outside the program went to another section (e.g. a CCB case)."),
    (SENT, ReferralSent, "The referral was e-mailed to the Department of Aging and noted in CCB."),
]
