"""The job runner: schedule, timeout, retries, failure attribution, run records, one runner per database."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from core import retry
from core.contract import JobSpec, PluginManifest
from core.db import Database
from core.jobs import JobRunner
from core.migrate import upgrade
from core.models import JobRun, Lease
from core.plugins import PluginManager, PluginRecord, PluginStatus


@pytest.fixture(autouse=True)
def instant_retries() -> Iterator[None]:
    retry.set_instant(True)
    yield
    retry.set_instant(False)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, hub_migrated_template: Path, tmp_path: Path) -> str:
    if request.param == "sqlite":
        target = tmp_path / "jobs.db"
        shutil.copyfile(hub_migrated_template, target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    upgrade(url)
    return url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    try:
        yield database
    finally:
        await database.dispose()


def plugins_with(*specs: JobSpec, plugin_id: str = "demo") -> tuple[PluginManager, PluginRecord]:
    manager = PluginManager()
    rec = PluginRecord(
        name=plugin_id, manifest=PluginManifest(id=plugin_id, title="Demo", version="1"), jobs=list(specs)
    )
    manager.records[plugin_id] = rec
    manager.order = [plugin_id]
    return manager, rec


def counting(
    calls: list[float], *, fail_first: int = 0, sleep_s: float = 0.0
) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        calls.append(time.monotonic())
        if sleep_s:
            await asyncio.sleep(sleep_s)
        if len(calls) <= fail_first:
            raise RuntimeError(f"boom {len(calls)}")

    return run


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def finished(runner: JobRunner, name: str) -> bool:
    """The job's last run is over, its record written."""
    job = runner.find("demo", name)
    return job is not None and job.task is not None and job.task.done()


async def recorded(db: Database, plugin: str, name: str) -> JobRun | None:
    async with db.read() as session:
        return await session.get(JobRun, (plugin, name))


async def test_a_job_runs_at_start_and_then_every_period(db: Database) -> None:
    calls: list[float] = []
    plugins, _rec = plugins_with(JobSpec(name="tick", run=counting(calls), every_s=0.1))
    runner = JobRunner(db, plugins, tick_s=0.01, lease_s=1.0)
    await runner.start()
    try:
        await wait_for(lambda: len(calls) >= 3)
        await wait_for(lambda: finished(runner, "tick"))  # the third run's record is written
    finally:
        await runner.stop()
    assert calls[1] - calls[0] >= 0.09 and calls[2] - calls[1] >= 0.09  # never before its period
    row = await recorded(db, "demo", "tick")
    assert row is not None and row.runs >= 3 and row.last_outcome == "ok" and row.failures == 0
    assert row.last_duration_ms is not None and row.ran_by == runner.lease.holder


async def test_a_job_without_run_at_start_waits_one_period(db: Database) -> None:
    calls: list[float] = []
    plugins, _ = plugins_with(JobSpec(name="later", run=counting(calls), every_s=0.4, run_at_start=False))
    runner = JobRunner(db, plugins, tick_s=0.01, lease_s=2.0)
    started = time.monotonic()
    await runner.start()
    try:
        await asyncio.sleep(0.2)
        assert calls == []
        await wait_for(lambda: len(calls) == 1)
    finally:
        await runner.stop()
    assert calls[0] - started >= 0.35


async def test_a_failing_run_is_retried_then_succeeds(db: Database) -> None:
    calls: list[float] = []
    plugins, rec = plugins_with(
        JobSpec(name="flaky", run=counting(calls, fail_first=2), every_s=60, retries=2)
    )
    runner = JobRunner(db, plugins, tick_s=0.01, lease_s=1.0)
    await runner.start()
    try:
        await wait_for(lambda: len(calls) == 3)
        await wait_for(lambda: finished(runner, "flaky"))
    # type: ignore[union-attr]
    finally:
        await runner.stop()
    row = await recorded(db, "demo", "flaky")
    assert row is not None and (row.runs, row.failures, row.last_outcome) == (1, 0, "ok")
    assert rec.handler_failures == 0


async def test_a_run_that_keeps_failing_is_attributed_to_its_plugin_and_others_go_on(db: Database) -> None:
    bad_calls: list[float] = []
    good_calls: list[float] = []
    plugins, rec = plugins_with(
        JobSpec(name="broken", run=counting(bad_calls, fail_first=99), every_s=60, retries=1),
        JobSpec(name="fine", run=counting(good_calls), every_s=0.05),
    )
    runner = JobRunner(db, plugins, tick_s=0.01, lease_s=1.0)
    await runner.start()
    try:
        await wait_for(lambda: finished(runner, "broken") and len(good_calls) >= 3)
    finally:
        await runner.stop()
    assert len(bad_calls) == 2  # the run and its one retry
    assert rec.last_error is not None and rec.last_error.startswith("job broken: RuntimeError: boom 2")
    assert rec.status is PluginStatus.ACTIVE  # one failure does not degrade the plugin
    row = await recorded(db, "demo", "broken")
    assert row is not None and (row.runs, row.failures, row.last_outcome) == (1, 1, "failed")
    assert row.last_error == "RuntimeError: boom 2"


