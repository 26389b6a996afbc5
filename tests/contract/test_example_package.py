"""The README's example plugin package runs as written from its own folder, with its own tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "examples" / "balance_desk"


def test_the_example_package_passes_its_own_tests() -> None:
    # Its own folder, its own pytest configuration; ccbhub (installed) provides the fixtures.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "PYTEST_"))}
    env["PYTHONPATH"] = str(PACKAGE)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=PACKAGE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "3 passed" in done.stdout
