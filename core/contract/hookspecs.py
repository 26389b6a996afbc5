"""The plugin contract: every hook a ccbhub plugin may implement.

A plugin is a module (or object) whose functions are marked with :data:`hookimpl` and whose
``hub_manifest`` says who it is. It is found through the ``ccbhub.plugins`` entry-point group::

    [project.entry-points."ccbhub.plugins"]
    cash_handling = "plugins.cash_handling"

Registration hooks are synchronous and pure: they *describe* routes, pages, events, handlers and checks
and return descriptors (see :mod:`core.contract`). The core calls each plugin's implementation on its own,
attributes what comes back to that plugin, validates it, and mounts it — so a plugin that raises is marked
``failed`` and skipped while every other plugin goes on. Work that runs (handlers, checks, background
tasks) is awaited by the core under a timeout, never by pluggy.

Rules (enforced by the plugin manager and the contract suite in ``tests/contract``):

* no ``tryfirst``/``trylast``/``wrapper`` in plugins: order comes from ``depends_on`` in the manifest;
* routes are mounted under ``/api/<plugin-id>/`` and pages under ``/ui/<plugin-id>/``; every handler
  declares who may call it in ``opt`` (see :mod:`core.security`), and answers only staff of sections
  where the plugin is enabled;
* a plugin touches the hub only through its :class:`~core.contract.PluginContext`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from core.contract import (
        CheckSpec,
        ContactHint,
        EventHandler,
        EventType,
        JobSpec,
        PageSpec,
        PluginContext,
        PluginManifest,
        ServiceOffer,
    )

PROJECT = "ccbhub"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def hub_manifest() -> PluginManifest:  # type: ignore[empty-body]
    """Return the plugin's identity, dependencies and config type.

    Called once at start-up before anything else. ``id`` must match ``^[a-z][a-z0-9_]{1,39}$`` and is the
    prefix of the plugin's tables, routes (``/api/<id>``), pages (``/ui/<id>``) and event subjects.
    """


@hookspec
def hub_register_routes(ctx: PluginContext) -> Sequence[Any]:  # type: ignore[empty-body]
    """Return Litestar route handlers or Controllers for the plugin's JSON API.

    They are mounted in a Router at ``/api/<plugin-id>`` with ``opt={"plugin": id}``; each handler must say
    who may call it with ``opt={"access": "staff"}`` or ``opt={"roles": [...]}`` — a handler without a
    policy is refused at request time (deny by default).
    """


@hookspec
def hub_register_pages(ctx: PluginContext) -> Sequence[PageSpec]:  # type: ignore[empty-body]
    """Return the plugin's web pages (HTML handlers mounted at ``/ui/<plugin-id>``) and nav entries.

    Page templates live in the plugin's ``templates/`` folder and extend ``base.html`` of the web shell.
    """


@hookspec
def hub_register_event_types(ctx: PluginContext) -> Sequence[EventType]:  # type: ignore[empty-body]
    """Return the event subjects the plugin publishes with their payload Structs.

    They appear in ``GET /api/events/catalogue``; ``ctx.events.emit`` refuses a subject not registered here.
    """


@hookspec
def hub_register_event_handlers(ctx: PluginContext) -> Sequence[EventHandler]:  # type: ignore[empty-body]
    """Return the plugin's subscriptions.

    The core subscribes each one, dedupes deliveries on the event id, runs the handler under a timeout, and
    catches what it raises (the plugin is marked ``degraded`` after repeated failures, the subscription
    goes on).
    """


@hookspec
def hub_register_checks(ctx: PluginContext) -> Sequence[CheckSpec]:  # type: ignore[empty-body]
    """Return the plugin's health and compliance checks.

    Run by ``ccbhub check``, ``GET /api/checks`` and the dashboard, each under its timeout; a crash or a
    timeout is a failure (compliance checks fail closed).
    """


@hookspec
def hub_contact_hints(ctx: PluginContext, contact: Any) -> Sequence[ContactHint]:  # type: ignore[empty-body]
    """Return hints for the CSR's screen during a customer contact (may return an awaitable)."""


@hookspec
def hub_lifespan(ctx: PluginContext) -> AbstractAsyncContextManager[None] | None:
    """Return an async context manager entered at start-up (in dependency order) and exited at shutdown.

    Use it for background tasks. Entering it is bounded by ``HUB_PLUGIN_TIMEOUT_S``; raising marks the
    plugin ``failed`` (a ``critical`` plugin stops the hub instead).
    """


@hookspec
def hub_register_cli(group: click.Group) -> None:
    """Add subcommands to the ``ccbhub`` command group."""


@hookspec
def hub_provide_services(ctx: PluginContext) -> Sequence[ServiceOffer]:  # type: ignore[empty-body]
    """Return the typed services (a Protocol from the plugin's ``public`` module) other plugins may use.

    Called after registration, in dependency order; a plugin that names this one in ``depends_on`` or
    ``after_depends_on`` reaches them through ``ctx.services.get(Protocol)``.
    """


@hookspec
def hub_register_jobs(ctx: PluginContext) -> Sequence[JobSpec]:  # type: ignore[empty-body]
    """Return the plugin's periodic jobs.

    The core's job runner runs each one on its schedule under its timeout, with retries, and exactly once
    across all hub processes sharing the database (a database lock on PostgreSQL).
    """
