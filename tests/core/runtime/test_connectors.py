"""Connectors are found by URL scheme in the ``ccbhub.connectors`` entry-point group; core imports none."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core.connectors import find_connector, installed, load_connector
from core.settings import SettingsError

CORE = Path(__file__).resolve().parents[3] / "core"


def test_the_installed_connectors_are_found_by_scheme() -> None:
    assert installed("bus") == ["nats"]
    assert installed("mail") == ["smtp", "smtps"]
    assert installed("ccb") == ["http", "https"]
    assert find_connector("bus", "nats://127.0.0.1:4222", setting="HUB_BUS_URL").__name__ == "NatsBus"


def test_a_scheme_without_a_connector_names_the_setting() -> None:
    with pytest.raises(SettingsError) as err:
        find_connector("bus", "kafka://broker:9092", setting="HUB_BUS_URL")
    assert err.value.key == "HUB_BUS_URL"
    assert "no bus connector for kafka://" in str(err.value) and "nats://" in str(err.value)


def test_a_loaded_mail_connector_parses_its_url() -> None:
    mail = load_connector("mail", "smtps://u:p@mail.example.org", setting="HUB_SMTP_URL")
    assert mail.config.security == "tls" and mail.config.port == 465
    with pytest.raises(SettingsError, match="HUB_SMTP_URL"):
        load_connector("mail", "smtp://mail?bogus=1", setting="HUB_SMTP_URL")


def test_the_customer_connect_connector_takes_credentials_from_the_url() -> None:
    client = load_connector("crm", "https://api%40x:s3cret@site.example.com:8443", setting="CRM")
    assert str(client._http.base_url).startswith("https://site.example.com:8443/")
    assert client._http.auth._auth_header.startswith("Basic ")


def test_core_modules_import_no_connector_simulator_or_feature_part_from_the_hub() -> None:
    for path in sorted(CORE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if path.name in {"cli.py", "testing.py"}:
                    continue  # the command line and the pytest plugin attach the simulators on purpose
                assert not name.startswith(("connectors", "simulators")), f"{path.name} imports {name}"
    hub = ast.parse((CORE / "hub.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(hub) if isinstance(n, ast.ImportFrom) and n.module}
    assert not any(m.startswith(("core.ccb.local", "core.contact", "core.telephony")) for m in imported)
    assert "core.builtin" not in imported
