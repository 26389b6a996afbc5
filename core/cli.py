"""The ``ccbhub`` command line: serve, migrate, manage staff, sections and plugins, run checks, verify audit.

Bad options or configuration print a message naming the option and exit with code 2; ``ccbhub check``
exits 0 when every check passes and 1 when any fails.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import msgspec
from rich.console import Console
from rich.table import Table

from core.files import write_private
from core.settings import Settings, SettingsError, load_settings

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)


def usage_error(message: str) -> click.UsageError:
    return click.UsageError(message)


class HubContext:
    """Lazily loaded settings and hub for subcommands."""

    def __init__(self, config: str | None, no_plugins: bool) -> None:
        self.config = config
        self.no_plugins = no_plugins
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                settings = load_settings(config_path=self.config)
            except SettingsError as exc:
                raise usage_error(str(exc)) from None
            if self.no_plugins:
                settings = msgspec.structs.replace(settings, no_plugins=True)
            self._settings = settings
        return self._settings

    def hub(self) -> Any:
        from core.hub import Hub

        return Hub(self.settings)

    def run(self, fn: Callable[[Any], Awaitable[T]], *, start: bool = False) -> T:
        """Build a hub, optionally start it, run ``fn(hub)`` and always shut it down."""
        import asyncio

        from core.hub import DatabaseNotReady

        async def main() -> T:
            hub = self.hub()
            try:
                if start:
                    await hub.start(
                        run_jobs=False
                    )  # periodic jobs belong to served hubs, never to a CLI command
                else:
                    await hub._check_schema()
                    await hub.bus.start()
                    await hub.enablement.load(hub.db)
                return await fn(hub)
            finally:
                if start:
                    await hub.stop()
                else:
                    await hub.relay.stop()
                    await hub.checkpoint_audit()  # a command that audited something signs it
                    await hub.db.dispose()

        try:
            return asyncio.run(main())
        except DatabaseNotReady as exc:
            err_console.print(f"[red]{exc}[/red]")
            raise SystemExit(2) from None


pass_hub = click.make_pass_decorator(HubContext)


# Commands the core ships whose modules are heavy (ORM models, the seeder): imported on first use only.
LAZY_COMMANDS: dict[str, str] = {
    "seed": "core.ccb.seed:seed_command",
    "offline": "core.ccb.offline_cli:offline_group",
    "security": "core.security_scan:security_group",
}
# Installed packages add ``ccbhub`` subcommands here: each entry point is ``register(group)``, called with
# the root group (the simulators add ``ccbhub simulate …`` this way).
CLI_ENTRY_POINT_GROUP = "ccbhub.cli"


class HubGroup(click.Group):
    """The root group; it finds its subcommands lazily, so ``import core.cli`` stays cheap.

    Besides its own commands it offers the core's heavy ones (:data:`LAZY_COMMANDS`), the commands of the
    ``ccbhub.cli`` entry points and, unless plugins are switched off, the plugins' ``hub_register_cli``
    commands; each set is loaded the first time the group is listed or a name it lacks is asked for.
    """

    _extensions_loaded = False
    _plugins_loaded = False

    def _load_lazy(self, cmd_name: str) -> None:
        target = LAZY_COMMANDS.get(cmd_name)
        if target is None or cmd_name in self.commands:
            return
        import importlib

        module_name, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        self.add_command(command, cmd_name)

    def _load_extensions(self) -> None:
        if self._extensions_loaded:
            return
        self._extensions_loaded = True
        import importlib.metadata

        for entry in importlib.metadata.entry_points(group=CLI_ENTRY_POINT_GROUP):
            try:
                entry.load()(self)
            except Exception as exc:
                err_console.print(f"[yellow]{entry.name}: its commands failed to load: {exc}[/yellow]")

    def _load_plugin_commands(self, ctx: click.Context) -> None:
        if self._plugins_loaded or ctx.params.get("no_plugins"):
            return
        if os.environ.get("HUB_NO_PLUGINS", "").lower() in {"1", "true", "yes"}:
            return
        self._plugins_loaded = True
        from core.plugins import PluginManager, PluginStatus

        manager = PluginManager()
        disabled = os.environ.get("HUB_DISABLED_PLUGINS", "").split(",")
        manager.discover(entry_points=True, disabled=disabled)
        for rec in manager.records.values():
            if rec.status is PluginStatus.ACTIVE and manager.has_hook(rec, "hub_register_cli"):
                try:
                    manager.call_one(rec, "hub_register_cli", group=self)
                except Exception as exc:
                    err_console.print(f"[yellow]plugin {rec.id}: its commands failed to load: {exc}[/yellow]")

    def list_commands(self, ctx: click.Context) -> list[str]:
        for name in LAZY_COMMANDS:
            self._load_lazy(name)
        self._load_extensions()
        self._load_plugin_commands(ctx)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load_lazy(cmd_name)
        command = super().get_command(ctx, cmd_name)
        if command is None:
            self._load_extensions()
            command = super().get_command(ctx, cmd_name)
        if command is None:
            self._load_plugin_commands(ctx)
            command = super().get_command(ctx, cmd_name)
        return command


@click.group(cls=HubGroup)
@click.option(
    "--config", type=click.Path(dir_okay=False), help="hub.toml to read (default: HUB_CONFIG or ./hub.toml)"
)
@click.option("--no-plugins", is_flag=True, help="Start with the core only (kill switch for every plugin).")
@click.pass_context
def main(ctx: click.Context, config: str | None, no_plugins: bool) -> None:
    """ccbhub — the customer service integration hub."""
    from core.redact import install_log_redaction

    # Commands log through Python's last-resort handler (or the one a command sets up): masked either way.
    install_log_redaction()
    ctx.obj = HubContext(config, no_plugins)


# -- serve --
@main.command()
@click.option("--host", default=None, help="Address to bind (default HUB_HOST, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default HUB_PORT, 8000).")
@click.option("--workers", type=click.IntRange(1, 16), default=1, show_default=True)
@pass_hub
def serve(hc: HubContext, host: str | None, port: int | None, workers: int) -> None:
    """Serve the hub with granian."""
    settings = hc.settings
    host = host or settings.host
    port = port or settings.port
    hc.run(_preflight)
    from granian import Granian
    from granian.constants import Interfaces

    if hc.no_plugins:
        os.environ["HUB_NO_PLUGINS"] = "1"
    console.print(
        f"ccbhub serving on [bold]http://{host}:{port}/ui/[/bold]  (API docs: http://{host}:{port}/schema)"
    )
    Granian("core.asgi:app", address=host, port=port, interface=Interfaces.ASGI, workers=workers).serve()


async def _preflight(hub: Any) -> None:
    """Fail before binding the port when the database is not migrated (checked by ``run``)."""


# -- db --
@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_hub
def db_upgrade(hc: HubContext) -> None:
    """Apply every pending migration (core and plugins)."""
    from core.migrate import upgrade

    upgrade(hc.settings.database_url)
    console.print("database is up to date")


@db.command("pending")
@pass_hub
def db_pending(hc: HubContext) -> None:
    """List migrations not yet applied; exit 1 when there are any."""
    from core.migrate import pending

    todo = pending(hc.settings.database_url)
    for rev in todo:
        console.print(rev)
    raise SystemExit(1 if todo else 0)


# -- users --
@main.group()
def users() -> None:
    """Staff users."""


@users.command("add")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["csr", "lead", "supervisor", "security", "eteam", "solar", "cro", "admin"]),
)
@click.option("--section", "sections", multiple=True, help="A section the user belongs to (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read a password for web login from standard input.")
@click.option("--json", "as_json", is_flag=True, help='Print {"name": …, "token": …}.')
@pass_hub
def users_add(
    hc: HubContext, name: str, role: str, sections: tuple[str, ...], password_stdin: bool, as_json: bool
) -> None:
    """Create a staff user and print their API token (shown this once)."""
    from core.staff import StaffError

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None

    async def add(hub: Any) -> str:
        async with hub.db.session() as session:
            _user, token = await hub.staff.add_user(
                session, name=name, role=role, sections=list(sections), password=password, actor="cli"
            )
        return str(token)

    try:
        token = hc.run(add)
    except StaffError as exc:
        option = {"name": "NAME", "role": "--role", "section": "--section", "password": "--password-stdin"}[
            exc.field
        ]
        raise click.BadParameter(exc.message, param_hint=option) from None
    if as_json:
        click.echo(json.dumps({"name": name, "token": token}))
    else:
        console.print(f"created [bold]{name}[/bold] ({role}); API token (shown once):")
        click.echo(token)


# -- sections --
@main.group()
def sections() -> None:
    """Sections of the customer service operation."""


@sections.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_hub
def sections_list(hc: HubContext, as_json: bool) -> None:
    async def fetch(hub: Any) -> dict[str, str]:
        return dict(hub.enablement.sections)

    found = hc.run(fetch)
    if as_json:
        click.echo(json.dumps([{"slug": k, "title": v} for k, v in sorted(found.items())]))
        return
    for slug, title in sorted(found.items()):
        console.print(f"{slug:28} {title}")


@sections.command("add")
@click.argument("slug")
@click.option("--title", required=True)
@pass_hub
def sections_add(hc: HubContext, slug: str, title: str) -> None:
    """Add a section (SLUG: lower-case letters, digits and '-')."""
    import re

    from core.sections import add_section
    from core.settings import SECTION_SLUG

    if not re.fullmatch(SECTION_SLUG, slug):
        raise click.BadParameter(
            "use 2-40 lower-case letters, digits or '-', starting with a letter", param_hint="SLUG"
        )

    async def add(hub: Any) -> bool:
        async with hub.db.session() as session:
            created: bool = await add_section(session, hub.events, hub.audit, slug, title, "cli")
        await hub.relay.run_once()
        return created

    if not hc.run(add):
        raise click.BadParameter(f"section {slug!r} already exists", param_hint="SLUG")
    console.print(f"added section {slug}")


# -- plugins --
@main.group()
def plugins() -> None:
    """Installed plugins and their enablement per section."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_hub
