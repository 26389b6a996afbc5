"""Dialogs: per-state action lists, call lifecycle, consult, warm/blind/single-step transfers, effects.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import pytest

from core.telephony import dialogs as dl
from core.telephony import fsm
from core.telephony.dialogs import (
    ACCEPTED_UNLISTED,
    ADVERTISED_ACTIONS,
    HELD_WITH_ACTIVE_CONSULT,
    Action,
    AddressType,
    AgentEffect,
    Destination,
    Dialog,
    DialogActionError,
    DialogOutcome,
    DialogState,
    Participant,
    ParticipantState,
    StateCause,
)
from core.telephony.fsm import SystemEvent

P = ParticipantState
T0 = datetime(2025, 3, 3, 17, 0, 0, tzinfo=UTC)
CUSTOMER = "2135550142"
AGENCY = "3105550188"  # fictional 555-01xx numbers only
A_EXT, B_EXT = "1001", "1002"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def effects(outcome: DialogOutcome) -> list[tuple[str, SystemEvent]]:
    return [(e.agent_id, e.event) for e in outcome.agent_events]


def assert_actions_match_table(dialogs: Iterable[Dialog]) -> None:
    """§6: every participant's action list equals the §1.7 table for its state."""
    by_id = {d.dialog_id: d for d in dialogs}
    for d in by_id.values():
        for p in d.participants:
            expected = set(ADVERTISED_ACTIONS[p.state])
            other = by_id.get(d.associated_dialog_id or "")
            if (
                p.state is P.HELD
                and other is not None
                and d.call_type is dl.CallType.ACD_IN
                and (leg := other.participant(p.media_address)) is not None
                and leg.state is P.ACTIVE
            ):
                expected |= HELD_WITH_ACTIVE_CONSULT
            assert set(p.actions) == expected, (d.dialog_id, p.media_address, p.state, p.actions)


def new_call(**variables: str) -> Dialog:
    return dl.inbound_call(
        "c1",
        CUSTOMER,
        "8005550100",
        T0,
        queue_number="7001",
        queue_name="Billing",
        call_variables=variables or {"callvariable1": "acct 0042"},
    )


def ringing() -> Dialog:
    return dl.offer(new_call(), A_EXT, "a1", at(1)).dialog


def connected() -> Dialog:
    return dl.answer(ringing(), A_EXT, at(2)).dialog


def consulting(destination: Destination | None = None) -> tuple[Dialog, Dialog]:
    out = dl.consult(connected(), A_EXT, destination or Destination.agent(B_EXT, "b1"), "c2", at(10))
    return out.get("c1"), out.get("c2")


def consult_answered() -> tuple[Dialog, Dialog]:
    original, consult_call = consulting()
    out = dl.answer(consult_call, B_EXT, at(15), associated=original)
    return out.get("c1"), out.get("c2")


# --------------------------------------------------------------------------------------------------
# The §1.7 action table
# --------------------------------------------------------------------------------------------------


def test_advertised_actions_are_the_reference_table() -> None:
    A = Action
    assert ADVERTISED_ACTIONS == {
        P.INITIATING: {A.DROP, A.UPDATE_CALL_DATA},
        P.INITIATED: {A.DROP, A.UPDATE_CALL_DATA},
        P.ALERTING: {A.ANSWER},
        P.ACTIVE: {A.HOLD, A.DROP, A.UPDATE_CALL_DATA, A.CONSULT_CALL},
        P.HELD: {A.RETRIEVE, A.DROP, A.UPDATE_CALL_DATA},
        P.FAILED: {A.DROP},
        P.WRAP_UP: {A.UPDATE_CALL_DATA},
        P.DROPPED: set(),
    }
    assert HELD_WITH_ACTIVE_CONSULT == {A.TRANSFER, A.CONFERENCE}


