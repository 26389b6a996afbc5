"""The card-terminal service cash windows use (``public.CardTerminals``): offered by the running plugin,
answering from the inventory with the same rule the inventory applies, and saying why when it cannot."""

from __future__ import annotations

import types
from typing import Any

import pytest
from sqlalchemy import text

import plugins.pci_inspection as pci
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
    await add(hub_client, sec, "VF-3", "EAST", "deployed")
    found = await terminals.at_site("MAIN")
    assert [(t.id, t.serial_number, t.status, t.usable) for t in found] == [
        (deployed, "VF-1", "deployed", True),
        (stocked, "VF-2", "in_stock", False),
    ]
    assert all(isinstance(t, CardTerminal) and t.site == "MAIN" for t in found)
    assert await terminals.at_site("NORTH") == []


async def test_one_terminal_follows_its_inspections_and_status(
    terminals: CardTerminals, hub_client: Any, sec: dict[str, str], staff_token: Any
) -> None:
    device_id = await add(hub_client, sec, "VF-9", "EAST", "deployed")
    terminal = await terminals.get(device_id)
    assert terminal == CardTerminal(
        id=device_id,
        make="Verifone",
        model="P400",
        serial_number="VF-9",
        site="EAST",
        window="W1",
        status="deployed",
        usable=True,
    )
    photo = await hub_client.post(
        f"{API}/devices/{device_id}/photos",
        files={"file": ("p.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, "image/jpeg")},
        headers=sec,
    )
    failing = [*ITEMS]
    failing[5] = {"item": 6, "result": "fail", "note": "overlay on the slot", "photo_id": photo.json()["id"]}
    r = await hub_client.post(f"{API}/devices/{device_id}/inspections", json={"items": failing}, headers=sec)
    assert r.status_code == 201, r.text
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
