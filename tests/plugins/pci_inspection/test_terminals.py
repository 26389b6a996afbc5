"""The card-terminal service cash windows use (``public.CardTerminals``): offered by the running plugin,
answering from the inventory with the same rule the inventory applies, and saying why when it cannot."""

from __future__ import annotations

import datetime as dt
import types
from typing import Any

import msgspec
import pytest
from sqlalchemy import text

import plugins.pci_inspection as pci
from core.clock import LOCAL_TZ
from plugins.pci_inspection.public import CardTerminal, CardTerminals
from plugins.pci_inspection.service_terminals import NO_TABLES, NOT_ENABLED, InventoryTerminals

API = "/api/pci_inspection"
ITEMS = [{"item": n, "result": "pass"} for n in range(1, 15)]


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [pci]


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {"plugins": {"pci_inspection": {"sites": {"MAIN": "Main lobby", "EAST": "East valley office"}}}}


@pytest.fixture
def terminals(hub: Any) -> CardTerminals:
    provider, implementation = hub.plugins.offers[CardTerminals]
    assert provider == "pci_inspection"
    assert isinstance(implementation, CardTerminals)
    return implementation  # type: ignore[no-any-return]


@pytest.fixture
async def sec(staff_token: Any, enable_plugin: Any) -> dict[str, str]:
    await enable_plugin("pci_inspection", "security")
    return {"Authorization": f"Bearer {await staff_token('security', 'security')}"}


async def add(client: Any, headers: dict[str, str], serial: str, site: str, status: str) -> int:
    body = {"make": "Verifone", "model": "P400", "serial_number": serial, "site": site, "window": "W1"}
    r = await client.post(f"{API}/devices", json={**body, "status": status}, headers=headers)
    assert r.status_code == 201, r.text
    device_id: int = r.json()["id"]
    return device_id


