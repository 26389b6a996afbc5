"""``ccbhub offline status|replay``: the offline-form backlog, and replaying it once CCB answers again."""

from __future__ import annotations

import json
from typing import Any

import click
import msgspec

from core.cli import HubContext, console, pass_hub

__all__ = ["offline_group"]


@click.group("offline")
def offline_group() -> None:
    """CCB offline mode: forms journaled while CCB was down (ARCHITECTURE §7)."""


@offline_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_hub
def offline_status(hc: HubContext, as_json: bool) -> None:
    """Show how many offline forms wait, conflicted or were replayed."""
    from core.ccb.offline import BacklogStatus, backlog_status

    async def run(hub: Any) -> BacklogStatus:
        return await backlog_status(hub.db)

    status = hc.run(run)
    if as_json:
        click.echo(json.dumps(msgspec.to_builtins(status)))
        return
    oldest = status.oldest_pending_at.isoformat(timespec="seconds") if status.oldest_pending_at else "-"
    console.print(
        f"pending {status.pending} (oldest {oldest}), conflicts {status.conflicts}, "
        f"replayed {status.replayed}, local conflict To Dos open {status.open_local_todos}"
    )


@offline_group.command("replay")
@pass_hub
def offline_replay(hc: HubContext) -> None:
    """Replay pending offline forms to CCB in order; exit 1 if CCB is still unavailable."""
    from core.ccb.offline import OfflineCcb, ReplayReport

    async def run(hub: Any) -> ReplayReport:
        ccb = (
            hub.ccb if isinstance(hub.ccb, OfflineCcb) else OfflineCcb(hub.ccb, hub.db, hub.clock, hub.events)
        )
        return await ccb.replay()

    report = hc.run(run)
    console.print(
        f"replayed {report.replayed}, conflicts {report.conflicts} (each a lead To Do), "
        f"pending {report.pending}"
    )
    if report.stopped:
        console.print(f"[red]stopped: CCB is unavailable ({report.stopped})[/red]")
        raise SystemExit(1)
