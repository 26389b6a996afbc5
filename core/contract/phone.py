"""The telephony port: what a plugin may know of the hub's phone system (ARCHITECTURE §2, layer 1).

Two kinds of names. The pure traffic and staffing models — the phone simulator's queue traffic
(:class:`QueueTraffic`) and the Erlang formulas (:func:`required_agents`, …) — are rules, not state: they
live with the telephony part and are re-exported here unchanged, so a planner computes a day exactly as the
telephony part and the simulator do. And :class:`PhoneDesk`, the telephony part's service as a plugin may
use it, offered by that core part through ``hub_provide_services``: a plugin reaches it with
``ctx.services.get(PhoneDesk)`` (``None`` while the part is not running) and never reads the part's tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import msgspec

from core.telephony.erlang import ErlangCResult, erlang_c_metrics, required_agents, service_level
from core.telephony.traffic import HANDLE_DISTRIBUTIONS, HandleDistribution, QueueTraffic

__all__ = [
    "HANDLE_DISTRIBUTIONS",
    "AgentState",
    "ErlangCResult",
    "HandleDistribution",
    "PhoneDesk",
    "PhoneRefused",
    "QueueTraffic",
    "RecordedCall",
    "erlang_c_metrics",
    "required_agents",
    "service_level",
]


class AgentState(msgspec.Struct, frozen=True, kw_only=True):
    """An agent's telephony state as Finesse reports it (READY, NOT_READY, TALKING, WORK, LOGOUT, …).

    ``pending_state`` is the state the agent goes to once the current call ends (a NOT_READY asked for while
    talking), ``None`` when nothing is pending; ``reason_code_id`` the NOT_READY or LOGOUT reason code in
    force, ``None`` when none applies.
    """

    agent_id: str
    state: str
    pending_state: str | None = None
    reason_code_id: int | None = None


class RecordedCall(msgspec.Struct, frozen=True):
    """An inbound call the hub recorded: when it arrived and, if an agent handled it, for how long.

    ``handle_seconds`` is the whole handle time (talk + hold + wrap-up, Erlang C's h), ``None`` for a call
    no agent handled (abandoned, or still going on).
    """

    arrived_at: dt.datetime
    handle_seconds: float | None = None


class PhoneRefused(Exception):
    """The telephony part refused a request outright (unknown agent, a state the agent cannot ask for, …).

    ``field`` names what was wrong in the telephony part's terms (``state``, ``reasonCodeId``, …).
    A change the part accepts but then refuses asynchronously (e.g. the agent is signed out) is no
    exception: the returned :class:`AgentState` simply does not show it.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@runtime_checkable
class PhoneDesk(Protocol):
    """The telephony part's service as plugins may use it."""

    async def set_agent_state(self, agent_id: str, state: str, reason_code: int | None = None) -> AgentState:
        """Ask for ``state`` (READY, NOT_READY with ``reason_code``, LOGOUT) as the agent itself, and return
        the agent's state afterwards. Acting as the agent matters: Finesse records a supervisor's
        NOT_READY as code 999 without the reason, so only the agent's own request keeps ``reason_code``.
        Raises :class:`PhoneRefused` when the request is refused outright."""
        ...

    async def agent(self, agent_id: str) -> AgentState:
        """The agent's state now (a known agent who never signed in is LOGOUT); :class:`PhoneRefused` for
        an agent the hub does not know."""
        ...

    async def recorded_calls(
        self, spans: Sequence[tuple[dt.datetime, dt.datetime]], queue: str | None = None
    ) -> list[RecordedCall]:
        """Inbound calls that arrived in any of the UTC ``spans`` (optionally into one queue), abandoned
        ones included (they are offered traffic too), each with its handle time when an agent handled it."""
        ...
