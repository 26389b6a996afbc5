"""Request and response Structs of the example plugin."""

from __future__ import annotations

from typing import Annotated

import msgspec


class PingRequest(msgspec.Struct, forbid_unknown_fields=True):
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    urgent: bool = False


class PingView(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    author: str
    message: str
    urgent: bool
