"""Live mode of ``ccbhub simulate phone``: drive a running hub through its telephony API in scaled real time.

``ccbhub simulate phone --live URL`` plays the phone system and a set of agents against the hub at ``URL``
(see :mod:`simulators.phone.load` for what they do).  One simulated second takes ``1/speed`` wall-clock
seconds.  Every request goes to ``URL`` and nowhere else.

What the hub must provide:

* a **token** (``--token`` or the ``HUB_TOKEN`` environment variable) of a staff user with the role
  ``lead`` or ``admin``: only those may announce inbound calls, and the simulator acts for the agents with
  it.  A lead acts on the agents of the teams it leads (``[plugins.telephony]`` ``teams``), an admin on
  anyone;
* the **agents**: by default every agent the token's user sees in ``GET /api/phone/agents`` other than
  leads and the user itself (optionally only names starting with ``--agent-prefix``), or those named with
  ``--agent``.  Agents listed in a team need no staff account of their own;
* **extensions** to sign them in on: ``--extensions`` (default 1001-1020, the hub's default
  ``[plugins.telephony]`` extensions); ones in use or refused are skipped.

The agents are signed in and made READY at the start and signed out at the end, also after Ctrl-C (a
second Ctrl-C abandons the clean-up).  The hub's own timers (ring-no-answer, wrap-up) run on its wall
clock, not on the simulated one, and waits measured at a high speed include the hub's response times
multiplied by the speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import click
import httpx
from rich.console import Console
from rich.live import Live
from rich.table import Table

from simulators.phone.driver import PhoneApiError, PhoneDriver, PhoneDriverError
from simulators.phone.load import (
    LoadProfile,
    LoadRun,
    NoExtension,
    RunSummary,
    WallTimeline,
    prepare_agents,
)

__all__ = [
    "DEFAULT_EXTENSIONS",
    "DEFAULT_SPEED",
    "LiveOptions",
    "LiveSetupError",
    "check_url",
    "parse_extensions",
    "run_live",
]

DEFAULT_SPEED = 60.0
DEFAULT_EXTENSIONS = "1001-1020"
# Roles the hub lets announce inbound calls (the telephony API's PHONE_SYSTEM guard).
PHONE_SYSTEM_ROLES = frozenset({"lead", "admin"})
EXIT_INTERRUPTED = 130
_STREAM_OPEN_TIMEOUT_S = 10.0
_CLEAN_UP_TIMEOUT_S = 60.0
# How often (wall seconds) an idle run re-reads the agents and its open calls.
_HEARTBEAT_WALL_S = 2.0
# A run with work left and no progress for this long (wall seconds, and at least 10 handle times) stops:
# long enough for the hub's ring-no-answer timer (15 s by default) to fire on a call nobody answered.
_STALL_WALL_S = 60.0
_EXTENSION = re.compile(r"\d{1,15}")


class LiveSetupError(Exception):
    """The hub showed an option to be unusable; ``option`` names it (the command exits with 2)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option
        self.message = message


@dataclass(frozen=True, slots=True)
class LiveOptions:
    url: str
    token: str
    speed: float = DEFAULT_SPEED
    agents: int | None = None
    agent_names: tuple[str, ...] = ()
    agent_prefix: str | None = None
    extensions: tuple[str, ...] = ()
    queue: str | None = None
    as_json: bool = False


def check_url(url: str) -> str:
    """The hub's base URL without a trailing slash; raises ValueError unless it is plain http(s)://host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL of the hub, such as http://127.0.0.1:8000")
    if parts.username or parts.password:
        raise ValueError("must not carry credentials; give the token with --token or HUB_TOKEN")
    if parts.query or parts.fragment:
        raise ValueError("must be the hub's base URL, without a query or fragment")
    return url.rstrip("/")


def parse_extensions(text: str) -> tuple[str, ...]:
    """``"1001-1020,1030"`` → the extensions in that order; raises ValueError on anything else."""
    found: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        first, dash, last = part.partition("-")
        if not _EXTENSION.fullmatch(first) or (dash and not _EXTENSION.fullmatch(last)):
            raise ValueError(f"{part!r} is not an extension (digits) or a range such as 1001-1020")
        if not dash:
            found.append(first)
            continue
        low, high = int(first), int(last)
        if high < low or high - low >= 10_000:
            raise ValueError(f"{part!r} is not an increasing range of at most 10,000 extensions")
        width = len(first) if first.startswith("0") else 0
        found.extend(f"{n:0{width}d}" for n in range(low, high + 1))
    return tuple(dict.fromkeys(found))


def run_live(options: LiveOptions, profile: LoadProfile, console: Console | None = None) -> int:
    """Run one live session and print its summary; returns the exit code.

    0: every call was handled; 1: the run stalled or lost its permissions; 130: interrupted (Ctrl-C).
    Unusable options raise :class:`click.BadParameter` (exit 2), an unreachable hub
    :class:`click.ClickException` (exit 1).
    """
    console = console or Console()
    try:
        summary = asyncio.run(_session(options, profile, console))
    except LiveSetupError as exc:
        raise click.BadParameter(exc.message, param_hint=f"'{exc.option}'") from None
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot talk to the hub at {options.url}: {exc}") from None
    except PhoneDriverError as exc:
        raise click.ClickException(str(exc)) from None
    if options.as_json:
        click.echo(json.dumps(summary.to_dict(), allow_nan=False))
    else:
        console.print(summary_table(summary))
        console.print(f"seed: {summary.seed}")
        if summary.outcome != "completed":
            detail = f" ({summary.last_error})" if summary.last_error else ""
            console.print(f"[yellow]run {summary.outcome}{detail}[/yellow]")
    return {"completed": 0, "interrupted": EXIT_INTERRUPTED}.get(summary.outcome, 1)


# --------------------------------------------------------------------------------------------------
# The session
# --------------------------------------------------------------------------------------------------


class _Interrupts:
    """Ctrl-C or SIGTERM asks the run to stop cleanly; the handlers then go, so a second Ctrl-C aborts."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.fired = False
        self._callbacks: list[Callable[[], None]] = []
        self._installed: list[signal.Signals] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._fire)
            except (NotImplementedError, RuntimeError, ValueError):
                continue  # no signal handling here (not the main thread, or not a Unix loop)
            self._installed.append(sig)

    def _fire(self) -> None:
        self.fired = True
        self.uninstall()
        for callback in self._callbacks:
            callback()

    def on_fire(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)
        if self.fired:
            callback()

    def uninstall(self) -> None:
        for sig in self._installed:
            self._loop.remove_signal_handler(sig)
        self._installed.clear()


