"""The phone simulator against the hub: the ``phone`` fixture in-process, and live mode against a served hub.

The fixture tests run the hub on its ManualClock (nothing sleeps).  The live tests start a real hub with
granian on a free port and run ``ccbhub simulate phone --live`` against it as a subprocess, at a high speed.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from core.bus import Envelope
from core.telephony.events import AGENT_STATE_CHANGED
from core.telephony.fsm import LEGAL_AGENT_TRANSITIONS
from simulators.phone.cli import phone_command
from simulators.phone.driver import NoCall

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
CALLER = "2135550142"  # fictional 555-01xx numbers only
SIM_AGENTS = ["sim1", "sim2", "sim3", "sim4"]


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {
        "plugins": {
            "telephony": {
                "tick_seconds": 0,  # the phone fixture applies the timers itself
                "teams": {"desk": {"name": "Desk", "leads": ["lee"], "agents": ["ann", "bob", "cy"]}},
            }
        }
    }


def agent_paths(events: list[Envelope]) -> dict[str, list[str]]:
    """Each agent's states in event order, starting from LOGOUT (where every agent starts)."""
    paths: dict[str, list[str]] = {}
    for env in events:
        if env.subject == AGENT_STATE_CHANGED:
            paths.setdefault(env.data["loginId"], ["LOGOUT"]).append(env.data["state"])
    return paths


def assert_legal(paths: dict[str, list[str]]) -> None:
    for agent, states in paths.items():
        for before, after in itertools.pairwise(states):
            assert (before, after) in LEGAL_AGENT_TRANSITIONS, f"{agent}: {before} -> {after} in {states}"


# --------------------------------------------------------------------------------------------------
# The phone fixture (in-process, virtual time)
# --------------------------------------------------------------------------------------------------


async def test_the_fixture_steps_one_call_through_the_hub(phone: Any) -> None:
    assert (await phone.sign_in("ann", "1001"))["state"] == "NOT_READY"
    await phone.ready("ann")
    dialog_id = await phone.call(CALLER, queue="Billing")
    assert phone.state_of("ann") == "RESERVED"
    assert await phone.answer("ann") == dialog_id
    assert phone.state_of("ann") == "TALKING"
    with pytest.raises(NoCall):
        await phone.answer("ann")  # nothing rings any more
    assert await phone.hang_up("ann") == dialog_id
    assert phone.state_of("ann") == "WORK_READY"  # the default config requires wrap-up
    await phone.ready("ann")
    assert (await phone.sign_out("ann"))["state"] == "LOGOUT"
    causes = [e.data["cause"] for e in phone.events if e.subject.startswith("hub.phone.dialog.")]
    assert causes[:3] == ["INBOUND", "OFFERED", "ANSWER"]
    assert agent_paths(phone.events)["ann"] == [
        "LOGOUT",
        *("NOT_READY", "READY", "RESERVED", "TALKING", "WORK_READY", "READY", "NOT_READY", "LOGOUT"),
    ]


async def test_a_fixture_run_answers_every_call_along_legal_transitions(phone: Any, hub_clock: Any) -> None:
    started = hub_clock.now()
    summary = await phone.run(
        calls=12, agents=["ann", "bob"], calls_per_hour=90, aht=120, wrap_up=20, seed=11, patience=None
    )
    assert summary.outcome == "completed"
    assert (summary.calls_offered, summary.calls_answered, summary.calls_unfinished) == (12, 12, 0)
    assert summary.calls_abandoned == 0 and summary.errors == 0
    assert sum(summary.calls_by_agent.values()) == 12 and set(summary.calls_by_agent) == {"ann", "bob"}
    assert hub_clock.now() > started  # time moved on the hub's clock, not on the wall
    paths = agent_paths(phone.events)
    assert set(paths) == {"ann", "bob"}
    assert_legal(paths)
    for agent in ("ann", "bob"):
        states = paths[agent]
        assert states.count("TALKING") == summary.calls_by_agent[agent]
        assert states.count("WORK_READY") == states.count("TALKING")  # every call was wrapped up…
        assert states[-1] == "READY"  # …and every wrap-up ended
    ended = [e for e in phone.events if e.subject == "hub.phone.dialog.ended"]
    assert len(ended) == 12


