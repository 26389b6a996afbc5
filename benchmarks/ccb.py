"""CCB: the account summary a CSR opens for a verified caller, and the rate of the demo-data seeder.

``ccb-summary`` serves the full hub with one extra hand-written route (``benchmarks.ccb_app``) on one granian
server and loads ``GET /api/ccb/accounts/{id}`` and the raw twin alternately with the same headers (bearer
token and ``X-Contact-Id``). Before any load, both answers are fetched once and must be equal as parsed
JSON, so the ratio compares two ways of producing the same answer.

``ccb-seed`` times ``seed_customers`` on a fresh SQLite database for 1,000 customers (and 10,000 in a full
run; 100,000 more with ``HUB_BENCH_SEED_100K=1``, a long one). Its goal is absolute (100,000 customers in
under a minute, what ``ccbhub seed`` users wait for). The baseline beside each size is the database's floor
for the same work: the very rows that seed wrote (generated beforehand, untimed) inserted by the same Core
executemany into another fresh database, so the ratio says how much of the time generating and pricing
take. The notes add plain person rows per second, what one narrow row costs on this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import http.client
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.ccb_app import RAW_PREFIX
from benchmarks.ccb_load import HeaderDriver
from benchmarks.loadgen import HOST, LoadJob, LoadStats
from benchmarks.procs import GranianServer, child_env, scratch_dir
from benchmarks.registry import Result, RunOptions, benchmark, median, meets, ratio

# Fixed so the identity hashes written by the in-process seeder verify inside the server process.
BENCH_SECRET_KEY = "ccb-bench-not-a-real-secret-0123456789abcdef"
CSR_NAME = "bench.csr"
CONNECTIONS = 16
SUMMARY_GOAL = 0.5
# 100,000 customers in under a minute on SQLite, with room to spare on a busy machine.
SEED_GOAL_RATE = 2_000.0
SEED_GOAL_CUSTOMERS = 100_000
SEED_SIZES = (1_000, 10_000)
SEED_LONG_SIZE = 100_000  # only with HUB_BENCH_SEED_100K=1


def sqlite_url(folder: Path, name: str = "hub.db") -> str:
    return f"sqlite+aiosqlite:///{folder / name}"


def same_json(a: bytes, b: bytes) -> bool:
    """Equal as parsed JSON: key order and whitespace do not matter, values and types do.

    Compared re-encoded with sorted keys, because Python's ``==`` would take ``true`` for ``1``.
    """
    return json.dumps(json.loads(a), sort_keys=True) == json.dumps(json.loads(b), sort_keys=True)


def _request(
    port: int, method: str, path: str, headers: dict[str, str], body: Any = None
) -> tuple[int, bytes]:
    """One request for setup and checks (not for load), to 127.0.0.1 only."""
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        payload = None if body is None else json.dumps(body).encode()
        sent = dict(headers)
        if payload is not None:
            sent["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=sent)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# -- ccb-summary -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Prepared:
    token: str
    account_id: str
    access_code: str


async def _prepare(url: str, customers: int) -> _Prepared:
    """Seed customers and create a CSR with an API token, in this process before the server starts."""
    from sqlalchemy import text

    from core.audit import AuditKey, AuditLog
    from core.ccb.seed import identity_key, seed_customers
    from core.clock import SystemClock
    from core.db import Database
    from core.staff import StaffService

    db = Database(url)
    try:
        accounts = await seed_customers(db, customers, 7, identity_key(BENCH_SECRET_KEY))
        clock = SystemClock()
        async with db.session() as s:
            _, token = await StaffService(
                db, AuditLog(clock, AuditKey(BENCH_SECRET_KEY.encode())), clock
            ).add_user(s, name=CSR_NAME, role="csr", sections=[], password=None, actor="system:bench")
        # The raw twin does not render pay plans; pick the first account with bills and without a plan.
        async with db.engine.connect() as conn:
            for acct in accounts:
                row = (
                    await conn.execute(
                        text(
                            "SELECT (SELECT COUNT(*) FROM ccb_bill WHERE account_id = :a) AS bills, "
                            "(SELECT COUNT(*) FROM ccb_pay_plan WHERE account_id = :a "
                            "AND status = 'active') AS plans"
                        ),
                        {"a": acct.account_id},
                    )
                ).one()
                if row.bills and not row.plans:
                    return _Prepared(token, acct.account_id, acct.access_code)
        raise RuntimeError("no seeded account with bills and without an active pay plan")
    finally:
        await db.dispose()


def _open_verified_contact(port: int, prepared: _Prepared) -> str:
    """Open a phone contact and pass verification through the API, as a CSR would."""
    auth = {"Authorization": f"Bearer {prepared.token}"}
    status, body = _request(
        port, "POST", "/api/contacts", auth, {"channel": "phone", "account_id": prepared.account_id}
    )
    if status != 201:
        raise RuntimeError(f"opening a contact answered {status}: {body[:300]!r}")
    contact_id = str(json.loads(body)["contact_id"])
    status, body = _request(
        port,
        "POST",
        f"/api/contacts/{contact_id}/verify",
        auth,
        {"account_id": prepared.account_id, "method": "access_code", "value": prepared.access_code},
    )
    if status != 200:
        raise RuntimeError(f"verification answered {status}: {body[:300]!r}")
    return contact_id


@dataclass(slots=True)
class _Side:
    label: str
    requests: int = 0
    seconds: float = 0.0
    non_200: int = 0
    errors: int = 0
    slot_rps: list[float] = field(default_factory=list)

    def add(self, stats: LoadStats) -> None:
        self.requests += stats.requests
        self.seconds += stats.seconds
        self.non_200 += stats.non_200
        self.errors += stats.errors
        self.slot_rps.append(stats.rps)

    @property
    def rps(self) -> float | None:
        return self.requests / self.seconds if self.seconds > 0 else None


@benchmark("ccb-summary", order=40)
def ccb_summary(opts: RunOptions) -> Result:
    """Hub GET /api/ccb/accounts/{id} (verified contact) vs a raw-SQL handler with the same JSON."""
    customers = 200
    slot_s = 2.0 if opts.quick else 5.0
    warmup_s = 1.0 if opts.quick else 2.0
    rounds = 2 if opts.quick else 3
    hub_side, raw_side = _Side("hub"), _Side("raw")
    with scratch_dir("ccb") as tmp, contextlib.ExitStack() as stack:
        from core.migrate import upgrade

        url = sqlite_url(tmp)
        opts.progress(f"migrating a temporary SQLite database and seeding {customers} customers")
        upgrade(url)
        prepared = asyncio.run(_prepare(url, customers))
        env = child_env({"HUB_DATABASE_URL": url, "HUB_SECRET_KEY": BENCH_SECRET_KEY})
        server = stack.enter_context(GranianServer("benchmarks.ccb_app:app", env=env, cwd=tmp, label="ccb"))
        contact_id = _open_verified_contact(server.port, prepared)
        headers = {"Authorization": f"Bearer {prepared.token}", "X-Contact-Id": contact_id}
        hub_path = f"/api/ccb/accounts/{prepared.account_id}"
        raw_path = f"{RAW_PREFIX}/{prepared.account_id}"

        # The same answer from both, or the ratio would compare different work.
        hub_status, hub_body = _request(server.port, "GET", hub_path, headers)
        raw_status, raw_body = _request(server.port, "GET", raw_path, headers)
        if hub_status != 200 or raw_status != 200:
            raise RuntimeError(
                f"hub answered {hub_status} {hub_body[:300]!r}, raw {raw_status} {raw_body[:300]!r}"
            )
        if not same_json(hub_body, raw_body):
            raise RuntimeError(f"the bodies differ:\nhub {hub_body!r}\nraw {raw_body!r}")

        driver = HeaderDriver(headers)
        stack.callback(driver.close)
        opts.progress(f"load: {CONNECTIONS} connections; warming up {warmup_s:.0f} s each")
        for path in (hub_path, raw_path):
            driver.run(LoadJob(server.port, path, CONNECTIONS, settle_s=0.0, duration_s=warmup_s))
        for rnd in range(1, rounds + 1):
            for path, side in ((hub_path, hub_side), (raw_path, raw_side)):
                stats = driver.run(LoadJob(server.port, path, CONNECTIONS, settle_s=0.3, duration_s=slot_s))
                side.add(stats)
                opts.progress(f"round {rnd}/{rounds} {side.label}: {stats.rps:,.0f} req/s")
        loadgen_name = driver.name

    r = ratio(hub_side.rps, raw_side.rps)
    paired = [h / b for h, b in zip(hub_side.slot_rps, raw_side.slot_rps, strict=True) if b > 0]
    problems = [
        f"{s.label}: {s.non_200} non-200, {s.errors} connection errors"
        for s in (hub_side, raw_side)
        if s.non_200 or s.errors
    ]
    notes = [
        f"{loadgen_name}; {CONNECTIONS} conns; {rounds}×{slot_s:.0f} s per route, alternating, one server",
        "per-round ratios " + " / ".join(f"{p:.2f}" for p in paired),
        "hub side also writes an audit record and a contact action per read; raw side does not",
        *problems,
    ]
    return Result(
        name="ccb account summary",
        baseline_label="raw SQL handler",
        value=hub_side.rps,
        baseline_value=raw_side.rps,
        unit="req/s",
        goal=f">= {SUMMARY_GOAL} (hub/raw)",
        ratio=r,
        notes="; ".join(notes),
        met=False if problems else meets(r, ">=", SUMMARY_GOAL),
        details={
            "loadgen": loadgen_name,
            "customers": customers,
            "hub_slot_rps": hub_side.slot_rps,
            "raw_slot_rps": raw_side.slot_rps,
            "median_paired_ratio": median(paired) if paired else None,
        },
    )


# -- ccb-seed ----------------------------------------------------------------------------------------------


def person_rows(n: int, now: dt.datetime) -> list[dict[str, Any]]:
    """``n`` synthetic person rows with every column the table requires (for the raw-insert baseline)."""
    return [
        {
            "id": f"{9_000_000_000 + i:010d}",
            "first_name": "Bench",
            "last_name": f"Person{i}",
            "phone": f"{5_550_000_000 + i:010d}",
            "alt_phone": None,
            "email": None,
            "mail_line1": f"{i} Main St",
            "mail_line2": None,
            "mail_city": "Springfield",
            "mail_state": "CA",
            "mail_zip": "90000",
            "language": "en",
            "life_support": False,
            "access_code_hash": None,
            "ssn_last4_hash": None,
            "identity_key_version": 1,
            "created_at": now,
        }
        for i in range(n)
    ]


async def _time_seed(url: str, n: int) -> tuple[float, int]:
    """Seconds for ``seed_customers`` of ``n``, and how many rows it wrote in all."""
    from sqlalchemy import func, select

    from core.ccb.seed import identity_key, seed_customers
    from core.db import Base, Database

    db = Database(url)
    try:
        started = time.perf_counter()
        await seed_customers(db, n, 11, identity_key(BENCH_SECRET_KEY))
        seconds = time.perf_counter() - started
        rows = 0
        async with db.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                if table.name.startswith("ccb_"):
                    rows += int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
        return seconds, rows
    finally:
        await db.dispose()


async def _time_floor(url: str, n: int) -> float:
    """Seconds to insert the rows a seed of ``n`` writes, generated beforehand: the database's share."""
    from core.ccb.rates import load_default_config
    from core.ccb.seed import CHUNK, DEFAULT_AS_OF, NET_METERED_SHARE, identity_key
    from core.ccb.seed.base import ORDER, Rows
    from core.ccb.seed.generator import Generator
    from core.db import Database

    generator = Generator(
        11, identity_key(BENCH_SECRET_KEY), DEFAULT_AS_OF, load_default_config(), NET_METERED_SHARE
    )
    rounds: list[Rows] = []
    for start in range(0, n, CHUNK):
        rows = Rows()
        for _ in range(min(CHUNK, n - start)):
            generator.customer(rows)
        rounds.append(rows)
    db = Database(url)
    try:
        started = time.perf_counter()
        async with db.session() as session:
            conn = await session.connection()
            for rows in rounds:
                for model in ORDER:
                    if rows.tables.get(model):
                        await conn.execute(model.__table__.insert(), rows.tables[model])
        return time.perf_counter() - started
    finally:
        await db.dispose()


