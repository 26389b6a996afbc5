"""The plugin contract: the only core package a plugin imports (ARCHITECTURE §2, layer 1).

It holds the hookspecs, the descriptors a plugin returns from its hooks, the typed
:class:`PluginContext`, and — in its submodules — the ports and the web kit every plugin and core part
uses for the rules that must hold everywhere (CSRF, body decoding, idempotency, event streams, the
verified-contact guard).
"""

from core.contract.descriptors import (
    PLUGIN_ID_PATTERN,
    CheckContext,
    CheckKind,
    CheckResult,
    CheckSpec,
    CheckStatus,
    ContactHint,
    EventHandler,
    EventType,
    JobSpec,
    PageSpec,
    PluginContext,
    PluginManifest,
    RouteHandlers,
    ServiceDirectory,
    ServiceOffer,
    Severity,
)
from core.contract.hookspecs import hookimpl

__all__ = [
    "PLUGIN_ID_PATTERN",
    "CheckContext",
    "CheckKind",
    "CheckResult",
    "CheckSpec",
    "CheckStatus",
    "ContactHint",
    "EventHandler",
    "EventType",
    "JobSpec",
    "PageSpec",
    "PluginContext",
    "PluginManifest",
    "RouteHandlers",
    "ServiceDirectory",
    "ServiceOffer",
    "Severity",
    "hookimpl",
]
