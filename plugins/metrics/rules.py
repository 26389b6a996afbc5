"""Pure metrics rules: which bus event counts as what, the local day, months, sections and the workbook.

Nothing here touches HTTP, the bus or the database. Counts are derived from events, never typed in
(issue 8 §2): :func:`classify` turns one envelope's subject, actor and payload into the tallies it adds.

Each tally carries a *dedupe key*. Usually that is the event id, but where two events describe the same
piece of work the key is the business id instead: a cash-window payment is announced by the CCB
(``hub.ccb.payment.posted``) and by the cash plugin (``hub.cash.payment.posted``) with the same payment
id, so both map to ``payment:<id>`` and the one with the higher *priority* (the more specific one) decides
how the payment is counted, whichever arrives first.

Sections: a plugin must not read the core's staff tables, so the section of a derived count is decided by
the work itself — a ``section`` in the payload when the event carries one (counter requests do: the CSR
picks it), otherwise the kind's home section from the config (``kind_sections``, longest prefix wins),
otherwise ``default_section``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec

# Days are the utility's days (ARCHITECTURE §5): an event at 07:30 UTC on the 2nd is still the 1st in LA.
LOCAL_TZ = ZoneInfo("America/Los_Angeles")
SECTION_SLUG = r"^[a-z][a-z0-9-]{1,39}$"
COUNTER_KIND = r"^[a-z][a-z0-9_]{1,39}$"
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# Who the tally names when the work was done by the hub itself, never shown as a person.
NO_STAFF = ""
DEFAULT_COUNTER_KINDS = (
    "assistance_form",
    "start_stop_service",
    "bill_copy",
    "payment_arrangement",
    "general_information",
    "other",
)
DEFAULT_KIND_SECTIONS = {
    "payment": "customer-service-center",
    "call": "call-center",
    "contact.phone": "call-center",
    "contact.counter": "customer-service-center",
    "claim": "customer-relations",
    "mail": "customer-relations",
}


class MetricsConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The metrics plugin's settings; every default works (the contract suite converts ``{}``)."""

    # The one-click counter requests a CSR may record (issue 8 §2: "forms for assistance programs, …").
    counter_request_kinds: list[Annotated[str, msgspec.Meta(pattern=COUNTER_KIND)]] = msgspec.field(
        default_factory=lambda: list(DEFAULT_COUNTER_KINDS)
    )
    # Where a derived count belongs when its event names no section (longest matching kind prefix wins).
    kind_sections: dict[str, Annotated[str, msgspec.Meta(pattern=SECTION_SLUG)]] = msgspec.field(
        default_factory=lambda: dict(DEFAULT_KIND_SECTIONS)
    )
    default_section: Annotated[str, msgspec.Meta(pattern=SECTION_SLUG)] = "customer-service-center"
    # The section a counter request falls in when the CSR names none and belongs to it (or to several).
    counter_section: Annotated[str, msgspec.Meta(pattern=SECTION_SLUG)] = "customer-service-center"


# -- days and months --------------------------------------------------------------------------------------
def local_day(when: dt.datetime) -> dt.date:
    """The utility's calendar day of an instant (aware datetimes only: a naive one is a bug upstream)."""
    if when.tzinfo is None:
        raise ValueError("naive datetime: the event time must carry its zone")
    return when.astimezone(LOCAL_TZ).date()


class MonthError(ValueError):
    """A month that is not ``YYYY-MM`` with a month 01-12."""


def parse_month(text: str) -> tuple[int, int]:
    """``"2026-03"`` → ``(2026, 3)``; anything else raises :class:`MonthError` saying what is expected."""
    found = MONTH.fullmatch(text.strip()) if isinstance(text, str) else None
    if found is None:
        raise MonthError(f"expected YYYY-MM, got {text!r}")
    year, month = int(found.group(1)), int(found.group(2))
    if not 1 <= month <= 12:
        raise MonthError(f"month {month:02d} is not 01-12")
    if year < 2000:
        raise MonthError(f"year {year} is before the hub's records")
    return year, month


def month_days(year: int, month: int) -> list[dt.date]:
    first = dt.date(year, month, 1)
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return [first + dt.timedelta(days=i) for i in range((following - first).days)]


