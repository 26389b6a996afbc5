"""Agent states, Finesse error types and the §1.4 transition table (CCE) of the agent state machine.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# Section numbers in comments refer to the project's telephony reference (Cisco Finesse agent model).
# Everything here is pure: values in, values out; nothing is stored, awaited or published.

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
