"""Finesse-style agent state machine: states, legal transitions, reason codes, sign-in and wrap-up."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

# Section numbers in comments refer to the project's telephony reference (Cisco Finesse agent model).
# Everything here is pure: callers pass the current snapshot and the time, and get a new snapshot back
# (or an error).  Nothing is stored, awaited or published from this module.


# --------------------------------------------------------------------------------------------------
# States (§1.3)
# --------------------------------------------------------------------------------------------------


class AgentState(StrEnum):
    """Voice agent states an agent can rest in (§1.3).

    HOLD is kept although a call's held leg is a *participant* state (§1.7): Finesse on CCE also reports
    the agent itself as HOLD while its only call is held, and four rows of the §1.4 table use it.  LOGIN is
    transient (it always resolves to NOT_READY), so it is an action (:func:`sign_in`), not a state.
    RESERVED_OUTBOUND(_PREVIEW) and UNKNOWN are not modelled; see ``NOT_MODELLED`` below.
    """

    LOGOUT = "LOGOUT"
    NOT_READY = "NOT_READY"
    READY = "READY"
    RESERVED = "RESERVED"
    TALKING = "TALKING"
    HOLD = "HOLD"
    WORK = "WORK"
    WORK_READY = "WORK_READY"


class Platform(StrEnum):
    """Contact-centre flavour behind Finesse; only matters for keying system reason codes (§1.5)."""

    CCE = "CCE"
    CCX = "CCX"


class CallDirection(StrEnum):
    """Which wrap-up setting applies when the call ends (§1.6: wrapUpOnIncoming / wrapUpOnOutgoing)."""

    INCOMING = "INCOMING"
    OUTGOING = "OUTGOING"


# --------------------------------------------------------------------------------------------------
# Errors (§1.1, §1.2, §1.5)
# --------------------------------------------------------------------------------------------------

# Finesse ``errorType`` values this model produces.
INVALID_STATE = "Invalid State"
INVALID_DEVICE = "Invalid Device"
DEVICE_BUSY = "Device Busy"
PARAMETER_MISSING = "Parameter Missing"
BAD_REQUEST = "Bad Request"
INVALID_INPUT = "Invalid Input"
GENERIC_ERROR = "Generic Error"

# §1.5: the message key Finesse returns when a NOT_READY (or LOGOUT) request lacks a reason code.
REASON_CODE_REQUIRED_KEY = "finesse.api.reasoncode.require_reasoncode"


class TelephonyError(Exception):
    """A refused telephony command, shaped like a Finesse ``apiError``.

    ``synchronous`` separates the two channels of §1.1: True means Finesse itself rejects the request
    (HTTP 4xx straight away); False means the request is accepted with 202 and the error arrives later as
    a notification.  The service layer uses it to pick the channel; the domain decision is the same.
    """

    def __init__(
        self,
        code: str,
        message: str,
        current_state: str | None,
        *,
        synchronous: bool = False,
        error_data: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.current_state = current_state
        self.synchronous = synchronous
        self.error_data = error_data

    def to_api_error(self) -> dict[str, Any]:
        """The ``apiErrors/apiError`` payload a notification would carry."""
        return {
            "errorType": self.code,
            "errorMessage": self.message,
            "errorData": "" if self.error_data is None else str(self.error_data),
        }


class TransitionError(TelephonyError):
    """An agent state request or system event that the §1.4 table (or a §1.5 rule) does not allow."""


# --------------------------------------------------------------------------------------------------
# Transition table (§1.4, CCE)
# --------------------------------------------------------------------------------------------------


class Trigger(StrEnum):
    """Who causes a transition: the agent through the state API, sign-in, or the phone system."""

    AGENT = "AGENT"
    SIGN_IN = "SIGN_IN"
    SYSTEM = "SYSTEM"


@dataclass(frozen=True, slots=True)
class TransitionRule:
    """One row of the transition table, split per (from, to, trigger)."""

    from_state: AgentState
    to_state: AgentState
    trigger: Trigger
    why: str


_S = AgentState
_A, _L, _Y = Trigger.AGENT, Trigger.SIGN_IN, Trigger.SYSTEM

# The §1.4 table for CCE, one entry per pair and trigger.  A pair may appear with more than one trigger
# (READY -> NOT_READY is both an agent request and the CCE 12.5+ forced change when dialling from READY).
TRANSITION_TABLE: tuple[TransitionRule, ...] = (
    TransitionRule(_S.LOGOUT, _S.NOT_READY, _L, "sign-in; LOGIN is transient and lands in NOT_READY"),
    TransitionRule(_S.NOT_READY, _S.NOT_READY, _A, "change of Not Ready reason code"),
    TransitionRule(_S.NOT_READY, _S.READY, _A, "agent request"),
    TransitionRule(_S.NOT_READY, _S.LOGOUT, _A, "agent request; CCE allows LOGOUT only from NOT_READY"),
    TransitionRule(_S.READY, _S.NOT_READY, _A, "agent request"),
    TransitionRule(_S.WORK_READY, _S.READY, _A, "agent leaves wrap-up early"),
    TransitionRule(_S.WORK_READY, _S.NOT_READY, _A, "agent leaves wrap-up early"),
    TransitionRule(_S.WORK, _S.NOT_READY, _A, "agent leaves wrap-up early"),
    TransitionRule(_S.WORK, _S.READY, _A, "agent leaves wrap-up early"),
    TransitionRule(_S.NOT_READY, _S.TALKING, _Y, "agent places a call"),
    TransitionRule(_S.READY, _S.NOT_READY, _Y, "CCE 12.5+: dialling from READY forces NOT_READY (50006)"),
    TransitionRule(_S.READY, _S.RESERVED, _Y, "routed call starts ringing"),
    TransitionRule(_S.RESERVED, _S.TALKING, _Y, "agent answers"),
    TransitionRule(_S.RESERVED, _S.READY, _Y, "call never arrives or caller abandons while ringing"),
    TransitionRule(_S.RESERVED, _S.NOT_READY, _Y, "ring-no-answer (RONA, code 32767)"),
    TransitionRule(_S.TALKING, _S.HOLD, _Y, "hold"),
    TransitionRule(_S.HOLD, _S.TALKING, _Y, "retrieve"),
    TransitionRule(_S.TALKING, _S.READY, _Y, "call ends, no wrap-up; back to pre-call or pending state"),
    TransitionRule(_S.TALKING, _S.NOT_READY, _Y, "call ends, no wrap-up; back to pre-call or pending state"),
    TransitionRule(_S.HOLD, _S.READY, _Y, "call ends, no wrap-up; back to pre-call or pending state"),
    TransitionRule(_S.HOLD, _S.NOT_READY, _Y, "call ends, no wrap-up; back to pre-call or pending state"),
    TransitionRule(_S.TALKING, _S.WORK_READY, _Y, "call ends, wrap-up, agent was or asked READY"),
    TransitionRule(_S.HOLD, _S.WORK_READY, _Y, "call ends, wrap-up, agent was or asked READY"),
    TransitionRule(_S.TALKING, _S.WORK, _Y, "call ends, wrap-up, agent was or asked NOT_READY"),
    TransitionRule(_S.HOLD, _S.WORK, _Y, "call ends, wrap-up, agent was or asked NOT_READY"),
    TransitionRule(_S.WORK_READY, _S.READY, _Y, "wrap-up timer expires"),
    TransitionRule(_S.WORK, _S.NOT_READY, _Y, "wrap-up timer expires"),
    # System- or supervisor-driven use of pairs the table already lists for agents (§1.4 supervisor
    # rules, §1.5 system codes): forced Not Ready and forced sign-out.
    TransitionRule(_S.NOT_READY, _S.NOT_READY, _Y, "system or supervisor sets a Not Ready code"),
    TransitionRule(_S.WORK, _S.NOT_READY, _Y, "supervisor sets NOT_READY (code 999)"),
    TransitionRule(_S.WORK_READY, _S.NOT_READY, _Y, "supervisor sets NOT_READY (code 999)"),
    TransitionRule(_S.NOT_READY, _S.READY, _Y, "supervisor sets READY"),
    TransitionRule(_S.WORK, _S.READY, _Y, "supervisor sets READY"),
    TransitionRule(_S.WORK_READY, _S.READY, _Y, "supervisor sets READY"),
    TransitionRule(_S.NOT_READY, _S.LOGOUT, _Y, "forced or supervisor sign-out"),
)

# Rows of the §1.4 table deliberately left out: this hub routes inbound utility calls only (no Outbound
# Option campaigns) and does not simulate failover, and those states have no exit in the table.
NOT_MODELLED: tuple[str, ...] = (
    "READY -> RESERVED_OUTBOUND / RESERVED_OUTBOUND_PREVIEW (outbound campaign reservation)",
    "any -> UNKNOWN (state cannot be determined; Cisco notes any->any under failover)",
)

# CCX differences (§1.4), recorded but not implemented (this model is CCE):
#   - LOGOUT is also allowed from READY;
#   - there is no WORK_READY (wrap-up is WORK only);
#   - a pending READY during an ICD call is refused (Invalid State / CF_INVALID_AGENT_WORKMODE, 265) and only
#     one pending NOT_READY is allowed;
#   - agents cannot leave RESERVED_OUTBOUND; non-ICD calls produce no TALKING/HOLD user events and an agent
#     on hold stays TALKING;
#   - RONA uses 32763 and supervisor Not Ready uses 33 (system codes below are keyed by platform).

LEGAL_AGENT_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    (r.from_state, r.to_state) for r in TRANSITION_TABLE
)
AGENT_REQUESTABLE: frozenset[tuple[str, str]] = frozenset(
    (r.from_state, r.to_state) for r in TRANSITION_TABLE if r.trigger is Trigger.AGENT
)
SIGN_IN_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    (r.from_state, r.to_state) for r in TRANSITION_TABLE if r.trigger is Trigger.SIGN_IN
)
SYSTEM_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    (r.from_state, r.to_state) for r in TRANSITION_TABLE if r.trigger is Trigger.SYSTEM
)

# §1.3: the only states an agent may ask for (LOGIN goes through sign_in).
REQUESTABLE_TARGETS: frozenset[AgentState] = frozenset({_S.READY, _S.NOT_READY, _S.LOGOUT})
# §1.4 pending state: a READY/NOT_READY request during a call is deferred until the call clears.
ON_CALL_STATES: frozenset[AgentState] = frozenset({_S.TALKING, _S.HOLD})
WRAP_UP_STATES: frozenset[AgentState] = frozenset({_S.WORK, _S.WORK_READY})


# --------------------------------------------------------------------------------------------------
# Reason codes (§1.5)
# --------------------------------------------------------------------------------------------------


class ReasonCategory(StrEnum):
    NOT_READY = "NOT_READY"
    LOGOUT = "LOGOUT"


@dataclass(frozen=True, slots=True)
class ReasonCode:
    """A Not Ready or Logout reason code (§1.5).

    ``id`` is the Finesse database id that requests send as ``reasonCodeId``; sites that do not keep one
    let the ``code`` stand in.  System codes have no database id (the ReasonCode API does not list them),
    so their ``reasonCodeId`` in events is -1, the value Finesse uses when none applies.
    """

    code: int
    label: str
    category: ReasonCategory
    system: bool = False
    id: int | None = None
    for_all: bool = True
    team_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "category", ReasonCategory(self.category))
        if not self.label or len(self.label) > 40:
            raise ValueError("reason code label must be 1-40 characters (§1.5)")
        if not self.system and not 1 <= self.code <= 65535:
            raise ValueError("configured reason codes must be 1-65535 (§1.5, CCE range)")

    @property
    def reason_code_id(self) -> int:
        if self.system:
            return -1
        return self.id if self.id is not None else self.code

    def visible_to(self, team_id: str | None) -> bool:
        return self.for_all or (team_id is not None and team_id in self.team_ids)

    def to_event_dict(self) -> dict[str, Any]:
        rc_id = self.reason_code_id
        return {
            "uri": f"/finesse/api/ReasonCode/{rc_id}" if rc_id >= 0 else "",
            "id": rc_id,
            "code": self.code,
            "label": self.label,
            "category": self.category.value,
            "systemCode": self.system,
            "forAll": self.for_all,
        }


def _sys(code: int, label: str, category: ReasonCategory) -> ReasonCode:
    return ReasonCode(code=code, label=label, category=category, system=True)


_NR, _LO = ReasonCategory.NOT_READY, ReasonCategory.LOGOUT

# CCE system Not Ready codes (§1.5).
CCE_RONA = _sys(32767, "Ring no answer: call redirected", _NR)
CCE_NR_CTI_CLIENT_FAILURE = _sys(50002, "CTI client failure", _NR)
CCE_NR_NON_ACD_CALL = _sys(50005, "Non-ACD call", _NR)
CCE_NR_DIALING_FROM_READY = _sys(50006, "Agent dialled while Ready", _NR)
CCE_NR_CALLS_NEVER_ARRIVED = _sys(50010, "Two routed calls never arrived", _NR)
CCE_NR_MOBILE_LINE_BUSY = _sys(50041, "Mobile agent line busy", _NR)
CCE_NR_SUPERVISOR = _sys(999, "Set Not Ready by supervisor", _NR)
CCE_NR_FORCED_LOGOUT_FIRST = _sys(20001, "Not Ready before forced sign-out", _NR)
CCE_NR_FORCED_LOGOUT = _sys(20003, "Not Ready while being signed out", _NR)
# CCE system Logout codes (§1.5).
CCE_LO_CTI_DISCONNECT = _sys(50001, "CTI connection lost", _LO)
CCE_LO_CTI_FAILURE = _sys(50002, "CTI failure", _LO)
CCE_LO_DEVICE_OUT_OF_SERVICE = _sys(50003, "Device out of service", _LO)
CCE_LO_INACTIVITY = _sys(50004, "Inactivity timeout", _LO)
CCE_LO_SKILL_GROUP_CHANGED = _sys(50020, "Skill group changed", _LO)
CCE_LO_SUPERVISOR = _sys(999, "Signed out by supervisor", _LO)
CCE_LO_PERIPHERAL_RESET = _sys(-1, "Peripheral reset", _LO)
CCE_LO_PG_RESET = _sys(-2, "PG reset", _LO)
CCE_LO_EXTENSION_CHANGED = _sys(-3, "Extension changed", _LO)
# CCX system codes (§1.5).  Note 32767 means something else on CCX, hence the platform key.
CCX_RONA = _sys(32763, "Ring no answer", _NR)
CCX_NR_OFF_HOOK = _sys(32762, "Phone off hook", _NR)
CCX_NR_NON_ICD_CALL = _sys(32761, "Non-ICD call", _NR)
CCX_NR_WORK_TIMER_EXPIRED = _sys(32758, "Work timer expired", _NR)
CCX_NR_SUPERVISOR = _sys(33, "Set Not Ready by supervisor", _NR)
CCX_LO_EXTENSION_CONFLICT = _sys(32741, "Extension conflict", _LO)
CCX_LO_RELOGIN_ELSEWHERE = _sys(32740, "Signed in elsewhere", _LO)
CCX_LO_DESKTOP_FAILURE = _sys(255, "Desktop connection failure", _LO)
CCX_LO_SUPERVISOR = _sys(22, "Signed out by supervisor", _LO)

SYSTEM_REASON_CODES: Mapping[tuple[Platform, ReasonCategory, int], ReasonCode] = MappingProxyType(
    {
        **{
            (Platform.CCE, rc.category, rc.code): rc
            for rc in (
                CCE_RONA,
                CCE_NR_CTI_CLIENT_FAILURE,
                CCE_NR_NON_ACD_CALL,
                CCE_NR_DIALING_FROM_READY,
                CCE_NR_CALLS_NEVER_ARRIVED,
                CCE_NR_MOBILE_LINE_BUSY,
                CCE_NR_SUPERVISOR,
                CCE_NR_FORCED_LOGOUT_FIRST,
                CCE_NR_FORCED_LOGOUT,
                CCE_LO_CTI_DISCONNECT,
                CCE_LO_CTI_FAILURE,
                CCE_LO_DEVICE_OUT_OF_SERVICE,
                CCE_LO_INACTIVITY,
                CCE_LO_SKILL_GROUP_CHANGED,
                CCE_LO_SUPERVISOR,
                CCE_LO_PERIPHERAL_RESET,
                CCE_LO_PG_RESET,
                CCE_LO_EXTENSION_CHANGED,
            )
        },
        **{
            (Platform.CCX, rc.category, rc.code): rc
            for rc in (
                CCX_RONA,
                CCX_NR_OFF_HOOK,
                CCX_NR_NON_ICD_CALL,
                CCX_NR_WORK_TIMER_EXPIRED,
                CCX_NR_SUPERVISOR,
                CCX_LO_EXTENSION_CONFLICT,
                CCX_LO_RELOGIN_ELSEWHERE,
                CCX_LO_DESKTOP_FAILURE,
                CCX_LO_SUPERVISOR,
            )
        },
    }
)


def system_reason_code(platform: Platform, category: ReasonCategory, code: int) -> ReasonCode | None:
    """Look up a predefined code; keyed by platform because numbers collide across CCE and CCX (§1.5)."""
    return SYSTEM_REASON_CODES.get((Platform(platform), ReasonCategory(category), code))


class ReasonCodeCatalog:
    """The site's configured reason codes, and the §1.5 rules for requests that carry (or lack) one."""

    def __init__(self, codes: Iterable[ReasonCode] = ()) -> None:
        by_category: dict[ReasonCategory, list[ReasonCode]] = {c: [] for c in ReasonCategory}
        for rc in codes:
            if rc.system:
                # System codes are emitted by the phone system and never offered to agents (§1.5).
                raise ValueError(f"system reason code {rc.code} cannot be configured")
            same = by_category[rc.category]
            if any(o.reason_code_id == rc.reason_code_id for o in same):
                raise ValueError(f"duplicate {rc.category} reason code id {rc.reason_code_id}")
            if any(o.code == rc.code for o in same):
                raise ValueError(f"duplicate {rc.category} reason code {rc.code}")
            if any(o.label == rc.label for o in same):
                raise ValueError(f"duplicate {rc.category} reason label {rc.label!r} (labels are unique)")
            same.append(rc)
        self._codes: Mapping[ReasonCategory, tuple[ReasonCode, ...]] = MappingProxyType(
            {c: tuple(v) for c, v in by_category.items()}
        )

    def codes(self, category: ReasonCategory, team_id: str | None = None) -> tuple[ReasonCode, ...]:
        """Codes an agent of ``team_id`` may choose from (global ones plus its team's)."""
        return tuple(rc for rc in self._codes[ReasonCategory(category)] if rc.visible_to(team_id))

    def requires_code(self, category: ReasonCategory, team_id: str | None = None) -> bool:
        return bool(self.codes(category, team_id))

    def resolve(
        self,
        category: ReasonCategory,
        reason_code_id: int | None,
        *,
        team_id: str | None = None,
        current_state: str | None = None,
    ) -> ReasonCode | None:
        """Validate an agent-chosen ``reasonCodeId`` for a NOT_READY or LOGOUT request.

        These are Finesse-side checks, so errors are synchronous (HTTP 400) per §1.1/§1.5.
        """
        category = ReasonCategory(category)
        available = self.codes(category, team_id)
        if reason_code_id is None:
            if available:
                raise TransitionError(
                    PARAMETER_MISSING, REASON_CODE_REQUIRED_KEY, current_state, synchronous=True
                )
            return None
        for rc in available:
            if rc.reason_code_id == reason_code_id:
                return rc
        if any(rc.code == reason_code_id for rc in SYSTEM_REASON_CODES.values() if rc.category is category):
            raise TransitionError(
                INVALID_INPUT,
                f"reason code {reason_code_id} is a system code and cannot be chosen by an agent",
                current_state,
                synchronous=True,
            )
        raise TransitionError(
            INVALID_INPUT, f"unknown {category} reason code {reason_code_id}", current_state, synchronous=True
        )


