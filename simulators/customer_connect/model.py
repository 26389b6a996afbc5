"""Vocabulary of the simulated Oracle B2C Service (Customer Connect) site: statuses, thread entry types,
channels, categories and the ``YYMMDD-NNNNNN`` reference number.

The domain reference (docs/ccb-domain.md §3) verifies the *names*: status types Unresolved / Waiting / Solved,
the default statuses Unresolved, Updated, Waiting and Solved, and the thread entry types. It does not
verify the numeric ids a real site uses for them (§7 lists "B2C default status IDs" as a gap), so the ids
below are this simulator's choice [~]; clients should match on ``lookupName`` or read the ids from the
resource rather than hard-coding them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# The reference number's date is the site's local date (§3: the counter resets at midnight of the site's
# first interface); the utility's site is in Los Angeles.
SITE_TZ = ZoneInfo("America/Los_Angeles")

# Connect REST lives under ``/services/rest/connect/{version}``. The documentation (REST API for Accessing
# Data, "Supported Versions") lists CCOM v1.2, v1.3 and v1.4, and ``latest`` as an alias of the newest one.
API_ROOT = "/services/rest/connect"
VERSIONS = ("v1.2", "v1.3", "v1.4", "latest")
LATEST = "v1.4"
API_PREFIX = f"{API_ROOT}/{LATEST}"

# §3: the format is fixed at six digits of date and six of sequence and cannot be changed.
REFERENCE_RE = re.compile(r"^\d{6}-\d{6}$")
MAX_DAILY_SEQUENCE = 999_999


@dataclass(frozen=True, slots=True)
class Named:
    """An id/lookupName pair, the shape Connect REST uses for every named reference."""

    id: int
    lookup_name: str


# Status types (§3). Ids [~].
UNRESOLVED_TYPE = Named(1, "Unresolved")
SOLVED_TYPE = Named(2, "Solved")
WAITING_TYPE = Named(3, "Waiting")
STATUS_TYPES: dict[int, Named] = {t.id: t for t in (UNRESOLVED_TYPE, SOLVED_TYPE, WAITING_TYPE)}

# Default statuses and the type each maps to (§3). Ids [~].
UNRESOLVED = Named(1, "Unresolved")
SOLVED = Named(2, "Solved")
WAITING = Named(3, "Waiting")
UPDATED = Named(8, "Updated")
STATUSES: dict[int, tuple[Named, Named]] = {
    UNRESOLVED.id: (UNRESOLVED, UNRESOLVED_TYPE),
    SOLVED.id: (SOLVED, SOLVED_TYPE),
    WAITING.id: (WAITING, WAITING_TYPE),
    # "Updated" = the customer added to the incident; it is still the agents' move, hence type Unresolved.
    UPDATED.id: (UPDATED, UNRESOLVED_TYPE),
}

# Thread entry types (§3, names verified; ids [~]). Only the private note is hidden from the customer.
PRIVATE_NOTE = Named(1, "Private Note")
STAFF_RESPONSE = Named(2, "Staff Response")
CUSTOMER_ENTRY = Named(3, "Customer Entry")
CUSTOMER_PROXY = Named(4, "Customer Proxy")
CHAT = Named(5, "Chat")
RULE_RESPONSE = Named(6, "Rule Response")
ENTRY_TYPES: dict[int, Named] = {
    e.id: e for e in (PRIVATE_NOTE, STAFF_RESPONSE, CUSTOMER_ENTRY, CUSTOMER_PROXY, CHAT, RULE_RESPONSE)
}
# Older sites and the product's own code use shorter names for the same entry types; accept them on input.
ENTRY_TYPE_ALIASES = {"note": PRIVATE_NOTE.id, "response": STAFF_RESPONSE.id, "customer": CUSTOMER_ENTRY.id}
STAFF_ENTRY_TYPES = frozenset({PRIVATE_NOTE.id, STAFF_RESPONSE.id, CUSTOMER_PROXY.id, RULE_RESPONSE.id})
CUSTOMER_ENTRY_TYPES = frozenset({CUSTOMER_ENTRY.id, CHAT.id})

# Channels an incident can arrive on (§3: web form, email, chat, API; agents add phone, fax, mail). [~] ids.
CHANNELS: dict[int, Named] = {
    c.id: c
    for c in (
        Named(1, "Service Web"),
        Named(2, "Email"),
        Named(3, "Phone"),
        Named(4, "Fax"),
        Named(5, "Post"),
        Named(6, "Chat"),
        Named(7, "API"),
    )
}
EMAIL_CHANNEL = CHANNELS[2]
API_CHANNEL = CHANNELS[7]

# Categories: what LADWP customers write about (§4 programs plus everyday billing and service). [~] ids.
CATEGORIES: dict[str, Named] = {
    key: Named(i, name)
    for i, (key, name) in enumerate(
        [
            ("high_bill", "Billing - High Bill"),
            ("payment_arrangement", "Billing - Payment Arrangement"),
            ("start_service", "Service - Start"),
            ("stop_service", "Service - Stop"),
            ("outage_report", "Outage Report"),
            ("solar_net_metering", "Solar / Net Energy Metering"),
            ("senior_assistance", "Senior & Low-Income Assistance"),
            ("meter_read", "Meter Read"),
            ("returned_check", "Payments - Returned Check"),
            ("ev_rebate", "Rebates - Charge Up L.A.!"),
            ("water_leak", "Water - Leak / Pressure"),
        ],
        start=1,
    )
}
CATEGORIES_BY_ID: dict[int, Named] = {c.id: c for c in CATEGORIES.values()}

# The other named lists an incident refers to. A real site defines its own products, severities, queues,
# dispositions, staff accounts and groups; the entries below are this simulator's [~], chosen for a
# water-and-power utility. Clients refer to them by ``id`` or ``lookupName``, as to any named reference.
PRODUCTS: dict[int, Named] = {
    p.id: p
    for p in (
        Named(1, "Electric Service"),
        Named(2, "Water Service"),
        Named(3, "Billing"),
        Named(4, "Solar"),
        Named(5, "Rebates"),
        Named(6, "Streetlights"),
    )
}
SEVERITIES: dict[int, Named] = {
    s.id: s for s in (Named(1, "Critical"), Named(2, "High"), Named(3, "Medium"), Named(4, "Low"))
}
QUEUES: dict[int, Named] = {
    q.id: q for q in (Named(1, "Default Queue"), Named(2, "Billing Queue"), Named(3, "Field Service Queue"))
}
DISPOSITIONS: dict[int, Named] = {
    d.id: d for d in (Named(1, "Resolved by Agent"), Named(2, "Duplicate"), Named(3, "No Response"))
}
LANGUAGES: dict[int, Named] = {lang.id: lang for lang in (Named(1, "en_US"), Named(2, "es_US"))}
# Staff accounts' lookupName is the person's name, as on a real site.
ACCOUNTS: dict[int, Named] = {
    a.id: a
    for a in (
        Named(1, "Administrator"),
        Named(2, "Maria Gonzalez"),
        Named(3, "James Park"),
        Named(4, "Ana Ruiz"),
    )
}
STAFF_GROUPS: dict[int, Named] = {
    g.id: g for g in (Named(1, "Customer Service"), Named(2, "Billing Team"), Named(3, "Field Operations"))
}
# The named lists an incident body can refer to, by the field that carries each (``assignedTo`` has two).
NAMED_LISTS: dict[str, dict[int, Named]] = {
    "category": CATEGORIES_BY_ID,
    "channel": CHANNELS,
    "product": PRODUCTS,
    "severity": SEVERITIES,
    "queue": QUEUES,
    "disposition": DISPOSITIONS,
    "language": LANGUAGES,
    "assignedTo.account": ACCOUNTS,
    "assignedTo.staffGroup": STAFF_GROUPS,
}


def resolve_named(field: str, ref_id: int | None, lookup_name: str | None) -> Named | None:
    """The entry of ``NAMED_LISTS[field]`` a reference names by id or (case-insensitive) lookupName."""
    table = NAMED_LISTS[field]
    if ref_id is not None:
        return table.get(ref_id)
    wanted = (lookup_name or "").strip().lower()
    return next((n for n in table.values() if n.lookup_name.lower() == wanted), None) if wanted else None


def status_by_name(name: str) -> Named | None:
    wanted = name.strip().lower()
    return next((s for s, _ in STATUSES.values() if s.lookup_name.lower() == wanted), None)


def status_type_by_name(name: str) -> Named | None:
    wanted = name.strip().lower()
    return next((t for t in STATUS_TYPES.values() if t.lookup_name.lower() == wanted), None)


def entry_type_by_name(name: str) -> Named | None:
    wanted = name.strip().lower()
    if wanted in ENTRY_TYPE_ALIASES:
        return ENTRY_TYPES[ENTRY_TYPE_ALIASES[wanted]]
    return next((e for e in ENTRY_TYPES.values() if e.lookup_name.lower() == wanted), None)


def reference_day(created: dt.datetime) -> str:
    """The ``YYMMDD`` part: the creation date in the site's zone (an aware datetime is required)."""
    if created.tzinfo is None:
        raise ValueError("creation time must be timezone-aware")
    return created.astimezone(SITE_TZ).strftime("%y%m%d")


def format_reference(day: str, sequence: int) -> str:
    if not 1 <= sequence <= MAX_DAILY_SEQUENCE:
        raise ValueError(f"daily sequence {sequence} does not fit the six-digit reference number")
    return f"{day}-{sequence:06d}"
