"""Where a break schedule's interval forecast comes from: pure functions of their inputs, no I/O.

Three sources (:class:`ForecastSource`): calls per hour given by hand, the phone simulator's cyclic daily
arrival profile (docs/telephony.md §2.6), or the calls the hub recorded on the same weekday over the last
weeks,
counted in local wall-clock intervals (DST days weighed by the real time each interval lasted). The recorded
calls, with their handle times, come from the telephony part (``PhoneDesk.recorded_calls``).
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec

from core.contract.phone import QueueTraffic as SimulatorQueue
from core.contract.phone import RecordedCall

# Schedules are planned in the utility's local day; instants are stored in UTC.
LOCAL_TZ = ZoneInfo("America/Los_Angeles")
INTERVAL = 15  # minutes: staffing is computed per 15-minute interval (issue 8 §1)
DAY = 24 * 60


class ForecastSource(enum.StrEnum):
    """Where a schedule's interval forecast comes from."""

    EXPLICIT = "explicit"  # calls per hour per interval, given by the lead
    SIMULATOR = "simulator"  # the phone simulator's daily arrival profile (docs/telephony.md §2.6)
    HISTORY = "history"  # calls recorded on the same weekday over the last weeks


# An illustrative centre open 07:00-19:00 with a mid-morning and an early-afternoon peak: calls per hour
# for each half hour from local midnight. A site replaces it with its own (``[plugins.breaks.simulator]``).
DEFAULT_DAILY_PROFILE: tuple[float, ...] = (
    *([0.0] * 14),  # 00:00-07:00 closed
    *(20.0, 40.0, 90.0, 120.0, 140.0, 150.0, 150.0, 140.0, 130.0, 120.0, 110.0, 110.0),  # 07:00-13:00
    *(125.0, 135.0, 130.0, 120.0, 110.0, 100.0, 90.0, 80.0, 60.0, 40.0, 25.0, 15.0),  # 13:00-19:00
    *([0.0] * 10),  # 19:00-24:00 closed
)


class SimulatorProfileConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The queue the phone simulator drives, as the traffic model takes it (``QueueTraffic``).

    ``rate_profile`` is calls per hour for consecutive intervals of ``profile_interval_seconds`` from local
    midnight, repeated cyclically: the non-homogeneous Poisson arrivals of docs/telephony.md §2.6. The
    simulator's own validation applies (at least one positive rate, no negative one), so a profile the
    simulator would refuse makes the plugin ``config_invalid`` rather than a schedule wrong.
    """

    queue: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "Billing"
    rate_profile: Annotated[
        list[Annotated[float, msgspec.Meta(ge=0, le=100000)]], msgspec.Meta(min_length=1, max_length=1440)
    ] = msgspec.field(default_factory=lambda: list(DEFAULT_DAILY_PROFILE))
    profile_interval_seconds: Annotated[float, msgspec.Meta(ge=60, le=86400)] = 1800.0
    aht_seconds: Annotated[float, msgspec.Meta(gt=0, le=7200)] = 300.0

    def __post_init__(self) -> None:
        simulator_queue(self)  # raises ValueError with the simulator's message


def simulator_queue(profile: SimulatorProfileConfig) -> SimulatorQueue:
    """The phone simulator's queue for the profile: built by the simulator's own config, so it validates."""
    return SimulatorQueue(
        name=profile.queue,
        rate_profile=tuple(profile.rate_profile),
        profile_interval_seconds=profile.profile_interval_seconds,
        aht_seconds=profile.aht_seconds,
    )


def profile_forecast(queue: SimulatorQueue, start: int, intervals: int) -> tuple[float, ...]:
    """Mean calls per hour in each 15-minute interval from ``start`` (minutes since local midnight).

    The simulator's arrivals are a Poisson process whose rate is ``rate_profile`` piecewise constant over
    intervals of ``profile_interval_seconds`` from its time zero, repeated cyclically (docs/telephony.md §2.6;
    ``arrival_times`` in simulators/phone/streams.py). The expected number of calls in an interval is the
    integral of that rate over it, so the forecast is that integral divided by the interval's length — the
    profile's own rate when its intervals line up with ours, a time-weighted mean when they do not. Time
    zero is local midnight and the minutes are wall-clock minutes: the profile describes a day by the clock.
    """
    if not queue.rate_profile:
        return tuple(queue.calls_per_hour for _ in range(intervals))
    width = queue.profile_interval_seconds
    rates, slots = queue.rate_profile, len(queue.rate_profile)
    out: list[float] = []
    for i in range(intervals):
        a = (start + i * INTERVAL) * 60.0
        b = a + INTERVAL * 60.0
        k = math.floor(a / width)
        t, total = a, 0.0
        while t < b:
            edge = min((k + 1) * width, b)
            total += rates[k % slots] * (edge - t)
            t, k = edge, k + 1
        out.append(round(total / (INTERVAL * 60.0), 4))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class HistoryForecast:
    """A forecast from recorded calls: the rates, and what they rest on (for the lead to judge them)."""

    calls_per_hour: tuple[float, ...]
    days_used: tuple[dt.date, ...]  # history days with at least one call
    days_empty: tuple[dt.date, ...]  # history days without any call: not recorded, or closed; left out
    calls: int  # calls on the days used (the whole day, not only the window)
    handled: int  # of which an agent handled
    aht_seconds: float | None  # their mean handle time, when enough calls back it


def history_days(day: dt.date, weeks: int) -> list[dt.date]:
    """The same weekday in each of the ``weeks`` weeks before ``day``, newest first."""
    return [day - dt.timedelta(weeks=k) for k in range(1, weeks + 1)]


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants of local midnight at the start and at the end of ``day`` (23 or 25 h on DST days)."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL_TZ)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=LOCAL_TZ)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def wall_interval(when: dt.datetime) -> int:
    """The local wall-clock 15-minute interval (0-95) an instant falls in."""
    local = when.astimezone(LOCAL_TZ)
    return (local.hour * 60 + local.minute) // INTERVAL


def interval_exposure(day: dt.date) -> list[float]:
    """Seconds of real time ``day`` spends in each local wall-clock interval.

    900 on an ordinary day; on the spring-forward day the skipped hour's intervals get 0, on the fall-back
    day the repeated hour's get 1800. Rates divide counts by this, so a DST day in the history neither
    doubles the 01:00 hour nor invents calls for 02:00.
    """
    exposure = [0.0] * (DAY // INTERVAL)
    start, end = local_day_bounds(day)
    step = dt.timedelta(minutes=INTERVAL)
    t = start
    while t < end:
        exposure[wall_interval(t)] += INTERVAL * 60.0
        t += step
    return exposure


def history_forecast(
    day: dt.date,
    weeks: int,
    calls: Iterable[RecordedCall],
    start: int,
    intervals: int,
    min_handled: int,
) -> HistoryForecast:
    """Calls per hour per interval from the calls recorded on the same weekday over the last ``weeks`` weeks.

    Each call counts in the wall-clock interval it arrived in (America/Los_Angeles). A history day without
    any call is left out rather than averaged in as zero: the hub was not recording yet, or the centre was
    closed (a holiday), and neither says anything about an ordinary day. The rate of an interval is the
    calls in it over the real time it lasted across the days used (:func:`interval_exposure`), times an
    hour — on ordinary days simply the mean count times four. Calls outside the history days are ignored,
    so the caller may pass a superset. The mean handle time of the handled calls is Erlang C's h
    (docs/telephony.md §2.4: talk + hold + wrap-up) when at least ``min_handled`` calls back it.
    """
    wanted = set(history_days(day, weeks))
    counts: dict[dt.date, list[int]] = {}
    handle: list[float] = []
    for call in calls:
        local_day = call.arrived_at.astimezone(LOCAL_TZ).date()
        if local_day not in wanted:
            continue
        counts.setdefault(local_day, [0] * (DAY // INTERVAL))[wall_interval(call.arrived_at)] += 1
        if call.handle_seconds is not None:
            handle.append(call.handle_seconds)
    used = sorted(counts, reverse=True)
    seen = [0.0] * (DAY // INTERVAL)
    total = [0] * (DAY // INTERVAL)
    for d in used:
        for i, (n, exposed) in enumerate(zip(counts[d], interval_exposure(d), strict=True)):
            total[i] += n
            seen[i] += exposed
    first = start // INTERVAL
    rates = tuple(
        round(total[i] * 3600.0 / seen[i], 4) if i < len(seen) and seen[i] > 0 else 0.0
        for i in range(first, first + intervals)
    )
    return HistoryForecast(
        calls_per_hour=rates,
        days_used=tuple(used),
        days_empty=tuple(sorted(wanted - set(used), reverse=True)),
        calls=sum(sum(c) for c in counts.values()),
        handled=len(handle),
        aht_seconds=round(sum(handle) / len(handle), 1) if handle and len(handle) >= min_handled else None,
    )