# --------------------------------------------------------------------------------------------------
# Wrap-up (§1.6)
# --------------------------------------------------------------------------------------------------


class WrapUpMode(StrEnum):
    """Per-user ``wrapUpOnIncoming`` / ``wrapUpOnOutgoing`` values (§1.6)."""

    REQUIRED = "REQUIRED"
    OPTIONAL = "OPTIONAL"
    NOT_ALLOWED = "NOT_ALLOWED"
    REQUIRED_WITH_WRAP_UP_DATA = "REQUIRED_WITH_WRAP_UP_DATA"


@dataclass(frozen=True, slots=True)
class WrapUpSettings:
    """Wrap-up configuration carried in the User object (§1.6, §1.9).

    ``timer_seconds`` 0 means untimed: the agent stays in WORK/WORK_READY until it asks to leave.
    """

    on_incoming: WrapUpMode = WrapUpMode.OPTIONAL
    on_outgoing: WrapUpMode = WrapUpMode.OPTIONAL
    timer_seconds: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "on_incoming", WrapUpMode(self.on_incoming))
        object.__setattr__(self, "on_outgoing", WrapUpMode(self.on_outgoing))
        if self.timer_seconds < 0:
            raise ValueError("wrap-up timer cannot be negative")

    def mode_for(self, direction: CallDirection | None) -> WrapUpMode:
        return self.on_outgoing if direction is CallDirection.OUTGOING else self.on_incoming


