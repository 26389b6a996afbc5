"""What the example plugin offers other plugins (through ``hub_provide_services``): a read of its board."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class PingBoardReader(Protocol):
    """The urgent pings nobody has answered yet."""

    def urgent_open(self) -> list[Any]: ...
