"""The metrics plugin's pure rules: subject → kind, the local day around midnight and DST, months, sections
and the workbook's layout read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import io

import msgspec
import pytest
from openpyxl import load_workbook

from plugins.metrics.rules import (
    MetricsConfig,
    MonthError,
    Row,
    Tally,
    build_workbook,
    classify,
    label,
    local_day,
    month_days,
    parse_month,
    section_for,
    staff_of,
)

UTC = dt.UTC
CONFIG = MetricsConfig()


def call_data(*agents: str, dialog_id: str = "D1") -> dict[str, object]:
    return {"dialog": {"id": dialog_id}, "agentIds": list(agents), "cause": "DROP"}


@pytest.mark.parametrize(
    ("subject", "actor", "data", "expected"),
    [
        (
            "hub.cash.payment.posted",
            "staff:ana",
            {"payment_id": "P1", "source": "window"},
            [Tally(kind="payment.window", staff="ana", key="payment:P1", priority=2)],
        ),
        (
            "hub.cash.payment.posted",
            "staff:lee",
            {"payment_id": "P2", "source": "dropbox"},
            [Tally(kind="payment.dropbox", staff="lee", key="payment:P2", priority=2)],
        ),
        # The CCB's announcement of the same payment shares the key, with a lower priority.
        (
            "hub.ccb.payment.posted",
            "staff:ana",
            {"payment_id": "P1"},
            [Tally(kind="payment.other", staff="ana", key="payment:P1", priority=1)],
        ),
        # Payments the hub or the IVR post are nobody's work at the counter.
        ("hub.ccb.payment.posted", "system", {"payment_id": "P3"}, []),
        (
            "hub.phone.dialog.ended",
            "system",
            call_data("bo", "ana", "ana"),
            [
                Tally(kind="call.handled", staff="ana", key="call:D1:ana"),
                Tally(kind="call.handled", staff="bo", key="call:D1:bo"),
            ],
        ),
        ("hub.phone.dialog.ended", "system", call_data(), []),  # abandoned in the queue
        ("hub.phone.dialog.updated", "system", call_data("ana"), []),
        (
            "hub.contact.wrapped_up",
            "staff:ana",
            {"contact_id": "C9", "channel": "phone"},
            [Tally(kind="contact.phone", staff="ana", key="contact:C9")],
        ),
        (
            "hub.contact.wrapped_up",
            "staff:ana",
            {"contact_id": "C8"},
            [Tally(kind="contact.unknown", staff="ana", key="contact:C8")],
        ),
        (
            "hub.metrics.counter_request.recorded",
            "staff:ana",
            {"kind": "bill_copy", "section": "customer-service-center", "staff": "ana"},
            [Tally(kind="counter.bill_copy", staff="ana", key="event:E", section="customer-service-center")],
        ),
        (
            "hub.contact.returned_mail.resolved",
            "staff:kim",
            {"item_id": "M1"},
            [Tally(kind="mail.returned", staff="kim", key="event:E")],
        ),
        # Future plugins count once they publish: claims and mail by pattern.
        (
            "hub.claims.claim.processed",
            "staff:kim",
            {},
            [Tally(kind="claim.processed", staff="kim", key="event:E")],
        ),
        ("hub.mail.letter.sent", "staff:kim", {}, [Tally(kind="mail.processed", staff="kim", key="event:E")]),
        ("hub.outage.declared", "staff:lead1", {}, []),
        (
            "hub.cash.payment.posted",
            "staff:ana",
            {"unexpected": ["shape"]},
            [Tally(kind="payment.window", staff="ana", key="event:E", priority=2)],
        ),
        ("hub.metrics.counter_request.recorded", "staff:ana", {"unexpected": 1}, []),
        ("hub.phone.dialog.ended", "system", {"agentIds": "nope"}, []),
    ],
)
def test_subjects_map_to_kinds(
    subject: str, actor: str, data: dict[str, object], expected: list[Tally]
) -> None:
    assert classify(subject, actor, data, "E") == expected


def test_staff_of_reads_only_staff_actors() -> None:
    assert staff_of("staff:ana") == "ana"
    assert staff_of("staff:") is None and staff_of("system:phone") is None and staff_of("ivr") is None


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        # 23:59 in LA on Jan 31 is already Feb 1 in UTC: it counts for Jan 31.
        (dt.datetime(2026, 2, 1, 7, 59, tzinfo=UTC), dt.date(2026, 1, 31)),
        (dt.datetime(2026, 2, 1, 8, 0, tzinfo=UTC), dt.date(2026, 2, 1)),
        # Summer (PDT, UTC-7): midnight is 07:00 UTC.
        (dt.datetime(2026, 7, 1, 6, 59, tzinfo=UTC), dt.date(2026, 6, 30)),
        (dt.datetime(2026, 7, 1, 7, 0, tzinfo=UTC), dt.date(2026, 7, 1)),
        # DST starts 2026-03-08 at 02:00 PST (10:00 UTC); the day still ends at 07:00 UTC the next morning.
        (dt.datetime(2026, 3, 8, 9, 59, tzinfo=UTC), dt.date(2026, 3, 8)),
        (dt.datetime(2026, 3, 9, 6, 59, tzinfo=UTC), dt.date(2026, 3, 8)),
        (dt.datetime(2026, 3, 9, 7, 0, tzinfo=UTC), dt.date(2026, 3, 9)),
        # DST ends 2026-11-01: that day has 25 hours and ends at 08:00 UTC.
        (dt.datetime(2026, 11, 2, 7, 59, tzinfo=UTC), dt.date(2026, 11, 1)),
        (dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC), dt.date(2026, 11, 2)),
        (dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=9))), dt.date(2026, 4, 30)),
    ],
)
def test_local_day(instant: dt.datetime, day: dt.date) -> None:
    assert local_day(instant) == day


def test_local_day_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="naive"):
        local_day(dt.datetime(2026, 1, 1, 12, 0))


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-1", "26-01", "2026/01", "", "abcd-ef", "1999-12"]
)
def test_bad_months_are_refused(text: str) -> None:
    with pytest.raises(MonthError):
        parse_month(text)


def test_months_and_their_days() -> None:
    assert parse_month("2026-03") == (2026, 3) and parse_month(" 2026-12 ") == (2026, 12)
    assert len(month_days(2026, 2)) == 28 and len(month_days(2028, 2)) == 29
    december = month_days(2026, 12)
    assert december[0] == dt.date(2026, 12, 1) and december[-1] == dt.date(2026, 12, 31)


def test_sections_come_from_the_event_then_the_kind_then_the_default() -> None:
    assert section_for("counter.bill_copy", "solar", CONFIG) == "solar"
    assert section_for("call.handled", None, CONFIG) == "call-center"
    assert section_for("contact.phone", None, CONFIG) == "call-center"
    assert section_for("contact.counter", None, CONFIG) == "customer-service-center"
    assert section_for("contact.email", None, CONFIG) == "customer-service-center"  # the default
    assert section_for("payment.window", None, CONFIG) == "customer-service-center"
    custom = msgspec.convert(
        {"kind_sections": {"contact": "e-team", "contact.phone": "call-center"}}, MetricsConfig
    )
    assert section_for("contact.email", None, custom) == "e-team"
    assert section_for("contact.phone", None, custom) == "call-center"
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"default_section": "Not A Slug"}, MetricsConfig)


def test_workbook_has_a_sheet_per_section_daily_rows_and_sum_formulas() -> None:
    rows = [
        Row(day=dt.date(2026, 2, 1), section="call-center", staff="ana", kind="call.handled", count=3),
        Row(day=dt.date(2026, 2, 1), section="call-center", staff="bo", kind="call.handled", count=2),
        Row(day=dt.date(2026, 2, 28), section="call-center", staff="ana", kind="contact.phone", count=1),
        Row(
            day=dt.date(2026, 2, 3),
            section="customer-service-center",
            staff="cy",
            kind="payment.window",
            count=4,
        ),
        Row(
            day=dt.date(2026, 3, 1), section="call-center", staff="ana", kind="call.handled", count=99
        ),  # not Feb
    ]
    raw = build_workbook(2026, 2, rows, generated_at=dt.datetime(2026, 3, 1, tzinfo=UTC))
    wb = load_workbook(io.BytesIO(raw))
    assert wb.sheetnames == ["call-center", "customer-service-center"]
    ws = wb["call-center"]
    assert [c.value for c in ws[1]] == ["Date", label("call.handled"), label("contact.phone"), "Total"]
    assert ws["A2"].value == dt.datetime(2026, 2, 1) and ws["A29"].value == dt.datetime(2026, 2, 28)
    assert ws["B2"].value == 5 and ws["C29"].value == 1 and ws["D2"].value == "=SUM(B2:C2)"
    assert [c.value for c in ws[30]] == ["Total", "=SUM(B2:B29)", "=SUM(C2:C29)", "=SUM(D2:D29)"]
    assert sum(ws.cell(row=r, column=2).value for r in range(2, 30)) == 5
    assert ws["A32"].value == "Staff"
    assert [c.value for c in ws[33]] == ["ana", 3, 1, "=SUM(B33:C33)"]
    assert [c.value for c in ws[34]] == ["bo", 2, 0, "=SUM(B34:C34)"]
    assert wb.calculation.fullCalcOnLoad


def test_an_empty_month_is_still_a_workbook() -> None:
    wb = load_workbook(io.BytesIO(build_workbook(2026, 4, [], generated_at=dt.datetime.now(UTC))))
    assert wb.sheetnames == ["no data"]
    ws = wb["no data"]
    assert ws["A31"].value == dt.datetime(2026, 4, 30)  # 30 daily rows under the header
    assert [c.value for c in ws[32]] == ["Total", "=SUM(B2:B31)"]
