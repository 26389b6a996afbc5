"""HTTP: the hub's ``GET /health/live`` against the same route in a bare Litestar app, both on granian.

The hub is the real ASGI entry point with every installed plugin loaded, so the request passes through
everything a trivial request pays for (app-wide guard, middleware, the router built from all plugins).
Both servers run side by side for the whole benchmark and are measured in alternating slots (hub, bare,
hub, bare…), so slow drifts of a shared machine land on both sides instead of on one.
"""

from __future__ import annotations

import array
import contextlib
from dataclasses import dataclass, field

from benchmarks.loadgen import LoadJob, LoadStats, describe_job, make_driver
from benchmarks.procs import GranianServer, child_env, http_get, migrated_sqlite, scratch_dir
from benchmarks.registry import Result, RunOptions, benchmark, median, meets, percentile, ratio

PATH = "/health/live"
CONNECTIONS = 32
GOAL_RATIO = 0.85


@dataclass(slots=True)
class _Side:
    """Everything measured for one server across all its slots."""

    label: str
    requests: int = 0
    seconds: float = 0.0
    non_200: int = 0
    errors: int = 0
    slot_rps: list[float] = field(default_factory=list)
    latencies: array.array[float] = field(default_factory=lambda: array.array("d"))
    # wrk reports percentiles per run rather than samples; keep its per-slot figures instead.
    slot_p50: list[float] = field(default_factory=list)
    slot_p99: list[float] = field(default_factory=list)
    client_cpu: list[float] = field(default_factory=list)

    def add(self, stats: LoadStats) -> None:
        self.requests += stats.requests
        self.seconds += stats.seconds
        self.non_200 += stats.non_200
        self.errors += stats.errors
        self.slot_rps.append(stats.rps)
        self.latencies.extend(stats.latencies)
        if stats.p50_s is not None:
            self.slot_p50.append(stats.p50_s)
        if stats.p99_s is not None:
            self.slot_p99.append(stats.p99_s)
        if stats.client_cpu is not None:
            self.client_cpu.append(stats.client_cpu)

    @property
    def rps(self) -> float | None:
        return self.requests / self.seconds if self.seconds > 0 else None

    def latency(self, q: float) -> float | None:
        """Percentile over every counted response (or, from wrk, the worst slot's figure)."""
        if self.latencies:
            return percentile(self.latencies, q)
        slots = self.slot_p50 if q == 50 else self.slot_p99
        return max(slots) if slots else None


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


@benchmark("http", order=10)
def http_health(opts: RunOptions) -> list[Result]:
    """Hub GET /health/live vs a bare Litestar app, both on granian, closed-loop keep-alive load."""
    slot_s = 2.0 if opts.quick else 5.0
    warmup_s = 1.0 if opts.quick else 2.0
    settle_s = 0.3
    rounds = 2 if opts.quick else 3
    hub_side, bare_side = _Side("hub"), _Side("bare")
    with scratch_dir("http") as tmp, contextlib.ExitStack() as stack:
        opts.progress("migrating a temporary SQLite database and starting both servers")
        hub_env = child_env(migrated_sqlite(tmp))
        hub = stack.enter_context(GranianServer("core.asgi:app", env=hub_env, cwd=tmp, label="hub"))
        bare = stack.enter_context(
            GranianServer("benchmarks.bare_app:app", env=child_env(), cwd=tmp, label="bare")
        )
        # Same answer from both, or the comparison is meaningless.
        hub_answer, bare_answer = http_get(hub.port, PATH), http_get(bare.port, PATH)
        if hub_answer != bare_answer:
            raise RuntimeError(f"the servers answer differently: hub {hub_answer!r}, bare {bare_answer!r}")

        driver = make_driver(prefer_builtin=opts.builtin_loadgen)
        stack.callback(driver.close)
        opts.progress(f"load: {driver.name}, {CONNECTIONS} connections; warming up {warmup_s:.0f} s each")
        for server in (hub, bare):
            driver.run(LoadJob(server.port, PATH, CONNECTIONS, settle_s=0.0, duration_s=warmup_s))

        job = None
        for rnd in range(1, rounds + 1):
            for server, side in ((hub, hub_side), (bare, bare_side)):
                job = LoadJob(server.port, PATH, CONNECTIONS, settle_s=settle_s, duration_s=slot_s)
                stats = driver.run(job)
                side.add(stats)
                opts.progress(f"round {rnd}/{rounds} {side.label}: {stats.rps:,.0f} req/s")
        loadgen_name = driver.name

    r = ratio(hub_side.rps, bare_side.rps)
    problems = [
        f"{s.label}: {s.non_200} non-200, {s.errors} connection errors"
        for s in (hub_side, bare_side)
        if s.non_200 or s.errors
    ]
    paired = [h / b for h, b in zip(hub_side.slot_rps, bare_side.slot_rps, strict=True) if b > 0]
    spread = "; ".join(
        f"{s.label} slots " + " / ".join(f"{x / 1000:.1f}k" for x in s.slot_rps)
        for s in (hub_side, bare_side)
    )
    details = {
        "loadgen": loadgen_name,
        "job": describe_job(job) if job else {},
        "rounds": rounds,
        "hub_slot_rps": hub_side.slot_rps,
        "bare_slot_rps": bare_side.slot_rps,
        "paired_ratios": paired,
        "median_paired_ratio": median(paired) if paired else None,
        "hub_requests": hub_side.requests,
        "bare_requests": bare_side.requests,
    }
    # The median of the paired (same-round) ratios shrugs off one disturbed round better than the totals.
    paired_note = "per-round ratios " + " / ".join(f"{p:.2f}" for p in paired)
    if paired:
        paired_note += f" (median {median(paired):.2f})"
    cpus = hub_side.client_cpu + bare_side.client_cpu
    cpu_note = (
        [f"generator CPU at most {max(cpus):.0%} of one core (it would be the bottleneck near 100 %)"]
        if cpus
        else []
    )
    base_note = f"{loadgen_name}; {CONNECTIONS} conns; {rounds}×{slot_s:.0f} s per server, alternating"
    rows = [
        Result(
            name="http GET /health/live",
            baseline_label="bare Litestar",
            value=hub_side.rps,
            baseline_value=bare_side.rps,
            unit="req/s",
            goal=f">= {GOAL_RATIO} (hub/bare)",
            ratio=r,
            notes="; ".join([base_note, spread, paired_note, *cpu_note, *problems]),
            met=False if problems else meets(r, ">=", GOAL_RATIO),
            details=details,
        )
    ]
    for q in (50, 99):
        hub_l, bare_l = _ms(hub_side.latency(q)), _ms(bare_side.latency(q))
        rows.append(
            Result(
                name=f"http p{q} latency",
                baseline_label="bare Litestar",
                value=hub_l,
                baseline_value=bare_l,
                unit="ms",
                goal="",
                ratio=ratio(hub_l, bare_l),
                notes=(
                    f"over every counted response; closed loop with {CONNECTIONS} connections, so "
                    "p50 ≈ connections / throughput"
                    if q == 50
                    else ""
                ),
            )
        )
    return rows