def plugins_list(hc: HubContext, as_json: bool) -> None:
    """Every plugin with its status, sections and last error."""
    from core.api import all_plugin_info

    async def fetch(hub: Any) -> list[Any]:
        return all_plugin_info(hub, errors=True)  # the operator, on the hub's own machine

    infos = hc.run(fetch)
    if as_json:
        click.echo(msgspec.json.encode(infos).decode())
        return
    table = Table("id", "title", "version", "status", "sections", "last error")
    for p in infos:
        table.add_row(p.id, p.title, p.version, p.status, ", ".join(p.sections) or "—", p.last_error or "")
    console.print(table)


def _toggle(hc: HubContext, plugin_id: str, section: str, enabled: bool) -> None:
    from core.sections import UnknownSection, set_enabled

    async def change(hub: Any) -> bool:
        rec = hub.plugins.records.get(plugin_id)
        if rec is None:
            raise click.BadParameter(f"no plugin {plugin_id!r} is installed", param_hint="ID")
        if rec.source == "core":
            raise click.BadParameter("the core is always enabled", param_hint="ID")
        async with hub.db.session() as session:
            changed: bool = await set_enabled(
                session,
                hub.events,
                hub.audit,
                plugin_id=plugin_id,
                section=section,
                enabled=enabled,
                actor="cli",
            )
        await hub.relay.run_once()
        return changed

    try:
        changed = hc.run(change)
    except UnknownSection:
        raise click.BadParameter(f"no section {section!r}", param_hint="--section") from None
    state = "enabled" if enabled else "disabled"
    console.print(f"{plugin_id} {state} for {section}" + ("" if changed else " (no change)"))