def _single_leg(state: ParticipantState) -> Dialog:
    leg = Participant(A_EXT, AddressType.AGENT_DEVICE, state, T0, T0, agent_id="a1")
    caller = Participant(CUSTOMER, AddressType.CUSTOMER, P.ACTIVE, T0, T0)
    return Dialog("c9", CUSTOMER, A_EXT, DialogState.ACTIVE, (caller, leg))


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("state", list(ParticipantState))
def test_each_action_is_allowed_exactly_in_its_participant_states(
    state: ParticipantState, action: Action
) -> None:
    dialog = _single_leg(state)
    allowed = ADVERTISED_ACTIONS[state] | ACCEPTED_UNLISTED.get(state, frozenset())
    if action in allowed:
        assert dl.check_action(dialog, A_EXT, action).state is state
    else:
        with pytest.raises(DialogActionError) as info:
            dl.check_action(dialog, A_EXT, action)
        assert info.value.code == fsm.GENERIC_ERROR
        assert info.value.current_state == state.value
        assert info.value.action is action
        assert info.value.synchronous is False  # CTI refusal: arrives as an async error (§1.1)


def test_transfer_and_conference_need_an_answered_consult() -> None:
    original, consult_call = consulting()
    assert Action.TRANSFER not in original.leg(A_EXT).actions  # consult still ringing
    with pytest.raises(DialogActionError):
        dl.check_action(original, A_EXT, Action.TRANSFER, associated=consult_call)
    original, consult_call = consult_answered()
    held = original.leg(A_EXT)
    assert held.state is P.HELD
    assert {Action.TRANSFER, Action.CONFERENCE} <= set(held.actions)
    dl.check_action(original, A_EXT, Action.CONFERENCE, associated=consult_call)
    # The consulted party is ACTIVE, not the controller: no TRANSFER/CONFERENCE for it (§1.7).
    assert Action.CONFERENCE not in consult_call.leg(B_EXT).actions


def test_transfer_sst_is_accepted_on_an_active_call_but_not_advertised() -> None:
    leg = connected().leg(A_EXT)
    assert Action.TRANSFER_SST not in leg.actions
    dl.check_action(connected(), A_EXT, Action.TRANSFER_SST)


def test_non_participant_is_a_synchronous_bad_input() -> None:
    with pytest.raises(DialogActionError) as info:
        dl.check_action(connected(), "1999", Action.DROP)
    error = info.value
    assert (error.code, error.synchronous, error.current_state) == (fsm.INVALID_INPUT, True, None)


# --------------------------------------------------------------------------------------------------
# Inbound call lifecycle (§1.7 CTI mapping)
# --------------------------------------------------------------------------------------------------


def test_inbound_call_offer_answer_hold_retrieve_drop() -> None:
    call = new_call()
    assert (call.state, call.participants[0].state) == (DialogState.INITIATING, P.INITIATING)

    offered = dl.offer(call, A_EXT, "a1", at(1))
    assert offered.dialog.state is DialogState.ALERTING
    assert offered.dialog.leg(A_EXT).actions == (Action.ANSWER,)
    assert effects(offered) == [("a1", SystemEvent.OFFERED)]

    answered = dl.answer(offered.dialog, A_EXT, at(2))
    assert answered.dialog.state is DialogState.ACTIVE
    assert {p.state for p in answered.dialog.participants} == {P.ACTIVE}
    assert effects(answered) == [("a1", SystemEvent.ANSWERED)]

    held = dl.hold(answered.dialog, A_EXT, at(3))
    assert held.dialog.leg(A_EXT).state is P.HELD
    assert held.dialog.state is DialogState.ACTIVE  # HELD is never a dialog state
    assert effects(held) == [("a1", SystemEvent.HELD)]

    back = dl.retrieve(held.dialog, A_EXT, at(4))
    assert effects(back) == [("a1", SystemEvent.RETRIEVED)]

    dropped = dl.drop(back.dialog, A_EXT, at(5))
    assert dropped.dialog.state is DialogState.DROPPED and dropped.dialog.is_over
    assert effects(dropped) == [("a1", SystemEvent.CALL_ENDED)]
    for out in (offered, answered, held, back, dropped):
        assert_actions_match_table(out.dialogs)


