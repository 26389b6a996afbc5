"""The telephony service on a real (SQLite) database with a manual clock: routing, RONA, wrap-up, the
asynchronous error contract, transfers and who may act.  No test sleeps; timers fire through ``tick``.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
from sqlalchemy import select

from core.bus import Envelope, decode_envelope
from core.clock import ManualClock
from core.db import Database
from core.migrate import upgrade
from core.models import OutboxEvent
from core.outbox import EventCatalogue, EventWriter
from core.telephony import events as ev
from core.telephony.events import DialogSnapshot
from core.telephony.models import TelAgent, TelDevice, TelDialog
from core.telephony.service import (
    SYSTEM,
    Actor,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    TelephonyConfig,
    TelephonyService,
)

T0 = dt.datetime(2025, 3, 3, 17, 0, 0, tzinfo=dt.UTC)
CALLER = "2135550142"  # fictional 555-01xx numbers only
RONA_S = 10
WRAP_S = 30

CONFIG: dict[str, Any] = {
    "extensions": [{"extension": e} for e in ("1001", "1002", "1003", "1004")]
    + [{"extension": "1009", "status": "offline"}],
    "not_ready_reasons": [{"code": 1, "label": "Break"}, {"code": 2, "label": "Lunch"}],
    "logout_reasons": [{"code": 21, "label": "End of shift"}],
    "wrap_up": {"mode": "REQUIRED", "timer_seconds": WRAP_S, "reasons": ["Billing question"]},
    "teams": {
        "billing": {"name": "Billing desk", "leads": ["lee"], "agents": ["ann", "bob", "cat"]},
        "outage": {"name": "Outage desk", "leads": ["lou"], "agents": ["dan"], "skills": ["outage"]},
    },
    "queues": [
        {"name": "Billing", "number": "7001", "skills": ["billing"]},
        {"name": "Outage", "number": "7003", "skills": ["outage"]},
    ],
    "external_directory": {"City 311": "2135550111"},
    "rona_seconds": RONA_S,
    "tick_seconds": 0,
}
EXTENSION = {"ann": "1001", "bob": "1002", "cat": "1003", "dan": "1004"}
ADMIN = Actor("root", "admin")
LEAD = Actor("lee", "lead")


def me(name: str) -> Actor:
    return Actor(name, "csr")


@dataclass
class Phone:
    svc: TelephonyService
    clock: ManualClock
    db: Database

    def at(self, seconds: float) -> dt.datetime:
        return T0 + dt.timedelta(seconds=seconds)

    def move_to(self, seconds: float) -> None:
        self.clock.set(self.at(seconds))

    async def events(self, subject: str | None = None, after: int = 0) -> list[Envelope]:
        async with self.db.session() as session:
            rows = (
                await session.scalars(
                    select(OutboxEvent).where(OutboxEvent.seq > after).order_by(OutboxEvent.seq)
                )
            ).all()
        found = [decode_envelope(r.envelope) for r in rows]
        return [e for e in found if subject is None or e.subject == subject]

    async def mark(self) -> int:
        async with self.db.session() as session:
            return int(await session.scalar(select(OutboxEvent.seq).order_by(OutboxEvent.seq.desc())) or 0)

    async def state(self, name: str) -> str:
        return (await self.svc.get_agent(ADMIN, name)).state

    async def ready(self, name: str) -> None:
        await self.svc.sign_in(me(name), name, EXTENSION[name])
        await self.svc.set_state(me(name), name, "READY")

    async def call(self, queue: str = "Billing") -> str:
        return await self.svc.inbound_call(LEAD, CALLER, queue)

    async def dialog(self, dialog_id: str) -> DialogSnapshot:
        return await self.svc.get_dialog(ADMIN, dialog_id)

    async def ringing_at(self, dialog_id: str) -> str | None:
        d = await self.dialog(dialog_id)
        for p in d.participants:
            if p.state == "ALERTING" and p.mediaAddressType == "AGENT_DEVICE":
                return next(n for n, e in EXTENSION.items() if e == p.mediaAddress)
        return None

    async def routing(self, dialog_id: str) -> tuple[str | None, int]:
        async with self.db.session() as session:
            row = await session.get(TelDialog, dialog_id)
            assert row is not None
            return row.routing, row.priority


@pytest.fixture
async def phone(hub_database_url: str) -> AsyncIterator[Phone]:
    clock = ManualClock(T0)
    db = Database(hub_database_url)
    catalogue = EventCatalogue()
    for et in ev.EVENT_TYPES:
        catalogue.register(et.subject, et.payload, "telephony")
    writer = EventWriter(catalogue, clock, "telephony", lambda: None)
    svc = TelephonyService(db=db, events=writer, clock=clock, config=msgspec.convert(CONFIG, TelephonyConfig))
    await svc.sync_devices()
    try:
        yield Phone(svc, clock, db)
    finally:
        await db.dispose()


# --------------------------------------------------------------------------------------------------
# Routing (§2.1)
# --------------------------------------------------------------------------------------------------


async def test_routing_offers_the_call_to_the_agent_ready_longest(phone: Phone) -> None:
    for i, name in enumerate(("bob", "ann", "cat")):  # bob READY first, cat last
        phone.move_to(i)
        await phone.ready(name)
    phone.move_to(10)
    first = await phone.call()
    assert await phone.ringing_at(first) == "bob"
    assert await phone.state("bob") == "RESERVED"
    second = await phone.call()
    assert await phone.ringing_at(second) == "ann"
    offered = [e for e in await phone.events(ev.DIALOG_UPDATED) if e.data["cause"] == "OFFERED"]
    assert [e.data["agentIds"] for e in offered] == [["bob"], ["ann"]]


async def test_a_call_is_offered_only_to_a_ready_agent_and_waits_otherwise(phone: Phone) -> None:
    await phone.svc.sign_in(me("ann"), "ann", "1001")  # signed in, but NOT_READY
    call = await phone.call()
    assert await phone.ringing_at(call) is None
    assert await phone.routing(call) == ("WAITING", 5)
    stats = {q.name: q for q in await phone.svc.queue_stats()}
    assert (stats["Billing"].callsInQueue, stats["Billing"].agentsNotReady) == (1, 1)
    assert stats["Billing"].startTimeOfLongestCallInQueue == "2025-03-03T17:00:00.000Z"
    phone.move_to(5)
    await phone.svc.set_state(me("ann"), "ann", "READY")  # becoming READY is enough: offered at once
    assert await phone.ringing_at(call) == "ann"
    assert await phone.routing(call) == ("RINGING", 5)


async def test_routing_respects_queue_skills(phone: Phone) -> None:
    await phone.ready("dan")  # outage desk only
    billing = await phone.call("Billing")
    outage = await phone.call("7003")  # a queue may be named by its number
    assert await phone.ringing_at(billing) is None
    assert await phone.ringing_at(outage) == "dan"


# --------------------------------------------------------------------------------------------------
# RONA (§2.2) and wrap-up (§1.6) timers
# --------------------------------------------------------------------------------------------------


async def test_rona_fires_exactly_at_its_timer_and_requeues_the_call_at_the_front(phone: Phone) -> None:
    await phone.ready("ann")
    phone.move_to(1)
    first = await phone.call()  # rings at ann from t=1
    phone.move_to(3)
    later = await phone.call()  # nobody else READY: waits from t=3
    assert await phone.svc.tick(phone.at(1 + RONA_S) - dt.timedelta(milliseconds=1)) == 0
    assert await phone.state("ann") == "RESERVED"

    assert await phone.svc.tick(phone.at(1 + RONA_S)) == 1
    ann = await phone.svc.get_agent(ADMIN, "ann")
    assert ann.state == "NOT_READY"
    assert ann.reasonCode is not None and (ann.reasonCode.code, ann.reasonCodeId) == (32767, -1)
    assert await phone.routing(first) == ("WAITING", 1)  # back at the front, ahead of `later`
    assert await phone.ringing_at(first) is None
    assert await phone.svc.tick(phone.at(60)) == 0  # fires once

    phone.move_to(20)
    await phone.ready("bob")
    assert await phone.ringing_at(first) == "bob"
    assert await phone.ringing_at(later) is None


async def test_wrap_up_ends_at_its_timer(phone: Phone) -> None:
    await phone.ready("ann")
    call = await phone.call()
    phone.move_to(2)
    await phone.svc.dialog_action(me("ann"), call, "ANSWER")
    phone.move_to(40)
    await phone.svc.dialog_action(me("ann"), call, "DROP")
    assert await phone.state("ann") == "WORK_READY"
    leg = next(p for p in (await phone.dialog(call)).participants if p.mediaAddress == "1001")
    assert leg.state == "WRAP_UP"

    assert await phone.svc.tick(phone.at(40 + WRAP_S) - dt.timedelta(milliseconds=1)) == 0
    assert await phone.state("ann") == "WORK_READY"
    assert await phone.svc.tick(phone.at(40 + WRAP_S)) == 1
    assert await phone.state("ann") == "READY"
    ended = await phone.events(ev.DIALOG_ENDED)
    assert [e.data["dialog"]["id"] for e in ended] == [call]
    assert ended[0].data["cause"] == "WRAP_UP_ENDED"


async def test_a_pending_not_ready_is_kept_through_wrap_up(phone: Phone) -> None:
    await phone.ready("ann")
    call = await phone.call()
    await phone.svc.dialog_action(me("ann"), call, "ANSWER")
    await phone.svc.set_state(me("ann"), "ann", "NOT_READY", 2)  # mid-call: pending (§1.4)
    ann = await phone.svc.get_agent(ADMIN, "ann")
    assert (ann.state, ann.pendingState) == ("TALKING", "NOT_READY")
    phone.move_to(30)
    await phone.svc.dialog_action(me("ann"), call, "DROP")
    assert await phone.state("ann") == "WORK"
    await phone.svc.tick(phone.at(30 + WRAP_S))
    ann = await phone.svc.get_agent(ADMIN, "ann")
    assert ann.state == "NOT_READY" and ann.reasonCodeId == 2


async def test_leaving_wrap_up_early_ends_the_call_record(phone: Phone) -> None:
    await phone.ready("ann")
    call = await phone.call()
    await phone.svc.dialog_action(me("ann"), call, "ANSWER")
    await phone.svc.dialog_action(me("ann"), call, "UPDATE_CALL_DATA", wrap_up_reason="Billing question")
    await phone.svc.dialog_action(me("ann"), call, "DROP")
    await phone.svc.set_state(me("ann"), "ann", "READY")
    assert await phone.state("ann") == "READY"
    dialog = await phone.dialog(call)
    assert dialog.state == "DROPPED" and dialog.mediaProperties.wrapUpReason == "Billing question"


# --------------------------------------------------------------------------------------------------
# The asynchronous error contract (§1.1, §1.2)
# --------------------------------------------------------------------------------------------------


async def test_an_illegal_transition_is_one_error_event_and_no_state_change(phone: Phone) -> None:
    await phone.ready("ann")
    before = await phone.svc.get_agent(ADMIN, "ann")
    mark = await phone.mark()
    phone.move_to(5)
    await phone.svc.set_state(me("ann"), "ann", "LOGOUT", 21, request_id="r-42")  # CCE: only from NOT_READY
    after = await phone.svc.get_agent(ADMIN, "ann")
    assert after == before
    published = await phone.events(after=mark)
    assert [e.subject for e in published] == [ev.AGENT_ERROR]
    error = published[0].data
    assert (error["agentId"], error["errorType"], error["currentState"]) == ("ann", "Invalid State", "READY")
    assert error["requestId"] == "r-42"


@pytest.mark.parametrize(
    ("extension", "error_type"),
    [("1009", "Invalid Device"), ("5555", "Invalid Device"), ("1002", "Device Busy")],
    ids=["offline", "unknown", "in-use"],
)
async def test_an_unusable_extension_is_exactly_one_error_event(
    phone: Phone, extension: str, error_type: str
) -> None:
    await phone.svc.sign_in(me("bob"), "bob", "1002")
    mark = await phone.mark()
    await phone.svc.sign_in(me("ann"), "ann", extension)
    published = await phone.events(after=mark)
    assert [e.subject for e in published] == [ev.AGENT_ERROR]
    assert published[0].data["errorType"] == error_type
    if error_type == "Invalid Device":
        assert published[0].data["errorMessage"] == "CF_INVALID_LOGON_DEVICE_SPECIFIED"
        assert published[0].data["peripheralErrorCode"] == "10125"
    ann = await phone.svc.get_agent(ADMIN, "ann")
    assert (ann.state, ann.extension) == ("LOGOUT", "")


async def test_sign_in_claims_the_device_and_sign_out_frees_it(phone: Phone) -> None:
    await phone.svc.sign_in(me("ann"), "ann", "1001")
    await phone.svc.sign_in(me("ann"), "ann", "1001")  # forced re-sign-in keeps the state
    assert await phone.state("ann") == "NOT_READY"
    async with phone.db.session() as session:
        assert (await session.get(TelDevice, "1001")).in_use_by == "ann"  # type: ignore[union-attr]
    await phone.svc.set_state(me("ann"), "ann", "LOGOUT", 21)
    async with phone.db.session() as session:
        assert (await session.get(TelDevice, "1001")).in_use_by is None  # type: ignore[union-attr]
    await phone.svc.sign_in(me("bob"), "bob", "1001")
    assert await phone.state("bob") == "NOT_READY"


async def test_malformed_requests_are_synchronous_400s_naming_the_field(phone: Phone) -> None:
    await phone.svc.sign_in(me("ann"), "ann", "1001")
    mark = await phone.mark()
    cases = [
        (phone.svc.set_state(me("ann"), "ann", "NOT_READY"), "reasonCodeId"),  # required (§1.5)
        (phone.svc.set_state(me("ann"), "ann", "NOT_READY", 99), "reasonCodeId"),
        (phone.svc.set_state(me("ann"), "ann", "READY", 1), "reasonCodeId"),
        (phone.svc.set_state(me("ann"), "ann", "SLEEPING"), "state"),
        (phone.svc.sign_in(me("bob"), "bob", "10a1"), "extension"),
        (phone.svc.sign_in(me("bob"), "bob", ""), "extension"),
        (phone.svc.inbound_call(LEAD, CALLER, "Nowhere"), "queue"),
        (phone.svc.set_state(LEAD, "ann", "NOT_READY", 1), "reasonCodeId"),  # supervisors give none
    ]
    for attempt, field in cases:
        with pytest.raises(BadRequest) as info:
            await attempt
        assert info.value.field == field
    assert await phone.events(after=mark) == []


# --------------------------------------------------------------------------------------------------
# Who may act
# --------------------------------------------------------------------------------------------------


async def test_csrs_act_on_themselves_leads_on_their_team_admins_on_anyone(phone: Phone) -> None:
    with pytest.raises(Forbidden):
        await phone.svc.sign_in(me("ann"), "bob", "1002")
    with pytest.raises(Forbidden):
        await phone.svc.sign_in(Actor("lou", "lead"), "ann", "1001")  # not lou's team
    with pytest.raises(NotFound):
        await phone.svc.get_agent(ADMIN, "nobody")
    with pytest.raises(Forbidden):
        await phone.svc.inbound_call(me("ann"), CALLER, "Billing")
    await phone.svc.sign_in(LEAD, "ann", "1001")
    await phone.svc.set_state(LEAD, "ann", "READY")
    await phone.svc.set_state(LEAD, "ann", "NOT_READY")  # a supervisor's NOT_READY records 999 (§1.4)
    ann = await phone.svc.get_agent(me("ann"), "ann")
    assert ann.state == "NOT_READY" and ann.reasonCode is not None and ann.reasonCode.code == 999
    assert [a.loginId for a in await phone.svc.list_agents(LEAD)] == ["ann", "bob", "cat", "lee"]
    assert [a.loginId for a in await phone.svc.list_agents(me("bob"))] == ["bob"]
    assert ann.teamName == "Billing desk" and ann.roles == ["Agent"]


async def test_only_participants_and_leads_see_a_call_and_act_on_it(phone: Phone) -> None:
    await phone.ready("ann")
    await phone.svc.sign_in(me("bob"), "bob", "1002")
    call = await phone.call()
    with pytest.raises(Forbidden):
        await phone.svc.get_dialog(me("bob"), call)
    with pytest.raises(Forbidden):
        await phone.svc.dialog_action(me("bob"), call, "ANSWER", target="1001")
    with pytest.raises(BadRequest) as info:
        await phone.svc.dialog_action(me("bob"), call, "ANSWER")  # bob's own extension is not on it
    assert info.value.field == "targetMediaAddress"
    with pytest.raises(NotFound):
        await phone.svc.dialog_action(me("ann"), "no-such-call", "ANSWER")
    assert (await phone.svc.get_dialog(me("ann"), call)).state == "ALERTING"
    await phone.svc.dialog_action(LEAD, call, "ANSWER", target="1001")  # a lead for a team agent
    assert await phone.state("ann") == "TALKING"


# --------------------------------------------------------------------------------------------------
# Calls: dialog errors, consult and transfers (§1.7, §4)
# --------------------------------------------------------------------------------------------------


async def test_an_action_the_call_state_does_not_allow_is_an_error_event(phone: Phone) -> None:
    await phone.ready("ann")
    call = await phone.call()
    mark = await phone.mark()
    await phone.svc.dialog_action(me("ann"), call, "HOLD", request_id="h1")  # still ringing
    published = await phone.events(after=mark)
    assert [e.subject for e in published] == [ev.AGENT_ERROR]
    error = published[0].data
    assert (error["errorType"], error["action"], error["dialogId"]) == ("Generic Error", "HOLD", call)
    assert await phone.state("ann") == "RESERVED"


async def test_warm_transfer_to_another_agent(phone: Phone) -> None:
    await phone.ready("ann")
    call = await phone.call()
    await phone.svc.dialog_action(me("ann"), call, "ANSWER")
    await phone.ready("bob")
    await phone.svc.dialog_action(me("ann"), call, "CONSULT_CALL", to_address="1002")
    assert (await phone.state("ann"), await phone.state("bob")) == ("TALKING", "RESERVED")
    consult_id = (await phone.svc.agent_dialogs(me("bob"), "bob"))[0].id
    await phone.svc.dialog_action(me("bob"), consult_id, "ANSWER")
    await phone.svc.dialog_action(me("ann"), consult_id, "TRANSFER")  # requested on the consult leg
    assert (await phone.state("ann"), await phone.state("bob")) == ("WORK_READY", "TALKING")
    survivor = await phone.dialog(call)
    assert survivor.state == "ACTIVE" and survivor.toAddress == "1002"
    assert (await phone.dialog(consult_id)).state == "DROPPED"


async def test_consulting_a_busy_agent_is_an_error_event(phone: Phone) -> None:
    await phone.ready("ann")
    call = await phone.call()
    await phone.svc.dialog_action(me("ann"), call, "ANSWER")
    await phone.svc.sign_in(me("bob"), "bob", "1002")  # NOT_READY
    mark = await phone.mark()
    await phone.svc.dialog_action(me("ann"), call, "CONSULT_CALL", to_address="1002")
    assert [e.subject for e in await phone.events(after=mark)] == [ev.AGENT_ERROR]
    assert await phone.state("ann") == "TALKING"
    with pytest.raises(BadRequest) as info:
        await phone.svc.dialog_action(me("ann"), call, "CONSULT_CALL", to_address="9999999")
    assert info.value.field == "toAddress"


async def test_blind_transfer_to_a_queue_is_routed_again(phone: Phone) -> None:
    await phone.ready("ann")
    call = await phone.call()
    await phone.svc.dialog_action(me("ann"), call, "ANSWER")
    phone.move_to(20)
    await phone.svc.dialog_action(me("ann"), call, "TRANSFER_SST", to_address="Outage")
    assert await phone.state("ann") == "WORK_READY"
    assert await phone.routing(call) == ("WAITING", 5)
    await phone.ready("dan")
    assert await phone.ringing_at(call) == "dan"
    assert (await phone.dialog(call)).mediaProperties.queueName == "Outage"


async def test_single_step_transfer_to_an_outside_number_from_the_directory(phone: Phone) -> None:
    await phone.ready("ann")
    call = await phone.call()
    await phone.svc.dialog_action(me("ann"), call, "ANSWER")
    with pytest.raises(BadRequest) as info:
        await phone.svc.dialog_action(me("ann"), call, "TRANSFER_SST", to_address="3105550199")
    assert info.value.field == "toAddress"  # not in the directory
    await phone.svc.dialog_action(me("ann"), call, "TRANSFER_SST", to_address="City 311")
    assert await phone.state("ann") == "WORK_READY"
    far_end = next(p for p in (await phone.dialog(call)).participants if p.mediaAddress == "2135550111")
    assert (far_end.mediaAddressType, far_end.state) == ("EXTERNAL", "ALERTING")
    # The phone system reports the agency picking up, then the caller hanging up.
    await phone.svc.dialog_action(LEAD, call, "ANSWER", target="2135550111")
    await phone.svc.dialog_action(LEAD, call, "DROP", target=CALLER)
    assert (await phone.dialog(call)).state == "DROPPED"
    assert await phone.events(ev.DIALOG_ENDED) == []  # ann's WRAP_UP leg keeps the call record open
    with pytest.raises(Conflict):
        await phone.svc.dialog_action(LEAD, call, "ANSWER", target=CALLER)
    await phone.svc.set_state(me("ann"), "ann", "READY")
    assert [e.data["dialog"]["id"] for e in await phone.events(ev.DIALOG_ENDED)] == [call]


async def test_a_caller_abandoning_in_queue_ends_the_call(phone: Phone) -> None:
    call = await phone.call()
    await phone.svc.dialog_action(SYSTEM, call, "DROP", target=CALLER)
    assert (await phone.dialog(call)).state == "DROPPED"
    assert await phone.routing(call) == (None, 5)
    assert [e.data["cause"] for e in await phone.events(ev.DIALOG_ENDED)] == ["PARTY_DISCONNECTED"]


# --------------------------------------------------------------------------------------------------
# Extension point and shared state
# --------------------------------------------------------------------------------------------------


async def test_the_screen_pop_callback_gets_the_inbound_dialog(phone: Phone) -> None:
    seen: list[DialogSnapshot] = []

    async def on_inbound(snapshot: DialogSnapshot) -> None:
        seen.append(snapshot)
        raise RuntimeError("the contact layer failed")  # must not undo the call

    phone.svc.on_inbound = on_inbound
    call = await phone.call()
    assert [(s.id, s.fromAddress) for s in seen] == [(call, CALLER)]
    assert (await phone.dialog(call)).id == call


async def test_two_services_on_one_database_share_all_state(phone: Phone) -> None:
    other = TelephonyService(
        db=phone.svc.db, events=phone.svc.events, clock=phone.clock, config=phone.svc.config
    )
    await phone.ready("ann")
    call = await other.inbound_call(LEAD, CALLER, "Billing")
    assert await phone.ringing_at(call) == "ann"
    assert await other.tick(phone.at(RONA_S)) == 1
    assert await phone.state("ann") == "NOT_READY"


def test_config_rejects_inconsistent_values() -> None:
    bad = [
        {"extensions": [{"extension": "1001"}, {"extension": "1001"}]},
        {"queues": [{"name": "Q", "number": "1001"}], "extensions": [{"extension": "1001"}]},
        {"not_ready_reasons": [{"code": 1, "label": "A"}, {"code": 2, "label": "A"}]},
        {"teams": {"a": {"agents": ["x"]}, "b": {"agents": ["x"]}}},
        {"unknown": 1},
    ]
    for raw in bad:
        with pytest.raises(msgspec.ValidationError):
            msgspec.convert(raw, TelephonyConfig)
    assert msgspec.convert({}, TelephonyConfig).rona_seconds == 15


@pytest.mark.postgres
async def test_processes_racing_on_postgresql_never_double_book(postgres_url: str) -> None:
    """Four services (as four hub processes) on one PostgreSQL database, READY requests and inbound calls
    all at once: every READY agent rings with exactly one call, the rest wait, nothing fails."""
    migrate = threading.Thread(target=upgrade, args=(postgres_url,))
    migrate.start()
    migrate.join()
    clock = ManualClock(T0)
    config = msgspec.convert({**CONFIG, "teams": {"all": {"agents": list(EXTENSION)}}}, TelephonyConfig)
    dbs = [Database(postgres_url) for _ in range(4)]
    catalogue = EventCatalogue()
    for et in ev.EVENT_TYPES:
        catalogue.register(et.subject, et.payload, "telephony")
    services = [
        TelephonyService(
            db=db, events=EventWriter(catalogue, clock, "telephony", lambda: None), clock=clock, config=config
        )
        for db in dbs
    ]
    try:
        await services[0].sync_devices()
        for name, extension in EXTENSION.items():
            await services[0].sign_in(me(name), name, extension)
        jobs: list[Awaitable[Any]] = [
            services[i].set_state(me(name), name, "READY") for i, name in enumerate(EXTENSION)
        ]
        jobs += [services[i % 4].inbound_call(LEAD, CALLER, "Outage") for i in range(7)]
        results = await asyncio.gather(*jobs, return_exceptions=True)
        assert [r for r in results if isinstance(r, BaseException)] == []
        async with dbs[0].session() as session:
            dialogs = (await session.scalars(select(TelDialog))).all()
            states = (await session.scalars(select(TelAgent.state))).all()
        ringing = [d.ringing_agent_id or "" for d in dialogs if d.routing == "RINGING"]
        assert sorted(ringing) == sorted(EXTENSION)  # each agent once, without waiting for a tick
        assert sum(d.routing == "WAITING" for d in dialogs) == 3
        assert set(states) == {"RESERVED"}
    finally:
        for db in dbs:
            await db.dispose()
