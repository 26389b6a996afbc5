"""Events the escalations plugin publishes, and the live fan-out telling a CSR their escalation was decided.

Payloads name the escalation, its kind, queue, status, the account and the people involved; free text
(summary, reasons, mail bodies) stays in the plugin's tables, since the bus fans out to every subscriber.

Live delivery: each hub process subscribes to ``hub.escalation.>`` without a durable name (every process
gets every event) and hands each one to the server-sent-event streams it holds open through a
:class:`Broadcaster`. A stream only forwards what concerns its reader: decisions on the reader's own
escalations, and new escalations in a queue the reader may decide.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import msgspec

from core.bus import Envelope
from core.contract import PluginContext
from plugins.escalations.service import EscalationConfig

RAISED = "hub.escalation.raised"
APPROVED = "hub.escalation.approved"
DENIED = "hub.escalation.denied"
RESOLVED = "hub.escalation.resolved"
SECTION_MAIL_SENT = "hub.escalation.section_mail.sent"


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


# -- live fan-out ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Notice:
    """One event for the open streams, with what a stream needs to decide whether its reader sees it."""

    event: str  # raised | approved | denied | resolved
    data: str
    requested_by: str
    queue: str


@dataclass(eq=False)
class Subscriber:
    queue: asyncio.Queue[Notice]
    dropped: int = 0


@dataclass
class Broadcaster:
    """Fan-out to the streams one process holds open; ``publish`` never waits for a slow reader."""

    queue_size: int = 64
    subscribers: set[Subscriber] = field(default_factory=set)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscriber]:
        sub = Subscriber(asyncio.Queue(self.queue_size))
        self.subscribers.add(sub)
        try:
            yield sub
        finally:
            self.subscribers.discard(sub)

    def publish(self, notice: Notice) -> None:
        for sub in tuple(self.subscribers):
            if sub.queue.full():
                # A reader that stopped reading loses its oldest notice rather than holding the others up.
                sub.queue.get_nowait()
                sub.dropped += 1
            sub.queue.put_nowait(notice)


def broadcaster_for(ctx: PluginContext) -> Broadcaster:
    """The one broadcaster of this plugin instance, shared by the routes and the lifespan."""
    found = ctx.extras.get("escalations.broadcaster")
    if not isinstance(found, Broadcaster):
        config: EscalationConfig = ctx.config
        found = Broadcaster(queue_size=config.stream_queue_size)
        ctx.extras["escalations.broadcaster"] = found
    return found


def make_fanout_handler(ctx: PluginContext) -> Callable[[Envelope], Awaitable[None]]:
    """Turn each escalation event into a :class:`Notice` for the open streams of this process."""

    async def fan_out(env: Envelope) -> None:
        if env.subject == SECTION_MAIL_SENT:
            return  # nobody waits live for a mail to another section
        try:
            changed = env.payload(EscalationChanged)
        except (msgspec.ValidationError, TypeError, ValueError):
            ctx.log.warning("escalations: unreadable %s event %s", env.subject, env.id)
            return
        data = msgspec.json.encode({"subject": env.subject, "id": env.id, **env.data}).decode()
        broadcaster_for(ctx).publish(
            Notice(
                event=env.subject.rsplit(".", 1)[-1],
                data=data,
                requested_by=changed.requested_by,
                queue=changed.queue,
            )
        )

    return fan_out
