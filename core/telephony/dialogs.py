"""Finesse-style dialogs (calls): participant states, allowed actions, consult and transfers."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.telephony.fsm import (
    GENERIC_ERROR,
    INVALID_INPUT,
    PARAMETER_MISSING,
    SystemEvent,
    TelephonyError,
    WrapUpReasonList,
    iso_utc,
    to_utc,
)

# Section numbers refer to the project's telephony reference: §1.7 dialogs, §4 transfers.
# Functions here never touch agents: each returns the new dialog snapshot(s) plus the agent events the
# change implies, and the caller feeds those to ``fsm.system_event``.

INVALID_DESTINATION = "Invalid Destination"


class DialogState(StrEnum):
    """Voice dialog states (§1.7).  HELD is deliberately absent: holding is a participant state."""

    INITIATING = "INITIATING"
    INITIATED = "INITIATED"
    ALERTING = "ALERTING"
    ACTIVE = "ACTIVE"
    FAILED = "FAILED"
    DROPPED = "DROPPED"
    ACCEPTED = "ACCEPTED"  # outbound preview only; listed for completeness, never produced here


class ParticipantState(StrEnum):
    INITIATING = "INITIATING"
    INITIATED = "INITIATED"
    ALERTING = "ALERTING"
    ACTIVE = "ACTIVE"
    HELD = "HELD"
    FAILED = "FAILED"
    DROPPED = "DROPPED"
    WRAP_UP = "WRAP_UP"


class Action(StrEnum):
    """``requestedAction`` values (§1.7), in the order they are listed in events."""

    ANSWER = "ANSWER"
    HOLD = "HOLD"
    RETRIEVE = "RETRIEVE"
    DROP = "DROP"
    CONSULT_CALL = "CONSULT_CALL"
    TRANSFER = "TRANSFER"
    CONFERENCE = "CONFERENCE"
    TRANSFER_SST = "TRANSFER_SST"
    UPDATE_CALL_DATA = "UPDATE_CALL_DATA"


class StateCause(StrEnum):
    """Why a participant FAILED (§1.7)."""

    BUSY = "BUSY"
    BAD_DESTINATION = "BAD_DESTINATION"
    DEVICE_RESOURCE_NOT_AVAILABLE = "DEVICE_RESOURCE_NOT_AVAILABLE"
    OTHER = "OTHER"


class AddressType(StrEnum):
    """What a participant's media address is; only agent devices have agent state behind them (§4)."""

    AGENT_DEVICE = "AGENT_DEVICE"
    CUSTOMER = "CUSTOMER"
    EXTERNAL = "EXTERNAL"


class CallType(StrEnum):
    ACD_IN = "ACD_IN"
    CONSULT = "CONSULT"


_P = ParticipantState
_A = Action

# §1.7 participant state -> actions Finesse lists.  HELD also lists TRANSFER and CONFERENCE, but only
# while the same agent has another active call (its answered consult leg); see _actions_for.
ADVERTISED_ACTIONS: Mapping[ParticipantState, frozenset[Action]] = {
    _P.INITIATING: frozenset({_A.DROP, _A.UPDATE_CALL_DATA}),
    _P.INITIATED: frozenset({_A.DROP, _A.UPDATE_CALL_DATA}),
    _P.ALERTING: frozenset({_A.ANSWER}),
    _P.ACTIVE: frozenset({_A.HOLD, _A.DROP, _A.UPDATE_CALL_DATA, _A.CONSULT_CALL}),
    _P.HELD: frozenset({_A.RETRIEVE, _A.DROP, _A.UPDATE_CALL_DATA}),
    _P.FAILED: frozenset({_A.DROP}),
    _P.WRAP_UP: frozenset({_A.UPDATE_CALL_DATA}),
    _P.DROPPED: frozenset(),
}
HELD_WITH_ACTIVE_CONSULT: frozenset[Action] = frozenset({_A.TRANSFER, _A.CONFERENCE})
# Requests accepted although the action list does not advertise them: single-step transfer works on an
# answered (ACTIVE) call and fails before answer (§1.7 "Generic Error"s, §4).
ACCEPTED_UNLISTED: Mapping[ParticipantState, frozenset[Action]] = {_P.ACTIVE: frozenset({_A.TRANSFER_SST})}