async def _session(options: LiveOptions, profile: LoadProfile, console: Console) -> RunSummary:
    timeline = WallTimeline(options.speed)
    async with httpx.AsyncClient(
        base_url=options.url, timeout=httpx.Timeout(10.0), follow_redirects=False
    ) as client:
        driver = PhoneDriver(client, options.token, record_events=False)
        me = await _who(driver)
        queue = await _pick_queue(driver, options.queue)
        agents = await _pick_agents(driver, str(me["name"]), options)
        profile = replace(profile, queue=queue)
        if not options.as_json:
            console.print(
                f"driving {options.url} as {me['name']} ({me['role']}): queue {queue}, "
                f"agents {', '.join(agents)}, ×{options.speed:g}, seed {profile.seed}"
            )
        interrupts = _Interrupts(asyncio.get_running_loop())
        connected = asyncio.Event()
        follower = asyncio.create_task(driver.follow(connected), name="phone-sim-events")
        touched: list[str] = []
        load: LoadRun | None = None
        try:
            await _wait_for_stream(follower, connected)
            try:
                await prepare_agents(
                    driver,
                    agents,
                    options.extensions,
                    should_stop=lambda: interrupts.fired,
                    touched=touched.append,
                )
            except NoExtension as exc:
                raise LiveSetupError("--extensions", str(exc)) from None
            if not interrupts.fired:
                await _check_served(driver, queue)
            load = LoadRun(
                driver,
                profile,
                timeline,
                agents,
                stall_seconds=max(10.0 * profile.aht_seconds, _STALL_WALL_S * options.speed),
                heartbeat_seconds=_HEARTBEAT_WALL_S * options.speed,
            )
            interrupts.on_fire(load.request_stop)
            show = not options.as_json and console.is_terminal
            with _status_display(console, load, options.speed, show):
                return await load.run()
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await follower
            # The agents go back to LOGOUT whatever happened; bounded, so a dead hub cannot hang the exit.
            with contextlib.suppress(httpx.HTTPError, PhoneDriverError, TimeoutError):
                async with asyncio.timeout(_CLEAN_UP_TIMEOUT_S):
                    if load is not None:
                        await load.wind_down(sign_out=True)
                    else:
                        for agent in touched:
                            await driver.sign_out(agent)
            interrupts.uninstall()


async def _who(driver: PhoneDriver) -> dict[str, Any]:
    try:
        me = await driver.me()
    except PhoneApiError as exc:
        if exc.status == 401:
            raise LiveSetupError("--token", "the hub rejected the token (401)") from None
        if exc.status == 404:
            raise LiveSetupError("--live", "no ccbhub API there (GET /api/me answered 404)") from None
        raise
    if me.get("role") not in PHONE_SYSTEM_ROLES:
        raise LiveSetupError(
            "--token",
            f"the token belongs to {me.get('name')} ({me.get('role')}); live mode needs a lead of the "
            "simulated agents' team or an admin, who may announce calls and act for agents",
        )
    return me


async def _pick_queue(driver: PhoneDriver, wanted: str | None) -> str:
    queues = await driver.queues()
    if not queues:
        raise LiveSetupError("--queue", "the hub has no queues configured")
    if wanted is None:
        return str(queues[0]["name"])
    for queue in queues:
        if wanted in (queue["name"], queue["number"]):
            return str(queue["name"])
    names = ", ".join(str(q["name"]) for q in queues)
    raise LiveSetupError("--queue", f"the hub has no queue {wanted!r} (it has: {names})")


