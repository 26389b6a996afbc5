"""The ``phone`` command: simulate one queue in load mode (λ, h, N) and compare it with Erlang C/A.

With ``--live URL`` the same traffic drives a running hub through its telephony API instead, in scaled
real time (:mod:`simulators.phone.live`).
"""

from __future__ import annotations

import json
import math
import secrets
from typing import Any

import click
from rich.console import Console

from simulators.cli import simulate_group
from simulators.phone.config import single_queue_config
from simulators.phone.engine import simulate
from simulators.phone.live import (
    DEFAULT_EXTENSIONS,
    DEFAULT_SPEED,
    LiveOptions,
    check_url,
    parse_extensions,
    run_live,
)
from simulators.phone.load import LoadProfile
from simulators.phone.report import comparison_table, model_figures, summary_payload

__all__ = ["phone_command", "register"]


def _require(condition: bool, option: str, message: str) -> None:
    if not condition:
        raise click.BadParameter(message, param_hint=f"'{option}'")


# Options that only mean something with --live, by parameter name, and the offline-only ones.
_LIVE_ONLY = {
    "speed": "--speed",
    "token": "--token",
    "queue": "--queue",
    "agent_names": "--agent",
    "agent_prefix": "--agent-prefix",
    "extensions": "--extensions",
    "ring": "--ring",
    "wrap_up": "--wrap-up",
}
_OFFLINE_ONLY = {"warmup_fraction": "--warmup-fraction", "event_log": "--event-log"}


def _given(ctx: click.Context, name: str) -> bool:
    """Whether the option was given (rather than left at its default)."""
    source = ctx.get_parameter_source(name)
    return source in (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)


def _param(ctx: click.Context, name: str) -> click.Parameter:
    return next(p for p in ctx.command.params if p.name == name)


@click.command("phone")
@click.option(
    "--agents",
    type=int,
    default=None,
    help="Agents on the queue (N); with --live, how many of the hub's agents to drive (default: all).",
)
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
@click.option(
    "--live",
    "live_url",
    metavar="URL",
    default=None,
    help="Drive the hub at this URL through its telephony API instead of simulating offline.",
)
@click.option(
    "--speed",
    type=float,
    default=None,
    help=f"Live: simulated seconds per wall-clock second (default {DEFAULT_SPEED:g}).",
)
@click.option(
    "--token",
    envvar="HUB_TOKEN",
    default=None,
    help="Live: API token of a lead of the agents' team or of an admin (default: $HUB_TOKEN).",
)
@click.option("--queue", default=None, help="Live: queue name or number to call (default: the hub's first).")
@click.option(
    "--agent",
    "agent_names",
    multiple=True,
    help="Live: an agent to drive (repeatable); default: the agents the token's user oversees.",
)
@click.option("--agent-prefix", default=None, help="Live: drive only agents whose name starts with this.")
@click.option(
    "--extensions",
    default=None,
    help=f"Live: extensions to sign agents in on, e.g. 1001-1020,1030 (default {DEFAULT_EXTENSIONS}).",
)
@click.option(
    "--ring",
    type=float,
    default=None,
    help="Live: seconds an offered call rings before the answer (default 2).",
)
@click.option(
    "--wrap-up",
    type=float,
    default=None,
    help="Live: wrap-up seconds after each call, part of --aht (default 0: READY at once).",
)
@click.pass_context
def phone_command(
    ctx: click.Context,
    agents: int | None,
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
    live_url: str | None,
    speed: float | None,
    token: str | None,
    queue: str | None,
    agent_names: tuple[str, ...],
    agent_prefix: str | None,
    extensions: str | None,
    ring: float | None,
    wrap_up: float | None,
) -> None:
    """Simulate a call centre queue and compare it with Erlang C (or Erlang A with --patience).

    Exactly one of --calls and --hours sets the run length. With exponential handle times
    the simulated system is exactly the model, so differences are sampling noise; use
    100,000 calls or more for figures within a few per cent.

    With --live URL the callers and agents drive a running hub instead, in scaled real time
    (--speed); the token (--token or HUB_TOKEN) must be a lead's of the agents' team or an admin's.
    """
    if live_url is not None:
        _live(
            ctx,
            live_url,
            agents=agents,
            calls_per_hour=calls_per_hour,
            aht=aht,
            aht_dist=aht_dist,
            aht_cv=aht_cv,
            patience=patience,
            sl_threshold=sl_threshold,
            calls=calls,
            hours=hours,
            seed=seed,
            as_json=as_json,
            speed=speed,
            token=token,
            queue=queue,
            agent_names=agent_names,
            agent_prefix=agent_prefix,
            extensions=extensions,
            ring=ring,
            wrap_up=wrap_up,
        )
        return
    for name, option in _LIVE_ONLY.items():
        if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE:
            raise click.BadParameter("only with --live URL", param_hint=f"'{option}'")
    if agents is None:
        raise click.MissingParameter(ctx=ctx, param=_param(ctx, "agents"))
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


