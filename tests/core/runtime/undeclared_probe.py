"""A test plugin whose one route forgets to declare its customer-data scope: the app must not start."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import get

from core.contract import PluginContext, PluginManifest, hookimpl

PLUGIN_ID = "undeclared_probe"


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID, title="Undeclared probe", version="1.0.0", sections_hint=("call-center",)
    )


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    @get("/customers/{account_id:str}", opt={"roles": ["csr"]})
    async def customer(account_id: str) -> dict[str, str]:
        return {"account_id": account_id}

    return [customer]