async def inspect(client: Any, headers: dict[str, str], device_id: int, items: list[Any] = ITEMS) -> Any:
    r = await client.post(f"{API}/devices/{device_id}/inspections", json={"items": items}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def views(client: Any, headers: dict[str, str], device_id: int) -> tuple[bool, bool]:
    """The terminal's ``usable`` as the device view and the cash pages' question answer it."""
    device = (await client.get(f"{API}/devices/{device_id}", headers=headers)).json()
    asked = (await client.get(f"{API}/devices/{device_id}/usable", headers=headers)).json()
    return device["usable"], asked["usable"]


def test_a_plugin_enabled_for_no_section_cannot_vouch_for_any_terminal() -> None:
    off = InventoryTerminals(types.SimpleNamespace(sections=frozenset))  # type: ignore[arg-type]
    assert off.unavailable_reason() == NOT_ENABLED
    on = InventoryTerminals(types.SimpleNamespace(sections=lambda: frozenset({"security"})))  # type: ignore[arg-type]
    assert on.unavailable_reason() is None


async def test_the_reason_follows_enablement_at_run_time(
    terminals: CardTerminals, enable_plugin: Any
) -> None:
    assert terminals.unavailable_reason() == (
        "the PCI terminal inspection plugin is enabled for no section, so no one records inspections"
    )
    await enable_plugin("pci_inspection", "security")
    assert terminals.unavailable_reason() is None


async def test_terminals_at_a_site_usable_or_not(
    terminals: CardTerminals, hub_client: Any, sec: dict[str, str]
) -> None:
    deployed = await add(hub_client, sec, "VF-1", "MAIN", "deployed")
    stocked = await add(hub_client, sec, "VF-2", "MAIN", "in_stock")
    uninspected = await add(hub_client, sec, "VF-4", "MAIN", "deployed")
    await add(hub_client, sec, "VF-3", "EAST", "deployed")
    await inspect(hub_client, sec, deployed)
    await inspect(hub_client, sec, stocked)  # a pass before deployment does not cover a service period
    found = await terminals.at_site("MAIN")
    assert [(t.id, t.serial_number, t.status, t.usable) for t in found] == [
        (deployed, "VF-1", "deployed", True),
        (stocked, "VF-2", "in_stock", False),
        (uninspected, "VF-4", "deployed", False),
    ]
    assert all(isinstance(t, CardTerminal) and t.site == "MAIN" for t in found)
    assert await terminals.at_site("NORTH") == []


async def test_one_terminal_follows_its_inspections_and_status(
    terminals: CardTerminals, hub_client: Any, sec: dict[str, str], staff_token: Any
) -> None:
    device_id = await add(hub_client, sec, "VF-9", "EAST", "deployed")
    terminal = await terminals.get(device_id)
    expected = CardTerminal(
        id=device_id,
        make="Verifone",
        model="P400",
        serial_number="VF-9",
        site="EAST",
        window="W1",
        status="deployed",
        usable=False,
    )
    assert terminal == expected  # deployed but never inspected: not vouched for
    await inspect(hub_client, sec, device_id)
    assert await terminals.get(device_id) == msgspec.structs.replace(expected, usable=True)
    photo = await hub_client.post(
        f"{API}/devices/{device_id}/photos",
        files={"file": ("p.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, "image/jpeg")},
        headers=sec,
    )
    failing = [*ITEMS]
    failing[5] = {"item": 6, "result": "fail", "note": "overlay on the slot", "photo_id": photo.json()["id"]}
    await inspect(hub_client, sec, device_id, failing)
    after = await terminals.get(device_id)
    assert after is not None and (after.status, after.usable) == ("out_of_service", False)
    assert await terminals.get(device_id + 100) is None
    assert await terminals.get(2**40) is None  # beyond any row id: simply not in the inventory


async def test_missing_tables_raise_the_reason_to_show(terminals: CardTerminals, hub: Any) -> None:
    async with hub.db.session() as session:
        for table in (
            "pci_inspection_item",
            "pci_incident",
            "pci_inspection",
            "pci_photo",
            "pci_device_change",
        ):
            await session.execute(text(f"DROP TABLE {table}"))
        await session.execute(text("DROP TABLE pci_device"))
    with pytest.raises(RuntimeError) as at_site:
        await terminals.at_site("MAIN")
    assert str(at_site.value) == NO_TABLES
    with pytest.raises(RuntimeError) as one:
        await terminals.get(1)
    assert str(one.value) == (
        "the card-terminal inventory tables are missing (the database needs `ccbhub db upgrade`)"
    )


async def test_usable_needs_a_pass_within_the_frequency_and_no_open_incident(
    terminals: CardTerminals, hub_client: Any, sec: dict[str, str], hub_clock: Any
) -> None:
    """Every view (device, the cash pages' question, the service) answers the one rule alike."""
    hub_clock.set(dt.datetime(2026, 7, 14, 9, 0, tzinfo=LOCAL_TZ))
    daily = await add(hub_client, sec, "VF-20", "MAIN", "deployed")
    assert await views(hub_client, sec, daily) == (False, False)  # never inspected
    assert (await terminals.get(daily)).usable is False  # type: ignore[union-attr]
    await inspect(hub_client, sec, daily)
    assert await views(hub_client, sec, daily) == (True, True)  # passed today
    assert (await terminals.get(daily)).usable is True  # type: ignore[union-attr]
    hub_clock.set(dt.datetime(2026, 7, 15, 9, 0, tzinfo=LOCAL_TZ))  # the default frequency is a day
    assert await views(hub_client, sec, daily) == (False, False)
    assert (await terminals.get(daily)).usable is False  # type: ignore[union-attr]

    r = await hub_client.post(
        f"{API}/risk-analyses",
        json={
            "title": "Back-office terminals",
            "scope": "Terminals behind the counter",
            "assets": "Card data",
            "threats": "Swapped terminals",
            "factors": "Staff only area",
            "frequency_days": 7,
            "justification": "No public access",
        },
        headers=sec,
    )
    assert r.status_code == 201, r.text
    weekly = await add(hub_client, sec, "VF-21", "MAIN", "deployed")
    r = await hub_client.patch(
        f"{API}/devices/{weekly}",
        json={"risk_analysis_id": r.json()["id"], "reason": "analysed"},
        headers=sec,
    )
    assert r.status_code == 200, r.text
    await inspect(hub_client, sec, weekly)
    hub_clock.set(dt.datetime(2026, 7, 21, 23, 0, tzinfo=LOCAL_TZ))  # the seventh local day: still covered
    assert await views(hub_client, sec, weekly) == (True, True)
    hub_clock.set(dt.datetime(2026, 7, 22, 0, 30, tzinfo=LOCAL_TZ))  # older than its frequency
    assert await views(hub_client, sec, weekly) == (False, False)
    assert (await terminals.get(weekly)).usable is False  # type: ignore[union-attr]

    await inspect(hub_client, sec, weekly)
    assert await views(hub_client, sec, weekly) == (True, True)
    hub_clock.advance(dt.timedelta(minutes=5))
    r = await hub_client.post(
        f"{API}/devices/{weekly}/incidents",
        json={"reference": "IR-7", "description": "Seal number does not match the log"},
        headers=sec,
    )
    assert r.status_code == 201, r.text
    assert await views(hub_client, sec, weekly) == (False, False)  # an open incident
    assert (await terminals.get(weekly)).usable is False  # type: ignore[union-attr]
    assert [t.usable for t in await terminals.at_site("MAIN") if t.id == weekly] == [False]
