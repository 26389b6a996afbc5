"""CCB offline mode: replaying offline forms into the local CCB and into the CCB simulator over HTTP.

``offline`` — our side is :meth:`OfflineCcb.replay` draining a journal of premise-note forms into a
``LocalCcb`` on its own SQLite database (the remote), which applies them in runs of 100 forms per
transaction (``write_batch``) while the hub marks each run with one statement. The baseline is the same
writes, with the same idempotency keys, made one call each on a fresh ``LocalCcb`` — what replay cost when it
sent forms one at a time. Goal: >= 2,500 forms/s and no duplicate in CCB afterwards (each note exactly once).

``offline-remote`` — the CCB simulator served by granian in its own process, answering after a simulated
network latency; ``HttpCcb`` cannot apply runs, so replay sends one call per form, several accounts side by
side (``concurrency``), each account's forms in order. The baseline is the same replay one form at a time.
Notes are spread over many customers' premises so there are lanes to run side by side; duplicates and the
per-premise order are checked in the simulator's database afterwards.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert, select

from benchmarks.procs import GranianServer, child_env, scratch_dir
from benchmarks.registry import Result, RunOptions, benchmark, meets, ratio
from core.ccb import models as m
from core.ccb import port as p
from core.ccb.local import LocalCcb
from core.ccb.offline import RUN_FORMS, OfflineCcb
from core.ccb.offline_models import OfflineForm
from core.ccb.seed import seed_customers
from core.clock import SystemClock
from core.db import Database
from core.migrate import upgrade

GOAL_FORMS_PER_S = 2500.0
KEY = b"benchmark-identity-key-32-bytes!"
REMOTE_CONCURRENCY = 8
REMOTE_LATENCY_MS = 5
REMOTE_CUSTOMERS = 40
# Side by side must pay for itself where CCB is a network hop away: at least twice one form at a time.
REMOTE_GOAL_RATIO = 2.0


async def _ccb(path: Path, customers: int = 1) -> tuple[Database, list[str]]:
    db = Database(f"sqlite+aiosqlite:///{path}")
    accounts = await seed_customers(db, customers, 5, KEY)
    return db, [a.premise_id for a in accounts]


def _note(premise: str, i: int) -> p.AddPremiseNote:
    return p.AddPremiseNote(premise_id=premise, text=f"offline note {i}")


async def _count(db: Database) -> tuple[int, int]:
    """Notes in CCB, and how many are duplicates of another (the same text twice)."""
    async with db.session() as s:
        total = int(await s.scalar(select(func.count()).select_from(m.PremiseNote)) or 0)
        distinct = int(await s.scalar(select(func.count(func.distinct(m.PremiseNote.text)))) or 0)
    return total, total - distinct


async def _out_of_order(db: Database) -> int:
    """Premises whose notes of one journal were not created in its order (numbers rise with time)."""
    async with db.session() as s:
        rows = (
            await s.execute(
                select(m.PremiseNote.premise_id, m.PremiseNote.text).order_by(
                    m.PremiseNote.created_at, m.PremiseNote.id
                )
            )
        ).all()
    last: dict[tuple[str, str], int] = {}
    bad: set[str] = set()
    for premise, text in rows:
        tag, _note, number = text.split(" ")
        n = int(number)
        if last.get((premise, tag), -1) > n:
            bad.add(premise)
        last[premise, tag] = n
    return len(bad)


async def _journal(hub_path: Path, premises: list[str], n: int, tag: str = "offline") -> Database:
    """``n`` note forms over ``premises`` in turn; ``tag`` keeps the texts and keys of two journals apart."""
    hub_db = Database(f"sqlite+aiosqlite:///{hub_path}")
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "operation": "add_premise_note",
            "request": f'{{"premise_id":"{premises[i % len(premises)]}","text":"{tag} note {i}"}}',
            "idempotency_key": f"{tag}-{i}",
            "actor": "bench",
            "status": "pending",
            "recorded_at": now,
        }
        for i in range(n)
    ]
    async with hub_db.session() as s:
        await s.execute(insert(OfflineForm), rows)
    return hub_db


# -- offline: the local CCB ------------------------------------------------------------------------------


async def _direct(path: Path, n: int) -> float:
    db, (premise,) = await _ccb(path)
    ccb = LocalCcb(db, SystemClock(), KEY)
    started = time.perf_counter()
    for i in range(n):
        await ccb.add_premise_note(_note(premise, i), idempotency_key=f"bench-{i}")
    elapsed = time.perf_counter() - started
    await db.dispose()
    return n / elapsed


async def _replay(ccb_path: Path, hub_path: Path, n: int) -> tuple[float, int, int]:
    ccb_db, premises = await _ccb(ccb_path)
    hub_db = await _journal(hub_path, premises, n)
    offline = OfflineCcb(LocalCcb(ccb_db, SystemClock(), KEY), hub_db, SystemClock(), batch_size=500)
    started = time.perf_counter()
    report = await offline.replay()
    elapsed = time.perf_counter() - started
    assert report.replayed == n and report.pending == 0, report
    total, duplicates = await _count(ccb_db)
    await ccb_db.dispose()
    await hub_db.dispose()
    return n / elapsed, duplicates, total


@benchmark("offline", order=60)
def offline_replay(opts: RunOptions) -> Result:
    """Offline-form replay into the local CCB (forms/s) against the same writes made one call each."""
    n = 2_000 if opts.quick else 10_000
    with tempfile.TemporaryDirectory(prefix="bench-offline-") as tmp:
        root = Path(tmp)
        for name in ("direct.db", "ccb.db", "hub.db"):
            upgrade(f"sqlite+aiosqlite:///{root / name}")
        opts.progress(f"{n} writes straight to LocalCcb, one call each")
        baseline = asyncio.run(_direct(root / "direct.db", n))
        opts.progress(f"replaying {n} offline forms")
        rate, duplicates, total = asyncio.run(_replay(root / "ccb.db", root / "hub.db", n))
    return Result(
        name=f"offline replay, local CCB ({n:,} forms)",
        baseline_label="same writes, one call each",
        value=rate,
        baseline_value=baseline,
        unit="forms/s",
        goal=f">= {GOAL_FORMS_PER_S:,.0f} forms/s, 0 duplicates",
        ratio=ratio(rate, baseline),
        met=bool(meets(rate, ">=", GOAL_FORMS_PER_S)) and duplicates == 0 and total == n,
        notes=f"{duplicates} duplicate(s) among {total} notes in CCB; {RUN_FORMS} forms per CCB transaction",
        details={"duplicates": duplicates, "notes_in_ccb": total},
    )


# -- offline-remote: the simulator over HTTP -------------------------------------------------------------


async def _remote_replay(port: int, hub_path: Path, premises: list[str], n: int, concurrency: int) -> float:
    from connectors.ccb_http import HttpCcb

    hub_db = await _journal(hub_path, premises, n, tag=f"lanes{concurrency}")
    http = HttpCcb(f"http://127.0.0.1:{port}", timeout=10.0, retries=2)
    offline = OfflineCcb(http, hub_db, SystemClock(), batch_size=200, concurrency=concurrency)
    try:
        started = time.perf_counter()
        report = await offline.replay()
        elapsed = time.perf_counter() - started
    finally:
        await http.aclose()
        await hub_db.dispose()
    if report.replayed != n or report.pending:
        raise RuntimeError(f"remote replay incomplete: {report}")
    return n / elapsed


@benchmark("offline-remote", order=61)
def offline_remote(opts: RunOptions) -> Result:
    """Offline-form replay into the CCB simulator over HTTP: accounts side by side vs one form at a time."""
    n = 400 if opts.quick else 2_000
    with scratch_dir("offline-remote") as tmp:
        sim_url = f"sqlite+aiosqlite:///{tmp / 'sim.db'}"
        for url in (
            sim_url,
            f"sqlite+aiosqlite:///{tmp / 'hub1.db'}",
            f"sqlite+aiosqlite:///{tmp / 'hub2.db'}",
        ):
            upgrade(url)

        async def seed() -> list[str]:
            db, premises = await _ccb(tmp / "sim.db", REMOTE_CUSTOMERS)
            await db.dispose()
            return premises

        premises = asyncio.run(seed())
        env = child_env({"CCB_SIM_DATABASE": sim_url, "CCB_SIM_LATENCY_MS": str(REMOTE_LATENCY_MS)})
        target = "simulators.ccb_server.app:app"
        with GranianServer(target, env=env, cwd=tmp, label="ccb-sim", ready_path="/_health") as server:
            opts.progress(f"replaying {n} forms over HTTP one at a time ({REMOTE_LATENCY_MS} ms latency)")
            sequential = asyncio.run(_remote_replay(server.port, tmp / "hub1.db", premises, n, 1))
            opts.progress(f"replaying {n} forms over HTTP, {REMOTE_CONCURRENCY} accounts side by side")
            rate = asyncio.run(_remote_replay(server.port, tmp / "hub2.db", premises, n, REMOTE_CONCURRENCY))

        async def check() -> tuple[int, int, int]:
            db = Database(sim_url)
            try:
                total, duplicates = await _count(db)
                return total, duplicates, await _out_of_order(db)
            finally:
                await db.dispose()

        total, duplicates, disordered = asyncio.run(check())
    ok = duplicates == 0 and disordered == 0
    return Result(
        name=f"offline replay, CCB simulator over HTTP ({n:,} forms)",
        baseline_label="same replay, one form at a time",
        value=rate,
        baseline_value=sequential,
        unit="forms/s",
        goal=f">= {REMOTE_GOAL_RATIO:.0f}x one at a time, 0 duplicates, per-account order",
        ratio=ratio(rate, sequential),
        met=ok and bool(meets(ratio(rate, sequential), ">=", REMOTE_GOAL_RATIO)),
        notes=(
            f"{REMOTE_CONCURRENCY} lanes, {REMOTE_LATENCY_MS} ms simulated latency, "
            f"{REMOTE_CUSTOMERS} premises; "
            f"{duplicates} duplicate(s) among {total} notes, {disordered} premise(s) out of order"
        ),
        details={"duplicates": duplicates, "out_of_order": disordered, "concurrency": REMOTE_CONCURRENCY},
    )
