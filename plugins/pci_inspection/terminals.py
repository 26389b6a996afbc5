"""The card-terminal inventory's answer to other plugins (``public.CardTerminals``): may a card be taken here?

A terminal is vouched for only while someone records inspections: when the plugin is enabled for no
section, nobody does, so the answer is "unavailable" with that reason rather than a stale "usable".
"""

from __future__ import annotations

from core.contract import PluginContext
from plugins.pci_inspection.models import PciDevice, assess, terminal_usable
from plugins.pci_inspection.public import CardTerminal
from plugins.pci_inspection.service import DeviceStatus, PciConfig, usable


def _terminal(device: PciDevice, usable_now: bool) -> CardTerminal:
    return CardTerminal(
        id=device.id,
        make=device.make,
        model=device.model,
        serial_number=device.serial_number,
        site=device.site,
        window=device.window,
        status=device.status,
        usable=usable_now,
    )


class InventoryTerminals:
    """:class:`~plugins.pci_inspection.public.CardTerminals` over this plugin's inventory tables.

    Each read runs in a session of its own: on PostgreSQL a failed statement (the tables missing on a
    database not upgraded) spoils the transaction it runs in, and the caller's must stay usable.
    """

    def __init__(self, ctx: PluginContext) -> None:
        self._ctx = ctx

    def unavailable_reason(self) -> str | None:
        if not self._ctx.sections():
            return (
                "the PCI terminal inspection plugin is enabled for no section, so no one records inspections"
            )
        return None

    async def at_site(self, site: str) -> list[CardTerminal]:
        config: PciConfig = self._ctx.config
        async with self._ctx.db.session() as session:
            found = await assess(session, config, self._ctx.clock.now())
        return [
            _terminal(a.device, usable(DeviceStatus(a.device.status))) for a in found if a.device.site == site
        ]

    async def get(self, terminal_id: int) -> CardTerminal | None:
        config: PciConfig = self._ctx.config
        async with self._ctx.db.session() as session:
            usable_now = await terminal_usable(session, terminal_id)
            found = await assess(session, config, self._ctx.clock.now(), device_id=terminal_id)
        return _terminal(found[0].device, usable_now) if found else None