async def test_a_fixture_run_is_reproducible_with_abandons_and_ring_no_answer(phone: Any) -> None:
    # One agent, slow to answer (the hub's RONA timer is 15 s) and impatient callers.
    summary = await phone.run(
        calls=15, agents=["cy"], calls_per_hour=120, aht=90, ring=20, patience=60, seed=3, sign_out=True
    )
    assert summary.outcome == "completed" and summary.calls_unfinished == 0
    assert summary.ronas >= 1
    assert summary.calls_answered + summary.calls_abandoned == 15
    assert_legal(agent_paths(phone.events))
    assert phone.state_of("cy") == "LOGOUT"
    first = summary.to_dict()
    phone.events.clear()
    again = await phone.run(
        calls=15, agents=["cy"], calls_per_hour=120, aht=90, ring=20, patience=60, seed=3, sign_out=True
    )
    second = again.to_dict()
    assert second == first  # same seed, same virtual timeline: the same run


async def test_a_fixture_run_has_the_offline_engines_callers_for_the_same_seed(phone: Any) -> None:
    from simulators.phone import simulate, single_queue_config

    await phone.run(calls=10, agents=["ann", "bob", "cy"], calls_per_hour=200, aht=150, seed=42, patience=300)
    offline = simulate(
        single_queue_config(
            agents=3, calls_per_hour=200, aht_seconds=150, seed=42, calls=10, patience_seconds=300
        )
    )
    live = phone.last_run.calls
    assert [c.arrived for c in live] == pytest.approx([c.arrival for c in offline.calls], abs=1e-9)
    assert [c.talk_seconds for c in live] == [c.talk_seconds for c in offline.calls]
    assert [c.patience_seconds for c in live] == [c.patience_seconds for c in offline.calls]


# --------------------------------------------------------------------------------------------------
# Live mode: option errors that need no hub
# --------------------------------------------------------------------------------------------------

LOAD = ["--calls-per-hour", "600", "--aht", "60", "--calls", "5"]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--live", "ftp://127.0.0.1:1", "--token", "t"], "--live"),
        (["--live", "127.0.0.1:8000", "--token", "t"], "--live"),
        (["--live", "http://127.0.0.1:1", "--token", "t", "--speed", "0"], "--speed"),
        (["--live", "http://127.0.0.1:1", "--token", "t", "--speed", "nan"], "--speed"),
        (["--live", "http://127.0.0.1:1"], "--token"),
        (["--live", "http://127.0.0.1:1", "--token", "t", "--extensions", "10x"], "--extensions"),
        (["--live", "http://127.0.0.1:1", "--token", "t", "--wrap-up", "60"], "--wrap-up"),
        (["--live", "http://127.0.0.1:1", "--token", "t", "--warmup-fraction", "0.2"], "--warmup-fraction"),
        (["--agents", "3", "--speed", "5"], "--speed"),
        (["--agents", "3", "--queue", "Billing"], "--queue"),
        ([], "--agents"),  # offline still needs --agents
    ],
)
def test_bad_live_options_exit_2_naming_the_option(args: list[str], option: str) -> None:
    result = CliRunner().invoke(phone_command, [*LOAD, *args], env={"HUB_TOKEN": None})
    assert result.exit_code == 2, result.output
    assert option in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_hub_exits_1_without_a_traceback() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connection refused
        result = CliRunner().invoke(
            phone_command, [*LOAD, "--live", f"http://127.0.0.1:{port}", "--token", "t"]
        )
    assert result.exit_code == 1, result.output
    assert "cannot talk to the hub" in result.output


