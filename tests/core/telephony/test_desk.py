"""The telephony part's desk (the contract's ``PhoneDesk``) on a real database with a manual clock: state
requests made as the agent keep the reason code, outright refusals name the field, the recorded inbound
calls a forecast reads (spans, queue, handle time), and the handle time measured from stored dialogs."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest

from core.clock import ManualClock
from core.contract import PluginContext
from core.contract.phone import AgentState, PhoneDesk, PhoneRefused, RecordedCall
from core.db import Database
from core.outbox import EventCatalogue, EventWriter
from core.telephony import dialogs as dl
from core.telephony import events as ev
from core.telephony.deps import service_of
from core.telephony.desk import TelephonyDesk, handle_seconds
from core.telephony.service import SYSTEM, TelephonyConfig, TelephonyService
from tests.core.telephony.test_phone_service import CALLER, CONFIG, EXTENSION, LEAD, T0, me


@dataclass
class Desk:
    desk: TelephonyDesk
    svc: TelephonyService
    clock: ManualClock

    async def take_call(self, at: float, queue: str = "Billing", talk: float = 120, wrap: float = 30) -> str:
        """A call arrives ``at`` seconds after T0 and ann (READY) answers at once, talks, then wraps up."""
        self.clock.set(T0 + dt.timedelta(seconds=at))
        dialog_id = await self.svc.inbound_call(SYSTEM, CALLER, queue)
        await self.svc.dialog_action(me("ann"), dialog_id, "ANSWER")
        self.clock.set(T0 + dt.timedelta(seconds=at + talk))
        await self.svc.dialog_action(me("ann"), dialog_id, "DROP")
        self.clock.set(T0 + dt.timedelta(seconds=at + talk + wrap))
        await self.svc.set_state(me("ann"), "ann", "READY")  # leaves wrap-up: the call's record ends here
        return dialog_id


@pytest.fixture
async def desk(hub_database_url: str) -> AsyncIterator[Desk]:
    clock = ManualClock(T0)
    db = Database(hub_database_url)
    catalogue = EventCatalogue()
    for et in ev.EVENT_TYPES:
        catalogue.register(et.subject, et.payload, "telephony")
    ctx = PluginContext(
        plugin_id="telephony",
        config=msgspec.convert(CONFIG, TelephonyConfig),
        db=db,
        bus=None,  # type: ignore[arg-type]
        events=EventWriter(catalogue, clock, "telephony", lambda: None),
        audit=None,  # type: ignore[arg-type]
        mail=None,  # type: ignore[arg-type]
        clock=clock,
        ccb=None,  # type: ignore[arg-type]
        streams=None,  # type: ignore[arg-type]
        log=logging.getLogger("telephony"),
    )
    svc = service_of(ctx)
    await svc.sync_devices()
    try:
        yield Desk(TelephonyDesk(ctx), svc, clock)
    finally:
        await db.dispose()


def test_the_desk_is_the_contracts_phone_desk(desk: Desk) -> None:
    assert isinstance(desk.desk, PhoneDesk)


async def test_a_break_as_the_agent_keeps_its_reason_code(desk: Desk) -> None:
    await desk.svc.sign_in(me("ann"), "ann", EXTENSION["ann"])
    assert await desk.desk.agent("ann") == AgentState(agent_id="ann", state="NOT_READY")
    after = await desk.desk.set_agent_state("ann", "NOT_READY", 2)
    assert after == AgentState(agent_id="ann", state="NOT_READY", reason_code_id=2)
    assert (await desk.svc.get_agent(LEAD, "ann")).reasonCodeId == 2
    assert await desk.desk.set_agent_state("ann", "READY") == AgentState(agent_id="ann", state="READY")


async def test_a_request_while_talking_is_pending(desk: Desk) -> None:
    await desk.svc.sign_in(me("ann"), "ann", EXTENSION["ann"])
    await desk.svc.set_state(me("ann"), "ann", "READY")
    dialog_id = await desk.svc.inbound_call(SYSTEM, CALLER, "Billing")
    await desk.svc.dialog_action(me("ann"), dialog_id, "ANSWER")
    after = await desk.desk.set_agent_state("ann", "NOT_READY", 1)
    assert (after.state, after.pending_state) == ("TALKING", "NOT_READY")


async def test_a_change_refused_later_is_no_exception_but_does_not_show(desk: Desk) -> None:
    # bob never signed in: the request is accepted, then refused asynchronously; he stays LOGOUT.
    assert (await desk.desk.set_agent_state("bob", "READY")).state == "LOGOUT"


@pytest.mark.parametrize(
    ("agent_id", "state", "code", "field", "message"),
    [
        ("ann", "DANCING", None, "state", "unknown state"),
        ("ghost", "READY", None, "state", "no agent 'ghost'"),
        ("ann", "NOT_READY", 99, "reasonCodeId", ""),
    ],
)
async def test_outright_refusals_name_the_field(
    desk: Desk, agent_id: str, state: str, code: int | None, field: str, message: str
) -> None:
    await desk.svc.sign_in(me("ann"), "ann", EXTENSION["ann"])
    with pytest.raises(PhoneRefused) as refused:
        await desk.desk.set_agent_state(agent_id, state, code)
    assert refused.value.field == field and message in refused.value.message
    with pytest.raises(PhoneRefused, match="no agent"):
        await desk.desk.agent("ghost")


async def test_recorded_calls_in_spans_and_queues_with_their_handle_time(desk: Desk) -> None:
    await desk.svc.sign_in(me("ann"), "ann", EXTENSION["ann"])
    await desk.svc.set_state(me("ann"), "ann", "READY")
    await desk.svc.sign_in(me("dan"), "dan", EXTENSION["dan"])
    await desk.take_call(0, talk=120, wrap=30)
    await desk.take_call(600, talk=200, wrap=40)
    # ann consults bob on a third call: the consult leg between agents is no offered traffic.
    desk.clock.set(T0 + dt.timedelta(seconds=1200))
    third = await desk.svc.inbound_call(SYSTEM, CALLER, "Billing")
    await desk.svc.dialog_action(me("ann"), third, "ANSWER")
    await desk.svc.sign_in(me("bob"), "bob", EXTENSION["bob"])
    await desk.svc.set_state(me("bob"), "bob", "READY")
    await desk.svc.dialog_action(me("ann"), third, "CONSULT_CALL", to_address=EXTENSION["bob"])
    assert len(await desk.svc.agent_dialogs(me("bob"), "bob")) == 1
    desk.clock.set(T0 + dt.timedelta(seconds=1800))
    await desk.svc.inbound_call(SYSTEM, CALLER, "Outage")  # nobody free (dan is NOT_READY): it waits
    hour = (T0, T0 + dt.timedelta(hours=1))
    calls = sorted(await desk.desk.recorded_calls([hour]), key=lambda c: c.arrived_at)
    at = [T0 + dt.timedelta(seconds=s) for s in (0, 600, 1200, 1800)]
    assert [c.arrived_at for c in calls] == at
    assert [c.handle_seconds for c in calls] == [150.0, 240.0, None, None]  # neither has ended
    assert await desk.desk.recorded_calls([hour], "Outage") == [RecordedCall(at[3])]
    first_ten_minutes = (T0, T0 + dt.timedelta(seconds=600))  # the end is exclusive
    later = (T0 + dt.timedelta(seconds=1500), T0 + dt.timedelta(hours=2))
    found = await desk.desk.recorded_calls([first_ten_minutes, later])
    assert sorted(c.arrived_at for c in found) == [at[0], at[3]]
    assert await desk.desk.recorded_calls([]) == []
    assert await desk.desk.recorded_calls([hour], "Payments") == []


# -- handle times from stored dialogs -----------------------------------------------------------------------
def sec(n: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=n)


def stored(dialog: dl.Dialog) -> Any:
    """The participants as the telephony part stores them (the snapshot column holds builtins)."""
    return msgspec.to_builtins(dialog)["participants"]


def arrival() -> dl.Dialog:
    return dl.inbound_call("d1", "2135550142", "7001", T0, queue_name="Billing")


def test_an_answered_call_with_wrap_up_runs_from_offer_to_wrap_up_end() -> None:
    d = dl.offer(arrival(), "1001", "ana", sec(5)).dialog
    d = dl.answer(d, "1001", sec(8)).dialog
    d = dl.drop(d, "1001", sec(188), wrap_up_for={"ana"}).dialog
    assert handle_seconds(stored(d)) is None  # still wrapping up: the agent's leg has not ended
    d = dl.finish_wrap_up(d, "1001", sec(248)).dialog
    assert d.is_over and handle_seconds(stored(d)) == 243.0  # 3 s ringing + 180 s talk + 60 s wrap-up


def test_a_caller_hanging_up_first_ends_the_agents_leg_too() -> None:
    d = dl.answer(dl.offer(arrival(), "1001", "ana", sec(0)).dialog, "1001", sec(2)).dialog
    d = dl.disconnect(d, "2135550142", sec(302)).dialog
    assert d.is_over and handle_seconds(stored(d)) == 302.0


def test_calls_no_agent_handled_have_no_handle_time() -> None:
    abandoned = dl.disconnect(arrival(), "2135550142", sec(40)).dialog
    assert abandoned.is_over and handle_seconds(stored(abandoned)) is None
    # Rang out at ana (RONA), then the caller gave up waiting: ana's leg ended before the caller left.
    d = dl.ring_no_answer(dl.offer(arrival(), "1001", "ana", sec(1)).dialog, "1001", sec(16)).dialog
    d = dl.disconnect(d, "2135550142", sec(90)).dialog
    assert d.is_over and handle_seconds(stored(d)) is None
    assert handle_seconds("not a participant list") is None
