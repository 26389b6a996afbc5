"""The card-terminal inventory as other plugins see it: ``public.CardTerminals``, offered to cash windows.

A cash window asks, at each card tender, whether the terminal may take a card. The rule is the
inventory's own (``rules.usable``, through ``Assessment.usable``): only a deployed terminal, with a passing
inspection within its risk analysis's frequency and no incident open since it was deployed, takes cards (a
failed inspection takes it out of service at once, docs/rules.md §1.4 step 1). Asked in this order:

* :meth:`InventoryTerminals.unavailable_reason` — when the plugin is enabled for no section, no one records
  inspections, so no terminal can be vouched for: the reason is returned and cards are to be refused;
* :meth:`InventoryTerminals.at_site` / :meth:`InventoryTerminals.get` — each reads in a session of its own
  (on PostgreSQL a failed statement spoils the transaction it runs in). When the inventory's tables are
  missing they raise ``RuntimeError`` whose message is :data:`NO_TABLES`, the reason to show.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from core.contract import PluginContext
from plugins.pci_inspection.public import CardTerminal
from plugins.pci_inspection.queries import Assessment, assess
from plugins.pci_inspection.rules import PciConfig

NOT_ENABLED = "the PCI terminal inspection plugin is enabled for no section, so no one records inspections"
NO_TABLES = "the card-terminal inventory tables are missing (the database needs `ccbhub db upgrade`)"


def _terminal(found: Assessment, usable_now: bool) -> CardTerminal:
    d = found.device
    return CardTerminal(
        id=d.id,
        make=d.make,
        model=d.model,
        serial_number=d.serial_number,
        site=d.site,
        window=d.window,
        status=d.status,
        usable=usable_now,
    )


class InventoryTerminals:
    """``CardTerminals`` over this plugin's inventory (see the module docstring for the order of asking)."""

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
        return [_terminal(a, a.usable) for a in found if a.device.site == site]

    async def get(self, terminal_id: int) -> CardTerminal | None:
        config: PciConfig = self._ctx.config
        try:
            async with self._ctx.db.session() as session:
                found = await assess(session, config, self._ctx.clock.now(), device_id=terminal_id)
        except DBAPIError:
            raise RuntimeError(NO_TABLES) from None
        return _terminal(found[0], found[0].usable) if found else None