def test_customer_hanging_up_ends_the_call() -> None:
    out = dl.disconnect(connected(), CUSTOMER, at(30))
    assert out.dialog.is_over and effects(out) == [("a1", SystemEvent.CALL_ENDED)]


def test_caller_abandoning_while_ringing_returns_the_agent_to_ready() -> None:
    out = dl.disconnect(ringing(), CUSTOMER, at(3))
    assert out.dialog.is_over
    assert effects(out) == [("a1", SystemEvent.RING_CANCELLED)]


def test_a_ringing_leg_pulled_back_leaves_the_caller_waiting() -> None:
    out = dl.disconnect(ringing(), A_EXT, at(3))
    assert effects(out) == [("a1", SystemEvent.RING_CANCELLED)]
    assert out.dialog.leg(CUSTOMER).live and not out.dialog.is_over


def test_rona_drops_the_ringing_leg_and_the_call_can_be_offered_again() -> None:
    out = dl.ring_no_answer(ringing(), A_EXT, at(13))
    assert effects(out) == [("a1", SystemEvent.RONA)]
    assert out.dialog.leg(A_EXT).state is P.DROPPED
    assert out.dialog.leg(CUSTOMER).live
    again = dl.offer(out.dialog, B_EXT, "b1", at(14))
    assert [p.media_address for p in again.dialog.participants] == [CUSTOMER, B_EXT]
    assert effects(again) == [("b1", SystemEvent.OFFERED)]


def test_only_one_offer_at_a_time_and_none_to_an_ended_call() -> None:
    with pytest.raises(DialogActionError):
        dl.offer(ringing(), B_EXT, "b1", at(2))
    with pytest.raises(DialogActionError):
        dl.offer(dl.drop(connected(), A_EXT, at(3)).dialog, B_EXT, "b1", at(4))
    with pytest.raises(DialogActionError):
        dl.ring_no_answer(connected(), A_EXT, at(4))


def test_dropping_while_ringing_is_refused() -> None:
    with pytest.raises(DialogActionError) as info:
        dl.drop(ringing(), A_EXT, at(2))
    assert info.value.current_state == "ALERTING"


# --------------------------------------------------------------------------------------------------
# Consult (§4 warm transfer, first half)
# --------------------------------------------------------------------------------------------------


def test_consult_holds_the_customer_and_opens_a_linked_dialog() -> None:
    out = dl.consult(connected(), A_EXT, Destination.agent(B_EXT, "b1"), "c2", at(10))
    original, consult_call = out.get("c1"), out.get("c2")
    assert original.leg(A_EXT).state is P.HELD
    assert original.leg(CUSTOMER).state is P.ACTIVE
    assert original.associated_dialog_id == "c2" and consult_call.associated_dialog_id == "c1"
    assert consult_call.call_type is dl.CallType.CONSULT
    assert consult_call.leg(A_EXT).state is P.INITIATED
    assert consult_call.leg(B_EXT).state is P.ALERTING
    assert consult_call.variables == {"callvariable1": "acct 0042"}  # consult starts with the call data
    # The consulting agent is still on a call (TALKING); only the consulted agent is offered one.
    assert effects(out) == [("b1", SystemEvent.OFFERED)]
    assert original.to_event_dict()["associatedDialogUri"] == "/finesse/api/Dialog/c2"
    assert_actions_match_table(out.dialogs)


def _held() -> Dialog:
    return dl.hold(connected(), A_EXT, at(3)).dialog


@pytest.mark.parametrize("make", [ringing, _held], ids=["alerting", "held"])
def test_consult_while_alerting_or_held_is_a_generic_error(make: Callable[[], Dialog]) -> None:
    with pytest.raises(DialogActionError) as info:
        dl.consult(make(), A_EXT, Destination.agent(B_EXT, "b1"), "c2", at(10))
    assert info.value.code == fsm.GENERIC_ERROR