# --------------------------------------------------------------------------------------------------
# Live mode against a served hub
# --------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A hub served by granian on a free port, with a team ``sim`` (lead ``simlead``, agents sim1-sim4)."""
    from core.migrate import upgrade

    home = tmp_path_factory.mktemp("live-hub")
    database = f"sqlite+aiosqlite:///{home / 'hub.db'}"
    upgrade(database)
    config = home / "hub.toml"
    agents = ", ".join(f'"{a}"' for a in SIM_AGENTS)
    config.write_text(
        "[plugins.telephony]\ntick_seconds = 0.5\n"
        f'[plugins.telephony.teams.sim]\nname = "Sim desk"\nleads = ["simlead"]\nagents = [{agents}]\n',
        encoding="utf-8",
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HUB_")},
        "HUB_DATABASE_URL": database,
        "HUB_SECRET_KEY": "live-test-secret",
        "HUB_CONFIG": str(config),
        "PYTHONPATH": str(ROOT),
    }
    tokens: dict[str, str] = {}
    for name, role in (("simlead", "lead"), ("clerk", "csr")):
        made = subprocess.run(
            [BIN / "ccbhub", "users", "add", name, "--role", role, "--json"],
            env=env,
            cwd=home,
            check=True,
            capture_output=True,
            text=True,
        )
        tokens[name] = json.loads(made.stdout)["token"]
    port = _free_port()
    log = (home / "granian.log").open("w")
    server = subprocess.Popen(
        [BIN / "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port), "core.asgi:app"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the hub did not start:\n" + (home / "granian.log").read_text())
            time.sleep(0.2)
        yield {"base": base, "lead": tokens["simlead"], "csr": tokens["clerk"], "cwd": str(home)}
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def simulate(hub: dict[str, str], *args: str, token: str | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env["HUB_TOKEN"] = token or hub["lead"]
    return subprocess.Popen(
        [BIN / "ccbhub", "simulate", "phone", "--live", hub["base"], *args],
        env=env,
        cwd=hub["cwd"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def hub_agents(hub: dict[str, str]) -> dict[str, dict[str, Any]]:
    r = httpx.get(
        hub["base"] + "/api/phone/agents", headers={"Authorization": f"Bearer {hub['lead']}"}, timeout=5
    )
    r.raise_for_status()
    return {a["loginId"]: a for a in r.json()}


def test_live_mode_drives_the_served_hub_and_signs_the_agents_out(served_hub: dict[str, str]) -> None:
    before = hub_agents(served_hub)
    assert all(before[a]["state"] == "LOGOUT" for a in SIM_AGENTS)
    run = simulate(
        served_hub,
        *("--speed", "600", "--calls", "20", "--calls-per-hour", "1200", "--aht", "60"),
        *("--wrap-up", "5", "--seed", "5", "--queue", "Billing", "--json"),
    )
    out, err = run.communicate(timeout=60)
    assert run.returncode == 0, err + out
    summary = json.loads(out)
    assert summary["outcome"] == "completed"
    assert (summary["calls_offered"], summary["calls_answered"], summary["calls_unfinished"]) == (20, 20, 0)
    assert summary["agents"] == SIM_AGENTS and sum(summary["calls_by_agent"].values()) == 20
    after = hub_agents(served_hub)
    for agent in SIM_AGENTS:
        # Signed in, worked and signed out again by its lead: LOGOUT with the supervisor code, at a new time.
        assert after[agent]["state"] == "LOGOUT"
        assert after[agent]["stateChangeTime"] != before[agent]["stateChangeTime"]
        assert after[agent]["ReasonCode"]["code"] == 999
    queues = httpx.get(
        served_hub["base"] + "/api/phone/queues",
        headers={"Authorization": f"Bearer {served_hub['lead']}"},
        timeout=5,
    ).json()
    assert all(q["callsInQueue"] == 0 and q["callsRinging"] == 0 for q in queues)


def test_ctrl_c_stops_a_live_run_and_signs_the_agents_out(served_hub: dict[str, str]) -> None:
    run = simulate(
        served_hub,
        *("--speed", "60", "--hours", "8", "--calls-per-hour", "600", "--aht", "300", "--agents", "2"),
    )
    try:
        deadline = time.monotonic() + 20
        while not any(
            a["state"] in ("READY", "RESERVED", "TALKING") for a in hub_agents(served_hub).values()
        ):
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "the simulator never made an agent READY"
            time.sleep(0.1)
        time.sleep(1.0)  # a few simulated minutes: calls come in and are answered
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 130, err + out
    assert "interrupted" in out
    assert all(a["state"] == "LOGOUT" for a in hub_agents(served_hub).values())
    queues = httpx.get(
        served_hub["base"] + "/api/phone/queues",
        headers={"Authorization": f"Bearer {served_hub['lead']}"},
        timeout=5,
    ).json()
    assert all(q["callsInQueue"] == 0 and q["callsRinging"] == 0 for q in queues)


@pytest.mark.parametrize(
    ("args", "token", "option"),
    [
        ((), "csr", "--token"),  # a CSR may not announce calls
        ((), "nonsense", "--token"),
        (("--queue", "Nowhere"), "lead", "--queue"),
        (("--agents", "9"), "lead", "--agents"),
        (("--agent", "ann"), "lead", "--agent"),  # not on simlead's team (nor known at all)
        (("--agent-prefix", "zz"), "lead", "--agent-prefix"),
    ],
)
def test_options_the_hub_refutes_exit_2(
    served_hub: dict[str, str], args: tuple[str, ...], token: str, option: str
) -> None:
    result = CliRunner().invoke(
        phone_command,
        ["--live", served_hub["base"], *LOAD, *args],
        env={"HUB_TOKEN": served_hub.get(token, token)},
    )
    assert result.exit_code == 2, result.output
    assert option in result.output
    assert all(a["state"] == "LOGOUT" for a in hub_agents(served_hub).values())