@dataclass(frozen=True, slots=True)
class WrapUpReason:
    """A wrap-up reason an agent may attach to a call (§1.6); global or limited to some teams."""

    label: str
    for_all: bool = True
    team_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.label or len(self.label) > 40:
            raise ValueError("wrap-up reason label must be 1-40 characters")


class WrapUpReasonList:
    """The site's wrap-up reasons; validates the label set on a call through UPDATE_CALL_DATA (§1.6)."""

    def __init__(self, reasons: Iterable[WrapUpReason] = ()) -> None:
        self._reasons = tuple(reasons)
        labels = [r.label for r in self._reasons]
        if len(labels) != len(set(labels)):
            raise ValueError("wrap-up reason labels must be unique")

    def reasons(self, team_id: str | None = None) -> tuple[WrapUpReason, ...]:
        return tuple(r for r in self._reasons if r.for_all or (team_id is not None and team_id in r.team_ids))

    def is_allowed(self, label: str, team_id: str | None = None) -> bool:
        return any(r.label == label for r in self.reasons(team_id))


# --------------------------------------------------------------------------------------------------
# Devices and sign-in (§1.2)
# --------------------------------------------------------------------------------------------------


class DeviceStatus(StrEnum):
    """What the phone system knows about an extension.  All but REGISTERED fail sign-in the same way."""

    REGISTERED = "REGISTERED"
    OFFLINE = "OFFLINE"
    UNASSOCIATED = "UNASSOCIATED"  # exists but not associated with the CTI/JTAPI user
    MISCONFIGURED = "MISCONFIGURED"  # e.g. a multiline device set up wrongly