_GONE = frozenset({_P.DROPPED, _P.WRAP_UP})
# §1.7 mediaProperties: callvariable1..10 plus Expanded Call Context variables named "user.<name>".
_CALL_VARIABLE_NAME = re.compile(r"callvariable(?:[1-9]|10)|user\.[A-Za-z0-9_.\-]+")


class DialogActionError(TelephonyError):
    """A dialog action refused in the participant's current state (§1.7), Finesse-style."""

    def __init__(
        self,
        code: str,
        message: str,
        current_state: str | None,
        *,
        action: Action | None = None,
        synchronous: bool = False,
    ) -> None:
        super().__init__(code, message, current_state, synchronous=synchronous)
        self.action = action


# --------------------------------------------------------------------------------------------------
# Snapshots
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Participant:
    media_address: str
    address_type: AddressType
    state: ParticipantState
    start_time: datetime
    state_change_time: datetime
    agent_id: str | None = None
    state_cause: StateCause | None = None
    actions: tuple[Action, ...] = ()

    @property
    def live(self) -> bool:
        return self.state not in _GONE

    def to_event_dict(self) -> dict[str, Any]:
        return {
            "mediaAddress": self.media_address,
            "mediaAddressType": self.address_type.value,
            "state": self.state.value,
            "stateCause": self.state_cause.value if self.state_cause else "",
            "startTime": iso_utc(self.start_time),
            "stateChangeTime": iso_utc(self.state_change_time),
            "actions": [a.value for a in self.actions],
        }


@dataclass(frozen=True, slots=True)
class Dialog:
    """One call as Finesse shows it (§1.7).  ``state`` and every participant's ``actions`` are derived
    from the participants whenever a function here builds a dialog, so they can never disagree."""

    dialog_id: str
    from_address: str
    to_address: str
    state: DialogState
    participants: tuple[Participant, ...]
    call_type: CallType = CallType.ACD_IN
    media_type: str = "Voice"
    dialed_number: str | None = None
    queue_number: str | None = None
    queue_name: str | None = None
    associated_dialog_id: str | None = None
    call_variables: tuple[tuple[str, str], ...] = ()
    wrap_up_reason: str | None = None
    secondary_id: str | None = None

    def participant(self, address: str) -> Participant | None:
        # Latest first: a re-offered call can hold an earlier, dropped leg of the same device.
        for p in reversed(self.participants):
            if p.media_address == address:
                return p
        return None

    def leg(self, address: str) -> Participant:
        """Like :meth:`participant`, for callers that know the address is on the call."""
        found = self.participant(address)
        if found is None:
            raise KeyError(f"{address} is not a participant of dialog {self.dialog_id}")
        return found

    @property
    def variables(self) -> dict[str, str]:
        return dict(self.call_variables)

    @property
    def is_over(self) -> bool:
        """Every participant dropped: the END_CALL point where the dialog is deleted (§1.7)."""
        return all(p.state is _P.DROPPED for p in self.participants)

    def to_event_dict(self) -> dict[str, Any]:
        """The Dialog object a notification carries (§1.7), camelCase like Finesse."""
        return {
            "id": self.dialog_id,
            "uri": f"/finesse/api/Dialog/{self.dialog_id}",
            "associatedDialogUri": (
                f"/finesse/api/Dialog/{self.associated_dialog_id}" if self.associated_dialog_id else ""
            ),
            "secondaryId": self.secondary_id or "",
            "mediaType": self.media_type,
            "fromAddress": self.from_address,
            "toAddress": self.to_address,
            "state": self.state.value,
            "mediaProperties": {
                "dialedNumber": self.dialed_number or "",
                "DNIS": self.dialed_number or "",
                "callType": self.call_type.value,
                "queueNumber": self.queue_number or "",
                "queueName": self.queue_name or "",
                "wrapUpReason": self.wrap_up_reason or "",
                "callvariables": [{"name": n, "value": v} for n, v in self.call_variables],
            },
            "participants": [p.to_event_dict() for p in self.participants],
        }


@dataclass(frozen=True, slots=True)
class AgentEffect:
    """An agent-side consequence of a dialog change, for the caller to apply with ``fsm.system_event``."""

    agent_id: str
    extension: str
    event: SystemEvent


