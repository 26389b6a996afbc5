"""Telephony service: agents, devices, dialogs, queue routing and timers, kept in the hub's database.

The rules live in :mod:`core.telephony.fsm` (agent states, §1.2-§1.6) and :mod:`core.telephony.dialogs`
(calls and transfers, §1.7 and §4); this module loads the snapshots, applies those rules, stores the
result and writes the matching events to the outbox, all in one transaction per command.  Section
numbers refer to the project's telephony reference.

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
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from core.clock import Clock
from core.db import Database
from core.models import StaffUser
from core.outbox import EventWriter
from core.redact import redact
from core.telephony import dialogs as dl
from core.telephony import fsm
from core.telephony.events import (
    AGENT_ERROR,
    AGENT_STATE_CHANGED,
    DIALOG_CREATED,
    DIALOG_ENDED,
    DIALOG_UPDATED,
    AgentError,
    AgentSnapshot,
    DialogEvent,
    DialogSnapshot,
)
from core.telephony.models import TelAgent, TelDevice, TelDialog, TelParticipant

log = logging.getLogger("ccbhub.telephony")
T = TypeVar("T")

# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------

DIGITS = r"^\d{1,15}$"  # CCE sign-in extensions are digits only (§1.2)
PHONE_NUMBER = r"^\+?\d{3,20}$"
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class ExtensionConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An extension the phone system knows; ``offline`` fails sign-in with Invalid Device (§1.2)."""

    extension: Annotated[str, msgspec.Meta(pattern=DIGITS)]
    status: Literal["valid", "offline"] = "valid"


class ReasonCodeConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A configured Not Ready or Logout reason code (§1.5); ``id`` defaults to the code."""

    code: Annotated[int, msgspec.Meta(ge=1, le=65535)]
    label: Label
    id: Annotated[int, msgspec.Meta(ge=1)] | None = None


class WrapUpConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Wrap-up on incoming and outgoing calls (§1.6); ``timer_seconds`` 0 means untimed."""

    mode: Literal["REQUIRED", "OPTIONAL", "NOT_ALLOWED", "REQUIRED_WITH_WRAP_UP_DATA"] = "REQUIRED"
    timer_seconds: Annotated[int, msgspec.Meta(ge=0, le=7200)] = 60
    reasons: list[Label] = msgspec.field(
        default_factory=lambda: [
            "Billing question",
            "Payment arrangement",
            "Start/stop service",
            "Outage report",
            "Transferred to agency",
            "Other",
        ]
    )


class TeamConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A team: its leads (who may act on its agents) and agents, by staff name.

    ``skills`` are the queues' skills its agents have; empty means they serve every queue.
    """

    name: str = ""
    leads: list[str] = []
    agents: list[str] = []
    skills: list[str] = []


class QueueConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A queue (skill group, §2.1); ``skills`` empty means every agent may take its calls."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    number: Annotated[str, msgspec.Meta(pattern=DIGITS)]
    skills: list[str] = []


def _demo_extensions() -> list[ExtensionConfig]:
    valid = [ExtensionConfig(extension=str(n)) for n in range(1001, 1021)]
    return [*valid, ExtensionConfig(extension="1099", status="offline")]


def _demo_queues() -> list[QueueConfig]:
    return [
        QueueConfig(name="Billing", number="7001", skills=["billing"]),
        QueueConfig(name="Payments", number="7002", skills=["billing", "payments"]),
        QueueConfig(name="Outage", number="7003", skills=["outage"]),
        QueueConfig(name="Start/Stop", number="7004", skills=["service"]),
    ]


class TelephonyConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``[plugins.telephony]`` in hub.toml.  The defaults are a small demo centre, so the hub works bare.

    ``rona_seconds``: how long an offered call rings before RONA (§2.2).  ``tick_seconds``: how often this
    process applies due RONA and wrap-up timers; 0 leaves that to another process (or to tests, which call
    ``tick`` themselves).  ``allow_offnet_transfer``: False blocks single-step transfers to outside
    numbers, as a PBX's toll-fraud setting does (§4).  External directory numbers are fictional 555-01xx.
    """

    extensions: list[ExtensionConfig] = msgspec.field(default_factory=_demo_extensions)
    not_ready_reasons: list[ReasonCodeConfig] = msgspec.field(
        default_factory=lambda: [
            ReasonCodeConfig(code=1, label="Break"),
            ReasonCodeConfig(code=2, label="Lunch"),
            ReasonCodeConfig(code=3, label="Meeting"),
            ReasonCodeConfig(code=4, label="Training"),
            ReasonCodeConfig(code=5, label="Follow-up work"),
        ]
    )
    logout_reasons: list[ReasonCodeConfig] = msgspec.field(
        default_factory=lambda: [
            ReasonCodeConfig(code=21, label="End of shift"),
            ReasonCodeConfig(code=22, label="Personal"),
        ]
    )
    wrap_up: WrapUpConfig = msgspec.field(default_factory=WrapUpConfig)
    teams: dict[Annotated[str, msgspec.Meta(min_length=1, max_length=40)], TeamConfig] = msgspec.field(
        default_factory=lambda: {
            "call-center": TeamConfig(name="Call Center", leads=["lead"], agents=["csr"])
        }
    )
    queues: list[QueueConfig] = msgspec.field(default_factory=_demo_queues)
    external_directory: dict[Label, Annotated[str, msgspec.Meta(pattern=PHONE_NUMBER)]] = msgspec.field(
        default_factory=lambda: {
            "Gas company emergency": "8005550101",
            "City 311": "2135550111",
            "Sanitation": "2135550122",
            "County social services": "2135550133",
        }
    )
    rona_seconds: Annotated[int, msgspec.Meta(ge=1, le=300)] = 15
    tick_seconds: Annotated[float, msgspec.Meta(ge=0, le=60)] = 1.0
    allow_offnet_transfer: bool = True
    max_conference_parties: Annotated[int, msgspec.Meta(ge=3, le=16)] = 6

    def __post_init__(self) -> None:
        # Raising here makes the plugin config_invalid with the message (msgspec wraps it).
        _check_unique("extension", [e.extension for e in self.extensions])
        _check_unique("queue name", [q.name for q in self.queues])
        _check_unique("queue number", [q.number for q in self.queues])
        clash = {e.extension for e in self.extensions} & {q.number for q in self.queues}
        if clash:
            raise ValueError(f"queue numbers collide with extensions: {sorted(clash)}")
        _check_unique("team agent", [a for t in self.teams.values() for a in t.agents])
        _check_unique("wrap-up reason", self.wrap_up.reasons)
        PhonePlan(self)  # the reason-code catalogue validates ids, codes and labels (§1.5)


