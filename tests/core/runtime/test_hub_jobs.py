"""The hub runs every plugin's and core part's jobs (not in a short-lived hub) and waits out a busy SQLite."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from core import retry
from core.hub import CORE_ID, Hub
from core.settings import Settings
from tests import example_plugin


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [example_plugin]


async def runs_of(hub: Hub, plugin: str, name: str) -> int:
    info = await hub.jobs.describe()
    return next(j.runs for j in info.jobs if (j.plugin, j.name) == (plugin, name))


async def test_a_plugin_s_job_and_the_core_s_jobs_run_in_a_started_hub(hub: Hub) -> None:
    for _ in range(500):
        if await runs_of(hub, "example", "count_open") and await runs_of(hub, CORE_ID, "ccb_batches"):
            break
        await asyncio.sleep(0.02)
    assert await runs_of(hub, "example", "count_open") == 1
    assert await runs_of(hub, CORE_ID, "ccb_batches") == 1
    assert hub.jobs.leading


async def test_a_hub_started_without_jobs_runs_none(hub_settings: Settings, hub_clock: Any) -> None:
    short = Hub(hub_settings, extra_plugins=[example_plugin], entry_points=False, clock=hub_clock)
    await short.start(run_jobs=False)
    try:
        await asyncio.sleep(0.3)
        assert not short.jobs.leading
        info = await short.jobs.describe()
        assert info.leader is None and all(j.runs == 0 for j in info.jobs)
    finally:
        await short.stop()


async def test_start_up_waits_while_the_database_is_locked(
    hub_settings: Settings, hub_clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    retry.set_instant(True)
    try:
        hub = Hub(hub_settings, entry_points=False, clock=hub_clock)
        real_load = hub.enablement.load
        failures = 3

        async def load_while_locked(db: Any) -> None:
            nonlocal failures
            if failures:
                failures -= 1
                raise OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
            await real_load(db)

        monkeypatch.setattr(hub.enablement, "load", load_while_locked)
        await hub.start(run_jobs=False)
        try:
            assert failures == 0 and hub.started
        finally:
            await hub.stop()
    finally:
        retry.set_instant(False)
