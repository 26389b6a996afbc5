"""Telephony service: agents, devices, dialogs, queue routing and timers, kept in the hub's database.

The rules live in :mod:`core.telephony.fsm` (agent states, §1.2-§1.6) and :mod:`core.telephony.dialogs`
(calls and transfers, §1.7 and §4); this module loads the snapshots, applies those rules, stores the
result and writes the matching events to the outbox, all in one transaction per command.  Section
numbers refer to the project's telephony reference.

Here are the commands, queries and the transaction runner; the rest is split by concern: the config and
the plan derived from it (:mod:`~core.telephony.config`), who asks and how a request is refused
(:mod:`~core.telephony.callers`), one transaction's rows and events (:mod:`~core.telephony.work`), the
steps of agent and call commands (:mod:`~core.telephony.calls`) and routing with its timers
(:mod:`~core.telephony.routing`).

Hub processes keep no telephony state of their own: several may share one database, so each command reads
what it needs under row locks (``FOR UPDATE`` on PostgreSQL; SQLite serialises writers) and the rows'
version counters catch anything that slips through; a command that loses such a race is retried.

Finesse's request contract (§1.1) decides how a request ends:

* a malformed request (missing or unknown field, a reason code that is required or not allowed) raises
  :class:`BadRequest` — the synchronous 400;
* a well-formed request the phone system refuses (an illegal transition, an unusable device, an action the
  call's state does not allow) changes nothing and publishes one ``hub.phone.agent.error`` event instead —
  the HTTP answer is still 202;
* otherwise the new agent and dialog snapshots are published as events.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import msgspec
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from core.clock import Clock
from core.db import Database
from core.models import StaffUser
from core.outbox import EventWriter
from core.redact import redact
from core.telephony import calls, fsm, routing
from core.telephony import dialogs as dl
from core.telephony.callers import (
    ALL_AGENTS_ROLES,
    PHONE_SYSTEM_ROLES,
    SUPERVISING_ROLES,
    SYSTEM,
    Actor,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PhoneRequestError,
    Refused,
)
from core.telephony.config import (
    DIGITS,
    PHONE_NUMBER,
    ExtensionConfig,
    PhonePlan,
    QueueConfig,
    ReasonCodeConfig,
    TeamConfig,
    TelephonyConfig,
    WrapUpConfig,
)
from core.telephony.events import AGENT_ERROR, AgentError, AgentSnapshot, DialogSnapshot
from core.telephony.models import TelAgent, TelDevice, TelDialog, TelParticipant
from core.telephony.work import (
    DEFAULT_PRIORITY,
    FRONT_PRIORITY,
    ROUTING_RINGING,
    ROUTING_WAITING,
    Requeue,
    Work,
    agent_ids,
    agent_snapshot,
    dialog_snapshot,
)

# Names that lived here before the module was split; callers keep importing them from here.
__all__ = [
    "ALL_AGENTS_ROLES",
    "DEFAULT_PRIORITY",
    "DIGITS",
    "FRONT_PRIORITY",
    "PHONE_NUMBER",
    "PHONE_SYSTEM_ROLES",
    "ROUTING_RINGING",
    "ROUTING_WAITING",
    "SUPERVISING_ROLES",
    "SYSTEM",
    "Actor",
    "BadRequest",
    "Conflict",
    "ExtensionConfig",
    "Forbidden",
    "NotFound",
    "PhonePlan",
    "PhoneRequestError",
    "QueueConfig",
    "QueueStats",
    "ReasonCodeConfig",
    "Requeue",
    "TeamConfig",
    "TelephonyConfig",
    "TelephonyService",
    "WrapUpConfig",
    "agent_snapshot",
    "dialog_snapshot",
]

log = logging.getLogger("ccbhub.telephony")
T = TypeVar("T")

KNOWN_STATE_NAMES = frozenset({*fsm.AgentState.__members__, "LOGIN"})
# How often a command that lost an optimistic-concurrency race is retried.
ATTEMPTS = 3

InboundCallback = Callable[[DialogSnapshot], Awaitable[None]]


class QueueStats(msgspec.Struct, frozen=True, kw_only=True):
    """Queue statistics in the spirit of the Finesse Queue object (§1.8)."""

    name: str
    number: str
    skills: list[str]
    callsInQueue: int
    callsRinging: int
    startTimeOfLongestCallInQueue: str
    agentsLoggedOn: int
    agentsReady: int
    agentsNotReady: int
    agentsReserved: int
    agentsTalking: int
    agentsWrapUp: int


class TelephonyService:
    """Commands, queries and timers of the hub's telephony state."""

    def __init__(
        self,
        *,
        db: Database,
        events: EventWriter,
        clock: Clock,
        config: TelephonyConfig,
        on_inbound: InboundCallback | None = None,
    ) -> None:
        self.db = db
        self.events = events
        self.clock = clock
        self.config = config
        self.plan = PhonePlan(config)
        # Screen-pop extension point: the contact layer sets this to open a contact for the caller (ANI).
        # It runs after the call is stored; a failure there never undoes the call.
        self.on_inbound: InboundCallback | None = on_inbound
        self.open_streams = 0

    # -- snapshots ----------------------------------------------------------------------------------------
    def fresh_agent(self, agent_id: str, now: dt.datetime) -> fsm.Agent:
        return self.plan.with_profile(fsm.Agent.signed_out(agent_id, now))

    def hydrate_agent(self, row: TelAgent) -> fsm.Agent:
        return self.plan.with_profile(msgspec.convert(row.snapshot, fsm.Agent))

    # -- who may do what ----------------------------------------------------------------------------------
    def may_act_on(self, actor: Actor, agent_id: str) -> bool:
        """A CSR acts on their own agent, a lead on their teams' agents, an admin on anyone."""
        if actor.role in ALL_AGENTS_ROLES or actor.name == agent_id:
            return True
        return actor.role in SUPERVISING_ROLES and agent_id in self.plan.overseen.get(actor.name, set())

    def visible_agents(self, actor: Actor) -> frozenset[str] | None:
        """The agents whose events and snapshots ``actor`` sees (None: all)."""
        if actor.role in ALL_AGENTS_ROLES:
            return None
        if actor.role in SUPERVISING_ROLES:
            return frozenset({actor.name, *self.plan.overseen.get(actor.name, set())})
        return frozenset({actor.name})

    async def _known(self, session: AsyncSession, agent_id: str) -> bool:
        if agent_id in self.plan.team_of:
            return True
        if await session.scalar(select(TelAgent.agent_id).where(TelAgent.agent_id == agent_id)):
            return True
        staff = await session.scalar(
            select(StaffUser.id).where(StaffUser.name == agent_id, StaffUser.active.is_(True))
        )
        return staff is not None

    async def _authorize(self, session: AsyncSession, actor: Actor, agent_id: str) -> None:
        if not self.may_act_on(actor, agent_id):
            raise Forbidden(f"{actor.name} ({actor.role}) may not act on agent {agent_id}")
        if not await self._known(session, agent_id):
            raise NotFound(f"no agent {agent_id!r}")

    # -- the transaction runner ---------------------------------------------------------------------------
    async def _run(
        self,
        actor: Actor,
        command: Callable[[Work], Awaitable[T]],
        *,
        request_id: str | None = None,
        route: bool = True,
        again: bool = True,
    ) -> tuple[T, Work] | None:
        """Run ``command`` in one transaction, then offer waiting calls to READY agents (routing).

        Returns None when the command was refused asynchronously: its changes are rolled back and one
        ``hub.phone.agent.error`` event is written in a transaction of its own.
        """
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self.db.session() as session:
                    work = Work(self.plan, self.events, session, self.clock.now(), actor)
                    try:
                        result = await command(work)
                    except fsm.TelephonyError as exc:
                        if exc.synchronous:
                            raise BadRequest(exc.message) from exc
                        raise Refused(self._error(work, exc, request_id)) from exc
                    if route:
                        await routing.route(work)
                if again and work.routable and self.db.dialect != "sqlite":
                    await self._route_again()
                return result, work
            except Refused as refused:
                async with self.db.session() as session:
                    self.events.emit(session, AGENT_ERROR, refused.error, actor=actor.ref)
                return None
            except (StaleDataError, IntegrityError, DBAPIError) as exc:
                # Another hub process changed the same agent or call first (or the database broke a
                # deadlock between two of them); start again from fresh rows.
                if attempt == ATTEMPTS or not _retryable(exc):
                    raise
                await asyncio.sleep(0.01 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _route_again(self) -> None:
        # On PostgreSQL (READ COMMITTED) a READY request and a concurrent inbound call each route before
        # the other has committed, so neither sees the other; a second pass after commit matches them.
        # SQLite runs writers one after another, so its single pass already sees everything.
        try:
            await self._run(SYSTEM, self._nothing, route=True, again=False)
        except Exception:
            log.exception("routing pass after commit failed; the timer sweep will route instead")

    def _error(self, work: Work, exc: fsm.TelephonyError, request_id: str | None) -> AgentError:
        api = exc.to_api_error()
        action = (
            exc.action.value if isinstance(exc, dl.DialogActionError) and exc.action else work.error_action
        )
        return AgentError(
            agentId=work.error_agent or work.actor.name,
            errorType=api["errorType"],
            errorMessage=api["errorMessage"],
            errorData=api["errorData"],
            currentState=exc.current_state,
            action=action,
            dialogId=work.error_dialog,
            requestId=request_id,
        )

    # -- agent commands (§1.2-§1.6) -----------------------------------------------------------------------
    async def set_state(
        self,
        actor: Actor,
        agent_id: str,
        state: str,
        reason_code_id: int | None = None,
        *,
        extension: str | None = None,
        request_id: str | None = None,
    ) -> None:
        """``PUT User`` with a state (§1.3-§1.5); LOGIN with an extension signs in (§1.2)."""
        if state not in KNOWN_STATE_NAMES:
            raise BadRequest(f"unknown state {state!r}", "state")
        if state == "LOGIN":
            if extension is None:
                raise BadRequest("extension is required to sign in (LOGIN)", "extension")
            if reason_code_id is not None:
                raise BadRequest("LOGIN does not take a reason code", "reasonCodeId")
            await self.sign_in(actor, agent_id, extension, request_id=request_id)
            return
        if extension is not None:
            raise BadRequest("extension is only used with LOGIN", "extension")
        async with self.db.session() as session:
            await self._authorize(session, actor, agent_id)
        # Someone acting on another agent does it as a supervisor (§1.4): no reason code, the system
        # records 999, and the narrower supervisor transitions apply.
        supervising = actor.name != agent_id

        async def command(work: Work) -> None:
            work.error_agent = agent_id
            before = await work.agent(agent_id)
            try:
                if supervising:
                    if reason_code_id is not None:
                        raise BadRequest(
                            "a supervisor sets another agent NOT_READY without a reason code "
                            "(the system records 999)",
                            "reasonCodeId",
                        )
                    after = fsm.supervisor_request(before, state, work.now)
                else:
                    after = fsm.request_state(before, state, reason_code_id, work.now, self.plan.catalog)
            except fsm.TelephonyError as exc:
                if exc.synchronous:
                    raise BadRequest(exc.message, "reasonCodeId") from exc
                raise
            await calls.agent_moved(work, before, after)

        await self._run(actor, command, request_id=request_id)

    async def sign_in(
        self, actor: Actor, agent_id: str, extension: str, *, request_id: str | None = None
    ) -> None:
        """LOGIN with an extension (§1.2): a well-formed but unusable extension fails asynchronously."""
        async with self.db.session() as session:
            await self._authorize(session, actor, agent_id)

        async def command(work: Work) -> None:
            work.error_agent = agent_id
            before = await work.agent(agent_id)
            device_row = None
            if extension:
                device_row = await work.session.scalar(
                    select(TelDevice).where(TelDevice.extension == extension).with_for_update()
                )
            devices = fsm.DeviceRegistry()
            if device_row is not None:
                devices = fsm.DeviceRegistry.of(
                    fsm.Device(
                        device_row.extension, fsm.DeviceStatus(device_row.status), device_row.in_use_by
                    )
                )
            try:
                result = fsm.sign_in(before, extension, devices, work.now)
            except fsm.TelephonyError as exc:
                if exc.synchronous:
                    raise BadRequest(exc.message, "extension") from exc
                raise
            if isinstance(result, fsm.DeviceError):
                api = result.to_api_error()
                raise Refused(
                    AgentError(
                        agentId=agent_id,
                        errorType=api["errorType"],
                        errorMessage=api["errorMessage"],
                        errorData=api["errorData"],
                        peripheralErrorCode=api.get("peripheralErrorCode"),
                        peripheralErrorMsg=api.get("peripheralErrorMsg"),
                        currentState=before.state.value,
                        requestId=request_id,
                    )
                )
            if device_row is not None:
                device_row.in_use_by = agent_id
                device_row.updated_at = work.now
            await calls.agent_moved(work, before, result)

        await self._run(actor, command, request_id=request_id)

    # -- calls --------------------------------------------------------------------------------------------
    async def inbound_call(
        self,
        actor: Actor,
        ani: str,
        queue: str,
        *,
        dnis: str | None = None,
        call_variables: Mapping[str, str] | None = None,
    ) -> str:
        """A call arrives from the phone system for ``queue`` (name or number); returns the dialog id.

        The call waits in its queue and is offered to the longest-available agent (§2.1) at once or when
        one becomes READY.  Then the screen-pop callback, if any, gets the dialog snapshot.
        """
        if actor.role not in PHONE_SYSTEM_ROLES:
            raise Forbidden("only leads, admins and the phone system announce inbound calls")
        target = self.plan.queue(queue)
        if target is None:
            raise BadRequest(f"no queue named or numbered {queue!r}", "queue")
        variables = {name: redact(value) for name, value in (call_variables or {}).items()}
        dialog_id = str(uuid.uuid4())

        async def command(work: Work) -> None:
            try:
                dialog = dl.inbound_call(
                    dialog_id,
                    ani,
                    dnis or target.number,
                    work.now,
                    dialed_number=dnis or target.number,
                    queue_number=target.number,
                    queue_name=target.name,
                    call_variables=variables,
                )
            except dl.DialogActionError as exc:
                raise BadRequest(exc.message, "callVariables") from exc
            await work.save_dialog(dialog, "INBOUND", requeue="new")

        done = await self._run(actor, command)
        assert done is not None  # an inbound call has no asynchronous refusal
        snapshot = done[1].snapshots[dialog_id]
        if self.on_inbound is not None:
            try:
                await self.on_inbound(snapshot)
            except Exception:
                log.exception("screen-pop callback failed for dialog %s", dialog_id)
        return dialog_id

    async def dialog_action(
        self,
        actor: Actor,
        dialog_id: str,
        action: str,
        *,
        target: str | None = None,
        to_address: str | None = None,
        call_variables: Mapping[str, str] | None = None,
        wrap_up_reason: str | None = None,
        request_id: str | None = None,
    ) -> None:
        """``PUT Dialog`` with a requested action (§1.7, §4) by the participant at ``target``.

        ``target`` defaults to the caller's own extension.  An agent's participant is acted on by that agent
        (or their lead, or an admin); a customer's or outside party's leg only by the phone system (leads
        and admins), and only to ANSWER or DROP (the far end picks up or hangs up).
        """
        try:
            wanted = dl.Action(action)
        except ValueError:
            raise BadRequest(f"unknown action {action!r}", "action") from None
        variables = {n: redact(v) for n, v in call_variables.items()} if call_variables is not None else None

        async def command(work: Work) -> None:
            dialog = await work.dialog(dialog_id)
            if dialog is None:
                raise NotFound(f"no dialog {dialog_id!r}")
            address = target
            if address is None:
                own = await work.agent(actor.name) if await self._known(work.session, actor.name) else None
                address = own.extension if own is not None else None
                if address is None:
                    raise BadRequest("you are not signed in on an extension; name one", "targetMediaAddress")
            participant = dialog.participant(address)
            if participant is None:
                raise BadRequest(
                    f"{address} is not a participant of dialog {dialog_id}", "targetMediaAddress"
                )
            if participant.agent_id is None:
                if actor.role not in PHONE_SYSTEM_ROLES:
                    raise Forbidden("only the phone system acts for a customer or an outside party")
                await calls.network_action(work, dialog, participant, wanted)
                return
            if not self.may_act_on(actor, participant.agent_id):
                raise Forbidden(f"{actor.name} ({actor.role}) may not act on agent {participant.agent_id}")
            work.error_agent = participant.agent_id
            work.error_dialog = dialog_id
            work.error_action = wanted.value
            await calls.agent_action(work, dialog, participant, wanted, to_address, variables, wrap_up_reason)

        await self._run(actor, command, request_id=request_id)

    # -- timers (§1.6 wrap-up, §2.2 RONA) -----------------------------------------------------------------
    async def tick(self, now: dt.datetime | None = None) -> int:
        """Apply every timer due at ``now`` (default: the clock): RONA first, then wrap-up expiry.

        Each due item is its own transaction (one stuck item does not hold the others back) and is checked
        again under its row lock, so several processes ticking at once do each thing once.  Returns how many
        timers fired.
        """
        at = now or self.clock.now()
        async with self.db.session() as session:
            ringing = (
                await session.scalars(
                    select(TelDialog.dialog_id)
                    .where(TelDialog.routing == ROUTING_RINGING, TelDialog.ring_deadline <= at)
                    .order_by(TelDialog.ring_deadline)
                )
            ).all()
            wrapping = (
                await session.scalars(
                    select(TelAgent.agent_id)
                    .where(
                        TelAgent.state.in_([s.value for s in fsm.WRAP_UP_STATES]),
                        TelAgent.wrap_up_deadline <= at,
                    )
                    .order_by(TelAgent.wrap_up_deadline)
                )
            ).all()
        fired = 0
        for dialog_id in ringing:
            fired += await self._timer(functools.partial(routing.ring_no_answer, dialog_id=dialog_id), at)
        for agent_id in wrapping:
            fired += await self._timer(functools.partial(routing.wrap_up_expired, agent_id=agent_id), at)
        if not ringing and not wrapping:
            # Nothing fired, but a call may still wait for an agent another process made READY.
            await self._timer(self._nothing, at)
        return fired

    async def _timer(self, step: Callable[[Work], Awaitable[bool]], at: dt.datetime) -> int:
        async def command(work: Work) -> bool:
            work.now = at
            return await step(work)

        try:
            done = await self._run(SYSTEM, command)
        except Exception:
            log.exception("telephony timer failed")
            return 0
        return int(done is not None and done[0])

    @staticmethod
    async def _nothing(work: Work) -> bool:
        return False

    async def run_timers(self, every_s: float, stop: asyncio.Event | None = None) -> None:
        """The background loop the lifespan starts: tick every ``every_s`` seconds until ``stop`` is set.

        The lifespan sets ``stop`` rather than cancelling the loop, so a tick always finishes its
        transaction: a tick cancelled inside one could leave a connection holding SQLite's write lock.
        """
        stop = stop or asyncio.Event()
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(every_s):
                    await stop.wait()
            if stop.is_set():
                return
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("telephony tick failed")

    # -- devices ------------------------------------------------------------------------------------------
    async def sync_devices(self) -> None:
        """Make the device table match the configured extensions; removed ones are marked OFFLINE."""
        wanted = {
            e.extension: fsm.DeviceStatus.REGISTERED if e.status == "valid" else fsm.DeviceStatus.OFFLINE
            for e in self.config.extensions
        }
        now = self.clock.now()
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self.db.session() as session:
                    rows = {r.extension: r for r in (await session.scalars(select(TelDevice))).all()}
                    for extension, status in wanted.items():
                        row = rows.get(extension)
                        if row is None:
                            session.add(TelDevice(extension=extension, status=status.value, updated_at=now))
                        elif row.status != status.value:
                            row.status, row.updated_at = status.value, now
                    for extension, row in rows.items():
                        if extension not in wanted and row.status != fsm.DeviceStatus.OFFLINE.value:
                            row.status, row.updated_at = fsm.DeviceStatus.OFFLINE.value, now
                return
            except IntegrityError:
                if attempt == ATTEMPTS:  # another process inserted the same extensions first
                    raise

    # -- queries ------------------------------------------------------------------------------------------
    async def get_agent(self, actor: Actor, agent_id: str) -> AgentSnapshot:
        async with self.db.session() as session:
            await self._authorize(session, actor, agent_id)
            row = await session.get(TelAgent, agent_id)
            agent = (
                self.hydrate_agent(row) if row is not None else self.fresh_agent(agent_id, self.clock.now())
            )
        return agent_snapshot(agent)

    async def list_agents(self, actor: Actor) -> list[AgentSnapshot]:
        """A CSR sees themselves, a lead their teams, an admin everyone (rows plus configured agents)."""
        visible = self.visible_agents(actor)
        async with self.db.session() as session:
            query = select(TelAgent)
            if visible is not None:
                query = query.where(TelAgent.agent_id.in_(visible))
            rows = {r.agent_id: r for r in (await session.scalars(query)).all()}
            names = set(rows) | (self.plan.team_members() if visible is None else set(visible))
            now = self.clock.now()
            result: list[AgentSnapshot] = []
            for name in sorted(names):
                if name in rows:
                    result.append(agent_snapshot(self.hydrate_agent(rows[name])))
                elif await self._known(session, name):
                    result.append(agent_snapshot(self.fresh_agent(name, now)))
        return result

    async def agent_dialogs(self, actor: Actor, agent_id: str) -> list[DialogSnapshot]:
        """The agent's current calls (Finesse ``User/{id}/Dialogs``), including calls it is wrapping up."""
        async with self.db.session() as session:
            await self._authorize(session, actor, agent_id)
            rows = (
                await session.scalars(
                    select(TelDialog)
                    .where(
                        TelDialog.ended_at.is_(None),
                        TelDialog.dialog_id.in_(
                            select(TelParticipant.dialog_id).where(
                                TelParticipant.agent_id == agent_id,
                                TelParticipant.state != dl.ParticipantState.DROPPED.value,
                            )
                        ),
                    )
                    .order_by(TelDialog.created_at)
                )
            ).all()
        return [dialog_snapshot(msgspec.convert(r.snapshot, dl.Dialog)) for r in rows]

    async def get_dialog(self, actor: Actor, dialog_id: str) -> DialogSnapshot:
        """Leads and admins see any call; other staff only calls they are or were a participant of."""
        async with self.db.session() as session:
            row = await session.get(TelDialog, dialog_id)
            if row is None:
                raise NotFound(f"no dialog {dialog_id!r}")
            dialog = msgspec.convert(row.snapshot, dl.Dialog)
        if actor.role not in PHONE_SYSTEM_ROLES and actor.role not in SUPERVISING_ROLES:
            if actor.name not in agent_ids(dialog):
                raise Forbidden(f"{actor.name} is not on dialog {dialog_id}")
        return dialog_snapshot(dialog)

    async def queue_stats(self) -> list[QueueStats]:
        async with self.db.session() as session:
            counts = (
                await session.execute(
                    select(
                        TelDialog.queue_name, TelDialog.routing, func.count(), func.min(TelDialog.queued_at)
                    )
                    .where(TelDialog.routing.is_not(None))
                    .group_by(TelDialog.queue_name, TelDialog.routing)
                )
            ).all()
            agents = (
                await session.execute(
                    select(TelAgent.agent_id, TelAgent.state).where(
                        TelAgent.state != fsm.AgentState.LOGOUT.value
                    )
                )
            ).all()
        waiting: dict[str, tuple[int, dt.datetime | None]] = {}
        ringing: dict[str, int] = {}
        for queue_name, routing_state, count, oldest in counts:
            if queue_name is None:
                continue  # a consult ringing at a named agent belongs to no queue
            if routing_state == ROUTING_WAITING:
                waiting[queue_name] = (int(count), oldest)
            else:
                ringing[queue_name] = int(count)
        stats: list[QueueStats] = []
        for q in self.config.queues:
            states = [state for agent_id, state in agents if self.plan.serves(agent_id, q)]
            count, oldest = waiting.get(q.name, (0, None))
            s = fsm.AgentState
            stats.append(
                QueueStats(
                    name=q.name,
                    number=q.number,
                    skills=list(q.skills),
                    callsInQueue=count,
                    callsRinging=ringing.get(q.name, 0),
                    startTimeOfLongestCallInQueue=fsm.iso_utc(oldest) if oldest else "",
                    agentsLoggedOn=len(states),
                    agentsReady=states.count(s.READY.value),
                    agentsNotReady=states.count(s.NOT_READY.value),
                    agentsReserved=states.count(s.RESERVED.value),
                    agentsTalking=states.count(s.TALKING.value) + states.count(s.HOLD.value),
                    agentsWrapUp=states.count(s.WORK.value) + states.count(s.WORK_READY.value),
                )
            )
        return stats

    def reason_codes(self, team_id: str | None = None) -> dict[str, list[dict[str, Any]]]:
        """The Not Ready and Logout codes an agent may choose (§1.5), as Finesse ReasonCode objects."""
        return {
            c.value: [rc.to_event_dict() for rc in self.plan.catalog.codes(c, team_id)]
            for c in fsm.ReasonCategory
        }


# PostgreSQL: serialization_failure and deadlock_detected; the transaction can simply be run again.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, (StaleDataError, IntegrityError)):
        return True
    orig = getattr(exc, "orig", None)
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return state in RETRYABLE_SQLSTATES
