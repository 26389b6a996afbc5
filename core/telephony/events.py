"""Events the telephony part publishes: full agent and dialog snapshots (Finesse-style) and async errors.

Finesse notifications carry the whole User or Dialog object, never a delta (docs/telephony.md §1.9), so these
payloads do too; consumers diff consecutive snapshots.  Field names stay camelCase as Finesse spells them.
The dialog payloads carry the caller's number (ANI) but nothing else about the customer: call variables
are redacted before they are stored.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import msgspec

from core.bus import Envelope
from core.contract import EventType

AGENT_STATE_CHANGED = "hub.phone.agent.state_changed"
AGENT_ERROR = "hub.phone.agent.error"
DIALOG_CREATED = "hub.phone.dialog.created"
DIALOG_UPDATED = "hub.phone.dialog.updated"
DIALOG_ENDED = "hub.phone.dialog.ended"
ALL_EVENTS = "hub.phone.>"


class ReasonCodeInfo(msgspec.Struct, frozen=True, kw_only=True):
    """The ``ReasonCode`` block of a User object (§1.5); ``id`` is -1 for system codes."""

    uri: str
    id: int
    code: int
    label: str
    category: str
    systemCode: bool
    forAll: bool


class WrapUpModes(msgspec.Struct, frozen=True, kw_only=True):
    wrapUpOnIncoming: str
    wrapUpOnOutgoing: str


class AgentSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The full Finesse User object (§1.9); the payload of ``hub.phone.agent.state_changed``."""

    uri: str
    loginId: str
    loginName: str
    firstName: str
    lastName: str
    extension: str
    dialogs: str
    roles: list[str]
    teamId: str
    teamName: str
    state: str
    stateChangeTime: str
    pendingState: str
    reasonCodeId: int
    settings: WrapUpModes
    wrapUpTimer: int
    mediaType: str
    reasonCode: ReasonCodeInfo | None = msgspec.field(default=None, name="ReasonCode")


class CallVariable(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    value: str


class MediaProperties(msgspec.Struct, frozen=True, kw_only=True):
    dialedNumber: str
    DNIS: str
    callType: str
    queueNumber: str
    queueName: str
    wrapUpReason: str
    callvariables: list[CallVariable]


class ParticipantSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    mediaAddress: str
    mediaAddressType: str
    state: str
    stateCause: str
    startTime: str
    stateChangeTime: str
    actions: list[str]


class DialogSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The Finesse Dialog object (§1.7)."""

    id: str
    uri: str
    associatedDialogUri: str
    secondaryId: str
    mediaType: str
    fromAddress: str
    toAddress: str
    state: str
    mediaProperties: MediaProperties
    participants: list[ParticipantSnapshot]


class DialogEvent(msgspec.Struct, frozen=True, kw_only=True):
    """Payload of ``hub.phone.dialog.*``.

    ``agentIds`` names every agent with a leg on the call (the Finesse user nodes the notification would go
    to, §1.8); ``cause`` says what happened (INBOUND, OFFERED, ANSWER, RONA, TRANSFER_SST, …); ``routing``
    is WAITING while the call sits in its queue, RINGING while offered, empty otherwise.
    """

    dialog: DialogSnapshot
    agentIds: list[str]
    cause: str
    routing: str = ""


class AgentError(msgspec.Struct, frozen=True, kw_only=True):
    """An asynchronous refusal (§1.1): the request was accepted with 202 and nothing changed.

    The first fields are the Finesse ``apiError`` (``errorType``, ``errorMessage``, ``errorData`` and, for an
    unusable sign-in device, ``peripheralErrorCode``/``peripheralErrorMsg``, §1.2); the rest say which
    agent, call and request it belongs to (``requestId`` echoes the request header, §1.1).
    """

    agentId: str
    errorType: str
    errorMessage: str
    errorData: str = ""
    peripheralErrorCode: str | None = None
    peripheralErrorMsg: str | None = None
    currentState: str | None = None
    action: str | None = None
    dialogId: str | None = None
    requestId: str | None = None


EVENT_TYPES: tuple[EventType, ...] = (
    EventType(
        subject=AGENT_STATE_CHANGED,
        payload=AgentSnapshot,
        description="An agent's state, reason code, pending state or extension changed (full snapshot).",
    ),
    EventType(
        subject=AGENT_ERROR,
        payload=AgentError,
        description="A state, sign-in or call request was refused after its 202 (Finesse async apiError).",
    ),
    EventType(subject=DIALOG_CREATED, payload=DialogEvent, description="A call entered the phone system."),
    EventType(
        subject=DIALOG_UPDATED,
        payload=DialogEvent,
        description="A call changed: offered, answered, held, consulted, transferred, requeued.",
    ),
    EventType(
        subject=DIALOG_ENDED,
        payload=DialogEvent,
        description="Every participant left the call (after any wrap-up on it).",
    ),
)


def agents_of(env: Envelope) -> frozenset[str]:
    """The agents an event is about, read from its payload (the Finesse user nodes it belongs on)."""
    data: dict[str, Any] = env.data
    if env.subject == AGENT_STATE_CHANGED:
        return frozenset({str(data.get("loginId", ""))})
    if env.subject == AGENT_ERROR:
        return frozenset({str(data.get("agentId", ""))})
    ids = data.get("agentIds")
    return frozenset(str(i) for i in ids) if isinstance(ids, list) else frozenset()


def visible_to(env: Envelope, agents: Collection[str] | None) -> bool:
    """Whether a stream limited to ``agents`` (None: every agent) should carry ``env``."""
    if agents is None:
        return True
    return not agents_of(env).isdisjoint(agents)