def _check_unique(what: str, values: Sequence[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}")
        seen.add(value)


class PhonePlan:
    """The config turned into the domain objects and look-ups the service needs."""

    def __init__(self, config: TelephonyConfig) -> None:
        self.config = config
        nr, lo = fsm.ReasonCategory.NOT_READY, fsm.ReasonCategory.LOGOUT
        self.catalog = fsm.ReasonCodeCatalog(
            [
                fsm.ReasonCode(code=r.code, label=r.label, category=nr, id=r.id)
                for r in config.not_ready_reasons
            ]
            + [
                fsm.ReasonCode(code=r.code, label=r.label, category=lo, id=r.id)
                for r in config.logout_reasons
            ]
        )
        mode = fsm.WrapUpMode(config.wrap_up.mode)
        self.wrap_up = fsm.WrapUpSettings(mode, mode, config.wrap_up.timer_seconds)
        self.wrap_up_reasons = fsm.WrapUpReasonList(fsm.WrapUpReason(r) for r in config.wrap_up.reasons)
        self.rona = dt.timedelta(seconds=config.rona_seconds)
        self.team_of: dict[str, str] = {}
        self.leads: set[str] = set()
        self.overseen: dict[str, set[str]] = {}
        for team_id, team in config.teams.items():
            for agent in team.agents:
                self.team_of[agent] = team_id
            for lead in team.leads:
                self.team_of.setdefault(lead, team_id)
                self.leads.add(lead)
                self.overseen.setdefault(lead, set()).update(team.agents, team.leads)
        self.queues_by_key: dict[str, QueueConfig] = {}
        for q in config.queues:
            self.queues_by_key[q.name] = q
            self.queues_by_key[q.number] = q
        self.directory_numbers = set(config.external_directory.values())

    def team_name(self, team_id: str | None) -> str | None:
        if team_id is None:
            return None
        return self.config.teams[team_id].name or team_id

    def queue(self, key: str | None) -> QueueConfig | None:
        return self.queues_by_key.get(key) if key else None

    def serves(self, agent_id: str, queue: QueueConfig) -> bool:
        """Whether the agent has a skill of the queue (§2.1); no team or no skills means every queue."""
        team_id = self.team_of.get(agent_id)
        skills = self.config.teams[team_id].skills if team_id else []
        return not queue.skills or not skills or bool(set(skills) & set(queue.skills))

    def external_number(self, key: str) -> str | None:
        if key in self.config.external_directory:
            return self.config.external_directory[key]
        return key if key in self.directory_numbers else None

    def team_members(self) -> set[str]:
        return set(self.team_of)


# --------------------------------------------------------------------------------------------------
# Callers and refusals
# --------------------------------------------------------------------------------------------------

SUPERVISING_ROLES = frozenset({"lead", "supervisor"})
# Who may play the phone system (announce inbound calls, answer or hang up for outside parties).
PHONE_SYSTEM_ROLES = frozenset({"lead", "admin", "system"})
ALL_AGENTS_ROLES = frozenset({"admin", "system"})


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks: a member of staff (name and role) or the hub itself (``SYSTEM``)."""

    name: str
    role: str

    @property
    def ref(self) -> str:
        return "system" if self.role == "system" else f"staff:{self.name}"


SYSTEM = Actor("system", "system")


class PhoneRequestError(Exception):
    """A request refused synchronously; ``status`` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class BadRequest(PhoneRequestError):
    status = 400


class Forbidden(PhoneRequestError):
    status = 403


class NotFound(PhoneRequestError):
    status = 404


class Conflict(PhoneRequestError):
    """A phone-system (network side) request that the call's state does not allow."""

    status = 409


class _Refused(Exception):
    """Internal: refused asynchronously; the transaction is rolled back and the error published."""

    def __init__(self, error: AgentError) -> None:
        super().__init__(error.errorMessage)
        self.error = error


# --------------------------------------------------------------------------------------------------
# Snapshot conversions
# --------------------------------------------------------------------------------------------------

ROUTING_WAITING = "WAITING"
ROUTING_RINGING = "RINGING"
# §2.1: priority 1 (highest) to 10, default 5; a RONA'd call goes back at the front (§2.2).
DEFAULT_PRIORITY = 5
FRONT_PRIORITY = 1
Requeue = Literal["new", "front"]
KNOWN_STATE_NAMES = frozenset({*fsm.AgentState.__members__, "LOGIN"})
# How often a command that lost an optimistic-concurrency race is retried.
ATTEMPTS = 3


def agent_snapshot(agent: fsm.Agent) -> AgentSnapshot:
    return msgspec.convert(agent.to_event_dict(), AgentSnapshot)


def dialog_snapshot(dialog: dl.Dialog) -> DialogSnapshot:
    return msgspec.convert(dialog.to_event_dict(), DialogSnapshot)


def _agent_ids(dialog: dl.Dialog) -> list[str]:
    return sorted({p.agent_id for p in dialog.participants if p.agent_id is not None})


def _ringing_leg(dialog: dl.Dialog) -> dl.Participant | None:
    for p in dialog.participants:
        if p.state is dl.ParticipantState.ALERTING and p.agent_id is not None:
            return p
    return None


def _wraps_up(agent: fsm.Agent) -> bool:
    # Mirrors fsm._after_call: the agent's call leg goes to WRAP_UP exactly when the agent enters
    # WORK/WORK_READY (§1.6, §1.7), so both views of the call end agree.
    mode = agent.wrap_up.mode_for(agent.call_direction)
    required = (fsm.WrapUpMode.REQUIRED, fsm.WrapUpMode.REQUIRED_WITH_WRAP_UP_DATA)
    return mode in required or (mode is fsm.WrapUpMode.OPTIONAL and agent.wrap_up_opted_in)


# --------------------------------------------------------------------------------------------------
# One transaction's view of the state
# --------------------------------------------------------------------------------------------------


class _Work:
    """Everything one command reads and writes, inside one database transaction.

    Rows are loaded with ``FOR UPDATE`` and cached, so a command sees its own changes; every save writes
    the row and emits the event right away, so events keep the order in which things happened.
    """

    def __init__(
        self, service: TelephonyService, session: AsyncSession, now: dt.datetime, actor: Actor
    ) -> None:
        self.svc = service
        self.session = session
        self.now = now
        self.actor = actor
        self._agent_rows: dict[str, TelAgent | None] = {}
        self._agents: dict[str, fsm.Agent] = {}
        self._dialog_rows: dict[str, TelDialog] = {}
        self._dialogs: dict[str, dl.Dialog] = {}
        self.snapshots: dict[str, DialogSnapshot] = {}
        # Whom an asynchronous refusal is published for (set by the command before it tries anything).
        self.error_agent: str | None = None
        self.error_dialog: str | None = None
        self.error_action: str | None = None
        # Set when this transaction made an agent READY or put a call in a queue: routing material.
        self.routable = False

    # -- agents -------------------------------------------------------------------------------------------
    async def agent(self, agent_id: str) -> fsm.Agent:
        found = await self._load_agent(agent_id, skip_locked=False)
        assert found is not None
        return found

    async def try_agent(self, agent_id: str) -> fsm.Agent | None:
        """The agent, or None while another transaction holds its row (routing passes such agents by)."""
        return await self._load_agent(agent_id, skip_locked=True)

    async def _load_agent(self, agent_id: str, *, skip_locked: bool) -> fsm.Agent | None:
        if agent_id not in self._agents:
            row = await self.session.scalar(
                select(TelAgent).where(TelAgent.agent_id == agent_id).with_for_update(skip_locked=skip_locked)
            )
            if row is None and skip_locked:
                return None
            self._agent_rows[agent_id] = row
            self._agents[agent_id] = (
                self.svc.hydrate_agent(row) if row is not None else self.svc.fresh_agent(agent_id, self.now)
            )
        return self._agents[agent_id]

    async def save_agent(self, agent: fsm.Agent) -> None:
        row = self._agent_rows.get(agent.agent_id)
        if row is None:
            row = TelAgent(agent_id=agent.agent_id)
            self.session.add(row)
            self._agent_rows[agent.agent_id] = row
        row.state = agent.state.value
        row.extension = agent.extension
        row.team_id = agent.team_id
        row.reason_code_id = agent.reason_code.reason_code_id if agent.reason_code else None
        row.pending_state = agent.pending_state.value if agent.pending_state else None
        row.state_change_time = agent.state_change_time
        row.wrap_up_deadline = agent.wrap_up_deadline
        row.snapshot = msgspec.to_builtins(agent)
        row.updated_at = self.now
        self._agents[agent.agent_id] = agent
        self.routable |= agent.state is fsm.AgentState.READY
        self.svc.events.emit(self.session, AGENT_STATE_CHANGED, agent_snapshot(agent), actor=self.actor.ref)

    # -- dialogs ------------------------------------------------------------------------------------------
    async def dialog(self, dialog_id: str | None, *, skip_locked: bool = False) -> dl.Dialog | None:
        """The dialog, or None when there is none (or, with ``skip_locked``, while another transaction
        holds its row)."""
        if dialog_id is None:
            return None
        if dialog_id not in self._dialogs:
            row = await self.session.scalar(
                select(TelDialog)
                .where(TelDialog.dialog_id == dialog_id)
                .with_for_update(skip_locked=skip_locked)
            )
            if row is None:
                return None
            self._dialog_rows[dialog_id] = row
            self._dialogs[dialog_id] = msgspec.convert(row.snapshot, dl.Dialog)
        return self._dialogs[dialog_id]

    def dialog_row(self, dialog_id: str) -> TelDialog:
        return self._dialog_rows[dialog_id]

    async def save_dialog(self, dialog: dl.Dialog, cause: str, *, requeue: Requeue | None = None) -> None:
        now = self.now
        row = self._dialog_rows.get(dialog.dialog_id)
        created = row is None
        if row is None:
            row = TelDialog(dialog_id=dialog.dialog_id, created_at=now, priority=DEFAULT_PRIORITY)
            self.session.add(row)
            self._dialog_rows[dialog.dialog_id] = row
        was_over = row.ended_at is not None
        ringing = _ringing_leg(dialog)
        if dialog.is_over:
            routing = None
            row.ended_at = row.ended_at or now
        elif ringing is not None:
            routing = ROUTING_RINGING
        elif requeue is not None:
            routing = ROUTING_WAITING
            if requeue == "front":
                row.priority = FRONT_PRIORITY  # keeps its place among earlier front calls by queued_at
                row.queued_at = row.queued_at or now
            else:
                row.priority = DEFAULT_PRIORITY
                row.queued_at = now
        else:
            # Still waiting if it was; a call that stopped ringing without a requeue has left routing.
            routing = ROUTING_WAITING if row.routing == ROUTING_WAITING else None
        row.routing = routing
        self.routable |= routing == ROUTING_WAITING
        row.ringing_agent_id = ringing.agent_id if ringing is not None and routing else None
        row.ring_deadline = (
            ringing.state_change_time + self.svc.plan.rona if ringing is not None and routing else None
        )
        row.state = dialog.state.value
        row.call_type = dialog.call_type.value
        row.from_address = dialog.from_address
        row.to_address = dialog.to_address
        row.queue_name = dialog.queue_name
        row.associated_dialog_id = dialog.associated_dialog_id
        row.snapshot = msgspec.to_builtins(dialog)
        row.updated_at = now
        if not created:
            await self.session.execute(
                delete(TelParticipant).where(TelParticipant.dialog_id == dialog.dialog_id)
            )
        else:
            await self.session.flush()  # the dialog row must exist before its participants (foreign key)
        self.session.add_all(
            TelParticipant(
                dialog_id=dialog.dialog_id,
                position=i,
                media_address=p.media_address,
                address_type=p.address_type.value,
                agent_id=p.agent_id,
                state=p.state.value,
            )
            for i, p in enumerate(dialog.participants)
        )
        self._dialogs[dialog.dialog_id] = dialog
        snapshot = dialog_snapshot(dialog)
        self.snapshots[dialog.dialog_id] = snapshot
        if created:
            subject = DIALOG_CREATED
        elif dialog.is_over and not was_over:
            subject = DIALOG_ENDED
        else:
            subject = DIALOG_UPDATED
        payload = DialogEvent(
            dialog=snapshot, agentIds=_agent_ids(dialog), cause=cause, routing=routing or ""
        )
        self.svc.events.emit(self.session, subject, payload, actor=self.actor.ref)


# --------------------------------------------------------------------------------------------------
# The service
# --------------------------------------------------------------------------------------------------

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
        return self._with_profile(fsm.Agent.signed_out(agent_id, now))

    def hydrate_agent(self, row: TelAgent) -> fsm.Agent:
        return self._with_profile(msgspec.convert(row.snapshot, fsm.Agent))

    def _with_profile(self, agent: fsm.Agent) -> fsm.Agent:
        # Team, roles and wrap-up settings come from config and follow its changes (§1.9 User fields).
        team_id = self.plan.team_of.get(agent.agent_id)
        roles = ("Agent", "Supervisor") if agent.agent_id in self.plan.leads else ("Agent",)
        return replace(
            agent,
            wrap_up=self.plan.wrap_up,
            team_id=team_id,
            team_name=self.plan.team_name(team_id),
            login_name=agent.agent_id,
            roles=roles,
        )

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
        command: Callable[[_Work], Awaitable[T]],
        *,
        request_id: str | None = None,
        route: bool = True,
        again: bool = True,
    ) -> tuple[T, _Work] | None:
        """Run ``command`` in one transaction, then offer waiting calls to READY agents (routing).

        Returns None when the command was refused asynchronously: its changes are rolled back and one
        ``hub.phone.agent.error`` event is written in a transaction of its own.
        """
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self.db.session() as session:
                    work = _Work(self, session, self.clock.now(), actor)
                    try:
                        result = await command(work)
                    except fsm.TelephonyError as exc:
                        if exc.synchronous:
                            raise BadRequest(exc.message) from exc
                        raise _Refused(self._error(work, exc, request_id)) from exc
                    if route:
                        await self._route(work)
                if again and work.routable and self.db.dialect != "sqlite":
                    await self._route_again()
                return result, work
            except _Refused as refused:
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

    def _error(self, work: _Work, exc: fsm.TelephonyError, request_id: str | None) -> AgentError:
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

        async def command(work: _Work) -> None:
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
            await self._agent_moved(work, before, after)

        await self._run(actor, command, request_id=request_id)

    async def sign_in(
        self, actor: Actor, agent_id: str, extension: str, *, request_id: str | None = None
    ) -> None:
        """LOGIN with an extension (§1.2): a well-formed but unusable extension fails asynchronously."""
        async with self.db.session() as session:
            await self._authorize(session, actor, agent_id)

        async def command(work: _Work) -> None:
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
                raise _Refused(
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
            await self._agent_moved(work, before, result)

        await self._run(actor, command, request_id=request_id)

    async def _agent_moved(self, work: _Work, before: fsm.Agent, after: fsm.Agent) -> None:
        """Store and publish an agent's new snapshot, and do what its change implies for calls and devices."""
        await work.save_agent(after)
        if before.state in fsm.WRAP_UP_STATES and after.state not in fsm.WRAP_UP_STATES:
            await self._finish_wrap_up(work, after.agent_id)
        if after.state is fsm.AgentState.LOGOUT and before.state is not fsm.AgentState.LOGOUT:
            device = await work.session.scalar(
                select(TelDevice).where(TelDevice.in_use_by == after.agent_id).with_for_update()
            )
            if device is not None:
                device.in_use_by = None
                device.updated_at = work.now

    async def _finish_wrap_up(self, work: _Work, agent_id: str) -> None:
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

        async def command(work: _Work) -> None:
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

        async def command(work: _Work) -> None:
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
                await self._network_action(work, dialog, participant, wanted)
                return
            if not self.may_act_on(actor, participant.agent_id):
                raise Forbidden(f"{actor.name} ({actor.role}) may not act on agent {participant.agent_id}")
            work.error_agent = participant.agent_id
            work.error_dialog = dialog_id
            work.error_action = wanted.value
            await self._agent_action(work, dialog, participant, wanted, to_address, variables, wrap_up_reason)

        await self._run(actor, command, request_id=request_id)

    async def _agent_action(
        self,
        work: _Work,
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
                wrap = await self._wrap_for(work, dialog, associated)
                outcome = dl.drop(dialog, ext, now, associated=associated, wrap_up_for=wrap)
            elif action is A.CONSULT_CALL:
                dest = await self._destination(work, participant, to_address, action)
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
                    wrap = await self._wrap_for(work, original, consult_call)
                    outcome = dl.transfer(original, consult_call, ext, now, wrap_up_for=wrap)
                else:
                    outcome = dl.conference(
                        original, consult_call, ext, now, max_parties=self.config.max_conference_parties
                    )
            elif action is A.TRANSFER_SST:
                dest = await self._destination(work, participant, to_address, action)
                wrap = await self._wrap_for(work, dialog, associated)
                if dest.kind is dl.DestinationKind.EXTERNAL:
                    outcome = dl.single_step_transfer(
                        dialog,
                        ext,
                        dest.address,
                        now,
                        associated=associated,
                        wrap_up_for=wrap,
                        allow_offnet_to_offnet=self.config.allow_offnet_transfer,
                    )
                else:
                    outcome = dl.blind_transfer(
                        dialog, ext, dest, now, associated=associated, wrap_up_for=wrap
                    )
                    if dest.kind is dl.DestinationKind.QUEUE:
                        requeue[dialog.dialog_id] = "new"
            else:  # UPDATE_CALL_DATA
                agent = await work.agent(participant.agent_id or "")
                outcome = dl.update_call_data(
                    dialog,
                    ext,
                    call_variables=call_variables,
                    wrap_up_reason=wrap_up_reason,
                    wrap_up_reasons=self.plan.wrap_up_reasons,
                    team_id=agent.team_id,
                    associated=associated,
                )
        except dl.DialogActionError as exc:
            if exc.synchronous:
                raise BadRequest(exc.message, _field_for(action, exc)) from exc
            raise
        await self._apply(work, outcome, action.value, requeue)

    async def _network_action(
        self, work: _Work, dialog: dl.Dialog, participant: dl.Participant, action: dl.Action
    ) -> None:
        # The phone system reporting what a customer or an outside number did; not a Finesse request, so
        # a refusal is answered at once (409) rather than as an agent's error event.
        associated = await work.dialog(dialog.associated_dialog_id)
        try:
            if action is dl.Action.ANSWER:
                outcome = dl.answer(dialog, participant.media_address, work.now, associated=associated)
                cause = "ANSWERED_BY_PARTY"
            elif action is dl.Action.DROP:
                wrap = await self._wrap_for(work, dialog, associated)
                outcome = dl.disconnect(
                    dialog, participant.media_address, work.now, associated=associated, wrap_up_for=wrap
                )
                cause = "PARTY_DISCONNECTED"
            else:
                raise BadRequest("a customer or outside party can only ANSWER or DROP", "action")
            await self._apply(work, outcome, cause, {})
        except fsm.TelephonyError as exc:
            raise Conflict(exc.message) from exc

    async def _wrap_for(self, work: _Work, *calls: dl.Dialog | None) -> set[str]:
        agent_ids = {
            p.agent_id for d in calls if d is not None for p in d.participants if p.agent_id and p.live
        }
        return {a for a in agent_ids if _wraps_up(await work.agent(a))}

    async def _destination(
        self, work: _Work, participant: dl.Participant, to_address: str | None, action: dl.Action
    ) -> dl.Destination:
        """Resolve ``toAddress`` (§4): a queue (name or number), a signed-in agent's extension, or an
        external directory entry (label or number).  Anything else is a 400 naming the field."""
        if not to_address or not to_address.strip():
            raise BadRequest(f"toAddress is required for {action.value}", "toAddress")
        queue = self.plan.queue(to_address)
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
        number = self.plan.external_number(to_address)
        if number is not None:
            return dl.Destination.external(number)
        raise BadRequest(
            f"{to_address!r} is not a queue, a signed-in agent's extension or an external directory entry",
            "toAddress",
        )

    async def _apply(
        self, work: _Work, outcome: dl.DialogOutcome, cause: str, requeue: Mapping[str, Requeue]
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
            await self._agent_moved(work, before, after)

    # -- routing (§2.1) -----------------------------------------------------------------------------------
    async def _route(self, work: _Work) -> None:
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
            queue = self.plan.queue(dialog.queue_name)
            if queue is None:
                continue
            for agent_id in ready:
                agent = await work.try_agent(agent_id)
                if agent is None or agent.state is not fsm.AgentState.READY or agent.extension is None:
                    continue
                if not self.plan.serves(agent_id, queue):
                    continue
                try:
                    outcome = dl.offer(dialog, agent.extension, agent_id, work.now)
                    await self._apply(work, outcome, "OFFERED", {})
                except fsm.TelephonyError:
                    log.exception("could not offer dialog %s to %s", dialog_id, agent_id)
                    continue
                ready.remove(agent_id)
                break

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
            fired += await self._timer(functools.partial(self._ring_no_answer, dialog_id=dialog_id), at)
        for agent_id in wrapping:
            fired += await self._timer(functools.partial(self._wrap_up_expired, agent_id=agent_id), at)
        if not ringing and not wrapping:
            # Nothing fired, but a call may still wait for an agent another process made READY.
            await self._timer(self._nothing, at)
        return fired

    async def _timer(self, step: Callable[[_Work], Awaitable[bool]], at: dt.datetime) -> int:
        async def command(work: _Work) -> bool:
            work.now = at
            return await step(work)

        try:
            done = await self._run(SYSTEM, command)
        except Exception:
            log.exception("telephony timer failed")
            return 0
        return int(done is not None and done[0])

    @staticmethod
    async def _nothing(work: _Work) -> bool:
        return False

    async def _ring_no_answer(self, work: _Work, dialog_id: str) -> bool:
        dialog = await work.dialog(dialog_id)
        if dialog is None:
            return False
        row = work.dialog_row(dialog_id)
        ringing = _ringing_leg(dialog)
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
        if self.plan.queue(dialog.queue_name) is not None and not outcome.dialog.is_over:
            requeue[dialog_id] = "front"
        await self._apply(work, outcome, "RONA", requeue)
        return True

    async def _wrap_up_expired(self, work: _Work, agent_id: str) -> bool:
        agent = await work.agent(agent_id)
        if not fsm.wrap_up_due(agent, work.now):
            return False
        work.error_agent = agent_id
        after = fsm.system_event(agent, fsm.SystemEvent.WRAP_UP_EXPIRED, work.now)
        await self._agent_moved(work, agent, after)
        return True

    async def run_timers(self, every_s: float) -> None:
        """The background loop the lifespan starts: tick every ``every_s`` seconds until cancelled."""
        while True:
            await asyncio.sleep(every_s)
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
            if actor.name not in _agent_ids(dialog):
                raise Forbidden(f"{actor.name} is not on dialog {dialog_id}")
        return dialog_snapshot(dialog)

    async def queue_stats(self) -> list[QueueStats]:
        async with self.db.session() as session:
            calls = (
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
        for queue_name, routing, count, oldest in calls:
            if queue_name is None:
                continue  # a consult ringing at a named agent belongs to no queue
            if routing == ROUTING_WAITING:
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


def _field_for(action: dl.Action, exc: dl.DialogActionError) -> str:
    """The request field a synchronous dialog error is about, so the 400 can name it."""
    if action is dl.Action.UPDATE_CALL_DATA:
        return "wrapUpReason" if "wrap-up" in exc.message else "callVariables"
    if action in (dl.Action.CONSULT_CALL, dl.Action.TRANSFER_SST) and exc.code in (
        fsm.PARAMETER_MISSING,
        dl.INVALID_DESTINATION,
    ):
        return "toAddress"
    return "targetMediaAddress"
