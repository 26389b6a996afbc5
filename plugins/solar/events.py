"""Events the solar plugin publishes about its voicemail callback queue.

Payloads name the voicemail, its account when known, the times and the outcome; phone numbers and notes
stay in the plugin's tables, since the bus fans out to every subscriber.
"""

from __future__ import annotations

import datetime as dt

import msgspec

VOICEMAIL_LEFT = "hub.solar.voicemail.left"
VOICEMAIL_RETURNED = "hub.solar.voicemail.returned"


class VoicemailLeft(msgspec.Struct, frozen=True, kw_only=True):
    voicemail_id: int
    account_id: str | None
    duration_s: int
    left_at: dt.datetime
    due_at: dt.datetime
    left_by: str


class VoicemailReturned(msgspec.Struct, frozen=True, kw_only=True):
    voicemail_id: int
    account_id: str | None
    outcome: str
    left_at: dt.datetime
    returned_at: dt.datetime
    returned_by: str
    late: bool  # returned after its one-business-day deadline


EVENT_TYPES: list[tuple[str, type[msgspec.Struct], str]] = [
    (VOICEMAIL_LEFT, VoicemailLeft, "A caller left a voicemail for the Solar team; it waits for a callback."),
    (VOICEMAIL_RETURNED, VoicemailReturned, "The Solar team returned a voicemail and recorded the outcome."),
]
