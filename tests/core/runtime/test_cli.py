"""The ccbhub command line against a real migrated database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.cli import main


@pytest.fixture
def cli_env(hub_database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)
    for var in ("HUB_CONFIG", "HUB_DISABLED_PLUGINS", "HUB_NO_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HUB_DATABASE_URL", hub_database_url)
    monkeypatch.setenv("HUB_SECRET_KEY", "cli-test-secret")
    return hub_database_url.removeprefix("sqlite+aiosqlite:///")


def run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.output


def test_users_add_prints_token_once_as_json(cli_env: str) -> None:
    code, out = run("users", "add", "maria", "--role", "csr", "--section", "call-center", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["name"] == "maria" and data["token"].startswith("hub_")
    stored = sqlite3.connect(cli_env).execute("SELECT token_hash FROM hub_api_token").fetchall()
    assert data["token"] not in str(stored)


def test_users_add_with_password_from_stdin_hashes_it(cli_env: str) -> None:
    code, out = run("users", "add", "lena", "--role", "lead", "--password-stdin", input="a-long-password\n")
    assert code == 0, out
    (stored,) = sqlite3.connect(cli_env).execute("SELECT password_hash FROM hub_staff_user").fetchone()
    assert stored.startswith("$argon2id$") and "a-long-password" not in stored


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["users", "add", "x1", "--role", "king"], "--role"),
        (["users", "add", "bob", "--role", "csr", "--section", "mars"], "--section"),
        (["users", "add", "Bad Name", "--role", "csr"], "NAME"),
        (["users", "add", "bob"], "--role"),
        (["check", "--plugin", "nope"], "--plugin"),
        (["check", "--section", "nowhere"], "--section"),
        (["plugins", "enable", "ghost", "--section", "lead"], "ID"),
        (["sections", "add", "Bad_Slug", "--title", "x"], "SLUG"),
    ],
)
def test_bad_options_exit_2_naming_the_option(cli_env: str, args: list[str], option: str) -> None:
    code, out = run(*args)
    assert code == 2, out
    assert option in out
    assert "Traceback" not in out


def test_bad_setting_exits_2_naming_the_variable(cli_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_BUS_URL", "kafka://somewhere")
    code, out = run("plugins", "list")
    assert code == 2 and "HUB_BUS_URL" in out


def test_unmigrated_database_exits_2_with_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/empty.db")
    code, out = run("plugins", "list")
    assert code == 2 and "ccbhub db upgrade" in out


def test_db_upgrade_on_a_new_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/new.db")
    assert run("db", "upgrade")[0] == 0
    code, out = run("sections", "list", "--json")
    assert code == 0
    assert {s["slug"] for s in json.loads(out)} >= {"call-center", "security", "lead"}
    assert run("db", "pending")[0] == 0


def test_plugins_list_json_has_the_core(cli_env: str) -> None:
    code, out = run("plugins", "list", "--json")
    assert code == 0
    plugins = {p["id"]: p for p in json.loads(out)}
    assert plugins["core"]["status"] == "active"
    assert plugins["core"]["checks"][:4] == ["database", "bus", "outbox_backlog", "smtp"]


def test_check_exit_codes_and_json(cli_env: str) -> None:
    code, out = run("check", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["passed"] is True and {c["name"] for c in data["checks"]} >= {
        "database",
        "bus",
        "outbox_backlog",
    }
    code, out = run("check")
    assert code == 0 and "passed, 0 failed" in out


def test_check_fails_with_exit_1_when_the_outbox_is_backed_up(
    cli_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = sqlite3.connect(cli_env)
    db.executemany(
        "INSERT INTO hub_outbox (event_id, subject, envelope, created_at, attempts) "
        "VALUES (?, 'hub.x.y', '{}', '2026-01-01 00:00:00', 0)",
        [(f"00000000-0000-0000-0000-{i:012d}",) for i in range(3)],
    )
    db.commit()
    monkeypatch.setenv("HUB_OUTBOX_BACKLOG_LIMIT", "1")
    code, out = run("check", "--json", "--plugin", "core")
    data = json.loads(out)
    assert code == 1
    failing = [c for c in data["checks"] if c["status"] != "pass"]
    assert [c["name"] for c in failing] == ["outbox_backlog"]


def test_sections_add_and_audit_verify_detects_tampering(cli_env: str) -> None:
    assert run("sections", "add", "billing-office", "--title", "Billing Office")[0] == 0
    assert run("sections", "add", "billing-office", "--title", "Again")[0] == 2
    code, out = run("audit", "verify")
    assert code == 0 and "intact" in out
    db = sqlite3.connect(cli_env)
    db.execute("UPDATE hub_audit_log SET target = 'edited' WHERE seq = 1")
    db.commit()
    code, out = run("audit", "verify")
    assert code == 1 and "record 1" in out


def test_no_plugins_kill_switch(cli_env: str) -> None:
    code, out = run("--no-plugins", "plugins", "list", "--json")
    assert code == 0
    assert {p["source"] for p in json.loads(out)} == {"core"}  # only the core's own parts


def test_demo_seed_creates_staff_and_customers_once(cli_env: str, tmp_path: Path) -> None:
    creds, customers = tmp_path / "creds.txt", tmp_path / "customers.jsonl"
    args = (
        "demo",
        "seed",
        "--credentials-file",
        str(creds),
        "--customers-file",
        str(customers),
        "--customers",
        "5",
    )
    assert run(*args)[0] == 0
    lines = [line for line in creds.read_text().splitlines() if not line.startswith("#")]
    assert [line.split()[0] for line in lines] == ["admin", "lead", "csr", "security"]
    assert oct(creds.stat().st_mode & 0o777) == "0o600"
    seeded = [json.loads(line) for line in customers.read_text().splitlines()]
    assert len(seeded) == 5 and all(len(c["account_id"]) == 10 for c in seeded)
    stored = sqlite3.connect(cli_env).execute("SELECT count(*) FROM ccb_account").fetchone()
    assert stored == (5,)
    code, out = run(*args)
    assert code == 0 and "already present" in out
    assert sqlite3.connect(cli_env).execute("SELECT count(*) FROM ccb_account").fetchone() == (5,)


@pytest.fixture
def example_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the example plugin look installed through the ccbhub.plugins entry points."""
    import importlib.metadata

    real = importlib.metadata.entry_points
    example = importlib.metadata.EntryPoint(
        name="example", value="tests.example_plugin", group="ccbhub.plugins"
    )

    def entry_points(**kwargs: str) -> object:
        if kwargs.get("group") == "ccbhub.plugins":
            return [example]
        return real(**kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


def test_plugins_enable_and_disable_for_a_section(cli_env: str, example_installed: None) -> None:
    code, out = run("plugins", "enable", "example", "--section", "call-center")
    assert code == 0, out
    plugins = {p["id"]: p for p in json.loads(run("plugins", "list", "--json")[1])}
    assert plugins["example"]["sections"] == ["call-center"]
    assert run("plugins", "disable", "example", "--section", "call-center")[0] == 0
    plugins = {p["id"]: p for p in json.loads(run("plugins", "list", "--json")[1])}
    assert plugins["example"]["sections"] == []
    code, out = run("plugins", "enable", "example", "--section", "atlantis")
    assert code == 2 and "--section" in out
    actions = [
        r[0] for r in sqlite3.connect(cli_env).execute("SELECT action FROM hub_audit_log ORDER BY seq")
    ]
    assert actions == ["plugin.enable", "plugin.disable"]


def test_disabled_plugins_variable_and_plugin_cli_commands(
    cli_env: str, example_installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = run("example-greeting", "--name", "Ana")
    assert code == 0 and out.strip() == "Hello, Ana!"
    monkeypatch.setenv("HUB_DISABLED_PLUGINS", "example")
    plugins = {p["id"]: p for p in json.loads(run("plugins", "list", "--json")[1])}
    assert plugins["example"]["status"] == "disabled"


def test_security_morning_check_for_the_pci_plugin(cli_env: str) -> None:
    """`ccbhub check --plugin pci_inspection` is what security staff run each morning (issue 6 §2)."""
    code, out = run("check", "--plugin", "pci_inspection", "--json")
    data = json.loads(out)
    assert {c["plugin"] for c in data["checks"]} == {"pci_inspection"}
    assert {c["name"] for c in data["checks"]} == {
        "terminals_inspected",
        "out_of_service_has_incident",
        "risk_analysis_current",
    }
    assert code == (0 if data["passed"] else 1)
