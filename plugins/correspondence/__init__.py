"""Correspondence: letters to customers from templates, as Word documents, recorded and queued for mailing.

Staff (and other plugins, through :mod:`plugins.correspondence.public`) pick a letter template — deposit
refund approved or denied, claim decision, returned-mail follow-up, payment-plan confirmation — and give its
fields; the plugin fills it from the account's main customer and mailing address in the CCB, renders it with
the utility's letterhead (:mod:`plugins.correspondence.rules_docx`, the .docx renderer), records it on the
account as a CCB customer contact, and queues it for mailing (issue 8 §3). A check watches letters that
wait too long for the post.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.contract import (
    CheckKind,
    CheckSpec,
    EventType,
    PageSpec,
    PluginContext,
    PluginManifest,
    ServiceOffer,
    Severity,
    hookimpl,
)
from plugins.correspondence import api, checks, events, pages
from plugins.correspondence.public import LetterService
from plugins.correspondence.rules import CorrespondenceConfig
from plugins.correspondence.service import service_of

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
    return [api.LettersController]


@hookimpl
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:
    return [PageSpec(handler=pages.LettersPage, nav_title="Letters")]


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
def hub_provide_services(ctx: PluginContext) -> Sequence[ServiceOffer]:
    return [ServiceOffer(protocol=LetterService, implementation=service_of(ctx))]
