"""The telephony part's side of the contract's :class:`~core.contract.phone.PhoneDesk` port.

Plugins never see :class:`~core.telephony.service.TelephonyService` nor the part's tables: they get this
desk through ``ctx.services`` (offered in :mod:`core.telephony.plugin`). State requests are made as the
agent's own, so a NOT_READY keeps its reason code (Finesse records a supervisor's as 999 without one), and
the refusals the service raises synchronously become :class:`~core.contract.phone.PhoneRefused`. The
history of inbound calls is read here, where the stored dialog's shape is known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import and_, or_, select

from core.contract import PluginContext
from core.contract.phone import AgentState, PhoneRefused, RecordedCall
from core.telephony.callers import Actor, PhoneRequestError
from core.telephony.deps import service_of
from core.telephony.dialog_model import AddressType, CallType, ParticipantState
from core.telephony.events import AgentSnapshot
from core.telephony.models import TelDialog

# Consult legs are agents calling each other, not offered traffic: only a customer's call into a queue.
INBOUND_CALL_TYPE = CallType.ACD_IN.value
# Finesse's reasonCodeId when no reason code applies.
NO_REASON_CODE = -1


def agent_state(snapshot: AgentSnapshot) -> AgentState:
    """The port's view of a Finesse User object."""
    return AgentState(
        agent_id=snapshot.loginId,
        state=snapshot.state,
        pending_state=snapshot.pendingState or None,
        reason_code_id=None if snapshot.reasonCodeId == NO_REASON_CODE else snapshot.reasonCodeId,
    )


def refused(exc: PhoneRequestError) -> PhoneRefused:
    # A refusal that names no field is about the state asked for (an unknown agent, a forbidden move).
    return PhoneRefused(exc.field or "state", exc.message)


class TelephonyDesk:
    """The :class:`~core.contract.phone.PhoneDesk` over the part's service, built from the part's context."""

    def __init__(self, ctx: PluginContext) -> None:
        self._ctx = ctx

    async def set_agent_state(self, agent_id: str, state: str, reason_code: int | None = None) -> AgentState:
        service = service_of(self._ctx)
        actor = Actor(agent_id, "agent")
        try:
            await service.set_state(actor, agent_id, state, reason_code)
            snapshot = await service.get_agent(actor, agent_id)
        except PhoneRequestError as exc:
            raise refused(exc) from None
        return agent_state(snapshot)

    async def agent(self, agent_id: str) -> AgentState:
        try:
            snapshot = await service_of(self._ctx).get_agent(Actor(agent_id, "agent"), agent_id)
        except PhoneRequestError as exc:
            raise refused(exc) from None
        return agent_state(snapshot)

    async def recorded_calls(
        self, spans: Sequence[tuple[dt.datetime, dt.datetime]], queue: str | None = None
    ) -> list[RecordedCall]:
        if not spans:
            return []
        query = select(TelDialog.created_at, TelDialog.ended_at, TelDialog.snapshot).where(
            TelDialog.call_type == INBOUND_CALL_TYPE,
            or_(*(and_(TelDialog.created_at >= a, TelDialog.created_at < b) for a, b in spans)),
        )
        if queue is not None:
            query = query.where(TelDialog.queue_name == queue)
        found = []
        async with self._ctx.db.session() as session:
            for arrived, ended, snapshot in await session.execute(query):
                handled = None
                if ended is not None and isinstance(snapshot, dict):
                    handled = handle_seconds(snapshot.get("participants"))
                found.append(RecordedCall(arrived, handled))
        return found


class _Leg(msgspec.Struct):
    """The part of a stored dialog participant (:class:`~core.telephony.dialogs.Participant`) a handle time
    needs."""

    address_type: str
    state: str
    start_time: dt.datetime
    state_change_time: dt.datetime
    agent_id: str | None = None


def handle_seconds(participants: Any) -> float | None:
    """An ended call's handle time from its stored participants, or None if no agent handled it.

    The stored dialog keeps each participant's start and last state change but not the moment of answer,
    so: an agent handled the call when an agent leg lasted until the caller left (a leg that rang out —
    RONA — ended before). The handle time runs from the first offer to the last agent leg's end, which
    covers talk, hold, a transfer's second agent and wrap-up (whose end drops the agent's leg), plus the few
    seconds of ringing. A caller who hangs up while the phone rings counts as a very short handled call;
    both biases are seconds against minutes of handle time.
    """
    try:
        legs = msgspec.convert(participants, list[_Leg], strict=False)
    except (msgspec.ValidationError, TypeError):
        return None
    dropped = ParticipantState.DROPPED.value
    callers = [
        p.state_change_time for p in legs if p.address_type == AddressType.CUSTOMER and p.state == dropped
    ]
    agents = [
        p for p in legs if p.address_type == AddressType.AGENT_DEVICE and p.agent_id and p.state == dropped
    ]
    if not callers or not agents:
        return None
    caller_left = max(callers)
    if not any(a.state_change_time >= caller_left for a in agents):
        return None
    first = min(a.start_time for a in agents)
    last = max(a.state_change_time for a in agents)
    return max(0.0, (last - first).total_seconds())
