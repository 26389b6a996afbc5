"""Balance desk: an example ccbhub plugin that tells a verified caller their balance.

Everything a plugin needs and nothing more: a manifest, a JSON Controller, a page Controller and a use
case over the CCB port. It has no tables and no checks, so it has no models, migrations or checks rooms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from balance_desk import api, pages
from core.contract import PageSpec, PluginContext, PluginManifest, hookimpl


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id="balance_desk",
        title="Balance desk",
        version="1.0.0",
        description="Tells a verified caller their balance and what is past due.",
        sections_hint=("call-center",),
    )


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    return [api.BalanceController]  # mounted under /api/balance_desk


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    return [PageSpec(handler=pages.BalancePages, nav_title="Balance desk")]  # under /ui/balance_desk