def test_consult_needs_a_destination() -> None:
    with pytest.raises(DialogActionError) as info:
        dl.consult(connected(), A_EXT, Destination.external(""), "c2", at(10))
    assert (info.value.code, info.value.synchronous) == (fsm.PARAMETER_MISSING, True)


def test_cancelling_a_consult_leaves_the_customer_on_hold() -> None:
    original, consult_call = consult_answered()
    out = dl.drop(consult_call, A_EXT, at(20), associated=original)
    original, consult_call = out.get("c1"), out.get("c2")
    assert consult_call.is_over
    assert original.associated_dialog_id is None
    assert original.leg(A_EXT).actions == (Action.RETRIEVE, Action.DROP, Action.UPDATE_CALL_DATA)
    assert effects(out) == [("a1", SystemEvent.HELD), ("b1", SystemEvent.CALL_ENDED)]
    back = dl.retrieve(original, A_EXT, at(21))
    assert effects(back) == [("a1", SystemEvent.RETRIEVED)]


def test_busy_consult_fails_and_the_agent_retrieves_the_customer() -> None:
    original, consult_call = consulting(Destination.external(AGENCY))
    failed = dl.fail(consult_call, AGENCY, StateCause.BUSY, at(12), associated=original)
    consult_call = failed.get("c2")
    mine = consult_call.leg(A_EXT)
    assert (mine.state, mine.state_cause, mine.actions) == (P.FAILED, StateCause.BUSY, (Action.DROP,))
    assert consult_call.state is DialogState.FAILED
    assert consult_call.to_event_dict()["participants"][0]["stateCause"] == "BUSY"
    assert effects(failed) == []
    dropped = dl.drop(consult_call, A_EXT, at(14), associated=failed.get("c1"))
    assert effects(dropped) == [("a1", SystemEvent.HELD)]
    assert_actions_match_table(dropped.dialogs)


def test_retrieving_the_customer_during_a_consult_holds_the_consult_leg() -> None:
    original, consult_call = consult_answered()
    out = dl.retrieve(original, A_EXT, at(20), associated=consult_call)
    assert out.get("c1").leg(A_EXT).state is P.ACTIVE
    assert out.get("c2").leg(A_EXT).state is P.HELD
    assert effects(out) == []
    # TRANSFER/CONFERENCE after the original was retrieved: Generic Error (§1.7).
    with pytest.raises(DialogActionError) as info:
        dl.transfer(out.get("c1"), out.get("c2"), A_EXT, at(21))
    assert info.value.code == fsm.GENERIC_ERROR
    with pytest.raises(DialogActionError):
        dl.transfer(out.get("c2"), out.get("c1"), A_EXT, at(21))


def test_operations_on_a_linked_dialog_need_its_partner() -> None:
    _, consult_call = consulting()
    with pytest.raises(ValueError):
        dl.answer(consult_call, B_EXT, at(12))
    with pytest.raises(ValueError):
        dl.hold(connected(), A_EXT, at(12), associated=consult_call)


# --------------------------------------------------------------------------------------------------
# Transfers (§4)
# --------------------------------------------------------------------------------------------------


def test_warm_transfer_connects_the_customer_to_the_consulted_agent() -> None:
    original, consult_call = consult_answered()
    out = dl.transfer(original, consult_call, A_EXT, at(30))
    survivor, closed = out.get("c1"), out.get("c2")
    assert survivor.leg(A_EXT).state is P.DROPPED
    assert survivor.leg(CUSTOMER).state is P.ACTIVE
    assert survivor.leg(B_EXT).state is P.ACTIVE
    assert survivor.to_address == B_EXT and survivor.from_address == CUSTOMER
    assert survivor.associated_dialog_id is None and survivor.state is DialogState.ACTIVE
    assert closed.is_over
    assert effects(out) == [("a1", SystemEvent.CALL_ENDED)]  # B stays TALKING
    assert_actions_match_table(out.dialogs)