# -- what counts --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Tally:
    """One increment: ``kind`` done by ``staff`` (a staff name), counted once per ``key``."""

    kind: str
    staff: str
    key: str
    section: str | None = None  # None: resolved from the config by kind
    priority: int = 0  # a later event for the same key with a higher priority re-files the count


# Subjects and what they count; patterns use the bus's wildcards so future plugins count once they exist.
# (pattern, rule) — the first matching pattern decides.
RULES: list[tuple[str, str]] = [
    ("hub.metrics.counter_request.recorded", "counter_request"),
    ("hub.cash.payment.posted", "cash_payment"),
    ("hub.ccb.payment.posted", "ccb_payment"),
    ("hub.phone.dialog.ended", "call"),
    ("hub.contact.wrapped_up", "contact"),
    ("hub.contact.returned_mail.resolved", "returned_mail"),
    # Claims and mail are future plugins: any finished claim or mail item counts once they publish it.
    ("hub.claims.*.processed", "claim"),
    ("hub.claims.*.closed", "claim"),
    ("hub.mail.*.processed", "mail"),
    ("hub.mail.*.sent", "mail"),
]

# Column titles for the report; unknown kinds fall back to a title made from the kind.
LABELS: dict[str, str] = {
    "payment.window": "Payments at the window",
    "payment.dropbox": "Drop-box payments",
    "payment.other": "Other payments",
    "call.handled": "Calls handled",
    "claim.processed": "Claims processed",
    "mail.processed": "Mail processed",
    "mail.returned": "Returned mail resolved",
}


def _matches(pattern: str, subject: str) -> bool:
    p, s = pattern.split("."), subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(p) == len(s)


def rule_for(subject: str) -> str | None:
    return next((rule for pattern, rule in RULES if _matches(pattern, subject)), None)


def staff_of(actor: str) -> str | None:
    """``staff:ana`` → ``ana``; the hub itself, the IVR or a device counts for nobody."""
    if actor.startswith("staff:") and len(actor) > len("staff:"):
        return actor[len("staff:") :]
    return None


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


def classify(subject: str, actor: str, data: Mapping[str, Any], event_id: str) -> list[Tally]:
    """The tallies one event adds (often none). Payload fields it needs are read defensively: a malformed
    payload counts for nothing rather than raising on every redelivery."""
    rule = rule_for(subject)
    if rule is None:
        return []
    staff = staff_of(actor)
    if rule == "counter_request":
        kind, who = _text(data, "kind"), _text(data, "staff")
        if kind is None or who is None:
            return []
        return [
            Tally(kind=f"counter.{kind}", staff=who, key=f"event:{event_id}", section=_text(data, "section"))
        ]
    if rule == "call":
        # Every agent with a leg on the call handled it (a transfer counts for both); no agent: abandoned.
        agents = data.get("agentIds")
        dialog = data.get("dialog")
        dialog_id = _text(dialog, "id") if isinstance(dialog, dict) else None
        if not isinstance(agents, list):
            return []
        names = sorted({a for a in agents if isinstance(a, str) and a})
        return [Tally(kind="call.handled", staff=a, key=f"call:{dialog_id or event_id}:{a}") for a in names]
    if staff is None:
        return []
    if rule in ("cash_payment", "ccb_payment"):
        payment = _text(data, "payment_id")
        key = f"payment:{payment}" if payment else f"event:{event_id}"
        if rule == "cash_payment":
            where = "dropbox" if data.get("source") == "dropbox" else "window"
            return [Tally(kind=f"payment.{where}", staff=staff, key=key, priority=2)]
        return [Tally(kind="payment.other", staff=staff, key=key, priority=1)]
    if rule == "contact":
        contact = _text(data, "contact_id")
        channel = _text(data, "channel") or "unknown"
        return [Tally(kind=f"contact.{channel}", staff=staff, key=f"contact:{contact or event_id}")]
    if rule == "returned_mail":
        return [Tally(kind="mail.returned", staff=staff, key=f"event:{event_id}")]
    return [
        Tally(kind=f"{rule}.processed", staff=staff, key=f"event:{event_id}", section=_text(data, "section"))
    ]


def section_for(kind: str, explicit: str | None, config: MetricsConfig) -> str:
    """The section a tally is filed under (see the module docstring for the order)."""
    if explicit and re.fullmatch(SECTION_SLUG, explicit):
        return explicit
    best: tuple[int, str] | None = None
    for prefix, section in config.kind_sections.items():
        if (kind == prefix or kind.startswith(prefix + ".")) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), section)
    return best[1] if best else config.default_section


