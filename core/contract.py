"""Descriptors that plugins return from their hooks; the core validates, attributes, orders and mounts them.

They are plain frozen values so that a hook implementation is a pure function of its context: registering
a plugin never starts work. The core does the awaiting, the timeouts and the error isolation.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import msgspec

if TYPE_CHECKING:
    from core.audit import AuditLog
    from core.bus import Bus, Envelope
    from core.ccb.port import CcbPort
    from core.clock import Clock
    from core.db import Database
    from core.mail import Mailer
    from core.outbox import EventWriter

PLUGIN_ID_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"


class PluginManifest(msgspec.Struct, frozen=True, kw_only=True):
    """Who a plugin is, what it needs, and how its config looks.

    ``config_type`` is a strict msgspec Struct (``forbid_unknown_fields=True``) whose defaults make the
    plugin work with no config at all; its JSON schema is published at ``/api/plugins/<id>/config-schema``.
    A ``critical`` plugin that fails to start stops the hub; any other failure is isolated.
    """

    id: str
    title: str
    version: str
    description: str = ""
    sections_hint: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    config_type: type[msgspec.Struct] | None = None
    critical: bool = False


class EventType(msgspec.Struct, frozen=True, kw_only=True):
    """An event subject a plugin publishes and the Struct its ``data`` has."""

    subject: str
    payload: type[msgspec.Struct]
    description: str = ""


Handler = Callable[["Envelope"], Awaitable[None]]


class EventHandler(msgspec.Struct, frozen=True, kw_only=True):
    """A subscription: ``pattern`` uses NATS wildcards; ``durable`` names the consumer across restarts."""

    pattern: str
    handler: Handler
    durable: str
    max_in_flight: int = 64


class CheckKind(enum.StrEnum):
    HEALTH = "health"
    COMPLIANCE = "compliance"


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class CheckStatus(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    # A crash or a timeout: reported as its own status, and always counted as a failure (fail closed).
    ERROR = "error"


class CheckResult(msgspec.Struct, frozen=True, kw_only=True):
    """What a check says. Only an explicit ``passed=True`` passes."""

    passed: bool
    message: str
    details: dict[str, Any] = {}


@dataclass(frozen=True, kw_only=True)
class CheckSpec:
    """A health or compliance check; ``run`` gets the runner's context and must return a CheckResult."""

    name: str
    run: Callable[[CheckContext], Awaitable[CheckResult]]
    kind: CheckKind = CheckKind.HEALTH
    timeout_s: float | None = None
    severity: Severity = Severity.WARNING
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class CheckContext:
    """What a running check may look at."""

    db: Database
    bus: Bus
    clock: Clock
    settings: Any


@dataclass(frozen=True, kw_only=True)
class PageSpec:
    """A web page of a plugin: ``handler`` is a Litestar route handler serving HTML under /ui/<plugin-id>/.

    ``nav_title`` puts it in the navigation (None keeps it out, e.g. for detail pages).
    """

    handler: Any
    nav_title: str | None = None


class ContactHint(msgspec.Struct, frozen=True, kw_only=True):
    """A hint shown on the CSR's screen during a contact, e.g. "known outage in this area"."""

    kind: str
    text: str
    severity: Literal["info", "warning", "critical"] = "info"
    script: str | None = None


class ClockLike(Protocol):
    def now(self) -> dt.datetime: ...


@dataclass(kw_only=True)
class PluginContext:
    """A plugin's whole window on the hub (ARCHITECTURE §3): nothing else is handed to plugin code."""

    plugin_id: str
    config: Any
    db: Database
    bus: Bus
    events: EventWriter
    audit: AuditLog
    mail: Mailer
    clock: Clock
    ccb: CcbPort
    log: logging.Logger
    extras: dict[str, Any] = field(default_factory=dict)


RouteHandlers = Sequence[Any]