@dataclass(frozen=True, slots=True)
class Device:
    extension: str
    status: DeviceStatus = DeviceStatus.REGISTERED
    in_use_by: str | None = None  # agent id signed in on it


@dataclass(frozen=True)
class DeviceRegistry:
    """Extensions the phone system knows, by extension; a value, so updates return a new registry."""

    devices: Mapping[str, Device] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "devices", MappingProxyType(dict(self.devices)))

    @classmethod
    def of(cls, *devices: Device) -> DeviceRegistry:
        return cls({d.extension: d for d in devices})

    def get(self, extension: str) -> Device | None:
        return self.devices.get(extension)

    def with_device(self, device: Device) -> DeviceRegistry:
        return DeviceRegistry({**self.devices, device.extension: device})

    def claim(self, extension: str, agent_id: str) -> DeviceRegistry:
        """Mark the extension as in use after a successful sign-in."""
        return self.with_device(replace(self.devices[extension], in_use_by=agent_id))

    def release(self, extension: str) -> DeviceRegistry:
        """Free the extension after sign-out."""
        return self.with_device(replace(self.devices[extension], in_use_by=None))


# §1.2: values from a captured Finesse 12.5 payload for an unusable sign-in device.
INVALID_DEVICE_MESSAGE = "CF_INVALID_LOGON_DEVICE_SPECIFIED"
INVALID_DEVICE_ERROR_DATA = 260
INVALID_DEVICE_PERIPHERAL_CODE = 10125
INVALID_DEVICE_PERIPHERAL_MESSAGE = "PERERR_TELDRIVE_NODEVICETARGETFORNETTARGETID"


