"""Routing (§2.1, longest-available agent) and the timers that end a ring (RONA, §2.2) or a wrap-up (§1.6).

Section numbers refer to the project's telephony reference.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from core.telephony import calls, fsm
from core.telephony import dialogs as dl
from core.telephony.models import TelAgent, TelDialog
from core.telephony.work import ROUTING_RINGING, ROUTING_WAITING, Requeue, Work, ringing_leg

log = logging.getLogger("ccbhub.telephony")


async def route(work: Work) -> None:
    """Offer waiting calls, highest priority then longest waiting first, to the agent of the queue who
    has been READY the longest (CCE longest-available-agent, §2.1).  Only READY agents are offered."""
    waiting = (
        await work.session.scalars(
            select(TelDialog.dialog_id)
            .where(TelDialog.routing == ROUTING_WAITING)
            .order_by(TelDialog.priority, TelDialog.queued_at, TelDialog.created_at, TelDialog.dialog_id)
        )
    ).all()
    if not waiting:
        return
    ready = list(
        (
            await work.session.scalars(
                select(TelAgent.agent_id)
                .where(TelAgent.state == fsm.AgentState.READY.value, TelAgent.extension.is_not(None))
                .order_by(TelAgent.state_change_time, TelAgent.agent_id)
            )
        ).all()
    )
    # Rows another transaction holds are passed by (SKIP LOCKED) rather than waited for: that
    # transaction routes at its own end, and the timer sweep routes whatever is left, so nothing stalls
    # and two routing passes cannot deadlock on each other.
    for dialog_id in waiting:
        if not ready:
            return
        dialog = await work.dialog(dialog_id, skip_locked=True)
        if dialog is None or work.dialog_row(dialog_id).routing != ROUTING_WAITING:
            continue  # taken, answered or abandoned since the list was read
        queue = work.plan.queue(dialog.queue_name)
        if queue is None:
            continue
        for agent_id in ready:
            agent = await work.try_agent(agent_id)
            if agent is None or agent.state is not fsm.AgentState.READY or agent.extension is None:
                continue
            if not work.plan.serves(agent_id, queue):
                continue
            try:
                outcome = dl.offer(dialog, agent.extension, agent_id, work.now)
                await calls.apply_outcome(work, outcome, "OFFERED", {})
            except fsm.TelephonyError:
                log.exception("could not offer dialog %s to %s", dialog_id, agent_id)
                continue
            ready.remove(agent_id)
            break


async def ring_no_answer(work: Work, dialog_id: str) -> bool:
    dialog = await work.dialog(dialog_id)
    if dialog is None:
        return False
    row = work.dialog_row(dialog_id)
    ringing = ringing_leg(dialog)
    if row.routing != ROUTING_RINGING or row.ring_deadline is None or row.ring_deadline > work.now:
        return False  # answered, abandoned or handled by another process meanwhile
    if ringing is None:
        return False
    work.error_agent = ringing.agent_id
    work.error_dialog = dialog_id
    outcome = dl.ring_no_answer(dialog, ringing.media_address, work.now)
    # §2.2: the agent goes NOT_READY (CCE 32767) and the call goes back to the front of its queue; a
    # consult to a named agent has no queue to go back to and just stops ringing.
    requeue: dict[str, Requeue] = {}
    if work.plan.queue(dialog.queue_name) is not None and not outcome.dialog.is_over:
        requeue[dialog_id] = "front"
    await calls.apply_outcome(work, outcome, "RONA", requeue)
    return True


async def wrap_up_expired(work: Work, agent_id: str) -> bool:
    agent = await work.agent(agent_id)
    if not fsm.wrap_up_due(agent, work.now):
        return False
    work.error_agent = agent_id
    after = fsm.system_event(agent, fsm.SystemEvent.WRAP_UP_EXPIRED, work.now)
    await calls.agent_moved(work, agent, after)
    return True
