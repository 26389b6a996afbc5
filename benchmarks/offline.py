"""CCB offline mode: replaying 10,000 offline forms, against the same 10,000 writes sent straight to CCB.

Our side is :meth:`OfflineCcb.replay` draining a journal of 10,000 premise-note forms into a ``LocalCcb`` on
its own SQLite database (the remote), marking forms in batches in the hub's database. The baseline is the
floor under it: the same 10,000 writes, with the same idempotency keys, made directly on a fresh
``LocalCcb``. Goal: >= 1,000 forms/s and no duplicate in CCB afterwards (each note exactly once).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert, select

from benchmarks.registry import Result, RunOptions, benchmark, meets, ratio
from core.ccb import models as m
from core.ccb import port as p
from core.ccb.local import LocalCcb
from core.ccb.offline import OfflineCcb
from core.ccb.offline_models import OfflineForm
from core.ccb.seed import seed_customers
from core.clock import SystemClock
from core.db import Database
from core.migrate import upgrade

GOAL_FORMS_PER_S = 1000.0
KEY = b"benchmark-identity-key-32-bytes!"


async def _ccb(path: Path) -> tuple[Database, str]:
    db = Database(f"sqlite+aiosqlite:///{path}")
    accounts = await seed_customers(db, 1, 5, KEY)
    return db, accounts[0].premise_id


def _note(premise: str, i: int) -> p.AddPremiseNote:
    return p.AddPremiseNote(premise_id=premise, text=f"offline note {i}")


async def _count(db: Database) -> tuple[int, int]:
    async with db.session() as s:
        total = await s.scalar(select(func.count()).select_from(m.PremiseNote))
        distinct = await s.scalar(select(func.count(func.distinct(m.PremiseNote.text))))
    return int(total or 0), int(distinct or 0)


async def _direct(path: Path, n: int) -> float:
    db, premise = await _ccb(path)
    ccb = LocalCcb(db, SystemClock(), KEY)
    started = time.perf_counter()
    for i in range(n):
        await ccb.add_premise_note(_note(premise, i), idempotency_key=f"bench-{i}")
    elapsed = time.perf_counter() - started
    await db.dispose()
    return n / elapsed


async def _replay(ccb_path: Path, hub_path: Path, n: int) -> tuple[float, int, int]:
    ccb_db, premise = await _ccb(ccb_path)
    hub_db = Database(f"sqlite+aiosqlite:///{hub_path}")
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "operation": "add_premise_note",
            "request": f'{{"premise_id":"{premise}","text":"offline note {i}"}}',
            "idempotency_key": f"bench-{i}",
            "actor": "bench",
            "status": "pending",
            "recorded_at": now,
        }
        for i in range(n)
    ]
    async with hub_db.session() as s:
        await s.execute(insert(OfflineForm), rows)
    offline = OfflineCcb(LocalCcb(ccb_db, SystemClock(), KEY), hub_db, SystemClock(), batch_size=500)
    started = time.perf_counter()
    report = await offline.replay()
    elapsed = time.perf_counter() - started
    assert report.replayed == n and report.pending == 0, report
    total, distinct = await _count(ccb_db)
    await ccb_db.dispose()
    await hub_db.dispose()
    return n / elapsed, total - distinct, total


@benchmark("offline", order=60)
def offline_replay(opts: RunOptions) -> Result:
    """Offline-form replay throughput (forms/s) against direct writes to the CCB mock."""
    n = 1_000 if opts.quick else 10_000
    with tempfile.TemporaryDirectory(prefix="bench-offline-") as tmp:
        root = Path(tmp)
        for name in ("direct.db", "ccb.db", "hub.db"):
            upgrade(f"sqlite+aiosqlite:///{root / name}")
        opts.progress(f"{n} writes straight to LocalCcb")
        baseline = asyncio.run(_direct(root / "direct.db", n))
        opts.progress(f"replaying {n} offline forms")
        rate, duplicates, total = asyncio.run(_replay(root / "ccb.db", root / "hub.db", n))
    return Result(
        name=f"offline replay ({n:,} forms)",
        baseline_label="same writes direct to LocalCcb",
        value=rate,
        baseline_value=baseline,
        unit="forms/s",
        goal=f">= {GOAL_FORMS_PER_S:,.0f} forms/s, 0 duplicates",
        ratio=ratio(rate, baseline),
        met=bool(meets(rate, ">=", GOAL_FORMS_PER_S)) and duplicates == 0,
        notes=f"{duplicates} duplicate(s) among {total} notes in CCB afterwards",
        details={"duplicates": duplicates, "notes_in_ccb": total},
    )
