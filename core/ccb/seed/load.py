"""Entry points: ``seed_customers`` (rounds of generated rows inserted in bulk), ``identity_key`` and
``ccbhub seed``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import sys
import time
from collections.abc import Callable

import click
import msgspec
from sqlalchemy import inspect, select

from core.ccb import models as m
from core.ccb.rates import RateConfig, load_default_config
from core.ccb.seed.base import (
    CHUNK,
    DEFAULT_AS_OF,
    EARLIEST_AS_OF,
    NET_METERED_SHARE,
    ORDER,
    Rows,
    SeedAccount,
)
from core.ccb.seed.generator import Generator
from core.db import Database


async def seed_customers(
    db: Database,
    n: int,
    seed: int,
    hash_key: bytes,
    *,
    progress: Callable[[int, int], None] | None = None,
    as_of: dt.date = DEFAULT_AS_OF,
    rates: RateConfig | None = None,
    net_metered_share: float = NET_METERED_SHARE,
) -> list[SeedAccount]:
    """Create ``n`` residential customers in one transaction; returns them with their demo secrets.

    Deterministic: the same ``seed``, ``as_of`` and ``net_metered_share`` on an empty database give the
    same ids and amounts. Seeding the same seed twice into one database is refused (the ids would collide).
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    if not 0.0 <= net_metered_share <= 1.0:
        raise ValueError("net_metered_share must be between 0 and 1")
    if as_of < EARLIEST_AS_OF:
        raise ValueError(f"as_of must be on or after {EARLIEST_AS_OF.isoformat()} (rates start mid-2023)")
    generator = Generator(seed, hash_key, as_of, rates or load_default_config(), net_metered_share)
    accounts: list[SeedAccount] = []
    async with db.session() as session:
        for start in range(0, n, CHUNK):
            rows = Rows()
            batch = [generator.customer(rows) for _ in range(min(CHUNK, n - start))]
            if start == 0:
                taken = await session.scalar(select(m.Account.id).where(m.Account.id == batch[0].account_id))
                if taken is not None:
                    raise ValueError(f"seed {seed} is already loaded in this database (account {taken})")
            # Core executemany on the table: the ORM's bulk insert would split a round into one statement per
            # distinct set of NULL columns (and type-process every row twice), several times slower here.
            conn = await session.connection()
            for model in ORDER:
                table_rows = rows.tables.get(model)
                if table_rows:
                    await conn.execute(model.__table__.insert(), table_rows)
            accounts.extend(batch)
            if progress is not None:
                progress(len(accounts), n)
    return accounts


def identity_key(secret_key: str) -> bytes:
    """The identity-hash key derived from the hub's secret key (a separate key for a separate purpose)."""
    return hashlib.sha256(("ccb-identity:" + secret_key).encode()).digest()


@click.command("seed")
@click.option("--customers", type=click.IntRange(min=1), required=True, help="How many customers to create.")
@click.option("--seed", "seed_value", type=int, default=1, show_default=True, help="Random seed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per account per line.")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help=f"Last day of the synthetic year (default {DEFAULT_AS_OF.isoformat()}).",
)
def seed_command(customers: int, seed_value: int, as_json: bool, as_of: dt.datetime | None) -> None:
    """Load synthetic residential customers into the CCB mock.

    The demo access codes and SSN last four are verifiable only while the hub runs with the same
    HUB_SECRET_KEY; without one set, every process draws a random key.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from core.settings import SettingsError, load_settings

    err = Console(stderr=True)
    try:
        settings = load_settings()
        # An unset key is replaced by a random one on every load: two loads that differ reveal it.
        random_key = settings.secret_key != load_settings().secret_key
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    if random_key:
        err.print(
            "[yellow]HUB_SECRET_KEY is not set: the seeded access codes and SSN last four will not verify "
            "in any other process. Set a fixed HUB_SECRET_KEY and seed again for a usable demo.[/yellow]"
        )
    day = as_of.date() if as_of is not None else DEFAULT_AS_OF
    key = identity_key(settings.secret_key)

    async def run() -> tuple[list[SeedAccount], float]:
        db = Database(settings.database_url)
        try:
            async with db.engine.connect() as conn:
                tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            if "ccb_account" not in tables:
                raise click.UsageError("the database has no CCB tables: run `ccbhub db upgrade` first")
            with Progress(
                TextColumn("seeding customers"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=as_json,
            ) as bar:
                task = bar.add_task("seed", total=customers)
                started = time.perf_counter()
                try:
                    accounts = await seed_customers(
                        db,
                        customers,
                        seed_value,
                        key,
                        as_of=day,
                        progress=lambda done, _total: bar.update(task, completed=done),
                    )
                except ValueError as exc:
                    raise click.UsageError(str(exc)) from None
                return accounts, time.perf_counter() - started
        finally:
            await db.dispose()

    accounts, seconds = asyncio.run(run())
    if as_json:
        out = sys.stdout
        for account in accounts:
            out.write(json.dumps(msgspec.to_builtins(account)) + "\n")
    rate = len(accounts) / seconds if seconds > 0 else float("inf")
    err.print(
        f"seeded {len(accounts)} customers (seed {seed_value}, as of {day.isoformat()}) in {seconds:.1f}s "
        f"({rate:.0f} customers/s)"
    )