def test_transfer_without_a_consult_call_is_a_generic_error() -> None:
    held = dl.hold(connected(), A_EXT, at(5)).dialog
    with pytest.raises(DialogActionError) as info:
        dl.transfer(held, None, A_EXT, at(6))
    assert info.value.code == fsm.GENERIC_ERROR
    unrelated = dl.inbound_call("c7", "3235550111", "8005550100", T0)
    with pytest.raises(DialogActionError):
        dl.transfer(held, unrelated, A_EXT, at(6))


def test_transfer_before_the_consult_is_answered_is_refused() -> None:
    original, consult_call = consulting()
    with pytest.raises(DialogActionError):
        dl.transfer(original, consult_call, A_EXT, at(12))


def test_warm_transfer_into_wrap_up_keeps_the_agent_on_the_call_record() -> None:
    original, consult_call = consult_answered()
    out = dl.transfer(original, consult_call, A_EXT, at(30), wrap_up_for={"a1"})
    survivor = out.get("c1")
    leg = survivor.leg(A_EXT)
    assert (leg.state, leg.actions) == (P.WRAP_UP, (Action.UPDATE_CALL_DATA,))
    assert out.get("c2").leg(A_EXT).state is P.DROPPED  # the consult leg is simply over
    reasons = fsm.WrapUpReasonList([fsm.WrapUpReason("Billing question")])
    updated = dl.update_call_data(survivor, A_EXT, wrap_up_reason="Billing question", wrap_up_reasons=reasons)
    assert updated.dialog.wrap_up_reason == "Billing question"
    assert updated.dialog.to_event_dict()["mediaProperties"]["wrapUpReason"] == "Billing question"
    done = dl.finish_wrap_up(updated.dialog, A_EXT, at(60))
    assert done.dialog.leg(A_EXT).state is P.DROPPED
    assert not done.dialog.is_over  # customer and B are still talking


def test_conference_keeps_everyone_and_respects_the_party_limit() -> None:
    original, consult_call = consult_answered()
    out = dl.conference(original, consult_call, A_EXT, at(30))
    joined = out.get("c1")
    assert {p.media_address: p.state for p in joined.participants} == {
        CUSTOMER: P.ACTIVE,
        A_EXT: P.ACTIVE,
        B_EXT: P.ACTIVE,
    }
    assert out.get("c2").is_over and effects(out) == []
    with pytest.raises(DialogActionError):
        dl.conference(original, consult_call, A_EXT, at(30), max_parties=2)
    # One party leaving a three-way call does not end it.
    left = dl.drop(joined, B_EXT, at(40))
    assert not left.dialog.is_over and effects(left) == [("b1", SystemEvent.CALL_ENDED)]


def test_blind_transfer_to_an_agent() -> None:
    out = dl.blind_transfer(connected(), A_EXT, Destination.agent(B_EXT, "b1"), at(20))
    dialog = out.dialog
    assert dialog.leg(A_EXT).state is P.DROPPED  # the transferring agent leaves at once
    assert dialog.leg(B_EXT).state is P.ALERTING
    assert dialog.leg(CUSTOMER).state is P.ACTIVE
    assert dialog.state is DialogState.ALERTING and dialog.to_address == B_EXT
    assert effects(out) == [("a1", SystemEvent.CALL_ENDED), ("b1", SystemEvent.OFFERED)]
    answered = dl.answer(dialog, B_EXT, at(25))
    assert effects(answered) == [("b1", SystemEvent.ANSWERED)]
    # Internal destinations keep RONA protection (§4): an unanswered transfer can be requeued.
    assert effects(dl.ring_no_answer(dialog, B_EXT, at(32))) == [("b1", SystemEvent.RONA)]


