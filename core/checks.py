"""The check runner: every check under its own timeout and isolation, failing closed.

A check passes only when it returns ``CheckResult(passed=True)``. A crash or a timeout is reported with
status ``error`` and counts as a failure, so a compliance check can never pass by breaking.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import msgspec

from core.contract import CheckContext, CheckKind, CheckResult, CheckSpec, CheckStatus, Severity
from core.plugins import PluginRecord


class CheckOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """One check's result as shown by the CLI, the API and the dashboard."""

    plugin: str
    name: str
    kind: CheckKind
    severity: Severity
    status: CheckStatus
    message: str
    duration_ms: float
    checked_at: str
    details: dict[str, object] = {}

    @property
    def passed(self) -> bool:
        return self.status is CheckStatus.PASS


async def run_check(
    rec: PluginRecord, spec: CheckSpec, ctx: CheckContext, default_timeout: float
) -> CheckOutcome:
    timeout = spec.timeout_s or default_timeout
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            result = await spec.run(ctx)
        if not isinstance(result, CheckResult):
            raise TypeError(f"check returned {type(result).__name__}, not CheckResult")
        status = CheckStatus.PASS if result.passed is True else CheckStatus.FAIL
        message, details = result.message, dict(result.details)
        rec.record_success()
    except TimeoutError:
        status, message, details = CheckStatus.ERROR, f"timed out after {timeout:g}s", {}
    except Exception as exc:
        status, message, details = CheckStatus.ERROR, f"crashed: {type(exc).__name__}: {exc}", {}
        rec.record_failure(exc, f"check {spec.name}")
    return CheckOutcome(
        plugin=rec.id,
        name=spec.name,
        kind=spec.kind,
        severity=spec.severity,
        status=status,
        message=message,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
        checked_at=ctx.clock.now().isoformat(),
        details=details,
    )


async def run_checks(
    records: Iterable[PluginRecord], ctx: CheckContext, default_timeout: float
) -> list[CheckOutcome]:
    """Run the checks of the given plugins concurrently; the result keeps plugin/check order."""
    jobs = [run_check(rec, spec, ctx, default_timeout) for rec in records for spec in rec.checks]
    return list(await asyncio.gather(*jobs))
