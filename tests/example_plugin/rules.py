"""Pure logic of the example plugin: its config and the ping board's rules (no I/O)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated

import msgspec


class ExampleConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``[plugins.example]`` in hub.toml."""

    greeting: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] = "Hello"
    urgent_limit_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 15
    heartbeat_s: Annotated[float, msgspec.Meta(gt=0)] = 30.0


@dataclass
class Ping:
    event_id: str
    author: str
    message: str
    urgent: bool
    at: dt.datetime
    answered: bool = False


@dataclass
class Board:
    """The latest pings as seen from the bus (a read model rebuilt from events, not a system of record)."""

    pings: list[Ping] = field(default_factory=list)
    heartbeats: int = 0
    last_open_count: int = 0
    limit: int = 50

    def add(self, ping: Ping) -> None:
        self.pings.insert(0, ping)
        del self.pings[self.limit :]

    def urgent_open(self) -> list[Ping]:
        return [p for p in self.pings if p.urgent and not p.answered]

    def overdue(self, now: dt.datetime, limit: dt.timedelta) -> list[Ping]:
        return [p for p in self.urgent_open() if now - p.at > limit]

    async def heartbeat(self, every_s: float) -> None:
        import asyncio

        while True:
            self.heartbeats += 1
            await asyncio.sleep(every_s)
