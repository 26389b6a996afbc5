"""Pure rules of the PCI terminal inspection: checklist, Los Angeles due dates, statuses, review age, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import msgspec
import pytest

from plugins.pci_inspection.rules import (
    CHECKLIST,
    CSV_HEADER,
    LOCAL_TZ,
    TRANSITIONS,
    CsvInspection,
    DeviceStatus,
    DueState,
    ItemResult,
    ItemSubmission,
    PciConfig,
    ReviewState,
    TransitionError,
    add_months,
    check_transition,
    image_type,
    inspection_due,
    inspections_csv,
    local_day,
    outcome,
    review_state,
    usable,
    validate_checklist,
)

S = DeviceStatus


def la(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A wall-clock time in Los Angeles as an aware datetime."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=LOCAL_TZ)


def elapsed(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Real time between two instants (subtracting two times in one zone gives wall-clock time)."""
    return end.astimezone(dt.UTC) - start.astimezone(dt.UTC)


def answers(result: ItemResult = ItemResult.PASS, **changes: ItemSubmission) -> list[ItemSubmission]:
    subs = {n: ItemSubmission(n, result) for n in range(1, 15)}
    for key, sub in changes.items():
        subs[int(key.removeprefix("i"))] = sub
    return list(subs.values())


# -- the checklist -----------------------------------------------------------------------------------------
def test_the_checklist_has_the_fourteen_reference_items_in_order() -> None:
    assert [i.number for i in CHECKLIST] == list(range(1, 15))
    titles = [i.title for i in CHECKLIST]
    assert titles[1] == "Serial number" and titles[3] == "Seals and labels" and titles[5] == "Card slot"
    assert titles[7] == "PIN pad" and titles[12] == "Service visits" and titles[13] == "Record complete"
    assert all(i.guidance.endswith(".") and i.title for i in CHECKLIST)


def test_a_complete_checklist_passes_and_na_items_do_not_fail_it() -> None:
    subs = answers(i7=ItemSubmission(7, ItemResult.NA), i13=ItemSubmission(13, ItemResult.NA))
    assert validate_checklist(subs) == []
    assert outcome(subs) == "pass"


def test_one_fail_with_note_and_photo_is_valid_and_fails_the_terminal() -> None:
    subs = answers(i6=ItemSubmission(6, ItemResult.FAIL, "loose bezel", has_photo=True))
    assert validate_checklist(subs) == []
    assert outcome(subs) == "fail"


@pytest.mark.parametrize(
    ("sub", "field", "words"),
    [
        (ItemSubmission(4, ItemResult.FAIL, "", has_photo=True), "note", "item 4 (Seals and labels) failed"),
        (ItemSubmission(4, ItemResult.FAIL, "   ", has_photo=True), "note", "say what you saw"),
        (ItemSubmission(4, ItemResult.FAIL, "seal torn"), "photo", "a photo as found is required"),
    ],
)
def test_a_fail_needs_a_note_and_a_photo(sub: ItemSubmission, field: str, words: str) -> None:
    problems = validate_checklist(answers(i4=sub))
    assert [(p.item, p.position, p.field) for p in problems] == [(4, 3, field)]
    assert words in problems[0].message


def test_missing_duplicate_and_unknown_items_are_named() -> None:
    subs = [s for s in answers() if s.number != 9]
    problems = validate_checklist(subs)
    assert [(p.item, p.position, p.field) for p in problems] == [(9, None, "result")]
    assert "item 9 (Cables and ports) is missing" in problems[0].message

    problems = validate_checklist(
        [*answers(), ItemSubmission(2, ItemResult.FAIL), ItemSubmission(15, ItemResult.PASS)]
    )
    assert [(p.item, p.position, p.field) for p in problems] == [(2, 14, "item"), (15, 15, "item")]
    assert validate_checklist([])[0].message.startswith("item 1 (Location and count) is missing")
    assert len(validate_checklist([])) == 14


# -- due and overdue in Los Angeles --------------------------------------------------------------------------
def test_a_daily_inspection_covers_the_local_calendar_day_not_24_hours() -> None:
    passed = la(2026, 7, 14, 7, 30)
    assert inspection_due(la(2026, 7, 14, 23, 59), passed, 1).state is DueState.OK
    # 00:00 in Los Angeles is 07:00 UTC in summer: the UTC day is still the 15th's early morning.
    midnight = la(2026, 7, 15, 0, 0)
    assert midnight.astimezone(dt.UTC).hour == 7
    due = inspection_due(midnight, passed, 1)
    assert (due.state, due.due_on, due.last_pass_on) == (
        DueState.OVERDUE,
        dt.date(2026, 7, 15),
        dt.date(2026, 7, 14),
    )
    # A late-evening inspection does not carry over: 00:30 the next night is a new day, 1h later.
    assert inspection_due(la(2026, 7, 15, 0, 30), la(2026, 7, 14, 23, 30), 1).state is DueState.OVERDUE


