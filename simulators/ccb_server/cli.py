"""The ``ccb`` command: serve the simulated CCB with granian on 127.0.0.1 (or another address).

Options reach the granian worker through ``CCB_SIM_*`` environment variables, because granian imports the
app by name in its own process. The database is migrated (and optionally seeded) here, before serving, so
a bad URL or a failed migration is reported before the port is bound.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select

from simulators.ccb_server.app import DEFAULT_DATABASE, DEFAULT_SECRET
from simulators.cli import simulate_group

__all__ = ["ccb_command", "register"]


def _seed(database_url: str, secret_key: str, customers: int, out: Path) -> int:
    """Seed an empty database with ``customers`` customers; returns how many were added (0 if not empty)."""
    from core.ccb import models as m
    from core.ccb.seed import identity_key, seed_customers
    from core.db import Database

    async def run() -> list[Any]:
        db = Database(database_url)
        try:
            async with db.session() as session:
                present = await session.scalar(select(func.count()).select_from(m.Account))
            if present:
                return []
            return list(await seed_customers(db, customers, 1, identity_key(secret_key)))
        finally:
            await db.dispose()

    accounts = asyncio.run(run())
    if accounts:
        out.parent.mkdir(parents=True, exist_ok=True)
        # The demo access codes exist in the clear only in this file (simulator data, never real customers).
        with out.open("w", encoding="utf-8") as fh:
            for account in accounts:
                fh.write(json.dumps({f: getattr(account, f) for f in account.__struct_fields__}) + "\n")
        out.chmod(0o600)
    return len(accounts)


@click.command("ccb")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(1, 65535), default=8100, show_default=True)
@click.option(
    "--database",
    "database_url",
    default=DEFAULT_DATABASE,
    show_default=True,
    help="SQLAlchemy async URL of the simulator's own database.",
)
@click.option(
    "--latency-ms", type=click.IntRange(0, 60_000), default=0, show_default=True, help="Added to every call."
)
@click.option(
    "--error-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Share of requests answered 503 at random.",
)
@click.option(
    "--seed-customers",
    type=click.IntRange(min=1),
    default=None,
    help="Seed this many synthetic customers when the database is empty.",
)
@click.option(
    "--secret-key",
    default=DEFAULT_SECRET,
    show_default=True,
    help="Source of the identity-hash key the seeded access codes verify against.",
)
def ccb_command(
    host: str,
    port: int,
    database_url: str,
    latency_ms: int,
    error_rate: float,
    seed_customers: int | None,
    secret_key: str,
) -> None:
    """Serve a simulated CCB over HTTP (faults switchable at POST /_faults)."""
    from core.migrate import upgrade

    if not database_url.startswith(("sqlite+aiosqlite:///", "postgresql+asyncpg://")):
        raise click.BadParameter(
            "expected sqlite+aiosqlite:///path or postgresql+asyncpg://…", param_hint="'--database'"
        )
    if database_url.startswith("sqlite+aiosqlite:///"):
        Path(database_url.removeprefix("sqlite+aiosqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    upgrade(database_url)
    if seed_customers:
        out = Path("var") / "ccb-sim-customers.jsonl"
        added = _seed(database_url, secret_key, seed_customers, out)
        if added:
            click.echo(
                f"seeded {added} customers; demo access codes and SSN last four are in {out}", err=True
            )
        else:
            click.echo("the database already has customers; not seeding", err=True)
    os.environ.update(
        {
            "CCB_SIM_DATABASE": database_url,
            "CCB_SIM_SECRET_KEY": secret_key,
            "CCB_SIM_LATENCY_MS": str(latency_ms),
            "CCB_SIM_ERROR_RATE": str(error_rate),
        }
    )
    from granian import Granian
    from granian.constants import Interfaces

    click.echo(f"simulated CCB on http://{host}:{port}/ccb (faults: http://{host}:{port}/_faults)", err=True)
    Granian("simulators.ccb_server.app:app", address=host, port=port, interface=Interfaces.ASGI).serve()


def register(cli: click.Group) -> None:
    """The ``ccbhub.cli`` entry point: adds ``ccbhub simulate ccb``."""
    simulate_group(cli).add_command(ccb_command)