@dataclass(frozen=True, slots=True)
class DeviceError:
    """The asynchronous sign-in failure of §1.2: the request was accepted (202) but the device is unusable.

    Returned rather than raised because it is an outcome to publish on the user's node, not a refusal of
    the request; the agent snapshot is left exactly as it was.
    """

    code: str  # errorType: "Invalid Device" or "Device Busy"
    message: str
    extension: str
    error_data: int | None = None
    peripheral_error_code: int | None = None
    peripheral_error_msg: str | None = None

    def to_api_error(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "errorType": self.code,
            "errorMessage": self.message,
            "errorData": "" if self.error_data is None else str(self.error_data),
        }
        if self.peripheral_error_code is not None:
            payload["peripheralErrorCode"] = str(self.peripheral_error_code)
            payload["peripheralErrorMsg"] = self.peripheral_error_msg or ""
        return payload


# CCE sign-in extensions are digits only; CCX also accepts E.164 with a leading "+", at most 15 characters
# including it (§1.2).
_CCE_EXTENSION = re.compile(r"\d{1,15}")
_CCX_EXTENSION = re.compile(r"\+?\d{1,14}|\d{15}")


# --------------------------------------------------------------------------------------------------
# Agent snapshot (§1.9)
# --------------------------------------------------------------------------------------------------


