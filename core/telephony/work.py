"""One command's transaction over the telephony tables: rows loaded under lock, saved with their events.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.outbox import EventWriter
from core.telephony import dialogs as dl
from core.telephony import fsm
from core.telephony.callers import Actor
from core.telephony.config import PhonePlan
from core.telephony.events import (
    AGENT_STATE_CHANGED,
    DIALOG_CREATED,
    DIALOG_ENDED,
    DIALOG_UPDATED,
    AgentSnapshot,
    DialogEvent,
    DialogSnapshot,
)
from core.telephony.models import TelAgent, TelDialog, TelParticipant

ROUTING_WAITING = "WAITING"
ROUTING_RINGING = "RINGING"
# §2.1: priority 1 (highest) to 10, default 5; a RONA'd call goes back at the front (§2.2).
DEFAULT_PRIORITY = 5
FRONT_PRIORITY = 1
Requeue = Literal["new", "front"]


def agent_snapshot(agent: fsm.Agent) -> AgentSnapshot:
    return msgspec.convert(agent.to_event_dict(), AgentSnapshot)


def dialog_snapshot(dialog: dl.Dialog) -> DialogSnapshot:
    return msgspec.convert(dialog.to_event_dict(), DialogSnapshot)


def agent_ids(dialog: dl.Dialog) -> list[str]:
    return sorted({p.agent_id for p in dialog.participants if p.agent_id is not None})


def ringing_leg(dialog: dl.Dialog) -> dl.Participant | None:
    for p in dialog.participants:
        if p.state is dl.ParticipantState.ALERTING and p.agent_id is not None:
            return p
    return None


class Work:
    """Everything one command reads and writes, inside one database transaction.

    Rows are loaded with ``FOR UPDATE`` and cached, so a command sees its own changes; every save writes
    the row and emits the event right away, so events keep the order in which things happened.
    """

    def __init__(
        self, plan: PhonePlan, events: EventWriter, session: AsyncSession, now: dt.datetime, actor: Actor
    ) -> None:
        self.plan = plan
        self.events = events
        self.session = session
        self.now = now
        self.actor = actor
        self._agent_rows: dict[str, TelAgent | None] = {}
        self._agents: dict[str, fsm.Agent] = {}
        self._dialog_rows: dict[str, TelDialog] = {}
        self._dialogs: dict[str, dl.Dialog] = {}
        self.snapshots: dict[str, DialogSnapshot] = {}
        # Whom an asynchronous refusal is published for (set by the command before it tries anything).
        self.error_agent: str | None = None
        self.error_dialog: str | None = None
        self.error_action: str | None = None
        # Set when this transaction made an agent READY or put a call in a queue: routing material.
        self.routable = False

    # -- agents -------------------------------------------------------------------------------------------
    async def agent(self, agent_id: str) -> fsm.Agent:
        found = await self._load_agent(agent_id, skip_locked=False)
        assert found is not None
        return found

    async def try_agent(self, agent_id: str) -> fsm.Agent | None:
        """The agent, or None while another transaction holds its row (routing passes such agents by)."""
        return await self._load_agent(agent_id, skip_locked=True)

    async def _load_agent(self, agent_id: str, *, skip_locked: bool) -> fsm.Agent | None:
        if agent_id not in self._agents:
            row = await self.session.scalar(
                select(TelAgent).where(TelAgent.agent_id == agent_id).with_for_update(skip_locked=skip_locked)
            )
            if row is None and skip_locked:
                return None
            self._agent_rows[agent_id] = row
            agent = (
                msgspec.convert(row.snapshot, fsm.Agent)
                if row is not None
                else fsm.Agent.signed_out(agent_id, self.now)
            )
            self._agents[agent_id] = self.plan.with_profile(agent)
        return self._agents[agent_id]

    async def save_agent(self, agent: fsm.Agent) -> None:
        row = self._agent_rows.get(agent.agent_id)
        if row is None:
            row = TelAgent(agent_id=agent.agent_id)
            self.session.add(row)
            self._agent_rows[agent.agent_id] = row
        row.state = agent.state.value
        row.extension = agent.extension
        row.team_id = agent.team_id
        row.reason_code_id = agent.reason_code.reason_code_id if agent.reason_code else None
        row.pending_state = agent.pending_state.value if agent.pending_state else None
        row.state_change_time = agent.state_change_time
        row.wrap_up_deadline = agent.wrap_up_deadline
        row.snapshot = msgspec.to_builtins(agent)
        row.updated_at = self.now
        self._agents[agent.agent_id] = agent
        self.routable |= agent.state is fsm.AgentState.READY
        self.events.emit(self.session, AGENT_STATE_CHANGED, agent_snapshot(agent), actor=self.actor.ref)

    # -- dialogs ------------------------------------------------------------------------------------------
    async def dialog(self, dialog_id: str | None, *, skip_locked: bool = False) -> dl.Dialog | None:
        """The dialog, or None when there is none (or, with ``skip_locked``, while another transaction
        holds its row)."""
        if dialog_id is None:
            return None
        if dialog_id not in self._dialogs:
            row = await self.session.scalar(
                select(TelDialog)
                .where(TelDialog.dialog_id == dialog_id)
                .with_for_update(skip_locked=skip_locked)
            )
            if row is None:
                return None
            self._dialog_rows[dialog_id] = row
            self._dialogs[dialog_id] = msgspec.convert(row.snapshot, dl.Dialog)
        return self._dialogs[dialog_id]

    def dialog_row(self, dialog_id: str) -> TelDialog:
        return self._dialog_rows[dialog_id]

    async def save_dialog(self, dialog: dl.Dialog, cause: str, *, requeue: Requeue | None = None) -> None:
        now = self.now
        row = self._dialog_rows.get(dialog.dialog_id)
        created = row is None
        if row is None:
            row = TelDialog(dialog_id=dialog.dialog_id, created_at=now, priority=DEFAULT_PRIORITY)
            self.session.add(row)
            self._dialog_rows[dialog.dialog_id] = row
        was_over = row.ended_at is not None
        ringing = ringing_leg(dialog)
        if dialog.is_over:
            routing = None
            row.ended_at = row.ended_at or now
        elif ringing is not None:
            routing = ROUTING_RINGING
        elif requeue is not None:
            routing = ROUTING_WAITING
            if requeue == "front":
                row.priority = FRONT_PRIORITY  # keeps its place among earlier front calls by queued_at
                row.queued_at = row.queued_at or now
            else:
                row.priority = DEFAULT_PRIORITY
                row.queued_at = now
        else:
            # Still waiting if it was; a call that stopped ringing without a requeue has left routing.
            routing = ROUTING_WAITING if row.routing == ROUTING_WAITING else None
        row.routing = routing
        self.routable |= routing == ROUTING_WAITING
        row.ringing_agent_id = ringing.agent_id if ringing is not None and routing else None
        row.ring_deadline = (
            ringing.state_change_time + self.plan.rona if ringing is not None and routing else None
        )
        row.state = dialog.state.value
        row.call_type = dialog.call_type.value
        row.from_address = dialog.from_address
        row.to_address = dialog.to_address
        row.queue_name = dialog.queue_name
        row.associated_dialog_id = dialog.associated_dialog_id
        row.snapshot = msgspec.to_builtins(dialog)
        row.updated_at = now
        if not created:
            await self.session.execute(
                delete(TelParticipant).where(TelParticipant.dialog_id == dialog.dialog_id)
            )
        else:
            await self.session.flush()  # the dialog row must exist before its participants (foreign key)
        self.session.add_all(
            TelParticipant(
                dialog_id=dialog.dialog_id,
                position=i,
                media_address=p.media_address,
                address_type=p.address_type.value,
                agent_id=p.agent_id,
                state=p.state.value,
            )
            for i, p in enumerate(dialog.participants)
        )
        self._dialogs[dialog.dialog_id] = dialog
        snapshot = dialog_snapshot(dialog)
        self.snapshots[dialog.dialog_id] = snapshot
        if created:
            subject = DIALOG_CREATED
        elif dialog.is_over and not was_over:
            subject = DIALOG_ENDED
        else:
            subject = DIALOG_UPDATED
        payload = DialogEvent(dialog=snapshot, agentIds=agent_ids(dialog), cause=cause, routing=routing or "")
        self.events.emit(self.session, subject, payload, actor=self.actor.ref)
