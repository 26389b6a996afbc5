"""Pure rules of the outage plugin: area matching, the burst window, the ETR rule, hints and the live push."""

from __future__ import annotations

import asyncio
import datetime as dt

import msgspec
import pytest

from core.contract.streams import Message, Streams
from plugins.outage.events import EVENTS_CHANNEL
from plugins.outage.rules import (
    OutageConfig,
    OutageFacts,
    OutageStatus,
    PremiseLocation,
    area_contains,
    area_of_key,
    burst_key,
    caller_script,
    etr_overdue,
    hint_text,
    in_window,
    is_burst,
    make_area,
    matching,
)

T0 = dt.datetime(2026, 12, 5, 18, 0, tzinfo=dt.UTC)
HERE = PremiseLocation("1234567890", "90026", "MET")


@pytest.mark.parametrize(
    ("area", "inside"),
    [
        (make_area(service_areas=["met"]), True),  # area codes are matched case-blind
        (make_area(zips=["90026-1234"]), True),  # ZIP+4 matches on its ZIP
        (make_area(premise_ids=["1234567890"]), True),
        (make_area(service_areas=["VAL"], zips=["90012"]), False),
        (make_area(premise_ids=["1234567891"]), False),
    ],
)
def test_a_premise_is_in_an_area_when_any_part_names_it(area: object, inside: bool) -> None:
    assert area_contains(area, HERE) is inside  # type: ignore[arg-type]


def test_an_area_of_blanks_is_empty_and_describes_itself() -> None:
    assert make_area([" "], [""], []).empty
    area = make_area(["MET"], ["90012"], ["1", "2"])
    assert not area.empty
    assert area.describe() == "service area MET and ZIP 90012 and 2 premises"


def test_a_premise_without_area_code_or_zip_matches_only_by_id() -> None:
    nowhere = PremiseLocation("1234567890", None, None)
    assert not area_contains(make_area(["MET"], ["90026"]), nowhere)
    assert area_contains(make_area(premise_ids=["1234567890"]), nowhere)
    assert burst_key(nowhere) is None


def test_burst_keys_prefer_the_service_area_and_round_trip() -> None:
    assert burst_key(HERE) == "sa:MET"
    assert burst_key(PremiseLocation("1", "90012-0001", None)) == "zip:90012"
    assert area_of_key("sa:MET").service_areas == {"MET"}
    assert area_of_key("zip:90012").zips == {"90012"}


def test_the_window_slides_and_excludes_its_start() -> None:
    window = dt.timedelta(minutes=15)
    times = [T0 - dt.timedelta(minutes=m) for m in (20, 15, 14, 1, 0)]
    assert in_window(times, T0, window) == sorted(times[2:])
    later = T0 + dt.timedelta(minutes=13)
    assert in_window(times, later, window) == [times[3], times[4]]


def test_a_burst_needs_the_threshold_within_the_window_and_no_open_suggestion() -> None:
    window = dt.timedelta(minutes=15)
    times = [T0 - dt.timedelta(minutes=m) for m in (12, 9, 6, 3)]
    assert not is_burst(times, T0, window=window, threshold=5, open_suggestion=False)
    times.append(T0)
    assert is_burst(times, T0, window=window, threshold=5, open_suggestion=False)
    assert not is_burst(times, T0, window=window, threshold=5, open_suggestion=True)
    # The same five tickets spread over 20 minutes are no burst.
    spread = [T0 - dt.timedelta(minutes=m) for m in (20, 16, 8, 4, 0)]
    assert not is_burst(spread, T0, window=window, threshold=5, open_suggestion=False)


def test_the_etr_rule_counts_from_when_the_estimate_went_missing() -> None:
    limit = dt.timedelta(minutes=30)
    since = T0 - dt.timedelta(minutes=31)
    assert etr_overdue(OutageStatus.ACTIVE, None, since, T0, limit)
    assert not etr_overdue(OutageStatus.ACTIVE, None, T0 - dt.timedelta(minutes=30), T0, limit)
    assert not etr_overdue(OutageStatus.ACTIVE, T0, None, T0, limit)
    assert not etr_overdue(OutageStatus.RESTORED, None, since, T0, limit)


def test_hint_and_script_name_cause_and_local_restoration() -> None:
    etr = dt.datetime(2026, 12, 6, 2, 30, tzinfo=dt.UTC)  # 6:30 PM the day before in Los Angeles
    facts = OutageFacts(1, "electric", "transformer fire", make_area(["MET"]), etr)
    assert (
        hint_text(facts)
        == "Known electric outage: transformer fire, estimated restoration Sat Dec 5, 6:30 PM PST"
    )
    assert "no need to report it again" in caller_script(facts)
    unknown = OutageFacts(2, "water", "main break", make_area(zips=["90026"]), None)
    assert "not yet known" in hint_text(unknown)
    assert matching([facts, unknown], HERE) == [facts, unknown]


def test_config_defaults_work_and_unknown_fields_are_refused() -> None:
    assert msgspec.convert({}, OutageConfig).burst_threshold == 5
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"burst_treshold": 3}, OutageConfig)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"burst_threshold": 1}, OutageConfig)


async def test_a_slow_subscriber_loses_its_oldest_messages_and_blocks_nobody() -> None:
    async def opening() -> list[Message]:
        return [Message(event="snapshot", data="[]")]

    async with Streams(backlog=2) as streams:
        slow = streams.sse(EVENTS_CHANNEL, first=opening, keepalive_s=60)
        fast = streams.sse(EVENTS_CHANNEL, first=opening, keepalive_s=60)
        # The opening message comes once the stream is subscribed.
        assert (await anext(slow)).event == (await anext(fast)).event == "snapshot"
        assert streams.subscribers(EVENTS_CHANNEL) == 2
        received: list[str] = []
        for i in range(3):
            streams.publish(EVENTS_CHANNEL, "declared", str(i))
            received.append((await asyncio.wait_for(anext(fast), 1)).data)
        assert received == ["0", "1", "2"]
        assert [(await asyncio.wait_for(anext(slow), 1)).data for _ in range(2)] == ["1", "2"]
        await slow.aclose()
        await fast.aclose()
        assert streams.subscribers(EVENTS_CHANNEL) == 0
