"""The benchmark registry: ``@benchmark("name")`` functions that return :class:`Result` rows.

A benchmark is a plain function taking :class:`RunOptions` and returning one ``Result`` or a list of them.
Each row puts our figure beside a baseline measured in the same run, because on a shared machine only a
same-time comparison means anything: absolute numbers drift by tens of percent between runs, ratios much less.

Adding an area: create ``benchmarks/<area>.py``, decorate a function with ``@benchmark("<area>")`` and it is
picked up by ``python -m benchmarks`` (every public module of the package is imported, see :func:`discover`).
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console


@dataclass(slots=True)
class Result:
    """One row of the report: our figure, the baseline's, their ratio and the goal it is held against.

    ``ratio`` is ``value / baseline_value`` unless the benchmark says otherwise in ``notes``. ``met`` is
    decided by the benchmark (goals are written for people, so they are not parsed); ``None`` means the row
    is reported without a goal.
    """

    name: str
    baseline_label: str
    value: float | None
    baseline_value: float | None
    unit: str
    goal: str
    ratio: float | None
    notes: str = ""
    met: bool | None = None
    baseline_unit: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def shown_baseline_unit(self) -> str:
        return self.baseline_unit if self.baseline_unit is not None else self.unit


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What every benchmark gets: the quick switch, a console for progress lines, and run-wide knobs."""

    quick: bool = False
    console: Console = field(default_factory=lambda: Console(stderr=True))
    # Use the built-in load generator even when an external one is available (reproducible comparisons).
    builtin_loadgen: bool = False

    def progress(self, message: str) -> None:
        self.console.print(f"[dim]  … {message}[/dim]")


BenchmarkFn = Callable[[RunOptions], "Result | Sequence[Result]"]


@dataclass(frozen=True, slots=True)
class Benchmark:
    name: str
    fn: BenchmarkFn
    order: int
    description: str


_REGISTRY: dict[str, Benchmark] = {}

# Modules of this package that hold infrastructure rather than benchmarks; discover() skips them.
_NOT_BENCHMARKS = frozenset({"registry", "report", "bare_app", "sse_app", "loadgen", "procs"})


def benchmark(name: str, *, order: int = 100) -> Callable[[BenchmarkFn], BenchmarkFn]:
    """Register ``fn`` under ``name`` (what ``--only`` takes); lower ``order`` runs first."""

    def register(fn: BenchmarkFn) -> BenchmarkFn:
        if name in _REGISTRY and _REGISTRY[name].fn is not fn:
            raise ValueError(f"benchmark {name!r} is registered twice")
        doc = (fn.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = Benchmark(name, fn, order, doc[0] if doc else "")
        return fn

    return register


def discover() -> None:
    """Import every public module of the package so their ``@benchmark`` decorators run."""
    package = importlib.import_module(__package__ or "benchmarks")
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_") or info.name in _NOT_BENCHMARKS:
            continue
        importlib.import_module(f"{package.__name__}.{info.name}")


def registered() -> list[Benchmark]:
    """The registered benchmarks in run order."""
    return sorted(_REGISTRY.values(), key=lambda b: (b.order, b.name))


# -- pure helpers shared by benchmarks and the report ---------------------------------------------------


def ratio(value: float | None, baseline: float | None) -> float | None:
    """``value / baseline``, or None when either side is missing or the baseline is zero."""
    if value is None or baseline is None or baseline == 0 or math.isnan(value) or math.isnan(baseline):
        return None
    return value / baseline


def meets(actual: float | None, op: str, threshold: float) -> bool | None:
    """Whether ``actual <op> threshold`` holds (``op`` is ">=" or "<="); None when nothing was measured."""
    if actual is None or math.isnan(actual):
        return None
    if op == ">=":
        return actual >= threshold
    if op == "<=":
        return actual <= threshold
    raise ValueError(f"unsupported comparison {op!r}")


def median(values: Sequence[float]) -> float:
    """The median (mean of the middle two for an even count); raises on an empty sequence."""
    if not values:
        raise ValueError("median of nothing")
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by nearest rank: a value that was actually observed."""
    if not values:
        raise ValueError("percentile of nothing")
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]
