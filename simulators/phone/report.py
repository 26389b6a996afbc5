"""Side-by-side reporting of simulated figures against the Erlang C / Erlang A model.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from rich.table import Table

from core.telephony.erlang import erlang_a_metrics, erlang_c_metrics
from simulators.phone.results import Summary

__all__ = ["ModelFigures", "comparison_table", "model_figures", "summary_payload"]

ModelName = Literal["erlang_c", "erlang_a"]


@dataclass(frozen=True, slots=True)
class ModelFigures:
    """The analytic model's figures for the simulated parameters.

    ``model`` is ``"erlang_c"`` for patient callers (M/M/N) and ``"erlang_a"`` with exponential
    patience (M/M/N+M). ``exact`` says whether the simulated system *is* that model (only with
    exponential handle times); otherwise the model is an approximation (§2.6).
    """

    model: ModelName
    exact: bool
    load_erlangs: float
    p_wait: float
    p_abandon: float
    asa_seconds: float
    mean_wait_seconds: float
    service_level: float
    occupancy: float


def model_figures(
    *,
    calls_per_hour: float,
    aht_seconds: float,
    agents: int,
    threshold_seconds: float,
    patience_seconds: float | None,
    exponential_handle: bool,
) -> ModelFigures:
    """Erlang C figures without patience, Erlang A figures with it.

    Erlang C raises ``ValueError`` when the load is not below the number of agents.
    """
    if patience_seconds is None:
        c = erlang_c_metrics(calls_per_hour, aht_seconds, agents, threshold_seconds)
        return ModelFigures(
            model="erlang_c",
            exact=exponential_handle,
            load_erlangs=c.load_erlangs,
            p_wait=c.p_wait,
            p_abandon=0.0,
            asa_seconds=c.asa_seconds,
            mean_wait_seconds=c.asa_seconds,
            service_level=c.service_level,
            occupancy=c.occupancy,
        )
    a = erlang_a_metrics(calls_per_hour, aht_seconds, agents, patience_seconds, threshold_seconds)
    return ModelFigures(
        model="erlang_a",
        exact=exponential_handle,
        load_erlangs=a.load_erlangs,
        p_wait=a.p_wait,
        p_abandon=a.p_abandon,
        asa_seconds=a.asa_seconds,
        mean_wait_seconds=a.mean_wait_seconds,
        service_level=a.service_level,
        occupancy=a.occupancy,
    )


def summary_payload(summary: Summary, figures: ModelFigures, parameters: dict[str, Any]) -> dict[str, Any]:
    """One JSON-ready object: run parameters, the simulated summary and an ``erlang`` block."""
    payload: dict[str, Any] = dict(parameters)
    payload.update(summary.to_dict())
    payload["model"] = figures.model
    payload["erlang"] = {key: _finite_or_none(value) for key, value in asdict(figures).items()}
    return payload


def comparison_table(summary: Summary, figures: ModelFigures) -> Table:
    """A rich table with simulated figures beside the model's, and the seed in the caption."""
    label = "Erlang C" if figures.model == "erlang_c" else "Erlang A"
    if not figures.exact:
        label += " (approx.)"
    threshold = f"{summary.sl_threshold_seconds:g}"
    table = Table(
        title=f"Phone simulation vs {label}",
        caption=(
            f"seed {summary.seed} · load {figures.load_erlangs:.3g} Erlangs · "
            f"{summary.calls_warmup_dropped} warm-up calls dropped"
        ),
    )
    table.add_column("Figure")
    table.add_column("Simulated", justify="right")
    table.add_column(label, justify="right")
    table.add_column("Difference", justify="right")

    def row(name: str, simulated: float, model: float | None, fmt: str, relative: bool = False) -> None:
        if model is None:
            table.add_row(name, _fmt(simulated, fmt), "—", "—")
            return
        if relative:
            diff = f"{(simulated / model - 1.0) * 100:+.1f} %" if model and math.isfinite(simulated) else "—"
        else:
            diff = _fmt(simulated - model, "+" + fmt)
        table.add_row(name, _fmt(simulated, fmt), _fmt(model, fmt), diff)

    table.add_row("Calls offered", str(summary.calls_offered), "—", "—")
    table.add_row("Calls answered", str(summary.calls_answered), "—", "—")
    table.add_row("Calls abandoned", str(summary.calls_abandoned), "—", "—")
    row("P(wait)", summary.p_wait, figures.p_wait, ".4f")
    if figures.model == "erlang_a":
        row("P(abandon)", summary.p_abandon, figures.p_abandon, ".4f")
        row("Mean wait, all calls (s)", summary.mean_wait_seconds, figures.mean_wait_seconds, ".2f", True)
    row("ASA, answered calls (s)", summary.asa_seconds, figures.asa_seconds, ".2f", True)
    row(f"Service level ({threshold} s)", summary.service_level, figures.service_level, ".4f")
    row("Occupancy", summary.occupancy, figures.occupancy, ".4f")
    row("Mean queue length", summary.mean_queue_length, None, ".3f")
    return table


def _fmt(value: float, spec: str) -> str:
    return format(value, spec) if math.isfinite(value) else "—"


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
