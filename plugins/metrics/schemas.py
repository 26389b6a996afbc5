"""Request and response Structs of the metrics plugin (JSON bodies, the counter-request form, views)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from plugins.metrics.rules import SECTION_SLUG


class CounterRequestIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One click: what the customer asked for at the counter, and optionally the section it counts in.

    The page's form posts the same fields, so both go through one set of checks.
    """

    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    section: Annotated[str, msgspec.Meta(pattern=SECTION_SLUG)] | None = None


class CounterRequestOut(msgspec.Struct, kw_only=True):
    event_id: str
    kind: str
    section: str
    staff: str
    day: dt.date


class KindView(msgspec.Struct, kw_only=True):
    kind: str
    label: str


class RowView(msgspec.Struct, kw_only=True):
    section: str
    staff: str
    kind: str
    label: str
    count: int


class DailyView(msgspec.Struct, kw_only=True):
    day: dt.date
    rows: list[RowView]
    # section → kind → count, over the rows shown
    by_section: dict[str, dict[str, int]]


class MonthlyView(msgspec.Struct, kw_only=True):
    month: str
    sections: dict[str, dict[str, int]]
    staff: dict[str, dict[str, dict[str, int]]]  # section → staff → kind → count
