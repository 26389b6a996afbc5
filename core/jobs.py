"""The job runner: every running plugin's (and core part's) ``JobSpec``, on its schedule, in one process.

Scheduling. A job is due ``every_s`` seconds after its previous start (a run still going when the next is
due is not doubled; the next run starts at the first tick after it ends). ``run_at_start`` jobs run as
soon as this process becomes the runner; the others continue the schedule recorded in ``hub_job`` (or
start one period after the runner takes over).

Isolation. Each run is bounded by ``timeout_s`` (cancelled past it) and a failure is retried ``retries``
times under the hub's retry policy (:data:`core.retry.JOB`: growing waits with jitter). A run that still
fails is logged and attributed to its plugin (:meth:`PluginRecord.record_failure`, so repeated failures
degrade the plugin like failing handlers do); the runner and the other jobs go on. Every run's start,
duration, outcome and error are stored in ``hub_job`` and shown by ``GET /api/jobs``.

Exactly one runner. Hub processes sharing a database compete for the ``jobs`` row of ``hub_lease``: the
holder renews it every third of ``lease_s``; the others try to take it over and succeed only once it has
expired. The claim is one ``UPDATE … WHERE holder = me OR expires_at < now``: on SQLite ``BEGIN IMMEDIATE``
serialises the claimers, on PostgreSQL the second claimer's update waits for the first one's commit and
then re-checks the condition, so a lease has one holder on both. A process that is killed stops renewing
and another takes over within ``lease_s``; a process that stops cleanly deletes its lease at once. A row
lease (rather than an advisory lock) was chosen because it works the same on both databases, survives a
connection pool recycling its connections, and shows in ``GET /api/jobs`` who runs the jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from core.contract import JobSpec
from core.db import Database, utcnow
from core.models import JobRun, Lease
from core.plugins import PluginManager, PluginRecord
from core.retry import JOB, RetryPolicy

log = logging.getLogger("ccbhub.jobs")

LEASE_NAME = "jobs"


def process_name() -> str:
    """This process among all hub processes: host, pid and a random tail (a pid can be reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class RowLease:
    """A named lease in ``hub_lease``, held by one process until it expires."""

    def __init__(self, db: Database, name: str, holder: str, ttl_s: float) -> None:
        self._db = db
        self.name = name
        self.holder = holder
        self.ttl = dt.timedelta(seconds=ttl_s)

    async def hold(self) -> bool:
        """Take the lease or renew it; False while another live process holds it."""
        now = utcnow()
        async with self._db.session() as session:
            claimed = await session.execute(
                update(Lease)
                .where(Lease.name == self.name, or_(Lease.holder == self.holder, Lease.expires_at < now))
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
            if getattr(claimed, "rowcount", 0) == 1:
                return True
            if await session.scalar(select(Lease.holder).where(Lease.name == self.name)) is not None:
                return False
        try:
            async with self._db.session() as session:
                session.add(Lease(name=self.name, holder=self.holder, expires_at=now + self.ttl))
        except IntegrityError:
            return False  # another process created the row first: it holds the lease
        return True

    async def release(self) -> None:
        async with self._db.session() as session:
            await session.execute(delete(Lease).where(Lease.name == self.name, Lease.holder == self.holder))

    async def current(self) -> Lease | None:
        async with self._db.read() as session:
            return await session.get(Lease, self.name)


@dataclass(eq=False)
class _Job:
    rec: PluginRecord
    spec: JobSpec
    due: float = 0.0  # monotonic time of the next run while this process is the runner
    task: asyncio.Task[BaseException | None] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.rec.id, self.spec.name)


class JobInfo(msgspec.Struct, kw_only=True):
    """One job as ``GET /api/jobs`` shows it."""

    plugin: str
    name: str
    description: str
    every_s: float
    timeout_s: float
    retries: int
    run_at_start: bool
    running: bool
    last_started_at: dt.datetime | None = None
    last_duration_ms: float | None = None
    last_outcome: str | None = None
    last_error: str | None = None
    next_run_at: dt.datetime | None = None
    runs: int = 0
    failures: int = 0
    ran_by: str | None = None


class RunnerInfo(msgspec.Struct, kw_only=True):
    """Who runs the jobs (the lease holder), whether it is this process, and every job."""

    process: str
    leading: bool
    leader: str | None
    lease_expires_at: dt.datetime | None
    jobs: list[JobInfo]


# How long a stopping hub lets running jobs finish before cancelling them.
STOP_GRACE_S = 1.0


async def _finish_or_cancel(tasks: list[asyncio.Task[Any]], *, grace_s: float) -> None:
    """Wait up to ``grace_s`` for ``tasks`` to end, then cancel those still running and wait for them."""
    if not tasks:
        return
    if grace_s > 0:
        await asyncio.wait(tasks, timeout=grace_s)
    for task in tasks:
        if not task.done():
            task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


class JobRunner:
    """Runs the jobs of ``plugins`` while this process holds the ``jobs`` lease."""

    def __init__(
        self,
        db: Database,
        plugins: PluginManager,
        *,
        tick_s: float = 1.0,
        lease_s: float = 30.0,
        policy: RetryPolicy = JOB,
        holder: str | None = None,
    ) -> None:
        if tick_s <= 0 or lease_s <= tick_s:
            raise ValueError("tick_s must be positive and lease_s longer than a tick")
        self._db = db
        self._plugins = plugins
        self._tick = tick_s
        self._lease_s = lease_s
        self._policy = policy
        self.lease = RowLease(db, LEASE_NAME, holder or process_name(), lease_s)
        self.leading = False
        self._valid_until = 0.0  # monotonic: our lease is certainly ours until then
        self._jobs: dict[tuple[str, str], _Job] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._stop_signal = asyncio.Event()

    # -- the jobs -------------------------------------------------------------------------------------------
    def jobs(self) -> list[_Job]:
        """Every job of a running plugin, in plugin order (a plugin that stopped running drops out)."""
        current: list[_Job] = []
        for rec in self._plugins.running():
            for spec in rec.jobs:
                job = self._jobs.get((rec.id, spec.name))
                if job is None or job.spec is not spec:
                    job = self._jobs[(rec.id, spec.name)] = _Job(rec, spec)
                current.append(job)
        return current

    def find(self, plugin_id: str, name: str) -> _Job | None:
        return next((j for j in self.jobs() if j.key == (plugin_id, name)), None)

    # -- life ----------------------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._stop_signal.clear()
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="job-runner")

    async def stop(self) -> None:
        # The loop and the runs are let finish what they are writing (a run or a lease renewal cancelled
        # inside a transaction could leave a connection holding SQLite's write lock); cancelled only if
        # they hang past a short grace.
        task, self._task = self._task, None
        self._stopping = True
        self._stop_signal.set()
        if task is not None:
            await _finish_or_cancel([task], grace_s=2.0)
        await self._cancel_runs(grace_s=STOP_GRACE_S)
        if self.leading:
            self.leading = False
            try:
                await self.lease.release()
            except Exception as exc:  # it expires by itself; another process takes over a little later
                log.warning("job runner: could not release the lease: %s", exc)

    async def _loop(self) -> None:
        next_hold = 0.0
        while not self._stopping:
            now = time.monotonic()
            if now >= next_hold:
                await self._hold(now)
                next_hold = now + self._lease_s / 3
            if self.leading:
                self._start_due(time.monotonic())
            # Wakes at once when the hub stops, so a stop never waits out a tick.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._tick):
                    await self._stop_signal.wait()

    async def _hold(self, now: float) -> None:
        try:
            held = await self.lease.hold()
        except Exception as exc:
            # The database did not answer: we may still hold the lease, but only until it would expire.
            held = self.leading and now < self._valid_until
            state = "still leading" if held else "idle"
            log.warning("job runner: cannot renew the lease (%s); %s", exc, state)
        else:
            if held:
                # A margin of one renewal period: stop before another process could take over.
                self._valid_until = now + self._lease_s * 2 / 3
        if held and not self.leading:
            log.info("job runner: this process (%s) now runs the jobs", self.lease.holder)
            await self._schedule_on_takeover(now)
        elif self.leading and not held:
            log.warning("job runner: lost the lease; another process runs the jobs now")
            await self._cancel_runs()
        self.leading = held

    async def _schedule_on_takeover(self, now: float) -> None:
        recorded: dict[tuple[str, str], dt.datetime | None] = {}
        try:
            async with self._db.read() as session:
                for row in (await session.execute(select(JobRun))).scalars():
                    recorded[(row.plugin, row.name)] = row.next_run_at
        except Exception as exc:
            log.warning("job runner: cannot read the job schedule (%s); starting it afresh", exc)
        wall = utcnow()
        for job in self.jobs():
            next_at = recorded.get(job.key)
            if job.spec.run_at_start:
                job.due = now
            elif next_at is not None:
                job.due = now + max(0.0, (next_at - wall).total_seconds())
            else:
                job.due = now + job.spec.every_s

    def _start_due(self, now: float) -> None:
        for job in self.jobs():
            if job.due <= now and (job.task is None or job.task.done()):
                job.due = now + job.spec.every_s
                job.task = asyncio.get_running_loop().create_task(
                    self._run(job, retries=job.spec.retries), name=f"job:{job.rec.id}.{job.spec.name}"
                )

    async def _cancel_runs(self, grace_s: float = 0.0) -> None:
        tasks = [j.task for j in self._jobs.values() if j.task is not None and not j.task.done()]
        await _finish_or_cancel(tasks, grace_s=grace_s)

    # -- one run --------------------------------------------------------------------------------------------
    async def run_now(self, plugin_id: str, name: str) -> None:
        """Run one job here and now, without retries (operators, tests); its failure is raised."""
        job = self.find(plugin_id, name)
        if job is None:
            raise LookupError(f"no job {name!r} of a running plugin {plugin_id!r}")
        if job.task is not None and not job.task.done():
            # The scheduled run is under way: wait for it rather than running the job twice at once.
            with contextlib.suppress(Exception):
                await asyncio.shield(job.task)
        error = await self._run(job, retries=0)
        if error is not None:
            raise error

    async def _run(self, job: _Job, *, retries: int) -> BaseException | None:
        spec = job.spec
        started_at = utcnow()
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            async for attempt in self._policy.replace(attempts=retries + 1).attempts_of(Exception):
                with attempt:
                    try:
                        async with asyncio.timeout(spec.timeout_s):
                            await spec.run()
                    except TimeoutError as exc:
                        raise TimeoutError(f"run took longer than {spec.timeout_s:g}s") from exc
        except Exception as exc:
            error = exc
            job.rec.record_failure(exc, f"job {spec.name}")
        else:
            job.rec.record_success()
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        outcome = "ok" if error is None else "timeout" if isinstance(error, TimeoutError) else "failed"
        await self._record(job, started_at, duration_ms, outcome, error)
        return error

    async def _record(
        self,
        job: _Job,
        started_at: dt.datetime,
        duration_ms: float,
        outcome: str,
        error: BaseException | None,
    ) -> None:
        plugin, name = job.key
        try:
            async with self._db.session() as session:
                row = await session.get(JobRun, (plugin, name))
                if row is None:
                    row = JobRun(plugin=plugin, name=name, runs=0, failures=0)
                    session.add(row)
                row.last_started_at = started_at
                row.last_duration_ms = duration_ms
                row.last_outcome = outcome
                row.last_error = None if error is None else f"{type(error).__name__}: {error}"[:2000]
                row.next_run_at = started_at + dt.timedelta(seconds=job.spec.every_s)
                row.runs = (row.runs or 0) + 1
                row.failures = (row.failures or 0) + (error is not None)
                row.ran_by = self.lease.holder
        except Exception as exc:
            log.warning("job runner: cannot record the run of %s.%s: %s", plugin, name, exc)

    # -- what GET /api/jobs shows ---------------------------------------------------------------------------
    async def describe(self) -> RunnerInfo:
        async with self._db.read() as session:
            rows = {(r.plugin, r.name): r for r in (await session.execute(select(JobRun))).scalars()}
            lease = await session.get(Lease, LEASE_NAME)
        infos: list[JobInfo] = []
        for job in self.jobs():
            spec, row = job.spec, rows.get(job.key)
            recorded: dict[str, Any] = {}
            if row is not None:
                recorded = {
                    f: getattr(row, f)
                    for f in (
                        "last_started_at",
                        "last_duration_ms",
                        "last_outcome",
                        "last_error",
                        "next_run_at",
                        "runs",
                        "failures",
                        "ran_by",
                    )
                }
            infos.append(
                JobInfo(
                    plugin=job.rec.id,
                    name=spec.name,
                    description=spec.description,
                    every_s=spec.every_s,
                    timeout_s=spec.timeout_s,
                    retries=spec.retries,
                    run_at_start=spec.run_at_start,
                    running=job.task is not None and not job.task.done(),
                    **recorded,
                )
            )
        live = lease is not None and lease.expires_at > utcnow()
        return RunnerInfo(
            process=self.lease.holder,
            leading=self.leading,
            leader=lease.holder if live and lease is not None else None,
            lease_expires_at=lease.expires_at if live and lease is not None else None,
            jobs=infos,
        )
