"""The steps of agent and call commands inside one transaction: dialog actions, destinations, outcomes.

Each step reads and writes through a :class:`~core.telephony.work.Work`; the service runs them (and
publishes what a refusal leaves) — see :mod:`core.telephony.service`.  Section numbers refer to the
project's telephony reference.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import select

from core.telephony import dialogs as dl
from core.telephony import fsm
from core.telephony.callers import BadRequest, Conflict
from core.telephony.models import TelAgent, TelDevice, TelParticipant
from core.telephony.work import Requeue, Work


async def agent_moved(work: Work, before: fsm.Agent, after: fsm.Agent) -> None:
    """Store and publish an agent's new snapshot, and do what its change implies for calls and devices."""
    await work.save_agent(after)
    if before.state in fsm.WRAP_UP_STATES and after.state not in fsm.WRAP_UP_STATES:
        await finish_wrap_up(work, after.agent_id)
    if after.state is fsm.AgentState.LOGOUT and before.state is not fsm.AgentState.LOGOUT:
        device = await work.session.scalar(
            select(TelDevice).where(TelDevice.in_use_by == after.agent_id).with_for_update()
        )
        if device is not None:
            device.in_use_by = None
            device.updated_at = work.now


async def finish_wrap_up(work: Work, agent_id: str) -> None:
    # §1.7: the agent's WRAP_UP leg stays on the call record until it leaves wrap-up; the call is over
    # (and deleted, in Finesse terms) only once that leg is dropped too.
    rows = (
        await work.session.execute(
            select(TelParticipant.dialog_id, TelParticipant.media_address).where(
                TelParticipant.agent_id == agent_id,
                TelParticipant.state == dl.ParticipantState.WRAP_UP.value,
            )
        )
    ).all()
    for dialog_id, address in rows:
        dialog = await work.dialog(dialog_id)
        if dialog is None:
            continue
        outcome = dl.finish_wrap_up(dialog, address, work.now)
        await work.save_dialog(outcome.dialog, "WRAP_UP_ENDED")


async def agent_action(
    work: Work,
    dialog: dl.Dialog,
    participant: dl.Participant,
    action: dl.Action,
    to_address: str | None,
    call_variables: Mapping[str, str] | None,
    wrap_up_reason: str | None,
) -> None:
    now, ext = work.now, participant.media_address
    associated = await work.dialog(dialog.associated_dialog_id)
    requeue: dict[str, Requeue] = {}
    A = dl.Action
    try:
        if action is A.ANSWER:
            outcome = dl.answer(dialog, ext, now, associated=associated)
        elif action is A.HOLD:
            outcome = dl.hold(dialog, ext, now, associated=associated)
        elif action is A.RETRIEVE:
            outcome = dl.retrieve(dialog, ext, now, associated=associated)
        elif action is A.DROP:
            wrap = await wrap_for(work, dialog, associated)
            outcome = dl.drop(dialog, ext, now, associated=associated, wrap_up_for=wrap)
        elif action is A.CONSULT_CALL:
            dest = await destination(work, participant, to_address, action)
            consult_id = str(uuid.uuid4())
            outcome = dl.consult(dialog, ext, dest, consult_id, now)
            if dest.kind is dl.DestinationKind.QUEUE:
                requeue[consult_id] = "new"
        elif action in (A.TRANSFER, A.CONFERENCE):
            # Accepted on either leg: the customer's (held) call or the consult call (§4 warm transfer).
            original: dl.Dialog = dialog
            consult_call: dl.Dialog | None = associated
            if dialog.call_type is dl.CallType.CONSULT and associated is not None:
                original, consult_call = associated, dialog
            if action is A.TRANSFER:
                wrap = await wrap_for(work, original, consult_call)
                outcome = dl.transfer(original, consult_call, ext, now, wrap_up_for=wrap)
            else:
                outcome = dl.conference(
                    original, consult_call, ext, now, max_parties=work.plan.config.max_conference_parties
                )
        elif action is A.TRANSFER_SST:
            dest = await destination(work, participant, to_address, action)
            wrap = await wrap_for(work, dialog, associated)
            if dest.kind is dl.DestinationKind.EXTERNAL:
                outcome = dl.single_step_transfer(
                    dialog,
                    ext,
                    dest.address,
                    now,
                    associated=associated,
                    wrap_up_for=wrap,
                    allow_offnet_to_offnet=work.plan.config.allow_offnet_transfer,
                )
            else:
                outcome = dl.blind_transfer(dialog, ext, dest, now, associated=associated, wrap_up_for=wrap)
                if dest.kind is dl.DestinationKind.QUEUE:
                    requeue[dialog.dialog_id] = "new"
        else:  # UPDATE_CALL_DATA
            agent = await work.agent(participant.agent_id or "")
            outcome = dl.update_call_data(
                dialog,
                ext,
                call_variables=call_variables,
                wrap_up_reason=wrap_up_reason,
                wrap_up_reasons=work.plan.wrap_up_reasons,
                team_id=agent.team_id,
                associated=associated,
            )
    except dl.DialogActionError as exc:
        if exc.synchronous:
            raise BadRequest(exc.message, field_for(action, exc)) from exc
        raise
    await apply_outcome(work, outcome, action.value, requeue)


