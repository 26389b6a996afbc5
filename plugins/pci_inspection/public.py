"""What the card-terminal inspection offers other plugins: whether a card may be taken on a terminal."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import msgspec


class CardTerminal(msgspec.Struct, frozen=True, kw_only=True):
    """A card terminal in the inventory, as a cash window sees it."""

    id: int
    make: str
    model: str
    serial_number: str
    site: str
    window: str
    status: str
    usable: bool


@runtime_checkable
class CardTerminals(Protocol):
    """The inventory's answer on card terminals (offered through ``hub_provide_services``)."""

    def unavailable_reason(self) -> str | None:
        """Why no terminal can be vouched for right now (e.g. enabled for no section), or None."""
        ...

    async def at_site(self, site: str) -> list[CardTerminal]:
        """Every terminal at ``site``, usable or not."""
        ...

    async def get(self, terminal_id: int) -> CardTerminal | None:
        """One terminal, or None when it is not in the inventory."""
        ...
