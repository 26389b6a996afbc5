"""The PCI terminal inspection over HTTP: inventory, inspections, fails, idempotency, checks, CSV, pages.

The plugin is an installed entry point, so the session's migrated template already has its ``pci_`` tables
from the plugin's Alembic branch; ``test_migration_*`` check that branch builds exactly what the models say.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import importlib.metadata
import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import plugins.pci_inspection as pci
from core.bus import Envelope
from core.clock import LOCAL_TZ
from core.mail import list_outbox
from core.migrate import upgrade
from core.models import OutboxEvent
from plugins.pci_inspection.models import TABLES, PciInspection
from plugins.pci_inspection.queries import terminal_usable
from plugins.pci_inspection.rules import PciConfig

API = "/api/pci_inspection"
PASSWORD = "inspector password 1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [pci]


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {
        "plugins": {
            "pci_inspection": {
                "sites": {"MAIN": "Main lobby", "EAST": "East valley office"},
                "security_emails": ["sec.desk@utility.example"],
                "supervisor_emails": ["lobby.supervisor@utility.example"],
            }
        }
    }


@pytest.fixture
async def sec(staff_token: Any, enable_plugin: Any) -> dict[str, str]:
    await enable_plugin("pci_inspection", "security")
    token = await staff_token("security", "security", name="sam.security", password=PASSWORD)
    return {"Authorization": f"Bearer {token}"}


def all_items(result: str = "pass", **overrides: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [{"item": n, "result": result} for n in range(1, 15)]
    for key, value in overrides.items():
        items[int(key.removeprefix("i")) - 1].update(value)
    return items


async def add_device(client: Any, headers: dict[str, str], serial: str, **fields: Any) -> dict[str, Any]:
    body = {
        "make": "Verifone",
        "model": "P400",
        "serial_number": serial,
        "site": "MAIN",
        "window": "Window 3",
    }
    body.update(fields)
    r = await client.post(f"{API}/devices", json=body, headers=headers)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def add_analysis(client: Any, headers: dict[str, str], frequency: int = 1) -> int:
    r = await client.post(
        f"{API}/risk-analyses",
        json={
            "title": "Attended lobby windows",
            "scope": "Cash-window terminals in the lobbies",
            "assets": "Card data read at the window",
            "threats": "Skimmer overlays, swapped terminals",
            "factors": "Attended, public lobby, vendor advises a check each shift",
            "frequency_days": frequency,
            "justification": "Public lobby with heavy traffic; staff present all day",
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    analysis_id: int = r.json()["id"]
    return analysis_id


async def upload(
    client: Any, headers: dict[str, str], device_id: int, data: bytes = JPEG, **form: str
) -> Any:
    return await client.post(
        f"{API}/devices/{device_id}/photos",
        files={"file": ("photo.jpg", data, "image/jpeg")},
        data={"kind": "evidence", **form},
        headers=headers,
    )


async def pass_inspection(client: Any, headers: dict[str, str], device_id: int) -> None:
    """Record a passing inspection now: what a deployed terminal needs before it may take cards."""
    r = await client.post(
        f"{API}/devices/{device_id}/inspections", json={"items": all_items()}, headers=headers
    )
    assert r.status_code == 201 and r.json()["outcome"] == "pass" and r.json()["usable"] is True, r.text


async def count(hub: Any, model: Any) -> int:
    async with hub.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def keys(r: Any) -> list[str]:
    return [e["key"] for e in r.json().get("extra", [])]


# -- inventory ---------------------------------------------------------------------------------------------
async def test_inventory_records_required_fields_and_refuses_bad_ones(hub_client: Any, sec: Any) -> None:
    d = await add_device(hub_client, sec, "VF-400-0001", seal_ids=["S-1001", "S-1002"], status="deployed")
    assert (d["make"], d["model"], d["serial_number"], d["site"], d["window"]) == (
        "Verifone",
        "P400",
        "VF-400-0001",
        "MAIN",
        "Window 3",
    )
    assert d["status"] == "deployed" and d["seal_ids"] == ["S-1001", "S-1002"]
    assert d["inspection"] == "overdue"  # deployed and never inspected: due the day it is deployed
    assert d["usable"] is False  # so it takes no cards until a passing inspection is on record
    await pass_inspection(hub_client, sec, d["id"])
    got = (await hub_client.get(f"{API}/devices/{d['id']}", headers=sec)).json()
    assert (got["status"], got["inspection"], got["usable"]) == ("deployed", "ok", True)

    good = {
        "make": "Ingenico",
        "model": "Lane 3000",
        "serial_number": "ING-1",
        "site": "MAIN",
        "window": "W1",
    }
    for broken, field in [
        ({k: v for k, v in good.items() if k != "make"}, "make"),
        ({**good, "window": "   "}, "window"),
        ({**good, "status": "stolen"}, "status"),
        ({**good, "site": "NORTH"}, "site"),
        ({**good, "colour": "black"}, "colour"),
        ({**good, "seal_ids": ["ok", "<script>"]}, "seal_ids[1]"),
    ]:
        r = await hub_client.post(f"{API}/devices", json=broken, headers=sec)
        assert r.status_code == 422, (field, r.text)
        assert field in keys(r) and field in r.json()["detail"]
    r = await hub_client.post(f"{API}/devices", content=b'{"make": "Verif', headers=sec)
    assert r.status_code == 400 and "malformed JSON" in r.json()["detail"]
    r = await hub_client.post(f"{API}/devices", json={**good, "serial_number": "VF-400-0001"}, headers=sec)
    assert r.status_code == 409 and keys(r) == ["serial_number"]
    assert [x["serial_number"] for x in (await hub_client.get(f"{API}/devices", headers=sec)).json()] == [
        "VF-400-0001"
    ]


async def test_status_and_location_changes_write_the_change_log(
    hub_client: Any, sec: Any, drain: Any, hub: Any
) -> None:
    seen: list[Envelope] = []

    async def collect(env: Envelope) -> None:
        seen.append(env)

    await hub.bus.subscribe("hub.pci.terminal.>", collect, durable="test")
    d = await add_device(hub_client, sec, "VF-400-0002")
    url = f"{API}/devices/{d['id']}"
    r = await hub_client.patch(url, json={"status": "deployed"}, headers=sec)
    assert r.status_code == 422 and keys(r) == ["reason"]
    r = await hub_client.patch(url, json={"status": "decommissioned", "reason": "x"}, headers=sec)
    assert r.status_code == 200
    r = await hub_client.patch(url, json={"status": "deployed", "reason": "back"}, headers=sec)
    assert r.status_code == 409 and keys(r) == ["status"] and "decommissioned" in r.json()["detail"]
    r = await hub_client.post(f"{url}/inspections", json={"items": all_items()}, headers=sec)
    assert r.status_code == 409 and "cannot be inspected" in r.json()["detail"]

    d = await add_device(hub_client, sec, "VF-400-0003")
    url = f"{API}/devices/{d['id']}"
    r = await hub_client.patch(url, json={"status": "deployed", "reason": "opened window 3"}, headers=sec)
    assert r.status_code == 200 and r.json()["status"] == "deployed" and r.json()["usable"] is False
    await pass_inspection(hub_client, sec, d["id"])
    assert (await hub_client.get(url, headers=sec)).json()["usable"] is True
    r = await hub_client.patch(
        url, json={"site": "EAST", "window": "Window 1", "reason": "moved"}, headers=sec
    )
    assert r.status_code == 200 and (r.json()["site"], r.json()["window"]) == ("EAST", "Window 1")
    r = await hub_client.patch(url, json={"serial_number": "X-1", "reason": "typo"}, headers=sec)
    assert r.status_code == 422 and keys(r) == ["serial_number"]

    history = (await hub_client.get(f"{url}/history", headers=sec)).json()
    logged = {(c["field"], c["old_value"], c["new_value"], c["reason"]) for c in history["changes"]}
    assert ("status", "in_stock", "deployed", "opened window 3") in logged
    assert ("site", "MAIN", "EAST", "moved") in logged and (
        "window",
        "Window 3",
        "Window 1",
        "moved",
    ) in logged
    assert any(c["field"] == "created" for c in history["changes"])
    await drain()
    subjects = [e.subject for e in seen if e.data["device_id"] == d["id"]]
    assert subjects.count("hub.pci.terminal.status_changed") == 2  # added, then deployed
    assert "hub.pci.terminal.relocated" in subjects


async def test_unknown_device_is_404_and_a_csr_is_refused(
    hub_client: Any, sec: Any, staff_token: Any, enable_plugin: Any
) -> None:
    assert (await hub_client.get(f"{API}/devices/999", headers=sec)).status_code == 404
    r = await hub_client.post(f"{API}/devices/999/inspections", json={"items": all_items()}, headers=sec)
    assert r.status_code == 404
    assert (await hub_client.get(f"{API}/devices/999/usable", headers=sec)).status_code == 404
    huge = 10**20  # past any row id: a 404, never a database overflow
    assert (await hub_client.get(f"{API}/devices/{huge}", headers=sec)).status_code == 404
    assert (await hub_client.get(f"{API}/photos/{huge}", headers=sec)).status_code == 404
    r = await hub_client.post(f"{API}/risk-analyses/{huge}/reviews", json={"notes": "x"}, headers=sec)
    assert r.status_code == 404
    r = await hub_client.post(
        f"{API}/devices",
        json={
            "make": "A",
            "model": "B",
            "serial_number": "AB-1",
            "site": "MAIN",
            "window": "W",
            "risk_analysis_id": huge,
        },
        headers=sec,
    )
    assert r.status_code == 422 and keys(r) == ["risk_analysis_id"]
    r = await hub_client.get(f"{API}/inspections.csv", params={"to": "9999-12-31"}, headers=sec)
    assert r.status_code == 422 and keys(r) == ["to"]

    d = await add_device(hub_client, sec, "VF-400-0004", status="deployed")
    await pass_inspection(hub_client, sec, d["id"])
    await enable_plugin("pci_inspection", "customer-service-center")
    csr = {"Authorization": f"Bearer {await staff_token('csr', 'customer-service-center')}"}
    assert (await hub_client.get(f"{API}/devices", headers=csr)).status_code == 403
    r = await hub_client.post(
        f"{API}/devices/{d['id']}/inspections", json={"items": all_items()}, headers=csr
    )
    assert r.status_code == 403
    assert (await hub_client.get(f"{API}/inspections.csv", headers=csr)).status_code == 403
    # The cash/card pages' question is open to any staff of a section where the plugin is enabled.
    r = await hub_client.get(f"{API}/devices/{d['id']}/usable", headers=csr)
    assert r.status_code == 200 and r.json()["usable"] is True
    supervisor = {"Authorization": f"Bearer {await staff_token('supervisor', 'security')}"}
    r = await hub_client.post(
        f"{API}/devices/{d['id']}/inspections", json={"items": all_items()}, headers=supervisor
    )
    assert r.status_code == 403  # security staff inspect
    assert (await hub_client.get(f"{API}/inspections.csv", headers=supervisor)).status_code == 403


# -- inspections -------------------------------------------------------------------------------------------
async def test_a_fail_takes_the_terminal_out_of_service_and_alerts(
    hub_client: Any, sec: Any, hub: Any, drain: Any
) -> None:
    seen: list[Envelope] = []

    async def collect(env: Envelope) -> None:
        seen.append(env)

    await hub.bus.subscribe("hub.pci.>", collect, durable="test")
    d = await add_device(hub_client, sec, "VF-400-0005", status="deployed")
    photo = await upload(hub_client, sec, d["id"], label="card slot")
    assert photo.status_code == 201 and photo.json()["content_type"] == "image/jpeg"
    note = "Extra bezel on the card slot; customer said card 4111 1111 1111 1111 got stuck"
    items = all_items(
        i6={"result": "fail", "note": note, "photo_id": photo.json()["id"]}, i13={"result": "na"}
    )
    r = await hub_client.post(f"{API}/devices/{d['id']}/inspections", json={"items": items}, headers=sec)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["outcome"] == "fail" and body["device_status"] == "out_of_service" and body["usable"] is False
    assert body["inspector"] == "sam.security" and len(body["items"]) == 14
    stored_note = next(i["note"] for i in body["items"] if i["item"] == 6)
    assert "4111 1111 1111 1111" not in stored_note and "[card ****1111]" in stored_note

    usable = await hub_client.get(f"{API}/devices/{d['id']}/usable", headers=sec)
    assert usable.json() == {
        "device_id": d["id"],
        "serial_number": "VF-400-0005",
        "site": "MAIN",
        "window": "Window 3",
        "status": "out_of_service",
        "usable": False,
    }
    async with hub.db.session() as session:
        assert await terminal_usable(session, PciConfig(), hub.clock.now(), d["id"]) is False
        assert await terminal_usable(session, PciConfig(), hub.clock.now(), 424242) is False

    await drain()
    by_subject = {e.subject: e for e in seen if e.data.get("device_id") == d["id"]}
    failed = by_subject["hub.pci.terminal.failed_inspection"]
    assert failed.data["failed_items"] == [6] and failed.data["serial_number"] == "VF-400-0005"
    assert failed.data["site"] == "MAIN" and failed.source == "pci_inspection"
    assert by_subject["hub.pci.terminal.status_changed"].data["new_status"] == "out_of_service"
    recorded = by_subject["hub.pci.inspection.recorded"]
    assert {r["item"]: r["result"] for r in recorded.data["results"]}[13] == "na"
    assert all("4111" not in str(e.data) and "note" not in e.data for e in seen)  # no card data, no notes

    async with hub.db.session() as session:
        mails = await list_outbox(session)
    assert len(mails) == 2
    assert {tuple(m.to) for m in mails} == {
        ("sec.desk@utility.example",),
        ("lobby.supervisor@utility.example",),
    }
    assert all("VF-400-0005" in m.subject and "OUT OF SERVICE" in m.body for m in mails)
    assert all("4111 1111" not in m.body for m in mails)

    outcomes = {o.name: o for o in await hub.run_checks(plugin="pci_inspection")}
    assert not outcomes["out_of_service_has_incident"].passed
    assert "VF-400-0005" in outcomes["out_of_service_has_incident"].message
    r = await hub_client.post(
        f"{API}/devices/{d['id']}/incidents",
        json={
            "reference": "IR-2026-014",
            "description": "Bezel overlay on slot",
            "inspection_id": body["id"],
        },
        headers=sec,
    )
    assert r.status_code == 201 and r.json()["found_by"] == "sam.security"
    outcomes = {o.name: o for o in await hub.run_checks(plugin="pci_inspection")}
    assert outcomes["out_of_service_has_incident"].passed


async def test_bad_checklists_are_refused_naming_the_field_and_write_nothing(
    hub_client: Any, sec: Any, hub: Any
) -> None:
    d = await add_device(hub_client, sec, "VF-400-0006", status="deployed")
    other = await add_device(hub_client, sec, "VF-400-0007", status="deployed")
    url = f"{API}/devices/{d['id']}/inspections"
    foreign_photo = (await upload(hub_client, sec, other["id"])).json()["id"]
    events_before = await count(hub, OutboxEvent)
    cases = [
        ({"items": all_items()[:6] + all_items()[7:]}, "items", "item 7"),
        ({"items": all_items(i3={"result": "fail", "photo_id": foreign_photo})}, "items[2].note", "say what"),
        ({"items": all_items(i3={"result": "fail", "note": "gap in casing"})}, "items[2].photo_id", "photo"),
        (
            {"items": all_items(i3={"result": "fail", "note": "x", "photo_id": foreign_photo})},
            "items[2].photo_id",
            "",
        ),
        ({"items": all_items(i2={"result": "maybe"})}, "items[1].result", "maybe"),
        ({"items": [*all_items(), {"item": 15, "result": "pass"}]}, "items[14].item", "no checklist item 15"),
        ({"items": [*all_items(), {"item": 4, "result": "pass"}]}, "items[14].item", "twice"),
        ({"items": all_items(), "checked_by": "me"}, "checked_by", "unknown field"),
        ({}, "items", "missing required field"),
    ]
    for body, field, words in cases:
        r = await hub_client.post(url, json=body, headers=sec)
        assert r.status_code == 422, (field, r.text)
        assert field in keys(r), (field, r.json())
        assert words in r.json()["detail"], (words, r.json())
    r = await hub_client.post(url, content=b"{items: []}", headers=sec)
    assert r.status_code == 400
    assert await count(hub, PciInspection) == 0
    assert await count(hub, OutboxEvent) == events_before
    device = (await hub_client.get(f"{API}/devices/{d['id']}", headers=sec)).json()
    assert device["status"] == "deployed"


async def test_a_double_submission_records_one_inspection(hub_client: Any, sec: Any, hub: Any) -> None:
    d = await add_device(hub_client, sec, "VF-400-0008", status="deployed")
    other = await add_device(hub_client, sec, "VF-400-0009", status="deployed")
    url = f"{API}/devices/{d['id']}/inspections"
    body = {"items": all_items(), "idempotency_key": "phone-7f3a9c21"}
    first = await hub_client.post(url, json=body, headers=sec)
    second = await hub_client.post(url, json=body, headers=sec)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"] and second.json()["replayed"] is True
    header = {**sec, "Idempotency-Key": "retry-0000001"}
    a = await hub_client.post(url, json={"items": all_items()}, headers=header)
    b = await hub_client.post(url, json={"items": all_items()}, headers=header)
    assert (a.status_code, b.status_code) == (201, 200) and a.json()["id"] == b.json()["id"]
    assert await count(hub, PciInspection) == 2
    r = await hub_client.post(f"{API}/devices/{other['id']}/inspections", json=body, headers=sec)
    assert r.status_code == 409 and keys(r) == ["idempotency_key"]


async def test_a_key_reused_with_other_answers_is_refused_naming_it(
    hub_client: Any, sec: Any, hub: Any
) -> None:
    d = await add_device(hub_client, sec, "VF-400-0020", status="deployed")
    url = f"{API}/devices/{d['id']}/inspections"
    first = await hub_client.post(
        url, json={"items": all_items(), "idempotency_key": "phone-reused-1"}, headers=sec
    )
    assert first.status_code == 201
    other = {"items": all_items(i7={"result": "na"}), "idempotency_key": "phone-reused-1"}
    r = await hub_client.post(url, json=other, headers=sec)
    assert r.status_code == 422 and keys(r) == ["idempotency_key"]
    header = {**sec, "Idempotency-Key": "header-reused-1"}
    assert (await hub_client.post(url, json={"items": all_items()}, headers=header)).status_code == 201
    r = await hub_client.post(url, json={"items": all_items(i7={"result": "na"})}, headers=header)
    assert r.status_code == 422 and keys(r) == ["Idempotency-Key"]
    bad = await hub_client.post(url, json={"items": all_items(), "idempotency_key": "short"}, headers=sec)
    assert bad.status_code == 422 and keys(bad) == ["idempotency_key"]
    assert await count(hub, PciInspection) == 2


# -- checks as time moves ----------------------------------------------------------------------------------
async def test_checks_follow_the_los_angeles_day_and_the_review_age(
    hub_client: Any, sec: Any, hub: Any, hub_clock: Any
) -> None:
    async def outcomes() -> dict[str, Any]:
        return {o.name: o for o in await hub.run_checks(plugin="pci_inspection")}

    # 10:00 in Los Angeles on a summer day (17:00 UTC): the inspection counts for that local day.
    hub_clock.set(dt.datetime(2026, 7, 14, 10, 0, tzinfo=LOCAL_TZ))
    analysis = await add_analysis(hub_client, sec)
    d = await add_device(hub_client, sec, "VF-400-0010", status="deployed", risk_analysis_id=analysis)
    found = await outcomes()
    assert (
        not found["terminals_inspected"].passed
        and "VF-400-0010 (MAIN Window 3)" in found["terminals_inspected"].message
    )
    assert found["risk_analysis_current"].passed
    r = await hub_client.post(
        f"{API}/devices/{d['id']}/inspections", json={"items": all_items()}, headers=sec
    )
    assert r.status_code == 201
    assert (await outcomes())["terminals_inspected"].passed

    hub_clock.set(dt.datetime(2026, 7, 14, 23, 59, tzinfo=LOCAL_TZ))  # 06:59 UTC the next day: still today
    assert (await outcomes())["terminals_inspected"].passed
    hub_clock.advance(dt.timedelta(minutes=2))  # 00:01 in Los Angeles: a new day, a new inspection
    assert not (await outcomes())["terminals_inspected"].passed

    # A weekly frequency from the review keeps last Tuesday's inspection good through Monday.
    r = await hub_client.post(
        f"{API}/risk-analyses/{analysis}/reviews",
        json={"notes": "lobby has guards now", "frequency_days": 7},
        headers=sec,
    )
    assert r.status_code == 201 and r.json()["frequency_days"] == 7
    assert (await outcomes())["terminals_inspected"].passed

    # 12 months after the review it is still current; the day after, the analysis is stale.
    hub_clock.set(dt.datetime(2027, 7, 15, 12, 0, tzinfo=LOCAL_TZ))
    assert (await outcomes())["risk_analysis_current"].passed
    hub_clock.set(dt.datetime(2027, 7, 16, 12, 0, tzinfo=LOCAL_TZ))
    stale = (await outcomes())["risk_analysis_current"]
    assert not stale.passed and "older than 12 months" in stale.message
    r = await hub_client.post(
        f"{API}/risk-analyses/{analysis}/reviews", json={"notes": "no change"}, headers=sec
    )
    assert r.status_code == 201 and r.json()["review_state"] == "current"
    assert (await outcomes())["risk_analysis_current"].passed

    await add_device(hub_client, sec, "VF-400-0011", status="deployed")  # no risk analysis
    missing = (await outcomes())["risk_analysis_current"]
    assert not missing.passed and "VF-400-0011" in missing.message


# -- photos and the export -------------------------------------------------------------------------------
async def test_photos_are_checked_stored_and_served_to_staff_only(
    hub_client: Any, sec: Any, hub: Any, staff_token: Any, enable_plugin: Any
) -> None:
    d = await add_device(hub_client, sec, "VF-400-0012")
    r = await upload(hub_client, sec, d["id"], PNG, kind="reference", label="front")
    assert r.status_code == 201
    meta = r.json()
    assert (meta["content_type"], meta["size"], meta["kind"]) == ("image/png", len(PNG), "reference")
    got = await hub_client.get(f"{API}/photos/{meta['id']}", headers=sec)
    assert got.status_code == 200 and got.content == PNG and got.headers["content-type"] == "image/png"
    assert got.headers["cache-control"] == "private, no-store"
    r = await upload(hub_client, sec, d["id"], b"MZ not an image at all")
    assert r.status_code == 422 and keys(r) == ["file"]
    r = await upload(hub_client, sec, d["id"], JPEG + b"\x00" * 5_000_000)
    assert r.status_code == 413
    r = await hub_client.post(f"{API}/devices/{d['id']}/photos", data={"kind": "reference"}, headers=sec)
    assert r.status_code == 422 and keys(r) == ["file"]
    await enable_plugin("pci_inspection", "customer-service-center")
    csr = {"Authorization": f"Bearer {await staff_token('csr', 'customer-service-center')}"}
    assert (await hub_client.get(f"{API}/photos/{meta['id']}", headers=csr)).status_code == 403


async def test_csv_export_for_assessors(hub_client: Any, sec: Any, hub_clock: Any, staff_token: Any) -> None:
    hub_clock.set(dt.datetime(2026, 3, 7, 16, 30, tzinfo=LOCAL_TZ))
    d = await add_device(hub_client, sec, "VF-CSV-1", status="deployed", window="=HYPERLINK(1)")
    photo = (await upload(hub_client, sec, d["id"])).json()["id"]
    url = f"{API}/devices/{d['id']}/inspections"
    await hub_client.post(url, json={"items": all_items()}, headers=sec)
    hub_clock.set(dt.datetime(2026, 3, 8, 9, 15, tzinfo=LOCAL_TZ))  # the spring-forward day
    items = all_items(i9={"result": "fail", "note": "USB stick, in port", "photo_id": photo})
    await hub_client.post(url, json={"items": items}, headers=sec)

    r = await hub_client.get(f"{API}/inspections.csv", headers=sec)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["outcome"] for row in rows] == ["pass", "fail"]
    assert rows[0]["window"] == "'=HYPERLINK(1)"  # never a spreadsheet formula
    assert rows[0]["inspected_at_utc"] == "2026-03-08T00:30:00+00:00"
    assert (rows[0]["local_date"], rows[0]["inspected_at_local"]) == (
        "2026-03-07",
        "2026-03-07T16:30:00-08:00",
    )
    assert rows[1]["inspected_at_local"] == "2026-03-08T09:15:00-07:00"
    assert (
        rows[1]["item_9"] == "fail"
        and rows[1]["item_1"] == "pass"
        and "9: USB stick, in port" in rows[1]["notes"]
    )
    assert rows[1]["inspector"] == "sam.security"

    only = await hub_client.get(
        f"{API}/inspections.csv", params={"from": "2026-03-08", "to": "2026-03-08"}, headers=sec
    )
    assert [row["outcome"] for row in csv.DictReader(io.StringIO(only.text))] == ["fail"]
    r = await hub_client.get(
        f"{API}/inspections.csv", params={"from": "2026-03-09", "to": "2026-03-08"}, headers=sec
    )
    assert r.status_code == 422 and keys(r) == ["to"]
    admin = {"Authorization": f"Bearer {await staff_token('admin', 'security')}"}
    assert (await hub_client.get(f"{API}/inspections.csv", headers=admin)).status_code == 200


# -- pages ------------------------------------------------------------------------------------------------
def csrf_of(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def form_token_of(html: str, device_id: int) -> str:
    section = html.split(f'action="/ui/pci_inspection/devices/{device_id}/inspect"', 1)[1]
    found = re.search(r'name="form_token" value="([^"]+)"', section)
    assert found
    return found.group(1)


async def login(client: Any, name: str) -> None:
    page = await client.get("/ui/login")
    r = await client.post(
        "/ui/login",
        data={"name": name, "password": PASSWORD, "next": "/ui/", "_csrf_token": csrf_of(page.text)},
    )
    assert r.status_code in (302, 303)


async def test_phone_checklist_records_once_and_explains_mistakes(
    hub_client: Any, sec: Any, hub: Any
) -> None:
    d = await add_device(hub_client, sec, "VF-400-0013", status="deployed")
    await login(hub_client, "sam.security")
    page = await hub_client.get("/ui/pci_inspection/", params={"site": "MAIN"})
    assert page.status_code == 200 and 'data-device="VF-400-0013"' in page.text and "overdue" in page.text
    assert page.text.count('name="item_1"') == 3  # pass, fail, n.a.
    url = f"/ui/pci_inspection/devices/{d['id']}/inspect"
    answers = {f"item_{n}": "pass" for n in range(1, 15)}
    token = form_token_of(page.text, d["id"])

    refused = await hub_client.post(url, data={**answers, "form_token": token})
    assert refused.status_code == 403  # no CSRF token

    csrf = csrf_of(page.text)
    missing = {k: v for k, v in answers.items() if k != "item_5"}
    r = await hub_client.post(url, data={**missing, "form_token": token, "_csrf_token": csrf})
    assert r.status_code == 422 and 'data-field="item_5"' in r.text and "item 5 (Casing) is missing" in r.text
    r = await hub_client.post(
        url, data={**answers, "item_8": "fail", "note_8": "", "form_token": token, "_csrf_token": csrf}
    )
    assert r.status_code == 422 and 'data-field="note_8"' in r.text and 'data-field="photo_8"' in r.text
    assert await count(hub, PciInspection) == 0

    r = await hub_client.post(url, data={**answers, "form_token": token, "_csrf_token": csrf})
    assert r.status_code == 303 and "done=" in r.headers["location"]
    again = await hub_client.post(url, data={**answers, "form_token": token, "_csrf_token": csrf})
    assert again.status_code == 303 and again.headers["location"] == r.headers["location"]
    assert await count(hub, PciInspection) == 1
    shown = await hub_client.get(r.headers["location"])
    assert "recorded: <strong>pass</strong>" in shown.text

    fail = {
        **answers,
        "item_8": "fail",
        "note_8": "PIN pad overlay",
        "form_token": token + "x",
        "_csrf_token": csrf,
    }
    r = await hub_client.post(url, data=fail, files={"photo_8": ("pad.jpg", JPEG, "image/jpeg")})
    assert r.status_code == 303
    shown = await hub_client.get(r.headers["location"])
    assert "is OUT OF SERVICE" in shown.text and "no incident record yet" in shown.text
    history = (await hub_client.get(f"{API}/devices/{d['id']}/history", headers=sec)).json()
    failed = history["inspections"][0]
    assert failed["outcome"] == "fail" and next(i for i in failed["items"] if i["item"] == 8)["photo_id"]
    detail = await hub_client.get(f"/ui/pci_inspection/devices/{d['id']}")
    assert detail.status_code == 200 and "PIN pad overlay" in detail.text and "Out of service" in detail.text


async def test_inventory_and_risk_forms(hub_client: Any, sec: Any, hub: Any) -> None:
    await login(hub_client, "sam.security")
    page = await hub_client.get("/ui/pci_inspection/risk")
    csrf = csrf_of(page.text)
    r = await hub_client.post(
        "/ui/pci_inspection/risk",
        data={
            "title": "Lobby",
            "scope": "lobby",
            "assets": "cards",
            "threats": "skimmers",
            "factors": "attended",
            "frequency_days": "1",
            "justification": "busy",
            "_csrf_token": csrf,
        },
    )
    assert r.status_code == 303
    r = await hub_client.post("/ui/pci_inspection/risk", data={"title": "half", "_csrf_token": csrf})
    assert r.status_code == 422 and "scope" in r.text
    form = {
        "make": "PAX",
        "model": "A35",
        "serial_number": "PAX-35-77",
        "site": "EAST",
        "window": "Window 2",
        "status": "deployed",
        "seal_ids": "T-1, T-2",
        "risk_analysis_id": "1",
        "attended": "on",
        "_csrf_token": csrf,
    }
    r = await hub_client.post("/ui/pci_inspection/devices", data=form)
    assert r.status_code == 303
    device_url = r.headers["location"]
    device = (await hub_client.get(f"{API}/devices", headers=sec)).json()[0]
    assert device["seal_ids"] == ["T-1", "T-2"] and device["attended"] and not device["public_area"]
    assert device["risk_analysis_id"] == 1
    r = await hub_client.post(
        "/ui/pci_inspection/devices", data={**form, "serial_number": "PAX-35-78", "window": ""}
    )
    assert r.status_code == 422 and "window" in r.text
    r = await hub_client.post(
        device_url + "/update", data={"status": "out_of_service", "reason": "", "_csrf_token": csrf}
    )
    assert r.status_code == 422 and "reason" in r.text
    r = await hub_client.post(
        device_url + "/update",
        data={"status": "out_of_service", "reason": "screen cracked", "_csrf_token": csrf},
    )
    assert r.status_code == 303
    r = await hub_client.post(
        device_url + "/incidents",
        data={"reference": "IR-9", "description": "cracked screen", "_csrf_token": csrf},
    )
    assert r.status_code == 303
    r = await hub_client.post(
        device_url + "/photos",
        data={"label": "front", "_csrf_token": csrf},
        files={"file": ("f.png", PNG, "image/png")},
    )
    assert r.status_code == 303
    detail = await hub_client.get(device_url)
    assert "IR-9" in detail.text and "screen cracked" in detail.text and "<img" in detail.text
    outcomes = {o.name: o for o in await hub.run_checks(plugin="pci_inspection")}
    assert outcomes["out_of_service_has_incident"].passed


# -- PostgreSQL ------------------------------------------------------------------------------------------
@pytest.fixture
async def hub_database_url(
    request: pytest.FixtureRequest, hub_migrated_template: Path, tmp_path: Path
) -> str:
    """The core's per-test SQLite copy, or (``indirect`` param "postgres") a fresh migrated PostgreSQL db."""
    if getattr(request, "param", "sqlite") == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        await asyncio.to_thread(upgrade, url)
        return url
    target = tmp_path / "hub.db"
    shutil.copyfile(hub_migrated_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.mark.postgres
@pytest.mark.parametrize("hub_database_url", ["postgres"], indirect=True)
async def test_on_postgresql_a_fail_photo_and_checks_work(
    hub_client: Any, sec: Any, hub: Any, hub_clock: Any
) -> None:
    assert hub.db.dialect == "postgresql"
    hub_clock.set(dt.datetime(2026, 11, 1, 1, 30, tzinfo=LOCAL_TZ))  # the repeated hour of the fall-back
    analysis = await add_analysis(hub_client, sec)
    d = await add_device(hub_client, sec, "PG-400-0001", status="deployed", risk_analysis_id=analysis)
    photo = (await upload(hub_client, sec, d["id"], PNG)).json()["id"]
    r = await hub_client.get(f"{API}/photos/{photo}", headers=sec)
    assert r.content == PNG
    body = {"items": all_items(), "idempotency_key": "pg-key-0001"}
    first = await hub_client.post(f"{API}/devices/{d['id']}/inspections", json=body, headers=sec)
    again = await hub_client.post(f"{API}/devices/{d['id']}/inspections", json=body, headers=sec)
    assert (first.status_code, again.status_code) == (201, 200)
    outcomes = {o.name: o for o in await hub.run_checks(plugin="pci_inspection")}
    assert all(o.passed for o in outcomes.values()), outcomes
    items = all_items(i11={"result": "fail", "note": "asks to swipe a chip card", "photo_id": photo})
    r = await hub_client.post(f"{API}/devices/{d['id']}/inspections", json={"items": items}, headers=sec)
    assert r.status_code == 201 and r.json()["device_status"] == "out_of_service"
    async with hub.db.session() as session:
        assert await terminal_usable(session, PciConfig(), hub.clock.now(), d["id"]) is False
        assert len(await list_outbox(session)) == 2
    rows = list(
        csv.DictReader(io.StringIO((await hub_client.get(f"{API}/inspections.csv", headers=sec)).text))
    )
    assert [row["outcome"] for row in rows] == ["pass", "fail"]


# -- migrations -------------------------------------------------------------------------------------------
def _only_pci(obj: Any, name: str | None, kind: str, _reflected: bool, _other: Any) -> bool:
    table = name if kind == "table" else getattr(getattr(obj, "table", None), "name", "")
    return bool(table and table.startswith("pci_"))


def _compare_with_models(url: str) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from core.db import create_engine

    def compare(conn: Any) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _only_pci})
        return list(compare_metadata(context, pci.models.Base.metadata))

    async def run() -> list[Any]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _registered() -> bool:
    return any(
        ep.value.split(":")[0] == "plugins.pci_inspection"
        for ep in importlib.metadata.entry_points(group="ccbhub.plugins")
    )


@pytest.mark.skipif(not _registered(), reason="pci_inspection is not yet a ccbhub.plugins entry point")
def test_migration_upgrade_heads_builds_the_models_tables(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'heads.db'}"
    upgrade(url)
    assert _compare_with_models(url) == []


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite+aiosqlite:///{tmp_path / 'branch.db'}"


def test_migration_branch_builds_the_models_tables_and_goes_back(empty_database: str) -> None:
    """The branch applied on top of the core (found explicitly here, whether registered or not)."""
    from alembic import command

    from core.migrate import alembic_config

    url = empty_database
    config = alembic_config(url)
    versions = Path(pci.__file__).parent / "migrations" / "versions"
    locations = config.get_main_option("version_locations") or ""
    if str(versions) not in locations.split(" "):
        config.set_main_option("version_locations", f"{locations} {versions}")
    command.upgrade(config, "heads")
    assert _compare_with_models(url) == []
    command.downgrade(config, "pci_inspection@base")
    missing = {diff[1].name for diff in _compare_with_models(url) if diff[0] == "add_table"}
    assert missing == {t.name for t in TABLES}
