"""Reason codes (§1.5): configured and system Not Ready / Logout codes, and wrap-up settings (§1.6).

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from core.telephony.states import (
    INVALID_INPUT,
    PARAMETER_MISSING,
    REASON_CODE_REQUIRED_KEY,
    CallDirection,
    Platform,
    TransitionError,
)

# Section numbers in comments refer to the project's telephony reference (Cisco Finesse agent model).
# Everything here is pure: values in, values out; nothing is stored, awaited or published.

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
