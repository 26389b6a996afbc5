"""Events the escalations plugin publishes, and the live fan-out telling a CSR their escalation was decided.

Payloads name the escalation, its kind, queue, status, the account and the people involved; free text
(summary, reasons, mail bodies) stays in the plugin's tables, since the bus fans out to every subscriber.

Live delivery: each hub process subscribes to ``hub.escalation.>`` without a durable name (every process
gets every event) and publishes each one to the hub's streams on :data:`CHANNEL`. A stream only forwards
what concerns its reader (``rules.concerns``): decisions on the reader's own escalations, and new
escalations in a queue the reader may decide.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import msgspec

from core.contract import PluginContext
from plugins.escalations.models import Escalation

if TYPE_CHECKING:
    # Annotations only: the bus's envelope type is not in the contract yet.
    from core.contract.bus import Envelope

RAISED = "hub.escalation.raised"
APPROVED = "hub.escalation.approved"
DENIED = "hub.escalation.denied"
RESOLVED = "hub.escalation.resolved"
SECTION_MAIL_SENT = "hub.escalation.section_mail.sent"
# The hub's stream channel for escalation events (each reader's stream keeps what concerns them).
CHANNEL = "escalations.events"


class EscalationChanged(msgspec.Struct, frozen=True, kw_only=True):
    """The payload of raised, approved, denied and resolved: the escalation after the change."""

    escalation_id: int
    kind: str
    urgency: str
    queue: str
    status: str
    source: str
    account_id: str | None
    requested_by: str
    due_at: dt.datetime
    changed_at: dt.datetime
    changed_by: str
    pay_plan_id: str | None = None


class SectionMailSent(msgspec.Struct, frozen=True, kw_only=True):
    """A "more action needed" mail went to another section and was recorded on the account (task 9)."""

    section_mail_id: int
    account_id: str
    section: str
    escalation_id: int | None
    mail_id: int
    ccb_contact_id: str
    sent_by: str
    sent_at: dt.datetime


EVENT_TYPES: list[tuple[str, type[msgspec.Struct], str]] = [
    (RAISED, EscalationChanged, "A CSR or the CRO intake raised an escalation; it waits in its queue."),
    (APPROVED, EscalationChanged, "A lead, supervisor or the CRO approved an escalation (reason recorded)."),
    (DENIED, EscalationChanged, "An escalation was denied (reason recorded)."),
    (RESOLVED, EscalationChanged, "An escalation was resolved; a CRO requester is mailed."),
    (SECTION_MAIL_SENT, SectionMailSent, "Mail to another section about an account was queued and recorded."),
]


def changed(e: Escalation, actor: str, at: dt.datetime) -> EscalationChanged:
    return EscalationChanged(
        escalation_id=e.id,
        kind=e.kind,
        urgency=e.urgency,
        queue=e.queue,
        status=e.status,
        source=e.source,
        account_id=e.account_id,
        requested_by=e.requested_by,
        due_at=e.due_at,
        changed_at=at,
        changed_by=actor,
        pay_plan_id=e.pay_plan_id,
    )


# -- live push -------------------------------------------------------------------------------------------
def make_fanout_handler(ctx: PluginContext) -> Callable[[Envelope], Awaitable[None]]:
    """Publish each escalation change to this process's streams."""

    async def fan_out(env: Envelope) -> None:
        if env.subject == SECTION_MAIL_SENT:
            return  # nobody waits live for a mail to another section
        try:
            env.payload(EscalationChanged)
        except (msgspec.ValidationError, TypeError, ValueError):
            ctx.log.warning("escalations: unreadable %s event %s", env.subject, env.id)
            return
        data = msgspec.json.encode({"subject": env.subject, "id": env.id, **env.data}).decode()
        ctx.streams.publish(CHANNEL, env.subject.rsplit(".", 1)[-1], data)

    return fan_out


@contextlib.asynccontextmanager
async def live_push(ctx: PluginContext) -> AsyncIterator[None]:
    """The plugin's lifespan: the fan-out subscription, held while the hub runs."""
    # No durable name: every hub process receives every escalation event for the streams it holds open.
    sub = await ctx.bus.subscribe("hub.escalation.>", make_fanout_handler(ctx))
    try:
        yield
    finally:
        await sub.unsubscribe()
