"""Cold start of ``ccbhub check --json`` against a migrated database, beside ``python -c "import litestar"``.

"Cold" means a new interpreter each time (what an operator or a cron job pays), not a cold disk cache: one
unmeasured run of each command comes first so that neither side pays for filling the page cache or
writing bytecode. The baseline is the framework import every hub command starts with anyway, so the
difference is the hub's own import, start-up and checks.

Both commands get a private bytecode cache in the scratch directory (``PYTHONPYCACHEPREFIX``): an environment
that disables bytecode writing would otherwise recompile the project's modules on every start, which is not
what an installed hub does, and nothing is written into the source tree. When the caller's environment does
disable it, the check is also timed as inherited and reported in the notes.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from benchmarks.procs import child_env, migrated_sqlite, run_timed, scratch_dir
from benchmarks.registry import Result, RunOptions, benchmark, median, ratio


def _check_command() -> tuple[list[str], str]:
    """The installed ``ccbhub`` script next to this interpreter; the module form if it isn't installed."""
    script = Path(sys.executable).with_name("ccbhub")
    if script.is_file():
        return [str(script), "check", "--json"], "ccbhub check --json"
    found = shutil.which("ccbhub")
    if found:
        return [found, "check", "--json"], "ccbhub check --json"
    return [sys.executable, "-m", "core.cli", "check", "--json"], "python -m core.cli check --json"


@benchmark("cli_start", order=30)
def cli_cold_start(opts: RunOptions) -> Result:
    """Wall time of `ccbhub check --json` (new process) vs `python -c "import litestar"`."""
    runs = 3 if opts.quick else 5
    check_cmd, check_label = _check_command()
    import_cmd = [sys.executable, "-c", "import litestar"]
    check_times: list[float] = []
    import_times: list[float] = []
    inner: list[float] = []
    outcome = ""
    as_inherited: list[float] = []
    with scratch_dir("cli") as tmp:
        hub_vars = migrated_sqlite(tmp)
        inherited = child_env(hub_vars)
        env = {k: v for k, v in inherited.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        opts.progress(f"one unmeasured run of each, then {runs} alternating pairs")
        run_timed(check_cmd, env=env, cwd=tmp)
        run_timed(import_cmd, env=env, cwd=tmp)
        for _ in range(runs):
            elapsed, code, out = run_timed(check_cmd, env=env, cwd=tmp)
            check_times.append(elapsed)
            try:
                report = json.loads(out)
                inner.append(float(report["elapsed_s"]))
                outcome = f"checks {'passed' if report['passed'] else 'FAILED'} (exit {code})"
            except (ValueError, KeyError, TypeError):
                outcome = f"unreadable --json output (exit {code})"
            elapsed, _, _ = run_timed(import_cmd, env=env, cwd=tmp)
            import_times.append(elapsed)
        if os.environ.get("PYTHONDONTWRITEBYTECODE"):
            for _ in range(3):
                as_inherited.append(run_timed(check_cmd, env=inherited, cwd=tmp)[0])
    ours, base = median(check_times), median(import_times)
    notes = [
        f"{check_label}: median of {runs}",
        f"+{(ours - base) * 1000:.0f} ms over the bare import",
        outcome,
    ]
    if inner:
        notes.append(f"its own elapsed_s (hub import, start, checks, stop) ≈ {median(inner) * 1000:.0f} ms")
    if as_inherited:
        notes.append(
            f"with this environment's PYTHONDONTWRITEBYTECODE (no bytecode cache) the check takes "
            f"{median(as_inherited) * 1000:.0f} ms (median of 3)"
        )
    return Result(
        name="cli `ccbhub check` cold start",
        baseline_label="python -c 'import litestar'",
        value=ours,
        baseline_value=base,
        unit="s",
        goal="",
        ratio=ratio(ours, base),
        notes="; ".join(notes),
        met=None,
        details={
            "check_seconds": check_times,
            "import_seconds": import_times,
            "check_elapsed_s": inner,
            "check_seconds_without_bytecode_cache": as_inherited,
        },
    )
