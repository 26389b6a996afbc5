"""The layer contracts in pyproject.toml hold on the real tree, and catch a deliberate breach.

import-linter runs as the developer runs it (``lint-imports --contract ID``), in a subprocess whose
``PYTHONPATH`` is the tree under test, so the scratch copies are analysed and never the installed tree.
The breaches are planted in scratch copies under ``tmp_path``; the assertions name the planted import,
so they do not depend on whether other, unrelated imports already break the same contract.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("core", "plugins", "connectors", "simulators")
KEPT_ON_THE_REAL_TREE = ("core-stands-alone", "contract-is-the-bottom", "connectors-implement-ports")


def lint_imports(root: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """Check ``contracts`` of ``root/pyproject.toml`` against the packages under ``root`` only."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(root)
    args = [str(LINT_IMPORTS), "--no-cache", "--no-logo"]
    for contract in contracts:
        args += ["--contract", contract]
    return subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A copy of the four root packages and pyproject.toml, without byte code."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def append_line(path: Path, line: str) -> None:
    text = path.read_text()
    path.write_text(text + ("" if text.endswith("\n") else "\n") + line + "\n")


def test_the_lower_layers_keep_their_contracts() -> None:
    result = lint_imports(ROOT, *KEPT_ON_THE_REAL_TREE)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert f"Contracts: {len(KEPT_ON_THE_REAL_TREE)} kept, 0 broken." in report, report


def test_core_importing_a_connector_breaks_core_stands_alone(scratch: Path) -> None:
    append_line(scratch / "core" / "clock.py", "import connectors.smtp")
    result = lint_imports(scratch, "core-stands-alone")
    report = result.stdout + result.stderr
    assert result.returncode != 0, report
    assert "core is not allowed to import connectors" in report, report
    assert "core.clock -> connectors.smtp" in report, report


def test_a_plugin_importing_another_breaks_plugins_independent(scratch: Path) -> None:
    line = "- plugins.solar -> plugins.claims.models (l."
    # The package module, which every plugin has whatever rooms it keeps.
    append_line(scratch / "plugins" / "solar" / "__init__.py", "import plugins.claims.models")
    result = lint_imports(scratch, "plugins-independent")
    report = result.stdout + result.stderr
    assert result.returncode != 0, report
    assert "plugins.solar is not allowed to import plugins.claims" in report, report
    assert line in report, report
