"""Events the e-team plugin publishes.

Payloads name the incident (reference number and Customer Connect id), the account and the people
involved; the customer's text and the answer stay in the plugin's tables, since the bus fans out to every
subscriber.
"""

from __future__ import annotations

import datetime as dt

import msgspec

PULLED = "hub.eteam.incident.pulled"
RESPONDED = "hub.eteam.incident.responded"
NOTED = "hub.eteam.incident.noted"


class IncidentPulled(msgspec.Struct, frozen=True, kw_only=True):
    """An incident entered the e-team queue (first seen unresolved in Customer Connect)."""

    reference_number: str
    cc_id: int
    account_id: str | None
    status: str
    received_at: dt.datetime
    pulled_at: dt.datetime


class IncidentResponded(msgspec.Struct, frozen=True, kw_only=True):
    """The e-team answered an incident; with ``action_taken`` a CCB customer contact notes it."""

    reference_number: str
    cc_id: int
    response_id: int
    channel: str
    action_taken: bool
    account_id: str | None
    ccb_contact_id: str | None
    status: str
    responded_by: str
    responded_at: dt.datetime


class IncidentNoted(msgspec.Struct, frozen=True, kw_only=True):
    """Action on the account followed an answer: a CCB customer contact quoting the reference was added."""

    reference_number: str
    cc_id: int
    response_id: int
    account_id: str
    ccb_contact_id: str
    noted_by: str
    noted_at: dt.datetime


EVENT_TYPES: list[tuple[str, type[msgspec.Struct], str]] = [
    (PULLED, IncidentPulled, "A Contact Us incident was pulled from Customer Connect into the e-team queue."),
    (RESPONDED, IncidentResponded, "The e-team answered an incident by e-mail or phone (CCB note if acted)."),
    (NOTED, IncidentNoted, "A CCB note quoting the reference was added to an answer after action was taken."),
]