def test_blind_transfer_to_a_queue_waits_for_routing() -> None:
    out = dl.blind_transfer(connected(), A_EXT, Destination.queue("7002", "Payment arrangements"), at(20))
    dialog = out.dialog
    assert (dialog.queue_number, dialog.queue_name) == ("7002", "Payment arrangements")
    assert dialog.to_address == "7002"
    assert [p.media_address for p in dialog.participants if p.live] == [CUSTOMER]
    assert effects(out) == [("a1", SystemEvent.CALL_ENDED)]
    routed = dl.offer(dialog, B_EXT, "b1", at(40))
    assert effects(routed) == [("b1", SystemEvent.OFFERED)]


def test_single_step_transfer_to_an_outside_agency() -> None:
    out = dl.single_step_transfer(connected(), A_EXT, AGENCY, at(20))
    dialog = out.dialog
    far_end = dialog.leg(AGENCY)
    assert (far_end.state, far_end.address_type, far_end.agent_id) == (P.ALERTING, AddressType.EXTERNAL, None)
    assert dialog.leg(A_EXT).state is P.DROPPED
    assert effects(out) == [("a1", SystemEvent.CALL_ENDED)]  # an outside number has no agent state
    picked_up = dl.answer(dialog, AGENCY, at(26))
    assert picked_up.dialog.state is DialogState.ACTIVE and effects(picked_up) == []
    # A failure after completion is invisible to the agent: no agent event at all.
    failed = dl.fail(dialog, AGENCY, StateCause.BAD_DESTINATION, at(26))
    assert failed.dialog.state is DialogState.FAILED and effects(failed) == []


@pytest.mark.parametrize(
    "transfer",
    [
        lambda d: dl.blind_transfer(d, A_EXT, Destination.agent(B_EXT, "b1"), at(5)),
        lambda d: dl.single_step_transfer(d, A_EXT, AGENCY, at(5)),
    ],
    ids=["blind", "single-step"],
)
def test_single_step_transfers_need_an_answered_active_call(
    transfer: Callable[[Dialog], DialogOutcome],
) -> None:
    for dialog in (ringing(), _held()):
        with pytest.raises(DialogActionError) as info:
            transfer(dialog)
        assert info.value.code == fsm.GENERIC_ERROR


def test_single_step_transfer_policies_and_bad_destinations() -> None:
    with pytest.raises(DialogActionError) as info:
        dl.single_step_transfer(connected(), A_EXT, AGENCY, at(5), allow_offnet_to_offnet=False)
    assert info.value.code == fsm.GENERIC_ERROR and "off-net" in info.value.message
    with pytest.raises(DialogActionError) as info:
        dl.single_step_transfer(connected(), A_EXT, "", at(5))
    assert info.value.code == fsm.PARAMETER_MISSING
    with pytest.raises(DialogActionError) as info:
        dl.single_step_transfer(connected(), A_EXT, A_EXT, at(5))
    assert info.value.code == dl.INVALID_DESTINATION
    with pytest.raises(ValueError):
        dl.blind_transfer(connected(), A_EXT, Destination.external(AGENCY), at(5))


# --------------------------------------------------------------------------------------------------
# Call data and events
# --------------------------------------------------------------------------------------------------


def test_update_call_data_validates_names_reasons_and_state() -> None:
    extra = {"callvariable2": "outage", "user.premise": "P-9"}
    out = dl.update_call_data(connected(), A_EXT, call_variables=extra)
    assert out.dialog.variables == {"callvariable1": "acct 0042", **extra}
    assert out.agent_events == ()
    with pytest.raises(DialogActionError) as info:
        dl.update_call_data(connected(), A_EXT, call_variables={"callvariable11": "x"})
    assert info.value.code == fsm.INVALID_INPUT
    reasons = fsm.WrapUpReasonList([fsm.WrapUpReason("Billing question")])
    with pytest.raises(DialogActionError):
        dl.update_call_data(connected(), A_EXT, wrap_up_reason="Nope", wrap_up_reasons=reasons)
    with pytest.raises(DialogActionError) as info:
        dl.update_call_data(ringing(), A_EXT, call_variables={"callvariable2": "x"})
    assert info.value.code == fsm.GENERIC_ERROR


