"""Every plugin has the same rooms (ARCHITECTURE §2) and imports only what the layers allow (issue 12).

Run for each installed plugin (the ``ccbhub.plugins`` entry points), the example plugin and the example
package under ``examples/``: a third-party plugin is held to the same rules as the hub's own.

Rooms: ``__init__`` (manifest and hook implementations only), ``models``, ``queries``, ``rules``,
``service``, ``schemas``, ``api``, ``pages``, ``public``, ``events``, ``checks``, ``cli``, and the folders
``templates/`` and ``migrations/``. A room too big for one module is split as ``<room>_<topic>.py``. A room
a plugin does not need is absent — a plugin without tables or checks has no empty ``models.py`` or
``checks.py``. Each module starts with a docstring.

Imports: the core only through ``core.contract``; no connector or simulator; another plugin only through
its ``public`` module, and only when the manifest names it in ``depends_on`` or ``after_depends_on``.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import sys
from pathlib import Path
from typing import Any

import pytest

from core.plugins import ENTRY_POINT_GROUP

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_PACKAGE = ROOT / "examples" / "balance_desk"
ROOMS = {
    "__init__", "models", "queries", "rules", "service", "schemas", "api", "pages", "public", "events",
    "checks", "cli",
}  # fmt: skip
FOLDERS = {"templates", "migrations", "__pycache__"}


def _plugin_modules() -> dict[str, str]:
    """Plugin id → module name, for the installed plugins, the example plugin and the example package."""
    found = {
        ep.name: ep.value.split(":")[0] for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    }
    found["example"] = "tests.example_plugin"
    if str(EXAMPLE_PACKAGE) not in sys.path:
        sys.path.append(str(EXAMPLE_PACKAGE))  # as if installed: it is a package of its own
    found["balance_desk"] = "balance_desk"
    return found


MODULES = _plugin_modules()


@pytest.fixture(params=sorted(MODULES))
def plugin(request: pytest.FixtureRequest) -> Any:
    return importlib.import_module(MODULES[request.param])


def _folder(plugin: Any) -> Path:
    return Path(plugin.__file__).parent


def _room(stem: str) -> str:
    return stem if stem in ROOMS else stem.split("_", 1)[0]


def test_the_rooms_are_the_standard_ones_each_with_a_docstring(plugin: Any) -> None:
    folder = _folder(plugin)
    for path in sorted(folder.iterdir()):
        if path.is_dir():
            assert path.name in FOLDERS, f"{folder.name}/{path.name}/ is not a room"
            continue
        if path.suffix != ".py":
            continue
        assert _room(path.stem) in ROOMS, (
            f"{folder.name}/{path.name} is not one of the rooms {sorted(ROOMS)} (or <room>_<topic>.py)"
        )
        text = path.read_text()
        assert text.strip(), f"{folder.name}/{path.name} is empty: leave out a room the plugin does not need"
        assert ast.get_docstring(ast.parse(text)), f"{folder.name}/{path.name} has no module docstring"


def test_the_package_holds_only_the_manifest_and_hook_implementations(plugin: Any) -> None:
    tree = ast.parse((_folder(plugin) / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names = {d.id if isinstance(d, ast.Name) else getattr(d, "attr", "") for d in node.decorator_list}
            assert "hookimpl" in names, f"{plugin.__name__}.{node.name} is not a hook implementation"
        assert not isinstance(node, ast.ClassDef), f"{plugin.__name__} defines a class in __init__"


def test_rooms_that_are_used_exist(plugin: Any) -> None:
    folder = _folder(plugin)
    hooks = {
        node.name
        for node in ast.parse((folder / "__init__.py").read_text()).body
        if isinstance(node, ast.FunctionDef)
    }
    needs = {"hub_register_routes": "api", "hub_register_pages": "pages", "hub_register_checks": "checks"}
    for hook, room in needs.items():
        if hook in hooks:
            assert any(_room(p.stem) == room for p in folder.glob("*.py")), (
                f"{folder.name}: {hook} without {room}.py"
            )
    if (folder / "models.py").is_file():
        assert (folder / "migrations").is_dir(), f"{folder.name} has tables but no migrations/"


def _imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def test_imports_follow_the_layers(plugin: Any) -> None:
    manifest = plugin.hub_manifest()
    allowed = set(manifest.depends_on) | set(manifest.after_depends_on)
    others = {pid: mod for pid, mod in MODULES.items() if mod != plugin.__name__}
    problems: list[str] = []
    for path in sorted(_folder(plugin).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        where = f"{_folder(plugin).name}/{path.relative_to(_folder(plugin))}"
        for line, name in _imports(path):
            if name.split(".")[0] in ("connectors", "simulators"):
                problems.append(f"{where}:{line} imports {name}")
            elif name.startswith("core.") and not name.startswith("core.contract"):
                problems.append(f"{where}:{line} imports {name} (only core.contract)")
            for pid, module in others.items():
                if name == module or name.startswith(module + "."):
                    public = name == f"{module}.public" or name.startswith(f"{module}.public.")
                    if not public:
                        problems.append(f"{where}:{line} imports {name} (only {module}.public)")
                    elif pid not in allowed:
                        problems.append(f"{where}:{line} imports {name} but the manifest does not name {pid}")
    assert not problems, "\n".join(problems)
