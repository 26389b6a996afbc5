"""Presenting results: compact figures, the side-by-side table and the JSON record of a run."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from benchmarks.registry import Result

_SI = ((1e9, "G"), (1e6, "M"), (1e3, "k"))


def _sig3(x: float) -> str:
    """Three significant figures without scientific notation (what a reader compares at a glance)."""
    if x == 0:
        return "0"
    digits = max(0, 2 - math.floor(math.log10(abs(x))))
    return f"{x:.{digits}f}"


def format_value(value: float | None, unit: str) -> str:
    """``21345.6, "req/s"`` → ``"21.3k req/s"``; seconds below one are shown in ms; None → ``"—"``."""
    if value is None or math.isnan(value):
        return "—"
    if unit == "s" and abs(value) < 1:
        return f"{_sig3(value * 1000)} ms"
    if unit.endswith("/s"):
        for scale, prefix in _SI:
            if abs(value) >= scale:
                return f"{_sig3(value / scale)}{prefix} {unit}"
    return f"{_sig3(value)} {unit}".rstrip()


def format_ratio(r: float | None) -> str:
    """``0.8734`` → ``"0.87×"``; small ratios keep three significant figures; None → ``"—"``."""
    if r is None or math.isnan(r):
        return "—"
    if abs(r) >= 0.1:
        return f"{r:.2f}×"
    return f"{_sig3(r)}×"


def met_cell(met: bool | None) -> str:
    """The ``met?`` column: yes / NO / a dash when the row has no goal or nothing was measured."""
    if met is None:
        return "—"
    return "yes" if met else "NO"


def build_table(results: Sequence[Result], *, title: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("name", no_wrap=True)
    table.add_column("ours", justify="right")
    table.add_column("baseline", justify="right")
    table.add_column("ratio", justify="right")
    table.add_column("goal")
    table.add_column("met?", justify="center")
    for r in results:
        met = met_cell(r.met)
        style = {"yes": "green", "NO": "bold red"}.get(met, "dim")
        table.add_row(
            r.name,
            format_value(r.value, r.unit),
            f"{format_value(r.baseline_value, r.shown_baseline_unit)} [dim]({r.baseline_label})[/dim]",
            format_ratio(r.ratio),
            r.goal or "—",
            f"[{style}]{met}[/{style}]",
        )
    return table


def _clean(obj: Any) -> Any:
    """JSON has no NaN: store unmeasured figures as null."""
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def run_record(
    results: Sequence[Result], *, quick: bool, loadgen: str, errors: dict[str, str]
) -> dict[str, Any]:
    """Everything needed to compare this run with a later one, including what machine it ran on."""
    return _clean(
        {
            "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "quick": quick,
            "loadgen": loadgen,
            "machine": {
                "python": sys.version.split()[0],
                "implementation": platform.python_implementation(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
            },
            "results": [dataclasses.asdict(r) for r in results],
            "errors": errors,
        }
    )


def write_json(record: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a reader (or a crashed run) never sees half a file.
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
