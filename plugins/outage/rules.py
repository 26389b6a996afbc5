"""Pure outage logic: config, area matching, the trouble-ticket burst window, the ETR rule and the hints.

Nothing here touches HTTP, the bus or the database, so each rule is unit-tested on plain values. An outage's
area is a set of CCB service-area codes, ZIP codes and premise ids; a premise is in the outage when any one of
the three names it (issue 6 §3: "area as service-area codes / ZIP codes and/or a list of premises").
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec
from markupsafe import Markup

# Shown to CSRs and callers in the utility's zone (ARCHITECTURE §5); stored in UTC.
LOCAL_TZ = ZoneInfo("America/Los_Angeles")
# A CCB service-area code and a US ZIP code (five digits, optionally ZIP+4, which matches on its first five).
AREA_CODE = r"^[A-Z0-9][A-Z0-9_-]{0,19}$"
ZIP_CODE = r"^[0-9]{5}(-[0-9]{4})?$"
PREMISE_ID = r"^[0-9]{10}$"


class Utility(enum.StrEnum):
    ELECTRIC = "electric"
    WATER = "water"


class OutageStatus(enum.StrEnum):
    ACTIVE = "active"
    RESTORED = "restored"


class SuggestionStatus(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class TicketAction(enum.StrEnum):
    """What the plugin did with a trouble ticket from the CCB."""

    LINKED = "linked"  # the premise is in an active outage: linked, and its field activity canceled
    LINKED_NOT_CANCELED = "linked_not_canceled"  # linked, but the CCB refused the cancel (e.g. crew en route)
    DISPATCHED = "dispatched"  # no known outage: the field activity stands


class OutageConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The outage plugin's settings; every default works (the contract suite converts ``{}``)."""

    # Burst rule: this many trouble tickets from one service area within the window suggest an outage.
    burst_threshold: Annotated[int, msgspec.Meta(ge=2, le=1000)] = 5
    burst_window_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 15
    # ETR check: an active outage may go this long without an estimated restoration.
    etr_missing_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 30
    # Cancel the duplicate TROUBLE field activity of a ticket linked to an outage (off: link only).
    cancel_duplicate_field_activity: bool = True
    # Server-sent events: a comment every so often keeps proxies from closing an idle stream.
    # (A browser that stops reading loses its oldest messages: the hub's streams bound each subscriber.)
    stream_keepalive_s: Annotated[float, msgspec.Meta(gt=0, le=300)] = 15.0


# -- areas -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Area:
    """Where an outage is: any premise named by one of these is in it."""

    service_areas: frozenset[str] = frozenset()
    zips: frozenset[str] = frozenset()
    premise_ids: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not (self.service_areas or self.zips or self.premise_ids)

    def describe(self) -> str:
        """A short text for banners and hints, e.g. "service area SA-12, ZIP 90012 and 3 premises"."""
        parts: list[str] = []
        if self.service_areas:
            parts.append("service area " + ", ".join(sorted(self.service_areas)))
        if self.zips:
            parts.append("ZIP " + ", ".join(sorted(self.zips)))
        if self.premise_ids:
            n = len(self.premise_ids)
            parts.append(f"{n} premise" + ("s" if n != 1 else ""))
        return " and ".join(parts) if parts else "no area"


def make_area(
    service_areas: Iterable[str] = (), zips: Iterable[str] = (), premise_ids: Iterable[str] = ()
) -> Area:
    """Normalise an area as entered: trimmed, upper-case area codes, ZIP+4 cut to the five-digit ZIP."""
    return Area(
        service_areas=frozenset(s.strip().upper() for s in service_areas if s.strip()),
        zips=frozenset(z.strip()[:5] for z in zips if z.strip()),
        premise_ids=frozenset(p.strip() for p in premise_ids if p.strip()),
    )


@dataclass(frozen=True, slots=True)
class PremiseLocation:
    """What area matching needs of a CCB premise."""

    premise_id: str
    zip: str | None
    service_area_code: str | None


def area_contains(area: Area, where: PremiseLocation) -> bool:
    if where.premise_id in area.premise_ids:
        return True
    if where.service_area_code and where.service_area_code.upper() in area.service_areas:
        return True
    return bool(where.zip) and (where.zip or "")[:5] in area.zips