@dataclass(frozen=True, slots=True)
class DialogOutcome:
    """Result of one dialog operation: every dialog it touched (first = the one acted on) and the agent
    events it implies, in order."""

    dialogs: tuple[Dialog, ...]
    agent_events: tuple[AgentEffect, ...] = ()

    @property
    def dialog(self) -> Dialog:
        return self.dialogs[0]

    def get(self, dialog_id: str) -> Dialog:
        for d in self.dialogs:
            if d.dialog_id == dialog_id:
                return d
        raise KeyError(dialog_id)


class DestinationKind(StrEnum):
    AGENT = "AGENT"
    QUEUE = "QUEUE"
    EXTERNAL = "EXTERNAL"


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a consult or transfer goes (§4): a monitored agent device, a queue, or an outside number."""

    kind: DestinationKind
    address: str
    agent_id: str | None = None
    queue_name: str | None = None

    @classmethod
    def agent(cls, extension: str, agent_id: str) -> Destination:
        return cls(DestinationKind.AGENT, extension, agent_id=agent_id)

    @classmethod
    def queue(cls, number: str, name: str | None = None) -> Destination:
        return cls(DestinationKind.QUEUE, number, queue_name=name)

    @classmethod
    def external(cls, number: str) -> Destination:
        return cls(DestinationKind.EXTERNAL, number)


# --------------------------------------------------------------------------------------------------
# Derivations
# --------------------------------------------------------------------------------------------------


def _derive_state(participants: Iterable[Participant]) -> DialogState:
    live = [p.state for p in participants if p.live]
    if not live:
        return DialogState.DROPPED
    if _P.FAILED in live:
        return DialogState.FAILED
    if _P.ALERTING in live:
        return DialogState.ALERTING
    if _P.ACTIVE in live or _P.HELD in live:
        return DialogState.ACTIVE
    if _P.INITIATED in live:
        return DialogState.INITIATED
    return DialogState.INITIATING


def _has_active_consult(participant: Participant, dialog: Dialog, associated: Dialog | None) -> bool:
    # "TRANSFER/CONFERENCE only while another active call exists" (§1.7): the held leg must be on the
    # original call and the same device must be ACTIVE on the linked consult call.  This also makes them
    # disappear once the original is retrieved, as §1.7 requires.
    if associated is None or dialog.call_type is CallType.CONSULT or participant.agent_id is None:
        return False
    if dialog.associated_dialog_id != associated.dialog_id:
        return False
    other = associated.participant(participant.media_address)
    return other is not None and other.state is _P.ACTIVE


def _actions_for(participant: Participant, dialog: Dialog, associated: Dialog | None) -> tuple[Action, ...]:
    allowed = set(ADVERTISED_ACTIONS[participant.state])
    if participant.state is _P.HELD and _has_active_consult(participant, dialog, associated):
        allowed |= HELD_WITH_ACTIVE_CONSULT
    return tuple(a for a in Action if a in allowed)


def _refresh(dialog: Dialog, associated: Dialog | None) -> Dialog:
    participants = tuple(replace(p, actions=_actions_for(p, dialog, associated)) for p in dialog.participants)
    return replace(dialog, participants=participants, state=_derive_state(participants))


def allowed_actions(dialog: Dialog, address: str, associated: Dialog | None = None) -> tuple[Action, ...]:
    """The ``actions`` list Finesse would show for the participant at ``address`` (§1.7)."""
    participant = dialog.participant(address)
    if participant is None:
        return ()
    return _actions_for(participant, dialog, associated)


def check_action(
    dialog: Dialog, address: str, action: Action | str, *, associated: Dialog | None = None
) -> Participant:
    """Refuse ``action`` unless the participant's state allows it (§1.7); returns the participant."""
    wanted = Action(action)
    participant = dialog.participant(address)
    if participant is None:
        raise DialogActionError(
            INVALID_INPUT,
            f"{address} is not a participant of dialog {dialog.dialog_id}",
            None,
            action=wanted,
            synchronous=True,
        )
    accepted = set(_actions_for(participant, dialog, associated))
    accepted |= ACCEPTED_UNLISTED.get(participant.state, frozenset())
    if wanted not in accepted:
        raise DialogActionError(
            GENERIC_ERROR,
            f"{wanted} is not allowed while the participant is {participant.state}",
            participant.state.value,
            action=wanted,
        )
    return participant


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