def label(kind: str) -> str:
    if kind in LABELS:
        return LABELS[kind]
    group, _, rest = kind.partition(".")
    if group == "counter":
        return "Counter: " + rest.replace("_", " ")
    if group == "contact":
        return f"Contacts ({rest.replace('_', ' ')})"
    return kind.replace(".", " ").replace("_", " ").capitalize()


def kind_order(kinds: Iterable[str]) -> list[str]:
    """Payments, calls, contacts, counter requests, claims, mail, then the rest; labelled kinds first."""
    groups = ["payment", "call", "contact", "counter", "claim", "mail"]

    known = list(LABELS)

    def rank(kind: str) -> tuple[int, int, str]:
        group = kind.partition(".")[0]
        return (
            groups.index(group) if group in groups else len(groups),
            known.index(kind) if kind in known else len(known),
            kind,
        )

    return sorted(set(kinds), key=rank)


# -- the workbook -------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Row:
    """One tally row as stored: a day, a section, a CSR, a kind and its count."""

    day: dt.date
    section: str
    staff: str
    kind: str
    count: int


def sheet_title(section: str) -> str:
    # Excel refuses titles over 31 characters and a few punctuation marks; section slugs have none.
    return section[:31]


def build_workbook(year: int, month: int, rows: Iterable[Row], *, generated_at: dt.datetime) -> bytes:
    """The monthly report: one sheet per section, a row per day, a totals row of ``SUM`` formulas, a
    ``Total`` column per day, and under it each CSR's monthly counts. Formulas are written, not values,
    so management can audit them; the file asks Excel to recalculate on opening."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    days = month_days(year, month)
    by_section: dict[str, list[Row]] = {}
    for r in rows:
        if r.count and r.day.year == year and r.day.month == month:
            by_section.setdefault(r.section, []).append(r)
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    bold = Font(bold=True)
    for section in sorted(by_section) or ["no data"]:
        found = by_section.get(section, [])
        ws = wb.create_sheet(sheet_title(section))
        kinds = kind_order(r.kind for r in found)
        last_col = get_column_letter(len(kinds) + 1)
        ws.append(["Date", *(label(k) for k in kinds), "Total"])
        daily: dict[tuple[dt.date, str], int] = {}
        for r in found:
            daily[(r.day, r.kind)] = daily.get((r.day, r.kind), 0) + r.count
        for i, day in enumerate(days, start=2):
            total = f"=SUM(B{i}:{last_col}{i})" if kinds else 0
            ws.append([day, *(daily.get((day, k), 0) for k in kinds), total])
            ws.cell(row=i, column=1).number_format = "yyyy-mm-dd"
        first, last = 2, len(days) + 1
        totals_row = last + 1
        ws.append(
            [
                "Total",
                *(
                    f"=SUM({get_column_letter(c)}{first}:{get_column_letter(c)}{last})"
                    for c in range(2, len(kinds) + 3)
                ),
            ]
        )
        for cell in ws[1] + ws[totals_row]:
            cell.font = bold
        # Each CSR's month, so a lead sees who did what without a second file.
        ws.append([])
        ws.append(["Staff", *(label(k) for k in kinds), "Total"])
        ws[ws.max_row][0].font = bold
        per_staff: dict[tuple[str, str], int] = {}
        for r in found:
            per_staff[(r.staff, r.kind)] = per_staff.get((r.staff, r.kind), 0) + r.count
        for name in sorted({r.staff for r in found}):
            n = ws.max_row + 1
            ws.append(
                [name or "(hub)", *(per_staff.get((name, k), 0) for k in kinds), f"=SUM(B{n}:{last_col}{n})"]
            )
        ws.column_dimensions["A"].width = 14
        for c in range(2, len(kinds) + 3):
            ws.column_dimensions[get_column_letter(c)].width = 18
        ws.freeze_panes = "B2"
    wb.calculation.fullCalcOnLoad = True
    wb.properties.title = f"Customer service metrics {year}-{month:02d}"
    wb.properties.created = generated_at.astimezone(dt.UTC).replace(tzinfo=None)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
