"""Settings: defaults, hub.toml, HUB_* variables, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import SettingsError, load_settings


def test_defaults_with_empty_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings(env={})
    assert s.database_url == "sqlite+aiosqlite:///var/hub.db"
    assert s.bus_url == "memory://"
    assert s.smtp_url is None
    assert s.ccb_url == "local"
    assert s.port == 8000
    assert len(s.secret_key) >= 32  # generated when not configured


def test_environment_overrides_file(tmp_path: Path) -> None:
    cfg = tmp_path / "hub.toml"
    cfg.write_text('port = 9000\nsecret_key = "from-file"\n[sections.billing-office]\ntitle = "Billing"\n')
    s = load_settings(env={"HUB_CONFIG": str(cfg), "HUB_PORT": "9100", "HUB_DISABLED_PLUGINS": "a, b"})
    assert s.port == 9100
    assert s.secret_key == "from-file"
    assert s.disabled_plugins == ["a", "b"]
    assert s.sections["billing-office"].title == "Billing"


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"HUB_PORTT": "1"}, "HUB_PORTT"),
        ({"HUB_PORT": "eighty"}, "HUB_PORT"),
        ({"HUB_DATABASE_URL": "mysql://x/y"}, "HUB_DATABASE_URL"),
        ({"HUB_BUS_URL": "kafka://x"}, "HUB_BUS_URL"),
        ({"HUB_SMTP_URL": "http://mail"}, "HUB_SMTP_URL"),
        ({"HUB_SMTP_URL": "smtp://mail:notaport"}, "HUB_SMTP_URL"),
        ({"HUB_BUS_URL": "nats://"}, "HUB_BUS_URL"),
        ({"HUB_CCB_URL": "ftp://ccb"}, "HUB_CCB_URL"),
        ({"HUB_TIMEZONE": "Mars/Olympus"}, "HUB_TIMEZONE"),
        ({"HUB_NO_PLUGINS": "maybe"}, "HUB_NO_PLUGINS"),
        ({"HUB_CONFIG": "/nonexistent/hub.toml"}, "HUB_CONFIG"),
    ],
)
def test_bad_environment_names_the_key(env: dict[str, str], key: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(env=env)
    assert err.value.key == key
    assert key in str(err.value)


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("prot = 1\n", "(root)"),
        ('port = "x"\n', "port"),
        ("port = 70000\n", "port"),
        ('[sections.Bad_Slug]\ntitle = "x"\n', "sections"),
        ('[sections.ok-slug]\ntitle = "x"\ncolour = "red"\n', "sections"),
    ],
)
def test_bad_file_names_the_key(tmp_path: Path, toml: str, key: str) -> None:
    cfg = tmp_path / "hub.toml"
    cfg.write_text(toml)
    with pytest.raises(SettingsError) as err:
        load_settings(env={"HUB_CONFIG": str(cfg)})
    assert err.value.key.startswith(key)


def test_unknown_top_level_key_is_named(tmp_path: Path) -> None:
    cfg = tmp_path / "hub.toml"
    cfg.write_text("prot = 1\n")
    with pytest.raises(SettingsError, match="prot"):
        load_settings(env={"HUB_CONFIG": str(cfg)})


def test_connector_urls_are_accepted_when_the_connector_exists() -> None:
    s = load_settings(
        env={
            "HUB_BUS_URL": "nats://127.0.0.1:4222",
            "HUB_SMTP_URL": "smtp://u:p@mail:587?starttls=1",
            "HUB_CCB_URL": "http://127.0.0.1:8100",
        }
    )
    assert s.bus_url.startswith("nats://") and s.smtp_url is not None and s.ccb_url.startswith("http://")


def test_plugin_tables_are_kept_raw_for_the_plugins(tmp_path: Path) -> None:
    cfg = tmp_path / "hub.toml"
    cfg.write_text("[plugins.example]\ngreeting = 'Hi'\n")
    s = load_settings(env={"HUB_CONFIG": str(cfg)})
    assert s.plugins == {"example": {"greeting": "Hi"}}
