"""Compliance checks of the card-terminal inspection, run each morning by security staff.

``ccbhub check --plugin pci_inspection`` runs all three; each names the terminals at fault by serial, site
and window so the message alone tells the morning shift where to go. A check that cannot read its tables
raises, and the core reports that as an error (compliance checks fail closed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.contract import CheckContext, CheckResult, PluginContext
from plugins.pci_inspection.queries import Assessment, assess, frequencies
from plugins.pci_inspection.rules import DeviceStatus, DueState, PciConfig, ReviewState, review_state

CheckFn = Callable[[CheckContext], Awaitable[CheckResult]]
# How many terminals a message names before it says "and N more".
NAMED = 5


def _names(found: list[Assessment]) -> str:
    shown = [f"{a.device.serial_number} ({a.device.site} {a.device.window})" for a in found[:NAMED]]
    more = len(found) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def make_inspections_check(ctx: PluginContext) -> CheckFn:
    """Every deployed terminal has a passing inspection within its frequency (PCI DSS 9.5.1.2, 9.5.1.2.1)."""

    async def terminals_inspected(check: CheckContext) -> CheckResult:
        config: PciConfig = ctx.config
        async with check.db.session() as session:
            found = await assess(session, config, check.clock.now())
        deployed = [a for a in found if a.due is not None]
        overdue = [a for a in deployed if a.due is not None and a.due.state is DueState.OVERDUE]
        details = {
            "deployed": len(deployed),
            "overdue": [
                {
                    "device_id": a.device.id,
                    "serial_number": a.device.serial_number,
                    "site": a.device.site,
                    "window": a.device.window,
                    "last_pass_on": a.due.last_pass_on.isoformat() if a.due and a.due.last_pass_on else None,
                }
                for a in overdue
            ],
        }
        if overdue:
            return CheckResult(
                passed=False,
                message=f"{len(overdue)} of {len(deployed)} deployed terminal(s) not inspected in time: "
                + _names(overdue),
                details=details,
            )
        return CheckResult(
            passed=True,
            message=f"all {len(deployed)} deployed terminal(s) inspected in time",
            details=details,
        )

    return terminals_inspected


def make_incidents_check(ctx: PluginContext) -> CheckFn:
    """A terminal out of service has an incident record (docs/rules.md §1.4 step 3, PCI DSS 12.10.1)."""

    async def out_of_service_has_incident(check: CheckContext) -> CheckResult:
        async with check.db.session() as session:
            found = await assess(session, ctx.config, check.clock.now())
        missing = [
            a for a in found if a.device.status == DeviceStatus.OUT_OF_SERVICE and not a.incident_recorded
        ]
        details = {
            "without_incident": [
                {"device_id": a.device.id, "serial_number": a.device.serial_number, "site": a.device.site}
                for a in missing
            ]
        }
        if missing:
            return CheckResult(
                passed=False,
                message=f"{len(missing)} terminal(s) out of service without an incident record: "
                + _names(missing),
                details=details,
            )
        return CheckResult(
            passed=True, message="every out-of-service terminal has an incident record", details=details
        )

    return out_of_service_has_incident


def make_risk_analysis_check(ctx: PluginContext) -> CheckFn:
    """Risk analyses in use are reviewed within 12 months and every deployed terminal has one (12.3.1)."""

    async def risk_analysis_current(check: CheckContext) -> CheckResult:
        config: PciConfig = ctx.config
        now = check.clock.now()
        async with check.db.session() as session:
            found = await assess(session, config, now)
            analyses = await frequencies(session)
        in_use = {
            a.risk_analysis_id
            for a in found
            if a.risk_analysis_id is not None
            and a.device.status not in (DeviceStatus.DECOMMISSIONED, DeviceStatus.LOST)
        }
        stale: list[str] = []
        for analysis_id in sorted(in_use):
            _freq, reviewed_at, title = analyses[analysis_id]
            review = review_state(
                now,
                reviewed_at,
                interval_months=config.review_interval_months,
                warning_days=config.review_warning_days,
            )
            if review.state is ReviewState.OVERDUE:
                stale.append(f"#{analysis_id} {title!r} (review was due {review.due_on.isoformat()})")
        # 9.5.1.2.1: the frequency must come from a risk analysis; the configured default only fills in.
        uncovered = [a for a in found if a.due is not None and a.risk_analysis_id is None]
        problems: list[str] = []
        if stale:
            problems.append("risk analysis review older than 12 months: " + "; ".join(stale))
        if uncovered:
            problems.append(
                f"{len(uncovered)} deployed terminal(s) have no risk analysis: " + _names(uncovered)
            )
        details = {
            "in_use": sorted(in_use),
            "stale": stale,
            "without_analysis": [a.device.id for a in uncovered],
        }
        if problems:
            return CheckResult(passed=False, message="; ".join(problems), details=details)
        return CheckResult(
            passed=True,
            message=f"{len(in_use)} risk analysis(es) in use, all reviewed in time",
            details=details,
        )

    return risk_analysis_current