@plugins.command("enable")
@click.argument("plugin_id", metavar="ID")
@click.option("--section", required=True)
@pass_hub
def plugins_enable(hc: HubContext, plugin_id: str, section: str) -> None:
    """Enable plugin ID for a section (takes effect without a restart)."""
    _toggle(hc, plugin_id, section, True)


@plugins.command("disable")
@click.argument("plugin_id", metavar="ID")
@click.option("--section", required=True)
@pass_hub
def plugins_disable(hc: HubContext, plugin_id: str, section: str) -> None:
    """Disable plugin ID for a section."""
    _toggle(hc, plugin_id, section, False)


# -- check --
@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--section", default=None, help="Only the checks of plugins enabled for this section (and the core)."
)
@click.option("--plugin", "plugin_id", default=None, help="Only this plugin's checks.")
@pass_hub
def check(hc: HubContext, as_json: bool, section: str | None, plugin_id: str | None) -> None:
    """Run health and compliance checks; exit 0 when all pass, 1 when any fails."""

    async def run(hub: Any) -> list[Any]:
        if plugin_id is not None and plugin_id not in hub.plugins.records:
            raise click.BadParameter(f"no plugin {plugin_id!r}", param_hint="--plugin")
        if section is not None and section not in hub.enablement.sections:
            raise click.BadParameter(f"no section {section!r}", param_hint="--section")
        outcomes: list[Any] = await hub.run_checks(section=section, plugin=plugin_id)
        return outcomes

    started = time.perf_counter()
    outcomes = hc.run(run, start=True)
    failed = [o for o in outcomes if not o.passed]
    if as_json:
        click.echo(
            msgspec.json.encode(
                {
                    "passed": not failed,
                    "failed": len(failed),
                    "elapsed_s": round(time.perf_counter() - started, 3),
                    "checks": outcomes,
                }
            ).decode()
        )
    else:
        table = Table("plugin", "check", "kind", "status", "message")
        for o in outcomes:
            colour = "green" if o.passed else "red"
            table.add_row(o.plugin, o.name, o.kind.value, f"[{colour}]{o.status.value}[/{colour}]", o.message)
        console.print(table)
        console.print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    raise SystemExit(1 if failed else 0)


