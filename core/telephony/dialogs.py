"""Finesse-style dialogs (calls): arrival, routing and the dialog actions of §1.7.

The values live in :mod:`core.telephony.dialog_model` and consult and transfers in
:mod:`core.telephony.transfers`; both are re-exported here, so ``dialogs.X`` names every part of the model.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime

from core.telephony.dialog_model import (
    ACCEPTED_UNLISTED,
    ADVERTISED_ACTIONS,
    HELD_WITH_ACTIVE_CONSULT,
    INVALID_DESTINATION,
    Action,
    AddressType,
    AgentEffect,
    CallType,
    Destination,
    DestinationKind,
    Dialog,
    DialogActionError,
    DialogOutcome,
    DialogState,
    Participant,
    ParticipantState,
    StateCause,
    allowed_actions,
    check_action,
    refresh,
)
from core.telephony.dialog_steps import (
    finish,
    leave,
    linked,
    new_participant,
    replace_leg,
    validate_variables,
    with_state,
)
from core.telephony.fsm import GENERIC_ERROR, INVALID_INPUT, SystemEvent, WrapUpReasonList, to_utc
from core.telephony.transfers import blind_transfer, conference, consult, single_step_transfer, transfer

__all__ = [
    "ACCEPTED_UNLISTED",
    "ADVERTISED_ACTIONS",
    "HELD_WITH_ACTIVE_CONSULT",
    "INVALID_DESTINATION",
    "Action",
    "AddressType",
    "AgentEffect",
    "CallType",
    "Destination",
    "DestinationKind",
    "Dialog",
    "DialogActionError",
    "DialogOutcome",
    "DialogState",
    "Participant",
    "ParticipantState",
    "StateCause",
    "allowed_actions",
    "answer",
    "blind_transfer",
    "check_action",
    "conference",
    "consult",
    "disconnect",
    "drop",
    "fail",
    "finish_wrap_up",
    "hold",
    "inbound_call",
    "offer",
    "refresh",
    "retrieve",
    "ring_no_answer",
    "single_step_transfer",
    "transfer",
    "update_call_data",
]

# Section numbers refer to the project's telephony reference: §1.7 dialogs, §4 transfers.
# Functions here never touch agents: each returns the new dialog snapshot(s) plus the agent events the
# change implies, and the caller feeds those to ``fsm.system_event``.

_P = ParticipantState
_A = Action

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
    validate_variables(variables)
    caller = new_participant(from_address, AddressType.CUSTOMER, _P.INITIATING, now)
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
    return refresh(dialog, None)


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
    ringing = new_participant(extension, AddressType.AGENT_DEVICE, _P.ALERTING, now, agent_id)
    updated = replace(dialog, participants=(*kept, ringing), to_address=extension)
    # A ringing consult leg (consult to a queue) changes nothing on the original call yet, so the
    # original is not needed here; it is once the leg is answered.
    return finish([dialog], [updated], now)


def ring_no_answer(dialog: Dialog, extension: str, now: datetime) -> DialogOutcome:
    """RONA (§2.2): the ringing leg is pulled back; the caller stays on the call for requeueing."""
    now = to_utc(now)
    ringing = dialog.participant(extension)
    if ringing is None or ringing.state is not _P.ALERTING or ringing.agent_id is None:
        state = ringing.state.value if ringing else None
        raise DialogActionError(GENERIC_ERROR, f"{extension} is not a ringing agent on this call", state)
    updated = replace_leg(dialog, extension, with_state(ringing, _P.DROPPED, now))
    return finish([dialog], [updated], now, ring_end=SystemEvent.RONA)


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
    pair = linked(dialog, associated)
    target = dialog.participant(address)
    if target is None or target.state is not _P.ALERTING:
        raise DialogActionError(
            GENERIC_ERROR, f"{address} is not ringing on this call", target.state.value if target else None
        )
    participants = tuple(
        with_state(p, _P.FAILED, now, reason)
        if p is target or p.state in (_P.INITIATING, _P.INITIATED)
        else p
        for p in dialog.participants
    )
    return finish(pair, [replace(dialog, participants=participants), *pair[1:]], now)


# --------------------------------------------------------------------------------------------------
# Finesse dialog actions (§1.7)
# --------------------------------------------------------------------------------------------------


def answer(dialog: Dialog, address: str, now: datetime, *, associated: Dialog | None = None) -> DialogOutcome:
    """ANSWER (or the far end picking up): the ringing leg and any dialling legs become ACTIVE."""
    now = to_utc(now)
    pair = linked(dialog, associated)
    check_action(dialog, address, _A.ANSWER, associated=associated)
    participants = tuple(
        with_state(p, _P.ACTIVE, now)
        if (p.media_address == address and p.state is _P.ALERTING) or p.state in (_P.INITIATING, _P.INITIATED)
        else p
        for p in dialog.participants
    )
    return finish(pair, [replace(dialog, participants=participants), *pair[1:]], now)


def hold(dialog: Dialog, address: str, now: datetime, *, associated: Dialog | None = None) -> DialogOutcome:
    now = to_utc(now)
    pair = linked(dialog, associated)
    participant = check_action(dialog, address, _A.HOLD, associated=associated)
    updated = replace_leg(dialog, address, with_state(participant, _P.HELD, now))
    return finish(pair, [updated, *pair[1:]], now)


def retrieve(
    dialog: Dialog, address: str, now: datetime, *, associated: Dialog | None = None
) -> DialogOutcome:
    """RETRIEVE a held leg.  A line carries one connected call, so an active linked leg is held in turn."""
    now = to_utc(now)
    pair = linked(dialog, associated)
    participant = check_action(dialog, address, _A.RETRIEVE, associated=associated)
    updated = [replace_leg(dialog, address, with_state(participant, _P.ACTIVE, now))]
    if associated is not None:
        other = associated.participant(address)
        if other is not None and other.state is _P.ACTIVE:
            updated.append(replace_leg(associated, address, with_state(other, _P.HELD, now)))
        else:
            updated.append(associated)
    return finish(pair, updated, now)


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
    pair = linked(dialog, associated)
    check_action(dialog, address, _A.DROP, associated=associated)
    return finish(pair, [leave(dialog, address, now), *pair[1:]], now, wrap_up_for=wrap_up_for)


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
    pair = linked(dialog, associated)
    leaving = dialog.participant(address)
    if leaving is None or not leaving.live:
        raise DialogActionError(
            GENERIC_ERROR, f"{address} is not on this call", leaving.state.value if leaving else None
        )
    if leaving.state is _P.ALERTING:
        # A leg that stops ringing (the call was pulled back before reaching it) leaves the rest waiting.
        updated = replace_leg(dialog, address, with_state(leaving, _P.DROPPED, now))
        return finish(pair, [updated, *pair[1:]], now)
    return finish(pair, [leave(dialog, address, now), *pair[1:]], now, wrap_up_for=wrap_up_for)


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
    pair = linked(dialog, associated)
    participant = check_action(dialog, address, _A.UPDATE_CALL_DATA, associated=associated)
    variables = dict(dialog.call_variables)
    if call_variables:
        validate_variables(call_variables)
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
    return DialogOutcome((refresh(updated, associated), *pair[1:]))


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
    updated = replace_leg(dialog, address, with_state(participant, _P.DROPPED, now))
    return DialogOutcome((refresh(updated, None),))
