"""The hub's one retry policy: which failures are worth another try, how often, and how long to wait.

Every retry in the core and the connectors goes through :class:`RetryPolicy`, built on ``stamina`` (itself
on tenacity): exponential backoff with jitter, a bound on attempts and on total time, and a global test
switch (:func:`set_instant`) that drops every wait while keeping the number of attempts, so tests of retry
paths run in milliseconds and still fail when a retry is missing.

Two shapes of retry exist in the hub:

* a call that is repeated in place (an HTTP GET, a job run, a start-up write on a busy SQLite file):
  :meth:`RetryPolicy.call` or ``async for attempt in policy.attempts(on=...): with attempt: ...``;
* a long-lived consumer that waits "until kicked or until the backoff has passed" after a failure (the
  outbox relay, the mail sender's per-row schedule, the NATS fetch loop): it asks :meth:`RetryPolicy.delay`
  for the wait after its n-th consecutive failure, so the formula stays the same everywhere.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import stamina

T = TypeVar("T")

log = logging.getLogger("ccbhub.retry")

# What ``on`` may be: exception types, or a predicate deciding per exception.
Retryable = type[Exception] | tuple[type[Exception], ...] | Callable[[Exception], bool]


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How to retry: ``attempts`` in all (None: until ``timeout_s``), waits growing from ``wait_initial_s``
    by ``exp_base`` up to ``wait_max_s``, plus up to ``jitter_s`` of random spread so processes that failed
    together do not retry together. ``timeout_s`` bounds the whole call including waits (None: unbounded).
    """

    attempts: int | None = 3
    wait_initial_s: float = 0.1
    wait_max_s: float = 5.0
    jitter_s: float = 0.1
    exp_base: float = 2.0
    timeout_s: float | None = None

    def __post_init__(self) -> None:
        if self.attempts is not None and self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if min(self.wait_initial_s, self.wait_max_s, self.jitter_s) < 0:
            raise ValueError("waits must not be negative")

    def replace(self, **changes: Any) -> RetryPolicy:
        return dataclasses.replace(self, **changes)

    def attempts_of(self, on: Retryable) -> Any:
        """``async for attempt in policy.attempts_of(on): with attempt: ...`` retries the block."""
        return stamina.retry_context(
            on=on,
            attempts=self.attempts,
            timeout=self.timeout_s,
            wait_initial=self.wait_initial_s,
            wait_max=self.wait_max_s,
            wait_jitter=self.jitter_s,
            wait_exp_base=self.exp_base,
        )

    async def call(self, on: Retryable, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Await ``fn(*args, **kwargs)``, retrying what ``on`` accepts; the last failure is raised."""
        async for attempt in self.attempts_of(on):
            with attempt:
                return await fn(*args, **kwargs)
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    def delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` consecutive failures (the same curve as :meth:`call`).

        Not shortened by :func:`set_instant`: a consumer waiting zero after each failure would spin.
        """
        if failures < 1:
            return 0.0
        base = self.wait_initial_s * self.exp_base ** (failures - 1)
        spread = random.uniform(0, self.jitter_s) if self.jitter_s else 0.0
        return float(max(0.0, min(base + spread, self.wait_max_s)))


# An outside service over the network (HTTP APIs): a few quick tries, then the caller reports it.
NETWORK = RetryPolicy(attempts=3, wait_initial_s=0.2, wait_max_s=5.0, jitter_s=0.2)

# A job run of the job runner: retried a JobSpec's ``retries`` times; the next period is the real retry.
JOB = RetryPolicy(attempts=3, wait_initial_s=1.0, wait_max_s=30.0, jitter_s=1.0)

# A long-lived consumer whose peer is down (bus, mail server): wait longer and longer, never give up.
RECONNECT = RetryPolicy(attempts=None, wait_initial_s=1.0, wait_max_s=30.0, jitter_s=0.0)

# SQLite file locked by another process at start-up (a migration, another hub starting): wait it out.
DATABASE_BUSY = RetryPolicy(attempts=None, wait_initial_s=0.1, wait_max_s=2.0, jitter_s=0.1, timeout_s=30.0)


def database_busy(exc: Exception) -> bool:
    """SQLite's "database is locked" / "database is busy": another connection holds the write lock."""
    text = str(exc).lower()
    busy = "database is locked" in text or "database is busy" in text
    if busy:
        log.warning("the database is locked by another process; waiting up to %.0fs", DATABASE_BUSY.timeout_s)
    return busy


def set_instant(instant: bool = True) -> None:
    """Test switch: every wait of every policy becomes zero; attempts stay as configured."""
    # cap=True with a large cap keeps each policy's own attempts instead of forcing a fixed number.
    stamina.set_testing(instant, attempts=1_000_000, cap=True)


def is_instant() -> bool:
    return stamina.is_testing()