async def test_a_run_past_its_timeout_is_cancelled_and_recorded(db: Database) -> None:
    calls: list[float] = []
    plugins, rec = plugins_with(
        JobSpec(name="slow", run=counting(calls, sleep_s=5), every_s=60, timeout_s=0.05, retries=0)
    )
    runner = JobRunner(db, plugins, tick_s=0.01, lease_s=1.0)
    await runner.start()
    try:
        await wait_for(lambda: finished(runner, "slow"))
    finally:
        await runner.stop()
    assert rec.handler_failures == 1 and "took longer than 0.05s" in (rec.last_error or "")
    row = await recorded(db, "demo", "slow")
    assert row is not None and row.last_outcome == "timeout"
    assert row.last_error == "TimeoutError: run took longer than 0.05s"
    assert row.last_duration_ms is not None and row.last_duration_ms < 2000


async def test_a_stopped_plugin_s_jobs_no_longer_run(db: Database) -> None:
    calls: list[float] = []
    plugins, rec = plugins_with(JobSpec(name="tick", run=counting(calls), every_s=0.05))
    runner = JobRunner(db, plugins, tick_s=0.01, lease_s=1.0)
    await runner.start()
    try:
        await wait_for(lambda: len(calls) >= 1)
        rec.mark(PluginStatus.FAILED, "stopped for the test")
        await asyncio.sleep(0.1)
        seen = len(calls)
        await asyncio.sleep(0.2)
        assert len(calls) == seen
    finally:
        await runner.stop()


async def test_run_now_raises_the_failure_and_records_it(db: Database) -> None:
    calls: list[float] = []
    plugins, _ = plugins_with(JobSpec(name="once", run=counting(calls, fail_first=1), every_s=60, retries=3))
    runner = JobRunner(db, plugins, tick_s=0.01, lease_s=1.0)
    with pytest.raises(RuntimeError, match="boom 1"):
        await runner.run_now("demo", "once")
    assert len(calls) == 1  # run_now does not retry: the operator sees the first failure
    await runner.run_now("demo", "once")
    row = await recorded(db, "demo", "once")
    assert row is not None and (row.runs, row.failures, row.last_outcome) == (2, 1, "ok")
    with pytest.raises(LookupError):
        await runner.run_now("demo", "missing")


async def two_runners(
    db_url: str, calls: list[str], lease_s: float
) -> tuple[list[Database], list[JobRunner]]:
    dbs = [Database(db_url), Database(db_url)]
    runners = []
    for i, database in enumerate(dbs):

        async def run(i: int = i) -> None:
            calls.append(f"runner{i}")

        plugins, _ = plugins_with(JobSpec(name="tick", run=run, every_s=0.05))
        runners.append(JobRunner(database, plugins, tick_s=0.01, lease_s=lease_s, holder=f"runner{i}"))
    return dbs, runners


async def test_two_runners_on_one_database_run_each_job_in_one_process(db_url: str) -> None:
    calls: list[str] = []
    dbs, runners = await two_runners(db_url, calls, lease_s=0.6)
    try:
        await asyncio.gather(*(r.start() for r in runners))
        await wait_for(lambda: len(calls) >= 5)
        assert [r.leading for r in runners].count(True) == 1
        leader = next(i for i, r in enumerate(runners) if r.leading)
        assert set(calls) == {f"runner{leader}"}
        info = await runners[1 - leader].describe()
        assert (info.leading, info.leader) == (False, f"runner{leader}")
        assert info.jobs[0].runs >= 1 and info.jobs[0].ran_by == f"runner{leader}"  # records trail the calls
        # A clean stop releases the lease: the other process takes over at its next attempt.
        await runners[leader].stop()
        calls.clear()
        await wait_for(lambda: runners[1 - leader].leading and len(calls) >= 2)
        assert set(calls) == {f"runner{1 - leader}"}
    finally:
        for r in runners:
            await r.stop()
        for d in dbs:
            await d.dispose()


async def test_a_killed_runner_s_lease_expires_and_another_takes_over(db_url: str) -> None:
    calls: list[str] = []
    dbs, runners = await two_runners(db_url, calls, lease_s=0.6)
    try:
        await runners[0].start()
        await wait_for(lambda: runners[0].leading)
        await runners[1].start()
        # "Kill" runner0: its loop stops without releasing the lease, as when the process dies.
        assert runners[0]._task is not None
        runners[0]._task.cancel()
        killed_at = time.monotonic()
        await wait_for(lambda: runners[1].leading)
        assert time.monotonic() - killed_at >= 0.3  # not before the lease has expired
        calls.clear()
        await wait_for(lambda: "runner1" in calls)
        async with dbs[1].read() as session:
            lease = (await session.execute(select(Lease))).scalar_one()
        assert lease.holder == "runner1"
    finally:
        runners[0].leading = False  # it was killed: nothing of it is released
        for r in runners:
            await r.stop()
        for d in dbs:
            await d.dispose()


def test_the_runner_refuses_a_lease_shorter_than_a_tick() -> None:
    plugins, _ = plugins_with()
    with pytest.raises(ValueError):
        JobRunner(Database("sqlite+aiosqlite://"), plugins, tick_s=1.0, lease_s=0.5)