def test_utc_evening_belongs_to_the_los_angeles_afternoon() -> None:
    # 2026-07-15 02:00 UTC is still the 14th in Los Angeles (19:00 PDT): that pass counts for the 14th.
    passed = dt.datetime(2026, 7, 15, 2, 0, tzinfo=dt.UTC)
    assert local_day(passed) == dt.date(2026, 7, 14)
    assert inspection_due(dt.datetime(2026, 7, 15, 6, 59, tzinfo=dt.UTC), passed, 1).state is DueState.OK
    assert inspection_due(dt.datetime(2026, 7, 15, 7, 0, tzinfo=dt.UTC), passed, 1).state is DueState.OVERDUE


def test_spring_forward_day_has_23_hours_and_still_ends_at_local_midnight() -> None:
    passed = la(2026, 3, 8, 0, 30)  # PST, before the 02:00 jump
    end_of_day = la(2026, 3, 8, 23, 59)  # PDT
    assert elapsed(passed, end_of_day) < dt.timedelta(hours=23)
    assert inspection_due(end_of_day, passed, 1).state is DueState.OK
    next_midnight = la(2026, 3, 9, 0, 0)
    assert elapsed(passed, next_midnight) == dt.timedelta(hours=22, minutes=30)  # under 24h, yet a new day
    assert inspection_due(next_midnight, passed, 1).state is DueState.OVERDUE


def test_fall_back_day_has_25_hours_and_a_pass_covers_all_of_them() -> None:
    passed = la(2026, 11, 1, 0, 10)  # PDT
    late = la(2026, 11, 1, 23, 50)  # PST
    assert elapsed(passed, late) == dt.timedelta(hours=24, minutes=40)  # over 24h, same local day
    assert inspection_due(late, passed, 1).state is DueState.OK
    assert inspection_due(la(2026, 11, 2, 0, 0), passed, 1).state is DueState.OVERDUE


def test_frequency_counts_local_days_and_due_by_hour_gives_the_shift_until_then() -> None:
    passed = la(2026, 7, 14, 9, 0)  # Tuesday
    assert inspection_due(la(2026, 7, 20, 23, 0), passed, 7).state is DueState.OK  # through Monday
    weekly = inspection_due(la(2026, 7, 21, 8, 0), passed, 7)
    assert weekly.state is DueState.OVERDUE and weekly.due_on == dt.date(2026, 7, 21)
    assert inspection_due(la(2026, 7, 21, 8, 0), passed, 7, due_by_hour=10).state is DueState.DUE
    assert inspection_due(la(2026, 7, 21, 10, 0), passed, 7, due_by_hour=10).state is DueState.OVERDUE
    assert inspection_due(la(2026, 7, 22, 8, 0), passed, 7, due_by_hour=10).state is DueState.OVERDUE


def test_never_inspected_is_due_the_day_it_is_deployed() -> None:
    assert inspection_due(la(2026, 7, 14, 6, 0), None, 1).state is DueState.OVERDUE
    due = inspection_due(la(2026, 7, 14, 6, 0), None, 1, due_by_hour=9)
    assert (due.state, due.due_on, due.last_pass_on) == (DueState.DUE, dt.date(2026, 7, 14), None)


def test_naive_times_and_nonsense_frequencies_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        local_day(dt.datetime(2026, 7, 14, 9, 0))
    with pytest.raises(ValueError, match="at least 1"):
        inspection_due(la(2026, 7, 14, 9, 0), None, 0)


# -- status transitions ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new"),
    [
        (S.IN_STOCK, S.DEPLOYED),
        (S.DEPLOYED, S.OUT_OF_SERVICE),
        (S.OUT_OF_SERVICE, S.QUARANTINED),
        (S.QUARANTINED, S.IN_REPAIR),
        (S.IN_REPAIR, S.IN_STOCK),
        (S.OUT_OF_SERVICE, S.DEPLOYED),
        (S.DEPLOYED, S.LOST),
        (S.LOST, S.IN_STOCK),
        (S.IN_REPAIR, S.DECOMMISSIONED),
    ],
)
def test_allowed_status_changes(old: DeviceStatus, new: DeviceStatus) -> None:
    check_transition(old, new)


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        (S.DECOMMISSIONED, S.DEPLOYED, r"nothing \(final\)"),
        (S.QUARANTINED, S.DEPLOYED, "quarantined can become"),
        (S.LOST, S.DEPLOYED, "lost can become"),
        (S.IN_REPAIR, S.DEPLOYED, "in_repair can become"),
        (S.DEPLOYED, S.DEPLOYED, "already deployed"),
    ],
)
def test_refused_status_changes(old: DeviceStatus, new: DeviceStatus, words: str) -> None:
    with pytest.raises(TransitionError, match=words):
        check_transition(old, new)


def test_every_status_has_rules_and_only_a_deployed_terminal_takes_cards() -> None:
    assert set(TRANSITIONS) == set(DeviceStatus)
    covered = inspection_due(la(2026, 7, 14, 12, 0), la(2026, 7, 14, 8, 0), 1)
    assert covered.state is DueState.OK
    assert [s for s in DeviceStatus if usable(s, covered, open_incident=False)] == [S.DEPLOYED]
    assert {s.value for s in DeviceStatus} == {
        "in_stock",
        "deployed",
        "out_of_service",
        "quarantined",
        "in_repair",
        "decommissioned",
        "lost",
    }