def burst_key(where: PremiseLocation) -> str | None:
    """The area a trouble ticket counts toward for the burst rule: its service area, else its ZIP."""
    if where.service_area_code:
        return f"sa:{where.service_area_code.upper()}"
    if where.zip:
        return f"zip:{where.zip[:5]}"
    return None


def area_of_key(key: str) -> Area:
    """The area a suggested outage proposes for a burst key (the inverse of :func:`burst_key`)."""
    kind, _, value = key.partition(":")
    return Area(service_areas=frozenset({value})) if kind == "sa" else Area(zips=frozenset({value}))


# -- the burst rule --------------------------------------------------------------------------------------
def in_window(times: Iterable[dt.datetime], now: dt.datetime, window: dt.timedelta) -> list[dt.datetime]:
    """The times within ``window`` up to ``now`` (a sliding window: it ends now, not at a clock boundary)."""
    start = now - window
    return sorted(t for t in times if start < t <= now)


def is_burst(
    times: Iterable[dt.datetime],
    now: dt.datetime,
    *,
    window: dt.timedelta,
    threshold: int,
    open_suggestion: bool,
) -> bool:
    """Whether the tickets of one area now call for a new suggested outage.

    One suggestion per burst: while one is open for the area (not yet confirmed or dismissed) a lead has
    already been asked, so more tickets only add to its count.
    """
    return not open_suggestion and len(in_window(times, now, window)) >= threshold


# -- estimated restoration -------------------------------------------------------------------------------
def etr_overdue(
    status: OutageStatus | str,
    estimated_restoration: dt.datetime | None,
    etr_missing_since: dt.datetime | None,
    now: dt.datetime,
    limit: dt.timedelta,
) -> bool:
    """An active outage without an estimated restoration for longer than ``limit`` (the plugin's check)."""
    if status != OutageStatus.ACTIVE or estimated_restoration is not None or etr_missing_since is None:
        return False
    return now - etr_missing_since > limit


def local_input(value: str) -> dt.datetime | None:
    """A ``datetime-local`` form value, read in the utility's zone (``ValueError`` when it is not one)."""
    if not value:
        return None
    return dt.datetime.fromisoformat(value).replace(tzinfo=LOCAL_TZ).astimezone(dt.UTC)


def etr_text(estimated_restoration: dt.datetime | None) -> str:
    if estimated_restoration is None:
        return "not yet known"
    return estimated_restoration.astimezone(LOCAL_TZ).strftime("%a %b %-d, %-I:%M %p %Z")


# -- what CSRs see and say -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OutageFacts:
    """An outage as the hint and the banner describe it."""

    outage_id: int
    utility: str
    cause: str
    area: Area
    estimated_restoration: dt.datetime | None


def hint_text(o: OutageFacts) -> str:
    return f"Known {o.utility} outage: {o.cause}, estimated restoration {etr_text(o.estimated_restoration)}"


def caller_script(o: OutageFacts) -> str:
    """What the CSR tells the caller: acknowledge, give the estimate, and spare them a duplicate report."""
    when = (
        f"we expect service back by {etr_text(o.estimated_restoration)}"
        if o.estimated_restoration is not None
        else "we do not have a restoration estimate yet, and we will update it as soon as crews report"
    )
    return (
        f"We know about a {o.utility} outage affecting your area ({o.cause}). Crews are working on it, and "
        f"{when}. There is no need to report it again; if your neighbours have service and you do not once "
        "it is restored, please call us back."
    )


def banner_line(o: OutageFacts) -> str:
    return f"{o.utility.capitalize()} outage #{o.outage_id} in {o.area.describe()}: {o.cause}. " + (
        f"ETR {etr_text(o.estimated_restoration)}."
    )


def matching(outages: Sequence[OutageFacts], where: PremiseLocation) -> list[OutageFacts]:
    return [o for o in outages if area_contains(o.area, where)]


def banner_html(outages: Sequence[OutageFacts]) -> str:
    """The #banner fragment: one line per active outage, escaped; empty when there is none."""
    if not outages:
        return ""
    lines = Markup("").join(
        Markup('<li data-outage="{}">{}</li>').format(o.outage_id, banner_line(o)) for o in outages
    )
    return str(
        Markup(
            '<div class="outage-banner" role="status" aria-live="polite"><strong>{}</strong><ul>{}</ul></div>'
        ).format("Known outages", lines)
    )
