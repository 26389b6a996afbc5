"""Dialog (call) values of §1.7: states, actions, participants, snapshots, outcomes, allowed actions.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.telephony.fsm import GENERIC_ERROR, INVALID_INPUT, SystemEvent, TelephonyError, iso_utc

# Section numbers refer to the project's telephony reference: §1.7 dialogs, §4 transfers.
# Snapshots are immutable values; the operations in dialogs.py and transfers.py return new ones.

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


def refresh(dialog: Dialog, associated: Dialog | None) -> Dialog:
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
