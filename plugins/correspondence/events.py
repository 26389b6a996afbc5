"""Events the correspondence plugin publishes.

Payloads say which letter, account and template, and where the letter is on its way; never the letter's
text or the customer's address (the bus fans out to every subscriber, which needs no more — ARCHITECTURE §4).
"""

from __future__ import annotations

import datetime as dt

import msgspec

LETTER_CREATED = "hub.correspondence.letter.created"
LETTER_MAILED = "hub.correspondence.letter.mailed"


class LetterCreated(msgspec.Struct, frozen=True, kw_only=True):
    """A letter was generated, recorded on the account and queued for mailing."""

    letter_id: int
    account_id: str
    template: str
    status: str
    sha256: str
    size: int
    contact_id: str | None
    emailed: bool
    source: str
    created_at: dt.datetime
    created_by: str


class LetterMailed(msgspec.Struct, frozen=True, kw_only=True):
    """A queued letter was handed to the post."""

    letter_id: int
    account_id: str
    template: str
    mailed_at: dt.datetime
    mailed_by: str


EVENT_TYPES: list[tuple[str, type[msgspec.Struct], str]] = [
    (
        LETTER_CREATED,
        LetterCreated,
        "A letter was generated, recorded on the account and queued for mailing.",
    ),
    (LETTER_MAILED, LetterMailed, "A queued letter was mailed."),
]
