"""The breaks plugin over HTTP: generate a day from shifts and a forecast, edit by hand (violations), publish
refused then accepted, start a break (telephony NOT_READY with the reason code), the overdue check, 422s;
forecasts from the phone simulator's profile and from calls recorded through the telephony service.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

import plugins.breaks as breaks
from core.contract.phone import required_agents
from core.plugins import PluginStatus
from core.telephony.plugin import telephony_service
from core.telephony.service import SYSTEM, Actor
from plugins.breaks.checks import make_overdue_check
from plugins.breaks.pages import shortfall_runs
from plugins.breaks.rules_forecast import LOCAL_TZ

API = "/api/breaks"
PHONE = "/api/phone"
SECTION = "call-center"


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [breaks]


@pytest.fixture
def hub_config() -> dict[str, Any]:
    # Timers run only when a test moves the clock and ticks; a dozen handled calls measure a handle time.
    return {
        "plugins": {
            "telephony": {"tick_seconds": 0},
            "breaks": {"history_min_handled_calls": 10},
        }
    }


@pytest.fixture
async def lead(staff_token: Any, enable_plugin: Any) -> dict[str, str]:
    await enable_plugin("breaks", SECTION)
    return {"Authorization": f"Bearer {await staff_token('lead', SECTION)}"}


def today(hub_clock: Any) -> dt.date:
    return hub_clock.now().astimezone(dt.timezone(dt.timedelta(hours=-8))).date()


def body(day: dt.date, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "day": day.isoformat(),
        "shifts": [
            {"agent_id": "ana", "start": "08:00", "end": "16:30", "regular_rate": 30.0},
            {"agent_id": "ben", "start": "08:00", "end": "16:30"},
            {"agent_id": "cy", "start": "08:30", "end": "17:00"},
            {"agent_id": "di", "start": "08:30", "end": "17:00"},
        ],
        "forecast": {"start": "08:00", "calls_per_hour": [10.0] * 36, "aht_seconds": 240},
    }
    data.update(extra)
    return data


async def test_generate_edit_publish(hub_client: Any, lead: dict[str, str], hub_clock: Any) -> None:
    r = await hub_client.post(f"{API}/schedules", json=body(today(hub_clock)), headers=lead)
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["status"] == "draft" and s["violations"] == [] and s["shortfalls"] == []
    assert len(s["intervals"]) == 36 and all(i["available"] >= i["required"] for i in s["intervals"])
    assert {b["kind"] for b in s["breaks"]} == {"rest", "meal"} and len(s["breaks"]) == 12
    # By hand: drop ana's meal → V4 and a meal premium; publishing is refused with the violations.
    edited = [
        {k: b[k] for k in ("agent_id", "kind", "start", "minutes")}
        for b in s["breaks"]
        if not (b["agent_id"] == "ana" and b["kind"] == "meal")
    ]
    r = await hub_client.put(
        f"{API}/schedules/{s['id']}/breaks", json={"breaks": edited, "revision": 1}, headers=lead
    )
    assert r.status_code == 200, r.text
    bad = r.json()
    assert bad["status"] == "draft" and bad["premium_hours"] == 1
    assert {(v["agent_id"], v["rule"]) for v in bad["violations"]} >= {("ana", "V4"), ("ana", "V8")}
    r = await hub_client.post(f"{API}/schedules/{s['id']}/publish", headers=lead)
    assert r.status_code == 409 and r.json()["extra"][0]["key"] == "violations"
    assert r.json()["extra"][0]["violations"][0]["rule"] == "V4"
    stale = await hub_client.put(
        f"{API}/schedules/{s['id']}/breaks", json={"breaks": edited, "revision": 1}, headers=lead
    )
    assert stale.status_code == 409
    # Put the meal back: publish goes through.
    fixed = [*edited, {"agent_id": "ana", "kind": "meal", "start": "12:00", "minutes": 30}]
    r = await hub_client.put(f"{API}/schedules/{s['id']}/breaks", json={"breaks": fixed}, headers=lead)
    assert r.status_code == 200 and r.json()["violations"] == []
    r = await hub_client.post(f"{API}/schedules/{s['id']}/publish", headers=lead)
    assert r.status_code == 200 and r.json()["status"] == "published"
    r = await hub_client.post(
        f"{API}/validate",
        json={
            "shifts": body(today(hub_clock))["shifts"][:1],
            "breaks": [{"agent_id": "ana", "kind": "rest", "start": "10:00", "minutes": 8}],
        },
        headers=lead,
    )
    assert r.status_code == 200
    out = r.json()
    assert not out["valid"] and {"V1", "V2", "V4", "V8"} <= {v["rule"] for v in out["violations"]}
    assert out["shifts"][0]["premium_amount"] == 60.0


async def test_understaffed_intervals_are_reported(
    hub_client: Any, lead: dict[str, str], hub_clock: Any
) -> None:
    data = body(today(hub_clock))
    data["forecast"]["calls_per_hour"] = [10.0] * 12 + [200.0] * 4 + [10.0] * 20
    r = await hub_client.post(f"{API}/schedules", json=data, headers=lead)
    assert r.status_code == 201
    short = r.json()["shortfalls"]
    assert [f["start"] for f in short] == ["11:00", "11:15", "11:30", "11:45"]
    assert all(f["cause"] == "understaffed" for f in short)
    # The page reads them as one run, with the worst shortage of the four.
    worst = max(f["required"] - f["available"] for f in short)
    assert shortfall_runs(short) == [
        {"from": "11:00", "until": "12:00", "cause": "understaffed", "worst": worst, "intervals": 4}
    ]
    assert r.json()["violations"] == []  # peaks never push a break out of its legal window


async def test_start_break_sets_not_ready_with_reason_code_and_overdue_check(
    hub: Any, hub_client: Any, lead: dict[str, str], staff_token: Any, hub_clock: Any, drain: Any
) -> None:
    ana = {"Authorization": f"Bearer {await staff_token('csr', SECTION, name='ana')}"}
    day = today(hub_clock)
    only_ana = body(day)
    only_ana["shifts"] = only_ana["shifts"][:1]
    r = await hub_client.post(f"{API}/schedules", json=only_ana, headers=lead)
    sid = r.json()["id"]
    first = next(b for b in r.json()["breaks"] if b["agent_id"] == "ana" and b["kind"] == "rest")
    # A draft's break does not start.
    assert (await hub_client.post(f"{API}/breaks/{first['id']}/start", headers=ana)).status_code == 409
    assert (await hub_client.post(f"{API}/schedules/{sid}/publish", headers=lead)).status_code == 200
    # Sign ana in through the telephony API, READY.
    r = await hub_client.post(f"{PHONE}/agents/ana/sign-in", headers=ana, json={"extension": "1003"})
    assert r.status_code == 202
    r = await hub_client.put(f"{PHONE}/agents/ana/state", headers=ana, json={"state": "READY"})
    assert r.status_code == 202
    await drain()
    # The overdue check: the clock at the planned start + 11 min fails, and names ana.
    check = make_overdue_check(hub.plugins.records["breaks"].ctx)
    ctx = type("C", (), {"db": hub.db, "clock": hub_clock})()
    hub_clock.set(dt.datetime.fromisoformat(first["start_at"]) + dt.timedelta(minutes=5))
    assert (await check(ctx)).passed
    hub_clock.advance(dt.timedelta(minutes=6))
    result = await check(ctx)
    assert not result.passed and "ana (rest)" in result.message
    # Ben may not start ana's break; ana may.
    ben = {"Authorization": f"Bearer {await staff_token('csr', SECTION, name='ben')}"}
    assert (await hub_client.post(f"{API}/breaks/{first['id']}/start", headers=ben)).status_code == 403
    r = await hub_client.post(f"{API}/breaks/{first['id']}/start", headers=ana)
    assert r.status_code == 200, r.text
    assert r.json()["reason_code_id"] == 1 and r.json()["late_minutes"] == 11
    await drain()
    phone = telephony_service(hub)
    assert phone is not None
    r = await hub_client.get(f"{PHONE}/agents/ana", headers=ana)
    agent = r.json()
    assert agent["state"] == "NOT_READY" and agent["reasonCodeId"] == 1
    assert (await check(ctx)).passed
    again = await hub_client.post(f"{API}/breaks/{first['id']}/start", headers=ana)
    assert again.status_code == 409
    r = await hub_client.post(f"{API}/breaks/{first['id']}/end", headers=lead)
    assert r.status_code == 200 and r.json()["telephony_state"] == "READY"


async def test_without_the_telephony_part_no_break_moves_and_no_history_is_read(
    hub: Any, hub_client: Any, lead: dict[str, str], staff_token: Any, hub_clock: Any
) -> None:
    ana = {"Authorization": f"Bearer {await staff_token('csr', SECTION, name='ana')}"}
    only_ana = body(today(hub_clock))
    only_ana["shifts"] = only_ana["shifts"][:1]
    r = await hub_client.post(f"{API}/schedules", json=only_ana, headers=lead)
    sid, first = r.json()["id"], r.json()["breaks"][0]
    assert (await hub_client.post(f"{API}/schedules/{sid}/publish", headers=lead)).status_code == 200
    telephony = hub.plugins.records["telephony"]
    telephony.mark(PluginStatus.FAILED, "stopped for the test")
    try:
        # The break is checked first (an unknown one stays a 404), then the phone desk is asked for: 503.
        assert (await hub_client.post(f"{API}/breaks/999999/start", headers=ana)).status_code == 404
        r = await hub_client.post(f"{API}/breaks/{first['id']}/start", headers=ana)
        assert r.status_code == 503, r.text
        assert r.json()["extra"][0]["key"] == "telephony"
        history = body(MONDAY, forecast={"source": "history", "weeks": 3})
        r = await hub_client.post(f"{API}/schedules", json=history, headers=lead)
        assert r.status_code == 503 and r.json()["extra"][0]["key"] == "telephony"
    finally:
        telephony.mark(PluginStatus.ACTIVE)
    schedule = (await hub_client.get(f"{API}/schedules/{sid}", headers=lead)).json()
    assert next(b for b in schedule["breaks"] if b["id"] == first["id"])["status"] == "planned"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.pop("day"), "day"),
        (lambda b: b.update(day="2026-13-01"), "day"),
        (lambda b: b["shifts"][1].update(end="07:00"), "shifts[1].end"),
        (lambda b: b["shifts"][0].update(start="8am"), "shifts[0].start"),
        (lambda b: b["shifts"][2].update(agent_id="ana"), "shifts[2].agent_id"),
        (lambda b: b["shifts"][0].update(bargaining_unit="NOPE"), "shifts[0].bargaining_unit"),
        (lambda b: b["forecast"].update(calls_per_hour=[-1.0]), "forecast.calls_per_hour[0]"),
        (lambda b: b["forecast"].pop("calls_per_hour"), "forecast.calls_per_hour"),
        (lambda b: b.update(shifts=[]), "shifts"),
        (lambda b: b.update(extra=1), "extra"),
    ],
)
async def test_malformed_schedules_are_422_naming_the_field(
    hub_client: Any, lead: dict[str, str], hub_clock: Any, mutate: Any, field: str
) -> None:
    data = body(today(hub_clock))
    mutate(data)
    r = await hub_client.post(f"{API}/schedules", json=data, headers=lead)
    assert r.status_code == 422, r.text
    assert r.json()["extra"][0]["key"] == field


async def test_bad_hand_edit_is_422(hub_client: Any, lead: dict[str, str], hub_clock: Any) -> None:
    r = await hub_client.post(f"{API}/schedules", json=body(today(hub_clock)), headers=lead)
    sid = r.json()["id"]
    for breaks_, field in [
        ([{"agent_id": "zed", "kind": "rest", "start": "10:00", "minutes": 10}], "breaks[0].agent_id"),
        ([{"agent_id": "ana", "kind": "nap", "start": "10:00", "minutes": 10}], "breaks[0].kind"),
        (
            [{"agent_id": "ana", "kind": "rest", "start": "10:00", "minutes": 10, "on_duty": True}],
            "breaks[0].on_duty",
        ),
    ]:
        r = await hub_client.put(f"{API}/schedules/{sid}/breaks", json={"breaks": breaks_}, headers=lead)
        assert r.status_code == 422 and r.json()["extra"][0]["key"] == field, r.text


async def sign_in_page(hub_client: Any, staff_token: Any, role: str, name: str) -> str:
    """Sign in to the web UI; returns a CSRF token for the forms."""
    await staff_token(role, SECTION, name=name, password="pw-for-the-grid-1")
    page = await hub_client.get("/ui/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token
    form = {"name": name, "password": "pw-for-the-grid-1", "next": "/ui/", "_csrf_token": token.group(1)}
    await hub_client.post("/ui/login", data=form)
    grid = await hub_client.get("/ui/breaks/")
    found = re.search(r'name="_csrf_token" value="([^"]+)"', grid.text)
    assert found
    return found.group(1)


async def test_grid_page(hub_client: Any, lead: dict[str, str], hub_clock: Any, staff_token: Any) -> None:
    await hub_client.post(f"{API}/schedules", json=body(today(hub_clock)), headers=lead)
    await sign_in_page(hub_client, staff_token, "lead", "lou")
    r = await hub_client.get(f"/ui/breaks/?day={today(hub_clock).isoformat()}")
    assert r.status_code == 200 and 'id="grid"' in r.text and "ana" in r.text
    assert "ana 08:00-16:30" in r.text  # the generate form starts from the day's shifts
    bad = await hub_client.get("/ui/breaks/?day=tomorrow")
    assert bad.status_code == 422 and "day: expected YYYY-MM-DD" in bad.text


async def test_the_lead_generates_moves_and_publishes_from_the_page(
    hub_client: Any, lead: dict[str, str], staff_token: Any
) -> None:
    csrf = await sign_in_page(hub_client, staff_token, "lead", "lou")
    form = {
        "_csrf_token": csrf,
        "day": MONDAY.isoformat(),
        "shifts": "ana 08:00-16:30\nben 08:00-16:30\n\ncy 08:30 17:00",
        "source": "explicit",
        "start": "08:00",
        "calls_per_hour": ", ".join(["10"] * 36),
    }
    # Bad input comes back with the form filled in and the field named, 422.
    for change, field in [
        ({"shifts": "ana 08:00-16:30\nben 8am-4pm"}, "shifts[1].start"),
        ({"shifts": "ana"}, "shifts[0]"),
        ({"shifts": ""}, "shifts"),
        ({"calls_per_hour": "10, lots"}, "forecast.calls_per_hour[1]"),
        ({"source": "crystal-ball"}, "forecast.source"),
        ({"source": "history", "calls_per_hour": ""}, "forecast.source"),  # nothing recorded: 409
        ({"day": "someday"}, "day"),
    ]:
        r = await hub_client.post("/ui/breaks/schedules", data={**form, **change})
        assert r.status_code in (409, 422) and f"{field}: " in r.text, (field, r.status_code, r.text[-800:])
        assert 'name="shifts"' in r.text
    r = await hub_client.post("/ui/breaks/schedules", data=form)
    assert r.status_code == 303, r.text
    where = r.headers["location"]
    assert where.startswith(f"/ui/breaks/?day={MONDAY.isoformat()}&schedule=")
    page = await hub_client.get(where)
    assert 'id="status">draft<' in page.text and 'id="publish"' in page.text
    sid = int(where.rsplit("=", 1)[1])
    listed = (await hub_client.get(f"{API}/schedules/{sid}", headers=lead)).json()
    meal = next(b for b in listed["breaks"] if b["agent_id"] == "ana" and b["kind"] == "meal")
    # Push ana's meal past the end of her 5th hour: V4, and publishing is refused naming the violations.
    r = await hub_client.post(
        f"/ui/breaks/schedules/{sid}/breaks/{meal['id']}",
        data={"_csrf_token": csrf, "start": "13:30", "revision": str(listed["revision"])},
    )
    assert r.status_code == 303
    page = await hub_client.get(r.headers["location"])
    assert 'data-rule="V4"' in page.text
    r = await hub_client.post(f"/ui/breaks/schedules/{sid}/publish", data={"_csrf_token": csrf})
    assert r.status_code == 409 and "violations: " in r.text
    stale = await hub_client.post(
        f"/ui/breaks/schedules/{sid}/breaks/{meal['id']}",
        data={"_csrf_token": csrf, "start": "12:00", "revision": str(listed["revision"])},
    )
    assert stale.status_code == 409 and "revision: " in stale.text
    bad = await hub_client.post(
        f"/ui/breaks/schedules/{sid}/breaks/{meal['id']}", data={"_csrf_token": csrf, "start": "noon"}
    )
    assert bad.status_code == 422 and "start: expected HH:MM" in bad.text
    r = await hub_client.post(
        f"/ui/breaks/schedules/{sid}/breaks/{meal['id']}", data={"_csrf_token": csrf, "start": "12:00"}
    )
    assert r.status_code == 303
    r = await hub_client.post(f"/ui/breaks/schedules/{sid}/publish", data={"_csrf_token": csrf})
    assert r.status_code == 303
    page = await hub_client.get(r.headers["location"])
    assert 'id="status">published<' in page.text and 'id="publish"' not in page.text
    forged = await hub_client.post(f"/ui/breaks/schedules/{sid}/publish", data={})
    assert forged.status_code == 403


async def test_a_csr_sees_the_grid_but_not_the_forms(
    hub_client: Any, lead: dict[str, str], staff_token: Any
) -> None:
    await hub_client.post(f"{API}/schedules", json=body(MONDAY), headers=lead)
    await sign_in_page(hub_client, staff_token, "csr", "cara")
    page = await hub_client.get(f"/ui/breaks/?day={MONDAY.isoformat()}")
    assert page.status_code == 200 and 'id="grid"' in page.text
    assert 'id="generate"' not in page.text and 'class="move"' not in page.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token
    r = await hub_client.post("/ui/breaks/schedules", data={"_csrf_token": token.group(1)})
    assert r.status_code == 403


# -- forecast sources ----------------------------------------------------------------------------------------
MONDAY = dt.date(2026, 2, 23)
CALLER = "2135550142"  # fictional 555-01xx numbers only


def local(day: dt.date, hhmm: str) -> dt.datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=LOCAL_TZ)


async def take_call(hub: Any, hub_clock: Any, when: dt.datetime, queue: str = "Billing") -> None:
    """A call arrives at ``when`` and ana handles it: answered at once, 200 s of talk, 40 s of wrap-up."""
    phone = telephony_service(hub)
    assert phone is not None
    ana = Actor("ana", "csr")
    hub_clock.set(when)
    dialog_id = await phone.inbound_call(SYSTEM, CALLER, queue)
    await phone.dialog_action(ana, dialog_id, "ANSWER")
    hub_clock.advance(dt.timedelta(seconds=200))
    await phone.dialog_action(ana, dialog_id, "DROP")
    hub_clock.advance(dt.timedelta(seconds=40))
    await phone.set_state(ana, "ana", "READY")  # leaves wrap-up: the call's record ends here


async def test_a_schedule_from_the_same_weekdays_recorded_calls(
    hub: Any, hub_client: Any, lead: dict[str, str], staff_token: Any, hub_clock: Any
) -> None:
    phone = telephony_service(hub)
    assert phone is not None
    await staff_token("csr", SECTION, name="ana")
    first, second, third = (MONDAY - dt.timedelta(weeks=k) for k in (1, 2, 3))
    hub_clock.set(local(third, "07:50"))
    await phone.sign_in(Actor("ana", "csr"), "ana", "1003")
    await phone.set_state(Actor("ana", "csr"), "ana", "READY")
    # 08:00-08:15: 3, 4 and 2 calls on the three Mondays (mean 3 → 12 per hour); 08:15-08:30: one each (4/h).
    for day, n in ((third, 3), (second, 4), (first, 2)):
        for k in range(n):
            await take_call(hub, hub_clock, local(day, f"08:{k * 4:02d}"))
        await take_call(hub, hub_clock, local(day, "08:20"))
    await take_call(hub, hub_clock, local(first + dt.timedelta(days=1), "08:00"))  # a Tuesday: not counted
    hub_clock.set(local(MONDAY, "06:00"))

    data = body(MONDAY, forecast={"source": "history", "weeks": 3})
    r = await hub_client.post(f"{API}/schedules", json=data, headers=lead)
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["forecast"] == {
        "source": "history",
        "aht_seconds": 240.0,
        "aht_from": "history",
        "weeks": 3,
        "days_used": [first.isoformat(), second.isoformat(), third.isoformat()],
        "calls": 12,
        "handled": 12,
    }
    # The window is the shifts' span, 08:00-17:00; the recorded calls fill its first half hour.
    intervals = s["intervals"]
    assert (intervals[0]["start"], intervals[-1]["start"], len(intervals)) == ("08:00", "16:45", 36)
    assert [i["calls_per_hour"] for i in intervals[:3]] == [12.0, 4.0, 0.0]
    assert intervals[0]["required"] == required_agents(12.0, 240.0, 0.8, 20.0)
    assert intervals[2]["required"] == 0 and s["violations"] == []

    # The same weeks into another queue recorded nothing: a clear refusal, naming what to give instead.
    data["forecast"]["queue"] = "Payments"
    r = await hub_client.post(f"{API}/schedules", json=data, headers=lead)
    assert r.status_code == 409, r.text
    assert r.json()["extra"][0]["key"] == "forecast.source"
    assert "no calls into queue Payments recorded on the last 3 Mondays" in r.json()["detail"]
    # With a handle time in the request, the request's wins over the measured one.
    r = await hub_client.post(
        f"{API}/schedules",
        json=body(MONDAY, forecast={"source": "history", "weeks": 3, "aht_seconds": 180, "end": "09:00"}),
        headers=lead,
    )
    assert r.status_code == 201, r.text
    assert r.json()["forecast"]["aht_from"] == "request" and len(r.json()["intervals"]) == 4


async def test_a_schedule_from_the_simulators_profile(
    hub_client: Any, lead: dict[str, str], hub_clock: Any
) -> None:
    r = await hub_client.post(
        f"{API}/schedules", json=body(MONDAY, forecast={"source": "simulator"}), headers=lead
    )
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["forecast"] == {
        "source": "simulator",
        "aht_seconds": 300.0,
        "aht_from": "simulator",
        "queue": "Billing",
    }
    # The default profile: 90/h from 08:00, 120/h from 08:30, 150/h at 10:00 (half-hour slots).
    rates = [i["calls_per_hour"] for i in s["intervals"]]
    assert rates[:4] == [90.0, 90.0, 120.0, 120.0] and rates[8] == 150.0
    # Four CSRs cannot carry it: every interval is short, and said to be short for want of people.
    assert s["shortfalls"] and {f["cause"] for f in s["shortfalls"]} == {"understaffed"}
    assert s["violations"] == []  # breaks stay in their legal windows regardless


@pytest.mark.parametrize(
    ("forecast", "status", "field"),
    [
        ({"source": "tea-leaves"}, 422, "forecast.source"),
        ({"source": "history", "weeks": 0}, 422, "forecast.weeks"),
        ({"source": "history", "weeks": 27}, 422, "forecast.weeks"),
        ({"source": "history", "calls_per_hour": [10.0]}, 422, "forecast.calls_per_hour"),
        ({"source": "simulator", "weeks": 2}, 422, "forecast.weeks"),
        ({"source": "simulator", "queue": "Outage"}, 422, "forecast.queue"),
        ({"source": "simulator", "start": "08:07"}, 422, "forecast.start"),
        ({"source": "simulator", "start": "18:00"}, 422, "forecast.start"),
        ({"source": "simulator", "end": "07:00"}, 422, "forecast.end"),
        ({"source": "simulator", "start": "08:00", "end": "16:50"}, 422, "forecast.end"),
        ({"calls_per_hour": [10.0]}, 422, "forecast.start"),
        ({"start": "08:00", "calls_per_hour": [10.0], "end": "09:00"}, 422, "forecast.end"),
        ({"source": "history"}, 409, "forecast.source"),  # nothing recorded on any earlier Monday
    ],
)
async def test_bad_forecast_sources_name_the_field(
    hub_client: Any, lead: dict[str, str], forecast: dict[str, Any], status: int, field: str
) -> None:
    r = await hub_client.post(f"{API}/schedules", json=body(MONDAY, forecast=forecast), headers=lead)
    assert r.status_code == status, r.text
    assert r.json()["extra"][0]["key"] == field
