"""Agent state machine: the §1.4 table, reason codes, sign-in, pending state, wrap-up and event snapshots.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.telephony import fsm
from core.telephony.fsm import (
    AGENT_REQUESTABLE,
    LEGAL_AGENT_TRANSITIONS,
    SIGN_IN_TRANSITIONS,
    SYSTEM_TRANSITIONS,
    TRANSITION_TABLE,
    Agent,
    AgentState,
    Device,
    DeviceError,
    DeviceRegistry,
    DeviceStatus,
    Platform,
    ReasonCategory,
    ReasonCode,
    ReasonCodeCatalog,
    SystemEvent,
    TransitionError,
    Trigger,
    WrapUpMode,
    WrapUpReason,
    WrapUpReasonList,
    WrapUpSettings,
)

S = AgentState
T0 = datetime(2025, 3, 3, 16, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


DEVICES = DeviceRegistry.of(
    Device("1001"),
    Device("1002", DeviceStatus.OFFLINE),
    Device("1003", DeviceStatus.UNASSOCIATED),
    Device("1004", in_use_by="someone-else"),
    Device("1005", DeviceStatus.MISCONFIGURED),
    Device("1006", in_use_by="a1"),
    Device("+13105550100"),
)
LUNCH = ReasonCode(10, "Lunch", ReasonCategory.NOT_READY, id=101)
MEETING = ReasonCode(11, "Meeting", ReasonCategory.NOT_READY, id=102)
END_OF_SHIFT = ReasonCode(1, "End of shift", ReasonCategory.LOGOUT, id=201)
CODES = ReasonCodeCatalog([LUNCH, MEETING, END_OF_SHIFT])
NO_CODES = ReasonCodeCatalog()

REQUIRED_30 = WrapUpSettings(WrapUpMode.REQUIRED, WrapUpMode.REQUIRED, 30)
NO_WRAP = WrapUpSettings(WrapUpMode.NOT_ALLOWED, WrapUpMode.NOT_ALLOWED)


# --------------------------------------------------------------------------------------------------
# Reaching a state through the public functions only
# --------------------------------------------------------------------------------------------------


def signed_out(wrap_up: WrapUpSettings = NO_WRAP, team_id: str | None = "water") -> Agent:
    return Agent.signed_out("a1", T0, wrap_up=wrap_up, team_id=team_id, login_name="jdoe")


def signed_in(wrap_up: WrapUpSettings = NO_WRAP) -> Agent:
    agent = fsm.sign_in(signed_out(wrap_up), "1001", DEVICES, T0)
    assert isinstance(agent, Agent)
    return agent


def agent_in(state: AgentState, wrap_up: WrapUpSettings = NO_WRAP) -> Agent:
    if state is S.LOGOUT:
        return signed_out(wrap_up)
    agent = signed_in(wrap_up)
    if state is S.NOT_READY:
        return agent
    agent = fsm.request_state(agent, S.READY, None, at(1), NO_CODES)
    if state is S.READY:
        return agent
    agent = fsm.system_event(agent, SystemEvent.OFFERED, at(2))
    if state is S.RESERVED:
        return agent
    agent = fsm.system_event(agent, SystemEvent.ANSWERED, at(3))
    if state is S.TALKING:
        return agent
    if state is S.HOLD:
        return fsm.system_event(agent, SystemEvent.HELD, at(4))
    wrapping = replace_wrap_up(agent, REQUIRED_30)
    if state is S.WORK:
        wrapping = fsm.request_state(wrapping, S.NOT_READY, None, at(4), NO_CODES)
    return fsm.system_event(wrapping, SystemEvent.CALL_ENDED, at(5))


def replace_wrap_up(agent: Agent, wrap_up: WrapUpSettings) -> Agent:
    # Settings can change between calls (an admin edits them); the next call-end uses the new ones.
    return replace(agent, wrap_up=wrap_up)


ALL_STATES = list(AgentState)


# --------------------------------------------------------------------------------------------------
# The table itself (§1.4)
# --------------------------------------------------------------------------------------------------

EXPECTED_CCE_PAIRS = {
    (S.LOGOUT, S.NOT_READY),
    (S.NOT_READY, S.NOT_READY),
    (S.NOT_READY, S.READY),
    (S.NOT_READY, S.LOGOUT),
    (S.NOT_READY, S.TALKING),
    (S.READY, S.NOT_READY),
    (S.READY, S.RESERVED),
    (S.RESERVED, S.TALKING),
    (S.RESERVED, S.READY),
    (S.RESERVED, S.NOT_READY),
    (S.TALKING, S.HOLD),
    (S.HOLD, S.TALKING),
    (S.TALKING, S.READY),
    (S.TALKING, S.NOT_READY),
    (S.HOLD, S.READY),
    (S.HOLD, S.NOT_READY),
    (S.TALKING, S.WORK_READY),
    (S.HOLD, S.WORK_READY),
    (S.TALKING, S.WORK),
    (S.HOLD, S.WORK),
    (S.WORK_READY, S.READY),
    (S.WORK_READY, S.NOT_READY),
    (S.WORK, S.NOT_READY),
    (S.WORK, S.READY),
}


def test_legal_pairs_are_exactly_the_cce_table() -> None:
    assert LEGAL_AGENT_TRANSITIONS == EXPECTED_CCE_PAIRS


def test_agent_requestable_pairs_only_target_ready_not_ready_logout() -> None:
    assert {to for _, to in AGENT_REQUESTABLE} == {S.READY, S.NOT_READY, S.LOGOUT}
    assert SIGN_IN_TRANSITIONS == {(S.LOGOUT, S.NOT_READY)}
    # CCE: LOGOUT only from NOT_READY.
    assert {frm for frm, to in LEGAL_AGENT_TRANSITIONS if to is S.LOGOUT} == {S.NOT_READY}
    assert LEGAL_AGENT_TRANSITIONS == AGENT_REQUESTABLE | SIGN_IN_TRANSITIONS | SYSTEM_TRANSITIONS


Drive = Callable[[], tuple[Agent, Agent]]


def _scenarios() -> list[tuple[str, Trigger, Drive]]:
    """One driver per table row and trigger: returns (before, after) produced by the public functions."""
    req = fsm.request_state
    ev = fsm.system_event
    sup = fsm.supervisor_request
    E = SystemEvent

    def drive(start: Callable[[], Agent], step: Callable[[Agent], Agent]) -> Drive:
        def run() -> tuple[Agent, Agent]:
            before = start()
            return before, step(before)

        return run

    def state(s: AgentState, wrap_up: WrapUpSettings = NO_WRAP) -> Callable[[], Agent]:
        return lambda: agent_in(s, wrap_up)

    def pending_nr(s: AgentState, wrap_up: WrapUpSettings = NO_WRAP) -> Callable[[], Agent]:
        return lambda: req(agent_in(s, wrap_up), S.NOT_READY, None, at(6), NO_CODES)

    def event(kind: SystemEvent, code: ReasonCode | None = None, when: float = 9) -> Callable[[Agent], Agent]:
        return lambda a: ev(a, kind, at(when), reason_code=code)

    def ask(target: AgentState, code: int | None = None) -> Callable[[Agent], Agent]:
        return lambda a: req(a, target, code, at(9), CODES)

    def supervisor(target: AgentState) -> Callable[[Agent], Agent]:
        return lambda a: sup(a, target, at(9))

    wrap = REQUIRED_30
    ended = event(E.CALL_ENDED)
    a, y = Trigger.AGENT, Trigger.SYSTEM
    return [
        ("sign in", Trigger.SIGN_IN, drive(signed_out, lambda ag: _ok(fsm.sign_in(ag, "1001", DEVICES, T0)))),
        ("NR code change", a, drive(state(S.NOT_READY), ask(S.NOT_READY, 101))),
        ("NR->READY", a, drive(state(S.NOT_READY), ask(S.READY))),
        ("NR->LOGOUT", a, drive(state(S.NOT_READY), ask(S.LOGOUT, 201))),
        ("READY->NR", a, drive(state(S.READY), ask(S.NOT_READY, 102))),
        ("WORK_READY->READY req", a, drive(state(S.WORK_READY), ask(S.READY))),
        ("WORK_READY->NR req", a, drive(state(S.WORK_READY), ask(S.NOT_READY, 101))),
        ("WORK->NR req", a, drive(state(S.WORK), ask(S.NOT_READY, 101))),
        ("WORK->READY req", a, drive(state(S.WORK), ask(S.READY))),
        ("places call", y, drive(state(S.NOT_READY), event(E.CALL_PLACED))),
        ("dial from READY", y, drive(state(S.READY), event(E.DIALING_FROM_READY))),
        ("offered", y, drive(state(S.READY), event(E.OFFERED))),
        ("answered", y, drive(state(S.RESERVED), event(E.ANSWERED))),
        ("ring cancelled", y, drive(state(S.RESERVED), event(E.RING_CANCELLED))),
        ("rona", y, drive(state(S.RESERVED), event(E.RONA))),
        ("hold", y, drive(state(S.TALKING), event(E.HELD))),
        ("retrieve", y, drive(state(S.HOLD), event(E.RETRIEVED))),
        ("TALKING end->READY", y, drive(state(S.TALKING), ended)),
        ("TALKING end->NR", y, drive(pending_nr(S.TALKING), ended)),
        ("HOLD end->READY", y, drive(state(S.HOLD), ended)),
        ("HOLD end->NR", y, drive(pending_nr(S.HOLD), ended)),
        ("TALKING end->WORK_READY", y, drive(state(S.TALKING, wrap), ended)),
        ("HOLD end->WORK_READY", y, drive(state(S.HOLD, wrap), ended)),
        ("TALKING end->WORK", y, drive(pending_nr(S.TALKING, wrap), ended)),
        ("HOLD end->WORK", y, drive(pending_nr(S.HOLD, wrap), ended)),
        ("WORK_READY expiry", y, drive(state(S.WORK_READY), event(E.WRAP_UP_EXPIRED, when=60))),
        ("WORK expiry", y, drive(state(S.WORK), event(E.WRAP_UP_EXPIRED, when=60))),
        ("forced NR", y, drive(state(S.NOT_READY), event(E.FORCED_NOT_READY, fsm.CCE_NR_CTI_CLIENT_FAILURE))),
        ("supervisor WORK->NR", y, drive(state(S.WORK), supervisor(S.NOT_READY))),
        ("supervisor WORK_READY->NR", y, drive(state(S.WORK_READY), supervisor(S.NOT_READY))),
        ("supervisor NR->READY", y, drive(state(S.NOT_READY), supervisor(S.READY))),
        ("supervisor WORK->READY", y, drive(state(S.WORK), supervisor(S.READY))),
        ("supervisor WORK_READY->READY", y, drive(state(S.WORK_READY), supervisor(S.READY))),
        ("forced logout", y, drive(state(S.NOT_READY), event(E.FORCED_LOGOUT, fsm.CCE_LO_CTI_DISCONNECT))),
    ]


def _ok(result: Agent | DeviceError) -> Agent:
    assert isinstance(result, Agent), result
    return result


SCENARIOS = _scenarios()


@pytest.mark.parametrize(("name", "trigger", "drive"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_every_table_row_is_reachable_through_the_api(name: str, trigger: Trigger, drive: Drive) -> None:
    before, after = drive()
    rule = (before.state, after.state)
    assert rule in LEGAL_AGENT_TRANSITIONS
    expected = {Trigger.AGENT: AGENT_REQUESTABLE, Trigger.SIGN_IN: SIGN_IN_TRANSITIONS}.get(
        trigger, SYSTEM_TRANSITIONS
    )
    assert rule in expected
    # Every accepted transition is a new state event, so it is stamped (even NOT_READY -> NOT_READY).
    assert after.state_change_time >= before.state_change_time
    assert after.state_change_time != before.state_change_time or name == "sign in"


def test_scenarios_cover_every_row_of_the_table() -> None:
    covered = set()
    for _, trigger, drive in SCENARIOS:
        before, after = drive()
        covered.add((before.state, after.state, trigger))
    table = {(r.from_state, r.to_state, r.trigger) for r in TRANSITION_TABLE}
    assert covered == table


ILLEGAL_REQUESTS = [
    (state, target)
    for state in ALL_STATES
    for target in (S.READY, S.NOT_READY, S.LOGOUT)
    if (state, target) not in AGENT_REQUESTABLE
    # READY/NOT_READY during a call is accepted as a pending state, not refused.
    and not (state in (S.TALKING, S.HOLD) and target is not S.LOGOUT)
]


@pytest.mark.parametrize(("state", "target"), ILLEGAL_REQUESTS, ids=lambda v: str(v))
def test_illegal_agent_requests_are_refused_with_invalid_state(state: AgentState, target: AgentState) -> None:
    agent = agent_in(state)
    with pytest.raises(TransitionError) as info:
        fsm.request_state(agent, target, None, at(99), NO_CODES)
    assert info.value.code == fsm.INVALID_STATE
    assert info.value.current_state == state.value
    assert info.value.synchronous is False  # the CTI server refuses it: asynchronous (§1.1)


def test_illegal_request_list_has_the_expected_cce_cases() -> None:
    assert (S.READY, S.LOGOUT) in ILLEGAL_REQUESTS  # CCX would allow it; CCE does not
    assert (S.READY, S.READY) in ILLEGAL_REQUESTS
    assert (S.RESERVED, S.NOT_READY) in ILLEGAL_REQUESTS
    assert (S.TALKING, S.LOGOUT) in ILLEGAL_REQUESTS
    assert (S.WORK, S.LOGOUT) in ILLEGAL_REQUESTS
    assert (S.LOGOUT, S.NOT_READY) in ILLEGAL_REQUESTS  # sign-in goes through sign_in with an extension


@pytest.mark.parametrize("target", [S.RESERVED, S.TALKING, S.HOLD, S.WORK, S.WORK_READY])
def test_agents_cannot_request_call_driven_states(target: AgentState) -> None:
    with pytest.raises(TransitionError) as info:
        fsm.request_state(agent_in(S.READY), target, None, at(9), NO_CODES)
    assert info.value.code == fsm.INVALID_STATE


def test_unknown_state_name_is_a_synchronous_bad_input() -> None:
    with pytest.raises(TransitionError) as info:
        fsm.request_state(agent_in(S.READY), "BREAK", None, at(9), NO_CODES)
    assert (info.value.code, info.value.synchronous) == (fsm.INVALID_INPUT, True)


SYSTEM_EVENT_FROM = {
    SystemEvent.OFFERED: {S.READY},
    SystemEvent.RING_CANCELLED: {S.RESERVED},
    SystemEvent.RONA: {S.RESERVED},
    SystemEvent.ANSWERED: {S.RESERVED},
    SystemEvent.DIALING_FROM_READY: {S.READY},
    SystemEvent.CALL_PLACED: {S.NOT_READY},
    SystemEvent.HELD: {S.TALKING},
    SystemEvent.RETRIEVED: {S.HOLD},
    SystemEvent.CALL_ENDED: {S.TALKING, S.HOLD},
    SystemEvent.WRAP_UP_EXPIRED: {S.WORK, S.WORK_READY},
    SystemEvent.FORCED_NOT_READY: {S.READY, S.NOT_READY, S.WORK, S.WORK_READY},
    SystemEvent.FORCED_LOGOUT: {S.NOT_READY},
}
SYSTEM_CODES = {
    SystemEvent.FORCED_NOT_READY: fsm.CCE_NR_CTI_CLIENT_FAILURE,
    SystemEvent.FORCED_LOGOUT: fsm.CCE_LO_DEVICE_OUT_OF_SERVICE,
}


@pytest.mark.parametrize("event", list(SystemEvent))
@pytest.mark.parametrize("state", ALL_STATES)
def test_system_events_apply_only_from_their_table_states(event: SystemEvent, state: AgentState) -> None:
    agent = agent_in(state)
    if event in SYSTEM_EVENT_FROM and state in SYSTEM_EVENT_FROM[event]:
        after = fsm.system_event(agent, event, at(300), reason_code=SYSTEM_CODES.get(event))
        assert (agent.state, after.state) in SYSTEM_TRANSITIONS
    else:
        with pytest.raises(TransitionError) as info:
            fsm.system_event(agent, event, at(300), reason_code=SYSTEM_CODES.get(event))
        assert info.value.code == fsm.INVALID_STATE


def test_random_walk_only_ever_makes_table_transitions() -> None:
    # Any mix of requests and events either is refused or moves along the table; never anything else.
    rng = random.Random(20250303)
    agent = signed_out(WrapUpSettings(WrapUpMode.REQUIRED, WrapUpMode.OPTIONAL, 20))
    clock = 0.0
    moves = 0
    for _ in range(3000):
        clock += rng.uniform(0.5, 15)
        now = at(clock)
        choice = rng.random()
        try:
            if agent.state is S.LOGOUT or choice < 0.05:
                result = fsm.sign_in(agent, rng.choice(["1001", "1002", "1004"]), DEVICES, now)
                after = agent if isinstance(result, DeviceError) else result
                kind = Trigger.SIGN_IN
            elif choice < 0.45:
                target = rng.choice([S.READY, S.NOT_READY, S.LOGOUT, S.TALKING])
                code = rng.choice([None, 101, 201, 32767])
                after = fsm.request_state(agent, target, code, now, CODES)
                kind = Trigger.AGENT
            else:
                event = rng.choice(list(SystemEvent))
                after = fsm.system_event(agent, event, now, reason_code=SYSTEM_CODES.get(event))
                kind = Trigger.SYSTEM
        except TransitionError:
            continue
        if after.state_change_time != agent.state_change_time:
            moves += 1
            pair = (agent.state, after.state)
            allowed = {Trigger.AGENT: AGENT_REQUESTABLE, Trigger.SIGN_IN: SIGN_IN_TRANSITIONS}.get(
                kind, SYSTEM_TRANSITIONS
            )
            assert pair in allowed, (kind, pair)
        else:
            assert after.state is agent.state  # pending state or re-sign-in: no state change
        agent = after
    assert moves > 300


# --------------------------------------------------------------------------------------------------
# Reason codes (§1.5)
# --------------------------------------------------------------------------------------------------


def test_not_ready_without_code_is_refused_when_codes_are_configured() -> None:
    agent = agent_in(S.READY)
    with pytest.raises(TransitionError) as info:
        fsm.request_state(agent, S.NOT_READY, None, at(9), CODES)
    assert info.value.code == fsm.PARAMETER_MISSING
    assert info.value.message == fsm.REASON_CODE_REQUIRED_KEY
    assert info.value.synchronous is True


def test_not_ready_without_code_is_accepted_when_none_are_configured() -> None:
    after = fsm.request_state(agent_in(S.READY), S.NOT_READY, None, at(9), NO_CODES)
    assert after.state is S.NOT_READY and after.reason_code is None
    event = after.to_event_dict()
    assert event["reasonCodeId"] == -1 and "ReasonCode" not in event


def test_not_ready_with_a_configured_code_carries_it_in_the_event() -> None:
    after = fsm.request_state(agent_in(S.READY), S.NOT_READY, 101, at(9), CODES)
    assert after.reason_code == LUNCH
    event = after.to_event_dict()
    assert event["reasonCodeId"] == 101
    assert event["ReasonCode"] == {
        "uri": "/finesse/api/ReasonCode/101",
        "id": 101,
        "code": 10,
        "label": "Lunch",
        "category": "NOT_READY",
        "systemCode": False,
        "forAll": True,
    }


def test_logout_codes_follow_the_same_rule() -> None:
    agent = agent_in(S.NOT_READY)
    with pytest.raises(TransitionError) as info:
        fsm.request_state(agent, S.LOGOUT, None, at(9), CODES)
    assert info.value.code == fsm.PARAMETER_MISSING
    assert fsm.request_state(agent, S.LOGOUT, 201, at(9), CODES).reason_code == END_OF_SHIFT
    assert fsm.request_state(agent, S.LOGOUT, None, at(9), NO_CODES).state is S.LOGOUT
    only_nr = ReasonCodeCatalog([LUNCH])
    assert fsm.request_state(agent, S.LOGOUT, None, at(9), only_nr).state is S.LOGOUT


@pytest.mark.parametrize("catalog", [CODES, NO_CODES], ids=["configured", "none"])
def test_unknown_code_is_refused(catalog: ReasonCodeCatalog) -> None:
    with pytest.raises(TransitionError) as info:
        fsm.request_state(agent_in(S.READY), S.NOT_READY, 4242, at(9), catalog)
    assert info.value.code == fsm.INVALID_INPUT and "unknown" in info.value.message


@pytest.mark.parametrize("code", [32767, 50002, 50006, 999])
def test_agents_cannot_pick_system_codes(code: int) -> None:
    with pytest.raises(TransitionError) as info:
        fsm.request_state(agent_in(S.READY), S.NOT_READY, code, at(9), CODES)
    assert info.value.code == fsm.INVALID_INPUT and "system" in info.value.message


def test_a_code_from_the_other_category_is_unknown() -> None:
    with pytest.raises(TransitionError):
        fsm.request_state(agent_in(S.READY), S.NOT_READY, 201, at(9), CODES)


def test_ready_does_not_take_a_reason_code() -> None:
    with pytest.raises(TransitionError) as info:
        fsm.request_state(agent_in(S.NOT_READY), S.READY, 101, at(9), CODES)
    assert info.value.code == fsm.INVALID_INPUT


def test_reason_code_checks_come_before_state_checks() -> None:
    # Finesse checks the body itself (sync 400) before the CTI server judges the state (§1.1).
    with pytest.raises(TransitionError) as info:
        fsm.request_state(agent_in(S.READY), S.LOGOUT, None, at(9), CODES)
    assert info.value.code == fsm.PARAMETER_MISSING


def test_team_codes_are_visible_only_to_that_team() -> None:
    solar_only = ReasonCode(
        20, "Solar callback", ReasonCategory.NOT_READY, for_all=False, team_ids=frozenset({"solar"})
    )
    catalog = ReasonCodeCatalog([solar_only])
    water_agent = agent_in(S.READY)  # team "water"
    assert not catalog.requires_code(ReasonCategory.NOT_READY, "water")
    assert fsm.request_state(water_agent, S.NOT_READY, None, at(9), catalog).state is S.NOT_READY
    with pytest.raises(TransitionError):
        fsm.request_state(water_agent, S.NOT_READY, 20, at(9), catalog)
    assert catalog.resolve(ReasonCategory.NOT_READY, 20, team_id="solar") == solar_only


def test_catalog_refuses_system_codes_and_duplicates() -> None:
    with pytest.raises(ValueError, match="system"):
        ReasonCodeCatalog([fsm.CCE_RONA])
    with pytest.raises(ValueError, match="label"):
        ReasonCodeCatalog([LUNCH, ReasonCode(12, "Lunch", ReasonCategory.NOT_READY)])
    with pytest.raises(ValueError):
        ReasonCodeCatalog([LUNCH, ReasonCode(10, "Other", ReasonCategory.NOT_READY)])
    # The same number in both categories is fine; labels are unique per category.
    ReasonCodeCatalog(
        [ReasonCode(5, "Break", ReasonCategory.NOT_READY), ReasonCode(5, "Break", ReasonCategory.LOGOUT)]
    )
    with pytest.raises(ValueError):
        ReasonCode(1, "x" * 41, ReasonCategory.NOT_READY)
    with pytest.raises(ValueError):
        ReasonCode(70000, "Too big", ReasonCategory.NOT_READY)


def test_system_codes_are_keyed_by_platform() -> None:
    nr = ReasonCategory.NOT_READY
    assert fsm.system_reason_code(Platform.CCE, nr, 32767) is fsm.CCE_RONA
    assert fsm.system_reason_code(Platform.CCX, nr, 32763) is fsm.CCX_RONA
    assert fsm.system_reason_code(Platform.CCX, nr, 32767) is not fsm.CCE_RONA
    assert fsm.system_reason_code(Platform.CCE, nr, 50002) != fsm.system_reason_code(
        Platform.CCE, ReasonCategory.LOGOUT, 50002
    )
    assert fsm.CCE_RONA.reason_code_id == -1


# --------------------------------------------------------------------------------------------------
# Sign-in (§1.2)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extension", ["1999", "1002", "1003", "1005"], ids=["unknown", "offline", "unassociated", "misconfigured"]
)
def test_unusable_extension_gives_invalid_device_and_no_state_change(extension: str) -> None:
    agent = signed_out()
    result = fsm.sign_in(agent, extension, DEVICES, at(5))
    assert isinstance(result, DeviceError)
    assert result.code == fsm.INVALID_DEVICE
    assert result.to_api_error() == {
        "errorType": "Invalid Device",
        "errorMessage": "CF_INVALID_LOGON_DEVICE_SPECIFIED",
        "errorData": "260",
        "peripheralErrorCode": "10125",
        "peripheralErrorMsg": "PERERR_TELDRIVE_NODEVICETARGETFORNETTARGETID",
    }
    assert agent.state is S.LOGOUT and agent.state_change_time == T0  # untouched snapshot


def test_extension_in_use_by_another_agent_gives_device_busy() -> None:
    agent = signed_out()
    result = fsm.sign_in(agent, "1004", DEVICES, at(5))
    assert isinstance(result, DeviceError) and result.code == fsm.DEVICE_BUSY
    assert agent.state is S.LOGOUT


def test_successful_sign_in_lands_in_not_ready() -> None:
    agent = _ok(fsm.sign_in(signed_out(), "1001", DEVICES, at(5)))
    assert (agent.state, agent.extension, agent.reason_code) == (S.NOT_READY, "1001", None)
    assert agent.state_change_time == at(5)
    # A stale claim by the same agent (e.g. after a crash) does not block it.
    assert _ok(fsm.sign_in(signed_out(), "1006", DEVICES, at(5))).extension == "1006"


def test_re_sign_in_keeps_the_current_state() -> None:
    ready = agent_in(S.READY)
    assert fsm.sign_in(ready, "1001", DEVICES, at(50)) is ready


def test_sign_in_on_another_extension_while_signed_in_is_refused() -> None:
    with pytest.raises(TransitionError) as info:
        fsm.sign_in(agent_in(S.READY), "1006", DEVICES, at(50))
    assert info.value.code == fsm.INVALID_STATE


@pytest.mark.parametrize(
    ("extension", "code"),
    [
        (None, fsm.PARAMETER_MISSING),
        ("", fsm.PARAMETER_MISSING),
        ("10a1", fsm.BAD_REQUEST),
        ("+13105550100", fsm.BAD_REQUEST),  # E.164 sign-in is CCX only
    ],
)
def test_missing_or_malformed_extension_is_a_synchronous_error(extension: str | None, code: str) -> None:
    with pytest.raises(TransitionError) as info:
        fsm.sign_in(signed_out(), extension, DEVICES, at(5))
    assert (info.value.code, info.value.synchronous) == (code, True)


def test_e164_extensions_are_allowed_on_ccx_only() -> None:
    agent = _ok(fsm.sign_in(signed_out(), "+13105550100", DEVICES, at(5), platform=Platform.CCX))
    assert agent.extension == "+13105550100"


def test_device_registry_claim_and_release() -> None:
    claimed = DEVICES.claim("1001", "a1")
    assert claimed.get("1001") == Device("1001", in_use_by="a1")
    assert DEVICES.get("1001") == Device("1001")  # value semantics
    assert isinstance(fsm.sign_in(Agent.signed_out("b2", T0), "1001", claimed, at(1)), DeviceError)
    assert claimed.release("1001").get("1001") == Device("1001")


# --------------------------------------------------------------------------------------------------
# Pending state (§1.4)
# --------------------------------------------------------------------------------------------------


def test_not_ready_during_a_call_becomes_pending_and_applies_when_it_clears() -> None:
    talking = agent_in(S.TALKING)
    pending = fsm.request_state(talking, S.NOT_READY, 102, at(20), CODES)
    assert pending.state is S.TALKING
    assert pending.state_change_time == talking.state_change_time  # the state did not change
    assert (pending.pending_state, pending.pending_reason_code) == (S.NOT_READY, MEETING)
    assert pending.to_event_dict()["pendingState"] == "NOT_READY"
    after = fsm.system_event(pending, SystemEvent.CALL_ENDED, at(40))
    assert (after.state, after.reason_code, after.pending_state) == (S.NOT_READY, MEETING, None)
    assert after.to_event_dict()["pendingState"] == ""


def test_pending_state_can_be_changed_and_works_from_hold() -> None:
    holding = agent_in(S.HOLD)
    first = fsm.request_state(holding, S.NOT_READY, 101, at(20), CODES)
    second = fsm.request_state(first, S.READY, None, at(21), CODES)
    assert (second.pending_state, second.pending_reason_code) == (S.READY, None)
    assert fsm.system_event(second, SystemEvent.CALL_ENDED, at(40)).state is S.READY


def test_pending_not_ready_still_needs_a_code_when_configured() -> None:
    with pytest.raises(TransitionError) as info:
        fsm.request_state(agent_in(S.TALKING), S.NOT_READY, None, at(20), CODES)
    assert info.value.code == fsm.PARAMETER_MISSING


def test_without_pending_state_the_agent_returns_to_its_pre_call_state() -> None:
    nr = fsm.request_state(agent_in(S.NOT_READY), S.NOT_READY, 101, at(10), CODES)
    on_call = fsm.system_event(nr, SystemEvent.CALL_PLACED, at(11))
    assert on_call.reason_code is None
    back = fsm.system_event(on_call, SystemEvent.CALL_ENDED, at(70))
    assert (back.state, back.reason_code) == (S.NOT_READY, LUNCH)


# --------------------------------------------------------------------------------------------------
# Wrap-up (§1.6)
# --------------------------------------------------------------------------------------------------


def test_wrap_up_timer_expiry_moves_work_ready_to_ready() -> None:
    talking = agent_in(S.TALKING, REQUIRED_30)
    wrapping = fsm.system_event(talking, SystemEvent.CALL_ENDED, at(100))
    assert wrapping.state is S.WORK_READY and wrapping.wrap_up_deadline == at(130)
    assert not fsm.wrap_up_due(wrapping, at(129.999))
    with pytest.raises(TransitionError):
        fsm.system_event(wrapping, SystemEvent.WRAP_UP_EXPIRED, at(129))
    assert fsm.wrap_up_due(wrapping, at(130))
    ready = fsm.system_event(wrapping, SystemEvent.WRAP_UP_EXPIRED, at(130))
    assert (ready.state, ready.state_change_time, ready.wrap_up_deadline) == (S.READY, at(130), None)


def test_wrap_up_timer_expiry_moves_work_to_not_ready_with_the_requested_code() -> None:
    talking = agent_in(S.TALKING, REQUIRED_30)
    asked = fsm.request_state(talking, S.NOT_READY, 101, at(50), CODES)
    work = fsm.system_event(asked, SystemEvent.CALL_ENDED, at(100))
    assert (work.state, work.pending_state, work.reason_code) == (S.WORK, None, None)
    after = fsm.system_event(work, SystemEvent.WRAP_UP_EXPIRED, at(131))
    assert (after.state, after.reason_code) == (S.NOT_READY, LUNCH)


def test_agent_may_leave_wrap_up_before_the_timer() -> None:
    wrapping = agent_in(S.WORK_READY, REQUIRED_30)
    nr = fsm.request_state(wrapping, S.NOT_READY, 102, at(10), CODES)
    assert (nr.state, nr.reason_code, nr.wrap_up_deadline) == (S.NOT_READY, MEETING, None)


def test_untimed_wrap_up_waits_for_the_agent() -> None:
    untimed = WrapUpSettings(WrapUpMode.REQUIRED, WrapUpMode.REQUIRED, 0)
    wrapping = fsm.system_event(agent_in(S.TALKING, untimed), SystemEvent.CALL_ENDED, at(10))
    assert wrapping.state is S.WORK_READY and wrapping.wrap_up_deadline is None
    assert not fsm.wrap_up_due(wrapping, at(10_000))
    with pytest.raises(TransitionError):
        fsm.system_event(wrapping, SystemEvent.WRAP_UP_EXPIRED, at(10_000))


@pytest.mark.parametrize(
    ("mode", "opt_in", "expected"),
    [
        (WrapUpMode.REQUIRED, False, S.WORK_READY),
        (WrapUpMode.REQUIRED_WITH_WRAP_UP_DATA, False, S.WORK_READY),
        (WrapUpMode.NOT_ALLOWED, False, S.READY),
        (WrapUpMode.OPTIONAL, False, S.READY),
        (WrapUpMode.OPTIONAL, True, S.WORK_READY),
    ],
)
def test_wrap_up_mode_decides_the_state_after_an_incoming_call(
    mode: WrapUpMode, opt_in: bool, expected: AgentState
) -> None:
    talking = agent_in(S.TALKING, WrapUpSettings(mode, WrapUpMode.NOT_ALLOWED, 30))
    if opt_in:
        talking = fsm.opt_in_wrap_up(talking)
    assert fsm.system_event(talking, SystemEvent.CALL_ENDED, at(60)).state is expected


def test_opting_into_wrap_up_needs_an_optional_setting_and_a_call() -> None:
    with pytest.raises(TransitionError) as info:
        fsm.opt_in_wrap_up(agent_in(S.TALKING, REQUIRED_30))
    assert info.value.code == fsm.INVALID_INPUT
    with pytest.raises(TransitionError) as info:
        fsm.opt_in_wrap_up(agent_in(S.READY, WrapUpSettings()))
    assert info.value.code == fsm.INVALID_STATE


def test_outgoing_calls_use_the_outgoing_wrap_up_setting() -> None:
    settings = WrapUpSettings(WrapUpMode.NOT_ALLOWED, WrapUpMode.REQUIRED, 15)
    nr = fsm.request_state(agent_in(S.NOT_READY, settings), S.NOT_READY, 101, at(5), CODES)
    on_call = fsm.system_event(nr, SystemEvent.CALL_PLACED, at(6))
    work = fsm.system_event(on_call, SystemEvent.CALL_ENDED, at(60))
    assert work.state is S.WORK  # the agent was NOT_READY before the call
    after = fsm.system_event(work, SystemEvent.WRAP_UP_EXPIRED, at(75))
    assert (after.state, after.reason_code) == (S.NOT_READY, LUNCH)


def test_dialling_from_ready_forces_not_ready_50006_first() -> None:
    forced = fsm.system_event(agent_in(S.READY), SystemEvent.DIALING_FROM_READY, at(9))
    assert forced.reason_code is fsm.CCE_NR_DIALING_FROM_READY
    talking = fsm.system_event(forced, SystemEvent.CALL_PLACED, at(10))
    assert talking.call_direction is fsm.CallDirection.OUTGOING


def test_wrap_up_reasons_are_validated_per_team() -> None:
    reasons = WrapUpReasonList(
        [
            WrapUpReason("Billing question"),
            WrapUpReason("Solar interconnect", for_all=False, team_ids=frozenset({"solar"})),
        ]
    )
    assert reasons.is_allowed("Billing question", "water")
    assert not reasons.is_allowed("Solar interconnect", "water")
    assert reasons.is_allowed("Solar interconnect", "solar")
    assert not reasons.is_allowed("Made up", "solar")
    with pytest.raises(ValueError):
        WrapUpReasonList([WrapUpReason("A"), WrapUpReason("A")])


# --------------------------------------------------------------------------------------------------
# RONA, forced and supervisor changes (§1.4, §1.5, §2.2)
# --------------------------------------------------------------------------------------------------


def test_rona_makes_the_agent_not_ready_with_32767() -> None:
    after = fsm.system_event(agent_in(S.RESERVED), SystemEvent.RONA, at(12))
    assert (after.state, after.reason_code) == (S.NOT_READY, fsm.CCE_RONA)
    event = after.to_event_dict()
    assert event["ReasonCode"]["code"] == 32767 and event["ReasonCode"]["systemCode"] is True
    assert event["reasonCodeId"] == -1


def test_system_events_refuse_non_system_codes() -> None:
    with pytest.raises(TransitionError) as info:
        fsm.system_event(agent_in(S.RESERVED), SystemEvent.RONA, at(12), reason_code=LUNCH)
    assert info.value.code == fsm.INVALID_INPUT
    with pytest.raises(TransitionError):
        fsm.system_event(agent_in(S.NOT_READY), SystemEvent.FORCED_LOGOUT, at(12))  # code required
    with pytest.raises(TransitionError):
        fsm.system_event(agent_in(S.NOT_READY), SystemEvent.FORCED_LOGOUT, at(12), reason_code=fsm.CCE_RONA)


def test_forced_logout_goes_through_not_ready_on_cce() -> None:
    steps = fsm.force_logout(agent_in(S.READY), fsm.CCE_LO_INACTIVITY, at(30))
    assert [(a.state, a.reason_code) for a in steps] == [
        (S.NOT_READY, fsm.CCE_NR_FORCED_LOGOUT),
        (S.LOGOUT, fsm.CCE_LO_INACTIVITY),
    ]
    assert len(fsm.force_logout(agent_in(S.NOT_READY), fsm.CCE_LO_INACTIVITY, at(30))) == 1
    with pytest.raises(TransitionError):
        fsm.force_logout(agent_in(S.TALKING), fsm.CCE_LO_INACTIVITY, at(30))


def test_supervisor_rules() -> None:
    nr = fsm.supervisor_request(agent_in(S.READY), S.NOT_READY, at(9))
    assert nr.reason_code is fsm.CCE_NR_SUPERVISOR
    with pytest.raises(TransitionError):
        fsm.supervisor_request(agent_in(S.NOT_READY), S.NOT_READY, at(9))  # only from READY/WORK/WORK_READY
    with pytest.raises(TransitionError):
        fsm.supervisor_request(agent_in(S.READY), S.LOGOUT, at(9))  # CCE: LOGOUT only from NOT_READY
    with pytest.raises(TransitionError):
        fsm.supervisor_request(agent_in(S.TALKING), S.READY, at(9))
    out = fsm.supervisor_request(nr, S.LOGOUT, at(10))
    assert (out.state, out.reason_code) == (S.LOGOUT, fsm.CCE_LO_SUPERVISOR)


# --------------------------------------------------------------------------------------------------
# Event snapshots (§1.9)
# --------------------------------------------------------------------------------------------------


def test_event_dict_is_a_full_user_snapshot_in_utc() -> None:
    pacific = timezone(timedelta(hours=-8))
    local = datetime(2025, 3, 3, 8, 15, 30, 123456, tzinfo=pacific)
    agent = fsm.request_state(signed_in(REQUIRED_30), S.READY, None, local, NO_CODES)
    event = agent.to_event_dict()
    assert event["stateChangeTime"] == "2025-03-03T16:15:30.123Z"
    assert datetime.fromisoformat(event["stateChangeTime"]).utcoffset() == timedelta(0)
    assert agent.state_change_time.tzinfo is UTC
    assert {
        "uri",
        "loginId",
        "loginName",
        "firstName",
        "lastName",
        "extension",
        "dialogs",
        "roles",
        "teamId",
        "teamName",
        "state",
        "stateChangeTime",
        "pendingState",
        "reasonCodeId",
        "settings",
        "wrapUpTimer",
        "mediaType",
    } <= set(event)
    assert event["state"] == "READY" and event["extension"] == "1001" and event["loginName"] == "jdoe"
    assert event["settings"] == {"wrapUpOnIncoming": "REQUIRED", "wrapUpOnOutgoing": "REQUIRED"}
    assert event["wrapUpTimer"] == 30
    assert event["dialogs"] == "/finesse/api/User/a1/Dialogs"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        fsm.request_state(agent_in(S.NOT_READY), S.READY, None, datetime(2025, 3, 3, 9, 0), NO_CODES)
    with pytest.raises(ValueError):
        Agent.signed_out("x", datetime(2025, 3, 3, 9, 0))


def test_telephony_error_payload() -> None:
    with pytest.raises(TransitionError) as info:
        fsm.request_state(agent_in(S.RESERVED), S.READY, None, at(9), NO_CODES)
    assert info.value.to_api_error()["errorType"] == "Invalid State"
