"""``ccbhub metrics export --month YYYY-MM [--out FILE]``: the monthly workbook without the web server.

It reads the hub's database directly (the settings the ``ccbhub`` group loaded, else ``HUB_*`` and
hub.toml) and writes the same workbook as ``GET /api/metrics/monthly.xlsx``. A bad ``--month`` exits 2
naming the option, like every other ``ccbhub`` usage error.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import click

from core.contract.cli import hub_database
from plugins.metrics.queries import rows_between
from plugins.metrics.rules import MonthError, Row, build_workbook, month_days, parse_month


def _month(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, int]:
    try:
        return parse_month(value)
    except MonthError as exc:
        raise click.BadParameter(str(exc)) from None


async def _rows(year: int, month: int) -> list[Row]:
    days = month_days(year, month)
    async with hub_database() as db, db.session() as session:
        return await rows_between(session, days[0], days[-1])


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
    def export(month: tuple[int, int], out: Path | None) -> None:
        """Write the monthly report (one sheet per section) as an Excel workbook."""
        year, mon = month
        rows = asyncio.run(_rows(year, mon))
        target = out or Path(f"metrics-{year}-{mon:02d}.xlsx")
        target.write_bytes(build_workbook(year, mon, rows, generated_at=dt.datetime.now(dt.UTC)))
        click.echo(f"wrote {target} ({len(rows)} tally row(s), {len({r.section for r in rows})} section(s))")
