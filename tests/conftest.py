"""Fixtures the hub's own tests share beyond the testing kit (core.contract.testing, loaded as a plugin).

``live_hub`` serves the hub with the example plugin (tests/example_app.py) in a real granian process, with
an admin and a security officer who sign in with the kit's browser password.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.contract.testing import BROWSER_PASSWORD, hub_environment, serve_hub

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def live_hub(hub_database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A hub on a free port, with an admin and a security user whose password is BROWSER_PASSWORD."""
    hub_vars = {"HUB_DATABASE_URL": hub_database_url, "HUB_SECRET_KEY": "e2e-secret"}
    ccbhub = Path(sys.executable).parent / "ccbhub"
    for name, role, section in (("admin", "admin", "lead"), ("sec.officer", "security", "security")):
        subprocess.run(
            [ccbhub, "users", "add", name, "--role", role, "--section", section, "--password-stdin"],
            input=BROWSER_PASSWORD + "\n",
            text=True,
            env=hub_environment(hub_vars, ROOT),
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )
    with serve_hub(hub_vars, tmp_path, target="tests.example_app:app", root=ROOT) as base:
        yield {"base": base, "password": BROWSER_PASSWORD}
