"""Consult calls and transfers (§4): warm and blind transfer, conference, single-step transfer.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from core.telephony.dialog_model import (
    INVALID_DESTINATION,
    Action,
    AddressType,
    CallType,
    Destination,
    DestinationKind,
    Dialog,
    DialogActionError,
    DialogOutcome,
    DialogState,
    Participant,
    ParticipantState,
    check_action,
)
from core.telephony.dialog_steps import (
    destination_participant,
    finish,
    linked,
    new_participant,
    replace_leg,
    require_address,
    with_state,
)
from core.telephony.fsm import GENERIC_ERROR, to_utc

# Section numbers refer to the project's telephony reference: §1.7 dialogs, §4 transfers.
# Functions here never touch agents: each returns the new dialog snapshot(s) plus the agent events the
# change implies, and the caller feeds those to ``fsm.system_event``.

_P = ParticipantState
_A = Action

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
    require_address(destination.address, _A.CONSULT_CALL, participant.state)
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
        replace_leg(dialog, extension, with_state(participant, _P.HELD, now)),
        associated_dialog_id=consult_dialog_id,
    )
    legs = [new_participant(extension, AddressType.AGENT_DEVICE, _P.INITIATED, now, participant.agent_id)]
    if destination.kind is not DestinationKind.QUEUE:
        legs.append(destination_participant(destination, now))
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
    return finish([dialog], [original, consult_dialog], now)


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
    kept = tuple(with_state(p, _P.DROPPED, now) if p is participant else p for p in original.participants)
    survivor = replace(
        original,
        participants=(*kept, *moved),
        to_address=moved[0].media_address if moved else original.to_address,
    )
    closed = replace(
        consult_dialog,
        participants=tuple(with_state(p, _P.DROPPED, now) for p in consult_dialog.participants),
    )
    return finish([original, consult_dialog], [survivor, closed], now, wrap_up_for=wrap_up_for)


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
    kept = tuple(with_state(p, _P.ACTIVE, now) if p is participant else p for p in original.participants)
    if max_parties is not None and sum(p.live for p in (*kept, *moved)) > max_parties:
        raise DialogActionError(
            GENERIC_ERROR,
            f"a conference is limited to {max_parties} parties",
            participant.state.value,
            action=_A.CONFERENCE,
        )
    survivor = replace(original, participants=(*kept, *moved))
    closed = replace(
        consult_dialog,
        participants=tuple(with_state(p, _P.DROPPED, now) for p in consult_dialog.participants),
    )
    return finish([original, consult_dialog], [survivor, closed], now)


def _single_step(
    dialog: Dialog,
    extension: str,
    destination: Destination,
    now: datetime,
    associated: Dialog | None,
    wrap_up_for: Collection[str],
) -> DialogOutcome:
    # Finesse TRANSFER_SST (§4 blind): the agent leaves at once and nobody checks that the far end answers.
    pair = linked(dialog, associated)
    participant = check_action(dialog, extension, _A.TRANSFER_SST, associated=associated)
    require_address(destination.address, _A.TRANSFER_SST, participant.state)
    if destination.address == extension:
        raise DialogActionError(
            INVALID_DESTINATION,
            "cannot transfer to your own extension",
            participant.state.value,
            action=_A.TRANSFER_SST,
            synchronous=True,
        )
    remaining = tuple(with_state(p, _P.DROPPED, now) if p is participant else p for p in dialog.participants)
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
            participants=(*remaining, destination_participant(destination, now)),
            to_address=destination.address,
        )
    return finish(pair, [updated, *pair[1:]], now, wrap_up_for=wrap_up_for)


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