def _live(
    ctx: click.Context,
    url: str,
    *,
    agents: int | None,
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
    speed: float | None,
    token: str | None,
    queue: str | None,
    agent_names: tuple[str, ...],
    agent_prefix: str | None,
    extensions: str | None,
    ring: float | None,
    wrap_up: float | None,
) -> None:
    """``--live``: check the options, then hand over to :func:`simulators.phone.live.run_live`."""
    for name, option in _OFFLINE_ONLY.items():
        if _given(ctx, name):
            raise click.BadParameter("not available with --live", param_hint=f"'{option}'")
    try:
        base_url = check_url(url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--live'") from None
    speed = DEFAULT_SPEED if speed is None else speed
    _require(math.isfinite(speed) and speed > 0, "--speed", "must be a positive number")
    _require(bool(token and token.strip()), "--token", "give the API token with --token or HUB_TOKEN")
    if agents is not None:
        _require(agents >= 1, "--agents", "must be at least 1")
    _require(not (agent_names and agent_prefix), "--agent-prefix", "give either --agent or --agent-prefix")
    try:
        extension_list = parse_extensions(extensions or DEFAULT_EXTENSIONS)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--extensions'") from None
    ring_s = 2.0 if ring is None else ring
    wrap_s = 0.0 if wrap_up is None else wrap_up
    _require(math.isfinite(ring_s) and ring_s >= 0, "--ring", "must be a number of seconds >= 0")
    _require(math.isfinite(wrap_s) and wrap_s >= 0, "--wrap-up", "must be a number of seconds >= 0")
    _require(
        math.isfinite(calls_per_hour) and calls_per_hour > 0, "--calls-per-hour", "must be a positive number"
    )
    _require(math.isfinite(aht) and aht > 0, "--aht", "must be a positive number of seconds")
    _require(wrap_s < aht, "--wrap-up", "must be below --aht, which includes the wrap-up")
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

    profile = LoadProfile(
        calls_per_hour=calls_per_hour,
        aht_seconds=aht,
        seed=secrets.randbelow(2**32) if seed is None else seed,
        calls=calls,
        hours=hours,
        queue=queue or "",
        aht_distribution="lognormal" if aht_dist == "lognormal" else "exponential",
        aht_cv=1.0 if aht_cv is None else aht_cv,
        patience_seconds=patience,
        ring_seconds=ring_s,
        wrap_up_seconds=wrap_s,
        sl_threshold_seconds=sl_threshold,
    )
    options = LiveOptions(
        url=base_url,
        token=str(token).strip(),
        speed=speed,
        agents=agents,
        agent_names=tuple(agent_names),
        agent_prefix=agent_prefix,
        extensions=extension_list,
        queue=queue,
        as_json=as_json,
    )
    code = run_live(options, profile)
    if code:
        ctx.exit(code)


def register(cli: click.Group) -> None:
    """The ``ccbhub.cli`` entry point: adds ``ccbhub simulate phone``."""
    simulate_group(cli).add_command(phone_command)
