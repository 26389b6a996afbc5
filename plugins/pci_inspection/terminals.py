"""The card-terminal inventory's answer to other plugins (``public.CardTerminals``): may a card be taken here?

A terminal is vouched for only while someone records inspections: when the plugin is enabled for no
section, nobody does, so the answer is "unavailable" with that reason rather than a stale "usable". Each
read runs in a session of its own (on PostgreSQL a failed statement spoils the transaction it runs in);
when the inventory's tables are missing it raises ``RuntimeError`` whose message is :data:`NO_TABLES`.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from core.contract import PluginContext
from plugins.pci_inspection.models import PciDevice, assess, terminal_usable
from plugins.pci_inspection.public import CardTerminal
from plugins.pci_inspection.service import DeviceStatus, PciConfig, usable

NOT_ENABLED = "the PCI terminal inspection plugin is enabled for no section, so no one records inspections"
NO_TABLES = "the card-terminal inventory tables are missing (the database needs `ccbhub db upgrade`)"


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
    """:class:`~plugins.pci_inspection.public.CardTerminals` over this plugin's inventory tables."""

    def __init__(self, ctx: PluginContext) -> None:
        self._ctx = ctx

    def unavailable_reason(self) -> str | None:
        return None if self._ctx.sections() else NOT_ENABLED

    async def at_site(self, site: str) -> list[CardTerminal]:
        config: PciConfig = self._ctx.config
        try:
            async with self._ctx.db.session() as session:
                found = await assess(session, config, self._ctx.clock.now())
        except DBAPIError:
            raise RuntimeError(NO_TABLES) from None
        return [
            _terminal(a.device, usable(DeviceStatus(a.device.status))) for a in found if a.device.site == site
        ]

    async def get(self, terminal_id: int) -> CardTerminal | None:
        config: PciConfig = self._ctx.config
        try:
            async with self._ctx.db.session() as session:
                usable_now = await terminal_usable(session, terminal_id)
                found = await assess(session, config, self._ctx.clock.now(), device_id=terminal_id)
        except DBAPIError:
            raise RuntimeError(NO_TABLES) from None
        return _terminal(found[0].device, usable_now) if found else None