def test_dialog_event_dict_is_camel_case_with_utc_times() -> None:
    event = connected().to_event_dict()
    assert {
        "id",
        "associatedDialogUri",
        "mediaType",
        "fromAddress",
        "toAddress",
        "state",
        "mediaProperties",
        "participants",
    } <= set(event)
    assert event["fromAddress"] == CUSTOMER and event["state"] == "ACTIVE"
    props = event["mediaProperties"]
    assert (props["queueNumber"], props["queueName"]) == ("7001", "Billing")
    assert props["dialedNumber"] == "8005550100"
    assert props["callvariables"] == [{"name": "callvariable1", "value": "acct 0042"}]
    agent_leg = next(p for p in event["participants"] if p["mediaAddress"] == A_EXT)
    assert agent_leg["startTime"] == "2025-03-03T17:00:01.000Z"
    assert agent_leg["stateChangeTime"] == "2025-03-03T17:00:02.000Z"
    assert agent_leg["actions"] == ["HOLD", "DROP", "CONSULT_CALL", "UPDATE_CALL_DATA"]
    assert datetime.fromisoformat(agent_leg["stateChangeTime"]).utcoffset() == timedelta(0)


# --------------------------------------------------------------------------------------------------
# Dialog effects drive the agent state machine end to end
# --------------------------------------------------------------------------------------------------


def test_warm_transfer_end_to_end_with_agent_states() -> None:
    devices = fsm.DeviceRegistry.of(fsm.Device(A_EXT), fsm.Device(B_EXT))
    codes = fsm.ReasonCodeCatalog()
    wrap = fsm.WrapUpSettings(fsm.WrapUpMode.REQUIRED, fsm.WrapUpMode.REQUIRED, 45)
    agents: dict[str, fsm.Agent] = {}
    for agent_id, ext in (("a1", A_EXT), ("b1", B_EXT)):
        signed = fsm.sign_in(fsm.Agent.signed_out(agent_id, T0, wrap_up=wrap), ext, devices, T0)
        assert isinstance(signed, fsm.Agent)
        agents[agent_id] = fsm.request_state(signed, fsm.AgentState.READY, None, T0, codes)

    def apply(outcome: DialogOutcome, now: datetime) -> None:
        for effect in outcome.agent_events:
            assert isinstance(effect, AgentEffect)
            agents[effect.agent_id] = fsm.system_event(agents[effect.agent_id], effect.event, now)

    out = dl.offer(new_call(), A_EXT, "a1", at(1))
    apply(out, at(1))
    out = dl.answer(out.dialog, A_EXT, at(3))
    apply(out, at(3))
    assert agents["a1"].state is fsm.AgentState.TALKING
    out = dl.consult(out.dialog, A_EXT, Destination.agent(B_EXT, "b1"), "c2", at(60))
    apply(out, at(60))
    assert (agents["a1"].state, agents["b1"].state) == (fsm.AgentState.TALKING, fsm.AgentState.RESERVED)
    out = dl.answer(out.get("c2"), B_EXT, at(64), associated=out.get("c1"))
    apply(out, at(64))
    out = dl.transfer(out.get("c1"), out.get("c2"), A_EXT, at(90), wrap_up_for={"a1"})
    apply(out, at(90))
    assert agents["a1"].state is fsm.AgentState.WORK_READY
    assert agents["b1"].state is fsm.AgentState.TALKING
    out = dl.drop(out.get("c1"), B_EXT, at(200))
    apply(out, at(200))
    assert agents["b1"].state is fsm.AgentState.WORK_READY
    assert fsm.system_event(agents["a1"], SystemEvent.WRAP_UP_EXPIRED, at(135)).state is fsm.AgentState.READY