async def network_action(
    work: Work, dialog: dl.Dialog, participant: dl.Participant, action: dl.Action
) -> None:
    # The phone system reporting what a customer or an outside number did; not a Finesse request, so
    # a refusal is answered at once (409) rather than as an agent's error event.
    associated = await work.dialog(dialog.associated_dialog_id)
    try:
        if action is dl.Action.ANSWER:
            outcome = dl.answer(dialog, participant.media_address, work.now, associated=associated)
            cause = "ANSWERED_BY_PARTY"
        elif action is dl.Action.DROP:
            wrap = await wrap_for(work, dialog, associated)
            outcome = dl.disconnect(
                dialog, participant.media_address, work.now, associated=associated, wrap_up_for=wrap
            )
            cause = "PARTY_DISCONNECTED"
        else:
            raise BadRequest("a customer or outside party can only ANSWER or DROP", "action")
        await apply_outcome(work, outcome, cause, {})
    except fsm.TelephonyError as exc:
        raise Conflict(exc.message) from exc


async def wrap_for(work: Work, *calls: dl.Dialog | None) -> set[str]:
    agent_ids = {p.agent_id for d in calls if d is not None for p in d.participants if p.agent_id and p.live}
    return {a for a in agent_ids if wraps_up(await work.agent(a))}


async def destination(
    work: Work, participant: dl.Participant, to_address: str | None, action: dl.Action
) -> dl.Destination:
    """Resolve ``toAddress`` (§4): a queue (name or number), a signed-in agent's extension, or an
    external directory entry (label or number).  Anything else is a 400 naming the field."""
    if not to_address or not to_address.strip():
        raise BadRequest(f"toAddress is required for {action.value}", "toAddress")
    queue = work.plan.queue(to_address)
    if queue is not None:
        return dl.Destination.queue(queue.number, queue.name)
    agent_id = await work.session.scalar(
        select(TelAgent.agent_id).where(
            TelAgent.extension == to_address, TelAgent.state != fsm.AgentState.LOGOUT.value
        )
    )
    if agent_id is not None:
        if agent_id == participant.agent_id:
            raise BadRequest(f"cannot {action.value} to your own extension", "toAddress")
        other = await work.agent(agent_id)
        if other.state is not fsm.AgentState.READY:
            # A device that is busy on another call cannot be rung (§1.7 stateCause BUSY); an
            # asynchronous failure, like every refusal the phone system makes.
            raise dl.DialogActionError(
                fsm.GENERIC_ERROR,
                f"agent {agent_id} at {to_address} is {other.state.value}, not READY (BUSY)",
                participant.state.value,
                action=action,
            )
        return dl.Destination.agent(to_address, agent_id)
    if await work.session.scalar(select(TelDevice.extension).where(TelDevice.extension == to_address)):
        raise dl.DialogActionError(
            fsm.GENERIC_ERROR,
            f"no agent is signed in at {to_address} (DEVICE_RESOURCE_NOT_AVAILABLE)",
            participant.state.value,
            action=action,
        )
    number = work.plan.external_number(to_address)
    if number is not None:
        return dl.Destination.external(number)
    raise BadRequest(
        f"{to_address!r} is not a queue, a signed-in agent's extension or an external directory entry",
        "toAddress",
    )


async def apply_outcome(
    work: Work, outcome: dl.DialogOutcome, cause: str, requeue: Mapping[str, Requeue]
) -> None:
    """Store a dialog outcome and the agent events it implies (§1.4 via ``fsm.system_event``).

    Every agent transition is computed before anything is saved, so a refusal leaves no half-change.
    """
    moves: list[tuple[fsm.Agent, fsm.Agent]] = []
    for effect in outcome.agent_events:
        before = await work.agent(effect.agent_id)
        moves.append((before, fsm.system_event(before, effect.event, work.now)))
    for dialog in outcome.dialogs:
        await work.save_dialog(dialog, cause, requeue=requeue.get(dialog.dialog_id))
    for before, after in moves:
        await agent_moved(work, before, after)


def field_for(action: dl.Action, exc: dl.DialogActionError) -> str:
    """The request field a synchronous dialog error is about, so the 400 can name it."""
    if action is dl.Action.UPDATE_CALL_DATA:
        return "wrapUpReason" if "wrap-up" in exc.message else "callVariables"
    if action in (dl.Action.CONSULT_CALL, dl.Action.TRANSFER_SST) and exc.code in (
        fsm.PARAMETER_MISSING,
        dl.INVALID_DESTINATION,
    ):
        return "toAddress"
    return "targetMediaAddress"


def wraps_up(agent: fsm.Agent) -> bool:
    # Mirrors fsm._after_call: the agent's call leg goes to WRAP_UP exactly when the agent enters
    # WORK/WORK_READY (§1.6, §1.7), so both views of the call end agree.
    mode = agent.wrap_up.mode_for(agent.call_direction)
    required = (fsm.WrapUpMode.REQUIRED, fsm.WrapUpMode.REQUIRED_WITH_WRAP_UP_DATA)
    return mode in required or (mode is fsm.WrapUpMode.OPTIONAL and agent.wrap_up_opted_in)
