"""Pure e-team rules: config, account numbers found in customer mail, business hours, response text.

Nothing here touches HTTP, the bus, the database or Customer Connect, so each rule is unit-tested on plain
values.

Unanswered clock: a Contact Us request waits on the e-team only while the office is open, Monday to
Friday between ``business_start_hour`` and ``business_end_hour`` in the utility's zone, so mail received
on Friday evening is not late on Monday at 8. Public holidays are not counted out (no holiday calendar
is configured yet).

Section signs (§) cite docs/ccb-domain.md.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec

# Business hours are the utility's (ARCHITECTURE §5: shown and counted locally, stored in UTC).
LOCAL_TZ = ZoneInfo("America/Los_Angeles")
ACCOUNT_ID = r"^\d{10}$"
# Customer Connect reference numbers: six digits of the creation date, a six-digit daily count
# (docs/ccb-domain.md §3).
REFERENCE = r"^\d{6}-\d{6}$"
REFERENCE_RE = re.compile(REFERENCE)

Channel = Literal["email", "phone"]


class Status(enum.StrEnum):
    """The status *type* of the incident in Customer Connect (docs/ccb-domain.md §3), mirrored locally."""

    UNRESOLVED = "unresolved"
    WAITING = "waiting"
    SOLVED = "solved"


class EteamConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How to reach Customer Connect and how long a request may wait.

    ``base_url`` None means Customer Connect is not configured: nothing is pulled and the check says so.
    """

    base_url: str | None = None
    user: str = ""
    password: str = ""
    # Seconds between background pulls; 0 turns the loop off (pulls then run only on request).
    pull_interval_s: Annotated[float, msgspec.Meta(ge=0, le=86_400)] = 300.0
    pull_limit: Annotated[int, msgspec.Meta(ge=1, le=5_000)] = 500
    timeout_s: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0
    unanswered_business_hours: Annotated[int, msgspec.Meta(ge=1, le=400)] = 8
    business_start_hour: Annotated[int, msgspec.Meta(ge=0, le=23)] = 8
    business_end_hour: Annotated[int, msgspec.Meta(ge=1, le=24)] = 17

    def __post_init__(self) -> None:
        if self.business_end_hour <= self.business_start_hour:
            raise ValueError("business_end_hour must be after business_start_hour")


# -- account numbers in free text ------------------------------------------------------------------------
# Ten-digit account numbers (docs/ccb-domain.md §1.2) as customers type them: run together, grouped 3-3-4 by
# spaces, split 5-5 by a dash, or behind a "#". Phone numbers ("(213) 555-0123") and five-digit meter
# reads do not fit these shapes. A digit or dash right before or after means a longer number.
_ACCOUNT_SHAPES = r"(?:#\s?)?(\d{10}|\d{3} \d{3} \d{4}|\d{5}-\d{5})"
_ACCOUNT_ANY = re.compile(r"(?<![\d-])" + _ACCOUNT_SHAPES + r"(?![\d-])")
_ACCOUNT_LABELLED = re.compile(
    r"\b(?:account|acct|acc)\.?\s*(?:number|no\.?|num|#)?\s*[:#]?\s*" + _ACCOUNT_SHAPES + r"(?![\d-])",
    re.IGNORECASE,
)
# A bare number on a line about a phone is a phone number written 3-3-4, not an account.
_PHONE_LINE = re.compile(r"\b(?:phone|call|cell|mobile|tel|fax)\b", re.IGNORECASE)


def extract_account_number(*texts: str | None) -> str | None:
    """The account number a customer wrote, as ten digits, or None.

    A number labelled "account"/"acct" wins over a bare one; the first text that has one decides, so pass
    the subject before the body.
    """
    for text in texts:
        found = _ACCOUNT_LABELLED.search(text or "")
        if found:
            return re.sub(r"\D", "", found.group(1))
    for text in texts:
        for line in (text or "").splitlines():
            bare = _ACCOUNT_ANY.search(line)
            if bare and not _PHONE_LINE.search(line):
                return re.sub(r"\D", "", bare.group(1))
    return None


# -- business hours --------------------------------------------------------------------------------------
def business_hours_between(
    start: dt.datetime, end: dt.datetime, open_hour: int = 8, close_hour: int = 17
) -> float:
    """Hours between ``start`` and ``end`` that fall Monday-Friday within office hours (local time).

    Zero when ``end`` is not after ``start``. Both must be timezone-aware.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if close_hour <= open_hour:
        raise ValueError("close_hour must be after open_hour")
    if end <= start:
        return 0.0
    a, b = start.astimezone(LOCAL_TZ), end.astimezone(LOCAL_TZ)
    total = dt.timedelta()
    day = a.date()
    while day <= b.date():
        if day.weekday() < 5:
            opens = dt.datetime.combine(day, dt.time(open_hour), LOCAL_TZ)
            closes = (
                dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), LOCAL_TZ)
                if close_hour == 24
                else dt.datetime.combine(day, dt.time(close_hour), LOCAL_TZ)
            )
            lo, hi = max(a, opens), min(b, closes)
            if hi > lo:
                # Subtract in UTC so a daylight-saving change inside the window is counted as it was lived.
                total += hi.astimezone(dt.UTC) - lo.astimezone(dt.UTC)
        day += dt.timedelta(days=1)
    return total.total_seconds() / 3600


def is_unanswered_too_long(
    status: str,
    answered_at: dt.datetime | None,
    received_at: dt.datetime,
    now: dt.datetime,
    config: EteamConfig,
) -> bool:
    """Still waiting for the e-team's first answer after more business hours than configured."""
    if answered_at is not None or status != Status.UNRESOLVED:
        return False
    waited = business_hours_between(received_at, now, config.business_start_hour, config.business_end_hour)
    return waited > config.unanswered_business_hours


# -- texts -----------------------------------------------------------------------------------------------
def phone_note(text: str, actor: str) -> str:
    """The private note that records a phone answer on the incident (notes are staff-only, §3)."""
    return f"Phone response by {actor}: {text}"


def ccb_note(reference_number: str, channel: Channel, text: str) -> str:
    """The CCB customer contact log text; it carries the Customer Connect reference number (issue 7 §3)."""
    how = "e-mail" if channel == "email" else "phone"
    note = f"Customer Connect {reference_number}: answered by {how}. {text}"
    return note[:4000]
