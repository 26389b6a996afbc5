"""The customer contact layer and the CSR workflows as a core part on the plugin contract.

Mounted at :data:`ROUTE_PREFIX` with the paths its controllers declare (``/api/contacts…`` and the CSR
workflows' ``/api/ccb/…``), not gated by section. It opens a contact for every inbound call (the screen
pop set on the telephony service when the hub starts), follows the call to its release, turns a reader's
No Read into a CSR To Do, and asks the running plugins for contact hints.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Any

from core.contact import checks, events
from core.contact.api import ContactController, VerificationLockController
from core.contact.common import PART_ID, ContactConfig
from core.contact.contacts import ContactSnapshot, HintView, gather_hints
from core.contact.guard import require_verified, require_verified_premise
from core.contact.service import ContactService
from core.contact.workflow_api import CONTROLLERS
from core.contract import (
    CheckSpec,
    EventHandler,
    EventType,
    PageSpec,
    PluginContext,
    PluginManifest,
    ServiceOffer,
    hookimpl,
)
from core.contract.contact import ContactAccess, ContactDesk, ContactGuard, ContactGuardFactory
from core.plugins import CorePartContext
from core.staff import Staff
from core.telephony.plugin import telephony_service

__all__ = ["PART_ID", "ROUTE_PREFIX", "service_of"]

ROUTE_PREFIX = "/api"


@hookimpl
def hub_manifest() -> PluginManifest:
    return PluginManifest(
        id=PART_ID,
        title="Customer contacts and CSR workflows",
        version="0.1.0",
        description=(
            "Contacts with identity verification, the verified-contact guard on customer data, wrap-up "
            "notes to CCB, the phone screen pop, and the CSR workflows on the CCB port."
        ),
        sections_hint=("call-center", "customer-service-center"),
        config_type=ContactConfig,
        critical=False,
    )


def service_of(ctx: PluginContext) -> ContactService:
    """The part's service: its runtime data, made once per hub from its context (config, not state)."""
    found = ctx.runtime
    if found is None:
        hub = ctx.hub if isinstance(ctx, CorePartContext) else None
        found = ContactService(
            db=ctx.db,
            events=ctx.events,
            audit=ctx.audit,
            ccb=ctx.ccb,
            clock=ctx.clock,
            config=ctx.config,
            hints=partial(_hints, hub) if hub is not None else None,
        )
        ctx.runtime = found
    assert isinstance(found, ContactService)
    return found


async def _hints(hub: Any, staff: Staff, contact: ContactSnapshot) -> list[HintView]:
    """Each running plugin's ``hub_contact_hints``, for plugins the caller's sections have enabled."""
    calls: list[tuple[str, Callable[[], Any]]] = []
    for rec in hub.plugins.running():
        if rec.id == PART_ID or rec.ctx is None or not hub.plugins.has_hook(rec, "hub_contact_hints"):
            continue
        if rec.source != "core" and not hub.enablement.allows(rec.id, staff.sections):
            continue
        calls.append(
            (rec.id, partial(hub.plugins.call_one, rec, "hub_contact_hints", ctx=rec.ctx, contact=contact))
        )

    def failed(plugin_id: str, exc: BaseException) -> None:
        hub.plugins.records[plugin_id].record_failure(exc, "hub_contact_hints")

    timeout = min(
        service_of(hub.plugins.records[PART_ID].ctx).config.hint_timeout_s, hub.settings.plugin_timeout_s
    )
    return await gather_hints(calls, timeout, failed)


@hookimpl
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:
    # Made now, so the controllers' ``service`` dependency finds it from the first request on.
    service_of(ctx)
    return [ContactController, VerificationLockController, *CONTROLLERS]


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    # Imported here: the page module needs the web shell, which imports the hub, which imports this part.
    from core.contact import pages

    # Declared with full ``/ui/contact`` paths: mounted as they are, not under a per-plugin prefix.
    return pages.pages()


class _RequestGuard:
    """The verified-contact guard bound to one request (what ``guard: ContactGuard`` gives a handler)."""

    def __init__(self, request: Any, service: ContactService) -> None:
        self._request = request
        self._service = service

    async def account(
        self,
        account_id: str,
        *,
        purpose: str = "customer data",
        topic: str = "account",
        change: bool = False,
        contact_id: str | None = None,
        reason: str | None = None,
    ) -> ContactAccess:
        return await require_verified(
            self._request,
            account_id,
            purpose=purpose,
            topic=topic,
            change=change,
            contact_id=contact_id,
            reason=reason,
        )

    async def premise(
        self,
        premise_id: str,
        *,
        purpose: str,
        verified: bool = True,
        topic: str = "premise",
        change: bool = False,
    ) -> ContactAccess:
        return await require_verified_premise(
            self._request, premise_id, purpose=purpose, verified=verified, topic=topic, change=change
        )

    async def note_change(self, access: ContactAccess, topic: str, text: str) -> None:
        await self._service.note_change(access, topic, text)


@hookimpl
def hub_provide_services(ctx: PluginContext) -> Sequence[ServiceOffer]:
    service = service_of(ctx)
    desk: ContactDesk = service

    def guard_for(request: Any) -> ContactGuard:
        return _RequestGuard(request, service)

    return [
        # The one verified-contact guard; the app hands it to every handler that takes ``guard``.
        ServiceOffer(protocol=ContactGuardFactory, implementation=guard_for),
        # Contacts for the plugins that work them themselves (the e-team, Serving Our Seniors).
        ServiceOffer(protocol=ContactDesk, implementation=desk),
    ]


@hookimpl
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:
    return list(events.EVENT_TYPES)


@hookimpl
def hub_register_event_handlers(ctx: PluginContext) -> Sequence[EventHandler]:
    service = service_of(ctx)
    return [
        EventHandler(
            pattern=events.ACCESS_FAILED, handler=events.access_failed_handler(service), durable="access_todo"
        ),
        EventHandler(pattern=events.PHONE_DIALOGS, handler=events.dialog_handler(service), durable="dialogs"),
    ]


@hookimpl
def hub_register_checks(ctx: PluginContext) -> Sequence[CheckSpec]:
    return checks.checks(ctx.config)


@hookimpl
def hub_lifespan(ctx: PluginContext) -> AbstractAsyncContextManager[None]:
    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        # The screen pop: telephony calls back after storing each inbound call. Without a running
        # telephony part there is nothing to pop, and contacts are opened by hand.
        phone = telephony_service(ctx.hub) if isinstance(ctx, CorePartContext) else None
        service = service_of(ctx)
        if phone is not None:
            phone.on_inbound = service.screen_pop
        try:
            yield
        finally:
            if phone is not None and phone.on_inbound == service.screen_pop:
                phone.on_inbound = None

    return lifespan()
