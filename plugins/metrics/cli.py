"""``ccbhub metrics export --month YYYY-MM [--out FILE]``: the monthly workbook without the web server.

It reads the hub's database directly (the settings the ``ccbhub`` group loaded, else ``HUB_*`` and
hub.toml) and writes the same workbook as ``GET /api/metrics/monthly.xlsx``. A bad ``--month`` exits 2
naming the option, like every other ``ccbhub`` usage error.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import click

from plugins.metrics.queries import rows_between
from plugins.metrics.rules import MonthError, Row, build_workbook, month_days, parse_month


def _month(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, int]:
    try:
        return parse_month(value)
    except MonthError as exc:
        raise click.BadParameter(str(exc)) from None


async def _rows(database_url: str, year: int, month: int) -> list[Row]:
    from core.db import Database

    db = Database(database_url)
    try:
        days = month_days(year, month)
        async with db.session() as session:
            return await rows_between(session, days[0], days[-1])
    finally:
        await db.dispose()


def _settings(ctx: click.Context) -> Any:
    # Under ``ccbhub`` the group has already read --config; alone (tests, scripts) read the environment.
    found = getattr(ctx.find_root().obj, "settings", None)
    if found is not None:
        return found
    from core.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


def register(group: click.Group) -> None:
    @group.group("metrics")
    def metrics() -> None:
        """Customer service metrics."""

    @metrics.command("export")
    @click.option("--month", required=True, callback=_month, metavar="YYYY-MM", help="The month to report.")
    @click.option(
        "--out",
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        default=None,
        help="Where to write the workbook (default metrics-YYYY-MM.xlsx here).",
    )
    @click.pass_context
    def export(ctx: click.Context, month: tuple[int, int], out: Path | None) -> None:
        """Write the monthly report (one sheet per section) as an Excel workbook."""
        year, mon = month
        settings = _settings(ctx)
        rows = asyncio.run(_rows(settings.database_url, year, mon))
        target = out or Path(f"metrics-{year}-{mon:02d}.xlsx")
        target.write_bytes(build_workbook(year, mon, rows, generated_at=dt.datetime.now(dt.UTC)))
        click.echo(f"wrote {target} ({len(rows)} tally row(s), {len({r.section for r in rows})} section(s))")