# -- risk analysis review age --------------------------------------------------------------------------------
def test_review_is_current_for_twelve_calendar_months() -> None:
    reviewed = la(2026, 3, 15, 14, 0)
    assert review_state(la(2026, 6, 1, 9, 0), reviewed).state is ReviewState.CURRENT
    soon = review_state(la(2027, 2, 20, 9, 0), reviewed)
    assert soon.state is ReviewState.DUE_SOON and soon.due_on == dt.date(2027, 3, 15)
    assert review_state(la(2027, 3, 15, 23, 59), reviewed).state is ReviewState.DUE_SOON
    late = review_state(la(2027, 3, 16, 0, 0), reviewed)
    assert late.state is ReviewState.OVERDUE and late.age_days == 366


def test_review_day_is_the_local_day_and_months_clamp_at_month_end() -> None:
    # 2026-01-31 05:00 UTC is the evening of 30 January in Los Angeles.
    reviewed = dt.datetime(2026, 1, 31, 5, 0, tzinfo=dt.UTC)
    assert review_state(la(2027, 1, 30, 12, 0), reviewed).state is ReviewState.DUE_SOON
    assert review_state(la(2027, 1, 31, 0, 1), reviewed).state is ReviewState.OVERDUE
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2026, 12, 5), 1) == dt.date(2027, 1, 5)
    shorter = review_state(la(2026, 9, 16, 9, 0), la(2026, 3, 15, 9, 0), interval_months=6, warning_days=0)
    assert shorter.state is ReviewState.OVERDUE


# -- CSV ---------------------------------------------------------------------------------------------------
def test_csv_has_one_row_per_inspection_with_every_item_and_local_time() -> None:
    row = CsvInspection(
        inspection_id=7,
        device_id=3,
        serial_number="VF-400-0001",
        make="Verifone",
        model="P400",
        site="MAIN",
        window="@SUM(A1) lane",
        inspected_at=dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC),  # the second 01:30, in PST
        inspector="sam.security",
        outcome="fail",
        results={n: ("fail" if n == 8 else "pass") for n in range(1, 15)},
        notes={8: 'overlay, "thick"'},
    )
    text = inspections_csv([row])
    assert text.startswith(",".join(CSV_HEADER) + "\r\n")
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == 1
    got = parsed[0]
    assert got["inspected_at_utc"] == "2026-11-01T09:30:00+00:00"
    assert got["inspected_at_local"] == "2026-11-01T01:30:00-08:00" and got["local_date"] == "2026-11-01"
    assert [got[f"item_{n}"] for n in (1, 8, 14)] == ["pass", "fail", "pass"]
    assert got["notes"] == '8: overlay, "thick"' and got["window"] == "'@SUM(A1) lane"
    assert inspections_csv([]) == ",".join(CSV_HEADER) + "\r\n"


# -- config and photos ---------------------------------------------------------------------------------------
def test_config_defaults_work_and_bad_values_name_the_field() -> None:
    config = msgspec.convert({}, PciConfig)
    assert config.default_frequency_days == 1 and config.review_interval_months == 12 and config.sites
    with pytest.raises(msgspec.ValidationError, match="review_interval_months"):
        msgspec.convert({"review_interval_months": 13}, PciConfig)
    with pytest.raises(msgspec.ValidationError, match="security_emails"):
        msgspec.convert({"security_emails": ["not an address"]}, PciConfig)
    with pytest.raises(msgspec.ValidationError, match="sites"):
        msgspec.convert({"sites": {"lower case": "x"}}, PciConfig)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00", "image/heic"),
        (b"GIF89a", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
        (b"<svg xmlns=", None),
        (b"%PDF-1.7", None),
        (b"", None),
    ],
)
def test_photos_are_recognised_by_their_bytes(head: bytes, expected: str | None) -> None:
    assert image_type(head) == expected


def test_a_deployed_terminal_takes_cards_only_inspected_within_its_frequency_and_with_no_open_incident() -> (
    None
):
    now = la(2026, 7, 20, 9, 0)
    never = inspection_due(now, None, 1)
    today = inspection_due(now, la(2026, 7, 20, 7, 30), 1)
    yesterday = inspection_due(now, la(2026, 7, 19, 16, 0), 1)
    weekly_six_days_ago = inspection_due(now, la(2026, 7, 14, 9, 0), 7)
    weekly_seven_days_ago = inspection_due(now, la(2026, 7, 13, 9, 0), 7)
    before_due_hour = inspection_due(now, la(2026, 7, 19, 9, 0), 1, due_by_hour=10)
    assert before_due_hour.state is DueState.DUE  # not overdue yet, but no inspection covers today
    for due, expected in [
        (never, False),
        (today, True),
        (yesterday, False),
        (weekly_six_days_ago, True),
        (weekly_seven_days_ago, False),
        (before_due_hour, False),
        (None, False),
    ]:
        assert usable(S.DEPLOYED, due, open_incident=False) is expected, due
        assert usable(S.DEPLOYED, due, open_incident=True) is False
        assert usable(S.OUT_OF_SERVICE, due, open_incident=False) is False