async def _pick_agents(driver: PhoneDriver, me: str, options: LiveOptions) -> list[str]:
    if options.agent_names:
        for name in options.agent_names:
            try:
                await driver.agent(name)
            except PhoneApiError as exc:
                if exc.status == 403:
                    raise LiveSetupError("--agent", f"{me} may not act on agent {name!r}") from None
                if exc.status == 404:
                    raise LiveSetupError("--agent", f"the hub knows no agent {name!r}") from None
                raise
        candidates = list(options.agent_names)
    else:
        prefix = options.agent_prefix or ""
        candidates = sorted(
            str(a["loginId"])
            for a in await driver.list_agents()
            if a["loginId"] != me
            and "Supervisor" not in (a.get("roles") or [])
            and str(a["loginId"]).startswith(prefix)
        )
        if not candidates:
            where = f" whose name starts with {prefix!r}" if prefix else ""
            raise LiveSetupError(
                "--agent-prefix" if prefix else "--agent",
                f"{me} sees no agents{where} to simulate: add agents to a team {me} leads in "
                "[plugins.telephony], or name them with --agent",
            )
    if options.agents is not None:
        if options.agents > len(candidates):
            raise LiveSetupError(
                "--agents",
                f"{options.agents} agents asked for, but only {len(candidates)} are available "
                f"({', '.join(candidates)})",
            )
        candidates = candidates[: options.agents]
    return candidates


async def _wait_for_stream(follower: asyncio.Task[None], connected: asyncio.Event) -> None:
    opened = asyncio.create_task(connected.wait())
    try:
        done, _ = await asyncio.wait(
            {follower, opened}, timeout=_STREAM_OPEN_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        opened.cancel()
    if follower in done:
        try:
            follower.result()
        except PhoneApiError as exc:
            raise LiveSetupError("--token", f"the event stream was refused: {exc}") from None
    if not connected.is_set():
        raise PhoneDriverError(f"the hub's event stream did not open within {_STREAM_OPEN_TIMEOUT_S:g} s")


async def _check_served(driver: PhoneDriver, queue: str) -> None:
    # The hub offers a queue's calls only to agents with one of its skills.  Queue statistics count
    # signed-in agents who serve the queue, so none ready or busy there means ours do not serve it.
    for stats in await driver.queues():
        if stats["name"] == queue:
            serving = sum(
                int(stats.get(k, 0))
                for k in ("agentsReady", "agentsReserved", "agentsTalking", "agentsWrapUp")
            )
            if serving == 0:
                raise LiveSetupError(
                    "--queue", f"none of the signed-in agents has a skill of queue {queue!r}"
                )
            return


# --------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def status_table(status: dict[str, Any], speed: float) -> Table:
    """The live status: simulated time, calls by fate, agents by state."""
    table = Table(title=f"phone simulator, live ×{speed:g}", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("simulated time", _clock(status["simulated_seconds"]))
    table.add_row(
        "calls",
        f"{status['offered']} offered · {status['answered']} answered · {status['abandoned']} abandoned · "
        f"{status['waiting']} waiting · {status['ringing']} ringing",
    )
    agents = status["agents"]
    table.add_row("agents", " · ".join(f"{state} {n}" for state, n in sorted(agents.items())) or "-")
    extra = f"{status['ronas']} ring-no-answer · {status['errors']} refused requests"
    if status["other_calls"]:
        extra += f" · {status['other_calls']} other calls"
    table.add_row("", extra)
    if status["last_error"]:
        table.add_row("last refusal", str(status["last_error"])[:100])
    return table


@contextlib.contextmanager
def _status_display(console: Console, load: LoadRun, speed: float, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    with Live(
        get_renderable=lambda: status_table(load.status(), speed),
        console=console,
        refresh_per_second=4,
        transient=True,
    ):
        yield


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def summary_table(summary: RunSummary) -> Table:
    """The end-of-run figures (simulated seconds)."""
    table = Table(title=f"phone simulator, live run {summary.outcome}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    sl = "-" if summary.service_level is None else f"{summary.service_level:.1%}"
    rows = [
        ("queue", summary.queue),
        ("simulated time", _clock(summary.simulated_seconds)),
        ("calls offered", str(summary.calls_offered)),
        ("answered", str(summary.calls_answered)),
        ("abandoned", str(summary.calls_abandoned)),
        ("unfinished", str(summary.calls_unfinished)),
        ("ASA", _seconds(summary.asa_seconds)),
        ("longest wait", _seconds(summary.max_wait_seconds)),
        (f"service level ({summary.sl_threshold_seconds:g} s)", sl),
        ("ring-no-answer", str(summary.ronas)),
        ("refused requests", str(summary.errors)),
    ]
    if summary.other_calls:
        rows.append(("other calls answered", str(summary.other_calls)))
    rows.extend(
        (f"  {agent}", f"{count} call{'' if count == 1 else 's'}")
        for agent, count in summary.calls_by_agent.items()
    )
    for label, value in rows:
        table.add_row(label, value)
    return table
