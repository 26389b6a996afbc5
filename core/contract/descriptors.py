"""Descriptors that plugins return from their hooks; the core validates, attributes, orders and mounts them.

They are plain frozen values so that a hook implementation is a pure function of its context: registering
a plugin never starts work. The core does the awaiting, the timeouts and the error isolation.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import msgspec

if TYPE_CHECKING:
    from core.audit import AuditLog
    from core.bus import Bus, Envelope
    from core.ccb.port import CcbPort
    from core.clock import Clock
    from core.contract.streams import Streams
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
    # Soft dependencies (Home Assistant's after_dependencies): started first when present, never required.
    # A plugin may import the ``public`` module of a plugin named in either tuple, and nothing else of it.
    after_depends_on: tuple[str, ...] = ()
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
    """Web pages of a plugin: ``handler`` is a ``Controller`` class (or one route handler) serving HTML
    under /ui/<plugin-id>/.

    ``nav_title`` puts an entry in the navigation (None keeps it out, e.g. for detail pages) linking to
    ``nav_path`` (relative to /ui/<plugin-id>; default: the handler's own path) for the ``nav_roles``
    (default: the roles the handler's ``opt`` names, or all staff).
    """

    handler: Any
    nav_title: str | None = None
    nav_path: str | None = None
    nav_roles: tuple[str, ...] | None = None

    def nav_target(self) -> tuple[str, tuple[str, ...] | None]:
        """The nav entry's path (relative to the plugin's /ui prefix) and the roles that see it."""
        path = self.nav_path
        if path is None:
            paths = getattr(self.handler, "paths", None)
            path = sorted(paths)[0] if isinstance(paths, set | frozenset) and paths else None
            path = path or (getattr(self.handler, "path", None) if isinstance(self.handler, type) else None)
            path = path if isinstance(path, str) else "/"
        roles = self.nav_roles
        if roles is None:
            # A Controller class without its own ``opt`` has only Litestar's slot descriptor there.
            opt = getattr(self.handler, "opt", None)
            found = opt.get("roles") if isinstance(opt, dict) else None
            roles = tuple(found) if found is not None else None
        return path, roles


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    """Periodic work run by the core's job runner: once across every hub process sharing the database.

    ``every_s`` is the period; ``run`` gets nothing and must be idempotent (a job interrupted by a crash is
    run again on the next tick). A run longer than ``timeout_s`` is cancelled; a failing run is retried up
    to ``retries`` times with backoff before waiting for the next period.
    """

    name: str
    run: Callable[[], Awaitable[None]]
    every_s: float
    timeout_s: float = 60.0
    retries: int = 2
    run_at_start: bool = True
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class ServiceOffer:
    """A typed service a plugin offers to the plugins that name it in their manifest's dependencies
    (a core part's offer reaches every plugin).

    ``protocol`` is a ``typing.Protocol`` from the offering plugin's ``public`` module (a core part's: from
    ``core.contract``); ``implementation`` satisfies it. Other plugins reach it with
    ``ctx.services.get(protocol)`` — never through the hub.
    """

    protocol: type
    implementation: object


class ContactHint(msgspec.Struct, frozen=True, kw_only=True):
    """A hint shown on the CSR's screen during a contact, e.g. "known outage in this area"."""

    kind: str
    text: str
    severity: Literal["info", "warning", "critical"] = "info"
    script: str | None = None


class ClockLike(Protocol):
    def now(self) -> dt.datetime: ...


T = TypeVar("T")


class ServiceDirectory:
    """The typed services other plugins offer, as one plugin may see them (no service locator).

    A plugin reaches only the services of the plugins named in its manifest's ``depends_on`` (a missing
    one is an error: the plugin manager would have blocked the plugin) or ``after_depends_on`` (a missing
    one is ``None``: the feature it backs is simply off). The core's own parts (``core``: their ids) are
    the hub itself, not peers: what they offer every plugin reaches without naming them. With ``running``
    the directory answers ``None`` for an offer whose provider is not running (failed at start-up).
    """

    def __init__(
        self,
        offers: dict[type, tuple[str, object]],
        depends_on: Sequence[str],
        after_depends_on: Sequence[str],
        *,
        core: Collection[str] = (),
        running: Callable[[str], bool] | None = None,
    ) -> None:
        self._offers = offers
        self._hard = frozenset(depends_on)
        self._soft = frozenset(after_depends_on)
        self._core = frozenset(core)
        self._running = running

    def get(self, protocol: type[T]) -> T | None:
        found = self._offers.get(protocol)
        if found is None:
            return None
        provider, implementation = found
        if provider not in self._hard | self._soft | self._core:
            raise LookupError(
                f"{protocol.__name__} is offered by {provider}: name it in depends_on or after_depends_on"
            )
        if self._running is not None and not self._running(provider):
            return None
        return implementation  # type: ignore[return-value]

    def require(self, protocol: type[T]) -> T:
        found = self.get(protocol)
        if found is None:
            raise LookupError(f"no running plugin offers {protocol.__name__}")
        return found


class Connect(Protocol):
    """``ctx.connect``: build the installed connector of ``kind`` for ``url``'s scheme (``crm`` + https →
    the Customer Connect client), passing ``options`` to its factory.

    Raises ``ValueError`` naming the plugin's settings when no installed connector serves the scheme or the
    connector refuses the URL. A typed helper per kind checks what comes back (e.g.
    ``core.contract.customer_connect.customer_connect``).
    """

    def __call__(self, kind: str, url: str, /, **options: Any) -> object: ...


def _no_connectors(kind: str, url: str, /, **options: Any) -> object:
    raise LookupError(f"this context builds no connectors (asked for a {kind} connector)")


class PluginContext:
    """A plugin's whole window on the hub (ARCHITECTURE §3): nothing else is handed to plugin code.

    ``runtime`` is the plugin's own typed runtime data (Home Assistant's ``runtime_data``): whatever one
    object the plugin builds at registration and its handlers share — set it once, type it in the plugin.
    ``connect`` builds a connector to an outside system the plugin's own config names (see :class:`Connect`).

    A plain class rather than a dataclass on purpose: handlers receive it as ``ctx: PluginContext`` and
    Litestar would otherwise try to validate it field by field against types it cannot see.
    """

    plugin_id: str
    config: Any
    db: Database
    bus: Bus
    events: EventWriter
    audit: AuditLog
    mail: Mailer
    clock: Clock
    ccb: CcbPort
    streams: Streams
    log: logging.Logger
    # The sections this plugin is enabled for right now (changes at run time, so it is asked, not held).
    sections: Callable[[], frozenset[str]]
    services: ServiceDirectory
    connect: Connect
    runtime: Any

    def __init__(
        self,
        *,
        plugin_id: str,
        config: Any,
        db: Database,
        bus: Bus,
        events: EventWriter,
        audit: AuditLog,
        mail: Mailer,
        clock: Clock,
        ccb: CcbPort,
        streams: Streams,
        log: logging.Logger,
        sections: Callable[[], frozenset[str]] = frozenset,
        services: ServiceDirectory | None = None,
        connect: Connect = _no_connectors,
        runtime: Any = None,
    ) -> None:
        self.plugin_id = plugin_id
        self.config = config
        self.db = db
        self.bus = bus
        self.events = events
        self.audit = audit
        self.mail = mail
        self.clock = clock
        self.ccb = ccb
        self.streams = streams
        self.log = log
        self.sections = sections
        self.services = services if services is not None else ServiceDirectory({}, (), ())
        self.connect = connect
        self.runtime = runtime

    def replace(self, **changes: Any) -> PluginContext:
        """A copy with some fields changed (a test builds a job or a service with another config)."""
        fields = {name: getattr(self, name) for name in self.__annotations__}
        return PluginContext(**{**fields, **changes})

    def __repr__(self) -> str:
        return f"PluginContext(plugin_id={self.plugin_id!r})"


RouteHandlers = Sequence[Any]
