"""``python -m benchmarks``: run the registered benchmarks, print the side-by-side table, save JSON."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from benchmarks.registry import Result, RunOptions, discover, registered
from benchmarks.report import build_table, run_record, write_json

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "var" / "bench" / "latest.json"


def _parse_args(argv: Sequence[str] | None, names: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the benchmarks, print each figure beside its same-run baseline, save JSON.",
    )
    parser.add_argument("--quick", action="store_true", help="shorten every duration (smoke run)")
    parser.add_argument(
        "--only", action="append", choices=names, metavar="NAME", help=f"run only NAME (repeatable): {names}"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument(
        "--builtin-loadgen",
        action="store_true",
        help="use the built-in HTTP load generator even if wrk exists",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the JSON record")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    discover()
    benches = registered()
    args = _parse_args(argv, [b.name for b in benches])
    out = Console()
    if not out.is_terminal:
        # Redirected to a file or a CI log: don't squeeze the table into 80 columns.
        out = Console(width=150)
    if args.list:
        for b in benches:
            out.print(f"[bold]{b.name}[/bold]  {b.description}")
        return 0
    # `make bench` takes no arguments, so the quick switch can also come from the environment.
    quick = args.quick or os.environ.get("HUB_BENCH_QUICK", "").lower() in {"1", "true", "yes"}
    err = Console(stderr=True)
    opts = RunOptions(
        quick=quick,
        builtin_loadgen=args.builtin_loadgen,
        console=err if err.is_terminal else Console(stderr=True, width=150),
    )
    selected = [b for b in benches if not args.only or b.name in args.only]

    results: list[Result] = []
    errors: dict[str, str] = {}
    started = time.perf_counter()
    for b in selected:
        opts.console.print(f"[bold]{b.name}[/bold]: {b.description}")
        t0 = time.perf_counter()
        try:
            produced = b.fn(opts)
        except Exception as exc:
            # One broken area must not hide the others' figures; it is reported and fails the exit code.
            errors[b.name] = f"{type(exc).__name__}: {exc}"
            opts.console.print(f"[red]{b.name} failed:[/red]\n{traceback.format_exc()}")
            continue
        results.extend([produced] if isinstance(produced, Result) else produced)
        opts.progress(f"{b.name} done in {time.perf_counter() - t0:.1f} s")

    mode = "quick" if quick else "full"
    out.print()
    out.print(
        build_table(results, title=f"ccbhub benchmarks ({mode} run, {time.perf_counter() - started:.0f} s)")
    )
    for r in results:
        if r.notes:
            out.print(f"[dim]• {r.name}: {r.notes}[/dim]")
    loadgen = next((str(r.details["loadgen"]) for r in results if "loadgen" in r.details), "")
    if loadgen:
        out.print(f"HTTP load generator: {loadgen}")
    for name, message in errors.items():
        out.print(f"[red]• {name} did not complete: {message}[/red]")

    write_json(run_record(results, quick=quick, loadgen=loadgen, errors=errors), args.out)
    out.print(f"written: {args.out}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
