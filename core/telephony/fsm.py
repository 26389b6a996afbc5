"""Finesse-style agent state machine: sign-in, state requests, system events and wrap-up transitions.

The values it works on live in :mod:`core.telephony.states` (states, error types, the §1.4 table),
:mod:`core.telephony.reason_codes` (§1.5 codes, §1.6 wrap-up settings) and :mod:`core.telephony.agent`
(the agent snapshot and devices); they are re-exported here, so ``fsm.X`` names every part of the model.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from core.telephony.agent import (
    INVALID_DEVICE_ERROR_DATA,
    INVALID_DEVICE_MESSAGE,
    INVALID_DEVICE_PERIPHERAL_CODE,
    INVALID_DEVICE_PERIPHERAL_MESSAGE,
    Agent,
    Device,
    DeviceError,
    DeviceRegistry,
    DeviceStatus,
    iso_utc,
    to_utc,
)
from core.telephony.reason_codes import (
    CCE_LO_CTI_DISCONNECT,
    CCE_LO_CTI_FAILURE,
    CCE_LO_DEVICE_OUT_OF_SERVICE,
    CCE_LO_EXTENSION_CHANGED,
    CCE_LO_INACTIVITY,
    CCE_LO_PERIPHERAL_RESET,
    CCE_LO_PG_RESET,
    CCE_LO_SKILL_GROUP_CHANGED,
    CCE_LO_SUPERVISOR,
    CCE_NR_CALLS_NEVER_ARRIVED,
    CCE_NR_CTI_CLIENT_FAILURE,
    CCE_NR_DIALING_FROM_READY,
    CCE_NR_FORCED_LOGOUT,
    CCE_NR_FORCED_LOGOUT_FIRST,
    CCE_NR_MOBILE_LINE_BUSY,
    CCE_NR_NON_ACD_CALL,
    CCE_NR_SUPERVISOR,
    CCE_RONA,
    CCX_LO_DESKTOP_FAILURE,
    CCX_LO_EXTENSION_CONFLICT,
    CCX_LO_RELOGIN_ELSEWHERE,
    CCX_LO_SUPERVISOR,
    CCX_NR_NON_ICD_CALL,
    CCX_NR_OFF_HOOK,
    CCX_NR_SUPERVISOR,
    CCX_NR_WORK_TIMER_EXPIRED,
    CCX_RONA,
    SYSTEM_REASON_CODES,
    ReasonCategory,
    ReasonCode,
    ReasonCodeCatalog,
    WrapUpMode,
    WrapUpReason,
    WrapUpReasonList,
    WrapUpSettings,
    system_reason_code,
)
from core.telephony.states import (
    AGENT_REQUESTABLE,
    BAD_REQUEST,
    DEVICE_BUSY,
    GENERIC_ERROR,
    INVALID_DEVICE,
    INVALID_INPUT,
    INVALID_STATE,
    LEGAL_AGENT_TRANSITIONS,
    NOT_MODELLED,
    ON_CALL_STATES,
    PARAMETER_MISSING,
    REASON_CODE_REQUIRED_KEY,
    REQUESTABLE_TARGETS,
    SIGN_IN_TRANSITIONS,
    SYSTEM_TRANSITIONS,
    TRANSITION_TABLE,
    WRAP_UP_STATES,
    AgentState,
    CallDirection,
    Platform,
    TelephonyError,
    TransitionError,
    TransitionRule,
    Trigger,
)

__all__ = [
    "AGENT_REQUESTABLE",
    "BAD_REQUEST",
    "CCE_LO_CTI_DISCONNECT",
    "CCE_LO_CTI_FAILURE",
    "CCE_LO_DEVICE_OUT_OF_SERVICE",
    "CCE_LO_EXTENSION_CHANGED",
    "CCE_LO_INACTIVITY",
    "CCE_LO_PERIPHERAL_RESET",
    "CCE_LO_PG_RESET",
    "CCE_LO_SKILL_GROUP_CHANGED",
    "CCE_LO_SUPERVISOR",
    "CCE_NR_CALLS_NEVER_ARRIVED",
    "CCE_NR_CTI_CLIENT_FAILURE",
    "CCE_NR_DIALING_FROM_READY",
    "CCE_NR_FORCED_LOGOUT",
    "CCE_NR_FORCED_LOGOUT_FIRST",
    "CCE_NR_MOBILE_LINE_BUSY",
    "CCE_NR_NON_ACD_CALL",
    "CCE_NR_SUPERVISOR",
    "CCE_RONA",
    "CCX_LO_DESKTOP_FAILURE",
    "CCX_LO_EXTENSION_CONFLICT",
    "CCX_LO_RELOGIN_ELSEWHERE",
    "CCX_LO_SUPERVISOR",
    "CCX_NR_NON_ICD_CALL",
    "CCX_NR_OFF_HOOK",
    "CCX_NR_SUPERVISOR",
    "CCX_NR_WORK_TIMER_EXPIRED",
    "CCX_RONA",
    "DEVICE_BUSY",
    "GENERIC_ERROR",
    "INVALID_DEVICE",
    "INVALID_DEVICE_ERROR_DATA",
    "INVALID_DEVICE_MESSAGE",
    "INVALID_DEVICE_PERIPHERAL_CODE",
    "INVALID_DEVICE_PERIPHERAL_MESSAGE",
    "INVALID_INPUT",
    "INVALID_STATE",
    "LEGAL_AGENT_TRANSITIONS",
    "NOT_MODELLED",
    "ON_CALL_STATES",
    "PARAMETER_MISSING",
    "REASON_CODE_REQUIRED_KEY",
    "REQUESTABLE_TARGETS",
    "SIGN_IN_TRANSITIONS",
    "SYSTEM_REASON_CODES",
    "SYSTEM_TRANSITIONS",
    "TRANSITION_TABLE",
    "WRAP_UP_STATES",
    "Agent",
    "AgentState",
    "CallDirection",
    "Device",
    "DeviceError",
    "DeviceRegistry",
    "DeviceStatus",
    "Platform",
    "ReasonCategory",
    "ReasonCode",
    "ReasonCodeCatalog",
    "SystemEvent",
    "TelephonyError",
    "TransitionError",
    "TransitionRule",
    "Trigger",
    "WrapUpMode",
    "WrapUpReason",
    "WrapUpReasonList",
    "WrapUpSettings",
    "force_logout",
    "iso_utc",
    "opt_in_wrap_up",
    "request_state",
    "sign_in",
    "supervisor_request",
    "system_event",
    "system_reason_code",
    "to_utc",
    "wrap_up_due",
]

# Section numbers in comments refer to the project's telephony reference (Cisco Finesse agent model).
# Everything here is pure: values in, values out; nothing is stored, awaited or published.

_NR, _LO = ReasonCategory.NOT_READY, ReasonCategory.LOGOUT

# CCE sign-in extensions are digits only; CCX also accepts E.164 with a leading "+", at most 15 characters
# including it (§1.2).
_CCE_EXTENSION = re.compile(r"\d{1,15}")
_CCX_EXTENSION = re.compile(r"\+?\d{1,14}|\d{15}")


# Fields cleared whenever a call episode is over (nothing should leak into the next call).
_CALL_RESET: dict[str, Any] = {
    "pending_state": None,
    "pending_reason_code": None,
    "pre_call_state": None,
    "pre_call_reason_code": None,
    "call_direction": None,
    "wrap_up_opted_in": False,
}
_WRAP_UP_RESET: dict[str, Any] = {"wrap_up_deadline": None, "after_wrap_up_reason": None}


def _move(agent: Agent, to: AgentState, now: datetime, **changes: Any) -> Agent:
    # Every state change in this module funnels through here, so a change outside the table is a bug in
    # this module, never an accepted request.
    if (agent.state, to) not in LEGAL_AGENT_TRANSITIONS:
        raise AssertionError(f"internal error: {agent.state} -> {to} is not in the transition table")
    return replace(agent, state=to, state_change_time=now, **changes)


def _refuse(agent: Agent, message: str, code: str = INVALID_STATE) -> TransitionError:
    return TransitionError(code, message, agent.state.value)


# --------------------------------------------------------------------------------------------------
# Sign-in (§1.2)
# --------------------------------------------------------------------------------------------------


def sign_in(
    agent: Agent,
    extension: str | None,
    devices: DeviceRegistry,
    now: datetime,
    *,
    platform: Platform = Platform.CCE,
) -> Agent | DeviceError:
    """LOGIN with an extension (§1.2).

    Raises :class:`TransitionError` (synchronous 400) for a missing or malformed extension; returns a
    :class:`DeviceError` (asynchronous, agent unchanged) when the extension is well formed but unusable;
    returns the new snapshot otherwise.  Signing in again on the same extension keeps the current state.
    The caller records the device as in use (``DeviceRegistry.claim``).
    """
    now = to_utc(now)
    if extension is None or not extension.strip():
        raise TransitionError(PARAMETER_MISSING, "extension is required", agent.state.value, synchronous=True)
    pattern = _CCX_EXTENSION if platform is Platform.CCX else _CCE_EXTENSION
    if not pattern.fullmatch(extension):
        raise TransitionError(
            BAD_REQUEST,
            f"extension {extension!r} is not valid on {platform}",
            agent.state.value,
            synchronous=True,
        )
    if agent.state is not AgentState.LOGOUT:
        if extension == agent.extension:
            # Forced re-sign-in: valid credentials, same device, state kept (READY stays READY).
            return agent
        # Not covered by the reference; moving a live agent to another phone mid-shift would orphan any
        # call on the old one, so it must sign out first.
        raise _refuse(agent, f"already signed in on extension {agent.extension}; sign out first")
    device = devices.get(extension)
    if device is None or device.status is not DeviceStatus.REGISTERED:
        return DeviceError(
            code=INVALID_DEVICE,
            message=INVALID_DEVICE_MESSAGE,
            extension=extension,
            error_data=INVALID_DEVICE_ERROR_DATA,
            peripheral_error_code=INVALID_DEVICE_PERIPHERAL_CODE,
            peripheral_error_msg=INVALID_DEVICE_PERIPHERAL_MESSAGE,
        )
    if device.in_use_by is not None and device.in_use_by != agent.agent_id:
        return DeviceError(code=DEVICE_BUSY, message=f"extension {extension} is in use", extension=extension)
    return _move(
        agent,
        AgentState.NOT_READY,
        now,
        extension=extension,
        reason_code=None,
        **_CALL_RESET,
        **_WRAP_UP_RESET,
    )


# --------------------------------------------------------------------------------------------------
# Agent requests (§1.3, §1.4, §1.5)
# --------------------------------------------------------------------------------------------------


def _parse_target(agent: Agent, target: AgentState | str) -> AgentState:
    try:
        return AgentState(target)
    except ValueError:
        raise TransitionError(
            INVALID_INPUT, f"unknown state {target!r}", agent.state.value, synchronous=True
        ) from None


def request_state(
    agent: Agent,
    target: AgentState | str,
    reason_code: int | None,
    now: datetime,
    catalog: ReasonCodeCatalog,
) -> Agent:
    """An agent asks for READY, NOT_READY or LOGOUT (``reason_code`` is the ``reasonCodeId`` it sent).

    While the agent is on a call (TALKING or HOLD) a READY/NOT_READY request is accepted as the pending
    state and applied when the call clears (§1.4); the state and its timestamp do not change now.
    """
    now = to_utc(now)
    wanted = _parse_target(agent, target)
    if wanted not in REQUESTABLE_TARGETS:
        raise _refuse(agent, f"agents cannot set {wanted}; only READY, NOT_READY and LOGOUT (§1.3)")
    if agent.state is AgentState.LOGOUT:
        raise _refuse(agent, "agent is signed out; sign in with an extension first")

    # Finesse validates the body before the CTI server sees it, so reason-code errors win (§1.1, §1.5).
    reason: ReasonCode | None = None
    if wanted is AgentState.READY:
        if reason_code is not None:
            raise TransitionError(
                INVALID_INPUT, "READY does not take a reason code", agent.state.value, synchronous=True
            )
    else:
        reason = catalog.resolve(
            ReasonCategory(wanted.value), reason_code, team_id=agent.team_id, current_state=agent.state.value
        )

    if agent.state in ON_CALL_STATES:
        if wanted is AgentState.LOGOUT:
            raise _refuse(agent, "cannot sign out during a call; LOGOUT only from NOT_READY on CCE (§1.4)")
        return replace(agent, pending_state=wanted, pending_reason_code=reason)

    if (agent.state, wanted) not in AGENT_REQUESTABLE:
        raise _refuse(agent, f"{agent.state} -> {wanted} is not an allowed agent request (§1.4)")
    # Leaving wrap-up early (or any idle change) ends the call episode's bookkeeping.
    return _move(agent, wanted, now, reason_code=reason, **_CALL_RESET, **_WRAP_UP_RESET)


def opt_in_wrap_up(agent: Agent) -> Agent:
    """Choose wrap-up for the current call when the setting is OPTIONAL (§1.6).

    Finesse describes OPTIONAL as the agent choosing wrap-up call by call; the reference gives no request
    for it, so the service exposes this as its own command.  No state change, hence no time argument.
    """
    if agent.state not in ON_CALL_STATES:
        raise _refuse(agent, "wrap-up can only be chosen while on a call")
    if agent.wrap_up.mode_for(agent.call_direction) is not WrapUpMode.OPTIONAL:
        raise _refuse(agent, "wrap-up is not optional for this call", code=INVALID_INPUT)
    return replace(agent, wrap_up_opted_in=True)


# --------------------------------------------------------------------------------------------------
# System events (§1.4, §1.5, §1.6, §2.2)
# --------------------------------------------------------------------------------------------------


class SystemEvent(StrEnum):
    """Call and system happenings that move an agent without an agent request."""

    OFFERED = "OFFERED"  # routed call rings at the agent
    RING_CANCELLED = "RING_CANCELLED"  # call never arrived, or caller abandoned while ringing
    RONA = "RONA"  # ring-no-answer timer expired
    ANSWERED = "ANSWERED"
    DIALING_FROM_READY = "DIALING_FROM_READY"  # CCE 12.5+: forced NOT_READY 50006 before the call
    CALL_PLACED = "CALL_PLACED"  # agent in NOT_READY makes a call
    HELD = "HELD"
    RETRIEVED = "RETRIEVED"
    CALL_ENDED = "CALL_ENDED"  # agent's last leg cleared
    WRAP_UP_EXPIRED = "WRAP_UP_EXPIRED"
    FORCED_NOT_READY = "FORCED_NOT_READY"  # system code given by the caller
    FORCED_LOGOUT = "FORCED_LOGOUT"  # system code given by the caller; from NOT_READY only (CCE)


def _require(agent: Agent, event: SystemEvent, *states: AgentState) -> None:
    if agent.state not in states:
        allowed = ", ".join(s.value for s in states)
        raise _refuse(agent, f"{event} needs the agent in {allowed}")


def _system_code(agent: Agent, reason_code: ReasonCode | None, category: ReasonCategory) -> ReasonCode:
    if reason_code is None or not reason_code.system or reason_code.category is not category:
        raise _refuse(agent, f"a system {category} reason code is required", code=INVALID_INPUT)
    return reason_code


def wrap_up_due(agent: Agent, now: datetime) -> bool:
    """True once a timed wrap-up has run its course; the scheduler then sends WRAP_UP_EXPIRED."""
    return (
        agent.state in WRAP_UP_STATES
        and agent.wrap_up_deadline is not None
        and to_utc(now) >= agent.wrap_up_deadline
    )


def _after_call(agent: Agent, now: datetime) -> Agent:
    # §1.4: back to the state held before the call, unless the agent asked for another one mid-call.
    if agent.pending_state is not None:
        target, reason = agent.pending_state, agent.pending_reason_code
    else:
        target = agent.pre_call_state or AgentState.READY
        reason = agent.pre_call_reason_code
    mode = agent.wrap_up.mode_for(agent.call_direction)
    # REQUIRED_WITH_WRAP_UP_DATA moves states exactly like REQUIRED; entering the data is a dialog matter.
    wraps = mode in (WrapUpMode.REQUIRED, WrapUpMode.REQUIRED_WITH_WRAP_UP_DATA) or (
        mode is WrapUpMode.OPTIONAL and agent.wrap_up_opted_in
    )
    if wraps:
        timer = agent.wrap_up.timer_seconds
        deadline = now + timedelta(seconds=timer) if timer else None
        if target is AgentState.READY:
            return _move(
                agent,
                AgentState.WORK_READY,
                now,
                reason_code=None,
                **_CALL_RESET,
                wrap_up_deadline=deadline,
                after_wrap_up_reason=None,
            )
        return _move(
            agent,
            AgentState.WORK,
            now,
            reason_code=None,
            **_CALL_RESET,
            wrap_up_deadline=deadline,
            after_wrap_up_reason=reason,
        )
    return _move(
        agent,
        target,
        now,
        reason_code=reason if target is AgentState.NOT_READY else None,
        **_CALL_RESET,
        **_WRAP_UP_RESET,
    )


def system_event(
    agent: Agent,
    event: SystemEvent | str,
    now: datetime,
    *,
    reason_code: ReasonCode | None = None,
) -> Agent:
    """Apply one call or system event to an agent; raises ``Invalid State`` when it cannot apply.

    ``reason_code`` overrides RONA's default (CCE 32767) and is required for the forced events.
    """
    now = to_utc(now)
    kind = SystemEvent(event)
    s = AgentState
    match kind:
        case SystemEvent.OFFERED:
            # §6: an agent is never offered a call unless READY.
            _require(agent, kind, s.READY)
            return _move(
                agent,
                s.RESERVED,
                now,
                reason_code=None,
                pre_call_state=s.READY,
                pre_call_reason_code=None,
                call_direction=CallDirection.INCOMING,
            )
        case SystemEvent.RING_CANCELLED:
            _require(agent, kind, s.RESERVED)
            return _move(agent, s.READY, now, **_CALL_RESET)
        case SystemEvent.RONA:
            _require(agent, kind, s.RESERVED)
            code = reason_code or CCE_RONA
            return _move(agent, s.NOT_READY, now, reason_code=_system_code(agent, code, _NR), **_CALL_RESET)
        case SystemEvent.ANSWERED:
            _require(agent, kind, s.RESERVED)
            return _move(agent, s.TALKING, now)
        case SystemEvent.DIALING_FROM_READY:
            _require(agent, kind, s.READY)
            return _move(agent, s.NOT_READY, now, reason_code=CCE_NR_DIALING_FROM_READY)
        case SystemEvent.CALL_PLACED:
            _require(agent, kind, s.NOT_READY)
            return _move(
                agent,
                s.TALKING,
                now,
                reason_code=None,
                pre_call_state=s.NOT_READY,
                pre_call_reason_code=agent.reason_code,
                call_direction=CallDirection.OUTGOING,
            )
        case SystemEvent.HELD:
            _require(agent, kind, s.TALKING)
            return _move(agent, s.HOLD, now)
        case SystemEvent.RETRIEVED:
            _require(agent, kind, s.HOLD)
            return _move(agent, s.TALKING, now)
        case SystemEvent.CALL_ENDED:
            _require(agent, kind, s.TALKING, s.HOLD)
            return _after_call(agent, now)
        case SystemEvent.WRAP_UP_EXPIRED:
            _require(agent, kind, s.WORK, s.WORK_READY)
            if not wrap_up_due(agent, now):
                raise _refuse(agent, "wrap-up timer has not expired")
            if agent.state is s.WORK_READY:
                return _move(agent, s.READY, now, reason_code=None, **_WRAP_UP_RESET)
            return _move(agent, s.NOT_READY, now, reason_code=agent.after_wrap_up_reason, **_WRAP_UP_RESET)
        case SystemEvent.FORCED_NOT_READY:
            _require(agent, kind, s.READY, s.NOT_READY, s.WORK, s.WORK_READY)
            code = _system_code(agent, reason_code, _NR)
            return _move(agent, s.NOT_READY, now, reason_code=code, **_CALL_RESET, **_WRAP_UP_RESET)
        case SystemEvent.FORCED_LOGOUT:
            _require(agent, kind, s.NOT_READY)
            code = _system_code(agent, reason_code, _LO)
            return _move(agent, s.LOGOUT, now, reason_code=code, **_CALL_RESET, **_WRAP_UP_RESET)
    raise AssertionError(f"unhandled system event {kind}")  # pragma: no cover - match is exhaustive


def force_logout(agent: Agent, reason_code: ReasonCode, now: datetime) -> tuple[Agent, ...]:
    """Sign an idle agent out for a system reason, as the CCE sequence does (§1.5: 20003 then LOGOUT).

    Returns every intermediate snapshot so each can be published.  An agent on a call is refused: the
    call has to clear first, because the table has no way from RESERVED/TALKING/HOLD to LOGOUT.
    """
    steps: list[Agent] = []
    current = agent
    if current.state in (AgentState.READY, AgentState.WORK, AgentState.WORK_READY):
        current = system_event(current, SystemEvent.FORCED_NOT_READY, now, reason_code=CCE_NR_FORCED_LOGOUT)
        steps.append(current)
    steps.append(system_event(current, SystemEvent.FORCED_LOGOUT, now, reason_code=reason_code))
    return tuple(steps)


def supervisor_request(agent: Agent, target: AgentState | str, now: datetime) -> Agent:
    """A supervisor changes a team member's state (§1.4, CCE).

    Only READY, NOT_READY and LOGOUT; NOT_READY only from READY/WORK/WORK_READY and without a reason
    code, so the system uses 999.  LOGOUT follows the agent rule (NOT_READY only) and also records 999.
    """
    now = to_utc(now)
    wanted = _parse_target(agent, target)
    s = AgentState
    if wanted is s.READY and agent.state in (s.NOT_READY, s.WORK, s.WORK_READY):
        return _move(agent, s.READY, now, reason_code=None, **_CALL_RESET, **_WRAP_UP_RESET)
    if wanted is s.NOT_READY and agent.state in (s.READY, s.WORK, s.WORK_READY):
        return _move(agent, s.NOT_READY, now, reason_code=CCE_NR_SUPERVISOR, **_CALL_RESET, **_WRAP_UP_RESET)
    if wanted is s.LOGOUT and agent.state is s.NOT_READY:
        return _move(agent, s.LOGOUT, now, reason_code=CCE_LO_SUPERVISOR, **_CALL_RESET, **_WRAP_UP_RESET)
    raise _refuse(agent, f"a supervisor cannot move an agent from {agent.state} to {wanted}")
