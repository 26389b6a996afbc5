"""What the dialog actions and transfers share: leg updates and the agent events they imply.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from core.telephony.dialog_model import (
    Action,
    AddressType,
    AgentEffect,
    CallType,
    Destination,
    DestinationKind,
    Dialog,
    DialogActionError,
    DialogOutcome,
    Participant,
    ParticipantState,
    StateCause,
    refresh,
)
from core.telephony.fsm import INVALID_INPUT, PARAMETER_MISSING, SystemEvent

# Section numbers refer to the project's telephony reference: §1.7 dialogs, §4 transfers.
# Functions here never touch agents: each returns the new dialog snapshot(s) plus the agent events the
# change implies, and the caller feeds those to ``fsm.system_event``.

# §1.7 mediaProperties: callvariable1..10 plus Expanded Call Context variables named "user.<name>".
_CALL_VARIABLE_NAME = re.compile(r"callvariable(?:[1-9]|10)|user\.[A-Za-z0-9_.\-]+")
_P = ParticipantState
_A = Action

# Agent "presence" across the legs passed to one operation, used to infer the agent events.
_IDLE, _RINGING, _HOLD, _TALKING = 0, 1, 2, 3
_PRESENCE: Mapping[ParticipantState, int] = {
    _P.ALERTING: _RINGING,
    _P.HELD: _HOLD,
    _P.ACTIVE: _TALKING,
    _P.INITIATING: _TALKING,
    _P.INITIATED: _TALKING,
    _P.FAILED: _TALKING,  # a failed consult leg is still on the agent's phone until dropped
    _P.DROPPED: _IDLE,
    _P.WRAP_UP: _IDLE,
}


def _presence(dialogs: Iterable[Dialog]) -> dict[str, tuple[str, int]]:
    # An agent with any connected leg is TALKING; only when every leg is held is it HOLD (§1.4 on CCE).
    seen: dict[str, tuple[str, int]] = {}
    for d in dialogs:
        for p in d.participants:
            if p.agent_id is not None:
                level = max(_PRESENCE[p.state], seen.get(p.agent_id, ("", _IDLE))[1])
                seen[p.agent_id] = (p.media_address, level)
    return seen


def _effect(before: int, after: int, ring_end: SystemEvent) -> SystemEvent | None:
    if before == after:
        return None
    table: dict[tuple[int, int], SystemEvent] = {
        (_IDLE, _RINGING): SystemEvent.OFFERED,
        (_RINGING, _TALKING): SystemEvent.ANSWERED,
        (_RINGING, _IDLE): ring_end,
        (_TALKING, _HOLD): SystemEvent.HELD,
        (_HOLD, _TALKING): SystemEvent.RETRIEVED,
        (_TALKING, _IDLE): SystemEvent.CALL_ENDED,
        (_HOLD, _IDLE): SystemEvent.CALL_ENDED,
    }
    try:
        return table[(before, after)]
    except KeyError:
        raise AssertionError(f"internal error: no agent event for presence {before} -> {after}") from None


def finish(
    before: Sequence[Dialog],
    after: Sequence[Dialog],
    now: datetime,
    *,
    ring_end: SystemEvent = SystemEvent.RING_CANCELLED,
    wrap_up_for: Collection[str] = (),
) -> DialogOutcome:
    by_id = {d.dialog_id: d for d in after}
    # A consult link only means something while both calls exist; a surviving call forgets a dead one so a
    # new consult can start from it.
    for d in list(by_id.values()):
        other = by_id.get(d.associated_dialog_id or "")
        if (
            other is not None
            and all(not p.live for p in other.participants)
            and any(p.live for p in d.participants)
        ):
            by_id[d.dialog_id] = replace(d, associated_dialog_id=None)

    before_presence = _presence(before)
    after_presence = _presence(by_id.values())
    effects: list[AgentEffect] = []
    for agent_id in dict.fromkeys([*before_presence, *after_presence]):
        old = before_presence.get(agent_id, ("", _IDLE))
        new = after_presence.get(agent_id, (old[0], _IDLE))
        event = _effect(old[1], new[1], ring_end)
        if event is not None:
            effects.append(AgentEffect(agent_id, new[0] or old[0], event))

    ended = {e.agent_id for e in effects if e.event is SystemEvent.CALL_ENDED} & set(wrap_up_for)
    if ended:
        by_id = _enter_wrap_up(before, by_id, ended, now)

    dialogs = tuple(refresh(d, by_id.get(d.associated_dialog_id or "")) for d in by_id.values())
    return DialogOutcome(dialogs, tuple(effects))


def _enter_wrap_up(
    before: Sequence[Dialog], by_id: dict[str, Dialog], agent_ids: set[str], now: datetime
) -> dict[str, Dialog]:
    # §1.7 WRAP_UP: an agent whose call ended into wrap-up stays on the customer's call record so it can
    # still set the wrap-up reason (UPDATE_CALL_DATA); the consult leg, if any, is simply over.
    was_live = {
        (d.dialog_id, p.media_address)
        for d in before
        for p in d.participants
        if p.live and p.agent_id in agent_ids
    }
    calls = list(by_id.values())
    customer_calls = [d for d in calls if d.call_type is not CallType.CONSULT] or calls
    result = dict(by_id)
    for d in customer_calls:
        participants = tuple(
            replace(p, state=_P.WRAP_UP, state_change_time=now)
            if p.agent_id in agent_ids
            and p.state is _P.DROPPED
            and (d.dialog_id, p.media_address) in was_live
            else p
            for p in d.participants
        )
        result[d.dialog_id] = replace(d, participants=participants)
    return result


def linked(dialog: Dialog, associated: Dialog | None) -> list[Dialog]:
    # Operations that change one leg can change what the other leg may do, so both must be given.
    if dialog.associated_dialog_id is None:
        if associated is not None:
            raise ValueError(f"dialog {dialog.dialog_id} has no associated dialog")
        return [dialog]
    if associated is None or associated.dialog_id != dialog.associated_dialog_id:
        raise ValueError(f"pass dialog {dialog.associated_dialog_id}, associated with {dialog.dialog_id}")
    return [dialog, associated]


def with_state(
    p: Participant, state: ParticipantState, now: datetime, cause: StateCause | None = None
) -> Participant:
    if p.state is state and p.state_cause is cause:
        return p
    return replace(p, state=state, state_change_time=now, state_cause=cause)


def replace_leg(dialog: Dialog, address: str, new: Participant) -> Dialog:
    # Replace the latest leg of this address (see Dialog.participant).
    index = max(i for i, p in enumerate(dialog.participants) if p.media_address == address)
    participants = list(dialog.participants)
    participants[index] = new
    return replace(dialog, participants=tuple(participants))


def leave(dialog: Dialog, address: str, now: datetime) -> Dialog:
    """``address`` leaves; a call left with fewer than two live parties is over for everyone."""
    leaving = dialog.participant(address)
    assert leaving is not None
    dialog = replace_leg(dialog, address, with_state(leaving, _P.DROPPED, now))
    if sum(p.live for p in dialog.participants) <= 1:
        dialog = replace(
            dialog,
            participants=tuple(with_state(p, _P.DROPPED, now) if p.live else p for p in dialog.participants),
        )
    return dialog


def validate_variables(variables: Mapping[str, str]) -> None:
    for name in variables:
        if not _CALL_VARIABLE_NAME.fullmatch(name):
            raise DialogActionError(
                INVALID_INPUT,
                f"unknown call variable {name!r}",
                None,
                action=_A.UPDATE_CALL_DATA,
                synchronous=True,
            )


def new_participant(
    address: str,
    address_type: AddressType,
    state: ParticipantState,
    now: datetime,
    agent_id: str | None = None,
) -> Participant:
    return Participant(address, address_type, state, now, now, agent_id=agent_id)


def destination_participant(destination: Destination, now: datetime) -> Participant:
    if destination.kind is DestinationKind.AGENT:
        if destination.agent_id is None:
            raise ValueError("an agent destination needs the agent id")
        return new_participant(
            destination.address, AddressType.AGENT_DEVICE, _P.ALERTING, now, destination.agent_id
        )
    return new_participant(destination.address, AddressType.EXTERNAL, _P.ALERTING, now)


def require_address(address: str, action: Action, state: ParticipantState) -> None:
    if not address or not address.strip():
        raise DialogActionError(
            PARAMETER_MISSING, "toAddress is required", state.value, action=action, synchronous=True
        )
