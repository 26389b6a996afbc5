"""The breaks plugin over HTTP: generate a day from shifts and a forecast, edit by hand (violations), publish
refused then accepted, start a break (telephony NOT_READY with the reason code), the overdue check, 422s.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

import plugins.breaks as breaks
from core.telephony.plugin import telephony_service
from plugins.breaks.checks import make_overdue_check

API = "/api/breaks"
PHONE = "/api/phone"
SECTION = "call-center"


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [breaks]


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


async def test_grid_page(hub_client: Any, lead: dict[str, str], hub_clock: Any, staff_token: Any) -> None:
    await hub_client.post(f"{API}/schedules", json=body(today(hub_clock)), headers=lead)
    await staff_token("lead", SECTION, name="lou", password="pw-for-the-grid-1")
    page = await hub_client.get("/ui/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token
    form = {"name": "lou", "password": "pw-for-the-grid-1", "next": "/ui/", "_csrf_token": token.group(1)}
    await hub_client.post("/ui/login", data=form)
    r = await hub_client.get(f"/ui/breaks/?day={today(hub_clock).isoformat()}")
    assert r.status_code == 200 and 'id="grid"' in r.text and "ana" in r.text
