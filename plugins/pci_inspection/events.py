"""Events the card-terminal inspection publishes (it subscribes to none).

Payloads name the terminal (id, serial, site, window) and the checklist results, never card data and never
free-text notes: a note is stored redacted in the plugin's tables and mailed to security, but the bus fans
out to every subscriber, so it carries only what they need (ARCHITECTURE §4, docs/rules.md §1.5).
"""

from __future__ import annotations

import datetime as dt

import msgspec

INSPECTION_RECORDED = "hub.pci.inspection.recorded"
FAILED_INSPECTION = "hub.pci.terminal.failed_inspection"
STATUS_CHANGED = "hub.pci.terminal.status_changed"
RELOCATED = "hub.pci.terminal.relocated"
INCIDENT_OPENED = "hub.pci.incident.opened"


class ItemOutcome(msgspec.Struct, frozen=True, kw_only=True):
    item: int
    result: str  # pass | fail | na


class InspectionRecorded(msgspec.Struct, frozen=True, kw_only=True):
    inspection_id: int
    device_id: int
    serial_number: str
    site: str
    window: str
    inspector: str
    inspected_at: dt.datetime
    outcome: str  # pass | fail
    results: list[ItemOutcome]


class TerminalFailedInspection(msgspec.Struct, frozen=True, kw_only=True):
    inspection_id: int
    device_id: int
    serial_number: str
    make: str
    model: str
    site: str
    window: str
    inspector: str
    inspected_at: dt.datetime
    failed_items: list[int]


class TerminalStatusChanged(msgspec.Struct, frozen=True, kw_only=True):
    device_id: int
    serial_number: str
    site: str
    window: str
    old_status: str | None  # None when the terminal was just added to the inventory
    new_status: str
    usable: bool
    cause: str  # inventory | failed_inspection


class TerminalRelocated(msgspec.Struct, frozen=True, kw_only=True):
    device_id: int
    serial_number: str
    old_site: str
    old_window: str
    site: str
    window: str


class IncidentOpened(msgspec.Struct, frozen=True, kw_only=True):
    incident_id: int
    reference: str
    device_id: int
    serial_number: str
    site: str
    inspection_id: int | None


EVENT_TYPES: list[tuple[str, type[msgspec.Struct], str]] = [
    (INSPECTION_RECORDED, InspectionRecorded, "A terminal inspection was recorded, with each item's result."),
    (
        FAILED_INSPECTION,
        TerminalFailedInspection,
        "A checklist item failed: the terminal is out of service and must not take cards.",
    ),
    (
        STATUS_CHANGED,
        TerminalStatusChanged,
        "A terminal's inventory status changed (usable says if it takes cards).",
    ),
    (RELOCATED, TerminalRelocated, "A terminal moved to another site or window."),
    (INCIDENT_OPENED, IncidentOpened, "An incident record was opened for a terminal."),
]