def _finish(
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

    dialogs = tuple(_refresh(d, by_id.get(d.associated_dialog_id or "")) for d in by_id.values())
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


def _linked(dialog: Dialog, associated: Dialog | None) -> list[Dialog]:
    # Operations that change one leg can change what the other leg may do, so both must be given.
    if dialog.associated_dialog_id is None:
        if associated is not None:
            raise ValueError(f"dialog {dialog.dialog_id} has no associated dialog")
        return [dialog]
    if associated is None or associated.dialog_id != dialog.associated_dialog_id:
        raise ValueError(f"pass dialog {dialog.associated_dialog_id}, associated with {dialog.dialog_id}")
    return [dialog, associated]


def _set(
    p: Participant, state: ParticipantState, now: datetime, cause: StateCause | None = None
) -> Participant:
    if p.state is state and p.state_cause is cause:
        return p
    return replace(p, state=state, state_change_time=now, state_cause=cause)


def _update(dialog: Dialog, address: str, new: Participant) -> Dialog:
    # Replace the latest leg of this address (see Dialog.participant).
    index = max(i for i, p in enumerate(dialog.participants) if p.media_address == address)
    participants = list(dialog.participants)
    participants[index] = new
    return replace(dialog, participants=tuple(participants))


def _leave(dialog: Dialog, address: str, now: datetime) -> Dialog:
    """``address`` leaves; a call left with fewer than two live parties is over for everyone."""
    leaving = dialog.participant(address)
    assert leaving is not None
    dialog = _update(dialog, address, _set(leaving, _P.DROPPED, now))
    if sum(p.live for p in dialog.participants) <= 1:
        dialog = replace(
            dialog, participants=tuple(_set(p, _P.DROPPED, now) if p.live else p for p in dialog.participants)
        )
    return dialog


def _validate_variables(variables: Mapping[str, str]) -> None:
    for name in variables:
        if not _CALL_VARIABLE_NAME.fullmatch(name):
            raise DialogActionError(
                INVALID_INPUT,
                f"unknown call variable {name!r}",
                None,
                action=_A.UPDATE_CALL_DATA,
                synchronous=True,
            )


def _new_participant(
    address: str,
    address_type: AddressType,
    state: ParticipantState,
    now: datetime,
    agent_id: str | None = None,
) -> Participant:
    return Participant(address, address_type, state, now, now, agent_id=agent_id)


def _destination_participant(destination: Destination, now: datetime) -> Participant:
    if destination.kind is DestinationKind.AGENT:
        if destination.agent_id is None:
            raise ValueError("an agent destination needs the agent id")
        return _new_participant(
            destination.address, AddressType.AGENT_DEVICE, _P.ALERTING, now, destination.agent_id
        )
    return _new_participant(destination.address, AddressType.EXTERNAL, _P.ALERTING, now)


def _require_address(address: str, action: Action, state: ParticipantState) -> None:
    if not address or not address.strip():
        raise DialogActionError(
            PARAMETER_MISSING, "toAddress is required", state.value, action=action, synchronous=True
        )


# --------------------------------------------------------------------------------------------------
# Call arrival and routing (§1.7 CTI mapping, §2.2)
# --------------------------------------------------------------------------------------------------


def inbound_call(
    dialog_id: str,
    from_address: str,
    to_address: str,
    now: datetime,
    *,
    dialed_number: str | None = None,
    queue_number: str | None = None,
    queue_name: str | None = None,
    call_variables: Mapping[str, str] | None = None,
) -> Dialog:
    """A customer call enters the system (BEGIN_CALL: caller INITIATING), before any agent is offered it."""
    now = to_utc(now)
    variables = dict(call_variables or {})
    _validate_variables(variables)
    caller = _new_participant(from_address, AddressType.CUSTOMER, _P.INITIATING, now)
    dialog = Dialog(
        dialog_id=dialog_id,
        from_address=from_address,
        to_address=to_address,
        state=DialogState.INITIATING,
        participants=(caller,),
        dialed_number=dialed_number or to_address,
        queue_number=queue_number,
        queue_name=queue_name,
        call_variables=tuple(variables.items()),
    )
    return _refresh(dialog, None)


def offer(dialog: Dialog, extension: str, agent_id: str, now: datetime) -> DialogOutcome:
    """Routing delivers the call to an agent's device (CALL_DELIVERED): dialog and agent ALERTING."""
    now = to_utc(now)
    if any(p.state is _P.ALERTING for p in dialog.participants):
        raise DialogActionError(GENERIC_ERROR, "the call is already ringing at a device", dialog.state.value)
    if not any(p.live for p in dialog.participants):
        raise DialogActionError(GENERIC_ERROR, "the call has ended", dialog.state.value)
    existing = dialog.participant(extension)
    if existing is not None and existing.live:
        raise DialogActionError(GENERIC_ERROR, f"{extension} is already on this call", existing.state.value)
    # Legs of agents that already let it ring out (RONA) are history, not part of the new agent's view.
    kept = tuple(p for p in dialog.participants if not (p.agent_id is not None and p.state is _P.DROPPED))
    ringing = _new_participant(extension, AddressType.AGENT_DEVICE, _P.ALERTING, now, agent_id)
    updated = replace(dialog, participants=(*kept, ringing), to_address=extension)
    # A ringing consult leg (consult to a queue) changes nothing on the original call yet, so the
    # original is not needed here; it is once the leg is answered.
    return _finish([dialog], [updated], now)


def ring_no_answer(dialog: Dialog, extension: str, now: datetime) -> DialogOutcome:
    """RONA (§2.2): the ringing leg is pulled back; the caller stays on the call for requeueing."""
    now = to_utc(now)
    ringing = dialog.participant(extension)
    if ringing is None or ringing.state is not _P.ALERTING or ringing.agent_id is None:
        state = ringing.state.value if ringing else None
        raise DialogActionError(GENERIC_ERROR, f"{extension} is not a ringing agent on this call", state)
    updated = _update(dialog, extension, _set(ringing, _P.DROPPED, now))
    return _finish([dialog], [updated], now, ring_end=SystemEvent.RONA)


def fail(
    dialog: Dialog,
    address: str,
    cause: StateCause | str,
    now: datetime,
    *,
    associated: Dialog | None = None,
) -> DialogOutcome:
    """The switch reports the destination unreachable (§1.7 FAILED causes, §4 busy/bad destination).

    The caller's own leg goes FAILED too, so the agent sees Busy/Error with DROP as its only action.
    """
    now = to_utc(now)
    reason = StateCause(cause)
    pair = _linked(dialog, associated)
    target = dialog.participant(address)
    if target is None or target.state is not _P.ALERTING:
        raise DialogActionError(
            GENERIC_ERROR, f"{address} is not ringing on this call", target.state.value if target else None
        )
    participants = tuple(
        _set(p, _P.FAILED, now, reason) if p is target or p.state in (_P.INITIATING, _P.INITIATED) else p
        for p in dialog.participants
    )
    return _finish(pair, [replace(dialog, participants=participants), *pair[1:]], now)


# --------------------------------------------------------------------------------------------------
# Finesse dialog actions (§1.7)
# --------------------------------------------------------------------------------------------------


def answer(dialog: Dialog, address: str, now: datetime, *, associated: Dialog | None = None) -> DialogOutcome:
    """ANSWER (or the far end picking up): the ringing leg and any dialling legs become ACTIVE."""
    now = to_utc(now)
    pair = _linked(dialog, associated)
    check_action(dialog, address, _A.ANSWER, associated=associated)
    participants = tuple(
        _set(p, _P.ACTIVE, now)
        if (p.media_address == address and p.state is _P.ALERTING) or p.state in (_P.INITIATING, _P.INITIATED)
        else p
        for p in dialog.participants
    )
    return _finish(pair, [replace(dialog, participants=participants), *pair[1:]], now)


def hold(dialog: Dialog, address: str, now: datetime, *, associated: Dialog | None = None) -> DialogOutcome:
    now = to_utc(now)
    pair = _linked(dialog, associated)
    participant = check_action(dialog, address, _A.HOLD, associated=associated)
    updated = _update(dialog, address, _set(participant, _P.HELD, now))
    return _finish(pair, [updated, *pair[1:]], now)


def retrieve(
    dialog: Dialog, address: str, now: datetime, *, associated: Dialog | None = None
) -> DialogOutcome:
    """RETRIEVE a held leg.  A line carries one connected call, so an active linked leg is held in turn."""
    now = to_utc(now)
    pair = _linked(dialog, associated)
    participant = check_action(dialog, address, _A.RETRIEVE, associated=associated)
    updated = [_update(dialog, address, _set(participant, _P.ACTIVE, now))]
    if associated is not None:
        other = associated.participant(address)
        if other is not None and other.state is _P.ACTIVE:
            updated.append(_update(associated, address, _set(other, _P.HELD, now)))
        else:
            updated.append(associated)
    return _finish(pair, updated, now)


def drop(
    dialog: Dialog,
    address: str,
    now: datetime,
    *,
    associated: Dialog | None = None,
    wrap_up_for: Collection[str] = (),
) -> DialogOutcome:
    """DROP requested by a participant's agent.

    ``wrap_up_for`` names agents (ids) that go into wrap-up when their call ends (the caller knows from
    their wrap-up settings); their leg on the customer's call becomes WRAP_UP instead of DROPPED.
    """
    now = to_utc(now)
    pair = _linked(dialog, associated)
    check_action(dialog, address, _A.DROP, associated=associated)
    return _finish(pair, [_leave(dialog, address, now), *pair[1:]], now, wrap_up_for=wrap_up_for)


def disconnect(
    dialog: Dialog,
    address: str,
    now: datetime,
    *,
    associated: Dialog | None = None,
    wrap_up_for: Collection[str] = (),
) -> DialogOutcome:
    """A party hangs up on the network side (caller abandons, far end clears); not a Finesse request, so
    no action check.  Ringing legs left alone stop ringing (agent back to READY, §1.4)."""
    now = to_utc(now)
    pair = _linked(dialog, associated)
    leaving = dialog.participant(address)
    if leaving is None or not leaving.live:
        raise DialogActionError(
            GENERIC_ERROR, f"{address} is not on this call", leaving.state.value if leaving else None
        )
    if leaving.state is _P.ALERTING:
        # A leg that stops ringing (the call was pulled back before reaching it) leaves the rest waiting.
        updated = _update(dialog, address, _set(leaving, _P.DROPPED, now))
        return _finish(pair, [updated, *pair[1:]], now)
    return _finish(pair, [_leave(dialog, address, now), *pair[1:]], now, wrap_up_for=wrap_up_for)


def update_call_data(
    dialog: Dialog,
    address: str,
    *,
    call_variables: Mapping[str, str] | None = None,
    wrap_up_reason: str | None = None,
    wrap_up_reasons: WrapUpReasonList | None = None,
    team_id: str | None = None,
    associated: Dialog | None = None,
) -> DialogOutcome:
    """UPDATE_CALL_DATA: call variables and the per-call wrap-up reason, shared by every agent (§1.6)."""
    pair = _linked(dialog, associated)
    participant = check_action(dialog, address, _A.UPDATE_CALL_DATA, associated=associated)
    variables = dict(dialog.call_variables)
    if call_variables:
        _validate_variables(call_variables)
        variables.update(call_variables)
    reason = dialog.wrap_up_reason
    if wrap_up_reason is not None:
        if wrap_up_reasons is not None and not wrap_up_reasons.is_allowed(wrap_up_reason, team_id):
            raise DialogActionError(
                INVALID_INPUT,
                f"unknown wrap-up reason {wrap_up_reason!r}",
                participant.state.value,
                action=_A.UPDATE_CALL_DATA,
                synchronous=True,
            )
        reason = wrap_up_reason
    updated = replace(dialog, call_variables=tuple(variables.items()), wrap_up_reason=reason)
    return DialogOutcome((_refresh(updated, associated), *pair[1:]))


def finish_wrap_up(dialog: Dialog, address: str, now: datetime) -> DialogOutcome:
    """The agent left WORK/WORK_READY: its WRAP_UP leg is dropped (and the dialog may now be deleted)."""
    now = to_utc(now)
    participant = dialog.participant(address)
    if participant is None or participant.state is not _P.WRAP_UP:
        raise DialogActionError(
            GENERIC_ERROR,
            f"{address} is not wrapping up this call",
            participant.state.value if participant else None,
        )
    updated = _update(dialog, address, _set(participant, _P.DROPPED, now))
    return DialogOutcome((_refresh(updated, None),))


# --------------------------------------------------------------------------------------------------
# Consult and transfers (§4)
# --------------------------------------------------------------------------------------------------


def consult(
    dialog: Dialog,
    extension: str,
    destination: Destination,
    consult_dialog_id: str,
    now: datetime,
) -> DialogOutcome:
    """CONSULT_CALL: hold the customer and call ``destination`` on a new, linked dialog (§4 warm transfer).

    Returns (original, consult).  The consult starts with the original's call data, the Finesse default.
    For a queue destination nobody rings yet: routing later calls :func:`offer` on the consult dialog.
    """
    now = to_utc(now)
    participant = check_action(dialog, extension, _A.CONSULT_CALL)
    _require_address(destination.address, _A.CONSULT_CALL, participant.state)
    if dialog.associated_dialog_id is not None:
        raise DialogActionError(
            GENERIC_ERROR,
            "a consult call is already in progress",
            participant.state.value,
            action=_A.CONSULT_CALL,
        )
    if destination.address == extension:
        raise DialogActionError(
            INVALID_DESTINATION,
            "cannot consult your own extension",
            participant.state.value,
            action=_A.CONSULT_CALL,
            synchronous=True,
        )
    original = replace(
        _update(dialog, extension, _set(participant, _P.HELD, now)), associated_dialog_id=consult_dialog_id
    )
    legs = [_new_participant(extension, AddressType.AGENT_DEVICE, _P.INITIATED, now, participant.agent_id)]
    if destination.kind is not DestinationKind.QUEUE:
        legs.append(_destination_participant(destination, now))
    consult_dialog = Dialog(
        dialog_id=consult_dialog_id,
        from_address=extension,
        to_address=destination.address,
        state=DialogState.INITIATED,
        participants=tuple(legs),
        call_type=CallType.CONSULT,
        dialed_number=destination.address,
        queue_number=destination.address if destination.kind is DestinationKind.QUEUE else None,
        queue_name=destination.queue_name,
        associated_dialog_id=dialog.dialog_id,
        call_variables=dialog.call_variables,
        wrap_up_reason=dialog.wrap_up_reason,
    )
    return _finish([dialog], [original, consult_dialog], now)


def _join_check(
    original: Dialog, consult_dialog: Dialog | None, extension: str, action: Action
) -> tuple[Dialog, Participant]:
    if consult_dialog is None or original.associated_dialog_id != consult_dialog.dialog_id:
        held = original.participant(extension)
        raise DialogActionError(
            GENERIC_ERROR,
            f"{action} needs a consult call from this dialog",
            held.state.value if held else None,
            action=action,
        )
    participant = check_action(original, extension, action, associated=consult_dialog)
    return consult_dialog, participant


def transfer(
    original: Dialog,
    consult_dialog: Dialog | None,
    extension: str,
    now: datetime,
    *,
    wrap_up_for: Collection[str] = (),
) -> DialogOutcome:
    """TRANSFER (§4 warm): join the held customer and the consulted party, and drop the agent.

    The original dialog survives and reports the consulted party as its ``toAddress``; the consult
    dialog ends.  Returns (original, consult).
    """
    now = to_utc(now)
    consult_dialog, participant = _join_check(original, consult_dialog, extension, _A.TRANSFER)
    moved = tuple(p for p in consult_dialog.participants if p.live and p.media_address != extension)
    kept = tuple(_set(p, _P.DROPPED, now) if p is participant else p for p in original.participants)
    survivor = replace(
        original,
        participants=(*kept, *moved),
        to_address=moved[0].media_address if moved else original.to_address,
    )
    closed = replace(
        consult_dialog, participants=tuple(_set(p, _P.DROPPED, now) for p in consult_dialog.participants)
    )
    return _finish([original, consult_dialog], [survivor, closed], now, wrap_up_for=wrap_up_for)


def conference(
    original: Dialog,
    consult_dialog: Dialog | None,
    extension: str,
    now: datetime,
    *,
    max_parties: int | None = None,
) -> DialogOutcome:
    """CONFERENCE (§4): everyone stays; the consulted party joins the original call."""
    now = to_utc(now)
    consult_dialog, participant = _join_check(original, consult_dialog, extension, _A.CONFERENCE)
    moved = tuple(p for p in consult_dialog.participants if p.live and p.media_address != extension)
    kept = tuple(_set(p, _P.ACTIVE, now) if p is participant else p for p in original.participants)
    if max_parties is not None and sum(p.live for p in (*kept, *moved)) > max_parties:
        raise DialogActionError(
            GENERIC_ERROR,
            f"a conference is limited to {max_parties} parties",
            participant.state.value,
            action=_A.CONFERENCE,
        )
    survivor = replace(original, participants=(*kept, *moved))
    closed = replace(
        consult_dialog, participants=tuple(_set(p, _P.DROPPED, now) for p in consult_dialog.participants)
    )
    return _finish([original, consult_dialog], [survivor, closed], now)


def _single_step(
    dialog: Dialog,
    extension: str,
    destination: Destination,
    now: datetime,
    associated: Dialog | None,
    wrap_up_for: Collection[str],
) -> DialogOutcome:
    # Finesse TRANSFER_SST (§4 blind): the agent leaves at once and nobody checks that the far end answers.
    pair = _linked(dialog, associated)
    participant = check_action(dialog, extension, _A.TRANSFER_SST, associated=associated)
    _require_address(destination.address, _A.TRANSFER_SST, participant.state)
    if destination.address == extension:
        raise DialogActionError(
            INVALID_DESTINATION,
            "cannot transfer to your own extension",
            participant.state.value,
            action=_A.TRANSFER_SST,
            synchronous=True,
        )
    remaining = tuple(_set(p, _P.DROPPED, now) if p is participant else p for p in dialog.participants)
    if destination.kind is DestinationKind.QUEUE:
        # The caller waits in the queue; routing offers the call again with offer().
        updated = replace(
            dialog,
            participants=remaining,
            to_address=destination.address,
            queue_number=destination.address,
            queue_name=destination.queue_name,
        )
    else:
        updated = replace(
            dialog,
            participants=(*remaining, _destination_participant(destination, now)),
            to_address=destination.address,
        )
    return _finish(pair, [updated, *pair[1:]], now, wrap_up_for=wrap_up_for)


def blind_transfer(
    dialog: Dialog,
    extension: str,
    destination: Destination,
    now: datetime,
    *,
    associated: Dialog | None = None,
    wrap_up_for: Collection[str] = (),
) -> DialogOutcome:
    """Blind transfer to another agent or a queue (§4): internal destinations keep RONA protection."""
    if destination.kind is DestinationKind.EXTERNAL:
        raise ValueError("use single_step_transfer for numbers outside the contact centre")
    return _single_step(dialog, extension, destination, to_utc(now), associated, wrap_up_for)


def single_step_transfer(
    dialog: Dialog,
    extension: str,
    to_address: str,
    now: datetime,
    *,
    associated: Dialog | None = None,
    wrap_up_for: Collection[str] = (),
    allow_offnet_to_offnet: bool = True,
) -> DialogOutcome:
    """Single-step transfer to an outside number, e.g. another agency (§4).

    The outside party has no agent state and no RONA: later only the switch's ALERTING/ACTIVE/FAILED is
    known (use :func:`answer` / :func:`fail`).  Where the switch blocks off-net to off-net transfers (toll
    fraud control) a customer call cannot be sent outside at all, and the request fails outright.
    """
    now = to_utc(now)
    if not allow_offnet_to_offnet and any(
        p.live and p.address_type in (AddressType.CUSTOMER, AddressType.EXTERNAL) for p in dialog.participants
    ):
        participant = dialog.participant(extension)
        raise DialogActionError(
            GENERIC_ERROR,
            "off-net to off-net transfer is blocked",
            participant.state.value if participant else None,
            action=_A.TRANSFER_SST,
        )
    return _single_step(dialog, extension, Destination.external(to_address), now, associated, wrap_up_for)
