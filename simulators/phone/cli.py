"""The ``phone`` command: simulate one queue in load mode (λ, h, N) and compare it with Erlang C/A."""

from __future__ import annotations

import json
import math
import secrets
from typing import Any

import click
from rich.console import Console

from simulators.phone.config import single_queue_config
from simulators.phone.engine import simulate
from simulators.phone.report import comparison_table, model_figures, summary_payload

__all__ = ["phone_command"]


def _require(condition: bool, option: str, message: str) -> None:
    if not condition:
        raise click.BadParameter(message, param_hint=f"'{option}'")


@click.command("phone")
@click.option("--agents", type=int, required=True, help="Agents on the queue (N).")
@click.option("--calls-per-hour", type=float, required=True, help="Offered calls per hour (λ).")
@click.option(
    "--aht", type=float, required=True, help="Mean handle time in seconds: talk + hold + wrap-up (h)."
)
@click.option(
    "--aht-dist",
    type=click.Choice(["exponential", "lognormal"]),
    default="exponential",
    show_default=True,
    help="Handle-time distribution.",
)
@click.option(
    "--aht-cv",
    type=float,
    default=None,
    help="Coefficient of variation of handle times (lognormal only; default 1.0).",
)
@click.option(
    "--patience",
    type=float,
    default=None,
    help="Mean caller patience in seconds (exponential); callers never abandon without it.",
)
@click.option(
    "--sl-threshold", type=float, default=20.0, show_default=True, help="Service-level threshold T, seconds."
)
@click.option("--calls", type=int, default=None, help="Stop after this many offered calls.")
@click.option("--hours", type=float, default=None, help="Stop arrivals after this many simulated hours.")
@click.option(
    "--seed", type=int, default=None, help="Root seed; a random one is chosen and shown if omitted."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option(
    "--warmup-fraction",
    type=float,
    default=0.1,
    show_default=True,
    help="Leading fraction of the run dropped from the statistics.",
)
@click.option(
    "--event-log",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write every simulated event to this file as JSON lines.",
)
def phone_command(
    agents: int,
    calls_per_hour: float,
    aht: float,
    aht_dist: str,
    aht_cv: float | None,
    patience: float | None,
    sl_threshold: float,
    calls: int | None,
    hours: float | None,
    seed: int | None,
    as_json: bool,
    warmup_fraction: float,
    event_log: str | None,
) -> None:
    """Simulate a call centre queue and compare it with Erlang C (or Erlang A with --patience).

    Exactly one of --calls and --hours sets the run length. With exponential handle times
    the simulated system is exactly the model, so differences are sampling noise; use
    100,000 calls or more for figures within a few per cent.
    """
    _require(agents >= 1, "--agents", "must be at least 1")
    _require(
        math.isfinite(calls_per_hour) and calls_per_hour > 0, "--calls-per-hour", "must be a positive number"
    )
    _require(math.isfinite(aht) and aht > 0, "--aht", "must be a positive number of seconds")
    if aht_cv is not None:
        _require(math.isfinite(aht_cv) and aht_cv >= 0, "--aht-cv", "must be a number >= 0")
        _require(
            aht_dist == "lognormal" or aht_cv == 1.0,
            "--aht-cv",
            "exponential handle times always have cv 1; add --aht-dist lognormal for another cv",
        )
    if patience is not None:
        _require(
            math.isfinite(patience) and patience > 0, "--patience", "must be a positive number of seconds"
        )
    _require(math.isfinite(sl_threshold) and sl_threshold >= 0, "--sl-threshold", "must be a number >= 0")
    if (calls is None) == (hours is None):
        raise click.UsageError("give exactly one of --calls or --hours")
    if calls is not None:
        _require(calls >= 1, "--calls", "must be at least 1")
    if hours is not None:
        _require(math.isfinite(hours) and hours > 0, "--hours", "must be a positive number")
    _require(0.0 <= warmup_fraction < 1.0, "--warmup-fraction", "must be at least 0 and below 1")
    load = calls_per_hour * aht / 3600.0
    _require(
        patience is not None or load < agents,
        "--agents",
        f"the offered load is {load:g} Erlangs (calls per hour × aht / 3600), so Erlang C needs more "
        f"than {load:g} agents; add agents or model abandonment with --patience",
    )

    if seed is None:
        seed = secrets.randbelow(2**32)
    cv = 1.0 if aht_cv is None else aht_cv
    config = single_queue_config(
        agents=agents,
        calls_per_hour=calls_per_hour,
        aht_seconds=aht,
        seed=seed,
        calls=calls,
        hours=hours,
        aht_distribution="lognormal" if aht_dist == "lognormal" else "exponential",
        aht_cv=cv,
        patience_seconds=patience,
        sl_threshold_seconds=sl_threshold,
        warmup_fraction=warmup_fraction,
    )
    figures = model_figures(
        calls_per_hour=calls_per_hour,
        aht_seconds=aht,
        agents=agents,
        threshold_seconds=sl_threshold,
        patience_seconds=patience,
        exponential_handle=aht_dist == "exponential",
    )

    if event_log is not None:
        try:
            with open(event_log, "w", encoding="utf-8", newline="\n") as log:
                result = simulate(config, log)
        except OSError as exc:
            raise click.BadParameter(
                f"cannot write {event_log}: {exc.strerror}", param_hint="'--event-log'"
            ) from exc
    else:
        result = simulate(config)

    if as_json:
        parameters: dict[str, Any] = {
            "agents": agents,
            "calls_per_hour": calls_per_hour,
            "aht_seconds": aht,
            "aht_distribution": aht_dist,
            "aht_cv": cv,
            "patience_seconds": patience,
            "calls": calls,
            "hours": hours,
            "warmup_fraction": warmup_fraction,
        }
        click.echo(json.dumps(summary_payload(result.summary, figures, parameters), allow_nan=False))
        return
    console = Console()
    console.print(comparison_table(result.summary, figures))
    console.print(f"seed: {result.seed}")
