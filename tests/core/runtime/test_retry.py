"""The hub's retry policy: what is retried, how many times, how long it waits, and the instant test switch."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import OperationalError

from core import retry
from core.retry import DATABASE_BUSY, RetryPolicy, database_busy


@pytest.fixture
def instant() -> Iterator[None]:
    retry.set_instant(True)
    yield
    retry.set_instant(False)


class Flaky:
    def __init__(self, failures: int, error: type[Exception] = ConnectionError) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error(f"failure {self.calls}")
        return "done"


async def test_a_retryable_failure_is_retried_until_it_succeeds(instant: None) -> None:
    flaky = Flaky(2)
    assert await RetryPolicy(attempts=3).call(ConnectionError, flaky) == "done"
    assert flaky.calls == 3


async def test_the_last_failure_is_raised_after_the_attempts(instant: None) -> None:
    flaky = Flaky(5)
    with pytest.raises(ConnectionError, match="failure 3"):
        await RetryPolicy(attempts=3).call(ConnectionError, flaky)
    assert flaky.calls == 3


async def test_other_failures_are_not_retried(instant: None) -> None:
    flaky = Flaky(1, error=ValueError)
    with pytest.raises(ValueError):
        await RetryPolicy(attempts=5).call(ConnectionError, flaky)
    assert flaky.calls == 1


async def test_a_predicate_decides_per_exception(instant: None) -> None:
    flaky = Flaky(2, error=RuntimeError)
    assert await RetryPolicy(attempts=3).call(lambda e: "failure" in str(e), flaky) == "done"


async def test_without_the_switch_the_policy_really_waits() -> None:
    flaky = Flaky(2)
    policy = RetryPolicy(attempts=3, wait_initial_s=0.05, wait_max_s=1.0, jitter_s=0.0)
    started = time.monotonic()
    await policy.call(ConnectionError, flaky)
    assert time.monotonic() - started >= 0.05 + 0.1 - 0.01  # 0.05 then 0.1


async def test_the_switch_makes_waits_instant_but_keeps_attempts(instant: None) -> None:
    flaky = Flaky(3)
    policy = RetryPolicy(attempts=4, wait_initial_s=10.0, wait_max_s=60.0, jitter_s=0.0)
    started = time.monotonic()
    assert await policy.call(ConnectionError, flaky) == "done"
    assert time.monotonic() - started < 1.0 and flaky.calls == 4
    assert retry.is_instant()


def test_delay_grows_exponentially_up_to_the_cap_with_bounded_jitter() -> None:
    policy = RetryPolicy(attempts=None, wait_initial_s=1.0, wait_max_s=10.0, jitter_s=0.0)
    assert [policy.delay(n) for n in range(6)] == [0.0, 1.0, 2.0, 4.0, 8.0, 10.0]
    jittered = policy.replace(jitter_s=0.5)
    assert all(4.0 <= jittered.delay(3) <= 4.5 for _ in range(50))


def test_a_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(wait_initial_s=-1)


def test_database_busy_recognises_sqlite_s_lock_error() -> None:
    locked = OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
    assert database_busy(locked)
    assert not database_busy(OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x")))
    assert DATABASE_BUSY.timeout_s is not None and DATABASE_BUSY.timeout_s <= 60


async def test_a_locked_database_is_waited_for(instant: None) -> None:
    calls = 0

    async def open_db() -> str:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise OperationalError("PRAGMA", {}, sqlite3.OperationalError("database is locked"))
        return "open"

    assert await DATABASE_BUSY.call(database_busy, open_db) == "open"
    assert calls == 4
