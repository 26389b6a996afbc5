"""Correspondence: letters to customers from templates, as Word documents, recorded and queued for mailing.

Staff (and other plugins, through :mod:`plugins.correspondence.service_api`) pick a letter template — deposit
refund approved or denied, claim decision, returned-mail follow-up, payment-plan confirmation — and give its
fields; the plugin fills it from the account's main customer and mailing address in the CCB, renders it with
the utility's letterhead, records it on the account as a CCB customer contact, and queues it for mailing
(issue 8 §3). A check watches letters that wait too long for the post.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from core.contract import (
    CheckKind,
    CheckSpec,
    EventType,
    PageSpec,
    PluginContext,
    PluginManifest,
    Severity,
    hookimpl,
)
from plugins.correspondence import api, checks, events, service_api
from plugins.correspondence.service import CorrespondenceConfig

PLUGIN_ID = "correspondence"


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id=PLUGIN_ID,
        title="Correspondence",
        version="1.0.0",
        description="Letters as Word documents from templates, recorded on the account, queued for mailing.",
        sections_hint=("customer-service-center", "customer-relations", "call-center", "lead"),
        config_type=CorrespondenceConfig,
    )


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    return api.routes(ctx)


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    return api.pages(ctx)


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return [EventType(subject=s, payload=p, description=d) for s, p, d in events.EVENT_TYPES]


@hookimpl
def hub_register_checks(ctx: PluginContext) -> Sequence[CheckSpec]:
    return [
        CheckSpec(
            name="letters_mailed",
            run=checks.make_mailing_check(ctx),
            kind=CheckKind.HEALTH,
            severity=Severity.WARNING,
            description="No letter waits to be mailed longer than the configured business days.",
        )
    ]


@hookimpl
def hub_lifespan(ctx: PluginContext) -> AbstractAsyncContextManager[None] | None:
    return _public_service(ctx)


@contextlib.asynccontextmanager
async def _public_service(ctx: PluginContext) -> AsyncIterator[None]:
    # While the plugin runs, plugins that depend on it reach this context through service_api.
    service_api.register(ctx)
    try:
        yield
    finally:
        service_api.unregister(ctx)