# -- audit --
@main.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
@click.option(
    "--require-checkpoints",
    is_flag=True,
    help="Fail (exit 1) when there is no checkpoint file to prove the log was not truncated.",
)
@pass_hub
def audit_verify(hc: HubContext, require_checkpoints: bool) -> None:
    """Check every record's keyed digest, the sequence, the head and the signed checkpoints.

    Exit 1 listing what is wrong when a record was edited, deleted or re-chained, or the log is shorter
    than a checkpoint signed; warnings (no checkpoint file, legacy records) still exit 0.
    """
    from core.audit import verify_chain

    async def run(hub: Any) -> Any:
        async with hub.db.read() as session:
            return await verify_chain(
                session, hub.audit.key, hub.audit.checkpoints, require_checkpoints=require_checkpoints
            )

    result = hc.run(run)
    for warning in result.warnings:
        err_console.print(f"[yellow]warning: {warning}[/yellow]")
    if result.ok:
        console.print(f"audit log intact: {result.records} records, {result.checkpoints} checkpoints agree")
        return
    for problem in result.problems:
        err_console.print(f"[red]{problem}[/red]")
    raise SystemExit(1)


# -- demo --
DEMO_STAFF = [
    (
        "admin",
        "admin",
        [
            "call-center",
            "customer-service-center",
            "e-team",
            "solar",
            "customer-relations",
            "security",
            "lead",
        ],
    ),
    ("lead", "lead", ["call-center", "customer-service-center", "lead"]),
    ("csr", "csr", ["call-center", "customer-service-center"]),
    ("security", "security", ["security"]),
]


@main.group()
def demo() -> None:
    """Demo data for a first look."""


@demo.command("seed")
@click.option(
    "--credentials-file",
    type=click.Path(dir_okay=False),
    default="var/demo-credentials.txt",
    show_default=True,
)
@click.option(
    "--customers-file",
    type=click.Path(dir_okay=False),
    default="var/demo-customers.jsonl",
    show_default=True,
)
@click.option("--customers", type=click.IntRange(0, 5000), default=50, show_default=True)
@pass_hub
def demo_seed(hc: HubContext, credentials_file: str, customers_file: str, customers: int) -> None:
    """Create demo staff and synthetic customers when the database has none.

    Staff passwords are random and written to the credentials file; the customers' synthetic access
    codes and SSN last-4 digits (demo data only) go to the customers file, one JSON object per line.
    """
    from sqlalchemy import func, select

    from core.ccb.models import Account
    from core.ccb.seed import identity_key, seed_customers
    from core.models import StaffUser

    async def seed(hub: Any) -> tuple[list[tuple[str, str, str]], list[Any]]:
        made: list[tuple[str, str, str]] = []
        async with hub.db.session() as session:
            if not await session.scalar(select(func.count()).select_from(StaffUser)):
                for name, role, section_list in DEMO_STAFF:
                    password = secrets.token_urlsafe(9)
                    _user, token = await hub.staff.add_user(
                        session,
                        name=name,
                        role=role,
                        sections=section_list,
                        password=password,
                        actor="demo-seed",
                    )
                    made.append((name, password, token))
            has_accounts = bool(await session.scalar(select(func.count()).select_from(Account)))
        accounts: list[Any] = []
        if customers and not has_accounts:
            accounts = await seed_customers(hub.db, customers, 1, identity_key(hub.settings.secret_key))
        return made, accounts

    made, accounts = hc.run(seed)
    path = Path(credentials_file)
    if made:
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = ["# demo staff: name  password  api-token"] + [f"{n}  {p}  {t}" for n, p, t in made]
        write_private(path, "\n".join(lines) + "\n")
        console.print(f"demo staff created; their passwords and API tokens are in {path}")
    elif path.is_file():
        console.print(f"demo staff already present; credentials in {path}")
    else:
        console.print("staff already exist; demo staff not added")
    if accounts:
        out = Path(customers_file)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_private(out, "".join(msgspec.json.encode(a).decode() + "\n" for a in accounts))
        console.print(f"{len(accounts)} synthetic customers created; their demo access codes are in {out}")


if __name__ == "__main__":  # pragma: no cover
    main()