async def _time_raw_persons(url: str, n: int) -> float:
    """Seconds for one transaction of Core bulk inserts of ``n`` person rows, in the seeder's chunk size."""
    from sqlalchemy import insert

    from core.ccb.models import Person
    from core.ccb.seed import CHUNK
    from core.db import Database

    db = Database(url)
    try:
        rows = person_rows(n, dt.datetime.now(dt.UTC))
        started = time.perf_counter()
        async with db.engine.begin() as conn:
            for start in range(0, n, CHUNK):
                await conn.execute(insert(Person), rows[start : start + CHUNK])
        return time.perf_counter() - started
    finally:
        await db.dispose()


def _seed_sizes(opts: RunOptions) -> list[int]:
    sizes = list(SEED_SIZES[:1] if opts.quick else SEED_SIZES)
    if os.environ.get("HUB_BENCH_SEED_100K", "").lower() in {"1", "true", "yes"}:
        sizes.append(SEED_LONG_SIZE)
    return sizes


@benchmark("ccb-seed", order=41)
def ccb_seed(opts: RunOptions) -> list[Result]:
    """seed_customers rate (customers/s) on a fresh SQLite vs Core inserts of the same rows alone."""
    from core.migrate import upgrade

    results: list[Result] = []
    for n in _seed_sizes(opts):
        with scratch_dir("ccb-seed") as tmp:
            seed_url, floor_url, raw_url = (sqlite_url(tmp, f"{x}.db") for x in ("seed", "floor", "raw"))
            opts.progress(f"migrating three temporary SQLite databases; seeding {n:,} customers")
            for url in (seed_url, floor_url, raw_url):
                upgrade(url)
            seed_s, seed_rows = asyncio.run(_time_seed(seed_url, n))
            opts.progress(f"{n:,} customers' rows again, generated first, inserted alone")
            floor_s = asyncio.run(_time_floor(floor_url, n))
            raw_s = asyncio.run(_time_raw_persons(raw_url, min(n, 10_000)))
        rate = n / seed_s if seed_s > 0 else None
        floor_rate = n / floor_s if floor_s > 0 else None
        projected = SEED_GOAL_CUSTOMERS / rate if rate else None
        notes = [
            f"{n:,} customers in {seed_s:.2f} s ({seed_rows:,} CCB rows, {seed_rows / n:.0f} per customer, "
            f"{seed_rows / seed_s:,.0f} rows/s)",
            f"the same rows inserted alone: {floor_s:.2f} s ({seed_rows / floor_s:,.0f} rows/s)",
            f"plain person rows: {min(n, 10_000) / raw_s:,.0f} rows/s",
        ]
        if projected is not None:
            notes.append(f"{SEED_GOAL_CUSTOMERS:,} customers projected at {projected:.0f} s")
        results.append(
            Result(
                name=f"ccb seed rate ({n:,} customers)",
                baseline_label="Core insert of the same rows",
                value=rate,
                baseline_value=floor_rate,
                unit="customers/s",
                goal=f">= {SEED_GOAL_RATE:,.0f} customers/s",
                ratio=ratio(rate, floor_rate),
                notes="; ".join(notes),
                met=meets(rate, ">=", SEED_GOAL_RATE),
                details={
                    "customers": n,
                    "seed_seconds": seed_s,
                    "seed_rows": seed_rows,
                    "floor_seconds": floor_s,
                    "raw_person_seconds": raw_s,
                },
            )
        )
    return results
