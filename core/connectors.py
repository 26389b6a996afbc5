"""Finding connectors: the core names a kind and a URL, an installed package provides the implementation.

The core never imports a connector module. Connectors are published in the ``ccbhub.connectors``
entry-point group under ``<kind>.<scheme>`` (``bus.nats``, ``mail.smtp``, ``ccb.http`` …); the object
an entry point names is called with the URL and builds the connector. A URL whose scheme has no installed
connector is a :class:`~core.settings.SettingsError` naming the setting, found when the settings are
loaded, before anything starts.

What each kind must provide is written down here as Protocols, so the core types against these and
nothing else: a bus is :class:`core.bus.Bus`, a remote CCB is :class:`core.ccb.port.CcbPort`, and a mail
connector is :class:`MailConnector`.
"""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from core.settings import SettingsError

if TYPE_CHECKING:
    from core.clock import Clock
    from core.contract import CheckContext, CheckResult
    from core.db import Database

GROUP = "ccbhub.connectors"


class MailDelivery(Protocol):
    """Background delivery of the mail outbox (``core.mail``): started and stopped with the hub."""

    def kick(self) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class MailConnector(Protocol):
    """The ``mail.<scheme>`` connector: built from ``HUB_SMTP_URL`` (raising SettingsError when bad)."""

    def sender(self, db: Database, clock: Clock) -> MailDelivery: ...

    async def check(self, ctx: CheckContext) -> CheckResult: ...


@functools.cache
def _installed() -> dict[str, importlib.metadata.EntryPoint]:
    # Entry points do not change while a process runs; scanning the installed distributions once is enough.
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=GROUP)}


def installed(kind: str) -> list[str]:
    """The schemes with an installed connector of ``kind``, sorted."""
    prefix = f"{kind}."
    return sorted(name[len(prefix) :] for name in _installed() if name.startswith(prefix))


def find_connector(kind: str, url: str, *, setting: str) -> Callable[..., Any]:
    """The factory of the ``kind`` connector for ``url``'s scheme; SettingsError naming ``setting``."""
    scheme = urlsplit(url).scheme.lower()
    ep = _installed().get(f"{kind}.{scheme}")
    if ep is None:
        known = ", ".join(f"{s}://" for s in installed(kind)) or "none"
        raise SettingsError(
            setting, f"no {kind} connector for {scheme or '(no scheme)'}:// is installed (installed: {known})"
        )
    try:
        factory: Callable[..., Any] = ep.load()
    except Exception as exc:
        raise SettingsError(
            setting, f"the {ep.name} connector ({ep.value}) cannot be imported: {type(exc).__name__}: {exc}"
        ) from exc
    return factory


def load_connector(kind: str, url: str, *, setting: str, **kwargs: Any) -> Any:
    """Build the ``kind`` connector for ``url``: ``factory(url, **kwargs)``."""
    return find_connector(kind, url, setting=setting)(url, **kwargs)
