"""The agent snapshot (§1.9) and the devices agents sign in on (§1.2), as immutable values.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from core.telephony.reason_codes import ReasonCode, WrapUpSettings
from core.telephony.states import AgentState, CallDirection

# Section numbers in comments refer to the project's telephony reference (Cisco Finesse agent model).
# Everything here is pure: values in, values out; nothing is stored, awaited or published.

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
    wrap_up: WrapUpSettings = WrapUpSettings()  # noqa: RUF009 (frozen, so one shared default is safe)
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