def to_utc(moment: datetime) -> datetime:
    """Normalise to UTC, refusing naive datetimes (storage and events are UTC; a naive time is a bug)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("telephony times must be timezone-aware")
    return moment.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a Z suffix, the Finesse ``stateChangeTime`` form (§1.9)."""
    return to_utc(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Agent:
    """One agent's full state, immutable.  Every change yields a new snapshot to store and publish.

    The ``pre_call_*``, ``after_wrap_up_reason`` and ``wrap_up_deadline`` fields are bookkeeping the phone
    system keeps privately; they are not part of the Finesse User object and so not in the event dict.
    """

    agent_id: str
    state: AgentState
    state_change_time: datetime
    extension: str | None = None
    reason_code: ReasonCode | None = None
    pending_state: AgentState | None = None
    pending_reason_code: ReasonCode | None = None
    wrap_up: WrapUpSettings = WrapUpSettings()
    wrap_up_deadline: datetime | None = None
    wrap_up_opted_in: bool = False
    after_wrap_up_reason: ReasonCode | None = None
    pre_call_state: AgentState | None = None
    pre_call_reason_code: ReasonCode | None = None
    call_direction: CallDirection | None = None
    team_id: str | None = None
    team_name: str | None = None
    login_name: str = ""
    first_name: str = ""
    last_name: str = ""
    roles: tuple[str, ...] = ("Agent",)
    media_type: str = "Voice"

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", AgentState(self.state))
        object.__setattr__(self, "state_change_time", to_utc(self.state_change_time))
        if self.wrap_up_deadline is not None:
            object.__setattr__(self, "wrap_up_deadline", to_utc(self.wrap_up_deadline))
        if self.pending_state is not None:
            object.__setattr__(self, "pending_state", AgentState(self.pending_state))

    @classmethod
    def signed_out(
        cls,
        agent_id: str,
        now: datetime,
        *,
        wrap_up: WrapUpSettings | None = None,
        team_id: str | None = None,
        team_name: str | None = None,
        login_name: str = "",
        first_name: str = "",
        last_name: str = "",
        roles: tuple[str, ...] = ("Agent",),
    ) -> Agent:
        """A fresh agent profile in LOGOUT, the starting point for :func:`sign_in`."""
        return cls(
            agent_id=agent_id,
            state=AgentState.LOGOUT,
            state_change_time=now,
            wrap_up=wrap_up or WrapUpSettings(),
            team_id=team_id,
            team_name=team_name,
            login_name=login_name,
            first_name=first_name,
            last_name=last_name,
            roles=roles,
        )

    def to_event_dict(self) -> dict[str, Any]:
        """The full User snapshot a state-change notification carries (§1.9), camelCase like Finesse."""
        payload: dict[str, Any] = {
            "uri": f"/finesse/api/User/{self.agent_id}",
            "loginId": self.agent_id,
            "loginName": self.login_name,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "extension": self.extension or "",
            "dialogs": f"/finesse/api/User/{self.agent_id}/Dialogs",
            "roles": list(self.roles),
            "teamId": self.team_id or "",
            "teamName": self.team_name or "",
            "state": self.state.value,
            "stateChangeTime": iso_utc(self.state_change_time),
            "pendingState": self.pending_state.value if self.pending_state else "",
            "reasonCodeId": self.reason_code.reason_code_id if self.reason_code else -1,
            "settings": {
                "wrapUpOnIncoming": self.wrap_up.on_incoming.value,
                "wrapUpOnOutgoing": self.wrap_up.on_outgoing.value,
            },
            "wrapUpTimer": self.wrap_up.timer_seconds,
            "mediaType": self.media_type,
        }
        if self.reason_code is not None:
            payload["ReasonCode"] = self.reason_code.to_event_dict()
        return payload


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
