"""The ``phone`` click command: JSON output, table output, event log and parameter errors."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from simulators.phone.cli import phone_command

BASE = ["--agents", "14", "--calls-per-hour", "200", "--aht", "180"]


def invoke(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(phone_command, list(args))
    return result.exit_code, result.output, result.exception


def test_command_is_named_phone() -> None:
    assert isinstance(phone_command, click.Command)
    assert phone_command.name == "phone"


def test_json_output_has_the_simulated_and_erlang_c_figures() -> None:
    code, output, _ = invoke(*BASE, "--calls", "3000", "--seed", "42", "--json")
    assert code == 0, output
    data = json.loads(output)  # exactly one JSON object
    for key in (
        "calls_offered",
        "calls_answered",
        "calls_abandoned",
        "asa_seconds",
        "service_level",
        "p_wait",
        "occupancy",
        "seed",
    ):
        assert key in data, key
    assert data["seed"] == 42
    assert data["calls_offered"] == 2700  # 10 % warm-up dropped
    assert data["calls_abandoned"] == 0
    assert data["model"] == "erlang_c"
    erlang = data["erlang"]
    assert erlang["model"] == "erlang_c"
    assert erlang["p_wait"] == pytest.approx(0.17413, abs=5e-6)
    assert erlang["asa_seconds"] == pytest.approx(7.836, abs=5e-4)
    assert erlang["service_level"] == pytest.approx(0.88835, abs=5e-6)


def test_json_output_with_patience_uses_erlang_a() -> None:
    code, output, _ = invoke(
        "--agents", "11", "--calls-per-hour", "200", "--aht", "180", "--patience", "60",
        "--hours", "20", "--seed", "7", "--json",
    )  # fmt: skip
    assert code == 0, output
    data = json.loads(output)
    assert data["model"] == data["erlang"]["model"] == "erlang_a"
    assert data["erlang"]["p_abandon"] == pytest.approx(0.1118, abs=5e-5)
    assert data["calls_abandoned"] > 0


def test_erlang_a_allows_load_above_the_agent_count() -> None:
    code, output, _ = invoke(
        "--agents",
        "8",
        "--calls-per-hour",
        "200",
        "--aht",
        "180",
        "--patience",
        "60",
        "--calls",
        "500",
        "--json",
    )
    assert code == 0, output
    assert isinstance(json.loads(output)["seed"], int)  # a random seed, but always reported


def test_same_seed_gives_the_same_json() -> None:
    first = invoke(
        *BASE, "--aht-dist", "lognormal", "--aht-cv", "0.7", "--calls", "2000", "--seed", "3", "--json"
    )
    second = invoke(
        *BASE, "--aht-dist", "lognormal", "--aht-cv", "0.7", "--calls", "2000", "--seed", "3", "--json"
    )
    assert first[0] == 0 and first[1] == second[1]


def test_table_output_shows_both_figures_and_the_seed() -> None:
    code, output, _ = invoke(*BASE, "--calls", "2000", "--seed", "99")
    assert code == 0, output
    assert "Erlang C" in output and "Simulated" in output and "seed: 99" in output


def test_event_log_is_written_and_reproducible(tmp_path: Path) -> None:
    first, second = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    for path in (first, second):
        code, output, _ = invoke(*BASE, "--calls", "300", "--seed", "5", "--json", "--event-log", str(path))
        assert code == 0, output
    assert first.read_bytes() == second.read_bytes()
    lines = first.read_text().splitlines()
    assert json.loads(lines[0])["seed"] == 5
    assert sum(1 for line in lines if '"call_arrival"' in line) == 300


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--agents", "10", "--calls-per-hour", "200", "--aht", "180", "--calls", "10"], "--agents"),
        (["--agents", "0", "--calls-per-hour", "200", "--aht", "180", "--calls", "10"], "--agents"),
        (["--agents", "14", "--calls-per-hour", "0", "--aht", "180", "--calls", "10"], "--calls-per-hour"),
        (["--agents", "14", "--calls-per-hour", "-5", "--aht", "180", "--calls", "10"], "--calls-per-hour"),
        (["--agents", "14", "--calls-per-hour", "nan", "--aht", "180", "--calls", "10"], "--calls-per-hour"),
        (["--agents", "14", "--calls-per-hour", "200", "--aht", "0", "--calls", "10"], "--aht"),
        ([*BASE, "--aht-dist", "lognormal", "--aht-cv", "-0.1", "--calls", "10"], "--aht-cv"),
        ([*BASE, "--aht-cv", "0.5", "--calls", "10"], "--aht-cv"),
        ([*BASE, "--patience", "0", "--calls", "10"], "--patience"),
        ([*BASE, "--sl-threshold", "-1", "--calls", "10"], "--sl-threshold"),
        ([*BASE, "--calls", "0"], "--calls"),
        ([*BASE, "--hours", "-2"], "--hours"),
        ([*BASE, "--calls", "10", "--warmup-fraction", "1"], "--warmup-fraction"),
        ([*BASE, "--calls", "10", "--hours", "1"], "--calls or --hours"),
        (BASE, "--calls or --hours"),
        ([*BASE, "--calls", "10", "--event-log", "/nonexistent-dir/x/log.jsonl"], "--event-log"),
    ],
)
def test_impossible_parameters_exit_2_with_a_clear_message(args: list[str], option: str) -> None:
    code, output, exc = invoke(*args)
    assert code == 2, output
    assert isinstance(exc, SystemExit)  # a usage error, never a traceback
    assert option in output
    assert "Traceback" not in output
